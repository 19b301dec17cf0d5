r"""Exact robust regularized dynamic programming: tabular (s,a)-rectangular and d-rectangular linear RRMDPs.

Tabular (s,a)-rectangular RRMDP (finite horizon ``H``, ``V_H = 0``): the adversary picks every row
``P_h(. | s, a)`` separately and pays ``lam D(P_h(. | s, a) || P0_h(. | s, a))`` whenever ``(s, a)`` is visited, so

    ``Q_h(s, a) = R_h(s, a) + inf_{q in Delta(S)} E_q[V_{h+1}] + lam D(q || P0_h(. | s, a))``,
    ``V_h(s) = max_a Q_h(s, a)`` (or ``sum_a pi_h(a | s) Q_h(s, a)`` for a fixed policy).

d-rectangular linear RRMDP (Tang, Liu, Xu 2025, Section 3): features ``phi(s, a)`` on the simplex of ``R^d``,
rewards ``r_h = <phi, theta_h>``, nominal kernel ``P0_h(s' | s, a) = <phi(s, a), mu0_h(s')>`` with factor
distributions ``mu0_{h,i} in Delta(S)``. The adversary picks ``mu_h in Delta(S)^d`` (one kernel
``P_h = <phi, mu_h>`` for every state and action) and pays ``lam <phi(s_h, a_h), D(mu_h || mu0_h)>``. By their
Prop. 4.1 the robust Q-function stays linear, ``Q_h = <phi, theta_h + w_h>``, and the inner problem *decouples per
factor*:

    ``w_{h,i} = inf_{mu in Delta(S)} E_mu[V_{h+1}] + lam D(mu || mu0_{h,i})``,

one scalar robust expectation per factor and step, whose minimiser does not depend on ``(s, a)``: the same
``mu*_h`` is worst for every state, so backward induction gives the exact value of the whole-trajectory
infimum, for the optimal policy (``V*^{,lam}``, attained by a deterministic policy, their Prop. 3.3) and for any
fixed deterministic or stochastic policy.

References:
    C. Tang, Z. Liu, P. Xu, "Robust Offline Reinforcement Learning with Linearly Structured f-Divergence
    Regularization", ICML 2025, arXiv:2411.18612 (d-RRMDP, Prop. 3.3, Prop. 4.1).
    M. L. Puterman, *Markov Decision Processes*, Wiley, 1994, §4.5 (backward induction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rltheory.mdp import TabularMDP
from rltheory.robust._validation import as_float_array, check_divergence, check_positive, check_simplex
from rltheory.robust.duals import robust_expectation
from rltheory.tabular import _backup as bk
from rltheory.tabular._results import PolicyEvaluation, Solution
from rltheory.validation import real_scalar

__all__ = [
    "DRectangularMDP",
    "robust_backward_induction",
    "robust_evaluate_policy",
    "d_rectangular_backward_induction",
    "d_rectangular_evaluate_policy",
    "d_rectangular_weights",
]


# ----------------------------------------------------------------------------------------------- tabular
def _check_finite_mdp(mdp: Any, fn: str) -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if mdp.is_discounted:
        raise ValueError(f"{fn} needs a finite-horizon MDP (horizon=H); this one has gamma={mdp.gamma}")
    return mdp


def _robust_q(mdp: TabularMDP, dense: np.ndarray | None, h: int, V_next: np.ndarray, lam: float, div: str):
    """``Q_h = R_h + inf_q E_q V_{h+1} + lam D(q || P_h(. | s, a))`` with the batch axis first when batched."""
    bs = mdp.batch_shape
    S, A = mdp.n_states, mdp.n_actions
    P_h = dense if dense is not None else mdp.P_at(h)
    V = V_next[:, None, None, :] if mdp.batched else V_next
    inner = robust_expectation(V, P_h, lam=lam, divergence=div)
    return np.broadcast_to(mdp.R_at(h) + inner, bs + (S, A)).copy()


def _robust_sweep(mdp: TabularMDP, lam: float, div: str, policy: np.ndarray | None, deterministic: bool):
    H = mdp.horizon
    assert H is not None
    S, A = mdp.n_states, mdp.n_actions
    bs = mdp.batch_shape
    # A sparse P is densified once ([S, A, S]); the duals need whole rows anyway.
    dense = mdp.dense_P() if mdp.is_sparse else None
    Vs = np.empty(bs + (H, S))
    Qs = np.empty(bs + (H, S, A))
    pis = np.empty(bs + (H, S), dtype=np.int64)
    for h in range(H - 1, -1, -1):
        if h == H - 1:  # V_H = 0, and every dual of the zero vector is 0
            Q = np.broadcast_to(mdp.R_at(h), bs + (S, A)).copy()
        else:
            Q = _robust_q(mdp, dense, h, Vs[..., h + 1, :], lam, div)
        if policy is None:
            V_h, pi_h = bk.greedy(Q)
            pis[..., h, :] = pi_h
        else:
            V_h = bk.average(Q, bk.policy_at(mdp, policy, h), deterministic)
        Qs[..., h, :, :] = Q
        Vs[..., h, :] = V_h
    return Vs, Qs, pis


def robust_backward_induction(mdp: TabularMDP, *, lam: float, divergence: str) -> Solution:
    """Optimal values of a finite-horizon (s,a)-rectangular robust regularized MDP, exactly.

    ``V_H = 0``, ``Q_h(s, a) = R_h(s, a) + inf_q {E_q[V_{h+1}] + lam D(q || P_h(. | s, a))}``,
    ``V_h = max_a Q_h`` for ``h = H-1, ..., 0``, with the inner infimum from
    :func:`~rltheory.robust.robust_expectation` (``D_TV = 1/2 L1``, KL, Pearson chi^2). As ``lam -> oo`` it tends
    to :func:`rltheory.tabular.backward_induction` on the nominal MDP.

    Args:
        mdp: a finite-horizon :class:`~rltheory.mdp.TabularMDP` (dense or sparse, time-inhomogeneous, batched).
        lam: regularizer ``lam > 0``.
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"``.

    Returns:
        :class:`~rltheory.tabular.Solution` with ``values [H, S]``, ``q_values [H, S, A]``, ``policy [H, S]``
        (batch axis first), ``method="robust_backward_induction"``.

    Reference:
        Tang, Liu, Xu, ICML 2025, arXiv:2411.18612 (RRMDP, robust regularized Bellman equation).
    """
    mdp = _check_finite_mdp(mdp, "robust_backward_induction")
    lam = check_positive("lam", lam)
    divergence = check_divergence(divergence)
    t0 = time.perf_counter()
    V, Q, pi = _robust_sweep(mdp, lam, divergence, None, True)
    return Solution(
        values=V,
        q_values=Q,
        policy=pi,
        method="robust_backward_induction",
        success=True,
        nit=mdp.horizon or 0,
        message=f"exact ({divergence}, lam={lam:g})",
        elapsed=time.perf_counter() - t0,
    )


def robust_evaluate_policy(mdp: TabularMDP, policy: Any, *, lam: float, divergence: str) -> PolicyEvaluation:
    """Robust regularized value of a fixed policy in an (s,a)-rectangular RRMDP (the adversary's infimum).

    ``Q^pi_h(s, a) = R_h(s, a) + inf_q {E_q[V^pi_{h+1}] + lam D(q || P_h(. | s, a))}``,
    ``V^pi_h(s) = sum_a pi_h(a | s) Q^pi_h(s, a)``, ``V^pi_H = 0``.

    Args:
        mdp: a finite-horizon :class:`~rltheory.mdp.TabularMDP`.
        policy: deterministic ``[H, S]`` integers or stochastic ``[H, S, A]`` probabilities (batch axis first).
        lam: regularizer ``lam > 0``.
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"``.

    Returns:
        :class:`~rltheory.tabular.PolicyEvaluation` with ``values [H, S]`` and ``q_values [H, S, A]``.
    """
    mdp = _check_finite_mdp(mdp, "robust_evaluate_policy")
    lam = check_positive("lam", lam)
    divergence = check_divergence(divergence)
    pol, deterministic = bk.as_policy(mdp, policy)
    V, Q, _ = _robust_sweep(mdp, lam, divergence, pol, deterministic)
    return PolicyEvaluation(values=V, q_values=Q, method="robust_backward")


# ----------------------------------------------------------------------------------------------- d-rectangular
def _freeze(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=np.float64, order="C", copy=True)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False, init=False)
class DRectangularMDP:
    """A tabular d-rectangular linear RRMDP: features on the simplex, linear rewards, factor distributions.

    ``r_h(s, a) = <phi(s, a), theta_h>`` and ``P0_h(s' | s, a) = sum_i phi_i(s, a) mu0_{h,i}(s')``
    (Tang, Liu, Xu, ICML 2025, arXiv:2411.18612, Assumption 3.1). Validated and frozen at construction.

    Args:
        phi: features ``[S, A, d]``, each ``phi[s, a]`` on the simplex (non-negative, summing to 1 within 1e-10).
        theta: reward parameters ``[H, d]``, or ``[d]`` for every step (then ``horizon`` is required unless
            ``mu0`` has a step axis).
        mu0: factor distributions ``[H, d, S]`` (or ``[d, S]`` for every step), each ``mu0[h, i]`` on the simplex.
        horizon: number of steps ``H``; inferred from ``theta`` or ``mu0`` when they have a step axis.
        initial: initial-state distribution ``[S]``; uniform when omitted.

    Attributes:
        phi, theta (``[H, d]``), mu0 (``[H, d, S]``), initial, horizon, n_states, n_actions, dim.

    Raises:
        ValueError: naming ``phi``, ``theta``, ``mu0``, ``initial`` or ``horizon`` (and the first bad index).
    """

    phi: np.ndarray
    theta: np.ndarray
    mu0: np.ndarray
    initial: np.ndarray
    horizon: int
    n_states: int = field(repr=True)
    n_actions: int = field(repr=True)
    dim: int = field(repr=True)

    def __init__(self, phi: Any, theta: Any, mu0: Any, *, horizon: int | None = None, initial: Any = None) -> None:
        phi_arr = as_float_array("phi", phi)
        if phi_arr.ndim != 3:
            raise ValueError(f"phi must have shape [S, A, d], got shape {phi_arr.shape}")
        check_simplex("phi", phi_arr)
        S, A, d = phi_arr.shape
        theta_arr = as_float_array("theta", theta)
        mu_arr = as_float_array("mu0", mu0)
        if theta_arr.ndim not in (1, 2) or theta_arr.shape[-1] != d:
            raise ValueError(f"theta must have shape [H, d] or [d] with d={d} (from phi), got {theta_arr.shape}")
        if mu_arr.ndim not in (2, 3) or mu_arr.shape[-2:] != (d, S):
            raise ValueError(f"mu0 must have shape [H, d, S] or [d, S] = [{d}, {S}] (from phi), got {mu_arr.shape}")
        check_simplex("mu0", mu_arr)
        steps = {a.shape[0] for a, k in ((theta_arr, 2), (mu_arr, 3)) if a.ndim == k}
        if horizon is not None:
            steps.add(real_scalar("horizon", horizon, integer=True, positive=True))
        if len(steps) != 1:
            if not steps:
                raise ValueError("horizon is needed when neither theta nor mu0 has a step axis")
            raise ValueError(f"theta, mu0 and horizon disagree on the number of steps: {sorted(steps)}")
        H = steps.pop()
        theta_arr = np.broadcast_to(theta_arr, (H, d)) if theta_arr.ndim == 1 else theta_arr
        mu_arr = np.broadcast_to(mu_arr, (H, d, S)) if mu_arr.ndim == 2 else mu_arr
        if initial is None:
            init = np.full(S, 1.0 / S)
        else:
            init = as_float_array("initial", initial)
            if init.shape != (S,):
                raise ValueError(f"initial must have shape [S] = [{S}], got {init.shape}")
            check_simplex("initial", init)
        set_ = object.__setattr__
        set_(self, "phi", _freeze(phi_arr))
        set_(self, "theta", _freeze(theta_arr))
        set_(self, "mu0", _freeze(mu_arr))
        set_(self, "initial", _freeze(init))
        set_(self, "horizon", H)
        set_(self, "n_states", S)
        set_(self, "n_actions", A)
        set_(self, "dim", d)

    def rewards(self) -> np.ndarray:
        """``r_h(s, a) = <phi(s, a), theta_h>``: ``[H, S, A]``."""
        return np.einsum("sai,hi->hsa", self.phi, self.theta)

    def kernel(self, mu: Any = None) -> np.ndarray:
        """Transition kernel ``P_h(s' | s, a) = sum_i phi_i(s, a) mu_{h,i}(s')``: ``[H, S, A, S]``.

        Args:
            mu: factor distributions ``[H, d, S]`` (default: the nominal ``mu0``).
        """
        if mu is None:
            mu_arr = self.mu0
        else:
            mu_arr = as_float_array("mu", mu)
            if mu_arr.shape != self.mu0.shape:
                raise ValueError(f"mu must have shape {list(self.mu0.shape)}, got {list(mu_arr.shape)}")
            check_simplex("mu", mu_arr)
        return np.einsum("sai,hij->hsaj", self.phi, mu_arr)

    def nominal(self) -> TabularMDP:
        """The nominal MDP: ``P0_h = <phi, mu0_h>`` ``[H, S, A, S]``, ``R_h = <phi, theta_h>`` ``[H, S, A]``."""
        return TabularMDP(self.kernel(), self.rewards(), horizon=self.horizon, initial=self.initial)

    def __repr__(self) -> str:
        return f"DRectangularMDP(S={self.n_states}, A={self.n_actions}, d={self.dim}, H={self.horizon})"


def _check_model(model: Any) -> DRectangularMDP:
    if not isinstance(model, DRectangularMDP):
        raise TypeError(f"model must be a DRectangularMDP, got {type(model).__name__}")
    return model


def _as_d_policy(model: DRectangularMDP, policy: Any) -> tuple[np.ndarray, bool]:
    """Validate a deterministic ``[H, S]`` or stochastic ``[H, S, A]`` policy (dtype decides, as in rltheory)."""
    pol = np.asarray(policy)
    if pol.dtype == bool or not (np.issubdtype(pol.dtype, np.integer) or np.issubdtype(pol.dtype, np.floating)):
        raise TypeError(f"policy must be an integer (deterministic) or float (stochastic) array, got {pol.dtype}")
    H, S, A = model.horizon, model.n_states, model.n_actions
    if np.issubdtype(pol.dtype, np.integer):
        if pol.shape != (H, S):
            raise ValueError(f"policy is deterministic (integer) and must have shape [{H}, {S}], got {pol.shape}")
        bad = (pol < 0) | (pol >= A)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f"policy actions must lie in [0, {A}); policy{list(idx)} = {pol[idx]}")
        return pol.astype(np.int64), True
    if pol.shape != (H, S, A):
        raise ValueError(f"policy is stochastic (float) and must have shape [{H}, {S}, {A}], got {pol.shape}")
    pol = as_float_array("policy", pol)
    check_simplex("policy", pol)
    return pol, False


def _d_sweep(model: DRectangularMDP, lam: float, div: str, policy: np.ndarray | None, deterministic: bool):
    H, S, A = model.horizon, model.n_states, model.n_actions
    Vs = np.empty((H, S))
    Qs = np.empty((H, S, A))
    pis = np.empty((H, S), dtype=np.int64)
    for h in range(H - 1, -1, -1):
        coef = model.theta[h]
        if h < H - 1:  # V_H = 0 gives w_{H-1} = 0
            coef = coef + robust_expectation(Vs[h + 1][None, :], model.mu0[h], lam=lam, divergence=div)
        Q = model.phi @ coef
        if policy is None:
            V_h, pis[h] = bk.greedy(Q)
        else:
            V_h = bk.average(Q, policy[h], deterministic)
        Qs[h], Vs[h] = Q, V_h
    return Vs, Qs, pis


def d_rectangular_backward_induction(model: DRectangularMDP, *, lam: float, divergence: str) -> Solution:
    """Exact optimal robust regularized values ``V*^{,lam}`` of a d-rectangular linear RRMDP.

    ``V_H = 0``; for ``h = H-1, ..., 0``:
    ``w_{h,i} = inf_{mu in Delta(S)} E_mu[V_{h+1}] + lam D(mu || mu0_{h,i})`` (:func:`robust_expectation`, one
    per factor: the d-rectangular inner problem decouples, Prop. 4.1), ``Q_h = phi (theta_h + w_h)``,
    ``V_h = max_a Q_h``.

    Args:
        model: the :class:`DRectangularMDP`.
        lam: regularizer ``lam > 0``.
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"`` (``D_TV = 1/2 L1``, Pearson chi^2).

    Returns:
        :class:`~rltheory.tabular.Solution` with ``values [H, S]``, ``q_values [H, S, A]``, ``policy [H, S]``
        (a deterministic optimal policy, ties to the lowest action), ``method="d_rectangular_backward_induction"``.

    Reference:
        C. Tang, Z. Liu, P. Xu, "Robust Offline Reinforcement Learning with Linearly Structured f-Divergence
        Regularization", ICML 2025, arXiv:2411.18612, Prop. 3.3 and 4.1.
    """
    model = _check_model(model)
    lam = check_positive("lam", lam)
    divergence = check_divergence(divergence)
    t0 = time.perf_counter()
    V, Q, pi = _d_sweep(model, lam, divergence, None, True)
    return Solution(
        values=V,
        q_values=Q,
        policy=pi,
        method="d_rectangular_backward_induction",
        success=True,
        nit=model.horizon,
        message=f"exact ({divergence}, lam={lam:g})",
        elapsed=time.perf_counter() - t0,
    )


def d_rectangular_evaluate_policy(
    model: DRectangularMDP, policy: Any, *, lam: float, divergence: str
) -> PolicyEvaluation:
    """Exact robust regularized value ``V^{pi,lam}`` of a fixed policy in a d-rectangular linear RRMDP.

    ``Q^pi_h = phi (theta_h + w^pi_h)`` with ``w^pi_{h,i} = inf_mu E_mu[V^pi_{h+1}] + lam D(mu || mu0_{h,i})``,
    ``V^pi_h(s) = sum_a pi_h(a | s) Q^pi_h(s, a)``, ``V^pi_H = 0``. This equals the infimum over adversarial
    factor sequences ``mu_1, ..., mu_H`` of the expected return plus ``lam <phi(s_h, a_h), D(mu_h || mu0_h)>``
    (the per-factor minimisers do not depend on the state), which the tests check by direct search.

    Args:
        model: the :class:`DRectangularMDP`.
        policy: deterministic ``[H, S]`` integers or stochastic ``[H, S, A]`` probabilities.
        lam: regularizer ``lam > 0``.
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"``.

    Returns:
        :class:`~rltheory.tabular.PolicyEvaluation` with ``values [H, S]`` and ``q_values [H, S, A]``.

    Reference:
        Tang, Liu, Xu, ICML 2025, arXiv:2411.18612, Prop. 4.1.
    """
    model = _check_model(model)
    lam = check_positive("lam", lam)
    divergence = check_divergence(divergence)
    pol, deterministic = _as_d_policy(model, policy)
    V, Q, _ = _d_sweep(model, lam, divergence, pol, deterministic)
    return PolicyEvaluation(values=V, q_values=Q, method="d_rectangular_backward")


def d_rectangular_weights(model: DRectangularMDP, values: Any, *, lam: float, divergence: str) -> np.ndarray:
    """The robust weights ``w_h`` of Prop. 4.1 for given next-step values: ``Q_h = phi (theta_h + w_h)``.

    ``w_{h,i} = inf_mu E_mu[V_{h+1}] + lam D(mu || mu0_{h,i})`` for ``h < H-1`` and ``w_{H-1} = 0``; with the
    ``values`` of :func:`d_rectangular_backward_induction` (or of a policy evaluation) these are the exact targets
    that R2PVI's regression estimates ``w_h`` approach.

    Args:
        model: the :class:`DRectangularMDP`.
        values: ``V [H, S]`` (``values[h + 1]`` is used for step ``h``).
        lam: regularizer ``lam > 0``.
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"``.

    Returns:
        ``w [H, d]``.
    """
    model = _check_model(model)
    lam = check_positive("lam", lam)
    divergence = check_divergence(divergence)
    V = as_float_array("values", values)
    H, S, d = model.horizon, model.n_states, model.dim
    if V.shape != (H, S):
        raise ValueError(f"values must have shape [H, S] = [{H}, {S}], got {V.shape}")
    w = np.zeros((H, d))
    if H > 1:
        w[:-1] = robust_expectation(V[1:, None, :], model.mu0[:-1], lam=lam, divergence=divergence)
    return w
