"""Exact solvers agree with each other, and value iteration meets its stopping guarantee.

* Finite horizon: policy iteration and the HiGHS LP give backward induction's ``V*`` on Garnet MDPs.
* Discounted: value iteration (``tol``), the LP and policy iteration agree, and value iteration's error is below
  ``tol / 2`` (Puterman 1994, Theorem 6.3.1: if ``||V_{k+1} - V_k|| < tol (1 - gamma) / (2 gamma)`` then
  ``||V_{k+1} - V*|| < tol / 2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import mdps
from rltheory.tabular import backward_induction, evaluate_policy, linear_program, policy_iteration, value_iteration
from verification.core import BoundCheck, Claim, EqualityCheck, Mutant, Preset, register

# Every solver is exact up to round-off on values of size <= H (rewards in [0, 1]) or 1 / (1 - gamma). The LP is
# checked unpolished (HiGHS alone, feasibility tolerances 1e-10), so that it stays an independent solver: the
# polished LP is policy iteration from the LP's policy.
AGREEMENT_TOL = 1e-8


def run_solver_agreement(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """One Garnet instance per seed; the largest disagreement of each solver with the reference."""
    out = []
    S, A, b = params["S"], params["A"], params["branching"]
    for seq in seeds:
        rng = np.random.default_rng(seq)
        fin = mdps.garnet(S, A, b, horizon=params["H"], rng=rng)
        ref = backward_induction(fin).values
        pi_fin = policy_iteration(fin).values
        lp_fin = linear_program(fin, polish=False).values  # HiGHS alone: shares no code with PI
        disc = mdps.garnet(S, A, b, gamma=params["gamma"], rng=rng)
        exact = policy_iteration(disc)
        tol = params["tol"]
        if params.get("vi_stop") == "naive":  # the mutant: stop once ||V_{k+1} - V_k|| < tol, no (1-g)/(2g) factor
            tol = tol * 2 * params["gamma"] / (1 - params["gamma"])
        vi = value_iteration(disc, tol=tol)
        lp = linear_program(disc, polish=False).values
        v_greedy = evaluate_policy(disc, vi.policy).values
        out.append(
            {
                "finite_pi_error": float(np.max(np.abs(pi_fin - ref))),
                "finite_lp_error": float(np.max(np.abs(lp_fin - ref))),
                "discounted_lp_error": float(np.max(np.abs(lp - exact.values))),
                "vi_error": float(np.max(np.abs(vi.values - exact.values))),
                "vi_policy_loss": float(np.max(exact.values - v_greedy)),
                "vi_iterations": int(vi.nit),
            }
        )
    return out


def _half_tol(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    return np.asarray(params["tol"] / 2.0)


def _tol(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    return np.asarray(params["tol"])


def _value_range(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    """A-priori maximum of a discounted value gap with rewards in [0, 1]: 1 / (1 - gamma)."""
    return np.asarray(1.0 / (1.0 - params["gamma"]))


def _grid(sizes: list[tuple[int, int, int]], H: int, gamma: float, tol: float) -> tuple[dict[str, Any], ...]:
    return tuple({"S": S, "A": A, "branching": b, "H": H, "gamma": gamma, "tol": tol} for S, A, b in sizes)


SOLVER_AGREEMENT = register(
    Claim(
        name="exact-solvers",
        title="VI, PI and the LP agree with backward induction; VI's error is below tol/2 (Puterman Thm 6.3.1)",
        citation="M. L. Puterman, Markov Decision Processes, Wiley 1994, §4.5, Theorem 6.3.1, §6.9",
        run=run_solver_agreement,
        checks=(
            EqualityCheck("finite_pi_error", AGREEMENT_TOL, label="PI = backward induction"),
            EqualityCheck("finite_lp_error", AGREEMENT_TOL, label="LP = backward induction"),
            EqualityCheck("discounted_lp_error", AGREEMENT_TOL, label="LP = PI (discounted)"),
            BoundCheck(
                "vi_error",
                _half_tol,
                delta=0.0,
                theorem="value_iteration_stopping",
                label="VI error <= tol/2",
                maximum=_value_range,
            ),
            BoundCheck("vi_policy_loss", _tol, delta=0.0, label="VI greedy policy tol-optimal", maximum=_value_range),
        ),
        presets={
            "quick": Preset(
                _grid([(10, 3, 2), (30, 4, 5), (60, 5, 10)], H=20, gamma=0.95, tol=1e-6), n_seeds=8, seeds_per_task=4
            ),
            "full": Preset(
                _grid([(10, 3, 2), (50, 5, 5), (100, 10, 10), (200, 10, 20)], H=50, gamma=0.99, tol=1e-8),
                n_seeds=30,
                seeds_per_task=5,
            ),
            "tiny": Preset(_grid([(5, 2, 2)], H=5, gamma=0.9, tol=1e-6), n_seeds=4, seeds_per_task=2),
        },
        description=(
            "Each seed draws a Garnet MDP (Archibald et al. 1995) with the cell's sizes, solves its finite-horizon "
            "version by backward induction, policy iteration and the HiGHS LP, and its discounted version by policy "
            "iteration (exact), value iteration with the epsilon-optimality stopping rule and the LP. Errors are "
            "sup-norm differences of value functions. A discounted value gap can never exceed 1 / (1 - gamma) "
            "(rewards in [0, 1]): that is the VI checks' a-priori maximum, far above tol."
        ),
        mutants=(
            Mutant(
                "naive-stop",
                "value iteration stopped at ||V_{k+1} - V_k|| < tol, without Puterman's (1 - gamma) / (2 gamma) "
                "factor: its error can reach tol gamma / (1 - gamma) > tol / 2",
                params={"vi_stop": "naive"},
            ),
        ),
    )
)
