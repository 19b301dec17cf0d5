"""Tabular MDPs embedded in a metric space, and learned-model perturbations of them with a controlled W1 error.

Instances (each a :class:`MetricMDP`: a discounted :class:`~rltheory.mdp.TabularMDP`, the metric ``d: [S, S]`` and
the coordinates of the states):
    :func:`metric_line`     states at points of a line; actions drift left or right with a discretised Gaussian.
    :func:`metric_grid`     a slippery gridworld with the Manhattan (or any l_p) metric on its cells.
    :func:`metric_random`   random points in ``[0, 1]^k`` with local Gaussian transitions (a general metric).

Learned models (same rewards and discount, perturbed kernel ``P_hat``):
    :func:`shift_model`     moves mass towards lower coordinates along an axis: ``W_1 = eps`` exactly on every
                            row, with ``P`` stochastically dominating ``P_hat`` along that axis (the tight case).
    :func:`mixture_model`   ``P_hat = (1 - t) P + t Q`` with ``t = eps / W_1(P, Q)``: ``W_1 = eps`` exactly on every
                            row, in random directions, on any metric.
    :func:`empirical_model` the maximum-likelihood model from ``n`` samples per pair (uncontrolled error).
    :func:`shift_capacity`  the largest error a shift can reach per row.

Tight instances:
    :func:`tight_fixed_point_pair`  rewards for which ``V* = L x_axis`` and the fixed-point bound
                                    ``||V* - V_hat*|| <= gamma L eps / (1 - gamma)`` holds with equality.

Why the errors are exact. For a mixture, ``W_1(P, (1 - t) P + t Q) = t W_1(P, Q)``: the coupling
``(1 - t) diag(P) + t pi*`` costs ``t W_1(P, Q)``, and an optimal Kantorovich potential ``f`` of ``(P, Q)`` gives
``E_P f - E_P_hat f = t W_1(P, Q)``. For ``Q`` a point mass ``delta_z``, ``W_1(P, delta_z) = sum_x P(x) d(x, z)`` in
closed form. For a shift, every unit of mass moves to its neighbour at a lower coordinate, at a cost equal to the
coordinate difference; ``f(x) = x_axis`` is 1-Lipschitz for any l_p metric and its expectation drops by exactly
that cost, so plan and potential certify ``W_1 = eps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rltheory.lipschitz import coordinate_metric, wasserstein_lp
from rltheory.mdp import TabularMDP
from rltheory.validation import generator, real_scalar

__all__ = [
    "MetricMDP",
    "empirical_model",
    "linear_values",
    "metric_grid",
    "metric_line",
    "metric_random",
    "mixture_model",
    "shift_capacity",
    "shift_model",
    "tight_fixed_point_pair",
]

RngLike = np.random.Generator | np.random.SeedSequence | int | None


@dataclass(frozen=True)
class MetricMDP:
    """A discounted tabular MDP whose states are points of a metric space.

    Attributes:
        mdp: the MDP (``P [S, A, S]``, ``R [S, A]``, ``gamma``).
        metric: ``d: [S, S]``.
        coords: coordinates of the states ``[S, k]`` (``k = 1`` on a line).
        name: a short description.
    """

    mdp: TabularMDP
    metric: np.ndarray
    coords: np.ndarray
    name: str

    @property
    def points(self) -> np.ndarray | None:
        """Line coordinates ``[S]`` when the space is a line with ``d = |x - x'|`` (enables closed-form W1)."""
        if self.coords.shape[1] != 1:
            return None
        return self.coords[:, 0]

    @property
    def n_states(self) -> int:
        return self.mdp.n_states

    def with_kernel(self, P_hat: Any, *, name: str | None = None) -> MetricMDP:
        """The learned model: same rewards, discount, metric and coordinates, kernel ``P_hat [S, A, S]``."""
        mdp = TabularMDP(P_hat, self.mdp.R, gamma=self.mdp.gamma, initial=self.mdp.initial)
        return MetricMDP(mdp, self.metric, self.coords, name or f"{self.name} (learned)")

    def with_rewards(self, R: Any, *, name: str | None = None) -> MetricMDP:
        """The same dynamics with rewards ``R [S, A]``."""
        return MetricMDP(self.mdp.with_rewards(R), self.metric, self.coords, name or self.name)


# ------------------------------------------------------------------------------------------------ validation
def _int(name: str, value: Any, minimum: int) -> int:
    return real_scalar(name, value, integer=True, lo=minimum)


