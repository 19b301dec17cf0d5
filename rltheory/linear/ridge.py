r"""Offline data and the ridge statistics that every pessimistic value-iteration method of this package shares.

An offline dataset holds, at every step ``h``, ``N`` transitions ``(s_h^tau, a_h^tau, r_h^tau, s_{h+1}^tau)`` of a
finite-horizon MDP on a finite state space (arrays ``[N, H]``, row ``tau`` one trajectory), optionally with
non-negative sample weights (``1`` each by default). The statistics computed once per dataset and ridge parameter
``gamma`` are, for every step ``h`` (zero-based here, one-based in the papers),

    ``Lambda_h = sum_tau w_tau phi_tau phi_tau^T + gamma I``                      (``phi_tau = phi(s_h^tau, a_h^tau)``)
    ``M_h      = Lambda_h^{-1} sum_tau w_tau phi_tau e_{s_{h+1}^tau}^T``          ``[d, S]``
    ``c_h      = Lambda_h^{-1} sum_tau w_tau phi_tau r_h^tau``                    ``[d]``

so that the ridge regression of any function ``f`` of the next state is ``Lambda_h^{-1} sum_tau w_tau phi_tau
f(s_{h+1}^tau) = M_h f`` (``M_h`` is the ridge estimate of the factor distributions ``mu_h``; its rows need not be
distributions). Every solve uses the Cholesky factor ``Lambda_h = L_h L_h^T`` (``scipy.linalg.cho_factor`` /
``cho_solve``); no inverse is formed except ``diag(Lambda_h^{-1})``, which the per-coordinate penalty of R2PVI needs
and which is computed from the factor as the column sums of squares of ``L_h^{-1}``.

With a weighted "population" dataset (every ``(s, a, s')`` with weight ``rho_h(s, a) P_h(s' | s, a)``) and a tiny
``gamma``, ``M_h`` equals the true ``mu_h`` on a linear MDP whose features span ``R^d`` under ``rho_h``: this is the
"unbounded data" limit in which R2PVI without penalty returns the exact robust values.

References:
    Y. Jin, Z. Yang, Z. Wang, "Is Pessimism Provably Efficient for Offline RL?", ICML 2021, arXiv:2012.15085
    (``Lambda_h`` of PEVI).
    C. Tang, Z. Liu, P. Xu, "Robust Offline Reinforcement Learning with Linearly Structured f-Divergence
    Regularization", ICML 2025, arXiv:2411.18612 (the per-coordinate penalty ``sum_i phi_i sqrt((Lambda^{-1})_ii)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from rltheory.validation import real_scalar

__all__ = ["OfflineData", "RidgeStatistics", "as_offline_data", "ridge_statistics"]


def _positive(name: str, value: Any) -> float:
    return real_scalar(name, value, positive=True)


def _int_array(name: str, x: Any) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


@dataclass(frozen=True, eq=False)
class OfflineData:
    """``N`` transitions per step of an ``H``-step MDP with finite states, as arrays ``[N, H]``.

    Any object with the attributes ``states``, ``actions``, ``rewards``, ``next_states`` (e.g.
    :class:`mdps.offline.OfflineDataset`) is accepted by the learners; :func:`as_offline_data` validates it.

    Attributes:
        states: ``s_h^tau`` (int64).
        actions: ``a_h^tau`` (int64).
        rewards: ``r_h^tau`` (float64; only PEVI reads them, the robust methods use the known reward function).
        next_states: ``s_{h+1}^tau`` (int64; the last column is never used as a target).
        weights: sample weights ``>= 0`` (float64), or None for 1 each.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray
    weights: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """``N`` (the number of trajectories ``K`` of the papers when the rows are trajectories)."""
        return int(self.states.shape[0])

    @property
    def horizon(self) -> int:
        """``H``."""
        return int(self.states.shape[1])


