"""The R2PVI claims: the direction of the K-slope check, the mean-sign and per-seed-maximum checks, the count
sampler, the mutants' switches, and the run functions on tiny cells."""

from dataclasses import replace

import numpy as np
import pytest

import mdps.robust as mr
from rltheory.bounds.r2pvi import r2pvi_beta
from rltheory.linear import OfflineData, r2pvi
from verification.claims.r2pvi import (
    MeanSignCheck,
    SeedMaximumBoundCheck,
    count_data,
    ratio_maximum_free,
    run_consistency,
    run_duals,
    run_simulated,
    run_theorem,
)
from verification.core import CellData, RateCheck, get_claim
from verification.stats import bootstrap_slope


def _decreasing(slope, n_seeds=32, noise=0.05, seed=0):
    gen = np.random.default_rng(seed)
    K = np.geomspace(100, 30000, 8)
    Y = 0.3 * K**slope * np.exp(gen.normal(0, noise, (n_seeds, K.size)))
    return K, Y


@pytest.mark.parametrize(
    ("slope", "verdict"),
    [(-1.0, "PASS"), (-0.5, "PASS"), (-0.3, "FAIL"), (-0.2, "FAIL"), (0.0, "FAIL"), (0.3, "FAIL")],
)
def test_upper_rate_check_on_a_negative_exponent(slope, verdict):
    # SubOpt = O(K^{-1/2}) is an upper bound on a decreasing quantity: the check must pass when SubOpt decreases at
    # least as fast as K^{-1/2} (slope <= -1/2, up to noise: the interval reaches -1/2) and fail when it decreases
    # more slowly or grows. verification.stats's "upper" direction passes when the interval's low end <= exponent.
    K, Y = _decreasing(slope)
    res = bootstrap_slope(K, Y, exponent=-0.5, direction="upper")
    assert res.verdict == verdict, res
    assert (res.low <= -0.5) == (verdict == "PASS")
    check = RateCheck("subopt", "K", exponent=lambda p: -0.5, direction="upper")
    cell = CellData({}, tuple(range(Y.shape[0])), tuple({"K": K.tolist(), "subopt": y.tolist()} for y in Y))
    assert check.evaluate(cell).verdict == verdict


def test_the_registered_consistency_claim_uses_the_upper_direction_and_exponent_minus_half():
    claim = get_claim("r2pvi-consistency")
    (check,) = claim.checks
    assert isinstance(check, RateCheck) and check.direction == "upper"
    assert check.exponent({}) == -0.5


def test_mean_sign_check():
    def cell(values):
        return CellData({}, tuple(range(len(values))), tuple({"g": float(v)} for v in values))

    gen = np.random.default_rng(0)
    assert MeanSignCheck("g", +1, "g > 0").evaluate(cell(gen.normal(1.0, 0.5, 20))).verdict == "PASS"
    assert MeanSignCheck("g", -1, "g < 0").evaluate(cell(gen.normal(1.0, 0.5, 20))).verdict == "FAIL"
    assert MeanSignCheck("g", +1, "g > 0").evaluate(cell(gen.normal(0.0, 1.0, 20))).verdict == "INCONCLUSIVE"
    assert MeanSignCheck("g", +1, "g > 0").evaluate(cell(np.zeros(10))).verdict == "INCONCLUSIVE"


def test_run_functions_on_tiny_cells():
    seeds = [np.random.SeedSequence(1), np.random.SeedSequence(2)]
    (row,) = run_duals({"regime": "small-lambda", "pairs": 1}, seeds[:1])
    assert max(row.values()) <= 1e-6
    rows = run_theorem(
        {
            "instance": "random",
            "S": 3,
            "A": 2,
            "d": 2,
            "H": 2,
            "divergence": "kl",
            "lam": 1.0,
            "ridge": 1.0,
            "K": [20, 80],
        },
        seeds,
    )
    for r in rows:
        assert r["K"] == [20, 80] and len(r["ratio"]) == 2
        assert all(0 <= x <= 1 for x in r["ratio"])  # Theorem 5.2 with its beta: far from binding
    sim = run_simulated(
        {"method": "r2pvi-tv", "lam": 0.1, "lam_compare": 0.6, "config": "paper", "trajectories": 50}, seeds
    )
    for r in sim:
        assert len(r["return"]) == 11 and r["gain_q0"] == pytest.approx(r["return"][0] - r["pevi_return"][0])
    # a result depends only on its own seed (blocks may be vectorised)
    alone = run_simulated(
        {"method": "r2pvi-tv", "lam": 0.1, "lam_compare": 0.6, "config": "paper", "trajectories": 50}, seeds[1:]
    )
    timing = {"seconds"}
    assert {k: v for k, v in alone[0].items() if k not in timing} == {
        k: v for k, v in sim[1].items() if k not in timing
    }


