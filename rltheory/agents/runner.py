"""Simulate many independent runs of an episodic learner in lockstep and record their exact regret.

Regret (Azar, Osband & Munos 2017, §2; Jin, Yang, Wang & Jordan 2020, §2): with ``pi_k`` the policy played in
episode ``k`` and ``s_1^k`` its initial state,

    ``Regret(K) = sum_{k=1}^K [ V*_1(s_1^k) - V^{pi_k}_1(s_1^k) ]``.

Both terms are computed exactly: ``V*`` once by backward induction, ``V^{pi_k}`` by an exact policy evaluation of
the ``n_runs`` episode policies in one batched call per episode. Only the initial states and the data the learner
sees are random; the per-episode regret is not a Monte-Carlo estimate of anything. Policies may be deterministic
(``[n_runs, H, S]`` ints) or stochastic (``[n_runs, H, S, A]`` probabilities, whose actions the runner samples from
each run's own generator); for a stochastic policy ``V^{pi_k}`` is the exact expectation over the action draws.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from rltheory.agents.protocol import EpisodicLearner, sample_actions
from rltheory.mdp import ROW_SUM_ATOL, TabularMDP
from rltheory.tabular import backward_induction, evaluate_policy
from rltheory.validation import real_scalar

__all__ = ["EpisodeLog", "interleaved_cost_ratio", "run_episodes"]

_cpu = time.process_time  # per-episode costs: CPU seconds of this process, blind to other load


@dataclass(frozen=True, eq=False)
class EpisodeLog:
    """What :func:`run_episodes` measured, one row per run and one column per episode.

    Attributes:
        regret: ``[n_runs, K]`` exact per-episode regret ``V*_1(s_1^k) - V^{pi_k}_1(s_1^k)`` (non-negative up to
            rounding).
        cumulative_regret: ``[n_runs, K]`` running sum of ``regret`` along episodes.
        suboptimality: ``[n_runs, K]`` ``sum_s mu(s) [V*_1(s) - V^{pi_k}_1(s)]`` for the initial distribution
            ``mu``: the expected regret of ``pi_k`` over the initial state, a lower-variance companion of ``regret``.
        returns: ``[n_runs, K]`` realised return (sum of the mean rewards collected) of each episode.
        initial_states: ``[n_runs, K]`` the initial states ``s_1^k``.
        optimal_values: ``[S]`` ``V*_1``.
        episode_time: ``[K]`` CPU seconds of this process (:func:`time.process_time`) spent on each episode for the
            whole batch (learner, simulation and exact evaluation). CPU time, not wall time, so that a cost-per-episode
            comparison does not change when other processes share the cores.
        learner_time: ``[K]`` the part of ``episode_time`` spent inside the learner's methods.
        checkpoint_episodes: ``[C]`` zero-based episode indices asked for in ``checkpoints``.
        checkpoint_policies: the policies played in those episodes (the policy learned from the first ``k``
            episodes is played in episode ``k``): ``[C, n_runs, H, S]`` int64 when every policy recorded is
            deterministic, else ``[C, n_runs, H, S, A]`` float64 probabilities (deterministic ones one-hot).
        elapsed: total wall-clock seconds.
    """

    regret: np.ndarray
    cumulative_regret: np.ndarray
    suboptimality: np.ndarray
    returns: np.ndarray
    initial_states: np.ndarray
    optimal_values: np.ndarray
    episode_time: np.ndarray
    learner_time: np.ndarray
    checkpoint_episodes: np.ndarray
    checkpoint_policies: np.ndarray
    elapsed: float

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.regret.shape[0])

    @property
    def n_episodes(self) -> int:
        """Number of episodes ``K``."""
        return int(self.regret.shape[1])


# ------------------------------------------------------------------------------------------------ sampling
class _Sampler:
    """Inverse-CDF sampling of next states for a batch of runs from one uniform per run.

    The next state is the smallest ``j`` with ``u < F(j)``, ``F`` the cumulative row ``P_h(. | s, a)``; a uniform that
    round-off pushes past ``F(S-1) < 1`` goes to the last state of positive probability. A state of probability 0 is
    never drawn.
    """

    def __init__(self, mdp: TabularMDP) -> None:
        self.sparse = mdp.is_sparse
        if isinstance(mdp.P, np.ndarray):
            P = mdp.P if mdp.p_time_varying else mdp.P[None]  # [Hp, S, A, S]
            self.cdf = np.cumsum(P, axis=-1)
            S = P.shape[-1]
            self.last = S - 1 - np.argmax(P[..., ::-1] > 0, axis=-1)  # last index of positive probability
        else:
            csr = mdp.P
            self.data, self.indices, self.indptr = csr.data, csr.indices, csr.indptr
            self.n_actions = mdp.n_actions

    def __call__(self, h: int, states: np.ndarray, actions: np.ndarray, u: np.ndarray) -> np.ndarray:
        if not self.sparse:
            hp = h if self.cdf.shape[0] > 1 else 0
            rows = self.cdf[hp, states, actions]  # [n, S]
            nxt = np.count_nonzero(rows <= u[:, None], axis=1)
            return np.minimum(nxt, self.last[hp, states, actions]).astype(np.int64)
        out = np.empty(len(states), dtype=np.int64)
        for i, (s, a, ui) in enumerate(zip(states, actions, u, strict=True)):
            r = int(s) * self.n_actions + int(a)
            lo, hi = self.indptr[r], self.indptr[r + 1]
            probs = self.data[lo:hi]
            j = int(np.count_nonzero(np.cumsum(probs) <= ui))
            if j >= hi - lo:  # round-off: the last stored entry of positive probability
                j = int(np.flatnonzero(probs > 0)[-1])
            out[i] = self.indices[lo + j]
        return out


def _sample_initial(cdf: np.ndarray, last: int, u: np.ndarray) -> np.ndarray:
    return np.minimum(np.count_nonzero(cdf[None, :] <= u[:, None], axis=1), last).astype(np.int64)


def _check_rngs(rngs: Any) -> list[np.random.Generator]:
    if isinstance(rngs, np.random.Generator) or not isinstance(rngs, Sequence):
        raise TypeError(
            "rngs must be a sequence of numpy.random.Generator, one per run "
            "(e.g. [np.random.default_rng(s) for s in np.random.SeedSequence(0).spawn(n_runs)])"
        )
    out = list(rngs)
    if not out:
        raise ValueError("rngs must hold at least one generator (one per run)")
    for i, g in enumerate(out):
        if not isinstance(g, np.random.Generator):
            raise TypeError(f"rngs[{i}] must be a numpy.random.Generator, got {type(g).__name__}")
    if len({id(g) for g in out}) != len(out):
        raise ValueError("rngs must be distinct generators: a shared generator would couple the runs")
    return out


def _check_checkpoints(checkpoints: Any, n_episodes: int) -> np.ndarray:
    if checkpoints is None:
        return np.zeros(0, dtype=np.int64)
    cp = np.asarray(checkpoints)
    if cp.ndim != 1 or not (cp.size == 0 or np.issubdtype(cp.dtype, np.integer)):
        raise ValueError(f"checkpoints must be a 1-D sequence of episode indices, got {checkpoints!r}")
    cp = np.unique(cp.astype(np.int64))
    if cp.size and (cp[0] < 0 or cp[-1] >= n_episodes):
        raise ValueError(f"checkpoints must lie in [0, n_episodes) = [0, {n_episodes}), got {checkpoints!r}")
    return cp


def _check_policy(policy: np.ndarray, n: int, H: int, S: int, A: int) -> bool:
    """Validate an episode policy; return whether it is stochastic."""
    if policy.shape == (n, H, S) and np.issubdtype(policy.dtype, np.integer):
        if policy.size and (policy.min() < 0 or policy.max() >= A):
            raise ValueError(f"begin_episode() returned actions outside [0, {A})")
        return False
    if policy.shape == (n, H, S, A) and np.issubdtype(policy.dtype, np.floating):
        if not np.isfinite(policy).all() or (policy < 0).any():
            raise ValueError("begin_episode() returned a stochastic policy with negative or non-finite entries")
        sums = policy.sum(axis=-1)
        off = np.abs(sums - 1.0)
        if off.max() > ROW_SUM_ATOL:
            idx = tuple(int(i) for i in np.unravel_index(np.argmax(off), off.shape))
            raise ValueError(
                f"begin_episode() returned a stochastic policy whose row [run, h, s] = {list(idx)} sums to "
                f"{sums[idx]!r}, not 1"
            )
        return True
    raise ValueError(
        f"begin_episode() must return an integer policy [n_runs, H, S] = [{n}, {H}, {S}] or a float policy "
        f"[n_runs, H, S, A] = [{n}, {H}, {S}, {A}], got {policy.dtype} {list(policy.shape)}"
    )


def run_episodes(
    mdp: TabularMDP,
    learner: EpisodicLearner,
    n_episodes: int,
    rngs: Sequence[np.random.Generator],
    *,
    checkpoints: Sequence[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EpisodeLog:
    """Run ``n_runs = len(rngs)`` independent learning runs of ``learner`` on ``mdp`` for ``n_episodes`` episodes.

    Each episode ``k``: the learner commits to a policy ``pi_k`` (:meth:`~EpisodicLearner.begin_episode`); every run
    draws ``s_1 ~ initial`` and then ``s_{h+1} ~ P_h(. | s_h, pi_k(h, s_h))``, collecting the mean reward
    ``R_h(s_h, a_h)`` (rewards are deterministic); the exact regret of ``pi_k`` is recorded.

    Randomness: run ``i`` draws exactly ``H + 1`` uniforms per episode from ``rngs[i]`` with one
    ``rngs[i].random(H + 1)`` call (the initial state from the first, the transition of step ``h`` from entry
    ``h + 1``) and uses no other source. When the episode's policy is stochastic, it then draws ``H`` more with one
    ``rngs[i].random(H)`` call, entry ``h`` choosing the action of step ``h`` by inverse-CDF sampling of
    ``policy[i, h, s_h]`` (:func:`~rltheory.agents.protocol.sample_actions`). Its trajectory therefore depends on its
    own generator only, not on which other runs share the batch (provided the learner keeps runs independent, as
    the learners here do).

    Args:
        mdp: a finite-horizon, unbatched ``TabularMDP`` (dense or sparse, time-homogeneous or not).
        learner: an :class:`EpisodicLearner` with ``n_runs == len(rngs)`` and the MDP's ``S``, ``A`` and ``H``; its
            :meth:`~EpisodicLearner.begin_episode` returns a deterministic ``[n_runs, H, S]`` or a stochastic
            ``[n_runs, H, S, A]`` policy (the kind may change from one episode to the next).
        n_episodes: number of episodes ``K >= 1``.
        rngs: one ``numpy.random.Generator`` per run, e.g. from ``SeedSequence(seed).spawn(n_runs)``.
        checkpoints: zero-based episode indices whose policies to keep in the log.
        progress: called as ``progress(k, n_episodes)`` after each completed episode ``k = 1..K`` (e.g. to advance
            a progress bar).

    Returns:
        :class:`EpisodeLog`.

    Raises:
        RuntimeError: if the learner's actions disagree with the deterministic policy it returned for the episode.
        ValueError: if a policy has the wrong shape or dtype, or a stochastic one has negative, non-finite or
            non-normalised rows.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if mdp.is_discounted or mdp.batched:
        raise ValueError("run_episodes needs an unbatched finite-horizon MDP (horizon=H)")
    if not isinstance(learner, EpisodicLearner):
        raise TypeError(f"learner must be an rltheory.agents.EpisodicLearner, got {type(learner).__name__}")
    K = real_scalar("n_episodes", n_episodes, integer=True, positive=True)
    gens = _check_rngs(rngs)
    n = len(gens)
    H, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    assert H is not None
    want = (S, A, H, n)
    got = (learner.n_states, learner.n_actions, learner.horizon, learner.n_runs)
    if got != want:
        raise ValueError(f"learner has (S, A, H, n_runs) = {got} but the MDP and rngs give {want}")
    cps = _check_checkpoints(checkpoints, K)

    t_start = time.perf_counter()
    V_star = backward_induction(mdp).values[0]  # [S]
    # One batched MDP sharing P: evaluates the n_runs episode policies in one call.
    P_shared = mdp.P if sp.issparse(mdp.P) else mdp.P[None]
    R_batch = np.broadcast_to(mdp.R, (n, *mdp.R.shape))  # batch size n, so n policies can be evaluated at once
    batch = TabularMDP(P_shared, R_batch, horizon=H, initial=mdp.initial, batched=True)
    R = mdp.R if mdp.r_time_varying else np.broadcast_to(mdp.R, (H, S, A))
    sampler = _Sampler(mdp)
    init_cdf = np.cumsum(mdp.initial)
    init_last = int(np.flatnonzero(mdp.initial > 0)[-1])
    runs = np.arange(n)

    regret = np.empty((n, K))
    subopt = np.empty((n, K))
    returns = np.empty((n, K))
    s1_all = np.empty((n, K), dtype=np.int64)
    episode_time = np.empty(K)
    learner_time = np.empty(K)
    # zeros: valid actions if made one-hot; becomes [C, n, H, S, A] floats at the first stochastic checkpoint
    cp_policies: np.ndarray = np.zeros((len(cps), n, H, S), dtype=np.int64)
    cp_pos = {int(k): i for i, k in enumerate(cps)}
    eye_A = np.eye(A)
    v = np.empty((n, 0))

    for k in range(K):
        t0 = _cpu()
        u = np.stack([g.random(H + 1) for g in gens])  # [n, H+1], run i's draws from rngs[i] only
        states = _sample_initial(init_cdf, init_last, u[:, 0])
        tl = _cpu()
        policy = learner.begin_episode()
        t_learn = _cpu() - tl
        policy = np.asarray(policy)
        stochastic = _check_policy(policy, n, H, S, A)
        if stochastic:
            v = np.stack([g.random(H) for g in gens])  # [n, H], run i's action draws from rngs[i] only
        if k in cp_pos:
            if stochastic and cp_policies.ndim == 4:  # first stochastic checkpoint: switch to probabilities
                cp_policies = eye_A[cp_policies]
            cp_policies[cp_pos[k]] = eye_A[policy] if cp_policies.ndim == 5 and not stochastic else policy
        s1 = states
        ret = np.zeros(n)
        for h in range(H):
            if stochastic:
                actions = sample_actions(policy[runs, h, states], v[:, h])
            else:
                tl = _cpu()
                actions = np.asarray(learner.act(h, states))
                t_learn += _cpu() - tl
                if not np.array_equal(actions, policy[runs, h, states]):
                    raise RuntimeError(f"episode {k}, step {h}: act() disagrees with the policy from begin_episode()")
            rewards = R[h, states, actions]
            nxt = sampler(h, states, actions, u[:, h + 1])
            tl = _cpu()
            learner.observe(h, states, actions, rewards, nxt)
            t_learn += _cpu() - tl
            ret += rewards
            states = nxt
        tl = _cpu()
        learner.end_episode()
        t_learn += _cpu() - tl

        V_pi = evaluate_policy(batch, policy).values[:, 0, :]  # [n, S]
        gap = V_star[None, :] - V_pi
        regret[:, k] = gap[runs, s1]
        subopt[:, k] = (gap * mdp.initial).sum(axis=1)  # row-wise, so run i's number ignores the others
        returns[:, k] = ret
        s1_all[:, k] = s1
        learner_time[k] = t_learn
        episode_time[k] = _cpu() - t0
        if progress is not None:
            progress(k + 1, K)

    return EpisodeLog(
        regret=regret,
        cumulative_regret=np.cumsum(regret, axis=1),
        suboptimality=subopt,
        returns=returns,
        initial_states=s1_all,
        optimal_values=V_star,
        episode_time=episode_time,
        learner_time=learner_time,
        checkpoint_episodes=cps,
        checkpoint_policies=cp_policies,
        elapsed=time.perf_counter() - t_start,
    )


