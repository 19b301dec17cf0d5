"""The statistics on synthetic data with known answers."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from verification.stats import MIN_SLOPE_SEEDS, binomial_power_seeds, binomial_test, bootstrap_slope, loglog_slope


def test_binomial_by_hand():
    # n = 3, delta = 0.1: P(X >= 1) = 1 - 0.9^3 = 0.271; P(X >= 2) = 3 * 0.01 * 0.9 + 0.001 = 0.028.
    assert binomial_test(1, 3, 0.1).p_value == pytest.approx(0.271)
    r = binomial_test(2, 3, 0.1)
    assert r.p_value == pytest.approx(0.028)
    assert r.verdict == "FAIL"
    assert binomial_test(0, 3, 0.1).verdict == "PASS"
    assert binomial_test(1, 20, 0.05).verdict == "PASS"  # P(X >= 1) = 1 - 0.95^20 = 0.64


@pytest.mark.parametrize(
    ("delta", "alpha", "n"),
    [(0.25, 0.05, 3), (0.05, 0.05, 2), (0.5, 0.25, 3), (0.1, 0.05, 2), (0.0, 0.05, 1), (0.5, 0.05, 5)],
)
def test_power_seeds_by_hand(delta, alpha, n):
    # 0.25^2 = 0.0625 >= 0.05 > 0.25^3; 0.05^1 = alpha exactly is not < alpha; 0.5^2 = 0.25 = alpha; 0.5^4 = 0.0625
    assert binomial_power_seeds(delta, alpha) == n
    assert delta**n < alpha or delta == 0.0
    if n > 1:
        assert delta ** (n - 1) >= alpha


def test_binomial_cannot_decide_with_too_few_seeds():
    # 2 seeds at delta = 0.25: even 2/2 violations have p = 0.0625 >= 0.05, so no data could reject
    assert binomial_test(2, 2, 0.25).verdict == "UNDERPOWERED"
    assert binomial_test(0, 2, 0.25).verdict == "UNDERPOWERED"
    assert binomial_test(3, 3, 0.25).verdict == "FAIL"
    assert binomial_test(0, 3, 0.25).verdict == "PASS"


def test_binomial_deterministic_statement():
    assert binomial_test(0, 10, 0.0).verdict == "PASS"
    assert binomial_test(1, 10, 0.0).verdict == "FAIL"


def test_binomial_size_and_power():
    # Under H0 with delta = 0.1 the false-rejection rate is at most alpha (exact test is conservative).
    rng = np.random.default_rng(0)
    n, delta = 50, 0.1
    v = rng.binomial(n, delta, size=4000)
    rate = np.mean([binomial_test(int(x), n, delta).verdict == "FAIL" for x in v])
    assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000)
    # A bound violated half of the time is rejected.
    assert binomial_test(25, 50, 0.1).verdict == "FAIL"
    assert binomial_test(25, 50, 0.1).p_value == pytest.approx(stats.binom.sf(24, 50, 0.1))


@pytest.mark.parametrize(
    ("args", "match"),
    [((3, 2, 0.1), "violations"), ((0, 0, 0.1), "n must"), ((0, 5, 1.0), "delta"), ((0, 5, -0.1), "delta")],
)
def test_binomial_validation(args, match):
    with pytest.raises(ValueError, match=match):
        binomial_test(*args)


def test_exact_power_law_slope():
    x = np.array([1.0, 2, 4, 8, 16])
    assert loglog_slope(x, 3.0 * x**0.5) == pytest.approx(0.5, abs=1e-12)
    res = bootstrap_slope(x, np.tile(3.0 * x**0.5, (5, 1)), exponent=0.5)
    assert_allclose([res.slope, res.low, res.high], 0.5, atol=1e-12)
    assert res.verdict == "PASS"


def test_bootstrap_coverage_on_noisy_power_law():
    # Y = x^0.7 * lognormal noise: the 95% interval should contain 0.7 in most repetitions.
    rng = np.random.default_rng(1)
    x = np.geomspace(10, 1000, 8)
    hits = 0
    for _ in range(100):
        Y = x**0.7 * np.exp(rng.normal(0, 0.3, (20, x.size)))
        r = bootstrap_slope(x, Y, exponent=0.7, direction="two-sided", n_boot=400, rng=rng)
        hits += r.low <= 0.7 <= r.high
    assert hits >= 85


def test_slope_verdicts():
    x = np.geomspace(1, 100, 6)
    rng = np.random.default_rng(2)
    Y = x**1.0 * np.exp(rng.normal(0, 0.05, (10, 6)))
    assert bootstrap_slope(x, Y, exponent=0.5).verdict == "FAIL"  # linear growth is not sqrt
    assert bootstrap_slope(x, Y, exponent=1.0, direction="two-sided").verdict == "PASS"
    Yr = x**0.3 * np.exp(rng.normal(0, 0.05, (10, 6)))
    assert bootstrap_slope(x, Yr, exponent=0.5).verdict == "PASS"  # faster than the bound is fine for an upper bound
    assert bootstrap_slope(x, Yr, exponent=0.5, direction="two-sided").verdict == "FAIL"
    noisy = x * np.exp(rng.normal(0, 5.0, (6, 6)))
    assert bootstrap_slope(x, noisy, exponent=1.0, max_width=0.2).verdict == "INCONCLUSIVE"


def test_slope_with_too_few_seeds_is_underpowered():
    x = np.geomspace(1, 100, 6)
    exact = np.tile(x**2.0, (1, 1))
    assert bootstrap_slope(x, exact, exponent=0.5).verdict == "UNDERPOWERED"  # one seed: zero width, no verdict
    Y = x * np.exp(np.random.default_rng(0).normal(0, 0.05, (MIN_SLOPE_SEEDS, 6)))
    assert bootstrap_slope(x, Y, exponent=0.5).verdict == "FAIL"
    assert bootstrap_slope(x, Y[: MIN_SLOPE_SEEDS - 1], exponent=0.5).verdict == "UNDERPOWERED"


def test_small_sample_widening_restores_coverage():
    # 4 seeds, i.i.d. log-normal noise: the plain percentile interval covers ~82%; the widened one ~95%
    rng = np.random.default_rng(3)
    x = np.geomspace(1000, 4000, 12)
    hits = 0
    for _ in range(200):
        Y = np.exp(rng.normal(0, 0.5, (4, 1))) * x**0.5 * np.exp(rng.normal(0, 0.2, (4, x.size)))
        r = bootstrap_slope(x, Y, exponent=0.5, direction="two-sided", n_boot=500, rng=rng)
        hits += r.low <= 0.5 <= r.high
    assert hits >= 0.95 * 200 - 3 * np.sqrt(0.05 * 0.95 * 200)  # 3 standard errors below nominal


def test_slope_validation():
    with pytest.raises(ValueError, match="two distinct positive"):
        bootstrap_slope(np.ones(3), np.ones((2, 3)), exponent=1)
    with pytest.raises(ValueError, match="positive at every x"):
        bootstrap_slope(np.arange(1.0, 4), -np.ones((2, 3)), exponent=1)
    with pytest.raises(ValueError, match="shape"):
        bootstrap_slope(np.arange(1.0, 4), np.ones((2, 4)), exponent=1)
