"""Linear-programming formulation of an MDP, primal (values) and dual (occupancy measures), solved by HiGHS.

Primal (discounted; Puterman 1994, §6.9.1; d'Epenoux 1963)::

    min_V  sum_s w(s) V(s)   s.t.  V(s) >= R(s, a) + gamma sum_s' P(s'|s, a) V(s')   for all (s, a)

with weights ``w > 0`` everywhere, so that the unique optimum is ``V*`` on every state. Dual::

    max_d  sum_{s,a} d(s, a) R(s, a)
    s.t.   sum_a d(s', a) = (1 - gamma) mu(s') + gamma sum_{s,a} P(s'|s, a) d(s, a),   d >= 0,

whose optimum is the normalised occupancy measure of an optimal policy from ``mu`` (value ``(1 - gamma) mu^T V*``).
Finite horizon: variables ``V_h(s)`` for ``h < H`` with ``V_H = 0``, and the dual is the per-step occupancy
``d_h(s, a)`` with ``sum_a d_0(s, a) = mu(s)`` and ``sum_a d_{h+1}(s', a) = sum P_h(s'|s, a) d_h(s, a)``.

Both problems are solved (two HiGHS calls, with primal and dual feasibility tolerances tightened to 1e-10): the
primal with everywhere-positive weights pins down ``V*`` on every state, including states the initial distribution
never reaches, where a dual of ``mu`` alone says nothing; the dual is the occupancy measure from ``mdp.initial``.

**Exact polish.** HiGHS stops at its tolerances: its ``V`` can be off ``V*`` by ~1e-7 at ``S = 16``, ``gamma =
0.99`` (measured), far from the 1e-9 the other solvers meet. So the LP's solution is used for what it determines
exactly, the optimal policy: the greedy policy of the LP's values is evaluated by a linear solve, and improved by
policy-iteration steps (with the same tie guard) until stable (0 steps when HiGHS' policy is optimal, which is the
rule). ``values``, ``q_values``, ``policy`` and ``occupancy`` are those of that optimal policy (its exact value and
its occupancy measure, the vertex of the dual LP it defines); the returned ``residual`` is the Bellman optimality
residual ``||T V - V||`` of the polished values, which certifies them, and the message reports how far HiGHS' own
values were from them. ``polish=False`` returns HiGHS' solution as it is, for an independent check.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from rltheory.mdp import TabularMDP
from rltheory.tabular import _backup as bk
from rltheory.tabular._results import Solution
from rltheory.tabular.dp import bellman_residual, occupancy_measure, policy_iteration
from rltheory.validation import choice

__all__ = ["linear_program"]

_TIGHT = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def _transition_rows(mdp: TabularMDP, h: int) -> sp.csr_array:
    S, A = mdp.n_states, mdp.n_actions
    P = mdp.P_at(h)
    if isinstance(P, np.ndarray):
        return sp.csr_array(P.reshape(S * A, S))
    return P


def _constraint_matrix(mdp: TabularMDP) -> tuple[sp.csr_array, np.ndarray]:
    """Bellman inequalities as ``A_ub x <= b_ub`` over ``x = V`` (``[S]``) or ``x = vec(V_0..V_{H-1})``."""
    S, A = mdp.n_states, mdp.n_actions
    E = sp.csr_array((np.ones(S * A), (np.arange(S * A), np.repeat(np.arange(S), A))), shape=(S * A, S))
    if mdp.is_discounted:
        A_ub = (mdp.gamma * _transition_rows(mdp, 0) - E).tocsr()
        return A_ub, -mdp.R.reshape(S * A)
    H = mdp.horizon
    assert H is not None
    blocks = []
    for h in range(H):
        row = [None] * H
        row[h] = -E
        if h + 1 < H:
            row[h + 1] = _transition_rows(mdp, h)
        blocks.append(row)
    A_ub = sp.block_array(blocks, format="csr")
    b_ub = -np.concatenate([mdp.R_at(h).reshape(S * A) for h in range(H)])
    return A_ub, b_ub


def _solve_one(mdp: TabularMDP, method: str) -> tuple[np.ndarray, np.ndarray, dict]:
    S, A = mdp.n_states, mdp.n_actions
    H = 1 if mdp.is_discounted else mdp.horizon
    assert H is not None
    A_ub, b_ub = _constraint_matrix(mdp)
    n = H * S
    primal = linprog(np.full(n, 1.0 / n), A_ub=A_ub, b_ub=b_ub, bounds=(None, None), method=method, options=_TIGHT)
    if primal.status != 0:
        raise RuntimeError(f"HiGHS failed on the primal LP: {primal.message}")
    # Dual: A_ub^T d = -w  <=>  flow conservation; written as an equality LP over d >= 0.
    mu = mdp.initial
    if mdp.is_discounted:
        b_eq = (1.0 - mdp.gamma) * mu  # type: ignore[operator]
        A_eq = -A_ub.T  # E^T d - gamma P^T d = (1 - gamma) mu
    else:
        b_eq = np.concatenate([mu, np.zeros((H - 1) * S)])
        A_eq = -A_ub.T
    # maximise <d, R>  <=>  minimise <d, -R> = <d, b_ub>
    dual = linprog(b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method=method, options=_TIGHT)
    if dual.status != 0:
        raise RuntimeError(f"HiGHS failed on the dual LP: {dual.message}")
    V = primal.x.reshape(H, S)
    d = dual.x.reshape(H, S, A)
    dual_value = float(-dual.fun)
    primal_value = float(mu @ V[0]) * ((1.0 - mdp.gamma) if mdp.is_discounted else 1.0)  # type: ignore[operator]
    info = {
        "nit": int(primal.nit) + int(dual.nit),
        "duality_gap": abs(primal_value - dual_value),
    }
    if mdp.is_discounted:
        return V[0], d[0], info
    return V, d, info


def linear_program(mdp: TabularMDP, *, method: str = "highs", polish: bool = True) -> Solution:
    """Solve an MDP as a linear program (primal values and dual occupancy measure) with scipy's HiGHS.

    See the module docstring for both programs and the polish. With ``polish=True`` (default) ``values``,
    ``q_values``, ``policy`` and ``occupancy`` are those of the optimal policy the LP identifies, computed exactly
    (its value by a linear solve, its occupancy measure from ``mdp.initial``: ``[H, S, A]`` summing to 1 per step,
    or the normalised discounted ``[S, A]``), and ``residual`` is the Bellman optimality residual
    ``||T V - V||_inf`` of those values (per member if batched; the largest step's for a finite horizon), which
    certifies them. With ``polish=False`` they are HiGHS' own primal values, their greedy policy and the dual
    solution, accurate to HiGHS' tolerances, and ``residual`` is HiGHS' duality gap ``|mu^T V - <d, R>|``
    (normalised by ``1 - gamma`` when discounted). Use ``polish=False`` for an LP that shares no code with policy
    iteration (an independent check, as the ``exact-solvers`` claim does); the polished values are policy
    iteration's from the LP's policy.

    The LP is the slow exact solver (seconds at S=500 where policy iteration takes milliseconds); use it for
    its dual or as an independent check. A batched MDP is solved member by member.

    Args:
        mdp: the MDP (dense or sparse, finite horizon or discounted, batched or not).
        method: a scipy ``linprog`` HiGHS method: ``"highs"``, ``"highs-ds"`` (dual simplex) or
            ``"highs-ipm"`` (interior point).
        polish: replace HiGHS' solution by the exact one of its greedy policy (see above).

    Returns:
        :class:`Solution` with ``occupancy`` set.

    Reference:
        F. d'Epenoux, "A probabilistic production and inventory problem", Management Science 10(1), 1963;
        Puterman 1994, §6.9.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    method = choice("method", method, ("highs", "highs-ds", "highs-ipm"))
    t0 = time.perf_counter()
    members = [mdp.unbatch(b) for b in range(mdp.batch_size)] if mdp.batched else [mdp]  # type: ignore[arg-type]
    Vs, ds, gaps, nits = [], [], [], 0
    for m in members:
        V, d, info = _solve_one(m, method)
        Vs.append(V)
        ds.append(d)
        gaps.append(info["duality_gap"])
        nits += info["nit"]
    V_lp = np.stack(Vs) if mdp.batched else Vs[0]
    d_lp = np.stack(ds) if mdp.batched else ds[0]
    lp_gap = np.asarray(gaps) if mdp.batched else float(gaps[0])
    if not polish:
        Q = bk.q_from_values(mdp, V_lp)
        _, pi = bk.greedy(Q)
        return Solution(
            values=V_lp,
            q_values=Q,
            policy=pi,
            method="linear_program",
            success=True,
            nit=nits,
            residual=lp_gap,
            message="HiGHS optimal (primal and dual, unpolished: accurate to HiGHS' tolerances)",
            elapsed=time.perf_counter() - t0,
            occupancy=d_lp,
        )
    # exact polish: the LP's greedy policy, evaluated exactly and improved until stable (module docstring)
    _, pi_lp = bk.greedy(bk.q_from_values(mdp, V_lp))
    exact = policy_iteration(mdp, policy0=pi_lp)
    if not exact.success:
        raise RuntimeError(f"linear_program: the polish did not converge: {exact.message}")
    V, pi = exact.values, exact.policy
    Q = exact.q_values if exact.q_values is not None else bk.q_from_values(mdp, V)
    d = occupancy_measure(mdp, pi)
    lp_error = float(np.max(np.abs(V_lp - V)))
    # optimality certificate of the polished values: ||T V - V||_inf (0 up to round-off exactly at V*); a policy's
    # own value and occupancy always have a zero duality gap, so that gap would certify nothing
    cert = bellman_residual(mdp, V)
    cert = np.max(cert, axis=-1) if not mdp.is_discounted else cert
    return Solution(
        values=V,
        q_values=Q,
        policy=pi,
        method="linear_program",
        success=True,
        nit=nits + int(np.sum(exact.nit)),
        residual=np.asarray(cert) if mdp.batched else float(cert),
        message=(
            f"HiGHS optimal (its values within {lp_error:.2g} of the polished ones, its duality gap "
            f"{float(np.max(lp_gap)):.2g}), polished by {int(np.sum(exact.nit)) - 1} policy-iteration steps from "
            "its greedy policy; residual = Bellman optimality residual of the polished values"
        ),
        elapsed=time.perf_counter() - t0,
        occupancy=d,
    )
