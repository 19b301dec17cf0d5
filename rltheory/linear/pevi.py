r"""Pessimistic value iteration with linear features (PEVI), and the backward-induction driver that R2PVI and the
DRMDP baselines share.

Every method here computes, for ``h = H-1, ..., 0`` (zero-based; the papers count ``h = H, ..., 1``) with
``V_H = 0``,

    ``Qbar_h(s, a) = r_h(s, a) + phi(s, a)^T w_h``     (PEVI: ``phi(s, a)^T w_h``, rewards regressed from the data)
    ``Q_h(s, a)    = clip(Qbar_h(s, a) - Gamma_h(s, a))``,  ``V_h(s) = max_a Q_h(s, a)``,  ``pi_h(s) = argmax_a``

and differs only in the weight estimate ``w_h`` (an *operator* on ``V_{h+1}``, passed to the driver) and the
penalty ``Gamma_h``. PEVI (Jin, Yang, Wang 2021, Algorithm 2):

    ``w_h = Lambda_h^{-1} sum_tau phi_tau (r_tau + V_{h+1}(s'_tau))``,
    ``Gamma_h = beta sqrt(phi^T Lambda_h^{-1} phi)``,
    ``Q_h = min(Qbar_h - Gamma_h, H - h)^+``  (``H - h`` remaining steps, zero-based; ``H - h + 1`` one-based).

Clipping (``clip=``): ``"paper"`` is ``min(., cap_h)^+`` with ``cap_h = reward_max (H - h)``; ``"code"`` is the
R2PVI official code's ``min(., cap_h)`` without the floor at 0 (Tang, Liu, Xu, code HEAD 2ea039d,
``get_Q_func``). ``q_max`` replaces the caps by any ``[H, S, A]`` array (e.g. ``inf`` for an action whose value is
a known terminal payoff, as the official put-option code never caps its exercise value). ``zero_states`` forces
``Q_h(s, .) = 0`` at known absorbing zero-reward states (the official code's ``fail_state``); with the paper's
floor such states get 0 anyway when unexplored.

Ties in the argmax go to the lowest action index. The state space is finite (``phi`` is ``[S, A, d]``); a
continuous problem is handled by enumerating its reachable states (see :func:`mdps.robust.american_put_option`).

References:
    Y. Jin, Z. Yang, Z. Wang, "Is Pessimism Provably Efficient for Offline RL?", ICML 2021, arXiv:2012.15085,
    Algorithm 2 (PEVI) with the linear-MDP penalty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rltheory.linear.ridge import RidgeStatistics, ridge_statistics
from rltheory.validation import ArgumentTypeError, choice, real_array, real_scalar

__all__ = ["PVI_CLIPS", "OfflineSolution", "pessimistic_backward_induction", "pevi"]

#: ``"paper"``: ``min(Qbar - Gamma, cap_h)^+``; ``"code"``: ``min(Qbar - Gamma, cap_h)`` (no floor).
PVI_CLIPS = ("paper", "code")

#: ``estimate(h, V_next) -> (w_h [d], objective evaluations)``: the weight operator of one method.
Estimator = Callable[[int, np.ndarray], tuple[np.ndarray, int]]


@dataclass(frozen=True, eq=False)
class OfflineSolution:
    """The output of an offline pessimistic value-iteration method.

    Attributes:
        policy: greedy policy ``[H, S]`` (int64; ties to the lowest action).
        values: ``V_h`` ``[H, S]``.
        q_values: ``Q_h`` ``[H, S, A]`` after penalty and clipping.
        weights: ``w_h`` ``[H, d]``: the regression weights (PEVI) or the robust part added to the known reward
            (R2PVI: the paper's ``hat w_h^lambda``; ``Q_h = r_h + phi^T w_h - Gamma_h`` before clipping).
        penalty: ``Gamma_h`` ``[H, S, A]``.
        beta: the penalty scale used.
        method: e.g. ``"pevi"``, ``"r2pvi-tv"``.
        options: every switch used (divergence, lam, clip, penalty variant, solvers, ...).
        nfev: objective evaluations of iterative inner solvers (0 for closed forms and exact piecewise solves).
        elapsed: seconds spent (ridge statistics included when the method computed them).
    """

    policy: np.ndarray
    values: np.ndarray
    q_values: np.ndarray
    weights: np.ndarray
    penalty: np.ndarray
    beta: float
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    nfev: int = 0
    elapsed: float = 0.0


# ----------------------------------------------------------------------------------------------- validation
def check_features(phi: Any, *, simplex: bool) -> np.ndarray:
    """``phi`` as a finite float ``[S, A, d]`` array; with ``simplex=True`` every ``phi[s, a]`` must be
    non-negative and sum to 1 within ``1e-10`` (Assumption 3.1 of Tang, Liu, Xu), else ``ValueError`` naming the
    first offending ``(s, a)``."""
    arr = real_array("phi", phi, finite=False)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(f"phi must have shape [S, A, d], got {list(arr.shape)}")
    if not np.isfinite(arr).all():
        raise ValueError("phi must be finite")
    if simplex:
        neg = (arr < 0).any(axis=-1)
        off = np.abs(arr.sum(axis=-1) - 1.0) > 1e-10
        bad = neg | off
        if bad.any():
            s, a = (int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"phi must lie on the probability simplex (phi_i >= 0, sum_i phi_i = 1; Assumption 3.1 of "
                f"Tang, Liu, Xu 2025); phi[{s}, {a}] = {arr[s, a]!r} (sum {arr[s, a].sum()!r}). Pass "
                "simplex_features=False to run with approximate features (the theory then does not apply)."
            )
    return arr


def check_rewards(rewards: Any, H: int, S: int, A: int) -> np.ndarray:
    """Known mean rewards ``[H, S, A]`` (or ``[S, A]`` for every step), finite.

    A callable (e.g. the bound method ``DRectangularMDP.rewards`` passed without calling it) is rejected with a
    ``TypeError`` naming ``rewards``."""
    if callable(rewards) and not isinstance(rewards, np.ndarray):
        raise ArgumentTypeError(
            f"rewards must be an array [H, S, A] or [S, A], got the callable {rewards!r}: call it "
            "(e.g. rewards=model.rewards(), not rewards=model.rewards)",
            "rewards",
        )
    arr = real_array("rewards", rewards, finite=False)
    if arr.shape == (S, A):
        arr = np.broadcast_to(arr, (H, S, A))
    if arr.shape != (H, S, A):
        raise ValueError(f"rewards must have shape [H, S, A] = [{H}, {S}, {A}] or [S, A], got {list(arr.shape)}")
    if not np.isfinite(arr).all():
        raise ValueError("rewards must be finite")
    return arr


def check_scalar(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite real ``>= 0`` (``> 0`` with ``positive``), or ``ValueError`` naming it
    (:func:`rltheory.validation.real_scalar`)."""
    return real_scalar(name, value, positive=positive, nonneg=True)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``, or ``ValueError`` listing them (:func:`rltheory.validation.choice`)."""
    return choice(name, value, choices)


def check_states(name: str, states: Any, S: int) -> np.ndarray:
    if states is None:
        return np.zeros(0, dtype=np.int64)
    arr = np.atleast_1d(np.asarray(states))
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= S):
        raise ValueError(f"{name} must hold state indices in [0, {S}), got {states!r}")
    return arr.astype(np.int64).ravel()


def check_caps(q_max: Any, H: int, S: int, A: int) -> np.ndarray | None:
    """``q_max`` broadcast to ``[H, S, A]`` (non-negative, ``inf`` allowed), or None."""
    if q_max is None:
        return None
    arr = real_array("q_max", q_max, finite=False)
    try:
        arr = np.broadcast_to(arr, (H, S, A))
    except ValueError:
        raise ValueError(f"q_max must broadcast to [H, S, A] = [{H}, {S}, {A}], got {list(arr.shape)}") from None
    if np.isnan(arr).any() or (arr < 0).any():
        raise ValueError("q_max must be non-negative (inf allowed)")
    return arr


def statistics_for(data: Any, phi: np.ndarray, ridge: float, stats: RidgeStatistics | None) -> RidgeStatistics:
    """The given precomputed statistics (checked against ``phi`` and ``ridge``), or new ones."""
    if stats is None:
        return ridge_statistics(data, phi, ridge=ridge)
    if not isinstance(stats, RidgeStatistics):
        raise TypeError(f"stats must be a RidgeStatistics, got {type(stats).__name__}")
    if stats.dim != phi.shape[2] or stats.n_states != phi.shape[0] or stats.ridge != ridge:
        raise ValueError(
            f"stats were computed for d={stats.dim}, S={stats.n_states}, ridge={stats.ridge}; "
            f"this call has d={phi.shape[2]}, S={phi.shape[0]}, ridge={ridge}"
        )
    return stats


# ----------------------------------------------------------------------------------------------- driver
def pessimistic_backward_induction(
    phi: np.ndarray,
    estimate: Estimator,
    penalty: np.ndarray,
    *,
    rewards: np.ndarray | None,
    clip: str = "paper",
    reward_max: float = 1.0,
    zero_states: np.ndarray | None = None,
    q_max: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Backward induction ``Q_h = clip(r_h + phi w_h - Gamma_h)`` with ``w_h = estimate(h, V_{h+1})``.

    Args:
        phi: features ``[S, A, d]``.
        estimate: the weight operator; called with ``V_{h+1}`` ``[S]`` (zeros at ``h = H-1``).
        penalty: ``Gamma`` ``[H, S, A]``.
        rewards: known rewards ``[H, S, A]`` added to ``phi w`` (None for PEVI, whose ``w`` already regresses them).
        clip: ``"paper"`` or ``"code"`` (see :data:`PVI_CLIPS`).
        reward_max: rewards lie in ``[0, reward_max]``; the cap is ``reward_max (H - h)``.
        zero_states: states whose values are fixed at 0.
        q_max: caps ``[H, S, A]`` replacing ``reward_max (H - h)``, or None.

    Returns:
        ``(Q [H, S, A], V [H, S], policy [H, S], w [H, d], nfev)``.
    """
    H = penalty.shape[0]
    S, A, d = phi.shape
    Q = np.empty((H, S, A))
    V = np.empty((H, S))
    pi = np.empty((H, S), dtype=np.int64)
    W = np.empty((H, d))
    nfev = 0
    V_next = np.zeros(S)
    for h in range(H - 1, -1, -1):
        w, n = estimate(h, V_next)
        nfev += n
        W[h] = w
        q = phi @ w - penalty[h]
        if rewards is not None:
            q += rewards[h]
        q = np.minimum(q, reward_max * (H - h) if q_max is None else q_max[h])
        if clip == "paper":
            q = np.maximum(q, 0.0)
        if zero_states is not None and zero_states.size:
            q[zero_states] = 0.0
        Q[h] = q
        pi[h] = np.argmax(q, axis=1)
        V[h] = q[np.arange(S), pi[h]]
        V_next = V[h]
    return Q, V, pi, W, nfev


def elliptical_penalty(stats: RidgeStatistics, phi: np.ndarray, beta: float) -> np.ndarray:
    """PEVI's ``Gamma_h(s, a) = beta sqrt(phi(s, a)^T Lambda_h^{-1} phi(s, a))`` ``[H, S, A]`` (triangular solves)."""
    H = stats.horizon
    out = np.empty((H,) + phi.shape[:2])
    for h in range(H):
        out[h] = beta * np.sqrt(stats.quadratic_form(h, phi))
    return out


def pevi(
    data: Any,
    phi: Any,
    *,
    rewards: Any = None,
    beta: float = 1.0,
    ridge: float = 1.0,
    clip: str = "paper",
    reward_max: float = 1.0,
    q_max: Any = None,
    zero_states: Any = None,
    stats: RidgeStatistics | None = None,
) -> OfflineSolution:
    """Pessimistic value iteration (PEVI) with linear function approximation, the non-robust baseline.

    ``w_h = Lambda_h^{-1} sum_tau phi_tau (r_tau + V_{h+1}(s'_tau))``, ``Lambda_h = sum_tau phi_tau phi_tau^T +
    gamma I``, ``Gamma_h = beta ||phi||_{Lambda_h^{-1}}``, ``Q_h = min(phi^T w_h - Gamma_h, H - h)^+``,
    ``V_h = max_a Q_h`` (zero-based ``h``). The rewards are regressed from the data, unless the reward function is
    given (``rewards``): then ``w_h = Lambda_h^{-1} sum_tau phi_tau V_{h+1}(s'_tau)`` and ``Q_h = min(r_h + phi^T w_h -
    Gamma_h, H - h)^+``, the convention of R2PVI (known ``theta_h``) and of the official put-option code (known
    exercise payoff).

    Args:
        data: offline dataset (``states``, ``actions``, ``rewards``, ``next_states`` ``[N, H]``; optional
            ``weights``); see :class:`~rltheory.linear.OfflineData`.
        phi: features ``[S, A, d]`` (any real features).
        rewards: known rewards ``[H, S, A]`` (or ``[S, A]``), or None to regress the observed ones.
        beta: penalty scale ``>= 0``.
        ridge: ``gamma > 0``.
        clip: ``"paper"`` (``min(., H - h)^+``) or ``"code"`` (no floor, as in the R2PVI official code).
        reward_max: rewards lie in ``[0, reward_max]`` (the cap is ``reward_max (H - h)``).
        q_max: per-``(h, s, a)`` caps replacing ``reward_max (H - h)`` (broadcast to ``[H, S, A]``), or None.
        zero_states: states whose value is known to be 0 (absorbing, zero reward), or None.
        stats: precomputed :func:`~rltheory.linear.ridge_statistics` for this ``data``, ``phi`` and ``ridge``.

    Returns:
        :class:`OfflineSolution` with ``method="pevi"``.

    Reference:
        Y. Jin, Z. Yang, Z. Wang, "Is Pessimism Provably Efficient for Offline RL?", ICML 2021, arXiv:2012.15085,
        Algorithm 2.
    """
    t0 = time.perf_counter()
    phi_arr = check_features(phi, simplex=False)
    beta = check_scalar("beta", beta)
    ridge = check_scalar("ridge", ridge, positive=True)
    clip = check_choice("clip", clip, PVI_CLIPS)
    reward_max = check_scalar("reward_max", reward_max, positive=True)
    zs = check_states("zero_states", zero_states, phi_arr.shape[0])
    st = statistics_for(data, phi_arr, ridge, stats)
    penalty = elliptical_penalty(st, phi_arr, beta)
    H = st.horizon
    S, A, _ = phi_arr.shape
    R = None if rewards is None else check_rewards(rewards, H, S, A)
    caps = check_caps(q_max, H, S, A)

    def estimate(h: int, V_next: np.ndarray) -> tuple[np.ndarray, int]:
        w = st.reward_coef[h].copy() if R is None else np.zeros(st.dim)
        if h < H - 1:
            w += st.mu_hat[h] @ V_next
        return w, 0

    Q, V, pi, W, nfev = pessimistic_backward_induction(
        phi_arr, estimate, penalty, rewards=R, clip=clip, reward_max=reward_max, zero_states=zs, q_max=caps
    )
    return OfflineSolution(
        policy=pi,
        values=V,
        q_values=Q,
        weights=W,
        penalty=penalty,
        beta=beta,
        method="pevi",
        options={"ridge": ridge, "clip": clip, "reward_max": reward_max, "known_rewards": R is not None},
        nfev=nfev,
        elapsed=time.perf_counter() - t0,
    )
