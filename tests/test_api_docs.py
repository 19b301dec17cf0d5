"""Every public name is in the API reference: a name in a public module's ``__all__`` that docs/api.md does not
document (through an ``automodule`` whose members include it) fails here, and so does a documented function or
class without a docstring."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"
PACKAGES = ("rltheory", "mdps", "verification")
#: Modules whose names are registries or entry points rather than API: claim modules register claims (documented
#: in docs/verification.md and by ``rltheory list``), the CLI is documented in docs/cli.md.
NOT_API = ("verification.claims", "verification.cli")


def _public_modules() -> list[str]:
    out = []
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        out.append(pkg)
        for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
            if any(p.startswith("_") for p in info.name.split(".")) or info.name.startswith(NOT_API):
                continue
            out.append(info.name)
    return out


def _documented() -> dict[int, str]:
    """id(object) -> where docs/api.md documents it (``automodule`` with its members, or ``autofunction`` /
    ``autoclass`` / ``autoexception`` of one object)."""
    text = API.read_text()
    found: dict[int, str] = {}
    for m in re.finditer(r"\.\. auto(?:function|class|exception):: ([\w.]+)", text):
        mod_name, _, obj_name = m.group(1).rpartition(".")
        found[id(getattr(importlib.import_module(mod_name), obj_name))] = m.group(1)
    for m in re.finditer(r"\.\. automodule:: ([\w.]+)\n((?:\s+:[\w-]+:.*\n)*)", text):
        name, opts = m.group(1), m.group(2)
        mod = importlib.import_module(name)
        members = re.search(r":members:(.*)", opts)
        if members is None:
            continue
        listed = [x.strip() for x in members.group(1).split(",") if x.strip()]
        names = listed or list(getattr(mod, "__all__", []))
        for n in names:
            found[id(getattr(mod, n))] = f"{name}.{n}"
    return found


def test_every_public_name_is_documented():
    pytest.importorskip("torch")  # rltheory.neural is public API too
    documented = _documented()
    missing = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        for n in getattr(mod, "__all__", []):
            obj = getattr(mod, n)
            if id(obj) not in documented and (inspect.isfunction(obj) or inspect.isclass(obj)):
                missing.append(f"{name}.{n}")
    assert missing == [], f"not in docs/api.md: {missing}"


def test_documented_functions_and_classes_have_docstrings():
    pytest.importorskip("torch")
    bare = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        for n in getattr(mod, "__all__", []):
            obj = getattr(mod, n)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not (obj.__doc__ or "").strip():
                bare.append(f"{name}.{n}")
    assert bare == [], f"public functions and classes without a docstring: {bare}"