def _real(
    name: str, value: Any, lo: float, hi: float = np.inf, *, lo_open: bool = False, hi_open: bool = False
) -> float:
    return real_scalar(name, value, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open)


def _gamma(gamma: Any) -> float:
    return _real("gamma", gamma, 0.0, 1.0, hi_open=True)


def _rewards(reward: Any, coords: np.ndarray, A: int, rng: np.random.Generator) -> np.ndarray:
    S = coords.shape[0]
    r: np.ndarray
    if isinstance(reward, str):
        if reward == "random":
            r = np.asarray(rng.uniform(0.0, 1.0, size=S))
        elif reward == "goal":
            r = np.zeros(S)
            r[np.argmax(coords.sum(axis=1))] = 1.0
        elif reward == "smooth":
            # a random sum of cosines of the coordinates, scaled into [0, 1]
            freq = rng.normal(size=(4, coords.shape[1]))
            phase = rng.uniform(0, 2 * np.pi, size=4)
            span = np.ptp(coords, axis=0).max() or 1.0
            r = np.cos(coords @ freq.T * (2.0 / span) + phase).sum(axis=1)
            r = (r - r.min()) / (np.ptp(r) or 1.0)
        else:
            raise ValueError(f"reward must be 'random', 'goal', 'smooth' or an array, got {reward!r}")
        return np.repeat(r[:, None], A, axis=1)
    R = np.asarray(reward, dtype=np.float64)
    if R.shape == (S,):
        R = np.repeat(R[:, None], A, axis=1)
    if R.shape != (S, A):
        raise ValueError(f"reward must have shape [S] or [S, A] = {(S, A)}, got {R.shape}")
    return R


def _gaussian_rows(coords: np.ndarray, targets: np.ndarray, width: float) -> np.ndarray:
    """Rows ``P[s, a, :] proportional to exp(-||x - target||^2 / (2 width^2))`` over the states."""
    sq = ((targets[..., None, :] - coords) ** 2).sum(axis=-1)
    logits = -sq / (2.0 * width**2)
    logits -= logits.max(axis=-1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(axis=-1, keepdims=True)


# ------------------------------------------------------------------------------------------------ instances
def metric_line(
    n_states: int = 20,
    *,
    n_actions: int = 3,
    gamma: float = 0.9,
    points: Any = None,
    spacing: float = 1.0,
    step: float = 1.0,
    spread: float = 0.7,
    reward: Any = "random",
    rng: RngLike = None,
) -> MetricMDP:
    """States on a line; action ``a`` aims at ``x_s + drift_a`` and lands near it by a discretised Gaussian.

    ``drift_a = step * h * linspace(-1, 1, A)`` (0 for one action) with ``h`` the mean spacing, and
    ``P(x' | s, a) proportional to exp(-(x' - x_s - drift_a)^2 / (2 (spread h)^2))`` over the states. The metric is
    ``|x - x'|``.

    Args:
        n_states: ``S >= 2``.
        n_actions: ``A >= 1``.
        gamma: discount in ``[0, 1)``.
        points: coordinates ``[S]`` (distinct); default ``spacing * arange(S)``.
        step, spread: drift and noise in units of the mean spacing (``spread > 0``).
        reward: ``"random"`` (uniform on ``[0, 1]`` per state), ``"goal"`` (1 at the right end), ``"smooth"``
            (a random smooth function), or an array ``[S]`` / ``[S, A]``.
        rng: seed or generator.
    """
    S = _int("n_states", n_states, 2)
    A = _int("n_actions", n_actions, 1)
    g = _gamma(gamma)
    spread = _real("spread", spread, 0.0, lo_open=True)
    step = _real("step", step, 0.0)
    gen = generator("rng", rng)
    if points is None:
        x = _real("spacing", spacing, 0.0, lo_open=True) * np.arange(S, dtype=np.float64)
    else:
        x = np.asarray(points, dtype=np.float64)
        if x.shape != (S,):
            raise ValueError(f"points must have shape [S] = [{S}], got {x.shape}")
    coords = x[:, None]
    metric = coordinate_metric(coords)  # raises on repeated points
    h = float(np.ptp(x)) / (S - 1)
    drifts = step * h * (np.linspace(-1.0, 1.0, A) if A > 1 else np.zeros(1))
    targets = x[:, None, None] + drifts[None, :, None]  # [S, A, 1]
    P = _gaussian_rows(coords, targets, spread * h)
    R = _rewards(reward, coords, A, gen)
    return MetricMDP(TabularMDP(P, R, gamma=g), metric, coords, f"line(S={S}, A={A})")


#: Grid moves: stay, up, down, left, right as (row, column) offsets.
_MOVES = np.array([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1]])


