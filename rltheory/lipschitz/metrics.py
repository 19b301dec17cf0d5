"""Finite metric spaces, Lipschitz constants of value functions, and the best ``L``-Lipschitz approximation.

A finite metric state space is a matrix ``d[s, s']`` (symmetric, zero on the diagonal, positive off it, with the
triangle inequality). The Lipschitz constant of a value function ``V[s]`` with respect to it is

    ``L_V = max_{s != s'} |V(s) - V(s')| / d(s, s')``,

the smallest ``L`` with ``|V(s) - V(s')| <= L d(s, s')`` for every pair. It is the constant of the
Kantorovich-Rubinstein inequality ``|E_p V - E_q V| <= L_V W_1(p, q)`` (C. Villani, *Optimal Transport: Old and
New*, Springer 2009, Remark 6.5), which the Bellman-gap bounds of :mod:`rltheory.lipschitz.gaps` rest on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rltheory.validation import real_array, real_scalar

__all__ = [
    "METRIC_ATOL",
    "best_lipschitz_approximation",
    "check_metric",
    "coordinate_metric",
    "line_metric",
    "lipschitz_approximation_error",
    "lipschitz_constant",
    "lipschitz_constant_line",
]

#: Slack allowed in the triangle inequality and the symmetry of a metric matrix, relative to its largest entry.
METRIC_ATOL = 1e-12


def _as_float(name: str, x: Any) -> np.ndarray:
    return real_array(name, x)


def check_metric(metric: Any, *, check_triangle: bool = True, name: str = "metric") -> np.ndarray:
    """Validate a finite metric ``d[s, s']`` and return it as a float64 array.

    Checks: a square ``[S, S]`` matrix, finite, zero diagonal, symmetric and positive off the diagonal (a metric,
    not a pseudometric: distinct states are at positive distance), and, unless ``check_triangle=False``, the
    triangle inequality ``d[i, j] <= d[i, k] + d[k, j]``; symmetry and the triangle inequality within
    :data:`METRIC_ATOL` times ``max d``. The triangle check costs ``O(S^3)`` (about a second at ``S = 1000``).

    Raises:
        ValueError: naming ``name`` and the first offending index or triple.
    """
    d = _as_float(name, metric)
    if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 1:
        raise ValueError(f"{name} must be a square matrix [S, S], got shape {d.shape}")
    S = d.shape[0]
    diag = np.diagonal(d)
    if np.any(diag != 0.0):
        i = int(np.flatnonzero(diag != 0.0)[0])
        raise ValueError(f"{name} must be zero on the diagonal; {name}[{i}, {i}] = {d[i, i]!r}")
    scale = float(np.max(d)) if S > 1 else 0.0
    tol = METRIC_ATOL * max(scale, 1.0)
    asym = np.abs(d - d.T) > tol
    if asym.any():
        i, j = (int(v) for v in np.argwhere(asym)[0])
        raise ValueError(f"{name} must be symmetric; {name}[{i}, {j}] = {d[i, j]!r} but {name}[{j}, {i}] = {d[j, i]!r}")
    off = ~np.eye(S, dtype=bool)
    nonpos = off & (d <= 0.0)
    if nonpos.any():
        i, j = (int(v) for v in np.argwhere(nonpos)[0])
        raise ValueError(
            f"{name} must be positive between distinct states (a metric, not a pseudometric); "
            f"{name}[{i}, {j}] = {d[i, j]!r}"
        )
    if check_triangle:
        for k in range(S):
            viol = d > d[:, k : k + 1] + d[k : k + 1, :] + tol
            if viol.any():
                i, j = (int(v) for v in np.argwhere(viol)[0])
                raise ValueError(
                    f"{name} violates the triangle inequality: {name}[{i}, {j}] = {d[i, j]!r} > "
                    f"{name}[{i}, {k}] + {name}[{k}, {j}] = {d[i, k] + d[k, j]!r}"
                )
    return d


def line_metric(points: Any) -> np.ndarray:
    """The metric ``d[s, s'] = |x_s - x_s'|`` of distinct points ``x: [S]`` on the real line.

    Raises:
        ValueError: ``points`` is not a finite 1-D array of distinct values.
    """
    x = _as_float("points", points)
    if x.ndim != 1 or x.size < 1:
        raise ValueError(f"points must be a 1-D array of S >= 1 coordinates, got shape {x.shape}")
    if np.unique(x).size != x.size:
        raise ValueError("points must be distinct (a repeated point would be at distance 0 from another state)")
    return np.abs(x[:, None] - x[None, :])


def coordinate_metric(coords: Any, *, ord: float = 2) -> np.ndarray:
    """The ``l_ord`` metric ``d[s, s'] = ||c_s - c_s'||_ord`` of distinct points ``coords: [S, k]`` in ``R^k``.

    ``ord`` is ``1`` (Manhattan), ``2`` (Euclidean), ``numpy.inf`` (Chebyshev) or any ``p >= 1``.

    Raises:
        ValueError: a bad shape, repeated points, or ``ord < 1`` (not a norm).
    """
    c = _as_float("coords", coords)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2 or c.shape[0] < 1:
        raise ValueError(f"coords must have shape [S, k], got shape {c.shape}")
    if not (ord >= 1):
        raise ValueError(f"ord must be >= 1 (an l_p norm), got {ord!r}")
    diff = np.abs(c[:, None, :] - c[None, :, :])
    if ord == np.inf:
        d = diff.max(axis=-1)
    elif ord == 1:
        d = diff.sum(axis=-1)
    elif ord == 2:
        d = np.sqrt((diff**2).sum(axis=-1))
    else:
        d = (diff**ord).sum(axis=-1) ** (1.0 / ord)
    off = ~np.eye(c.shape[0], dtype=bool)
    if np.any(d[off] == 0.0):
        i, j = (int(v) for v in np.argwhere(off & (d == 0.0))[0])
        raise ValueError(f"coords must be distinct; states {i} and {j} are both at {c[i].tolist()}")
    return d


def lipschitz_constant(V: Any, metric: Any, *, validate: bool = True) -> float | np.ndarray:
    """``L_V = max_{s != s'} |V(s) - V(s')| / d(s, s')``: the Lipschitz constant of ``V`` on a finite metric space.

    Args:
        V: values ``[..., S]``; leading axes are a batch.
        metric: the metric ``d: [S, S]``.
        validate: check ``metric`` with :func:`check_metric` (``O(S^3)``); pass False in inner loops.

    Returns:
        ``L_V`` (0 for a single state or a constant ``V``), a float or an array of the leading shape.
    """
    v = _as_float("V", V)
    d = check_metric(metric) if validate else np.asarray(metric, dtype=np.float64)
    if v.ndim < 1 or v.shape[-1] != d.shape[0]:
        raise ValueError(f"V must have the states on its last axis, S = {d.shape[0]}; got shape {v.shape}")
    S = d.shape[0]
    if S == 1:
        out = np.zeros(v.shape[:-1])
    else:
        inv = 1.0 / np.where(np.eye(S, dtype=bool), np.inf, d)  # 0 on the diagonal
        out = np.zeros(v.shape[:-1])
        for i in range(S):  # one row of pairs at a time keeps memory at O(batch * S)
            ratio = np.abs(v[..., i : i + 1] - v) * inv[i]
            out = np.maximum(out, ratio.max(axis=-1))
    return float(out) if out.ndim == 0 else out


def lipschitz_constant_line(V: Any, points: Any) -> float | np.ndarray:
    """Lipschitz constant of ``V`` on points of the real line: the largest slope between neighbouring points.

    On the line, ``|V(x) - V(y)| / |x - y|`` over any pair is a weighted mean of the slopes between consecutive
    points in between, so the maximum over all pairs is the maximum over neighbours: ``O(S log S)`` instead of
    ``O(S^2)``, and an independent check of :func:`lipschitz_constant`.

    Args:
        V: values ``[..., S]``.
        points: distinct coordinates ``x: [S]``, in any order.
    """
    v = _as_float("V", V)
    x = _as_float("points", points)
    if x.ndim != 1 or v.ndim < 1 or v.shape[-1] != x.size:
        raise ValueError(f"V [..., S] and points [S] must agree on S; got {v.shape} and {x.shape}")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    if np.any(np.diff(xs) == 0.0):
        raise ValueError("points must be distinct")
    if x.size == 1:
        out = np.zeros(v.shape[:-1])
    else:
        out = np.max(np.abs(np.diff(v[..., order], axis=-1)) / np.diff(xs), axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def _envelopes(v: np.ndarray, d: np.ndarray, L: float) -> tuple[np.ndarray, np.ndarray]:
    """McShane's lower envelope ``u(x) = min_y v(y) + L d(x, y)`` and Whitney's upper ``l(x) = max_y v(y) - L d``."""
    Ld = L * d
    u = np.min(v[..., None, :] + Ld, axis=-1)
    low = np.max(v[..., None, :] - Ld, axis=-1)
    return u, low


def best_lipschitz_approximation(V: Any, metric: Any, L: float, *, validate: bool = True) -> np.ndarray:
    """A best sup-norm approximation of ``V`` by an ``L``-Lipschitz function: the McShane-Whitney midpoint.

    ``Pi_L V = (u + l) / 2`` with ``u(x) = min_y V(y) + L d(x, y)`` (the largest ``L``-Lipschitz minorant) and
    ``l(x) = max_y V(y) - L d(x, y)`` (the smallest ``L``-Lipschitz majorant). It is ``L``-Lipschitz, attains the
    optimal error :func:`lipschitz_approximation_error`, leaves an ``L``-Lipschitz ``V`` unchanged, is monotone and
    commutes with adding constants, hence is non-expansive in the sup norm: ``||Pi_L U - Pi_L V|| <= ||U - V||``.
    That makes ``Pi_L T`` a ``gamma``-contraction (used by :func:`rltheory.lipschitz.lipschitz_value_iteration`).

    Proof of optimality: ``u <= V <= l`` and ``l(x) - u(x) = max_{y, z} V(y) - V(z) - L (d(x, y) + d(x, z)) <=
    max_{y, z} V(y) - V(z) - L d(y, z) = 2 E*`` by the triangle inequality, so ``|Pi_L V - V| <= E*``; no
    ``L``-Lipschitz ``h`` does better, since ``V(y) - V(z) <= h(y) - h(z) + 2 ||h - V|| <= L d(y, z) + 2 ||h - V||``.
    (E. J. McShane, "Extension of range of functions", Bull. AMS 40, 1934; H. Whitney, Trans. AMS 36, 1934.)

    Args:
        V: values ``[..., S]``.
        metric: ``d: [S, S]``.
        L: the Lipschitz constraint, ``>= 0`` (``L = 0`` gives the constant ``(max V + min V) / 2``).

    Returns:
        ``Pi_L V``, same shape as ``V``.
    """
    v = _as_float("V", V)
    d = check_metric(metric) if validate else np.asarray(metric, dtype=np.float64)
    L = _check_L(L)
    if v.ndim < 1 or v.shape[-1] != d.shape[0]:
        raise ValueError(f"V must have the states on its last axis, S = {d.shape[0]}; got shape {v.shape}")
    u, low = _envelopes(v, d, L)
    return 0.5 * (u + low)


def lipschitz_approximation_error(V: Any, metric: Any, L: float, *, validate: bool = True) -> float | np.ndarray:
    """``E*(L) = min_{h L-Lipschitz} ||h - V||_inf = max_{x, y} (V(x) - V(y) - L d(x, y))^+ / 2``.

    The distance in the sup norm from ``V`` to the ``L``-Lipschitz functions (attained by
    :func:`best_lipschitz_approximation`); non-increasing in ``L`` and 0 for ``L >= L_V``.
    """
    v = _as_float("V", V)
    d = check_metric(metric) if validate else np.asarray(metric, dtype=np.float64)
    L = _check_L(L)
    if v.ndim < 1 or v.shape[-1] != d.shape[0]:
        raise ValueError(f"V must have the states on its last axis, S = {d.shape[0]}; got shape {v.shape}")
    out = np.zeros(v.shape[:-1])
    for i in range(d.shape[0]):
        out = np.maximum(out, np.max(v[..., i : i + 1] - v - L * d[i], axis=-1))
    out = 0.5 * out
    return float(out) if out.ndim == 0 else out


def _check_L(L: Any) -> float:
    return real_scalar("L", L, nonneg=True)
