"""Coverage of the slope interval of :func:`verification.stats.bootstrap_slope` against the number of seeds.

Not a speed benchmark: the measurement behind :data:`verification.stats.MIN_SLOPE_SEEDS` (docs/verification.md).
For each seed count ``n`` and two noise models it draws ``reps`` synthetic sweeps with a known slope 1/2 and counts
how often the 95% interval contains it, for the plain percentile interval and for the small-sample widened one that
the checks use.

* ``iid``: ``y_ik = exp(a_i) K_k^0.5 exp(e_ik)``, ``a_i ~ N(0, 0.5^2)`` (per-seed level), ``e_ik ~ N(0, 0.2^2)``;
* ``slope-het``: per-seed slope noise ``exp(b_i (log K_k - mean log K))``, ``b_i ~ N(0, 0.1^2)``, plus
  ``N(0, 0.05^2)`` point noise: the shape of cumulative-regret curves, whose seeds differ mostly in growth.

Run: ``python benchmarks/slope_coverage.py [--reps 400]`` (about a minute).
"""

from __future__ import annotations

import argparse

import numpy as np

from verification.stats import bootstrap_slope, loglog_slope


def _plain_interval(x: np.ndarray, Y: np.ndarray, rng: np.random.Generator, n_boot: int) -> tuple[float, float]:
    n = Y.shape[0]
    means = Y[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    lx = np.log(x) - np.log(x).mean()
    ly = np.log(means)
    boots = ((ly - ly.mean(axis=1, keepdims=True)) * lx).sum(axis=1) / (lx * lx).sum()
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=400)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    K = np.geomspace(1000, 4000, 12)
    lx = np.log(K) - np.log(K).mean()
    print("model      seeds  plain  widened")
    for model in ("iid", "slope-het"):
        for n in (2, 3, 4, 6, 8, 12, 16, 32):
            plain = widened = 0
            for _ in range(args.reps):
                a = rng.normal(0, 0.5, (n, 1))
                if model == "iid":
                    Y = np.exp(a) * K**0.5 * np.exp(rng.normal(0, 0.2, (n, K.size)))
                else:
                    Y = (
                        np.exp(a)
                        * K**0.5
                        * np.exp(rng.normal(0, 0.1, (n, 1)) * lx)
                        * np.exp(rng.normal(0, 0.05, (n, K.size)))
                    )
                lo, hi = _plain_interval(K, Y, rng, args.n_boot)
                plain += lo <= 0.5 <= hi
                r = bootstrap_slope(K, Y, exponent=0.5, direction="two-sided", n_boot=args.n_boot, min_seeds=1, rng=rng)
                widened += r.low <= 0.5 <= r.high
                assert abs(r.slope - loglog_slope(K, Y.mean(axis=0))) < 1e-12
            print(f"{model:10s} {n:5d}  {plain / args.reps:.3f}  {widened / args.reps:.3f}", flush=True)


if __name__ == "__main__":
    main()
