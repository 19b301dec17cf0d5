"""How often the official code's chi^2 inner solve (Nelder-Mead from ``H/2`` on ``[0, H]``) misses the supremum.

Usage::

    python benchmarks/r2pvi_chi2_nelder_mead.py [--instances 60]

Not a speed benchmark: the measurement behind docs/r2pvi.md's statement about ``chi2_solver="nelder-mead"``. For
``alpha >= max V`` the chi^2 objective is constant in ``alpha``; when ``max V < H/2`` Nelder-Mead starts on that
flat part, sees no change and stops at once, returning the value at ``alpha = max V`` instead of the supremum.
On random d-rectangular instances (``S = 10, A = 3, d = 4, H = 6``, ``N = 100`` uniform-policy trajectories,
``lam = 0.1``, ridge 1), at every step whose next values have ``max V < H/2``, both inner solves are applied to the
same regression and the same ``V`` (the exact solution's); counted: coordinates and steps where the Nelder-Mead
value is below the exact supremum by more than 1e-6.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mdps.robust as mr  # noqa: E402
from rltheory.linear import r2pvi, ridge_statistics  # noqa: E402

r2 = importlib.import_module("rltheory.linear.r2pvi")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--instances", type=int, default=60)
    ap.add_argument("--lam", type=float, default=0.1)
    args = ap.parse_args(argv)
    steps = steps_missed = coords = coords_missed = 0
    for seed in range(args.instances):
        inst = mr.random_d_rectangular_mdp(10, 3, 4, 6, rng=seed, factor_concentration=0.5)
        mdp = inst.nominal()
        data = mr.collect_offline_data(mdp, mr.uniform_policy(mdp), 100, seed)
        st = ridge_statistics(data, inst.phi, ridge=1.0)
        sol = r2pvi(data, inst.phi, inst.rewards(), divergence="chi2", lam=args.lam, beta=0.0, stats=st)
        H = mdp.horizon
        exact = r2.chi2_estimator(st, args.lam, cap=float(H), solver="exact", clip=True)
        nm = r2.chi2_estimator(st, args.lam, cap=float(H), solver="nelder-mead", clip=True)
        for h in range(H - 1):
            V = sol.values[h + 1]
            if V.max() >= H / 2:
                continue
            missed = nm(h, V)[0] < exact(h, V)[0] - 1e-6
            steps += 1
            steps_missed += bool(missed.any())
            coords += missed.size
            coords_missed += int(missed.sum())
    print(
        f"{args.instances} instances, {steps} steps with max V < H/2: Nelder-Mead below the exact supremum on "
        f"{coords_missed} of {coords} coordinates ({coords_missed / coords:.0%}), on some coordinate at "
        f"{steps_missed} steps ({steps_missed / steps:.0%})"
    )


if __name__ == "__main__":
    main()
