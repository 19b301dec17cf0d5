"""LSVI-UCB (least-squares value iteration with UCB bonuses) on a finite state space, vectorised over runs.

Reference:
    C. Jin, Z. Yang, Z. Wang and M. I. Jordan, "Provably Efficient Reinforcement Learning with Linear Function
    Approximation", COLT 2020, arXiv:1907.05388 (Algorithm 1, Theorem 3.1).

Algorithm 1 of the paper, episode ``k``, for ``h = H..1`` (``Q_{H+1} = 0``), with ``phi_h^tau = phi(x_h^tau, a_h^tau)``:

    ``Lambda_h = sum_{tau<k} phi_h^tau (phi_h^tau)^T + lam I``
    ``w_h = Lambda_h^{-1} sum_{tau<k} phi_h^tau [r_h(x_h^tau, a_h^tau) + max_a Q_{h+1}(x_{h+1}^tau, a)]``
    ``Q_h(x, a) = min{ w_h^T phi(x, a) + beta sqrt(phi(x, a)^T Lambda_h^{-1} phi(x, a)), H }``

then act greedily, ``a_h^k = argmax_a Q_h(x_h^k, a)``. Theorem 3.1: there is an absolute constant ``c > 0`` such
that with ``lam = 1`` and ``beta = c d H sqrt(iota)``, ``iota = log(2 d T / p)``, ``T = K H``, the regret is
``O(sqrt(d^3 H^3 T iota^2))`` with probability at least ``1 - p`` (arXiv v2, p. 7). The paper does not state ``c``:
it is an argument of :func:`jin_beta`.

Why the cost per episode does not grow here. Written as above, ``w_h`` sums over the whole history, so an episode
costs ``O(k)``; rlberry's LSVI-UCB does exactly that, and its maintainer notes in rlberry-py/rlberry#14 that
"LSVI-UCB is much slower than UCBVI ... because it's runtime (per episode) increases with the number of episodes".
On a finite state space the history enters only through sufficient statistics, kept per step ``h``:

    ``Lambda_h^{-1}``  (Sherman-Morrison rank-one update per transition, ``O(d^2)``),
    ``b_h = sum_tau phi_h^tau r_h^tau``  (``d``),
    ``M_h = sum_tau phi_h^tau e_{x_{h+1}^tau}^T``  (``d x S``, one column updated per transition),
    ``q_h(x, a) = phi(x, a)^T Lambda_h^{-1} phi(x, a)``  (``S A``, updated with the same rank-one term, ``O(S A d)``),

because ``sum_tau phi_h^tau max_a Q_{h+1}(x_{h+1}^tau, a) = M_h V_{h+1}``. Then
``w_h = Lambda_h^{-1}(b_h + M_h V_{h+1})`` costs ``O(d S + d^2)`` and ``Q_h`` over all pairs ``O(S A d)``:
``O(H (S A d + d S + d^2))`` per episode and ``O(S A d + d^2)`` per transition, independent of ``k``. Memory is
``O(H d (d + S))`` per run.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rltheory.agents.protocol import EpisodicLearner
from rltheory.validation import choice, real_array, real_scalar

__all__ = ["LSVIUCB", "jin_beta", "jin_iota"]


def jin_iota(*, d: int, horizon: int, n_episodes: int, p: float) -> float:
    """``iota = log(2 d T / p)`` with ``T = K H`` (Jin et al. 2020, Theorem 3.1)."""
    for name, v in (("d", d), ("horizon", horizon), ("n_episodes", n_episodes)):
        real_scalar(name, v, integer=True, positive=True)
    p = real_scalar("p", p, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    return math.log(2.0 * d * n_episodes * horizon / p)


def jin_beta(c: float, *, d: int, horizon: int, n_episodes: int, p: float) -> float:
    """The bonus scale of Theorem 3.1 of Jin et al. (COLT 2020, arXiv:1907.05388): ``beta = c d H sqrt(iota)``,
    ``iota = log(2 d T / p)``, ``T = K H``.

    The theorem holds for some absolute constant ``c > 0`` that the paper does not give, so ``c`` is required.

    Args:
        c: the constant ``c >= 0``.
        d: feature dimension.
        horizon: ``H``.
        n_episodes: ``K``.
        p: failure probability in ``(0, 1)`` (the regret bound holds with probability at least ``1 - p``).
    """
    c = real_scalar("c", c, nonneg=True)
    return c * d * horizon * math.sqrt(jin_iota(d=d, horizon=horizon, n_episodes=n_episodes, p=p))


class LSVIUCB(EpisodicLearner):
    """LSVI-UCB (Jin, Yang, Wang & Jordan, COLT 2020, arXiv:1907.05388) on ``S`` states with known features,
    ``n_runs`` independent copies in lockstep, at a cost per episode that does not depend on the episode index.

    It is Algorithm 1 of the paper computed from sufficient statistics (see the module docstring): the Gram matrix
    ``Lambda_h`` and its inverse, ``b_h``, ``M_h`` and the bonus quadratic forms are updated once per transition.
    Every ``refresh_every`` rank-one updates of step ``h``, ``Lambda_h^{-1}`` is recomputed from ``Lambda_h`` (kept
    as an exact running sum) through a Cholesky factorisation and the quadratic forms from it, so Sherman-Morrison
    round-off cannot accumulate over long runs.

    Args:
        features: ``phi`` ``[S, A, d]``; the paper assumes ``||phi(x, a)|| <= 1``.
        horizon: ``H``.
        n_runs: number of independent runs.
        beta: bonus scale ``>= 0`` (see :func:`jin_beta` for the paper's choice).
        lam: ridge parameter ``lam > 0`` (the paper: 1).
        clip: ``"horizon"`` (the paper: ``min{., H}``) or ``"remaining"`` (``min{., H - h + 1}``, one-indexed).
        refresh_every: rank-one updates of a step between two exact recomputations of ``Lambda_h^{-1}``.

    Attributes:
        weights: ``[n_runs, H, d]`` the ``w_h`` of the current episode (after :meth:`begin_episode`).
        optimistic_q: ``[n_runs, H, S, A]`` its ``Q_h``; ``optimistic_values`` ``[n_runs, H, S]`` its ``V_h``.
        gram, gram_inv: ``[n_runs, H, d, d]`` ``Lambda_h`` and ``Lambda_h^{-1}``.
        targets_reward: ``[n_runs, H, d]`` ``b_h``; ``next_state_features``: ``[n_runs, H, d, S]`` ``M_h``.
        quad: ``[n_runs, H, S*A]`` ``phi(x, a)^T Lambda_h^{-1} phi(x, a)`` for the pair ``x*A + a``.
    """

    def __init__(
        self,
        features: Any,
        horizon: int,
        n_runs: int,
        *,
        beta: float,
        lam: float = 1.0,
        clip: str = "horizon",
        refresh_every: int = 1000,
    ) -> None:
        phi = real_array("features", features, finite=False)
        if phi.ndim != 3 or min(phi.shape) < 1:
            raise ValueError(f"features must have shape [S, A, d], got {list(phi.shape)}")
        if not np.isfinite(phi).all():
            raise ValueError("features must be finite")
        super().__init__(phi.shape[0], phi.shape[1], horizon, n_runs)
        beta = real_scalar("beta", beta, nonneg=True)
        lam = real_scalar("lam", lam, positive=True)
        clip = choice("clip", clip, ("horizon", "remaining"))
        refresh_every = real_scalar("refresh_every", refresh_every, integer=True, positive=True)
        self.beta, self.lam, self.clip, self.refresh_every = beta, lam, clip, refresh_every
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs
        d = phi.shape[2]
        self.d = d
        self.features = phi
        self._phi_flat = np.ascontiguousarray(phi.reshape(S * A, d))
        self.caps = np.full(H, float(H)) if clip == "horizon" else np.arange(H, 0, -1, dtype=np.float64)

        self.gram = np.broadcast_to(self.lam * np.eye(d), (n, H, d, d)).copy()
        self.gram_inv = np.broadcast_to(np.eye(d) / self.lam, (n, H, d, d)).copy()
        self.targets_reward = np.zeros((n, H, d))
        self.next_state_features = np.zeros((n, H, d, S))
        q0 = np.einsum("kd,kd->k", self._phi_flat, self._phi_flat) / self.lam
        self.quad = np.broadcast_to(q0, (n, H, S * A)).copy()
        self.n_updates = np.zeros(H, dtype=np.int64)  # rank-one updates of each step (equal across runs)
        self.weights = np.zeros((n, H, d))
        self.optimistic_q = np.zeros((n, H, S, A))
        self.optimistic_values = np.zeros((n, H, S))

    # ------------------------------------------------------------------ planning
    def begin_episode(self) -> np.ndarray:
        """Backward least-squares value iteration with bonuses from the sufficient statistics; returns the greedy
        policy ``[n_runs, H, S]``. ``O(n_runs H (S A d + d S + d^2))``."""
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs
        pi = np.empty((n, H, S), dtype=np.int64)
        V_next = np.zeros((n, S, 1))
        for h in range(H - 1, -1, -1):
            # Batched matmuls: each run's product is its own BLAS call, independent of the batch composition.
            y = self.targets_reward[:, h] + np.matmul(self.next_state_features[:, h], V_next)[..., 0]  # [n, d]
            w = np.matmul(self.gram_inv[:, h], y[:, :, None])  # [n, d, 1]
            Q = np.matmul(self._phi_flat, w)[..., 0]  # [n, S*A]
            Q += self.beta * np.sqrt(np.maximum(self.quad[:, h], 0.0))
            np.minimum(Q, self.caps[h], out=Q)
            Q = Q.reshape(n, S, A)
            a = np.argmax(Q, axis=-1)
            V = Q.max(axis=-1)  # the entry at the argmax, exactly
            self.weights[:, h] = w[..., 0]
            self.optimistic_q[:, h], self.optimistic_values[:, h], pi[:, h] = Q, V, a
            V_next = V[:, :, None]
        self.policy = pi
        return pi

    # ------------------------------------------------------------------ data
    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Rank-one updates of ``Lambda_h``, ``Lambda_h^{-1}``, ``b_h``, ``M_h`` and the bonus quadratic forms."""
        r = self._runs
        phi = self._phi_flat[np.asarray(states) * self.n_actions + np.asarray(actions)]  # [n, d]
        self.gram[:, h] += phi[:, :, None] * phi[:, None, :]
        u = np.matmul(self.gram_inv[:, h], phi[:, :, None])  # [n, d, 1] = Lambda^{-1} phi
        denom = 1.0 + (phi * u[..., 0]).sum(axis=1)  # 1 + phi^T Lambda^{-1} phi >= 1
        self.gram_inv[:, h] -= (u * u.transpose(0, 2, 1)) / denom[:, None, None]
        proj = np.matmul(self._phi_flat, u)[..., 0]  # [n, S*A]: phi(x, a)^T Lambda^{-1} phi
        self.quad[:, h] -= proj * proj / denom[:, None]
        self.targets_reward[:, h] += phi * np.asarray(rewards, dtype=np.float64)[:, None]
        self.next_state_features[r, h, :, next_states] += phi  # one column per run: indices never repeat
        self.n_updates[h] += 1
        if self.n_updates[h] % self.refresh_every == 0:
            self.refresh(h)

    def refresh(self, h: int) -> None:
        """Recompute ``Lambda_h^{-1}`` from ``Lambda_h`` by Cholesky (``Lambda = L L^T``,
        ``Lambda^{-1} = L^{-T} L^{-1}``) and the bonus quadratic forms from it, discarding Sherman-Morrison drift."""
        d = self.d
        L = np.linalg.cholesky(self.gram[:, h])
        L_inv = np.linalg.solve(L, np.broadcast_to(np.eye(d), L.shape))
        inv = np.matmul(L_inv.transpose(0, 2, 1), L_inv)
        self.gram_inv[:, h] = 0.5 * (inv + inv.transpose(0, 2, 1))
        G = np.matmul(self._phi_flat, self.gram_inv[:, h])  # [n, S*A, d]
        self.quad[:, h] = (G * self._phi_flat).sum(axis=-1)