def metric_grid(
    n_rows: int = 5,
    n_cols: int = 5,
    *,
    gamma: float = 0.9,
    slip: float = 0.2,
    ord: float = 1,
    reward: Any = "random",
    rng: RngLike = None,
) -> MetricMDP:
    """A slippery gridworld whose cells are points of the plane with the ``l_ord`` metric (Manhattan by default).

    Five actions (stay, up, down, left, right); the intended move happens with probability ``1 - slip``, otherwise
    one of the five moves uniformly; moves into a wall stay. State ``s = row * n_cols + col`` sits at
    ``(row, col)``.

    Args:
        n_rows, n_cols: grid size (at least 2 cells).
        gamma: discount in ``[0, 1)``.
        slip: probability in ``[0, 1]`` of a uniformly random move.
        ord: the norm of the metric (``1``, ``2``, ``numpy.inf`` or any ``p >= 1``).
        reward: as in :func:`metric_line`.
        rng: seed or generator.
    """
    nr = _int("n_rows", n_rows, 1)
    nc = _int("n_cols", n_cols, 1)
    if nr * nc < 2:
        raise ValueError(f"the grid needs at least 2 cells, got {nr} x {nc}")
    g = _gamma(gamma)
    slip = _real("slip", slip, 0.0, 1.0)
    gen = generator("rng", rng)
    rows, cols = np.divmod(np.arange(nr * nc), nc)
    coords = np.stack([rows, cols], axis=1).astype(np.float64)
    metric = coordinate_metric(coords, ord=ord)
    S, A = nr * nc, len(_MOVES)
    dest = np.empty((S, A), dtype=np.int64)
    for a, (dr, dc) in enumerate(_MOVES):
        r2 = np.clip(rows + dr, 0, nr - 1)
        c2 = np.clip(cols + dc, 0, nc - 1)
        dest[:, a] = r2 * nc + c2
    P = np.zeros((S, A, S))
    states = np.arange(S)
    for a in range(A):
        P[states, a, dest[:, a]] += 1.0 - slip  # destinations are distinct per (state, action): no repeats
        for b in range(A):
            P[states, a, dest[:, b]] += slip / A
    R = _rewards(reward, coords, A, gen)
    return MetricMDP(TabularMDP(P, R, gamma=g), metric, coords, f"grid({nr}x{nc}, l{ord})")


def metric_random(
    n_states: int = 15,
    n_actions: int = 3,
    *,
    dim: int = 2,
    gamma: float = 0.9,
    ord: float = 2,
    reach: float = 0.3,
    width: float = 0.15,
    reward: Any = "random",
    rng: RngLike = None,
) -> MetricMDP:
    """Random points in ``[0, 1]^dim`` with the ``l_ord`` metric; each ``(s, a)`` aims at a random nearby target.

    The target is ``x_s + reach * u`` with ``u`` uniform in ``[-1, 1]^dim``; ``P(x' | s, a)`` is proportional to
    ``exp(-||x' - target||^2 / (2 width^2))``. A general finite metric space (no line structure).
    """
    S = _int("n_states", n_states, 2)
    A = _int("n_actions", n_actions, 1)
    k = _int("dim", dim, 1)
    g = _gamma(gamma)
    reach = _real("reach", reach, 0.0)
    width = _real("width", width, 0.0, lo_open=True)
    gen = generator("rng", rng)
    coords = gen.uniform(0.0, 1.0, size=(S, k))
    metric = coordinate_metric(coords, ord=ord)
    targets = coords[:, None, :] + reach * gen.uniform(-1.0, 1.0, size=(S, A, k))
    P = _gaussian_rows(coords, targets, width)
    R = _rewards(reward, coords, A, gen)
    return MetricMDP(TabularMDP(P, R, gamma=g), metric, coords, f"random(S={S}, A={A}, dim={k}, l{ord})")


# ------------------------------------------------------------------------------------------------ learned models
def _eps_array(eps: Any, S: int, A: int) -> np.ndarray:
    e = np.broadcast_to(np.asarray(eps, dtype=np.float64), (S, A))
    if not np.all(np.isfinite(e)) or np.any(e < 0):
        raise ValueError(f"eps must be finite and >= 0 (a scalar or [S, A] = {(S, A)}), got {eps!r}")
    return e


