"""Argument checks of :mod:`rltheory.robust` (private): thin wrappers of :mod:`rltheory.validation`; every error names
the argument and, for arrays, the first offending index."""

from __future__ import annotations

from typing import Any

import numpy as np

from rltheory.validation import ValidationError, check_finite, choice, real_array, real_scalar, simplex

#: Divergence names accepted by every function of :mod:`rltheory.robust`.
DIVERGENCES = ("tv", "kl", "chi2")
#: Tolerance on ``|sum_s p0(s) - 1|``; accepted rows are then divided by their sum.
P0_SUM_ATOL = 1e-10


def check_positive(name: str, value: Any) -> float:
    """A positive finite real scalar, or ``ValueError`` naming it (:func:`rltheory.validation.real_scalar`)."""
    return real_scalar(name, value, positive=True)


def check_nonnegative(name: str, value: Any) -> float:
    """A non-negative finite real scalar, or ``ValueError`` naming it."""
    return real_scalar(name, value, nonneg=True)


def check_divergence(divergence: Any) -> str:
    """One of :data:`DIVERGENCES`, or ``ValueError`` listing them."""
    return choice("divergence", divergence, DIVERGENCES)


def as_float_array(name: str, x: Any) -> np.ndarray:
    """``x`` as a float64 array of rank >= 1 (``TypeError`` if not real-numeric, ``ValueError`` for rank 0 or a
    NaN)."""
    arr = real_array(name, x, finite=False)
    if arr.ndim == 0:
        raise ValidationError(f"{name} must have at least one axis (the states), got a scalar", name)
    if arr.shape[-1] == 0:
        raise ValidationError(f"{name} must have at least one state on its last axis, got shape {arr.shape}", name)
    check_finite(name, arr)
    return arr


def check_simplex(name: str, p: np.ndarray) -> None:
    """Entries ``>= 0`` and sums over the last axis within :data:`P0_SUM_ATOL` of 1, or ``ValueError`` naming the
    first offending index."""
    simplex(name, p, atol=P0_SUM_ATOL, finite=False)


def prepare(v: Any, p0: Any, v_name: str = "v", p_name: str = "p0") -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Validate ``v`` and ``p0`` and return the broadcast pair as read-only ``[N, S]`` arrays and the batch shape."""
    v_arr = as_float_array(v_name, v)
    p_arr = as_float_array(p_name, p0)
    check_simplex(p_name, p_arr)
    if v_arr.shape[-1] != p_arr.shape[-1]:
        raise ValueError(
            f"{v_name} and {p_name} must have the same number of states on the last axis, got shapes "
            f"{v_arr.shape} and {p_arr.shape}"
        )
    try:
        batch = np.broadcast_shapes(v_arr.shape[:-1], p_arr.shape[:-1])
    except ValueError:
        raise ValueError(
            f"the leading axes of {v_name} {v_arr.shape} and {p_name} {p_arr.shape} must broadcast against each other"
        ) from None
    S = v_arr.shape[-1]
    full = batch + (S,)
    N = int(np.prod(batch, dtype=np.int64))
    return _rows(v_arr, full, N, S), _rows(p_arr, full, N, S), batch


def _rows(arr: np.ndarray, full: tuple[int, ...], N: int, S: int) -> np.ndarray:
    """``arr`` broadcast to ``full`` as a read-only C-contiguous ``[N, S]`` array: a view when ``arr`` already has
    the full shape (no copy of 10^6 pairs), a copy when it is broadcast. One layout means one compiled kernel."""
    out = np.ascontiguousarray(np.broadcast_to(arr, full).reshape(N, S))
    out.flags.writeable = False
    return out
