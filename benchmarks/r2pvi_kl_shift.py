"""Does the per-coordinate log-sum-exp of R2PVI-KL change its policy or returns on the American put option?

Usage::

    python benchmarks/r2pvi_kl_shift.py [--seeds 5] [--lam 1e-3]

Not a speed benchmark: the before/after of the KL weights fix. Setting of ``bench_r2pvi.py`` (the official code's
put-option defaults: ``H = 20``, ``d = 30``, ``N = 1000`` always-hold trajectories, ``beta = 0.1``, ridge 1, raw
payoffs with the continuation cap ``H - h``) at ``lam = 1e-3``. "before" re-evaluates ``w_h`` with the old single
shift by the smallest sampled next-state value, ``min(m - lam log(M_h e^{-(V - m)/lam}), H)``, which underflows to
the cap ``H`` for coordinates whose regression sits on values well above ``m``; "after" is
:func:`rltheory.linear.r2pvi.kl_duality_weights`. Both run the full backward induction (the wrong weights feed the
next steps). Printed per seed (the seed draws ``s0`` and the data): weights that differ, policy entries that
differ, and the exact returns on the test environments ``p in {0.2, 0.4, 0.6, 0.8, 1.0}`` of both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import importlib  # noqa: E402

import mdps.robust as mr  # noqa: E402
from rltheory.linear import r2pvi, ridge_statistics  # noqa: E402
from rltheory.tabular import evaluate_policy  # noqa: E402

H, BETA, RIDGE = 20, 0.1, 1.0
r2 = importlib.import_module("rltheory.linear.r2pvi")  # the module (the package re-exports the function r2pvi)


def _single_shift_estimator(stats: Any, lam: float, *, cap: float) -> Any:
    """The estimator before the fix: one shift by the smallest sampled next-state value for every coordinate."""

    def estimate(h: int, V: np.ndarray) -> tuple[np.ndarray, int]:
        supp = stats.support[h]
        if not supp.any():
            return np.full(stats.dim, cap), 0
        m = V[supp].min()
        with np.errstate(under="ignore"):
            z = stats.mu_hat[h][:, supp] @ np.exp(-(V[supp] - m) / lam)
        w = np.full(stats.dim, cap)
        pos = z > 0
        w[pos] = np.minimum(m - lam * np.log(z[pos]), cap)
        return w, 0

    return estimate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--lam", type=float, default=1e-3)
    args = ap.parse_args(argv)
    ps = (0.2, 0.4, 0.6, 0.8, 1.0)
    print(f"R2PVI-KL on the American put, lam = {args.lam:g}, N = 1000, d = 30, beta = {BETA}, ridge {RIDGE}\n")
    print(
        "| seed | weights differing | policy entries differing | returns before (p = 0.2..1.0) | returns after "
        "| max return change |"
    )
    print("|---|---|---|---|---|---|")
    fixed = r2.kl_estimator
    for seed in range(args.seeds):
        put = mr.american_put_option(d=30, horizon=H, p=0.5, rng=np.random.default_rng(seed), reward_scale=1.0)
        data = mr.collect_offline_data(put.mdp, np.zeros((H, put.mdp.n_states), dtype=np.int64), 1000, seed)
        st = ridge_statistics(data, put.phi, ridge=RIDGE)
        kw = {
            "divergence": "kl",
            "lam": args.lam,
            "beta": BETA,
            "ridge": RIDGE,
            "q_max": put.code_caps(),
            "simplex_features": False,
            "stats": st,
        }
        sols = {}
        for name, est in (("before", _single_shift_estimator), ("after", fixed)):
            r2.kl_estimator = est  # type: ignore[assignment]
            try:
                sols[name] = r2pvi(data, put.phi, put.rewards, **kw)
            finally:
                r2.kl_estimator = fixed  # type: ignore[assignment]
        tests = [put.with_probability(p).mdp for p in ps]
        rets = {k: [float(evaluate_policy(m, s.policy).values[0, 0]) for m in tests] for k, s in sols.items()}
        dw = int((np.abs(sols["before"].weights - sols["after"].weights) > 1e-9).sum())
        dpi = int((sols["before"].policy != sols["after"].policy).sum())
        fmt = ", ".join
        gap = max(abs(a - b) for a, b in zip(rets["before"], rets["after"], strict=True))
        print(
            f"| {seed} | {dw} of {sols['after'].weights.size} | {dpi} of {sols['after'].policy.size} | "
            f"{fmt(f'{r:.4f}' for r in rets['before'])} | {fmt(f'{r:.4f}' for r in rets['after'])} | {gap:.2g} |"
        )


if __name__ == "__main__":
    main()