def _axis_neighbours(coords: np.ndarray, metric: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """For each state, the nearest state with the same other coordinates and a lower ``axis`` coordinate."""
    S, k = coords.shape
    if not (0 <= axis < k):
        raise ValueError(f"axis must lie in [0, {k}), got {axis!r}")
    others = np.delete(coords, axis, axis=1)
    nb = np.full(S, -1, dtype=np.int64)
    for i in range(S):
        same = np.all(others == others[i], axis=1) & (coords[:, axis] < coords[i, axis])
        if same.any():
            cand = np.flatnonzero(same)
            nb[i] = cand[np.argmax(coords[cand, axis])]
    h = np.where(nb >= 0, coords[:, axis] - coords[np.maximum(nb, 0), axis], 0.0)
    moved = nb >= 0
    if not np.allclose(metric[np.flatnonzero(moved), nb[moved]], h[moved], rtol=1e-12, atol=0.0):
        raise ValueError("shift_model needs d(s, neighbour) = coordinate difference along axis (an l_p metric)")
    return nb, h


def shift_capacity(inst: MetricMDP, *, axis: int = 0) -> np.ndarray:
    """The largest ``eps`` :func:`shift_model` can reach per row: ``E_P[x_axis] - E[lowest x_axis on the line]``.

    Returns ``[S, A]``: the mean drop of the axis coordinate when all mass has moved to the lowest coordinate of its
    axis line.
    """
    nb, h = _axis_neighbours(inst.coords, inst.metric, axis)
    bottom = np.arange(inst.n_states)
    for _ in range(inst.n_states):
        nxt = np.where(nb[bottom] >= 0, nb[bottom], bottom)
        if np.array_equal(nxt, bottom):
            break
        bottom = nxt
    drop = inst.coords[:, axis] - inst.coords[bottom, axis]
    return inst.mdp.dense_P() @ drop


def shift_model(inst: MetricMDP, eps: Any, *, axis: int = 0) -> MetricMDP:
    """A learned model whose rows are the true rows with mass moved to lower coordinates: ``W_1 = eps`` exactly.

    Each row moves the same fraction of the mass of every state to its neighbour at the next lower coordinate
    along ``axis`` (mass at the lowest coordinate stays), repeating whole shifts when one is not enough, until
    the mean coordinate has dropped by ``eps``. ``P(s, a)`` then stochastically dominates ``P_hat(s, a)`` along the
    axis, ``W_1(P(s, a), P_hat(s, a)) = eps`` exactly (module docstring), and an ``L``-Lipschitz ``V = L x_axis``
    makes the operator-gap bound an equality at every pair.

    Args:
        inst: the true instance (coordinates on a line or a grid; ``d`` an l_p metric of them).
        eps: the W1 error, a scalar or ``[S, A]``.
        axis: the coordinate along which mass moves.

    Raises:
        ValueError: ``eps`` exceeds what a row can move (:func:`shift_capacity`).
    """
    P = inst.mdp.dense_P()
    S, A = inst.mdp.n_states, inst.mdp.n_actions
    e = _eps_array(eps, S, A)
    nb, h = _axis_neighbours(inst.coords, inst.metric, axis)
    movable = nb >= 0
    P_hat = P.copy()
    for s in range(S):
        for a in range(A):
            row = P_hat[s, a]
            budget = float(e[s, a])
            while budget > 0.0:
                avail = float(row[movable] @ h[movable])
                if avail <= 0.0:
                    cap = float(shift_capacity(inst, axis=axis)[s, a])
                    raise ValueError(
                        f"eps = {float(e[s, a])!r} is more than row (s={s}, a={a}) can move along axis {axis} "
                        f"(its shift_capacity is {cap!r})"
                    )
                theta = min(1.0, budget / avail)
                move = theta * row * movable
                row = row - move
                np.add.at(row, nb[movable], move[movable])
                budget = budget - avail if theta == 1.0 else 0.0
            P_hat[s, a] = np.maximum(row, 0.0)
    return inst.with_kernel(P_hat, name=f"{inst.name} shifted (W1={_eps_name(e)})")


def mixture_model(inst: MetricMDP, eps: Any, *, target: str = "point", rng: RngLike = None) -> MetricMDP:
    """A learned model ``P_hat = (1 - t) P + t Q`` per row, with ``t = eps / W_1(P, Q)``: ``W_1 = eps`` exactly.

    ``target="point"``: ``Q = delta_z`` for a state ``z`` drawn uniformly among those with
    ``W_1(P, delta_z) = sum_x P(x) d(x, z) >= eps`` (closed form). ``target="random"``: ``Q`` drawn from a flat
    Dirichlet and ``W_1(P, Q)`` computed by the certified LP (falling back to a point target when
    ``W_1(P, Q) < eps``).

    Args:
        inst: the true instance (any metric).
        eps: the W1 error, a scalar or ``[S, A]``.
        target: ``"point"`` or ``"random"``.
        rng: seed or generator.

    Raises:
        ValueError: ``eps`` exceeds ``max_z W_1(P(s, a), delta_z)`` for some row.
    """
    if target not in ("point", "random"):
        raise ValueError(f"target must be 'point' or 'random', got {target!r}")
    gen = generator("rng", rng)
    P = inst.mdp.dense_P()
    S, A = inst.mdp.n_states, inst.mdp.n_actions
    e = _eps_array(eps, S, A)
    d = inst.metric
    to_point = P @ d  # [S, A, S]: W_1(P(s, a), delta_z) = sum_x P(x) d(x, z)
    P_hat = P.copy()
    Q_rand = gen.dirichlet(np.ones(S), size=(S, A)) if target == "random" else None
    w_rand = np.asarray(wasserstein_lp(P, Q_rand, d, validate=False)) if Q_rand is not None else None
    for s in range(S):
        for a in range(A):
            if e[s, a] == 0.0:
                continue
            if Q_rand is not None and w_rand is not None and w_rand[s, a] >= e[s, a]:
                Q, w = Q_rand[s, a], float(w_rand[s, a])
            else:
                ok = np.flatnonzero(to_point[s, a] >= e[s, a])
                if ok.size == 0:
                    raise ValueError(
                        f"eps = {float(e[s, a])!r} exceeds the largest W1 reachable from row (s={s}, a={a}), "
                        f"{float(to_point[s, a].max())!r}"
                    )
                z = int(gen.choice(ok))
                Q = np.zeros(S)
                Q[z] = 1.0
                w = float(to_point[s, a, z])
            t = float(e[s, a]) / w
            P_hat[s, a] = (1.0 - t) * P[s, a] + t * Q
    return inst.with_kernel(P_hat, name=f"{inst.name} mixture (W1={_eps_name(e)})")


def empirical_model(inst: MetricMDP, n_samples: int, *, rng: RngLike = None) -> MetricMDP:
    """The maximum-likelihood model from ``n_samples`` next states drawn from every ``P(s, a)``."""
    n = _int("n_samples", n_samples, 1)
    gen = generator("rng", rng)
    P = inst.mdp.dense_P()
    counts = np.array([[gen.multinomial(n, row / row.sum()) for row in rows] for rows in P], dtype=np.float64)
    return inst.with_kernel(counts / n, name=f"{inst.name} empirical (n={n})")


def linear_values(inst: MetricMDP, L: float, *, axis: int = 0) -> np.ndarray:
    """``V(s) = L x_axis(s)``: an ``L``-Lipschitz value function for any l_p metric of the coordinates."""
    return float(L) * inst.coords[:, axis]


def tight_fixed_point_pair(inst: MetricMDP, eps: float, L: float, *, axis: int = 0) -> tuple[MetricMDP, MetricMDP]:
    """A true and a learned model for which the fixed-point bound is an equality.

    Rewards ``R(s, a) = V(s) - gamma E_{P(s,a)} V`` with ``V = L x_axis`` make ``V`` the optimal value of the true
    model (every action attains it); the learned model is :func:`shift_model` with error ``eps``, whose optimal
    value is ``V_hat = V - gamma L eps / (1 - gamma)`` (constant shift: every row's mean coordinate drops by
    ``eps``). Both are ``L``-Lipschitz, so ``||V* - V_hat*|| = gamma L eps_W / (1 - gamma)`` exactly.
    """
    V = linear_values(inst, L, axis=axis)
    gamma = float(inst.mdp.gamma)  # type: ignore[arg-type]
    R = V[:, None] - gamma * (inst.mdp.dense_P() @ V)
    true = inst.with_rewards(R, name=f"{inst.name} tight (L={L:g})")
    return true, shift_model(true, eps, axis=axis)


def _eps_name(e: np.ndarray) -> str:
    return f"{float(e.flat[0]):g}" if np.all(e == e.flat[0]) else "varies"