def _cell(values, **params):
    return CellData(params, tuple(range(len(values))), tuple({"g": float(v)} for v in values))


def test_mean_sign_check_failure_modes_and_margin():
    gen = np.random.default_rng(1)
    good = gen.normal(1.0, 0.5, 20)
    out = MeanSignCheck("g", +1, "g > 0").evaluate(_cell(good))
    assert out.verdict == "PASS" and out.detail["margin"] > 0 and out.detail["low"] <= good.mean() <= out.detail["high"]
    # the deciding bound is reported in the measure's units for either sign
    neg = MeanSignCheck("g", -1, "g < 0").evaluate(_cell(-good))
    assert (
        neg.verdict == "PASS" and neg.detail["high"] < 0 and neg.detail["margin"] == pytest.approx(-neg.detail["high"])
    )
    # non-finite measurements fail, with their count
    bad = MeanSignCheck("g", +1, "g > 0").evaluate(_cell([*good[:5], np.nan, np.inf]))
    assert bad.verdict == "FAIL" and "2 of 7" in bad.statistic
    # fewer than 4 seeds cannot decide
    few = MeanSignCheck("g", +1, "g > 0").evaluate(_cell([1.0, 1.1, 0.9]))
    assert few.verdict == "UNDERPOWERED"
    # the widened bound is wider than the plain percentile one at small n
    plain = np.quantile(np.random.default_rng(0).choice(good[:6], (4000, 6)).mean(axis=1), 0.05)
    assert MeanSignCheck("g", +1, "g > 0").evaluate(_cell(good[:6])).detail["low"] < plain


def test_the_simulated_mutants_flip_every_deciding_sign():
    for name in ("r2pvi-simulated", "r2pvi-simulated-code"):
        claim = get_claim(name)
        mutant = claim.mutated("opposite-signs")
        for orig, mut in zip(claim.checks, mutant.checks, strict=True):
            assert mut.sign == (orig.sign if orig.informational else -orig.sign)


def _ratio_cell(measured, maxima, K=(10, 100)):
    rows = tuple({"K": list(K), "r": list(m), "r_max": list(x)} for m, x in zip(measured, maxima, strict=True))
    return CellData({"c": 1.0}, tuple(range(len(rows))), rows)


def test_seed_maximum_bound_check():
    def ext(params, x_last, m_last, x):  # maxima grow like sqrt(x)
        return m_last[:, None] * np.sqrt(np.asarray(x) / x_last)[None, :]

    check = SeedMaximumBoundCheck(
        "r", lambda p, x: np.asarray(1.0), x="K", delta=0.1, maximum_measure="r_max", extrapolate=ext
    )
    # every seed's maximum below the bound: VACUOUS, with the K at which the largest maximum reaches 1
    out = check.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, 0.1]] * 29 + [[0.1, 0.2]]))
    assert out.verdict == "VACUOUS" and out.detail["x_needed"] == pytest.approx(100 * 25, rel=0.01)
    assert out.detail["bound_over_max"] == pytest.approx(5.0) and "extrapolated" in out.statistic
    # one seed's maximum above the bound: the cell is tested (PASS without violations)
    out = check.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, 0.1]] * 29 + [[0.5, 2.0]]))
    assert out.verdict == "PASS" and out.detail["bound_over_max"] == pytest.approx(0.5)
    # a measurement above its own seed's maximum is a broken run; a NaN maximum fails
    assert check.evaluate(_ratio_cell([[0.01, 0.3]] * 30, [[0.05, 0.1]] * 29 + [[0.5, 2.0]])).verdict == "FAIL"
    assert check.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[np.nan, 0.1]] * 30)).verdict == "FAIL"
    out = check.evaluate(_ratio_cell([[0.01, np.inf]] * 30, [[0.05, 0.1]] * 30))
    assert out.verdict == "FAIL" and "non-finite" in out.statistic
    # an unbounded (infinite) maximum is allowed: the cell is then tested
    assert check.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, np.inf]] * 30)).verdict == "PASS"
    # a data-free maximum below the per-seed one is used instead
    tight = replace(check, maximum=lambda p, x: np.asarray(0.3))
    assert tight.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, 0.1]] * 29 + [[0.5, 2.0]])).verdict == "VACUOUS"
    # without an extrapolation no x_needed is claimed
    plain = replace(check, extrapolate=None)
    out = plain.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, 0.1]] * 30))
    assert out.verdict == "VACUOUS" and "x_needed" not in out.detail and "no extrapolation" in out.statistic
    # the mutant machinery scales it like any BoundCheck: a bound below the maximum makes it testable
    scaled = replace(check, scale=1e-3)
    assert scaled.evaluate(_ratio_cell([[0.01, 0.02]] * 30, [[0.05, 0.1]] * 30)).verdict == "FAIL"


_TINY = {"instance": "random", "S": 3, "A": 2, "d": 2, "H": 2, "lam": 1.0, "ridge": 1.0}


