r"""R2PVI: robust regularized pessimistic value iteration for d-rectangular linear RRMDPs (TV, KL, Pearson chi^2).

Tang, Liu & Xu (ICML 2025) learn, from offline data of the nominal MDP, a policy for the d-rectangular robust
regularized MDP ``V^{pi,lam}``. With the ridge estimate ``M_h = Lambda_h^{-1} sum_tau phi_tau e_{s'_tau}^T``
(:class:`~rltheory.linear.RidgeStatistics`; ``M_h f`` is the paper's ``Lambda_h^{-1} sum_tau phi_tau
f(s_{h+1}^tau)``), every step ``h = H-1, ..., 0`` (zero-based; ``V_H = 0``) computes (Algorithms 1-4)

    ``Q_h(s, a) = min(r_h(s, a) + phi(s, a)^T w_h - Gamma_h(s, a), H - h)^+``,   ``V_h = max_a Q_h``,
    ``Gamma_h(s, a) = beta sum_i ||phi_i(s, a) 1_i||_{Lambda_h^{-1}}
                  = beta sum_i phi_i(s, a) sqrt([Lambda_h^{-1}]_ii)``,

(``r_h = <phi, theta_h>`` is known) with the divergence-specific "duality estimation" of the robust weight ``w_h``
(``V = V_{h+1}``, ``[x]_alpha = min(x, alpha)``):

* **TV** (Alg. 2): ``w_h = M_h [V]_alpha``, ``alpha = min_{s in S} V(s) + lam``.
* **KL** (Alg. 3): ``w_h = -lam log max(M_h e^{-V/lam}, e^{-H/lam})`` (elementwise). Computed per coordinate
  by a signed log-sum-exp (:func:`kl_duality_weights`): each row of ``M_h`` is shifted by its own dominant term
  ``max_s log|M_h[i, s]| - V(s)/lam``, so no term underflows at any ``lam`` (``e^{-V/lam}`` itself turns the
  official code's weights into ``inf``/NaN at small ``lam``, and one shift by the smallest sampled value for all
  coordinates still underflows for a coordinate whose weights sit on larger values). ``H`` where the regression
  is ``<= e^{-H/lam}``; a row whose signed terms cancel below float64 precision is reported with a
  :class:`PrecisionWarning` naming the coordinates and ``lam``.
* **chi^2** (Alg. 4): per coordinate ``w_{h,i} = sup_{alpha in [min V, max V]} E1 + E1^2/(4 lam) - E2/(4 lam)``
  with ``E1 = clip([M_h [V]_alpha]_i, 0, H)``, ``E2 = clip([M_h [V]_alpha^2]_i, 0, H^2)``. Solved **exactly**:
  between consecutive sorted sampled values of ``V`` both regressions are polynomials in ``alpha``
  (``E1 = a + b alpha``, ``E2 = c + b alpha^2``), so the objective is a piecewise quadratic whose pieces are
  further cut where a clip starts to bind; its maximum is attained at a piece end, a clip point
  (``-a/b``, ``(H - a)/b``, ``sqrt(-c/b)``, ``sqrt((H^2 - c)/b)``) or a stationary point
  (``(a + 2 lam)/(1 - b)``, ``(-2 lam - a)/b``). All candidates are evaluated at once, vectorised over the
  coordinates: no Nelder-Mead.

At ``h = H-1`` the next values are 0 and every robust weight is exactly 0 (the dual of the zero function); the
estimators are not run there.

Where the official code (``panxulab/Robust-Regularized-Pessimistic-Value-Iteration`` HEAD 2ea039d) differs, its
variant is a named option; the paper's choice is the default:

=====================  =========================================  ============================================
option                 paper (default)                            official code
=====================  =========================================  ============================================
``penalty``            ``"paper"``: ``beta sum_i phi_i            ``"code"``: ``beta sqrt(sum_i phi_i^2
                       sqrt([Lambda^{-1}]_ii)``                   [Lambda^{-1}]_ii)`` (smaller)
``clip``               ``"paper"``: ``min(., H - h)^+``            ``"code"``: ``min(., H - h)``, no floor
``tv_threshold``       ``"states"``: ``min`` over all states        ``"samples"``: ``min`` over the sampled
                                                                  next states
``chi2_solver``        ``"exact"`` (piecewise solve above)         ``"nelder-mead"``: scipy Nelder-Mead from
                                                                  ``H/2`` on ``[0, H]`` maximising (American
                                                                  put code); ``"nelder-mead-min"``: the
                                                                  simulated-MDP code, which *minimises* the
                                                                  objective (a sign error, for comparison only)
``chi2_clip``          ``True``: clip ``E1``, ``E2`` to            ``False``: no clipping
                       ``[0, H]``, ``[0, H^2]``
=====================  =========================================  ============================================

The maximising Nelder-Mead starts at ``H/2``; where ``max V < H/2`` the objective is flat there (``[V]_alpha = V``
for ``alpha >= max V``), the simplex stops at once and returns the value at ``max V``, missing the supremum (47% of
coordinates on random instances, ``benchmarks/r2pvi_chi2_nelder_mead.py``). The option reproduces the code's
behaviour, this included. The Nelder-Mead paths re-run the sample-level regression ``Lambda^{-1} Phi^T g(V)``
at every objective evaluation, as the official code does (``N d + d^2`` work per evaluation); they are
re-implemented from the description, not copied. ``beta="theorem"`` takes ``beta`` from Theorem 5.2
(:func:`rltheory.bounds.r2pvi.r2pvi_beta`, which needs ``delta``).

Normalisations: ``D_TV = 1/2 ||.||_1``, Pearson ``chi^2`` (see :mod:`rltheory.robust`).

Reference:
    C. Tang, Z. Liu, P. Xu, "Robust Offline Reinforcement Learning with Linearly Structured f-Divergence
    Regularization", ICML 2025 (PMLR 267), arXiv:2411.18612, Algorithms 1-4, Theorem 5.2.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
from scipy.optimize import minimize

from rltheory.linear.pevi import (
    PVI_CLIPS,
    Estimator,
    OfflineSolution,
    check_caps,
    check_choice,
    check_features,
    check_rewards,
    check_scalar,
    check_states,
    pessimistic_backward_induction,
    statistics_for,
)
from rltheory.linear.ridge import RidgeStatistics

__all__ = [
    "CHI2_SOLVERS",
    "PENALTIES",
    "TV_THRESHOLDS",
    "PrecisionWarning",
    "chi2_regression_sup",
    "coordinate_penalty",
    "kl_duality_weights",
    "r2pvi",
]

DIVERGENCES = ("tv", "kl", "chi2")
#: ``"paper"``: ``beta sum_i |phi_i| sqrt([Lambda^{-1}]_ii)``;
#: ``"code"``: ``beta sqrt(sum_i phi_i^2 [Lambda^{-1}]_ii)``.
PENALTIES = ("paper", "code")
#: ``"states"``: ``alpha = min_{s in S} V(s) + lam``; ``"samples"``: the min over sampled next states.
TV_THRESHOLDS = ("states", "samples")
#: The chi^2 inner solver: exact piecewise solve, or the official code's Nelder-Mead (maximising / minimising).
CHI2_SOLVERS = ("exact", "nelder-mead", "nelder-mead-min")


# ----------------------------------------------------------------------------------------------- penalties
def coordinate_penalty(stats: RidgeStatistics, phi: np.ndarray, beta: float, *, variant: str = "paper") -> np.ndarray:
    """The d-rectangular penalty ``Gamma_h(s, a)`` ``[H, S, A]``.

    ``"paper"``: ``beta sum_i ||phi_i 1_i||_{Lambda_h^{-1}} = beta sum_i |phi_i| sqrt([Lambda_h^{-1}]_ii)``
    (Tang, Liu, Xu 2025; also DRPVI's, Liu & Xu 2024); ``"code"``: ``beta sqrt(sum_i phi_i^2
    [Lambda_h^{-1}]_ii)`` (the official code's ``phi @ diag(diag(Lambda^{-1})) @ phi``). ``diag(Lambda_h^{-1})``
    comes from the Cholesky factor (:meth:`RidgeStatistics.inverse_diagonal`).
    """
    variant = check_choice("penalty", variant, PENALTIES)
    inv = stats.inverse_diagonal()  # [H, d]
    if variant == "paper":
        return beta * np.einsum("sai,hi->hsa", np.abs(phi), np.sqrt(inv))
    return beta * np.sqrt(np.einsum("sai,hi->hsa", phi * phi, inv))


# ----------------------------------------------------------------------------------------------- chi^2, exact
def _pieces(M: np.ndarray, V: np.ndarray, support: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct sampled values ``u [J]`` and the columns of ``M`` summed per value ``[d, J]``."""
    vs = V[support]
    u, inv = np.unique(vs, return_inverse=True)
    Mu = np.zeros((M.shape[0], u.size))
    np.add.at(Mu.T, inv, M[:, support].T)
    return u, Mu


def chi2_regression_sup(
    M: np.ndarray,
    V: np.ndarray,
    support: np.ndarray,
    *,
    lam: float,
    lo: float,
    hi: float,
    cap: float | None,
    return_alpha: bool = False,
) -> Any:
    """``sup_{alpha in [lo, hi]} E1 + E1^2/(4 lam) - E2/(4 lam)`` per coordinate, exactly (R2PVI-chi^2's step).

    ``E1(alpha) = [M [V]_alpha]_i`` and ``E2(alpha) = [M [V]_alpha^2]_i``, each clipped to ``[0, cap]`` and
    ``[0, cap^2]`` unless ``cap`` is None. Only the columns of ``M`` in ``support`` enter (the sampled next
    states). See the module docstring for the piecewise solve.

    Args:
        M: ``[d, S]`` (e.g. ``RidgeStatistics.mu_hat[h]``).
        V: next-step values ``[S]``.
        support: ``[S]`` bool mask of the sampled next states.
        lam: ``lam > 0``.
        lo, hi: the range of ``alpha`` (the paper: ``min V`` and ``max V`` over all states); ``lo <= min`` and
            ``hi >= max`` of the sampled values.
        cap: the clip level (``H``), or None for no clipping.
        return_alpha: also return the maximisers.

    Returns:
        ``[d]`` (and the maximising ``alpha`` ``[d]`` with ``return_alpha``).
    """
    d = M.shape[0]
    u, Mu = _pieces(M, V, support)
    J = u.size
    if J == 0:
        return (np.zeros(d), np.full(d, lo)) if return_alpha else np.zeros(d)
    floor = -np.inf if cap is None else 0.0
    c1 = np.inf if cap is None else float(cap)
    c2 = np.inf if cap is None else float(cap) ** 2
    # piece k (k = 0..J-1) is [left_k, u_k] with left_0 = lo, left_k = u_{k-1}; there [V]_alpha = V below left_k
    left = np.concatenate([[lo], u[:-1]])
    right = u
    below1 = np.concatenate([np.zeros((d, 1)), np.cumsum(Mu * u, axis=1)[:, :-1]], axis=1)  # a_k
    below2 = np.concatenate([np.zeros((d, 1)), np.cumsum(Mu * u * u, axis=1)[:, :-1]], axis=1)  # c_k
    total = Mu.sum(axis=1, keepdims=True)
    above = total - np.concatenate([np.zeros((d, 1)), np.cumsum(Mu, axis=1)[:, :-1]], axis=1)  # b_k
    a, b, c = below1[:, :, None], above[:, :, None], below2[:, :, None]
    L, R = left[None, :, None], right[None, :, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cand = np.concatenate(
            [
                -a / b,
                (c1 - a) / b,
                np.sqrt(-c / b),
                np.sqrt((c2 - c) / b),
                (a + 2.0 * lam) / (1.0 - b),
                (-2.0 * lam - a) / b,
            ],
            axis=2,
        )
    cand = np.where(np.isfinite(cand), cand, L)
    cand = np.concatenate([np.broadcast_to(L, (d, J, 1)), np.broadcast_to(R, (d, J, 1)), cand], axis=2)
    alpha = np.clip(cand, L, R)
    E1 = np.clip(a + b * alpha, floor, c1)
    E2 = np.clip(c + b * alpha * alpha, floor, c2)
    f = E1 + (E1 * E1 - E2) / (4.0 * lam)
    flat = f.reshape(d, -1)
    k = flat.argmax(axis=1)
    best = flat[np.arange(d), k]
    # beyond the largest sampled value both regressions are constant: the value at u_{J-1} (already a candidate)
    if return_alpha:
        return best, alpha.reshape(d, -1)[np.arange(d), k]
    return best


# ----------------------------------------------------------------------------------------------- Nelder-Mead path
def nelder_mead_coordinates(
    stats: RidgeStatistics,
    h: int,
    V: np.ndarray,
    objective: Any,
    *,
    x0: float,
    bounds: tuple[float, float],
    maximise: bool = True,
) -> tuple[np.ndarray, int]:
    """The official code's inner solve, per coordinate: ``scipy.optimize.minimize(method="Nelder-Mead")`` from
    ``x0`` within ``bounds``, where each evaluation re-runs the sample-level ridge regressions.

    Args:
        stats: ridge statistics (the per-sample features and next states are used).
        h: step.
        V: next-step values ``[S]``.
        objective: ``objective(regress, targets, x) -> [d]``, the values of all coordinates at the scalar ``x``,
            where ``targets = V(s'_tau)`` ``[N]`` and ``regress(y)`` is ``Lambda_h^{-1} Phi_h^T (w y)``.
        x0, bounds: start and bounds of the search.
        maximise: maximise the objective (return the max found) or minimise it (return the min found).

    Returns:
        ``(values [d], function evaluations)``.
    """
    targets = V[stats.next_states[h]]
    d = stats.dim
    out = np.empty(d)
    nfev = 0
    sign = -1.0 if maximise else 1.0

    def regress(y: np.ndarray) -> np.ndarray:
        return stats.regress(h, y)

    for i in range(d):

        def fun(x: np.ndarray, i: int = i) -> float:
            return sign * float(objective(regress, targets, float(x[0]))[i])

        res = minimize(fun, np.array([x0]), method="Nelder-Mead", bounds=[bounds])
        nfev += int(res.nfev)
        out[i] = sign * float(res.fun)
    return out, nfev


# ----------------------------------------------------------------------------------------------- estimators
def tv_estimator(stats: RidgeStatistics, lam: float, *, threshold: str = "states") -> Estimator:
    """R2PVI-TV's ``w_h = M_h [V_{h+1}]_alpha``, ``alpha = min V_{h+1} + lam`` (over all states or the samples)."""

    def estimate(h: int, V: np.ndarray) -> tuple[np.ndarray, int]:
        m = V.min() if threshold == "states" else V[stats.support[h]].min(initial=np.inf)
        if not np.isfinite(m):
            return np.zeros(stats.dim), 0
        return stats.mu_hat[h] @ np.minimum(V, m + lam), 0

    return estimate


class PrecisionWarning(RuntimeWarning):
    """A result that float64 cannot give to the stated accuracy; the message names the coordinate and the knob."""


def kl_duality_weights(M: np.ndarray, v: np.ndarray, lam: float, *, cap: float) -> tuple[np.ndarray, np.ndarray]:
    """R2PVI-KL's robust weight per coordinate, ``w_i = -lam log max(sum_s M[i, s] e^{-v_s / lam}, e^{-cap/lam})``,
    by a signed log-sum-exp shifted per coordinate.

    ``M`` is a ridge regression, so its rows have entries of both signs and of very different sizes. Each row is
    evaluated as ``e^{T_i} sum_s sign(M[i, s]) e^{t_s - T_i}`` with ``t_s = log|M[i, s]| - v_s / lam`` and ``T_i``
    the row's largest ``t_s``: the dominant term is exactly ``+-1``, so nothing underflows, whatever ``lam``. (A
    single shift by ``min_s v_s`` over all sampled states, as before, underflows to ``0`` for every term of a
    coordinate whose regression weights only sit on states well above that minimum; the clip then returned ``cap``
    in place of the true weight, e.g. 20 instead of 6.86-9.51 on the American put at ``lam = 1e-3``.)

    A row whose positive and negative terms cancel to within float64's rounding of the sum has no reliable value:
    each term carries the rounding of its exponent (absolute ``eps (|t_s| + |T_i|)``, large when ``V / lam`` is)
    and the sum that of ``n`` additions, so the error bound is ``8 eps sum_s |term_s| (n + |t_s| + |T_i|)``; where
    ``|sum|`` is within it and the uncertainty reaches a weight below ``cap``, the weight cannot be computed in
    float64, and the coordinate is flagged.

    Args:
        M: ``[d, n]`` regression weights on the sampled next states.
        v: ``[n]`` their values.
        lam: ``lam > 0``.
        cap: the floor ``e^{-cap/lam}``'s exponent (``H`` for rewards in ``[0, 1]``).

    Returns:
        ``(w [d], unreliable [d] bool)``; ``w`` is ``cap`` where the regression is ``<= e^{-cap/lam}`` (the paper's
        max), including rows that are exactly zero.
    """
    M = np.asarray(M, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    d, n = M.shape
    with np.errstate(divide="ignore"):
        t = np.log(np.abs(M)) - v[None, :] / lam  # -inf where M == 0
    T = t.max(axis=1, initial=-np.inf)
    live = np.isfinite(T)
    Tl = np.where(live, T, 0.0)
    e = np.exp(t - Tl[:, None])  # in [0, 1], exactly 1 at each row's dominant term
    signed = (np.sign(M) * e).sum(axis=1)
    # rounding of the sum (n terms) and of each exponent t_s - T_i, whose absolute error ~ eps (|t_s| + |T_i|)
    # becomes a relative error of its term: both bound what cancellation can leave of the sum
    t_mag = np.where(np.isfinite(t), np.abs(t), 0.0) + np.abs(Tl)[:, None]
    err = 8.0 * np.finfo(np.float64).eps * (e * (n + t_mag)).sum(axis=1)
    w = np.full(d, float(cap))
    pos = live & (signed > 0)
    with np.errstate(divide="ignore"):
        w[pos] = np.minimum(-lam * (Tl[pos] + np.log(signed[pos])), cap)
        # the smallest weight any sum within the rounding error could give
        w_low = -lam * (Tl + np.log(np.maximum(np.abs(signed), 0.0) + err))
    unreliable = live & (np.abs(signed) <= err) & (w_low < cap)
    return w, unreliable


def kl_estimator(stats: RidgeStatistics, lam: float, *, cap: float) -> Estimator:
    """R2PVI-KL's ``w_h = -lam log max(M_h e^{-V/lam}, e^{-cap/lam})``, by :func:`kl_duality_weights` (a signed
    log-sum-exp shifted per coordinate); warns with :class:`PrecisionWarning` naming the step, coordinates and
    ``lam`` where float64 cannot give a weight."""

    def estimate(h: int, V: np.ndarray) -> tuple[np.ndarray, int]:
        supp = stats.support[h]
        if not supp.any():
            return np.full(stats.dim, cap), 0
        w, bad = kl_duality_weights(stats.mu_hat[h][:, supp], V[supp], lam, cap=cap)
        if bad.any():
            warnings.warn(
                f"R2PVI-KL at lam={lam:g}, step h={h} (zero-based): the regression sums of coordinates "
                f"{np.flatnonzero(bad).tolist()} cancel below float64 precision; their weights "
                f"{w[bad].round(6).tolist()} are not reliable (a larger lam avoids it)",
                PrecisionWarning,
                stacklevel=2,
            )
        return w, 0

    return estimate


def chi2_estimator(stats: RidgeStatistics, lam: float, *, cap: float, solver: str, clip: bool) -> Estimator:
    """R2PVI-chi^2's per-coordinate ``sup_alpha`` (exact, or the official code's Nelder-Mead)."""
    cap_or_none = cap if clip else None

    def estimate(h: int, V: np.ndarray) -> tuple[np.ndarray, int]:
        if solver == "exact":
            w = chi2_regression_sup(
                stats.mu_hat[h], V, stats.support[h], lam=lam, lo=float(V.min()), hi=float(V.max()), cap=cap_or_none
            )
            return w, 0

        def objective(regress: Any, targets: np.ndarray, alpha: float) -> np.ndarray:
            t = np.minimum(targets, alpha)
            z = regress(t)
            z2 = regress(t * t)
            if clip:
                z, z2 = np.clip(z, 0.0, cap), np.clip(z2, 0.0, cap * cap)
            return z + z * z / (4.0 * lam) - z2 / (4.0 * lam)

        return nelder_mead_coordinates(
            stats, h, V, objective, x0=cap / 2.0, bounds=(0.0, cap), maximise=(solver == "nelder-mead")
        )

    return estimate


def resolve_beta(beta: Any, *, divergence: str, delta: Any, H: int, d: int, K: int, lam: float) -> float:
    """``beta`` as given, or Theorem 5.2's value when ``beta == "theorem"`` (needs ``delta``)."""
    if isinstance(beta, str):
        if beta != "theorem":
            raise ValueError(f"beta must be a number >= 0 or 'theorem', got {beta!r}")
        if delta is None:
            raise ValueError("beta='theorem' needs delta (the failure probability of Theorem 5.2)")
        from rltheory.bounds.r2pvi import r2pvi_beta

        return float(r2pvi_beta(divergence, H=H, d=d, K=K, lam=lam, delta=delta))
    return check_scalar("beta", beta)


def r2pvi(
    data: Any,
    phi: Any,
    rewards: Any,
    *,
    divergence: str,
    lam: float,
    beta: float | str = 1.0,
    delta: float | None = None,
    ridge: float = 1.0,
    penalty: str = "paper",
    clip: str = "paper",
    tv_threshold: str = "states",
    chi2_solver: str = "exact",
    chi2_clip: bool = True,
    reward_max: float = 1.0,
    q_max: Any = None,
    zero_states: Any = None,
    simplex_features: bool = True,
    stats: RidgeStatistics | None = None,
) -> OfflineSolution:
    """R2PVI (Tang, Liu, Xu 2025): pessimistic value iteration for the d-rectangular linear RRMDP.

    ``Q_h = min(r_h + phi^T w_h - Gamma_h, H - h)^+`` with the robust weight ``w_h`` of the divergence and the
    per-coordinate penalty ``Gamma_h = beta sum_i phi_i sqrt([Lambda_h^{-1}]_ii)`` (module docstring: formulas,
    exact chi^2 solve, official-code variants).

    Args:
        data: offline dataset of the nominal MDP (``states``, ``actions``, ``rewards``, ``next_states`` ``[N, H]``,
            optional ``weights``); the rows are the ``K`` trajectories of the paper.
        phi: features ``[S, A, d]``, on the probability simplex unless ``simplex_features=False``.
        rewards: the known reward function ``r_h(s, a) = <phi(s, a), theta_h>`` ``[H, S, A]`` (or ``[S, A]``).
        divergence: ``"tv"``, ``"kl"`` or ``"chi2"``.
        lam: regularizer ``lam > 0``.
        beta: penalty scale ``>= 0``, or ``"theorem"`` for Theorem 5.2's value (with ``delta``).
        delta: failure probability, used only by ``beta="theorem"``.
        ridge: ``gamma > 0`` (the theorem takes ``gamma = 1``).
        penalty: ``"paper"`` or ``"code"`` (:data:`PENALTIES`).
        clip: ``"paper"`` or ``"code"`` (:data:`~rltheory.linear.pevi.PVI_CLIPS`).
        tv_threshold: ``"states"`` or ``"samples"`` (:data:`TV_THRESHOLDS`; TV only).
        chi2_solver: ``"exact"``, ``"nelder-mead"`` or ``"nelder-mead-min"`` (:data:`CHI2_SOLVERS`; chi^2 only).
        chi2_clip: clip the chi^2 regressions to ``[0, H]``, ``[0, H^2]`` (paper) or not (code).
        reward_max: rewards lie in ``[0, reward_max]``; every ``H`` above (caps, clips, KL's floor
            ``e^{-H/lam}``) is ``reward_max H``.
        q_max: per-``(h, s, a)`` caps of ``Q_h`` replacing ``reward_max (H - h)`` (broadcast to ``[H, S, A]``).
        zero_states: states whose value is known to be 0 (the official code's ``fail_state``), or None.
        simplex_features: require ``phi`` on the simplex (Assumption 3.1).
        stats: precomputed :func:`~rltheory.linear.ridge_statistics` for ``data``, ``phi``, ``ridge``.

    Returns:
        :class:`~rltheory.linear.OfflineSolution` with ``method="r2pvi-<divergence>"``; ``weights`` are the robust
        ``w_h`` (``Q = r + phi w - Gamma`` before clipping), ``nfev`` counts Nelder-Mead evaluations.

    Raises:
        ValueError: naming the argument: ``lam <= 0``, an unknown divergence or option, features off the simplex,
            shapes that disagree, ``beta="theorem"`` without ``delta``.

    Reference:
        C. Tang, Z. Liu, P. Xu, ICML 2025, arXiv:2411.18612, Algorithms 1-4.
    """
    t0 = time.perf_counter()
    divergence = check_choice("divergence", divergence, DIVERGENCES)
    lam = check_scalar("lam", lam, positive=True)
    phi_arr = check_features(phi, simplex=simplex_features)
    ridge = check_scalar("ridge", ridge, positive=True)
    penalty = check_choice("penalty", penalty, PENALTIES)
    clip = check_choice("clip", clip, PVI_CLIPS)
    tv_threshold = check_choice("tv_threshold", tv_threshold, TV_THRESHOLDS)
    chi2_solver = check_choice("chi2_solver", chi2_solver, CHI2_SOLVERS)
    reward_max = check_scalar("reward_max", reward_max, positive=True)
    S, A, d = phi_arr.shape
    zs = check_states("zero_states", zero_states, S)
    st = statistics_for(data, phi_arr, ridge, stats)
    H = st.horizon
    R = check_rewards(rewards, H, S, A)
    K = int(st.features.shape[1])
    beta_value = resolve_beta(beta, divergence=divergence, delta=delta, H=H, d=d, K=K, lam=lam)
    cap = reward_max * H
    est: Estimator
    if divergence == "tv":
        est = tv_estimator(st, lam, threshold=tv_threshold)
    elif divergence == "kl":
        est = kl_estimator(st, lam, cap=cap)
    else:
        est = chi2_estimator(st, lam, cap=cap, solver=chi2_solver, clip=bool(chi2_clip))
    gamma_pen = coordinate_penalty(st, phi_arr, beta_value, variant=penalty)

    def estimate(h: int, V: np.ndarray) -> tuple[np.ndarray, int]:
        return (np.zeros(d), 0) if h == H - 1 else est(h, V)

    Q, V, pi, W, nfev = pessimistic_backward_induction(
        phi_arr,
        estimate,
        gamma_pen,
        rewards=R,
        clip=clip,
        reward_max=reward_max,
        zero_states=zs,
        q_max=check_caps(q_max, H, S, A),
    )
    options: dict[str, Any] = {
        "divergence": divergence,
        "lam": lam,
        "ridge": ridge,
        "penalty": penalty,
        "clip": clip,
        "reward_max": reward_max,
        "beta_source": "theorem" if isinstance(beta, str) else "given",
    }
    if divergence == "tv":
        options["tv_threshold"] = tv_threshold
    if divergence == "chi2":
        options.update(chi2_solver=chi2_solver, chi2_clip=bool(chi2_clip))
    return OfflineSolution(
        policy=pi,
        values=V,
        q_values=Q,
        weights=W,
        penalty=gamma_pen,
        beta=beta_value,
        method=f"r2pvi-{divergence}",
        options=options,
        nfev=nfev,
        elapsed=time.perf_counter() - t0,
    )
