"""Offline datasets: trajectories of a behaviour policy, and their single-policy concentrability coefficient.

A dataset of ``N`` trajectories of a finite-horizon MDP, collected by running a fixed behaviour policy ``pi_b`` from
the initial distribution, holds at step ``h`` i.i.d. draws of ``(s_h, a_h) ~ mu_h = d^{pi_b}_h`` (the behaviour's
occupancy measure), their mean rewards ``R_h(s_h, a_h)`` and next states ``s_{h+1} ~ P_h(. | s_h, a_h)``.

The single-policy concentrability coefficient of the data with respect to a target policy ``pi`` (by default an
optimal policy ``pi*``) is (Rashidinejad, Zhu, Ma, Jiao & Russell, NeurIPS 2021, arXiv:2103.12021, Definition 1, in
its finite-horizon per-step form)

    ``c*_off = max_{h, s, a} d^{pi}_h(s, a) / mu_h(s, a)``     (``0/0 = 0``, ``x/0 = inf`` for ``x > 0``),

computed here exactly from the two occupancy measures (:func:`rltheory.tabular.occupancy_measure`). Tan, Fan & Wei
(ICML 2025, arXiv:2505.03710) use "the single-policy concentrability coefficient" ``c*_off`` in their hybrid
condition ``N_off >= c*_off d H^4 / eps^2``; their exact definition was not read (only the abstract), and this is
the standard one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rltheory.mdp import TabularMDP
from rltheory.tabular import backward_induction, occupancy_measure
from rltheory.validation import generator

__all__ = ["OfflineDataset", "collect_offline_dataset", "concentrability", "mixture_behaviour_policy"]


@dataclass(frozen=True, eq=False)
class OfflineDataset:
    """``N`` trajectories of ``H`` steps, arrays ``[N, H]``; row ``i`` is trajectory ``i``.

    Attributes:
        states: ``s_h`` (int64).
        actions: ``a_h`` (int64).
        rewards: the mean rewards ``R_h(s_h, a_h)`` (float64), deterministic as in :func:`rltheory.agents.run_episodes`.
        next_states: ``s_{h+1}`` (int64); at the last step a draw from ``P_{H}`` that no learner uses for a target.
    """

    states: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_states: np.ndarray

    def __post_init__(self) -> None:
        shape = np.shape(self.states)
        if len(shape) != 2:
            raise ValueError(f"states must have shape [N, H], got {list(shape)}")
        for name in ("actions", "rewards", "next_states"):
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(
                    f"{name} must have the shape of states {list(shape)}, got {list(np.shape(getattr(self, name)))}"
                )

    @property
    def n_trajectories(self) -> int:
        """``N``."""
        return int(self.states.shape[0])

    @property
    def horizon(self) -> int:
        """``H``."""
        return int(self.states.shape[1])


def _probabilities(mdp: TabularMDP, policy: Any, name: str) -> np.ndarray:
    H, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    assert H is not None
    pol = np.asarray(policy)
    if pol.shape == (H, S) and np.issubdtype(pol.dtype, np.integer):
        if pol.min() < 0 or pol.max() >= A:
            raise ValueError(f"{name} actions must lie in [0, {A})")
        return np.eye(A)[pol]
    if pol.shape == (H, S, A) and np.issubdtype(pol.dtype, np.floating):
        if not np.isfinite(pol).all() or (pol < 0).any() or np.abs(pol.sum(-1) - 1).max() > 1e-10:
            raise ValueError(f"{name} rows must be probability vectors")
        return pol.astype(np.float64)
    raise ValueError(
        f"{name} must be deterministic [H, S] = [{H}, {S}] ints or stochastic [H, S, A] = [{H}, {S}, {A}] floats, "
        f"got {pol.dtype} {list(pol.shape)}"
    )


def _check_mdp(mdp: Any) -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if mdp.is_discounted or mdp.batched:
        raise ValueError("mdp must be an unbatched finite-horizon TabularMDP")
    return mdp


def mixture_behaviour_policy(mdp: TabularMDP, alpha: float, *, target: Any = None) -> np.ndarray:
    """The behaviour ``pi_b = (1 - alpha) pi + alpha Uniform(A)``, ``[H, S, A]``, with ``pi`` an optimal policy by
    default. Its concentrability with respect to ``pi`` (deterministic) is at most ``(1 - alpha + alpha / A)^{-H}``:
    ``pi_b`` follows ``pi`` for ``h`` steps with probability at least ``(1 - alpha + alpha / A)^h``.

    Args:
        mdp: an unbatched finite-horizon MDP.
        alpha: exploration weight in ``[0, 1]`` (0: the target itself, 1: uniform).
        target: the policy mixed in (``[H, S]`` ints or ``[H, S, A]`` floats); an optimal policy when None.
    """
    mdp = _check_mdp(mdp)
    if not (isinstance(alpha, (int, float, np.integer, np.floating)) and 0.0 <= float(alpha) <= 1.0):
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    pi = backward_induction(mdp).policy if target is None else target
    probs = _probabilities(mdp, pi, "target")
    return (1.0 - float(alpha)) * probs + float(alpha) / mdp.n_actions


def concentrability(mdp: TabularMDP, behaviour: Any, *, target: Any = None) -> float:
    """Single-policy concentrability ``c*_off = max_{h,s,a} d^{pi}_h(s, a) / d^{pi_b}_h(s, a)``, exactly.

    ``d^{pi}`` and ``d^{pi_b}`` are the occupancy measures from ``mdp.initial`` (:func:`rltheory.tabular.
    occupancy_measure`); ``0/0`` counts as 0 and ``x/0`` as ``inf`` for ``x > 0`` (the data never shows a pair the
    target visits). The target defaults to the optimal policy returned by :func:`rltheory.tabular.backward_induction`
    (ties broken towards the lowest action; with several optimal policies the coefficient depends on the choice).

    Args:
        mdp: an unbatched finite-horizon MDP.
        behaviour: the behaviour policy ``[H, S]`` ints or ``[H, S, A]`` floats.
        target: the comparator policy, optimal when None.

    Returns:
        ``c*_off >= 1`` (``inf`` when the data does not cover the target).
    """
    mdp = _check_mdp(mdp)
    pi = backward_induction(mdp).policy if target is None else target
    d_t = occupancy_measure(mdp, _probabilities(mdp, pi, "target"))
    d_b = occupancy_measure(mdp, _probabilities(mdp, behaviour, "behaviour"))
    pos = d_t > 0
    if (pos & (d_b <= 0)).any():
        return float("inf")
    return float(np.max(d_t[pos] / d_b[pos]))


def collect_offline_dataset(mdp: TabularMDP, behaviour: Any, n_trajectories: int, rng: Any = None) -> OfflineDataset:
    """Roll out ``n_trajectories`` independent episodes of ``behaviour`` from ``mdp.initial``.

    Sampling is by inverse CDF, like :func:`rltheory.agents.run_episodes`: per step one uniform array for the
    actions and one for the next states, so the dataset is a deterministic function of ``rng``.

    Args:
        mdp: an unbatched finite-horizon ``TabularMDP`` with a dense ``P``.
        behaviour: ``[H, S]`` ints or ``[H, S, A]`` floats.
        n_trajectories: ``N >= 0``.
        rng: anything ``numpy.random.default_rng`` accepts.

    Returns:
        :class:`OfflineDataset` with arrays ``[N, H]``.
    """
    mdp = _check_mdp(mdp)
    if mdp.is_sparse:
        raise ValueError("collect_offline_dataset needs a dense P")
    if isinstance(n_trajectories, bool) or not isinstance(n_trajectories, (int, np.integer)) or n_trajectories < 0:
        raise ValueError(f"n_trajectories must be an integer >= 0, got {n_trajectories!r}")
    probs = _probabilities(mdp, behaviour, "behaviour")
    gen = generator("rng", rng)
    H, S, A, N = mdp.horizon, mdp.n_states, mdp.n_actions, int(n_trajectories)
    assert H is not None
    P = np.asarray(mdp.P)
    P = P if mdp.p_time_varying else np.broadcast_to(P, (H, S, A, S))
    R = mdp.R if mdp.r_time_varying else np.broadcast_to(mdp.R, (H, S, A))
    states = np.empty((N, H), dtype=np.int64)
    actions = np.empty((N, H), dtype=np.int64)
    next_states = np.empty((N, H), dtype=np.int64)
    s = _inverse_cdf(np.broadcast_to(mdp.initial, (N, S)), gen.random(N))
    for h in range(H):
        a = _inverse_cdf(probs[h, s], gen.random(N))
        nxt = _inverse_cdf(P[h, s, a], gen.random(N))
        states[:, h], actions[:, h], next_states[:, h] = s, a, nxt
        s = nxt
    rewards = np.asarray(R[np.arange(H)[None, :], states, actions], dtype=np.float64)
    return OfflineDataset(states, actions, rewards, next_states)


def _inverse_cdf(rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Smallest index ``j`` with ``u < F(j)`` per row; round-off past ``F(-1) < 1`` goes to the last positive entry."""
    cdf = np.cumsum(rows, axis=-1)
    j = np.count_nonzero(cdf <= u[:, None], axis=-1)
    last = rows.shape[-1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=-1)
    return np.minimum(j, last).astype(np.int64)