@pytest.mark.parametrize("div", ["tv", "kl", "chi2"])
def test_theorem_cells_store_their_maxima(div):
    params = {**_TINY, "divergence": div, "K": [20, 80]}
    rows = run_theorem(params, [np.random.SeedSequence(3), np.random.SeedSequence(4)])
    free = ratio_maximum_free(params, np.asarray([20.0, 80.0]))
    for r in rows:
        assert np.all(np.asarray(r["ratio"]) <= np.asarray(r["ratio_maximum"]))
        assert np.all(np.asarray(r["ratio_maximum"]) <= free * (1 + 1e-12))  # the data-free maximum is looser
        assert r["beta"] == pytest.approx(
            [r2pvi_beta(div, H=2, d=2, K=k, lam=1.0, delta=0.1) for k in (20, 80)], rel=1e-12
        )
    (check,) = get_claim("r2pvi-theorem-5-2").checks
    cell = CellData(params, (0, 1), tuple(rows))
    out = check.evaluate(cell)
    assert out.verdict == "VACUOUS" and out.detail["x_needed"] > 1e5  # far beyond these K


def test_count_data_is_the_law_of_trajectory_data():
    gen = np.random.default_rng(0)
    model = mr.random_d_rectangular_mdp(3, 2, 2, 3, rng=gen, initial=np.full(3, 1 / 3))
    nominal = model.nominal()
    behaviour = mr.uniform_policy(nominal)
    Ks = [1000, 10**7]
    small, big = count_data(model, behaviour, Ks, np.random.default_rng(1))
    S, A, H = 3, 2, 3
    for data, K in ((small, Ks[0]), (big, Ks[1])):
        w = data.weights
        assert np.allclose(w.sum(axis=0), K)
        # the trajectories in s' after step h are those in s' at step h + 1
        for h in range(H - 1):
            arrive = np.bincount(data.next_states[:, h], weights=w[:, h], minlength=S)
            depart = np.bincount(data.states[:, h + 1], weights=w[:, h + 1], minlength=S)
            assert np.array_equal(arrive, depart)
    assert np.all(big.weights >= small.weights)  # nested datasets
    # frequencies against the exact occupancy x behaviour x kernel
    P, occ = np.asarray(nominal.P), nominal.initial.copy()
    P = np.broadcast_to(P, (H, S, A, S)) if P.ndim == 3 else P
    for h in range(H):
        expect = (occ[:, None, None] * behaviour[h][:, :, None] * P[h]).reshape(-1)
        assert np.abs(big.weights[:, h] / Ks[1] - expect).max() < 2e-3
        occ = expect.reshape(S, A, S).sum(axis=(0, 1))


def test_r2pvi_on_counts_equals_r2pvi_on_the_trajectories():
    gen = np.random.default_rng(2)
    model = mr.random_d_rectangular_mdp(4, 3, 2, 3, rng=gen)
    data = mr.collect_offline_data(model, mr.uniform_policy(model.nominal()), 500, gen)
    S, A, H = 4, 3, 3
    key = (data.states * A + data.actions) * S + data.next_states  # the triplet index count_data uses
    w = np.stack([np.bincount(key[:, h], minlength=S * A * S) for h in range(H)], axis=1).astype(float)
    s, a, s2 = (x.ravel() for x in np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij"))
    R = model.rewards()
    counts = OfflineData(
        np.repeat(s[:, None], H, 1),
        np.repeat(a[:, None], H, 1),
        np.stack([R[h][s, a] for h in range(H)], 1),
        np.repeat(s2[:, None], H, 1),
        w,
    )
    for div in ("tv", "kl", "chi2"):
        kw = {"divergence": div, "lam": 1.0, "beta": 0.3, "ridge": 1.0}
        x, y = r2pvi(data, model.phi, R, **kw), r2pvi(counts, model.phi, R, **kw)
        assert np.array_equal(x.policy, y.policy)
        assert np.allclose(x.values, y.values, atol=1e-9)


def test_the_consistency_mutant_caps_the_data():
    params = {
        **_TINY,
        "instance": "bernstein",
        "S": 3,
        "A": 9,
        "d": 3,
        "divergence": "tv",
        "beta": 0.1,
        "K": [100, 200, 400],
        "data_cap": 100,
    }
    (row,) = run_consistency(params, [np.random.SeedSequence(5)])
    assert row["subopt"][0] == row["subopt"][1] == row["subopt"][2]


def test_the_sup_dual_mutant_is_far_from_the_primals():
    # (sup = inf where the regularizer makes the robust value the nominal one, e.g. TV with lam >= span v)
    (row,) = run_duals({"regime": "moderate", "pairs": 3, "dual": "sup"}, [np.random.SeedSequence(0)])
    assert min(row[f"error_{k}"] for k in ("tv", "kl", "chi2", "tv_ball", "kl_ball")) > 1.0
