"""Claims used by the verification tests (importable by spawned worker processes through PYTHONPATH)."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from verification.claims.exact import run_solver_agreement
from verification.core import BoundCheck, Claim, EqualityCheck, Preset, RateCheck


def run_synthetic(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """A curve y = c * K^slope * noise per seed, with a known exponent; sleeps to make sweeps interruptible."""
    out = []
    K = np.array([10.0, 20, 40, 80, 160, 320])
    for seq in seeds:
        rng = np.random.default_rng(seq)
        time.sleep(params.get("sleep", 0.0))
        y = params["c"] * K ** params["slope"] * np.exp(rng.normal(0.0, 0.05, K.size))
        out.append({"K": K.tolist(), "y": y.tolist(), "u": float(rng.random())})
    return out


def _bound(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    return 2.0 * params["c"] * np.asarray(K) ** params["slope"]


def synthetic_claim(
    name: str = "synthetic",
    *,
    slope: float = 0.5,
    exponent: float = 0.5,
    scale: float = 1.0,
    sleep: float = 0.0,
    n_seeds: int = 12,
    seeds_per_task: int = 3,
) -> Claim:
    grid = tuple({"c": c, "slope": slope, "sleep": sleep} for c in (1.0, 3.0))
    return Claim(
        name=name,
        title="synthetic power law",
        citation="test",
        run=run_synthetic,
        checks=(
            BoundCheck("y", _bound, x="K", delta=0.05, scale=scale, label="y <= 2 c K^slope"),
            RateCheck("y", "K", exponent=lambda p: exponent, label="rate"),
        ),
        presets={"quick": Preset(grid, n_seeds, seeds_per_task), "full": Preset(grid, n_seeds, seeds_per_task)},
        plots=(("K", "y", "y <= 2 c K^slope"),),
    )


def vi_false_claim() -> Claim:
    """Puterman's VI guarantee with the bound divided by 100: a false statement the machinery must reject."""
    from verification.claims.exact import SOLVER_AGREEMENT

    def tol_half(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
        return np.asarray(params["tol"] / 2.0)

    return Claim(
        name="vi-error-over-100",
        title="false: VI error <= tol / 200",
        citation="deliberately false version of Puterman 1994 Thm 6.3.1",
        run=run_solver_agreement,
        checks=(
            BoundCheck("vi_error", tol_half, delta=0.0, scale=0.01, label="VI error <= tol/200"),
            EqualityCheck("finite_pi_error", 1e-8, label="PI = BI"),
        ),
        presets={"quick": SOLVER_AGREEMENT.presets["tiny"], "full": SOLVER_AGREEMENT.presets["tiny"]},
    )


GATE_TIMEOUT = 120.0
"""Seconds a gated seed waits for its gate before it fails loudly (a test that forgot to open it)."""


def run_gated(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """:func:`run_synthetic`, except that seeds with index ``>= params["block_from"]`` wait until the file
    ``params["gate"]`` exists.

    An interruption test lets the first ``block_from`` seeds finish, sends its signal while the sweep is provably
    still running (every later seed is parked on the gate), and only then opens the gate. No timing decides the
    outcome; a gate that never opens raises after :data:`GATE_TIMEOUT` seconds instead of hanging.
    """
    for seq in seeds:
        if seq.spawn_key[-1] >= params["block_from"]:
            deadline = time.monotonic() + GATE_TIMEOUT
            while not os.path.exists(params["gate"]):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"gate {params['gate']!r} was never opened")
                time.sleep(0.005)
    return run_synthetic(params, seeds)


def gated_claim(gate: str, block_from: int, *, n_seeds: int = 10) -> Claim:
    """One cell of ``n_seeds`` seeds (one per task) of which all but the first ``block_from`` wait for ``gate``."""
    base = synthetic_claim("gated-synthetic", n_seeds=n_seeds, seeds_per_task=1)
    grid = ({"c": 1.0, "slope": 0.5, "sleep": 0.0, "gate": str(gate), "block_from": int(block_from)},)
    return Claim(
        name=base.name,
        title="synthetic power law, later seeds gated",
        citation="test",
        run=run_gated,
        checks=base.checks,
        presets={"quick": Preset(grid, n_seeds, 1), "full": Preset(grid, n_seeds, 1)},
    )
