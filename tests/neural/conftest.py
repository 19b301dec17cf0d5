"""The device every neural test runs on: ``RLTHEORY_TEST_DEVICE`` (a torch device name, default ``cpu``).

``RLTHEORY_TEST_DEVICE=cuda pytest tests/neural`` (or ``nox -s tests_gpu``) runs the same tests on a GPU. Asking for
CUDA where there is none fails the tests that need the device rather than skipping them, so a GPU run cannot pass by
running nothing.
"""

from __future__ import annotations

import os

import pytest

DEVICE_ENV = "RLTHEORY_TEST_DEVICE"


@pytest.fixture(scope="session")
def device():
    """The ``torch.device`` named by ``RLTHEORY_TEST_DEVICE`` (default ``cpu``); use ``str(device)`` in configs."""
    torch = pytest.importorskip("torch")
    name = os.environ.get(DEVICE_ENV, "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        pytest.fail(f"{DEVICE_ENV}={name!r} is not a torch device name: {exc}")
    if dev.type == "cuda" and not torch.cuda.is_available():
        pytest.fail(f"{DEVICE_ENV}={name!r}, but torch.cuda.is_available() is False (no GPU, or a CPU build of torch)")
    return dev