def _one_episode_cost(learner: Any, mdp: TabularMDP, sampler: _Sampler, rng: np.random.Generator) -> float:
    """CPU seconds of one episode of the learner's methods (simulation excluded), on transitions drawn from ``mdp``."""
    n, H, A = learner.n_runs, mdp.horizon, mdp.n_actions
    assert H is not None
    init_cdf = np.cumsum(mdp.initial)
    states = _sample_initial(init_cdf, int(np.flatnonzero(mdp.initial > 0)[-1]), rng.random(n))
    R = mdp.R if mdp.r_time_varying else np.broadcast_to(mdp.R, (H, mdp.n_states, A))
    runs = np.arange(n)
    spent = 0.0
    t0 = _cpu()
    policy = np.asarray(learner.begin_episode())
    spent += _cpu() - t0
    for h in range(H):
        if policy.ndim == 4:
            actions = sample_actions(policy[runs, h, states], rng.random(n))
        else:
            t0 = _cpu()
            actions = np.asarray(learner.act(h, states))
            spent += _cpu() - t0
        nxt = sampler(h, states, actions, rng.random(n))
        t0 = _cpu()
        learner.observe(h, states, actions, R[h, states, actions], nxt)
        spent += _cpu() - t0
        states = nxt
    t0 = _cpu()
    learner.end_episode()
    return spent + _cpu() - t0


