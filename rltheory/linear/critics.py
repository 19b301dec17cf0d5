"""Off-policy critics that target ``Q*``: ridge least-squares value iteration with an elliptical bonus, from
sufficient statistics updated one transition at a time, vectorised over independent runs.

Both critics compute, for ``h = H..1`` (one-indexed; ``V_{H+1} = 0``), from *all* data of step ``h`` (offline and
online, whatever policy collected it: the target is the Bellman **optimality** backup, so the data need not come from
the policy being improved)

    ``Lambda_h = lam I + sum_tau phi_h^tau (phi_h^tau)^T``
    ``w_h = Lambda_h^{-1} sum_tau phi_h^tau [ r_h^tau + V_{h+1}(s_{h+1}^tau) ]``
    ``f_h(s, a) = min{ phi(s, a)^T w_h + beta ||phi(s, a)||_{Lambda_h^{-1}}, c_h }``,   ``V_h(s) = max_a f_h(s, a)``

with ``c_h = H - h + 1`` (``clip="remaining"``) or ``H`` (``clip="horizon"``): the optimistic backup of LSVI-UCB
(Jin, Yang, Wang & Jordan, COLT 2020, arXiv:1907.05388, Algorithm 1), and a plain ridge fitted-Q backup when
``beta = 0``. They also track ``log det Lambda_h`` exactly (matrix determinant lemma:
``log det(Lambda + phi phi^T) = log det Lambda + log(1 + phi^T Lambda^{-1} phi)``), which drives the rare switching of
:class:`~rltheory.linear.RareSwitchingActorCritic`.

:class:`LinearCritic`
    any features ``phi [S, A, d]``. It *is* LSVI-UCB's machinery: it holds an :class:`rltheory.agents.LSVIUCB` and
    uses its rank-one Sherman-Morrison statistics (``Lambda_h^{-1}``, ``b_h``, ``M_h = sum_tau phi_h^tau
    e_{s_{h+1}^tau}^T``, the bonus quadratic forms), so an update costs ``O(S A d + d^2)`` per run and a fit
    ``O(H (S A d + d S + d^2))``, independent of the amount of data.
:class:`TabularCritic`
    the one-hot special case ``phi(s, a) = e_{s A + a}`` (``d = S A``) written with counts: ``Lambda_h`` is diagonal
    with entries ``n_h(s, a) + lam``, ``w_h(s, a) = (sum r + sum V_{h+1}(s')) / (n_h(s, a) + lam)``, the bonus is
    ``beta / sqrt(n_h(s, a) + lam)`` and ``log det Lambda_h = sum_{s,a} log(n_h(s, a) + lam)``. It equals
    :class:`LinearCritic` with one-hot features up to rounding (tested) at ``O(S^2 A)`` per fit and step.

Offline data (the hybrid setting) enters through :meth:`Critic.add_data` before learning starts.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Protocol

import numpy as np

from rltheory.agents import LSVIUCB
from rltheory.validation import choice, real_scalar

__all__ = ["CLIPS", "Critic", "LinearCritic", "TabularCritic", "TransitionData"]

#: ``"remaining"``: ``f_h <= H - h + 1`` (one-indexed), the range of ``Q*_h`` for rewards in ``[0, 1]``;
#: ``"horizon"``: ``f_h <= H`` (Jin et al. 2020).
CLIPS = ("remaining", "horizon")


class TransitionData(Protocol):
    """Trajectories as four arrays of equal shape ``[N, H]`` (one dataset shared by every run) or
    ``[n_runs, N, H]`` (one dataset per run), e.g. :class:`mdps.offline.OfflineDataset`."""

    @property
    def states(self) -> Any: ...

    @property
    def actions(self) -> Any: ...

    @property
    def rewards(self) -> Any: ...

    @property
    def next_states(self) -> Any: ...


def _nonneg_float(name: str, value: Any, *, positive: bool = False) -> float:
    return real_scalar(name, value, positive=positive, nonneg=True)


class Critic(ABC):
    """A ``Q*``-targeting ridge critic for ``n_runs`` independent runs (see the module docstring).

    Attributes:
        n_states, n_actions, horizon, n_runs, d: sizes (``d`` the feature dimension).
        beta: bonus scale (0: no optimism).
        lam: ridge parameter ``> 0``.
        caps: ``[H]`` the clip ``c_h`` of each (zero-based) step.
        logdet: ``[n_runs, H]`` ``log det Lambda_h`` of the data seen so far.
        visits: ``[n_runs, H, S, A]`` number of transitions of each pair at each step (offline and online).
    """

    n_states: int
    n_actions: int
    horizon: int
    n_runs: int
    d: int
    beta: float
    lam: float
    caps: np.ndarray
    logdet: np.ndarray
    visits: np.ndarray

    def _init_common(self, S: int, A: int, H: int, n: int, d: int, beta: Any, lam: Any, clip: str) -> None:
        for name, v in (("n_states", S), ("n_actions", A), ("horizon", H), ("n_runs", n)):
            real_scalar(name, v, integer=True, positive=True)
        clip = choice("clip", clip, CLIPS)
        self.n_states, self.n_actions, self.horizon, self.n_runs, self.d = int(S), int(A), int(H), int(n), int(d)
        self.beta = _nonneg_float("beta", beta)
        self.lam = _nonneg_float("lam", lam, positive=True)
        self.clip = clip
        self.caps = np.arange(H, 0, -1, dtype=np.float64) if clip == "remaining" else np.full(H, float(H))
        self.visits = np.zeros((n, H, S, A))
        self._runs = np.arange(n)

    @abstractmethod
    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Add one transition per run at step ``h`` (``[n_runs]`` arrays)."""

    @abstractmethod
    def _add_step(self, h: int, s: np.ndarray, a: np.ndarray, r: np.ndarray, s2: np.ndarray) -> None:
        """Add ``N`` transitions per run at step ``h`` in bulk (``[n_runs, N]`` arrays)."""

    @abstractmethod
    def fit(self) -> np.ndarray:
        """The critic ``f`` ``[n_runs, H, S, A]`` computed from all the data seen so far."""

    def add_data(self, data: TransitionData) -> None:
        """Add whole trajectories (e.g. an offline dataset) in bulk: arrays ``[N, H]`` shared by every run or
        ``[n_runs, N, H]`` one dataset per run. Exact: the Gram matrices are summed and re-inverted, not updated by
        ``N`` rank-one steps."""
        arrays = []
        for name in ("states", "actions", "rewards", "next_states"):
            x = np.asarray(getattr(data, name))
            if x.ndim == 2:
                x = np.broadcast_to(x, (self.n_runs, *x.shape))
            if x.ndim != 3 or x.shape[0] != self.n_runs or x.shape[2] != self.horizon:
                raise ValueError(
                    f"data.{name} must have shape [N, H] or [n_runs, N, H] with H = {self.horizon}, "
                    f"n_runs = {self.n_runs}; got {list(np.shape(getattr(data, name)))}"
                )
            arrays.append(x)
        s, a, r, s2 = arrays
        if s.shape != a.shape or s.shape != r.shape or s.shape != s2.shape:
            raise ValueError("data.states, actions, rewards and next_states must have one shape")
        for name, x, hi in (
            ("states", s, self.n_states),
            ("actions", a, self.n_actions),
            ("next_states", s2, self.n_states),
        ):
            if x.size and (not np.issubdtype(x.dtype, np.integer) or x.min() < 0 or x.max() >= hi):
                raise ValueError(f"data.{name} must be integers in [0, {hi})")
        r = r.astype(np.float64)
        if not np.isfinite(r).all():
            raise ValueError("data.rewards must be finite")
        if s.shape[1] == 0:
            return
        for h in range(self.horizon):
            self._add_step(h, s[:, :, h], a[:, :, h], r[:, :, h], s2[:, :, h])
            for i in range(self.n_runs):
                np.add.at(self.visits[i, h], (s[i, :, h], a[i, :, h]), 1.0)


