"""R2PVI-KL's robust weights against a high-precision evaluation of the paper's formula
``w_i = -lam log max(sum_s M[i, s] e^{-V(s)/lam}, e^{-H/lam})`` (Tang, Liu & Xu, ICML 2025, Algorithm 3).

The reference is mpmath at 80 digits on the very ``M`` (ridge regression on the sampled next states) and ``V`` that
the float64 run used, so the only difference is the float64 evaluation of the formula."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

import mdps.robust as mr
from rltheory.linear import r2pvi, ridge_statistics
from rltheory.linear.r2pvi import PrecisionWarning, kl_duality_weights

mpmath.mp.dps = 80


def _reference(M: np.ndarray, v: np.ndarray, lam: float, cap: float) -> np.ndarray:
    lam_m = mpmath.mpf(lam)
    ex = [mpmath.exp(-mpmath.mpf(float(x)) / lam_m) for x in v]
    floor = mpmath.exp(-mpmath.mpf(cap) / lam_m)
    out = np.empty(M.shape[0])
    for i, row in enumerate(M):
        z = mpmath.fsum(mpmath.mpf(float(m)) * e for m, e in zip(row, ex, strict=True) if m != 0)
        out[i] = float(-lam_m * mpmath.log(max(z, floor)))
    return out


def test_a_coordinate_whose_weights_sit_above_the_global_minimum_by_hand():
    # coordinate 0 weights states with V = 7 and 9.5 only; state 2 has V = 0. One shift by min V = 0 underflows
    # e^{-7000} to 0 at lam = 1e-3 and returned the cap; the exact value is 7 - lam log(0.6 + 0.4 e^{-2500}).
    M = np.array([[0.6, 0.4, 0.0], [0.0, 0.0, 1.0]])
    v = np.array([7.0, 9.5, 0.0])
    w, bad = kl_duality_weights(M, v, 1e-3, cap=20.0)
    assert not bad.any()
    np.testing.assert_allclose(w, [7.0 - 1e-3 * np.log(0.6), 0.0], rtol=1e-14, atol=1e-15)


def test_signed_rows_and_the_floor():
    v = np.array([1.0, 2.0, 3.0])
    # negative total: the paper's max with e^{-H/lam} gives H
    w, bad = kl_duality_weights(np.array([[-1.0, 0.5, 0.2], [0.0, 0.0, 0.0]]), v, 0.5, cap=4.0)
    assert not bad.any() and w.tolist() == [4.0, 4.0]
    # a positive sum whose weight exceeds the cap is clipped to it
    w, _ = kl_duality_weights(np.array([[1e-9, 0.0, 0.0]]), v, 0.5, cap=4.0)
    assert w[0] == 4.0  # 1 - 0.5 log(1e-9) = 11.4 > 4


def test_cancellation_amplified_by_large_exponents_is_flagged():
    # 0.7 - (0.7 - 1e-14) leaves 1e-14 of the sum; at lam = 1e-4 each exponent -v/lam = -1e4 carries an absolute
    # rounding of ~2e-12, far above what is left: the float64 weight is off (1.00274 against 1.00322), so it must
    # be flagged rather than returned as if exact
    M = np.array([[0.7, -(0.7 - 1e-14), 0.0]])
    v = np.array([1.0, 1.0, 1.5])
    w, bad = kl_duality_weights(M, v, 1e-4, cap=20.0)
    ref = _reference(M, v, 1e-4, 20.0)
    assert bad.tolist() == [True] or abs(w[0] - ref[0]) <= 1e-9 * abs(ref[0])


def test_cancellation_below_float64_is_flagged():
    # +1 and -(1 - 1e-17) e^{0}: the sum is 1e-17 in exact arithmetic but 0 or garbage in float64
    M = np.array([[1.0, -(1.0 - 1e-17)]])
    w, bad = kl_duality_weights(M, np.array([1.0, 1.0]), 1.0, cap=100.0)
    assert bad.tolist() == [True]


def _put_case(N: int = 1000, d: int = 30, seed: int = 0):
    put = mr.american_put_option(d=d, horizon=20, p=0.5, rng=np.random.default_rng(seed), reward_scale=1.0)
    data = mr.collect_offline_data(put.mdp, np.zeros((20, put.mdp.n_states), dtype=np.int64), N, seed)
    return put, data


@pytest.mark.parametrize("lam", [1e-1, 2.5e-2, 1e-3, 1e-4])
def test_put_option_weights_match_80_digit_reference(lam):
    put, data = _put_case()
    st = ridge_statistics(data, put.phi, ridge=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrecisionWarning)
        sol = r2pvi(
            data,
            put.phi,
            put.rewards,
            divergence="kl",
            lam=lam,
            beta=0.1,
            ridge=1.0,
            q_max=put.code_caps(),
            simplex_features=False,
            stats=st,
        )
    flagged = [str(w.message) for w in caught if issubclass(w.category, PrecisionWarning)]
    cap = 1.0 * put.horizon
    n_checked = 0
    for h in range(put.horizon - 1):
        supp = st.support[h]
        if not supp.any():
            continue
        M, v = st.mu_hat[h][:, supp], sol.values[h + 1][supp]
        ref = _reference(M, v, lam, cap)
        _, bad = kl_duality_weights(M, v, lam, cap=cap)
        ok = ~bad
        np.testing.assert_allclose(sol.weights[h][ok], ref[ok], rtol=1e-9, atol=1e-12 * cap)
        n_checked += int(ok.sum())
        if bad.any():  # never silently: the call warned, naming lam, the step and the coordinates
            assert any(f"lam={lam:g}, step h={h}" in m for m in flagged)
    assert n_checked >= 0.9 * (put.horizon - 1) * put.dim


def test_put_option_at_small_lam_no_weight_sits_at_the_cap_where_the_formula_is_below_it():
    # the reported case: lam = 1e-3, N = 1000, d = 30, beta = 0.1, ridge 1
    put, data = _put_case()
    st = ridge_statistics(data, put.phi, ridge=1.0)
    sol = r2pvi(
        data,
        put.phi,
        put.rewards,
        divergence="kl",
        lam=1e-3,
        beta=0.1,
        ridge=1.0,
        q_max=put.code_caps(),
        simplex_features=False,
        stats=st,
    )
    at_cap_wrongly = 0
    for h in range(put.horizon - 1):
        supp = st.support[h]
        ref = _reference(st.mu_hat[h][:, supp], sol.values[h + 1][supp], 1e-3, 20.0)
        at_cap_wrongly += int(((sol.weights[h] == 20.0) & (ref < 20.0 - 1e-6)).sum())
    assert at_cap_wrongly == 0


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("lam", [1e-1, 2.5e-2, 1e-3, 1e-4])
def test_random_instances_match_the_reference(seed, lam):
    inst = mr.random_d_rectangular_mdp(8, 3, 4, 4, rng=seed, factor_concentration=0.3)
    mdp = inst.nominal()
    rng = np.random.default_rng(seed)
    data = mr.collect_offline_data(mdp, mr.uniform_policy(mdp), 50, rng)
    phi = inst.phi
    st = ridge_statistics(data, phi, ridge=1.0)
    R = inst.rewards()
    sol = r2pvi(data, phi, R, divergence="kl", lam=lam, beta=0.0, ridge=1.0, stats=st)
    for h in range(mdp.horizon - 1):
        supp = st.support[h]
        M, v = st.mu_hat[h][:, supp], sol.values[h + 1][supp]
        ref = _reference(M, v, lam, float(mdp.horizon))
        np.testing.assert_allclose(sol.weights[h], ref, rtol=1e-9, atol=1e-12)
