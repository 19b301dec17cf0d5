"""The tabular MDP zoo: classic exploration benchmarks and random MDP families as ``TabularMDP`` instances.

Every constructor returns a validated :class:`rltheory.mdp.TabularMDP` and takes ``horizon`` and ``gamma``
keyword-only (exactly one; when both are omitted each constructor uses the default horizon stated in its
docstring). Random constructors take ``rng``: anything :func:`numpy.random.default_rng` accepts (a
``Generator``, an ``int`` seed, a ``SeedSequence`` or ``None``); none touches NumPy's global random state.

Instances
    :func:`riverswim`   Strehl & Littman's RiverSwim (and Osband et al.'s variant).
    :func:`chain`       a slippery chain (rlberry's ``Chain``).
    :func:`deep_sea`    bsuite's DeepSea, transition for transition.
    :func:`gridworld`   a slippery gridworld, sparse ``P``, up to 10^6 states.
    :func:`garnet`      Garnet random MDPs (Archibald, McKinnon & Thomas 1995).
    :func:`random_mdp`  dense Dirichlet random MDPs, optionally time-inhomogeneous.

Registry
    :data:`ZOO` maps a name to its constructor; :func:`make` builds an instance by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from rltheory.mdp import TabularMDP
from rltheory.validation import boolean, generator, real_scalar

__all__ = [
    "riverswim",
    "chain",
    "deep_sea",
    "gridworld",
    "garnet",
    "random_mdp",
    "ZOO",
    "make",
    "RIVERSWIM_VARIANTS",
    "GRID_MOVES",
]

RngLike = np.random.Generator | np.random.SeedSequence | int | None


# ---------------------------------------------------------------------------------------------- validation
# (rltheory.validation: one set of checks for the whole package)
def _check_int(name: str, value: Any, *, minimum: int) -> int:
    return real_scalar(name, value, integer=True, lo=minimum)


def _check_real(name: str, value: Any, *, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> float:
    return real_scalar(name, value, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)


_check_bool = boolean


def _resolve_horizon(horizon: Any, gamma: Any, default: int) -> tuple[int | None, float | None]:
    """Validate ``horizon``/``gamma`` before any array is built; ``default`` horizon when both are None."""
    if horizon is not None and gamma is not None:
        raise ValueError(f"give at most one of horizon and gamma, got horizon={horizon!r}, gamma={gamma!r}")
    if gamma is not None:
        return None, _check_real("gamma", gamma, lo=0.0, hi=1.0, hi_open=True)
    if horizon is None:
        return default, None
    return _check_int("horizon", horizon, minimum=1), None


def _from_triplets(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, S: int, A: int, *, sparse: bool
) -> np.ndarray | sp.csr_array:
    """``P`` from (row ``s*A + a``, next state, probability) triplets; duplicates are summed."""
    if sparse:
        P = sp.csr_array((vals, (rows, cols)), shape=(S * A, S))
        P.sum_duplicates()
        return P
    dense = np.zeros((S * A, S))
    np.add.at(dense, (rows, cols), vals)
    return dense.reshape(S, A, S)


# ---------------------------------------------------------------------------------------------- RiverSwim
#: Parameters of the two RiverSwim variants. Probabilities of action ``right`` as (left, stay, right) at the
#: leftmost, interior and rightmost states; ``reward_left`` is earned by ``left`` at state 0 and
#: ``reward_right`` on the transition (rightmost, right) -> rightmost (``right_on_stay``) or on the pair
#: (rightmost, right) whatever the outcome; ``initial`` lists the start states (uniform over them).
RIVERSWIM_VARIANTS: dict[str, dict[str, Any]] = {
    "strehl-littman": {
        "first": (0.0, 0.7, 0.3),
        "middle": (0.1, 0.6, 0.3),
        "last": (0.7, 0.3, 0.0),
        "reward_left": 5.0,
        "reward_right": 10000.0,
        "right_on_stay": True,
        "initial": (1, 2),
    },
    "osband": {
        "first": (0.0, 0.4, 0.6),
        "middle": (0.05, 0.6, 0.35),
        "last": (0.4, 0.6, 0.0),
        "reward_left": 5.0 / 1000.0,
        "reward_right": 1.0,
        "right_on_stay": False,
        "initial": (0,),
    },
}


def riverswim(
    n_states: int = 6,
    *,
    variant: str = "strehl-littman",
    reward_scale: float = 1.0,
    normalized: bool = False,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """RiverSwim: a chain where swimming right, against the current, is slow but leads to a large reward.

    States ``0..n_states-1`` left to right; action 0 = ``left`` (with the current: deterministic move one state
    left, staying put at state 0), action 1 = ``right``. With ``variant="strehl-littman"`` (the default, the
    original of Strehl & Littman 2008, Fig. 2 there) ``right`` gives, as (left, stay, right) probabilities::

        state 0:           (0,    0.7, 0.3)
        interior states:   (0.1,  0.6, 0.3)
        state n_states-1:  (0.7,  0.3, 0  )

    with reward 5 on ``(0, left)`` and reward 10000 on the transition ``(n_states-1, right) -> n_states-1``
    only, so the *mean* reward ``R[n_states-1, right] = 0.3 * 10000 = 3000``. The start state is uniform over
    states 1 and 2 (the figure numbers the states from 0, so these are the second and third).

    ``variant="osband"`` is the version of Osband, Russo & Van Roy (2013, Fig. 2) used by most regret papers:
    ``right`` is (0, 0.4, 0.6) at state 0, (0.05, 0.6, 0.35) inside and (0.4, 0.6, 0) at the right end; mean
    rewards ``R[0, left] = 5/1000`` and ``R[n_states-1, right] = 1``; start at state 0.

    Rewards are ``reward_scale * R`` where ``R`` is divided by the variant's largest transition reward
    (10000 resp. 1) when ``normalized=True``. Many regret analyses assume rewards in ``[0, 1]``; with the
    original numbers, ``normalized=True`` gives ``R[0, left] = 5e-4`` and ``R[n_states-1, right] = 0.3``.

    Sources and disagreements: the Strehl-Littman numbers are read off the paper's figure (reproduced in
    github.com/cruz-lucas/riverswim, docs/img/riverswim.png, and agreeing with the ``table-rl`` package).
    Some later descriptions give 0.35/0.6/0.05 inside and 0.4/0.6 at the ends: those are Osband et al.'s
    numbers, offered here as ``variant="osband"`` (confirmed from two public implementations of that paper;
    the paper's appendix figure itself was not available to check). Reproductions disagree on the start
    state of the original (states {1, 2} in ``table-rl``, {0, 1} in cruz-lucas/riverswim); we follow the
    figure's numbering, {1, 2}. For Osband et al. we start at state 0, as the public implementations do.

    Args:
        n_states: number of states, ``>= 3``.
        variant: ``"strehl-littman"`` or ``"osband"``.
        reward_scale: factor applied to every reward (after ``normalized``).
        normalized: divide rewards by the variant's largest transition reward.
        horizon: number of steps; default 20 when ``gamma`` is not given either.
        gamma: discount factor in ``[0, 1)``.

    Returns:
        A ``TabularMDP`` with dense ``P: [S, 2, S]``, ``R: [S, 2]``, ``S = n_states``.

    References:
        A. L. Strehl and M. L. Littman, "An analysis of model-based Interval Estimation for Markov decision
        processes", Journal of Computer and System Sciences 74(8):1309-1331, 2008.
        I. Osband, D. Russo and B. Van Roy, "(More) efficient reinforcement learning via posterior sampling",
        NeurIPS 2013, arXiv:1306.0940.
    """
    S = _check_int("n_states", n_states, minimum=3)
    if variant not in RIVERSWIM_VARIANTS:
        raise ValueError(f"variant must be one of {sorted(RIVERSWIM_VARIANTS)}, got {variant!r}")
    scale = _check_real("reward_scale", reward_scale, lo=-np.inf, hi=np.inf)
    normalized = _check_bool("normalized", normalized)
    horizon, gamma = _resolve_horizon(horizon, gamma, default=20)
    spec = RIVERSWIM_VARIANTS[variant]

    s = np.arange(S)
    P = np.zeros((S, 2, S))
    P[s, 0, np.maximum(s - 1, 0)] = 1.0
    inner = s[1:-1]
    p_left, p_stay, p_right = spec["middle"]
    P[inner, 1, inner - 1] = p_left
    P[inner, 1, inner] = p_stay
    P[inner, 1, inner + 1] = p_right
    _, p_stay, p_right = spec["first"]
    P[0, 1, 0], P[0, 1, 1] = p_stay, p_right
    p_left, p_stay, _ = spec["last"]
    P[S - 1, 1, S - 2], P[S - 1, 1, S - 1] = p_left, p_stay

    R = np.zeros((S, 2))
    R[0, 0] = spec["reward_left"]
    R[S - 1, 1] = spec["reward_right"] * (P[S - 1, 1, S - 1] if spec["right_on_stay"] else 1.0)
    if normalized:
        R /= spec["reward_right"]
    R *= scale

    initial = np.zeros(S)
    initial[list(spec["initial"])] = 1.0 / len(spec["initial"])
    return TabularMDP(P, R, horizon=horizon, gamma=gamma, initial=initial)


# ---------------------------------------------------------------------------------------------- Chain
def chain(
    n_states: int = 10,
    *,
    fail_prob: float = 0.1,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """A slippery chain: the intended move left or right fails with probability ``fail_prob``.

    States ``0..n_states-1``; action 0 = left, 1 = right. Taking action ``a`` in ``s`` moves to the intended
    neighbour with probability ``1 - fail_prob`` and to the other neighbour with probability ``fail_prob``;
    a move off either end stays put, so

        ``P(s' | s, right) = (1 - p) 1[s' = min(s+1, n-1)] + p 1[s' = max(s-1, 0)]``

    and symmetrically for ``left``. The only reward is ``R[n_states-1, right] = 1``; the start is state 0.

    This follows rlberry's ``Chain`` (rlberry.envs.finite.Chain) for the dynamics; rlberry additionally pays
    0.05 in state 0 and 1 for both actions in the last state, which we drop so that the optimal policy is
    "always right" and the only reward sits at the far end.

    Args:
        n_states: number of states, ``>= 2``.
        fail_prob: probability in ``[0, 1]`` that a move goes the other way.
        horizon: number of steps; default ``2 * n_states`` when ``gamma`` is not given either.
        gamma: discount factor in ``[0, 1)``.

    Returns:
        A ``TabularMDP`` with dense ``P: [S, 2, S]``, ``R: [S, 2]``, ``S = n_states``.

    References:
        O. D. Domingues, Y. Flet-Berliac, E. Leurent, P. Ménard, X. Shang and M. Valko, "rlberry - A
        reinforcement learning library for research and education", GitHub, 2021
        (https://github.com/rlberry-py/rlberry).
    """
    S = _check_int("n_states", n_states, minimum=2)
    p = _check_real("fail_prob", fail_prob, lo=0.0, hi=1.0)
    horizon, gamma = _resolve_horizon(horizon, gamma, default=2 * S)

    s = np.arange(S)
    left, right = np.maximum(s - 1, 0), np.minimum(s + 1, S - 1)
    rows = np.concatenate([2 * s, 2 * s, 2 * s + 1, 2 * s + 1])
    cols = np.concatenate([left, right, right, left])
    vals = np.concatenate([np.full(S, 1 - p), np.full(S, p), np.full(S, 1 - p), np.full(S, p)])
    P = _from_triplets(rows, cols, vals, S, 2, sparse=False)
    R = np.zeros((S, 2))
    R[S - 1, 1] = 1.0
    initial = np.zeros(S)
    initial[0] = 1.0
    return TabularMDP(P, R, horizon=horizon, gamma=gamma, initial=initial)


# ---------------------------------------------------------------------------------------------- DeepSea
def deep_sea(
    size: int = 10,
    *,
    deterministic: bool = True,
    unscaled_move_cost: float = 0.01,
    randomize_actions: bool = True,
    mapping_seed: int = 42,
    sparse: bool = False,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """bsuite's DeepSea: an ``N x N`` grid the agent falls down, paying to go right towards a reward of 1.

    The agent starts in the top-left cell ``(row, col) = (0, 0)``. Every step moves it one row down; the
    action moves it one column left or right (clipped at the edges). Which action means ``right`` is a random
    per-cell mapping: action ``a`` is ``right`` in cell ``(r, c)`` iff ``a == mapping[r, c]`` with
    ``mapping = numpy.random.RandomState(mapping_seed).binomial(1, 0.5, [N, N])`` exactly as in bsuite
    (``randomize_actions=False``: ``mapping = 1``, action 1 is always right). Mean rewards, as in bsuite's
    ``_step``:

        ``R[(r, c), a] = 1[c = N-1 and right] - 1[right] * unscaled_move_cost / N``.

    With ``deterministic=False`` a ``right`` move fails (column unchanged, the cost is still paid) with
    probability ``1/N``; bsuite also adds ``N(0, 1)`` noise to the rewards of the bottom-row end cells, which
    has mean zero and is therefore absent from ``R``. The optimal return of the deterministic version is
    ``1 - unscaled_move_cost`` (0.99 by default): ``N`` right moves, each costing ``unscaled_move_cost / N``.

    State indexing: cell ``(r, c)`` is state ``r * N + c`` for ``r, c in 0..N-1``; state ``N * N`` is an
    absorbing zero-reward terminal state reached from the bottom row, standing for bsuite's end of episode.
    With the default ``horizon = N`` the terminal state is never reached within the horizon; it makes a
    longer horizon or a discount give the same returns as bsuite's episodes. At step ``h`` the agent is
    always in row ``h``, so only cells with ``c <= r`` are reachable.

    Args:
        size: grid size ``N >= 1``.
        deterministic: ``False`` for bsuite's stochastic ("windy") version.
        unscaled_move_cost: total cost of ``N`` right moves, ``>= 0``.
        randomize_actions: draw the per-cell action mapping (bsuite's default); ``False`` is bsuite's
            debugging mode with action 1 = right everywhere.
        mapping_seed: seed of the ``RandomState`` that draws the mapping.
        sparse: return ``P`` as a CSR matrix ``[S*2, S]`` instead of dense ``[S, 2, S]``.
        horizon: number of steps; default ``N``, the length of a bsuite episode.
        gamma: discount factor in ``[0, 1)``.

    Returns:
        A ``TabularMDP`` with ``S = N*N + 1`` states and 2 actions, starting in state 0.

    References:
        I. Osband, Y. Doron, M. Hessel, J. Aslanides, E. Sezener, A. Saraiva, K. McKinney, T. Lattimore,
        C. Szepesvári, S. Singh, B. Van Roy, R. Sutton, D. Silver and H. van Hasselt, "Behaviour Suite for
        Reinforcement Learning", ICLR 2020, arXiv:1908.03568 (code: bsuite/environments/deep_sea.py).
        I. Osband, J. Aslanides and A. Cassirer, "Randomized prior functions for deep reinforcement
        learning", NeurIPS 2018, arXiv:1806.03335.
    """
    N = _check_int("size", size, minimum=1)
    deterministic = _check_bool("deterministic", deterministic)
    cost = _check_real("unscaled_move_cost", unscaled_move_cost, lo=0.0, hi=np.inf) / N
    randomize_actions = _check_bool("randomize_actions", randomize_actions)
    mapping_seed = _check_int("mapping_seed", mapping_seed, minimum=0)
    sparse = _check_bool("sparse", sparse)
    horizon, gamma = _resolve_horizon(horizon, gamma, default=N)

    if randomize_actions:
        # bsuite's own (legacy) generator, seeded locally, so that the mapping matches bsuite bit for bit.
        mapping = np.random.RandomState(mapping_seed).binomial(1, 0.5, [N, N])  # noqa: NPY002
    else:
        mapping = np.ones((N, N), dtype=np.int64)

    S, terminal = N * N + 1, N * N
    row, col = np.divmod(np.arange(N * N), N)
    below = row + 1 < N

    def cell(c: np.ndarray) -> np.ndarray:
        return np.where(below, (row + 1) * N + c, terminal)

    p_move = 1.0 if deterministic else 1.0 - 1.0 / N
    rows, cols, vals = [], [], []
    R = np.zeros((S, 2))
    for a in (0, 1):
        right = mapping[row, col] == a
        sa = np.arange(N * N) * 2 + a
        dest = np.where(right, cell(np.minimum(col + 1, N - 1)), cell(np.maximum(col - 1, 0)))
        rows += [sa, sa[right]]
        cols += [dest, cell(col)[right]]
        vals += [np.where(right, p_move, 1.0), np.full(int(right.sum()), 1.0 - p_move)]
        R[: N * N, a] = np.where(right, (col == N - 1) - cost, 0.0)
    rows.append(np.array([2 * terminal, 2 * terminal + 1]))
    cols.append(np.array([terminal, terminal]))
    vals.append(np.ones(2))
    rows_a, cols_a, vals_a = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    keep = vals_a > 0
    P = _from_triplets(rows_a[keep], cols_a[keep], vals_a[keep], S, 2, sparse=sparse)
    initial = np.zeros(S)
    initial[0] = 1.0
    return TabularMDP(P, R, horizon=horizon, gamma=gamma, initial=initial)


# ---------------------------------------------------------------------------------------------- GridWorld
#: ``(d_row, d_col)`` of actions 0..3 = up, right, down, left.
GRID_MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (0, 1), (1, 0), (0, -1))


#: States per block when building a gridworld's P (bounds the temporaries to a few tens of MB).
_GRID_BLOCK = 1 << 16
#: Slot (in increasing order of next state: up, left, self, right, down) of the outcome of each action.
_SLOT_OF_ACTION = np.array([0, 3, 4, 1])


def _grid_block(lo: int, hi: int, n_rows: int, n_cols: int, slip: float) -> tuple[np.ndarray, np.ndarray]:
    """Transition weights ``[n, 4, 5]`` and next states ``[n, 5]`` of states ``lo..hi-1`` of a gridworld.

    The five slots of a state are its up, left, self, right and down cells, in increasing state order; a
    blocked move puts its mass on the self slot, which merges duplicate outcomes.
    """
    s = np.arange(lo, hi, dtype=np.int64)
    row, col = np.divmod(s, n_cols)
    dest = np.stack([s - n_cols, s - 1, s, s + 1, s + n_cols], axis=1)
    open_ = np.stack([row > 0, col > 0, np.zeros(s.size, bool), col < n_cols - 1, row < n_rows - 1], axis=1)
    blocked = ~open_[:, _SLOT_OF_ACTION]  # [n, 4]: is move a blocked in s
    base = (slip / 4) * open_  # random-move mass on each open neighbour
    base[:, 2] = (slip / 4) * blocked.sum(axis=1)
    W = np.repeat(base[:, None, :], 4, axis=1)
    intended = np.where(blocked, 2, _SLOT_OF_ACTION[None, :])  # [n, 4] slot of the intended outcome
    W[np.arange(s.size)[:, None], np.arange(4)[None, :], intended] += 1.0 - slip
    return W, dest


def gridworld(
    n_rows: int,
    n_cols: int,
    *,
    slip: float = 0.1,
    goal: tuple[int, int] | None = None,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """A slippery ``n_rows x n_cols`` gridworld with a rewarding goal cell; ``P`` is sparse.

    Cell ``(r, c)`` is state ``r * n_cols + c``, row 0 at the top. Actions 0..3 = up, right, down, left.
    With probability ``1 - slip`` the intended move happens, with probability ``slip`` one of the four moves
    drawn uniformly; a move into the outer wall leaves the agent in place:

        ``P(s' | s, a) = (1 - slip) 1[s' = m(s, a)] + (slip / 4) sum_b 1[s' = m(s, b)]``

    with ``m(s, b)`` the cell reached by move ``b``. ``R[goal, a] = 1`` for every action ``a`` and 0
    elsewhere; the goal is not absorbing (an agent can stay by walking into a wall and collect again). The
    start is the top-left cell, state 0.

    ``P`` is a CSR matrix ``[S*4, S]`` built without any Python loop over states; each row holds at most
    five entries (the four neighbours and, when some move is blocked, the cell itself, duplicates merged),
    sorted by next state, and the states are processed in blocks, so a 1000 x 1000 grid (10^6 states,
    1.6 * 10^7 entries, 0.2 GB of CSR arrays) builds in one to two seconds with a peak of about 0.65 GB, most of
    it ``TabularMDP``'s validation copy of ``P``.

    Args:
        n_rows: number of rows, ``>= 1``.
        n_cols: number of columns, ``>= 1``.
        slip: probability in ``[0, 1]`` of replacing the action by a uniformly random move.
        goal: ``(row, col)`` of the goal; the bottom-right cell when omitted.
        horizon: number of steps; default ``2 * (n_rows + n_cols)`` when ``gamma`` is not given either.
        gamma: discount factor in ``[0, 1)``.

    Returns:
        A ``TabularMDP`` with sparse ``P: [S*4, S]`` and ``R: [S, 4]``, ``S = n_rows * n_cols``.

    References:
        R. S. Sutton and A. G. Barto, *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press 2018,
        Example 3.5 (gridworld); the slip model is the "noisy" gridworld of S. Russell and P. Norvig,
        *Artificial Intelligence: A Modern Approach*, Prentice Hall 1995, Ch. 17.
    """
    n_rows = _check_int("n_rows", n_rows, minimum=1)
    n_cols = _check_int("n_cols", n_cols, minimum=1)
    slip = _check_real("slip", slip, lo=0.0, hi=1.0)
    if goal is None:
        goal = (n_rows - 1, n_cols - 1)
    try:
        g_row, g_col = goal
        g_row, g_col = int(g_row), int(g_col)
        ok = (g_row, g_col) == tuple(goal) and 0 <= g_row < n_rows and 0 <= g_col < n_cols
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"goal must be a (row, col) inside the {n_rows} x {n_cols} grid, got {goal!r}")
    horizon, gamma = _resolve_horizon(horizon, gamma, default=2 * (n_rows + n_cols))

    S, A = n_rows * n_cols, 4
    index_dtype = np.int32 if 5 * A * S < 2**31 else np.int64  # nnz <= 5 entries per row
    # Blocks of states bound the temporaries; within a block everything is vectorised. Pass 1 counts the
    # entries of each row, pass 2 writes them straight into the preallocated CSR arrays.
    blocks = [(lo, min(lo + _GRID_BLOCK, S)) for lo in range(0, S, _GRID_BLOCK)]
    counts = np.empty(S * A, dtype=np.int64)
    for lo, hi in blocks:
        W, _ = _grid_block(lo, hi, n_rows, n_cols, slip)
        counts[lo * A : hi * A] = (W > 0).sum(axis=-1).ravel()
    indptr = np.zeros(S * A + 1, dtype=index_dtype)
    np.cumsum(counts, out=indptr[1:])
    del counts
    data = np.empty(int(indptr[-1]))
    indices = np.empty(int(indptr[-1]), dtype=index_dtype)
    for lo, hi in blocks:
        W, dest = _grid_block(lo, hi, n_rows, n_cols, slip)
        mask = W > 0
        start, stop = indptr[lo * A], indptr[hi * A]
        data[start:stop] = W[mask]
        indices[start:stop] = np.broadcast_to(dest[:, None, :], W.shape)[mask]
    P = sp.csr_array((data, indices, indptr), shape=(S * A, S))
    P.has_canonical_format = True  # sorted by construction, no duplicates: skip scipy's re-check

    R = np.zeros((S, A))
    R[g_row * n_cols + g_col, :] = 1.0
    initial = np.zeros(S)
    initial[0] = 1.0
    return TabularMDP(P, R, horizon=horizon, gamma=gamma, initial=initial)


# ---------------------------------------------------------------------------------------------- Garnet
def _random_subsets(rng: np.random.Generator, n: int, S: int, b: int) -> np.ndarray:
    """``n`` independent uniformly random ``b``-subsets of ``range(S)``, each sorted: ``[n, b]``.

    Robert Floyd's algorithm, vectorised over the ``n`` rows (``O(n b^2)``), when ``b^2 <= S``; otherwise the
    ``b`` smallest of ``S`` i.i.d. uniform keys per row (``O(n S)``), in chunks to bound memory.
    """
    if b * b <= S:
        out = np.empty((n, b), dtype=np.int64)
        for k, j in enumerate(range(S - b, S)):
            t = rng.integers(0, j + 1, size=n)
            out[:, k] = np.where((out[:, :k] == t[:, None]).any(axis=1), j, t)
    else:
        out = np.empty((n, b), dtype=np.int64)
        chunk = max(1, (1 << 22) // S)
        for start in range(0, n, chunk):
            keys = rng.random((min(chunk, n - start), S))
            out[start : start + chunk] = np.argpartition(keys, b - 1, axis=1)[:, :b]
    return np.sort(out, axis=1)


def garnet(
    n_states: int,
    n_actions: int,
    branching: int,
    *,
    rng: RngLike = None,
    sparse: bool = False,
    state_rewards: bool = False,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """A Garnet random MDP ``G(S, A, b)``: each ``(s, a)`` has ``b`` random successors with random weights.

    For every pair ``(s, a)``, ``b = branching`` distinct next states are drawn uniformly without replacement
    and given the probabilities ``u_(1) - u_(0), ..., u_(b) - u_(b-1)``, where ``0 = u_(0) <= u_(1) <= ...
    <= u_(b-1) <= u_(b) = 1`` are ``b - 1`` sorted uniform cut points of ``[0, 1]`` (so the weights are
    ``Dirichlet(1, ..., 1)``). Mean rewards are i.i.d. ``U[0, 1]``: one per ``(s, a)`` by default, or one per
    state shared by all actions with ``state_rewards=True`` (the convention of Geist & Scherrer 2014). The
    initial distribution is uniform.

    Bhatnagar et al. (2009) add a reward-noise parameter ``sigma``; since ``TabularMDP`` holds mean rewards,
    it has no counterpart here. The Garnet literature usually discounts with ``gamma = 0.95``.

    Args:
        n_states: number of states ``S >= 1``.
        n_actions: number of actions ``A >= 1``.
        branching: number of successors ``b`` of each pair, ``1 <= b <= S``.
        rng: seed or ``numpy.random.Generator``.
        sparse: return ``P`` as a CSR matrix ``[S*A, S]`` (exactly ``b`` entries per row) instead of dense.
        state_rewards: draw one reward per state instead of one per pair.
        horizon: number of steps; default 10 when ``gamma`` is not given either.
        gamma: discount factor in ``[0, 1)``.

    Returns:
        A ``TabularMDP`` with ``P: [S, A, S]`` (or CSR ``[S*A, S]``) and ``R: [S, A]``.

    References:
        T. W. Archibald, K. I. M. McKinnon and L. C. Thomas, "On the generation of Markov decision
        processes", Journal of the Operational Research Society 46(3):354-361, 1995.
        S. Bhatnagar, R. S. Sutton, M. Ghavamzadeh and M. Lee, "Natural actor-critic algorithms",
        Automatica 45(11):2471-2482, 2009.
        M. Geist and B. Scherrer, "Off-policy learning with eligibility traces: a survey", JMLR 15:289-333,
        2014.
    """
    S = _check_int("n_states", n_states, minimum=1)
    A = _check_int("n_actions", n_actions, minimum=1)
    b = _check_int("branching", branching, minimum=1)
    if b > S:
        raise ValueError(f"branching must be <= n_states = {S}, got {branching!r}")
    sparse = _check_bool("sparse", sparse)
    state_rewards = _check_bool("state_rewards", state_rewards)
    horizon, gamma = _resolve_horizon(horizon, gamma, default=10)
    gen = generator("rng", rng)

    n = S * A
    succ = _random_subsets(gen, n, S, b)  # [n, b], sorted
    cuts = np.sort(gen.random((n, b - 1)), axis=1)
    probs = np.diff(cuts, axis=1, prepend=0.0, append=1.0)  # [n, b]
    R = np.broadcast_to(gen.random((S, 1)), (S, A)).copy() if state_rewards else gen.random((S, A))

    if sparse:
        P: np.ndarray | sp.csr_array = sp.csr_array(
            (probs.ravel(), succ.ravel(), np.arange(0, n * b + 1, b)), shape=(n, S)
        )
    else:
        dense = np.zeros((n, S))
        np.put_along_axis(dense, succ, probs, axis=1)
        P = dense.reshape(S, A, S)
    return TabularMDP(P, R, horizon=horizon, gamma=gamma)


# ---------------------------------------------------------------------------------------------- random
def random_mdp(
    n_states: int,
    n_actions: int,
    *,
    rng: RngLike = None,
    concentration: float = 1.0,
    time_inhomogeneous: bool = False,
    horizon: int | None = None,
    gamma: float | None = None,
) -> TabularMDP:
    """A dense random MDP: Dirichlet transition rows and uniform mean rewards.

        ``P(. | s, a) ~ Dirichlet(concentration * 1_S)``,   ``R(s, a) ~ U[0, 1]``,   all independent,

    one draw per step ``h`` when ``time_inhomogeneous`` (then ``P: [H, S, A, S]``, ``R: [H, S, A]``). Small
    ``concentration`` gives nearly deterministic rows, large gives nearly uniform ones. The initial
    distribution is uniform.

    Args:
        n_states: number of states ``S >= 1``.
        n_actions: number of actions ``A >= 1``.
        rng: seed or ``numpy.random.Generator``.
        concentration: Dirichlet parameter ``> 0``, the same for every next state.
        time_inhomogeneous: draw a fresh ``P`` and ``R`` for every step (finite horizon only).
        horizon: number of steps; default 10 when ``gamma`` is not given either.
        gamma: discount factor in ``[0, 1)``; not allowed with ``time_inhomogeneous``.

    Returns:
        A ``TabularMDP`` with dense ``P: [S, A, S]`` and ``R: [S, A]`` (or ``[H, ...]``).

    References:
        The flat-Dirichlet random MDP is the standard prior of posterior sampling, e.g. I. Osband, D. Russo
        and B. Van Roy, "(More) efficient reinforcement learning via posterior sampling", NeurIPS 2013,
        arXiv:1306.0940.
    """
    S = _check_int("n_states", n_states, minimum=1)
    A = _check_int("n_actions", n_actions, minimum=1)
    alpha = _check_real("concentration", concentration, lo=0.0, hi=np.inf, lo_open=True)
    time_inhomogeneous = _check_bool("time_inhomogeneous", time_inhomogeneous)
    if time_inhomogeneous and gamma is not None:
        raise ValueError(f"time_inhomogeneous=True needs a finite horizon, not gamma={gamma!r}")
    horizon, gamma = _resolve_horizon(horizon, gamma, default=10)
    gen = generator("rng", rng)

    lead = (horizon,) if time_inhomogeneous else ()
    P = gen.dirichlet(np.full(S, alpha), size=(*lead, S, A))
    P /= P.sum(axis=-1, keepdims=True)  # round-off from the gamma draws
    R = gen.random((*lead, S, A))
    return TabularMDP(P, R, horizon=horizon, gamma=gamma)


# ---------------------------------------------------------------------------------------------- registry
#: Name -> constructor of every zoo instance.
ZOO: dict[str, Callable[..., TabularMDP]] = {
    "riverswim": riverswim,
    "chain": chain,
    "deepsea": deep_sea,
    "gridworld": gridworld,
    "garnet": garnet,
    "random": random_mdp,
}


def make(name: str, **kwargs: Any) -> TabularMDP:
    """Build the zoo instance ``name`` with its constructor's keyword arguments: ``ZOO[name](**kwargs)``.

    Args:
        name: one of the keys of :data:`ZOO`.
        **kwargs: passed to the constructor.

    Returns:
        The ``TabularMDP``.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    try:
        ctor = ZOO[name]
    except (KeyError, TypeError):
        raise ValueError(f"name must be one of {sorted(ZOO)}, got {name!r}") from None
    return ctor(**kwargs)