class LinearCritic(Critic):
    """The optimistic (``beta > 0``) or plain (``beta = 0``) ridge critic on features ``phi [S, A, d]``, computed by
    LSVI-UCB's sufficient statistics (it holds an :class:`rltheory.agents.LSVIUCB`; see the module docstring).

    Args:
        features: ``phi`` ``[S, A, d]`` (the theory assumes ``||phi(s, a)|| <= 1``).
        horizon: ``H``.
        n_runs: number of independent runs.
        beta: bonus scale ``>= 0``.
        lam: ridge parameter ``> 0``.
        clip: ``"remaining"`` (``f_h <= H - h + 1``) or ``"horizon"`` (``f_h <= H``).
        refresh_every: rank-one updates between exact re-inversions of ``Lambda_h`` (and recomputations of
            ``log det Lambda_h`` by Cholesky), see :class:`~rltheory.agents.LSVIUCB`.

    Attributes:
        stats: the :class:`~rltheory.agents.LSVIUCB` whose statistics (``gram``, ``gram_inv``, ``targets_reward``,
            ``next_state_features``, ``quad``) and backup the critic uses.
    """

    def __init__(
        self,
        features: Any,
        horizon: int,
        n_runs: int,
        *,
        beta: float,
        lam: float = 1.0,
        clip: str = "remaining",
        refresh_every: int = 1000,
    ) -> None:
        if clip not in CLIPS:
            raise ValueError(f"clip must be one of {CLIPS}, got {clip!r}")
        # LSVI-UCB's clip options are ours: "remaining" (H - h + 1) and "horizon" (H)
        self.stats = LSVIUCB(features, horizon, n_runs, beta=beta, lam=lam, clip=clip, refresh_every=refresh_every)
        S, A, d = self.stats.features.shape
        self._init_common(S, A, horizon, n_runs, d, beta, lam, clip)
        self.features = self.stats.features
        self._phi_flat = self.stats._phi_flat
        self.logdet = np.full((n_runs, horizon), d * math.log(self.lam))

    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Rank-one update of step ``h``'s statistics; ``log det`` grows by ``log(1 + phi^T Lambda^{-1} phi)``."""
        states, actions = np.asarray(states), np.asarray(actions)
        pair = states * self.n_actions + actions
        self.logdet[:, h] += np.log1p(np.maximum(self.stats.quad[self._runs, h, pair], 0.0))
        self.stats.observe(h, states, actions, rewards, next_states)
        self.visits[self._runs, h, states, actions] += 1.0
        if self.stats.n_updates[h] % self.stats.refresh_every == 0:  # the inverse was just recomputed exactly
            self.logdet[:, h] = np.linalg.slogdet(self.stats.gram[:, h])[1]

    def _add_step(self, h: int, s: np.ndarray, a: np.ndarray, r: np.ndarray, s2: np.ndarray) -> None:
        st = self.stats
        Phi = self._phi_flat[s * self.n_actions + a]  # [n, N, d]
        st.gram[:, h] += np.einsum("nkd,nke->nde", Phi, Phi)
        st.targets_reward[:, h] += np.einsum("nkd,nk->nd", Phi, r)
        for i in range(self.n_runs):
            np.add.at(st.next_state_features[i, h].T, s2[i], Phi[i])  # M_h[:, s'] += phi for each transition
        st.refresh(h)
        self.logdet[:, h] = np.linalg.slogdet(st.gram[:, h])[1]

    def fit(self) -> np.ndarray:
        """LSVI-UCB's backward pass (:meth:`rltheory.agents.LSVIUCB.begin_episode`) on the current statistics."""
        self.stats.begin_episode()
        return self.stats.optimistic_q.copy()


