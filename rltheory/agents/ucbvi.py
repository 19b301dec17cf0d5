"""UCBVI-CH: upper-confidence value iteration with the Chernoff-Hoeffding bonus, vectorised over runs.

Reference:
    M. G. Azar, I. Osband and R. Munos, "Minimax Regret Bounds for Reinforcement Learning", ICML 2017,
    arXiv:1703.05449 (Algorithms 1-3, Theorem 1).

The algorithm, in the paper's notation (steps ``h = 1..H``; arrays here are zero-indexed). Before episode ``k``,
from the transitions of episodes ``1..k-1`` pooled over all steps (the paper's MDP is stationary):

    ``N_k(x, a, y)``, ``N_k(x, a) = sum_y N_k(x, a, y)``, ``P_hat_k(y | x, a) = N_k(x, a, y) / N_k(x, a)``,

    ``b_k(x, a) = 7 H L sqrt(1 / N_k(x, a))``,  ``L = ln(5 S A T / delta)``,  ``T = K H``          (Algorithm 3)

    ``V_{k,H+1} = 0``;  for ``h = H..1``:                                                        (Algorithm 2)
        ``Q_{k,h}(x, a) = min(Q_{k-1,h}(x, a), H, R(x, a) + P_hat_k V_{k,h+1}(x, a) + b_k(x, a))`` if ``N_k(x, a) > 0``,
        ``Q_{k,h}(x, a) = H`` otherwise;   ``V_{k,h}(x) = max_a Q_{k,h}(x, a)``

and episode ``k`` plays ``pi_k(x, h) = argmax_a Q_{k,h}(x, a)`` (Algorithm 1; ties here go to the lowest action).
The reward function ``R`` is known and deterministic with values in ``[0, 1]`` (§2 of the paper). Theorem 1: with
probability at least ``1 - delta``, ``Regret(K) <= 20 H^{3/2} L' sqrt(S A K) + 250 H^2 S^2 A L'^2`` with
``L' = ln(5 H S A T / delta)`` (the theorem's log has an extra ``H`` that the bonus's does not).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rltheory.agents.protocol import EpisodicLearner
from rltheory.mdp import TabularMDP
from rltheory.validation import real_scalar

__all__ = ["UCBVI", "BONUSES", "CLIPS"]

#: Bonus types implemented (``"hoeffding"``: the paper's Algorithm 3, ``bonus_1``).
BONUSES = ("hoeffding",)
#: ``"horizon"``: clip every Q at ``H`` (the paper). ``"remaining"``: clip ``Q_h`` at the number of remaining steps
#: ``H - h + 1`` (one-indexed ``h``), a valid tightening since ``V*_h <= H - h + 1`` for rewards in ``[0, 1]``.
CLIPS = ("horizon", "remaining")

#: The constant of Algorithm 3: ``b = 7 H L sqrt(1 / N)``.
HOEFFDING_CONSTANT = 7.0


def _positive_float(name: str, value: Any, *, upper: float | None = None, allow_zero: bool = False) -> float:
    """``value`` as a float in ``(0, upper]`` (``[0, upper]`` with ``allow_zero``; no upper bound when None)."""
    return real_scalar(name, value, lo=0.0, lo_open=not allow_zero, hi=upper)


class UCBVI(EpisodicLearner):
    """UCBVI-CH (Azar, Osband & Munos, ICML 2017, arXiv:1703.05449), ``n_runs`` independent copies in lockstep.

    Each :meth:`begin_episode` runs the optimistic backward induction of Algorithm 2 for every run at once: one
    batched ``[n_runs, S*A, S] @ [n_runs, S, 1]`` product per step, ``O(n_runs H S^2 A)`` per episode, whatever the
    episode index.

    Defaults reproduce the paper: known rewards, counts pooled over steps, bonus ``7 H L sqrt(1/N)`` with
    ``L = ln(5 S A T / delta)`` and ``T = K H`` (so ``K = n_episodes`` must be known in advance), Q clipped at ``H``
    and never increased from one episode to the next (the ``min`` with ``Q_{k-1,h}``), unvisited pairs at ``H``.

    Knobs that deviate from the paper (each off by default):

    * ``bonus_scale`` multiplies the bonus. The paper's constant makes the bonus exceed ``H`` until
      ``N > (7 L)^2`` (about 14,000 visits of a pair at ``S=6, A=2, K=2000, H=20, delta=0.1``), so over short runs
      every Q is clipped to ``H`` and the greedy policy plays action 0 everywhere (ties go to the lowest index);
      a scale ``< 1`` is the usual practical fix and voids Theorem 1.
    * ``time_homogeneous=False`` keeps per-step counts ``N_h(x, a, y)``, estimates ``P_h`` separately and uses
      ``N_h`` in the bonus: UCBVI-CH applied to the layered stationary MDP whose states are the ``H S`` pairs
      ``(h, x)``, so ``L = ln(5 (H S) A T / delta)``. Use it for time-inhomogeneous MDPs.
    * ``clip="remaining"`` clips ``Q_h`` at ``H - h + 1`` (one-indexed) instead of ``H``.
    * ``monotone=False`` drops the ``min`` with the previous episode's Q.
    * ``rewards=None`` estimates the mean reward of each pair from the observed rewards (pooled over steps, or
      per step with ``time_homogeneous=False``) instead of taking the known ``R``; with the deterministic rewards
      of :func:`~rltheory.agents.run_episodes` the estimate equals ``R`` up to rounding on every visited pair.

    Optimism (Lemma 18 of the paper): on the concentration event ``E_P_hat`` (probability ``>= 1 - delta``),
    ``V_{k,h}(x) >= V*_h(x)`` for every episode, step and state. It is not deterministic, except that any pair with
    ``b_k(x, a) >= H`` (with ``bonus_scale=1`` every pair with ``N <= 49 L^2``) is always optimistic.

    Args:
        n_states: number of states ``S``.
        n_actions: number of actions ``A``.
        horizon: episode length ``H``.
        n_runs: number of independent runs.
        n_episodes: the number of episodes ``K`` the runs will last (enters ``T = K H`` in ``L``).
        delta: confidence parameter in ``(0, 1]``.
        rewards: the known mean rewards ``[S, A]`` or ``[H, S, A]`` in ``[0, 1]``, or None to estimate them.
        bonus: ``"hoeffding"`` (Algorithm 3).
        bonus_scale: factor ``>= 0`` on the bonus (1 = the paper).
        time_homogeneous: pool the counts over steps (the paper) or keep them per step.
        clip: ``"horizon"`` (the paper) or ``"remaining"``.
        monotone: take the ``min`` with the previous episode's Q (the paper).

    Attributes:
        log_term: ``L``.
        bonus_constant: ``bonus_scale * 7 H L``, so that ``b = bonus_constant / sqrt(N)``.
        optimistic_q: ``[n_runs, H, S, A]`` the Q of the current episode (after :meth:`begin_episode`).
        optimistic_values: ``[n_runs, H, S]`` its values ``V_{k,h}``.
        counts: ``[n_runs, G, S, A, S]`` transition counts, ``G = 1`` (pooled) or ``H``.
    """

    def __init__(
        self,
        n_states: int,
        n_actions: int,
        horizon: int,
        n_runs: int,
        *,
        n_episodes: int,
        delta: float,
        rewards: Any = None,
        bonus: str = "hoeffding",
        bonus_scale: float = 1.0,
        time_homogeneous: bool = True,
        clip: str = "horizon",
        monotone: bool = True,
    ) -> None:
        super().__init__(n_states, n_actions, horizon, n_runs)
        self.n_episodes = real_scalar("n_episodes", n_episodes, integer=True, positive=True)
        self.delta = _positive_float("delta", delta, upper=1.0)
        if bonus not in BONUSES:
            raise ValueError(f"bonus must be one of {BONUSES}, got {bonus!r}")
        if clip not in CLIPS:
            raise ValueError(f"clip must be one of {CLIPS}, got {clip!r}")
        self.bonus = bonus
        self.bonus_scale = _positive_float("bonus_scale", bonus_scale, allow_zero=True)
        self.time_homogeneous = bool(time_homogeneous)
        self.clip = clip
        self.monotone = bool(monotone)
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs

        if rewards is None:
            self.rewards: np.ndarray | None = None
        else:
            R = np.asarray(rewards, dtype=np.float64)
            if R.shape not in ((S, A), (H, S, A)):
                raise ValueError(f"rewards must have shape [S, A] = [{S}, {A}] or [H, S, A], got {list(R.shape)}")
            if not np.isfinite(R).all() or R.min() < 0 or R.max() > 1:
                raise ValueError(
                    "rewards must lie in [0, 1] (Azar et al. 2017, §2); rescale them, e.g. riverswim(normalized=True)"
                )
            self.rewards = np.broadcast_to(R, (H, S, A)).copy()

        T = self.n_episodes * H
        S_eff = S if self.time_homogeneous else H * S
        self.log_term = math.log(5.0 * S_eff * A * T / self.delta)
        self.bonus_constant = self.bonus_scale * HOEFFDING_CONSTANT * H * self.log_term

        G = 1 if self.time_homogeneous else H
        self.counts = np.zeros((n, G, S, A, S))
        self.pair_counts = np.zeros((n, G, S, A))
        self.reward_sums = np.zeros((n, G, S, A))
        # Per-step clip values: H everywhere, or the number of remaining steps H - h (zero-based h).
        self.caps = np.full(H, float(H)) if clip == "horizon" else np.arange(H, 0, -1, dtype=np.float64)
        self.optimistic_q = np.broadcast_to(self.caps[None, :, None, None], (n, H, S, A)).copy()
        self.optimistic_values = np.broadcast_to(self.caps[None, :, None], (n, H, S)).copy()

    @classmethod
    def for_mdp(
        cls,
        mdp: TabularMDP,
        n_runs: int,
        *,
        n_episodes: int,
        delta: float,
        known_rewards: bool = True,
        time_homogeneous: bool | None = None,
        **kwargs: Any,
    ) -> UCBVI:
        """A UCBVI learner sized for ``mdp``: its rewards as the known ``R`` (unless ``known_rewards=False``) and,
        by default, ``time_homogeneous`` set to whether the MDP's transitions are. Other keywords go to the
        constructor."""
        if not isinstance(mdp, TabularMDP) or mdp.is_discounted or mdp.batched:
            raise ValueError("for_mdp needs an unbatched finite-horizon TabularMDP")
        assert mdp.horizon is not None
        if time_homogeneous is None:
            time_homogeneous = not mdp.p_time_varying
        return cls(
            mdp.n_states,
            mdp.n_actions,
            mdp.horizon,
            n_runs,
            n_episodes=n_episodes,
            delta=delta,
            rewards=mdp.R if known_rewards else None,
            time_homogeneous=time_homogeneous,
            **kwargs,
        )

    # ------------------------------------------------------------------ planning
    def begin_episode(self) -> np.ndarray:
        """Optimistic backward induction (Algorithm 2) for every run; returns the greedy policy ``[n_runs, H, S]``."""
        S, A, H, n = self.n_states, self.n_actions, self.horizon, self.n_runs
        N = self.pair_counts
        visited = N > 0
        N1 = np.maximum(N, 1.0)
        P_hat = self.counts / N1[..., None]  # [n, G, S, A, S]; rows of unvisited pairs are 0 (and unused)
        bonus = self.bonus_constant / np.sqrt(N1)  # [n, G, S, A]
        R_hat = None if self.rewards is not None else self.reward_sums / N1
        G = N.shape[1]
        Q_all = np.empty((n, H, S, A))
        V_all = np.empty((n, H, S))
        pi = np.empty((n, H, S), dtype=np.int64)
        V_next = np.zeros((n, S, 1))
        for h in range(H - 1, -1, -1):
            g = h if G > 1 else 0
            # Batched matmul: run i's product is one BLAS call of its own, so it does not depend on the batch.
            Q = np.matmul(P_hat[:, g].reshape(n, S * A, S), V_next)[..., 0].reshape(n, S, A)
            Q += self.rewards[h] if self.rewards is not None else R_hat[:, g]  # type: ignore[index]
            Q += bonus[:, g]
            cap = self.caps[h]
            np.minimum(Q, cap, out=Q)
            if self.monotone:
                np.minimum(Q, self.optimistic_q[:, h], out=Q)
            Q[~visited[:, g]] = cap
            a = np.argmax(Q, axis=-1)
            V = Q.max(axis=-1)  # the entry at the argmax, exactly
            Q_all[:, h], V_all[:, h], pi[:, h] = Q, V, a
            V_next = V[:, :, None]
        self.optimistic_q = Q_all
        self.optimistic_values = V_all
        self.policy = pi
        return pi

    # ------------------------------------------------------------------ data
    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Add one transition per run to the counts (and the reward sums when rewards are estimated)."""
        g = 0 if self.time_homogeneous else h
        r = self._runs
        # One entry per run: the indices never repeat within a call, so plain fancy-index increments are exact.
        self.counts[r, g, states, actions, next_states] += 1.0
        self.pair_counts[r, g, states, actions] += 1.0
        if self.rewards is None:
            rw = np.asarray(rewards, dtype=np.float64)
            if rw.min() < 0 or rw.max() > 1:
                raise ValueError("UCBVI assumes rewards in [0, 1] (Azar et al. 2017, §2); got a reward outside")
            self.reward_sums[r, g, states, actions] += rw
