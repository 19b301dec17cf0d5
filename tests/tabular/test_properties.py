"""Properties of the exact solvers, searched by hypothesis.

Tolerances: every solver here is exact up to floating-point rounding except value iteration, which is run with
``tol=1e-10`` and is then within 5e-11 of V* by its stopping rule. Values are bounded by H (rewards in [0, 1],
H <= 6) or 1 / (1 - gamma) <= 20, so double-precision round-off is ~1e-14 and 1e-8 leaves a wide margin while
still catching any real error.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from tabular_oracle import naive_backward_induction, naive_discounted_optimum, rollout_returns

from rltheory import TabularMDP
from rltheory.strategies import policies, tabular_mdps
from rltheory.tabular import (
    backward_induction,
    bellman_residual,
    evaluate_policy,
    linear_program,
    occupancy_measure,
    policy_iteration,
    solve,
    value_iteration,
)

ATOL = 1e-8


@given(tabular_mdps(kind="finite", sparse=None))
def test_finite_solvers_agree(mdp):
    ref = naive_backward_induction(mdp)
    bi = backward_induction(mdp)
    assert_allclose(bi.values, ref, atol=1e-9)
    # (finite-horizon value_iteration *is* backward induction, so comparing the two would test nothing)
    for method in ("policy_iteration", "linear_program"):
        assert_allclose(solve(mdp, method=method).values, bi.values, atol=ATOL, err_msg=method)


@given(tabular_mdps(kind="discounted", sparse=None, n_states=st.integers(1, 4), n_actions=st.integers(1, 3)))
def test_discounted_solvers_agree(mdp):
    ref = naive_discounted_optimum(mdp)
    pi = policy_iteration(mdp)
    assert pi.success
    assert_allclose(pi.values, ref, atol=1e-9)
    vi = value_iteration(mdp, tol=1e-10)
    assert vi.success
    assert np.max(np.abs(vi.values - ref)) <= 1e-10  # the epsilon-optimality guarantee, not a loose tolerance
    assert_allclose(linear_program(mdp).values, ref, atol=ATOL)


@given(tabular_mdps(kind="discounted", gamma=st.floats(0.9, 0.999), n_states=st.integers(1, 4)))
def test_value_iteration_within_tol_near_gamma_one(mdp):
    exact = policy_iteration(mdp).values
    for tol in (1e-3, 1e-7):
        vi = value_iteration(mdp, tol=tol)
        assert np.max(np.abs(vi.values - exact)) < tol
        # the greedy policy is tol-optimal
        v_pi = evaluate_policy(mdp, vi.policy).values
        assert np.max(exact - v_pi) < tol


@given(tabular_mdps(sparse=None))
def test_optimal_policy_evaluates_to_optimum_and_residual_is_zero(mdp):
    sol = solve(mdp)
    ev = evaluate_policy(mdp, sol.policy)
    assert_allclose(ev.values, sol.values, atol=1e-10)
    assert_allclose(ev.q_values, sol.q_values, atol=1e-10)
    assert np.max(bellman_residual(mdp, sol.values)) <= 1e-10


@given(st.data())
def test_optimum_dominates_every_policy(data):
    mdp = data.draw(tabular_mdps(sparse=None))
    policy = data.draw(policies(mdp))
    v_star = solve(mdp).values
    v_pi = evaluate_policy(mdp, policy).values
    assert np.all(v_star >= v_pi - 1e-10)


@given(st.data())
def test_occupancy_sums_to_one_and_reproduces_value(data):
    mdp = data.draw(tabular_mdps(sparse=None))
    policy = data.draw(policies(mdp))
    d = occupancy_measure(mdp, policy)
    assert np.all(d >= -1e-15)
    V = evaluate_policy(mdp, policy).values
    if mdp.is_discounted:
        assert d.sum() == pytest.approx(1.0, abs=1e-10)
        assert (d * mdp.R).sum() == pytest.approx((1 - mdp.gamma) * mdp.initial @ V, abs=1e-10)
    else:
        assert_allclose(d.sum(axis=(1, 2)), 1.0, atol=1e-12)
        R = mdp.R if mdp.R.ndim == 3 else np.broadcast_to(mdp.R, d.shape)
        assert (d * R).sum() == pytest.approx(mdp.initial @ V[0], abs=1e-10)


@given(tabular_mdps(sparse=None))
def test_lp_dual_is_an_optimal_occupancy_measure(mdp):
    lp = linear_program(mdp)
    d = lp.occupancy
    assert np.all(d >= -1e-9)
    if mdp.is_discounted:
        assert d.sum() == pytest.approx(1.0, abs=1e-8)
        assert (d * mdp.R).sum() == pytest.approx((1 - mdp.gamma) * mdp.initial @ lp.values, abs=1e-8)
    else:
        assert_allclose(d.sum(axis=(1, 2)), 1.0, atol=1e-8)
        R = mdp.R if mdp.R.ndim == 3 else np.broadcast_to(mdp.R, d.shape)
        assert (d * R).sum() == pytest.approx(mdp.initial @ lp.values[0], abs=1e-8)
    assert lp.residual <= 1e-8  # duality gap


@given(st.data())
def test_monte_carlo_matches_evaluation(data):
    mdp = data.draw(tabular_mdps(kind="finite", reward_range=(0.0, 1.0)))
    policy = data.draw(policies(mdp, deterministic=False))
    n = 4000
    seed = data.draw(st.integers(0, 2**32 - 1))
    G = rollout_returns(mdp, policy, n, np.random.default_rng(seed))
    v = mdp.initial @ evaluate_policy(mdp, policy).values[0]
    # Returns lie in [0, H]; 6 standard errors (two-sided p ~ 2e-9 per example) plus a floor for zero variance.
    se = G.std(ddof=1) / np.sqrt(n) if n > 1 else 0.0
    assert abs(G.mean() - v) <= 6 * se + 1e-12


@given(st.data())
def test_monte_carlo_matches_evaluation_discounted(data):
    mdp = data.draw(tabular_mdps(kind="discounted", gamma=st.floats(0.0, 0.8)))
    policy = data.draw(policies(mdp, deterministic=False))
    n, steps = 4000, 80  # gamma^80 <= 2e-8: truncation is far below the sampling error
    G = rollout_returns(mdp, policy, n, np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))), steps)
    v = mdp.initial @ evaluate_policy(mdp, policy).values
    se = G.std(ddof=1) / np.sqrt(n)
    assert abs(G.mean() - v) <= 6 * se + 1e-7


@given(tabular_mdps(batch_size=st.integers(1, 5), sparse=None))
def test_batched_equals_per_mdp(mdp):
    B = mdp.batch_size
    methods = (
        ["policy_iteration", "value_iteration", "linear_program"]
        if mdp.is_discounted
        else ["backward_induction", "policy_iteration"]
    )
    for method in methods:
        sol = solve(mdp, method=method)
        assert sol.values.shape[0] == B
        for b in range(B):
            one = solve(mdp.unbatch(b), method=method)
            tol = 1e-7 if method == "value_iteration" else 1e-10
            assert_allclose(sol.values[b], one.values, atol=tol, err_msg=method)


@given(st.data())
def test_batched_policy_evaluation_and_occupancy(data):
    mdp = data.draw(tabular_mdps(batch_size=st.integers(1, 4)))
    policy = data.draw(policies(mdp))
    ev = evaluate_policy(mdp, policy)
    d = occupancy_measure(mdp, policy)
    for b in range(mdp.batch_size):
        one = mdp.unbatch(b)
        assert_allclose(ev.values[b], evaluate_policy(one, policy[b]).values, atol=1e-10)
        assert_allclose(d[b], occupancy_measure(one, policy[b]), atol=1e-12)


@given(st.data())
def test_sparse_equals_dense(data):
    mdp = data.draw(tabular_mdps(sparse=True))
    dense = TabularMDP(mdp.dense_P(), mdp.R, horizon=mdp.horizon, gamma=mdp.gamma, initial=mdp.initial)
    policy = data.draw(policies(mdp))
    assert_allclose(solve(mdp).values, solve(dense).values, atol=1e-10)
    assert_allclose(evaluate_policy(mdp, policy).values, evaluate_policy(dense, policy).values, atol=1e-10)
    assert_allclose(occupancy_measure(mdp, policy), occupancy_measure(dense, policy), atol=1e-12)
