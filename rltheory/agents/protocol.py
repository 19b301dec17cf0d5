"""The episodic interaction protocol shared by every online learner, vectorised over independent runs.

One learner object holds ``n_runs`` independent copies of an algorithm (one per seed). They share nothing but array
axes: run ``i`` only ever sees the transitions of run ``i``. In every episode the runner
(:func:`rltheory.agents.run_episodes`) calls, in this order::

    policy = learner.begin_episode()                          # fixed for the episode (see below)
    for h in range(H):
        actions = learner.act(h, states)                      # deterministic policies: policy[i, h, states[i]]
        #   (stochastic policies: the runner draws actions[i] ~ policy[i, h, states[i], :] itself)
        learner.observe(h, states, actions, rewards, next_states)
        states = next_states
    learner.end_episode()

``begin_episode`` returns the *whole* policy ``pi_k`` the learner commits to for episode ``k`` (for optimistic
algorithms: greedy in the optimistic Q-function computed from the first ``k - 1`` episodes), either

* **deterministic**: an integer array ``[n_runs, H, S]`` of actions. The runner calls :meth:`EpisodicLearner.act`
  and checks that it agrees with the policy; or
* **stochastic**: a float array ``[n_runs, H, S, A]`` of action probabilities (each row sums to 1), e.g. the
  exponential-weights policy of an actor-critic. The runner then samples every action itself, from the run's own
  generator (inverse-CDF sampling of ``policy[i, h, s_h]``), and does not call ``act``.

Because the policy is fixed for the episode, the runner can compute its exact value ``V^{pi_k}`` and hence the exact
per-episode regret ``V*_1(s_1^k) - V^{pi_k}_1(s_1^k)`` (the regret of Azar et al. 2017 and Jin et al. 2020), instead
of a Monte-Carlo estimate; for a stochastic policy ``V^{pi_k}`` is the exact expectation over its action draws.

Steps ``h`` are zero-indexed (``h = 0`` is the papers' ``h = 1``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from rltheory.validation import real_scalar

__all__ = ["EpisodicLearner", "sample_actions"]


def _positive_int(name: str, value: Any) -> int:
    return real_scalar(name, value, integer=True, positive=True)


def sample_actions(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws of one action per row: the smallest ``a`` with ``u < F(a)``, ``F`` the cumulative row.

    A uniform that round-off pushes past ``F(A - 1) < 1`` goes to the last action of positive probability, so an
    action of probability 0 is never drawn.

    Args:
        probs: ``[n, A]`` rows of action probabilities.
        u: ``[n]`` uniforms in ``[0, 1)``.

    Returns:
        ``[n]`` int64 actions.
    """
    cdf = np.cumsum(probs, axis=-1)
    a = np.count_nonzero(cdf <= u[:, None], axis=-1)
    last = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.minimum(a, last).astype(np.int64)


class EpisodicLearner(ABC):
    """Base class of a finite-horizon episodic learner running ``n_runs`` independent copies in lockstep.

    Subclasses implement :meth:`begin_episode` and :meth:`observe`; :meth:`act` looks the action up in the policy of
    the current episode and :meth:`end_episode` does nothing unless overridden.

    Args:
        n_states: number of states ``S``.
        n_actions: number of actions ``A``.
        horizon: episode length ``H``.
        n_runs: number of independent runs (seeds) vectorised in this object.

    Attributes:
        policy: the policy of the current episode (set by :meth:`begin_episode`): deterministic ``[n_runs, H, S]``
            int64 or stochastic ``[n_runs, H, S, A]`` float64; None before the first episode.
        episode: number of completed episodes.
    """

    def __init__(self, n_states: int, n_actions: int, horizon: int, n_runs: int) -> None:
        self.n_states = _positive_int("n_states", n_states)
        self.n_actions = _positive_int("n_actions", n_actions)
        self.horizon = _positive_int("horizon", horizon)
        self.n_runs = _positive_int("n_runs", n_runs)
        self.policy: np.ndarray | None = None
        self.episode = 0
        self._runs = np.arange(self.n_runs)

    @abstractmethod
    def begin_episode(self) -> np.ndarray:
        """Plan for the next episode and return its policy: deterministic ``[n_runs, H, S]`` (int64) or stochastic
        ``[n_runs, H, S, A]`` (float64 probabilities).

        The policy is a function of the runs' own past transitions only, and it is fixed for the episode.
        Implementations must also store it in :attr:`policy`.
        """

    def act(self, h: int, states: np.ndarray) -> np.ndarray:
        """Actions ``[n_runs]`` at step ``h`` in ``states`` ``[n_runs]``: ``policy[i, h, states[i]]``.

        Only for deterministic policies: the actions of a stochastic policy are drawn by the runner, from each
        run's own generator (:func:`sample_actions`), so that the runs stay reproducible per seed.
        """
        if self.policy is None:
            raise RuntimeError("act() called before begin_episode()")
        if self.policy.ndim == 4:
            raise RuntimeError(
                "act() is for deterministic policies; the runner samples the actions of a stochastic policy "
                "(rltheory.agents.protocol.sample_actions)"
            )
        return self.policy[self._runs, h, states]

    @abstractmethod
    def observe(
        self, h: int, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray
    ) -> None:
        """Record one transition per run at step ``h``: int arrays ``states``, ``actions``, ``next_states`` and
        float ``rewards``, all ``[n_runs]``."""

    def end_episode(self) -> None:
        """Close the episode (the default only counts it)."""
        self.episode += 1
