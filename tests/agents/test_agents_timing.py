"""The learners' cost per episode does not grow with the episode index (rlberry-py/rlberry#14 is the failure mode:
LSVI-UCB recomputed from the whole history, so episode k costs O(k)).

Two measurements, neither of which depends on how busy the machine is:

* the learner's state (every array it holds) has the same size after the last episode as after the first tenth, so
  nothing is kept per episode (exact, deterministic);
* the CPU cost of an episode of the learner after K episodes over one after K/10, timed side by side
  (:func:`rltheory.agents.interleaved_cost_ratio`: both states deep-copied and run alternately, median of the
  per-repetition ratios), so that a change of the machine's load between the two moments cannot move it. The
  bound is loose (3x where the design target is 1.5x), and a learner whose episode cost grows with its history
  is shown to fail it. Speed claims live in ``benchmarks/``, not here."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import mdps
from mdps.linear import one_hot_features
from rltheory.agents import LSVIUCB, UCBVI, interleaved_cost_ratio, run_episodes


def _rngs(seeds):
    return [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]


def _state_bytes(learner) -> int:
    return sum(v.nbytes for v in vars(learner).values() if isinstance(v, np.ndarray))


def _learner(name: str, K: int, n: int):
    if name == "ucbvi":
        return UCBVI.for_mdp(
            mdps.riverswim(6, variant="osband", horizon=20), n, n_episodes=K, delta=0.1, bonus_scale=0.01
        )
    return LSVIUCB(one_hot_features(6, 2), 20, n, beta=0.5, refresh_every=10**9)


@pytest.mark.parametrize("name", ["ucbvi", "lsvi_ucb"])
def test_state_does_not_grow(name: str) -> None:
    mdp = mdps.riverswim(6, variant="osband", horizon=20)
    K, n = 400, 4
    learner = _learner(name, K, n)
    run_episodes(mdp, learner, K // 10, _rngs(range(n)))
    early = _state_bytes(learner)
    run_episodes(mdp, learner, K - K // 10, _rngs(range(n, 2 * n)))
    assert _state_bytes(learner) == early > 0


class _HistoryUCBVI(UCBVI):
    """The failure mode: keeps every transition and re-reads the whole history in every episode (O(k) work)."""

    def observe(self, h, states, actions, rewards, next_states):
        super().observe(h, states, actions, rewards, next_states)
        self._history = getattr(self, "_history", []) + [(h, states.copy(), actions.copy(), next_states.copy())]

    def begin_episode(self):
        for h, s, a, _ in getattr(self, "_history", []):  # recount from scratch, as a naive implementation would
            np.add.at(np.zeros((self.horizon, self.n_states, self.n_actions)), (h, s, a), 1.0)
        return super().begin_episode()


def _early_late(learner, mdp, K, n):
    early = []

    def snap(k, total):
        if k == K // 10:
            early.append(copy.deepcopy(learner))

    run_episodes(mdp, learner, K, _rngs(range(n)), progress=snap)
    return early[0], learner


@pytest.mark.parametrize("name", ["ucbvi", "lsvi_ucb"])
def test_cpu_cost_per_episode_does_not_grow(name: str) -> None:
    mdp = mdps.riverswim(6, variant="osband", horizon=20)
    K, n = 400, 4
    ratio = interleaved_cost_ratio(*_early_late(_learner(name, K, n), mdp, K, n), mdp)
    print(f"{name}: CPU cost of an episode after K / after K/10, side by side: {ratio:.2f}")
    assert ratio < 3.0


def test_a_learner_whose_cost_grows_with_its_history_is_caught() -> None:
    mdp = mdps.riverswim(6, variant="osband", horizon=20)
    K, n = 400, 4
    growing = _HistoryUCBVI.for_mdp(mdp, n, n_episodes=K, delta=0.1, bonus_scale=0.01)
    ratio = interleaved_cost_ratio(*_early_late(growing, mdp, K, n), mdp)
    assert ratio > 3.0, ratio
