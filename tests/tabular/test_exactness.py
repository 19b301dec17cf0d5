"""Exact to 1e-9 where the answer is exact: the LP against policy iteration and an independent extended-precision
certificate at sizes up to S = 200 and gamma up to 0.999; value iteration refuses a tolerance float64 cannot reach;
overflow is reported, never returned as values."""

from __future__ import annotations

import numpy as np
import pytest

import mdps
from rltheory import TabularMDP
from rltheory.tabular import backward_induction, linear_program, policy_iteration, value_iteration


def _certified_optimal_values(P: np.ndarray, R: np.ndarray, gamma: float, pi: np.ndarray) -> np.ndarray:
    """V^pi by a float64 LU solve refined twice with residuals in long double, then a check in long double that no
    action improves on pi by more than 1e-12 (so V^pi = V*). Independent of rltheory's solvers."""
    S = R.shape[0]
    P_pi = P[np.arange(S), pi]
    r_pi = R[np.arange(S), pi]
    M = np.eye(S) - gamma * P_pi
    V = np.linalg.solve(M, r_pi)
    Ml, rl = M.astype(np.longdouble), r_pi.astype(np.longdouble)
    Vl = V.astype(np.longdouble)
    for _ in range(2):
        resid = rl - Ml @ Vl
        Vl = Vl + np.linalg.solve(M, resid.astype(np.float64)).astype(np.longdouble)
    Q = R.astype(np.longdouble) + np.longdouble(gamma) * np.einsum("sat,t->sa", P.astype(np.longdouble), Vl)
    assert float(np.max(Q.max(axis=1) - Vl)) <= 1e-12 * (1 + float(np.max(np.abs(Vl))))
    return Vl.astype(np.float64)


@pytest.mark.parametrize(
    ("S", "A", "gamma"), [(16, 3, 0.99), (13, 3, 0.99), (50, 4, 0.999), (200, 5, 0.99), (200, 3, 0.999), (100, 4, 0.9)]
)
def test_lp_and_pi_meet_an_independent_certificate_to_1e9(S, A, gamma):
    for seed in range(2):
        mdp = mdps.garnet(S, A, min(S, 5), gamma=gamma, rng=seed)
        pi_sol = policy_iteration(mdp)
        lp_sol = linear_program(mdp)
        ref = _certified_optimal_values(np.asarray(mdp.P), np.asarray(mdp.R), gamma, pi_sol.policy)
        np.testing.assert_allclose(pi_sol.values, ref, rtol=0, atol=1e-9)
        np.testing.assert_allclose(lp_sol.values, ref, rtol=0, atol=1e-9)
        assert float(lp_sol.residual) <= 1e-9 * max(1.0, float(np.max(np.abs(ref))))  # Bellman residual certificate
        np.testing.assert_allclose(lp_sol.occupancy.sum(), 1.0, atol=1e-12)
        # HiGHS alone (no polish, no shared code with policy iteration) at its tightened tolerances
        raw = linear_program(mdp, polish=False)
        np.testing.assert_allclose(raw.values, ref, rtol=0, atol=1e-7 * max(1.0, float(np.max(np.abs(ref)))))


def test_lp_finite_horizon_matches_backward_induction_to_1e9():
    for seed in range(3):
        mdp = mdps.garnet(60, 4, 6, horizon=30, rng=seed)
        np.testing.assert_allclose(linear_program(mdp).values, backward_induction(mdp).values, rtol=0, atol=1e-9)


def test_value_iteration_refuses_an_unattainable_tolerance():
    mdp = mdps.make("riverswim", gamma=0.999999)
    with pytest.raises(ValueError, match=r"tol=1e-08 is unattainable .*policy_iteration"):
        value_iteration(mdp)
    # attainable tolerances still work, and are met
    sol = value_iteration(mdps.make("riverswim", gamma=0.99), tol=1e-6)
    assert sol.success
    assert np.max(np.abs(sol.values - policy_iteration(mdps.make("riverswim", gamma=0.99)).values)) < 1e-6


def test_value_iteration_message_names_the_real_reason():
    mdp = mdps.make("riverswim", gamma=0.99)
    sol = value_iteration(mdp, tol=1e-6, max_iter=3)
    assert not sol.success and sol.nit == 3
    assert "max_iter=3 reached" in sol.message and "not within tol" in sol.message


@pytest.mark.parametrize(
    "solver", ["backward_induction", "policy_iteration_finite", "policy_iteration", "value_iteration"]
)
def test_overflow_is_reported(solver):
    P = np.full((2, 2, 2), 0.5)
    R = np.full((2, 2), 1e308)
    if solver in ("backward_induction", "policy_iteration_finite"):
        mdp = TabularMDP(P, R, horizon=3)
        fn = backward_induction if solver == "backward_induction" else policy_iteration
    else:
        mdp = TabularMDP(P, R, gamma=0.9)
        fn = policy_iteration if solver == "policy_iteration" else value_iteration
    with pytest.raises(OverflowError, match=r"overflow float64: rewards R up to \|R\| = 1e\+308"):
        fn(mdp)
