"""Exact Wasserstein-1 distances between distributions on a finite metric space (transition rows).

``W_1(p, q) = min_{pi in Pi(p, q)} sum_{x, y} pi(x, y) d(x, y) = max_{f 1-Lipschitz} sum_x f(x) (p(x) - q(x))``
(Kantorovich-Rubinstein duality; C. Villani, *Optimal Transport: Old and New*, Springer 2009, Thm 5.10 and
Remark 6.5).

* On the real line (:func:`wasserstein_line`) it is the closed form ``int |F_p(t) - F_q(t)| dt``, a sum over the
  gaps between sorted points: exact up to round-off, vectorised over any leading axes.
* On a general finite metric (:func:`wasserstein_lp`, :func:`optimal_transport`) it is the transport LP, solved by
  scipy's HiGHS dual simplex with feasibility tolerances tightened to ``1e-10``. Because ``d`` is a metric, mass
  shared by ``p`` and ``q`` stays in place, so the LP only moves ``(p - q)^+`` onto ``(q - p)^+`` (disjoint
  supports, a much smaller LP); many pairs are stacked into one block-diagonal LP per call. HiGHS's default
  tolerances (``1e-7``) give errors up to ``1e-7`` in ``W_1``, so they are tightened to ``1e-10`` and every solve
  is **certified**: the sink duals are turned into an exactly 1-Lipschitz potential ``f`` by two c-transforms,
  whose value ``f . (p - q)`` is a lower bound and is the value returned; the plan, repaired to meet the marginals
  (HiGHS drops masses below its tolerance), gives an upper bound. A pair whose certified interval is wider than
  ``cert_tol`` is re-solved alone without presolve, and an error is raised if it still is (not seen in testing:
  the intervals are below ``1e-13``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from rltheory.lipschitz.metrics import _as_float, check_metric
from rltheory.validation import simplex

__all__ = [
    "DISTRIBUTION_ATOL",
    "TransportResult",
    "WassersteinSolverError",
    "kantorovich_potential",
    "optimal_transport",
    "transition_wasserstein",
    "wasserstein",
    "wasserstein_line",
    "wasserstein_lp",
]

#: Tolerance on ``|sum(p) - 1|`` accepted for a distribution (as for the rows of a TabularMDP).
DISTRIBUTION_ATOL = 1e-10
_HIGHS_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}
_RETRY_OPTIONS = {**_HIGHS_OPTIONS, "presolve": False}
#: Largest number of transport variables stacked into one block-diagonal LP.
_MAX_BLOCK_VARIABLES = 20_000


class WassersteinSolverError(RuntimeError):
    """The transport LP could not be certified to the requested accuracy."""


@dataclass(frozen=True)
class TransportResult:
    """An optimal transport between ``p`` and ``q`` with its certificate.

    Attributes:
        distance: ``W_1(p, q)``, reported as ``f . (p - q)`` for the 1-Lipschitz ``potential`` (so ``lower``); the
            true value lies in ``[lower, upper]``.
        plan: coupling ``pi[x, y] >= 0`` with marginals ``p`` (rows) and ``q`` (columns) up to round-off ``[S, S]``;
            the shared mass ``min(p, q)`` sits on the diagonal. Its cost is within ``gap`` of ``distance``.
        potential: a Kantorovich potential ``f: [S]``, 1-Lipschitz for ``d`` (up to round-off), with
            ``f . (p - q) = distance``: the value function that makes Kantorovich-Rubinstein an equality.
        lower: certified lower bound ``f . (p - q)``.
        upper: certified upper bound: the cost of the (repaired) plan plus ``max d`` times its marginal residuals.
        gap: ``upper - lower``.
        success: whether ``gap <= cert_tol``.
        solver: ``"empty"`` (p = q), ``"star"`` (one source or one sink: closed form), or ``"highs-ds"``.
        message: the solver's message.
    """

    distance: float
    plan: np.ndarray
    potential: np.ndarray
    lower: float
    upper: float
    gap: float
    success: bool
    solver: str
    message: str = ""


# ----------------------------------------------------------------------------------------------- validation
def _check_distributions(name: str, x: Any, S: int | None = None) -> np.ndarray:
    arr = _as_float(name, x)
    if arr.ndim < 1 or arr.shape[-1] < 1:
        raise ValueError(f"{name} must have the states on its last axis, got shape {arr.shape}")
    if S is not None and arr.shape[-1] != S:
        raise ValueError(f"{name} must have S = {S} states on its last axis, got shape {arr.shape}")
    simplex(name, arr, atol=DISTRIBUTION_ATOL, finite=False)
    return arr


def _pair(p: Any, q: Any, S: int | None) -> tuple[np.ndarray, np.ndarray]:
    pa = _check_distributions("p", p, S)
    qa = _check_distributions("q", q, pa.shape[-1])
    try:
        shape = np.broadcast_shapes(pa.shape[:-1], qa.shape[:-1])
    except ValueError:
        raise ValueError(f"the leading axes of p {pa.shape} and q {qa.shape} do not broadcast") from None
    n = pa.shape[-1]
    return np.broadcast_to(pa, shape + (n,)), np.broadcast_to(qa, shape + (n,))


# ----------------------------------------------------------------------------------------------- the line
def wasserstein_line(p: Any, q: Any, points: Any) -> float | np.ndarray:
    """``W_1(p, q)`` for distributions on points of the real line, in closed form.

    ``W_1(p, q) = int |F_p(t) - F_q(t)| dt = sum_{i < S-1} |F_p(x_(i)) - F_q(x_(i))| (x_(i+1) - x_(i))`` over the
    sorted points ``x_(0) <= ... <= x_(S-1)`` (S. S. Vallender, "Calculation of the Wasserstein distance between
    probability distributions on the line", Theory Probab. Appl. 18, 1974); the CDF difference is the running sum
    of ``p - q``, so the error is a few ulps times ``S``.

    Args:
        p, q: distributions ``[..., S]`` whose leading axes broadcast (rows summing to 1 within ``1e-10``).
        points: coordinates ``x: [S]``, in any order (repeats allowed).

    Returns:
        ``W_1`` as a float, or an array of the broadcast leading shape.
    """
    x = _as_float("points", points)
    if x.ndim != 1:
        raise ValueError(f"points must be a 1-D array [S], got shape {x.shape}")
    pa, qa = _pair(p, q, x.size)
    order = np.argsort(x, kind="stable")
    gaps = np.diff(x[order])
    cdf_diff = np.cumsum((pa - qa)[..., order], axis=-1)[..., :-1]
    out = np.abs(cdf_diff) @ gaps if gaps.size else np.zeros(pa.shape[:-1])
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


# ----------------------------------------------------------------------------------------------- the LP
@dataclass
class _Block:
    """One pair reduced to moving ``a = (p - q)^+`` on ``I`` onto ``b = (q - p)^+`` on ``J``."""

    p: np.ndarray
    q: np.ndarray
    I: np.ndarray
    J: np.ndarray
    a: np.ndarray
    b: np.ndarray
    flow: np.ndarray | None = None  # [n, m]
    v: np.ndarray | None = None  # dual of the sink constraints [m]
    message: str = ""


def _reduce(p: np.ndarray, q: np.ndarray) -> _Block:
    diff = p - q
    I = np.flatnonzero(diff > 0)
    J = np.flatnonzero(diff < 0)
    return _Block(p, q, I, J, diff[I], -diff[J])


def _star(block: _Block, d: np.ndarray) -> None:
    """One source or one sink: every unit of mass has a single destination, so the plan is forced."""
    n, m = block.I.size, block.J.size
    if n == 1:
        block.flow = block.b[None, :].copy()
    else:
        block.flow = block.a[:, None].copy()
    assert block.flow.shape == (n, m)


def _solve_stack(blocks: list[_Block], d: np.ndarray, options: dict[str, float]) -> None:
    """Solve the transport LPs of ``blocks`` as one block-diagonal LP and store flows and sink duals."""
    costs, rows, cols, rhs = [], [], [], []
    nrow = nvar = 0
    for blk in blocks:
        n, m = blk.I.size, blk.J.size
        var = nvar + np.arange(n * m)
        costs.append(d[np.ix_(blk.I, blk.J)].ravel())
        rows += [nrow + np.repeat(np.arange(n), m), nrow + n + np.tile(np.arange(m), n)]
        cols += [var, var]
        rhs += [blk.a, blk.b]
        nrow += n + m
        nvar += n * m
    r = np.concatenate(rows)
    A_eq = sp.csr_array((np.ones(r.size), (r, np.concatenate(cols))), shape=(nrow, nvar))
    res = linprog(
        np.concatenate(costs),
        A_eq=A_eq,
        b_eq=np.concatenate(rhs),
        bounds=(0, None),
        method="highs-ds",
        options=dict(options),
    )
    if res.x is None or res.eqlin is None:
        for blk in blocks:
            blk.flow, blk.v, blk.message = None, None, str(res.message)
        return
    x = np.maximum(res.x, 0.0)
    duals = np.asarray(res.eqlin.marginals)
    orow = ovar = 0
    for blk in blocks:
        n, m = blk.I.size, blk.J.size
        blk.flow = x[ovar : ovar + n * m].reshape(n, m)
        blk.v = duals[orow + n : orow + n + m]
        blk.message = str(res.message)
        orow += n + m
        ovar += n * m


def _repair(blk: _Block, d: np.ndarray) -> np.ndarray:
    """An exactly feasible plan (up to round-off) from HiGHS's flows.

    HiGHS meets the marginals only within its feasibility tolerance and rounds masses below it to zero (rows of
    a Gaussian kernel reach 1e-100). Over-shipping rows and columns are scaled down, then the unshipped residuals
    are shipped greedily along the cheapest edges; the repaired plan's cost is a certified upper bound.
    """
    assert blk.flow is not None
    F = np.maximum(blk.flow, 0.0)
    a, b = blk.a, blk.b
    rows = F.sum(axis=1)
    over = rows > a
    F[over] *= (a[over] / rows[over])[:, None]
    cols = F.sum(axis=0)
    over = cols > b
    F[:, over] *= b[over] / cols[over]
    ra = np.maximum(a - F.sum(axis=1), 0.0)
    rb = np.maximum(b - F.sum(axis=0), 0.0)
    open_ = np.flatnonzero(((ra > 0)[:, None] & (rb > 0)[None, :]).ravel())
    if open_.size:
        m = b.size
        C = d[np.ix_(blk.I, blk.J)].ravel()
        for e in open_[np.argsort(C[open_], kind="stable")]:
            i, j = divmod(int(e), m)
            t = min(ra[i], rb[j])
            if t > 0.0:
                F[i, j] += t
                ra[i] -= t
                rb[j] -= t
    return F


def _certify(blk: _Block, d: np.ndarray, diam: float) -> tuple[float, float, float, np.ndarray]:
    """Certified lower and upper bounds, the repaired plan's cost and a 1-Lipschitz potential for a solved block.

    Returns ``(lower, upper, plan cost, potential)``; ``lower = f . (p - q)`` for the potential ``f``.
    """
    assert blk.flow is not None
    n, m = blk.I.size, blk.J.size
    if n == 0 or m == 0:
        f = np.zeros(d.shape[0])
    elif n == 1:
        f = -d[:, blk.I[0]]
    elif m == 1:
        f = d[:, blk.J[0]].copy()
    else:
        assert blk.v is not None
        # c-transform of the sink duals: f(x) = min_j d(x, y_j) - v_j is a min of 1-Lipschitz functions; a second
        # c-transform f(x) = min_y f(y) + d(x, y) removes any round-off violation of the Lipschitz condition.
        f = np.min(d[:, blk.J] - blk.v[None, :], axis=1)
    f = np.min(f[None, :] + d, axis=1)
    f = f - f[np.argmin(np.abs(f))]
    lower = float(f @ (blk.p - blk.q))
    cost = 0.0
    resid = abs(float(np.sum(blk.p - blk.q))) + float(blk.a.sum() + blk.b.sum()) * (n == 0 or m == 0)
    if n and m:
        if min(n, m) > 1:
            blk.flow = _repair(blk, d)
        cost = float(np.sum(blk.flow * d[np.ix_(blk.I, blk.J)]))
        resid += float(np.abs(blk.flow.sum(axis=1) - blk.a).sum() + np.abs(blk.flow.sum(axis=0) - blk.b).sum())
    # a plan meeting the marginals within resid (in l1) costs at least W1 - diam * resid
    upper = cost + diam * resid
    return lower, upper, cost, f


def _solve_pairs(
    P: np.ndarray, Q: np.ndarray, d: np.ndarray, cert_tol: float, keep: bool
) -> tuple[np.ndarray, list[TransportResult] | None]:
    """W1 for every row pair of ``P, Q: [K, S]``; with ``keep`` also the full results."""
    K = P.shape[0]
    diam = float(d.max()) if d.size else 0.0
    blocks = [_reduce(P[k], Q[k]) for k in range(K)]
    # "empty": p = q, or a one-sided round-off difference (rows equal up to ~1e-16)
    solver = [
        "empty" if min(b.I.size, b.J.size) == 0 else "star" if min(b.I.size, b.J.size) == 1 else "highs-ds"
        for b in blocks
    ]
    lp = [k for k in range(K) if solver[k] == "highs-ds"]
    for k in range(K):
        if solver[k] == "empty":
            blocks[k].flow = np.zeros((blocks[k].I.size, blocks[k].J.size))
        elif solver[k] == "star":
            _star(blocks[k], d)
    # stack LPs into chunks of at most _MAX_BLOCK_VARIABLES variables
    chunk: list[_Block] = []
    size = 0
    for k in lp:
        nm = blocks[k].I.size * blocks[k].J.size
        if chunk and size + nm > _MAX_BLOCK_VARIABLES:
            _solve_stack(chunk, d, _HIGHS_OPTIONS)
            chunk, size = [], 0
        chunk.append(blocks[k])
        size += nm
    if chunk:
        _solve_stack(chunk, d, _HIGHS_OPTIONS)

    out = np.empty(K)
    results: list[TransportResult] | None = [] if keep else None
    for k in range(K):
        blk = blocks[k]
        cert = _try_certify(blk, d, diam)
        if solver[k] == "highs-ds" and (cert is None or cert[1] - cert[0] > cert_tol * max(1.0, abs(cert[0]))):
            _solve_stack([blk], d, _RETRY_OPTIONS)  # alone, without presolve
            cert = _try_certify(blk, d, diam)
        if cert is None:
            raise WassersteinSolverError(f"HiGHS failed on row pair {k}: {blk.message}")
        lower, upper, cost, f = cert
        ok = upper - lower <= cert_tol * max(1.0, abs(lower))
        if not ok:
            raise WassersteinSolverError(
                f"row pair {k}: W1 not certified to {cert_tol:g}: lower {lower!r}, upper {upper!r} ({blk.message})"
            )
        out[k] = lower
        if results is not None:
            plan = np.diag(np.minimum(blk.p, blk.q))
            if blk.I.size and blk.J.size:
                assert blk.flow is not None
                plan[np.ix_(blk.I, blk.J)] += blk.flow
            results.append(TransportResult(lower, plan, f, lower, upper, upper - lower, ok, solver[k], blk.message))
    return out, results


def _try_certify(blk: _Block, d: np.ndarray, diam: float) -> tuple[float, float, float, np.ndarray] | None:
    if blk.flow is None:
        return None
    return _certify(blk, d, diam)


def wasserstein_lp(
    p: Any, q: Any, metric: Any, *, validate: bool = True, cert_tol: float = 1e-10
) -> float | np.ndarray:
    """``W_1(p, q)`` on a finite metric space by the transport LP (HiGHS), certified, vectorised over pairs.

    ``W_1(p, q) = min { sum_{x,y} pi(x, y) d(x, y) : pi >= 0, pi 1 = p, pi^T 1 = q }``. See the module docstring for
    the reduction to ``(p - q)^+ -> (q - p)^+``, the stacking of pairs into block-diagonal LPs and the certificate.

    Args:
        p, q: distributions ``[..., S]`` whose leading axes broadcast.
        metric: ``d: [S, S]`` (validated by :func:`~rltheory.lipschitz.check_metric` unless ``validate=False``; the
            reduction and the certificate need the triangle inequality).
        cert_tol: largest accepted width of the certified interval, relative to ``max(1, W_1)``.

    Returns:
        ``W_1`` as a float, or an array of the broadcast leading shape.

    Raises:
        WassersteinSolverError: a pair could not be certified (HiGHS failed twice).
    """
    d = check_metric(metric) if validate else _as_float("metric", metric)
    pa, qa = _pair(p, q, d.shape[0])
    lead = pa.shape[:-1]
    S = d.shape[0]
    vals, _ = _solve_pairs(pa.reshape(-1, S), qa.reshape(-1, S), d, cert_tol, keep=False)
    out = vals.reshape(lead)
    return float(out) if out.ndim == 0 else out


def optimal_transport(
    p: Any, q: Any, metric: Any, *, validate: bool = True, cert_tol: float = 1e-10
) -> TransportResult:
    """An optimal plan, a Kantorovich potential and the certified value of ``W_1(p, q)`` for one pair.

    Args:
        p, q: distributions ``[S]``.
        metric: ``d: [S, S]``.

    Returns:
        :class:`TransportResult`.
    """
    d = check_metric(metric) if validate else _as_float("metric", metric)
    pa, qa = _pair(p, q, d.shape[0])
    if pa.ndim != 1:
        raise ValueError(f"optimal_transport takes one pair of distributions [S]; got p {pa.shape}, use wasserstein_lp")
    _, results = _solve_pairs(pa[None], qa[None], d, cert_tol, keep=True)
    assert results is not None
    return results[0]


def kantorovich_potential(p: Any, q: Any, metric: Any, *, validate: bool = True) -> np.ndarray:
    """A 1-Lipschitz ``f: [S]`` with ``sum_x f(x) (p(x) - q(x)) = W_1(p, q)`` (Kantorovich-Rubinstein equality).

    ``V = L f`` is then an ``L``-Lipschitz value function for which the Bellman-gap bound
    ``|E_p V - E_q V| <= L W_1(p, q)`` holds with equality.
    """
    return optimal_transport(p, q, metric, validate=validate).potential


def wasserstein(p: Any, q: Any, *, metric: Any = None, points: Any = None, validate: bool = True) -> float | np.ndarray:
    """``W_1(p, q)``: the closed form on the line when ``points`` are given, else the certified LP on ``metric``.

    Args:
        p, q: distributions ``[..., S]``.
        metric: ``d: [S, S]`` of a finite metric space.
        points: coordinates ``x: [S]`` on the real line (then ``d = |x - x'|``). Exactly one of the two.
    """
    if (metric is None) == (points is None):
        raise ValueError("give exactly one of metric (a [S, S] matrix) and points (line coordinates [S])")
    if points is not None:
        return wasserstein_line(p, q, points)
    return wasserstein_lp(p, q, metric, validate=validate)


def transition_wasserstein(
    P: Any, P_hat: Any, *, metric: Any = None, points: Any = None, validate: bool = True
) -> np.ndarray:
    """``W_1(P(.|s, a), P_hat(.|s, a))`` for every state-action pair: the model error of a learned kernel.

    Args:
        P, P_hat: kernels ``[S, A, S]`` (arrays, or :class:`~rltheory.mdp.TabularMDP` instances whose dense P is
            used; time-homogeneous and unbatched).
        metric, points: the state space, as in :func:`wasserstein`.

    Returns:
        ``W: [S, A]``; the model error of the paper's fixed-point bound is ``eps_W = W.max()``.
    """
    Pa = _kernel("P", P)
    Pb = _kernel("P_hat", P_hat)
    if Pa.shape != Pb.shape:
        raise ValueError(f"P and P_hat must have the same shape [S, A, S]; got {Pa.shape} and {Pb.shape}")
    out = wasserstein(Pa, Pb, metric=metric, points=points, validate=validate)
    return np.asarray(out)


def _kernel(name: str, P: Any) -> np.ndarray:
    from rltheory.mdp import TabularMDP

    if isinstance(P, TabularMDP):
        if P.batched or P.p_time_varying:
            raise ValueError(f"{name} must be an unbatched, time-homogeneous MDP")
        P = P.dense_P()
    arr = _as_float(name, P)
    if arr.ndim != 3 or arr.shape[0] != arr.shape[2]:
        raise ValueError(f"{name} must be a kernel [S, A, S], got shape {arr.shape}")
    return arr
