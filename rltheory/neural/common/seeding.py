"""Seeding: explicit generators for every random draw, so CPU runs are deterministic and resumable.

Training code draws from generators it owns, never from global state: a ``numpy.random.Generator`` for the
environment side (replay sampling, warm-up actions) and a ``torch.Generator`` on the device for network-side noise
(policy sampling, the DSAC-T return samples). Network initialisation uses torch's global generator inside
``torch.random.fork_rng`` (:func:`init_scope`), which restores the caller's global state afterwards.
"""

from __future__ import annotations

import contextlib
import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Generators", "init_scope", "make_generators", "seed_everything"]


@dataclass
class Generators:
    """The random streams of one run: ``np_rng`` (environment side), ``torch_rng`` (on ``device``), ``init_seed``
    (network initialisation), and ``env_seed`` (first environment reset)."""

    np_rng: np.random.Generator
    torch_rng: torch.Generator
    init_seed: int
    env_seed: int

    def state_dict(self) -> dict[str, Any]:
        """The states of both generators (for a checkpoint), as plain data: numpy's bit-generator state (a dict of
        strings and ints for the default PCG64) and torch's state, a CPU ``uint8`` tensor for every device."""
        return {"np": copy.deepcopy(self.np_rng.bit_generator.state), "torch": self.torch_rng.get_state().cpu()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`. The torch state is moved to the CPU first: ``Generator.set_state`` takes a
        CPU byte tensor also for a CUDA generator (a checkpoint loaded with ``map_location="cuda"`` would have moved
        it to the GPU)."""
        self.np_rng.bit_generator.state = state["np"]
        self.torch_rng.set_state(state["torch"].to(device="cpu", dtype=torch.uint8))


def make_generators(seed: int | np.random.SeedSequence, device: torch.device | str = "cpu") -> Generators:
    """Independent streams spawned from ``SeedSequence(seed)``: numpy, torch (on ``device``), init and env seeds."""
    seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
    np_seq, torch_seq, init_seq, env_seq = seq.spawn(4)
    torch_rng = torch.Generator(device=torch.device(device))
    torch_rng.manual_seed(int(torch_seq.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    return Generators(
        np_rng=np.random.default_rng(np_seq),
        torch_rng=torch_rng,
        init_seed=int(init_seq.generate_state(1)[0]),
        env_seed=int(env_seq.generate_state(1)[0] >> 1),
    )


@contextlib.contextmanager
def init_scope(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Seed torch's global generator for network initialisation, restoring the caller's state on exit."""
    dev = torch.device(device)
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python's, NumPy's and torch's global generators (for user scripts; training code does not rely on it).

    With ``deterministic=True`` torch is asked for deterministic kernels (``warn_only``) and cuDNN benchmarking
    is turned off; CPU kernels are deterministic for a fixed thread count anyway.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - this function exists to seed the legacy global state
    torch.manual_seed(seed)
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
