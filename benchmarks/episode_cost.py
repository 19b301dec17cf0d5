"""The CPU cost of a learner's episode does not grow with the episode index, timed side by side.

Usage::

    python benchmarks/episode_cost.py

Not in the test suite (timing never decides a test): :func:`rltheory.agents.interleaved_cost_ratio` deep-copies the
learner after K/10 and after K episodes and times one episode of each alternately (median of 31 per-repetition
ratios), so the machine's load cancels. UCBVI and LSVI-UCB must stay below 3 (design target 1.5; measured about
1.0), and a UCBVI that re-reads its whole history every episode (the O(k) failure mode of rlberry-py/rlberry#14)
must come out above 3 (measured about 7). Exits non-zero when either fails.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mdps  # noqa: E402
from mdps.linear import one_hot_features  # noqa: E402
from rltheory.agents import LSVIUCB, UCBVI, interleaved_cost_ratio, run_episodes  # noqa: E402


def _rngs(seeds):
    return [np.random.default_rng(np.random.SeedSequence(s)) for s in seeds]


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


def _learner(name: str, K: int, n: int):
    if name == "ucbvi":
        mdp = mdps.riverswim(6, variant="osband", horizon=20)
        return UCBVI.for_mdp(mdp, n, n_episodes=K, delta=0.1, bonus_scale=0.01)
    if name == "history-ucbvi":
        mdp = mdps.riverswim(6, variant="osband", horizon=20)
        return _HistoryUCBVI.for_mdp(mdp, n, n_episodes=K, delta=0.1, bonus_scale=0.01)
    return LSVIUCB(one_hot_features(6, 2), 20, n, beta=0.5, refresh_every=10**9)


def main() -> int:
    mdp = mdps.riverswim(6, variant="osband", horizon=20)
    K, n = 400, 4
    ok = True
    for name in ("ucbvi", "lsvi_ucb", "history-ucbvi"):
        ratio = interleaved_cost_ratio(*_early_late(_learner(name, K, n), mdp, K, n), mdp)
        good = ratio > 3.0 if name == "history-ucbvi" else ratio < 3.0
        ok &= good
        print(
            f"{name:14s} CPU cost of an episode after K / after K/10, side by side: {ratio:.2f}"
            f"  {'ok' if good else 'WRONG'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