def interleaved_cost_ratio(
    early: Any, late: Any, mdp: TabularMDP, *, reps: int = 31, rng: np.random.Generator | int | None = 0
) -> float:
    """Cost of one more episode of learner ``late`` over one of ``early`` (two states of the same learner, e.g.
    after ``K/10`` and after ``K`` episodes), robust to the machine's load.

    Comparing the CPU time of the first and the last tenth of a run compares moments minutes apart: if the load on
    the machine changes in between (another process starts on the sibling hyper-thread, caches are shared), the
    ratio moves although the algorithm's cost does not. Here both states are timed at the same moment: each
    repetition deep-copies both and runs one episode of each, in alternating order (ABBA over pairs), and the
    result is the median over repetitions of the per-repetition ratio. A cost that grows with the episode index
    (e.g. a learner that recomputes from its whole history) shows as a ratio well above 1 however busy the
    machine is.

    Args:
        early, late: :class:`~rltheory.agents.EpisodicLearner` objects of the same shape (not modified).
        mdp: the finite-horizon MDP that supplies the transitions.
        reps: repetitions (odd, so the median is one of them).
        rng: seed or generator of the transitions.

    Returns:
        The median ratio ``cost(late) / cost(early)``.
    """
    import copy

    if int(reps) < 1:
        raise ValueError(f"reps must be >= 1, got {reps!r}")
    gen = np.random.default_rng(rng)
    sampler = _Sampler(mdp)
    ratios = []
    for r in range(int(reps)):
        a, b = copy.deepcopy(early), copy.deepcopy(late)
        seed = int(gen.integers(2**63))
        order = (a, b) if r % 2 == 0 else (b, a)
        cost = {id(x): _one_episode_cost(x, mdp, sampler, np.random.default_rng(seed)) for x in order}
        ratios.append(cost[id(b)] / max(cost[id(a)], 1e-9))
    return float(np.median(ratios))
