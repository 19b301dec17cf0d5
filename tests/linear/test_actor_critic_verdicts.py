"""Honest verdicts of the actor-critic claims: declared maxima (VACUOUS with the K needed), non-finite results FAIL,
censoring cannot pass a slope, tuned-constant and clipped cells do not decide, tiny presets say UNDERPOWERED."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from verification.claims import actor_critic as ac
from verification.core import BoundCheck, CellData, RateCheck, evaluate_claim, get_claim

NAMES = [
    "actor-critic-regret",
    "actor-critic-sample-complexity",
    "actor-critic-switching",
    "actor-critic-optimism",
    "actor-critic-hybrid",
    "actor-critic-nonoptimistic",
]


def _cell(params, rows):
    return CellData(params, tuple(range(len(rows))), tuple(rows))


def _check(claim, label_start):
    (check,) = [c for c in claim.checks if c.label.startswith(label_start)]
    return check


def _regret_check(claim):
    (check,) = [c for c in claim.checks if c.label == "regret <= bound (c = 1)"]
    return check


@pytest.mark.parametrize("name", NAMES)
def test_every_claim_has_a_described_mutant(name):
    claim = get_claim(name)
    assert claim.mutants and all(m.description for m in claim.mutants)
    assert any(not c.informational for c in claim.mutated().checks)


# ------------------------------------------------------------------------------------------------------------ regret
def test_regret_paper_cells_are_vacuous_with_the_K_needed():
    claim = get_claim("actor-critic-regret")
    river, _, randlin, _ = claim.preset("quick").grid
    K = ac._checkpoints(5000)
    cells = []
    for params in (river, randlin):
        # the largest regret any learner can incur (H per episode): the bound still holds, the check cannot fail
        worst = (params["H"] * K).astype(float).tolist()
        rows = [
            {"K": K.tolist(), "regret": worst, "regret_lsvi": worst, "regret_ucbvi": worst, "ratio_to_lsvi": 1.0}
            for _ in range(16)
        ]
        cells.append(_cell(params, rows))
    check = _regret_check(claim)
    assert not check.informational and check.maximum is not None
    needed = {}
    for cell in cells:
        o = check.evaluate(cell)
        assert o.verdict == "VACUOUS", o.statistic
        assert o.detail["bound_over_max"] > 10  # 20 x H K on RiverSwim, 10 x on the random linear MDP at K = 5000
        needed[cell.params["instance"]] = o.detail["x_needed"]
    assert 2e6 < needed["riverswim"] < 4e6 and 4e5 < needed["random_linear"] < 1e6
    # scaled cells whose regret grows like K^0.4 (their slope check passes) are no evidence for the theorem: the
    # claim, whose only deciding check is vacuous, is VACUOUS, not PASS
    for params in claim.preset("quick").grid:
        if params["scale"] == "scaled":
            good = (3.0 * K**0.4).tolist()
            rows = [
                {"K": K.tolist(), "regret": good, "regret_lsvi": good, "regret_ucbvi": good, "ratio_to_lsvi": 1.0}
                for _ in range(16)
            ]
            cells.append(_cell(params, rows))
    verdict, outcomes = evaluate_claim(claim, cells)
    assert verdict == "VACUOUS"
    assert any(o.informational and o.verdict == "PASS" and "slope in K <= 1/2" in o.check for o in outcomes)


def test_regret_scaled_cells_never_decide():
    claim = get_claim("actor-critic-regret")
    scaled = [c for c in claim.preset("quick").grid if c["scale"] == "scaled"]
    for check in claim.checks:
        if any(check.applies is None or check.applies(p) for p in scaled):
            assert check.informational, check.label


def test_regret_measured_above_H_K_is_a_broken_run():
    claim = get_claim("actor-critic-regret")
    river = claim.preset("quick").grid[0]
    K = ac._checkpoints(5000)
    rows = [{"K": K.tolist(), "regret": (1.01 * river["H"] * K).tolist()} for _ in range(16)]
    assert _regret_check(claim).evaluate(_cell(river, rows)).verdict == "FAIL"


# ------------------------------------------------------------------------------------------------- sample complexity
_SC_EPS = [0.03, 0.021, 0.015, 0.0106, 0.0075]


def _sc_rows(exponent, c, k_factor, n_seeds=32, noise=0.3, seed=0):
    """A learner with K(eps) = c eps^exponent (log-normal noise per seed), capped (censored) at k_factor / eps^2, as
    run_sample_complexity stores it."""
    gen = np.random.default_rng(seed)
    eps = np.asarray(_SC_EPS)
    cap = np.ceil(k_factor / eps**2)
    rows = []
    for _ in range(n_seeds):
        k = c * eps**exponent * np.exp(gen.normal(0.0, noise, eps.size))
        cens = k > cap
        rows.append(
            {
                "eps": _SC_EPS,
                "episodes": np.minimum(np.ceil(k), cap).tolist(),
                "censored_at": cens.astype(int).tolist(),
                "censored": int(cens.sum()),
            }
        )
    return rows


def test_censored_slope_check_cannot_pass_a_faster_growing_learner():
    claim = get_claim("actor-critic-sample-complexity")
    params = claim.preset("quick").grid[0]
    rate = _check(claim, "slope of K(eps)")
    assert isinstance(rate, RateCheck) and rate.censored == "censored_at"
    # K ~ eps^-2.6, 57% of the runs at the cap 3 / eps^2 (slope exactly -2): the censored values pull the fit to -2
    rows = _sc_rows(-2.6, 0.3, params["k_factor"], noise=1.0)
    share = np.mean([r["censored_at"] for r in rows], axis=0)
    assert 0.5 < share.mean() < 0.65 and share.max() > 0.7
    o = rate.evaluate(_cell(params, rows))
    assert o.verdict != "PASS" and o.verdict == "INCONCLUSIVE", o.statistic
    assert o.detail["censored_share"] == pytest.approx(share.max())
    # the pull: the fitted slope sits nearer the cap's -2 than the learner's -2.6, and without the flags the check
    # would pass this learner (the failure the flags prevent)
    assert abs(o.detail["slope"] + 2) < abs(o.detail["slope"] + 2.6)
    assert replace(rate, censored=None).evaluate(_cell(params, rows)).verdict == "PASS"


def test_uncensored_eps_minus_2_learner_passes_the_slope_check():
    claim = get_claim("actor-critic-sample-complexity")
    params = claim.preset("quick").grid[0]
    rows = _sc_rows(-2.0, 0.5, params["k_factor"])
    assert all(r["censored"] == 0 for r in rows)
    o = _check(claim, "slope of K(eps)").evaluate(_cell(params, rows))
    assert o.verdict == "PASS", o.statistic


def test_sample_complexity_bound_is_vacuous_against_the_run_length():
    claim = get_claim("actor-critic-sample-complexity")
    params = claim.preset("quick").grid[0]
    check = _check(claim, "K(eps) <= bound")
    assert not check.informational and check.maximum is not None
    rows = _sc_rows(-2.6, 0.05, params["k_factor"], n_seeds=8)  # every value at most the cap K_max
    o = check.evaluate(_cell(params, rows))
    assert o.verdict == "VACUOUS" and o.detail["bound_over_max"] > 1e4, o.statistic
    assert evaluate_claim(claim, [_cell(params, rows)])[0] == "VACUOUS"


def test_run_sample_complexity_stores_per_eps_censoring():
    params = get_claim("actor-critic-sample-complexity").preset("tiny").grid[0]
    rows = ac.run_sample_complexity(params, np.random.SeedSequence(3).spawn(3))
    for r in rows:
        assert len(r["censored_at"]) == len(r["eps"]) and r["censored"] == sum(r["censored_at"])
        for eps, k, c in zip(r["eps"], r["episodes"], r["censored_at"], strict=True):
            K_max = math.ceil(params["k_factor"] / eps**2)
            assert k <= K_max and (not c or k == K_max)


# --------------------------------------------------------------------------------------------------------- switching
def test_switching_all_nan_results_fail():
    claim = get_claim("actor-critic-switching")
    params = claim.preset("quick").grid[0]
    K = np.unique(np.geomspace(100, params["K"], 20).astype(np.int64)).tolist()
    nan = [float("nan")] * len(K)
    rows = [{"K": K, "switches_per_step": nan, "switches": nan, "d": 8} for _ in range(8)]
    verdict, outcomes = evaluate_claim(claim, [_cell(params, rows)])
    assert verdict == "FAIL"
    assert all(o.verdict == "FAIL" and "non-finite" in o.statistic for o in outcomes)


def test_switching_counts_are_bounded_by_the_episodes():
    claim = get_claim("actor-critic-switching")
    for check in claim.checks:
        assert isinstance(check, BoundCheck) and check.maximum is not None
    params = claim.preset("quick").grid[0]
    K = np.unique(np.geomspace(100, params["K"], 20).astype(np.int64))
    rows = [{"K": K.tolist(), "switches_per_step": (K + 1).tolist(), "switches": (K + 1).tolist()}]
    assert all(c.evaluate(_cell(params, rows)).verdict == "FAIL" for c in claim.checks)
    # the quick cells' bounds lie below K at the later checkpoints: the check can fail
    for check in claim.checks:
        for p in claim.preset("quick").grid:
            assert np.min(check.bound(p, K) / K) < 0.25


# ---------------------------------------------------------------------------------------------------------- optimism
def test_optimism_only_the_tabular_hoeffding_cells_decide():
    claim = get_claim("actor-critic-optimism")
    for p in claim.preset("quick").grid:
        deciding = [c.label for c in claim.checks if not c.informational and (c.applies is None or c.applies(p))]
        assert deciding == (
            ["max over refits of Q* - f on visited pairs <= 0 (tabular Hoeffding radius)"]
            if p["beta_rule"] == "hoeffding"
            else []
        )
    jin = [c for c in claim.checks if c.applies is not None and c.applies({"beta_rule": "jin"})]
    assert jin and all(c.informational and "clip" in c.label for c in jin)


# ------------------------------------------------------------------------------------------------------------ hybrid
def test_hybrid_tie_is_no_gain():
    claim = get_claim("actor-critic-hybrid")
    params = claim.preset("quick").grid[0]
    tie = [{"hybrid_over_online": 1.0} for _ in range(16)]
    gain = [{"hybrid_over_online": 0.6} for _ in range(16)]
    assert evaluate_claim(claim, [_cell(params, tie)])[0] == "FAIL"
    assert evaluate_claim(claim, [_cell(params, gain)])[0] == "PASS"


# ------------------------------------------------------------------------------------------------- non-optimistic
def test_nonoptimistic_bound_is_finite_and_below_the_maximum():
    params = get_claim("actor-critic-nonoptimistic").preset("quick").grid[0]
    r = np.asarray(params["ratios"], float)
    b = ac._eps_above_threshold(params, r)
    m = ac._suboptimality_maximum(params, r)
    assert np.isfinite(b).all() and float(m) == pytest.approx(3.0)
    assert np.all(b[r >= 1] == params["eps"]) and np.all(b[r < 1] == m)


def test_nonoptimistic_tiny_preset_is_underpowered():
    claim = get_claim("actor-critic-nonoptimistic")
    pre = claim.preset("tiny")
    cells = [_cell(p, claim.run(p, np.random.SeedSequence(0).spawn(pre.n_seeds))) for p in pre.grid]
    verdict, outcomes = evaluate_claim(claim, cells)
    assert verdict == "UNDERPOWERED", [(o.check, o.verdict, o.statistic) for o in outcomes]
    (control,) = [o for o in outcomes if o.check.startswith("N_off = 0")]
    assert control.verdict == "UNDERPOWERED" and "needs >= 5 seeds" in control.statistic