class TabularCritic(Critic):
    """The critic of :class:`LinearCritic` with one-hot features ``phi(s, a) = e_{s A + a}``, from counts.

    Args:
        n_states, n_actions, horizon, n_runs: sizes.
        beta, lam, clip: as in :class:`LinearCritic`.

    Attributes:
        counts: ``[n_runs, H, S, A, S]`` transition counts per step; ``reward_sums``: ``[n_runs, H, S, A]``.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        horizon: int,
        n_runs: int,
        *,
        beta: float,
        lam: float = 1.0,
        clip: str = "remaining",
    ) -> None:
        self._init_common(n_states, n_actions, horizon, n_runs, n_states * n_actions, beta, lam, clip)
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs
        self.counts = np.zeros((n, H, S, A, S))
        self.reward_sums = np.zeros((n, H, S, A))
        self.logdet = np.full((n, H), S * A * math.log(self.lam))

    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Count the transition; ``log det`` grows by ``log(1 + 1 / (n_h(s, a) + lam))``."""
        r = self._runs
        self.logdet[:, h] += np.log1p(1.0 / (self.visits[r, h, states, actions] + self.lam))
        self.visits[r, h, states, actions] += 1.0
        self.counts[r, h, states, actions, next_states] += 1.0
        self.reward_sums[r, h, states, actions] += np.asarray(rewards, dtype=np.float64)

    def _add_step(self, h: int, s: np.ndarray, a: np.ndarray, r: np.ndarray, s2: np.ndarray) -> None:
        for i in range(self.n_runs):
            np.add.at(self.counts[i, h], (s[i], a[i], s2[i]), 1.0)
            np.add.at(self.reward_sums[i, h], (s[i], a[i]), r[i])
        self.logdet[:, h] = np.log(self.counts[:, h].sum(axis=-1) + self.lam).sum(axis=(1, 2))

    def fit(self) -> np.ndarray:
        """``f_h = min(w_h + beta / sqrt(n_h + lam), c_h)``, ``w_h = (reward sums + counts V_{h+1}) / (n_h + lam)``."""
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs
        Q = np.empty((n, H, S, A))
        V_next = np.zeros((n, S, 1))
        for h in range(H - 1, -1, -1):
            N = self.counts[:, h]  # [n, S, A, S]
            denom = N.sum(axis=-1) + self.lam
            target = self.reward_sums[:, h] + np.matmul(N.reshape(n, S * A, S), V_next)[..., 0].reshape(n, S, A)
            Qh = target / denom + self.beta / np.sqrt(denom)
            np.minimum(Qh, self.caps[h], out=Qh)
            Q[:, h] = Qh
            V_next = Qh.max(axis=-1)[:, :, None]
        return Q
