"""The learners' cost per episode does not grow with the episode index (rlberry-py/rlberry#14 is the failure mode:
LSVI-UCB recomputed from the whole history, so episode k costs O(k)).

Here, an exact and deterministic measurement: the learner's state (every array it holds) has the same size after
the last episode as after the first tenth, so nothing is kept per episode. Timing never decides a test: the CPU
cost of an episode at K over one at K/10, timed side by side, and the proof that it catches a learner whose cost
grows with its history, are in ``benchmarks/episode_cost.py``."""

from __future__ import annotations

import numpy as np
import pytest

import mdps
from mdps.linear import one_hot_features
from rltheory.agents import LSVIUCB, UCBVI, run_episodes


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