def as_offline_data(data: Any, *, n_states: int | None = None, n_actions: int | None = None) -> OfflineData:
    """Validate a dataset (any object with ``states``, ``actions``, ``rewards``, ``next_states``, optionally
    ``weights``) and return it as a frozen :class:`OfflineData`.

    Raises:
        TypeError: an attribute is missing or an index array is not integer.
        ValueError: shapes differ, an index is out of range, or a reward/weight is not finite (or a weight < 0).
    """
    for name in ("states", "actions", "rewards", "next_states"):
        if not hasattr(data, name):
            raise TypeError(f"data must have attributes states, actions, rewards, next_states; missing {name!r}")
    s = _int_array("data.states", data.states)
    a = _int_array("data.actions", data.actions)
    s2 = _int_array("data.next_states", data.next_states)
    r = np.ascontiguousarray(data.rewards, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 1 or s.shape[1] < 1:
        raise ValueError(f"data.states must have shape [N, H] with N, H >= 1, got {list(s.shape)}")
    for name, arr in (("actions", a), ("rewards", r), ("next_states", s2)):
        if arr.shape != s.shape:
            raise ValueError(f"data.{name} must have the shape of data.states {list(s.shape)}, got {list(arr.shape)}")
    if not np.isfinite(r).all():
        raise ValueError("data.rewards must be finite")
    w = getattr(data, "weights", None)
    if w is not None:
        w = np.ascontiguousarray(w, dtype=np.float64)
        if w.shape != s.shape:
            raise ValueError(f"data.weights must have the shape of data.states {list(s.shape)}, got {list(w.shape)}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("data.weights must be finite and non-negative")
    for name, arr, bound in (("states", s, n_states), ("next_states", s2, n_states), ("actions", a, n_actions)):
        if (arr < 0).any() or (bound is not None and (arr >= bound).any()):
            bad = tuple(int(i) for i in np.argwhere((arr < 0) | (arr >= (bound if bound is not None else np.inf)))[0])
            raise ValueError(f"data.{name}{list(bad)} = {arr[bad]} is outside [0, {bound})")
    out = OfflineData(s, a, r, s2, w)
    for arr in (s, a, r, s2) + ((w,) if w is not None else ()):
        arr.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class RidgeStatistics:
    """Per-step ridge statistics of one dataset, shared by PEVI, R2PVI and the DRMDP baselines.

    Attributes:
        ridge: ``gamma > 0``.
        features: ``Phi_h`` ``[H, N, d]``, the features of the sampled pairs.
        next_states: ``[H, N]`` next states (row ``h`` is step ``h``).
        weights: ``[H, N]`` sample weights.
        cholesky: ``[H, d, d]`` lower Cholesky factors ``L_h`` of ``Lambda_h``.
        mu_hat: ``M_h`` ``[H, d, S]``, ``Lambda_h^{-1} sum_tau w phi_tau e_{s'_tau}^T``.
        reward_coef: ``c_h`` ``[H, d]``, ``Lambda_h^{-1} sum_tau w phi_tau r_tau``.
        support: ``[H, S]`` bool, the next states with positive total weight at step ``h``.
        n_states: ``S``.
    """

    ridge: float
    features: np.ndarray
    next_states: np.ndarray
    weights: np.ndarray
    cholesky: np.ndarray
    mu_hat: np.ndarray
    reward_coef: np.ndarray
    support: np.ndarray
    n_states: int

    @property
    def horizon(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[2])

    def gram(self, h: int) -> np.ndarray:
        """``Lambda_h = L_h L_h^T`` ``[d, d]`` (rebuilt from the factor)."""
        L = self.cholesky[h]
        return L @ L.T

    def solve(self, h: int, b: np.ndarray) -> np.ndarray:
        """``Lambda_h^{-1} b`` for ``b`` ``[d]`` or ``[d, m]``, by the Cholesky factor."""
        return cho_solve((self.cholesky[h], True), b, check_finite=False)

    def regress(self, h: int, y: np.ndarray) -> np.ndarray:
        """``Lambda_h^{-1} sum_tau w_tau phi_tau y_tau`` for per-sample targets ``y`` ``[N]`` or ``[N, m]``."""
        wy = self.weights[h] * y if y.ndim == 1 else self.weights[h][:, None] * y
        return self.solve(h, self.features[h].T @ wy)

    def inverse_diagonal(self) -> np.ndarray:
        """``diag(Lambda_h^{-1})`` ``[H, d]``: column sums of squares of ``L_h^{-1}``, as
        ``Lambda^{-1} = L^{-T} L^{-1}``."""
        H, d = self.horizon, self.dim
        out = np.empty((H, d))
        eye = np.eye(d)
        for h in range(H):
            Linv = solve_triangular(self.cholesky[h], eye, lower=True, check_finite=False)
            out[h] = np.einsum("ki,ki->i", Linv, Linv)
        return out

    def quadratic_form(self, h: int, x: np.ndarray) -> np.ndarray:
        """``x^T Lambda_h^{-1} x`` for ``x`` ``[..., d]``: ``||L_h^{-1} x||^2`` by one triangular solve."""
        flat = x.reshape(-1, x.shape[-1])
        z = solve_triangular(self.cholesky[h], flat.T, lower=True, check_finite=False)
        return np.einsum("ij,ij->j", z, z).reshape(x.shape[:-1])


def ridge_statistics(data: Any, phi: Any, *, ridge: float) -> RidgeStatistics:
    """Compute :class:`RidgeStatistics` of ``data`` under features ``phi`` ``[S, A, d]``: ``O(H (N d^2 + d^2 S))``.

    Args:
        data: an offline dataset (see :func:`as_offline_data`), states and actions indexing ``phi``.
        phi: features ``[S, A, d]`` (finite; not required to lie on the simplex here).
        ridge: the ridge parameter ``gamma > 0`` (``Lambda_h = sum w phi phi^T + gamma I``).

    Raises:
        ValueError: a bad ``ridge`` or ``phi``, data out of range, or a Gram matrix that is not numerically
            positive definite (reported with the step).
    """
    phi_arr = np.asarray(phi, dtype=np.float64)
    if phi_arr.ndim != 3 or min(phi_arr.shape) < 1:
        raise ValueError(f"phi must have shape [S, A, d], got {list(phi_arr.shape)}")
    if not np.isfinite(phi_arr).all():
        raise ValueError("phi must be finite")
    gamma = _positive("ridge", ridge)
    S, A, d = phi_arr.shape
    D = as_offline_data(data, n_states=S, n_actions=A)
    N, H = D.states.shape
    w = np.ones((N, H)) if D.weights is None else D.weights
    feats = np.ascontiguousarray(np.transpose(phi_arr[D.states, D.actions], (1, 0, 2)))  # [H, N, d]
    chol = np.empty((H, d, d))
    mu_hat = np.empty((H, d, S))
    coef = np.empty((H, d))
    support = np.zeros((H, S), dtype=bool)
    eye = np.eye(d)
    for h in range(H):
        F, wh, nxt = feats[h], w[:, h], D.next_states[:, h]
        G = (F * wh[:, None]).T @ F + gamma * eye
        try:
            c, _ = cho_factor(G, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ValueError(f"Lambda_{h} is not numerically positive definite (ridge={ridge!r})") from None
        L = np.tril(c)
        chol[h] = L
        # sum_tau w phi_tau e_{s'_tau}^T, scattered by next state: [S, d] (a sparse [S, N] selector: O(N d))
        B = sparse.csr_array((wh, (nxt, np.arange(N))), shape=(S, N)) @ F
        mu_hat[h] = cho_solve((L, True), B.T, check_finite=False)
        coef[h] = cho_solve((L, True), F.T @ (wh * D.rewards[:, h]), check_finite=False)
        support[h] = np.bincount(nxt, weights=wh, minlength=S) > 0
    for arr in (feats, chol, mu_hat, coef, support):
        arr.flags.writeable = False
    nxt_all = np.ascontiguousarray(D.next_states.T)
    w_all = np.ascontiguousarray(w.T)
    nxt_all.flags.writeable = False
    w_all.flags.writeable = False
    return RidgeStatistics(gamma, feats, nxt_all, w_all, chol, mu_hat, coef, support, S)
