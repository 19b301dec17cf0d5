"""Online episodic learners and the vectorised runner that measures their exact regret.

Protocol:
    :class:`EpisodicLearner` (``begin_episode -> policy``, ``act``, ``observe``, ``end_episode``), vectorised over
    ``n_runs`` independent runs.
Runner:
    :func:`run_episodes` simulates the runs in lockstep, each from its own ``numpy.random.Generator``, and records
    the exact per-episode regret in an :class:`EpisodeLog`; :func:`interleaved_cost_ratio` compares the cost of an
    episode at two moments of a run, timed side by side so that the machine's load cancels.
Learners:
    :class:`UCBVI` (Azar, Osband & Munos 2017, Chernoff-Hoeffding bonus); :class:`LSVIUCB` (Jin, Yang, Wang & Jordan
    2020) with :func:`jin_beta` and :func:`jin_iota`.
"""

from rltheory.agents.lsvi_ucb import LSVIUCB, jin_beta, jin_iota
from rltheory.agents.protocol import EpisodicLearner, sample_actions
from rltheory.agents.runner import EpisodeLog, interleaved_cost_ratio, run_episodes
from rltheory.agents.ucbvi import UCBVI

__all__ = [
    "EpisodeLog",
    "EpisodicLearner",
    "LSVIUCB",
    "UCBVI",
    "interleaved_cost_ratio",
    "jin_beta",
    "jin_iota",
    "run_episodes",
    "sample_actions",
]
