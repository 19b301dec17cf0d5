"""Argument validation shared by every module of :mod:`rltheory` and :mod:`mdps`.

Every public function and constructor checks its arguments at the door with the functions below, so that a bad
argument fails at once, with a message that names the argument and the bad value, instead of deep inside numpy (or,
worse, being accepted: ``float("0.5")``, ``float(False)``, ``bool("no")`` and ``np.asarray(P, float)`` of a complex
``P`` all succeed silently).

Errors:

* :class:`ValidationError` (a ``ValueError``): the argument has an acceptable type but a bad value (out of range,
  non-finite, wrong shape, not a distribution).
* :class:`ArgumentTypeError`: the argument has the wrong type (a string, a bool or a complex number where a real
  number is expected, an object or complex array, a callable). It subclasses both ``TypeError`` and
  :class:`ValidationError` (hence ``ValueError``), so ``except TypeError`` and ``except ValueError`` both catch it.

Both carry the argument's name in ``.argument``. The rules:

* **Real scalars** (:func:`real_scalar`) are Python or NumPy reals (``int``, ``float``, ``np.integer``,
  ``np.floating``, ``fractions.Fraction``, a 0-d real array). ``bool``/``np.bool_``, strings, complex numbers and
  ``None`` are rejected; NaN always, infinities unless ``finite=False``. Integers (``integer=True``) must be of an
  integer type: ``2.0`` is not an integer argument.
* **Booleans** (:func:`boolean`) are ``True``/``False``/``np.bool_`` only: ``"no"`` and ``1`` are rejected.
* **Real arrays** (:func:`real_array`) have a boolean, integer or float dtype; complex, object, string, datetime and
  structured arrays are rejected, dense or ``scipy.sparse``. Entries must be finite unless ``finite=False``.
* **Random generators** (:func:`generator`) are ``None``, a non-negative ``int`` seed or a non-empty sequence of
  them (``SeedSequence`` entropy), a ``numpy.random.SeedSequence``, a ``BitGenerator`` or a ``Generator``
  (returned as is).
* **Choices** (:func:`choice`) compare by type and value: ``True`` is not the option ``1``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "ArgumentTypeError",
    "ValidationError",
    "boolean",
    "check_finite",
    "choice",
    "first_index",
    "generator",
    "real_array",
    "real_scalar",
    "simplex",
]


class ValidationError(ValueError):
    """A bad argument value; ``argument`` is the argument's name (None when not known)."""

    def __init__(self, message: str, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class ArgumentTypeError(ValidationError, TypeError):
    """An argument of the wrong type; both a ``TypeError`` and a ``ValueError`` (:class:`ValidationError`)."""


# ----------------------------------------------------------------------------------------------- helpers
def _fmt(x: Any) -> str:
    """``repr`` of a value, with NumPy scalars shown as plain Python numbers (``nan``, not ``np.float64(nan)``)."""
    if isinstance(x, (np.bool_, bool)):
        return repr(bool(x))
    if isinstance(x, np.integer):
        return repr(int(x))
    if isinstance(x, np.floating):
        return repr(float(x))
    if isinstance(x, np.complexfloating):
        return repr(complex(x))
    return repr(x)


def _describe(value: Any) -> str:
    """A short description of a (wrong-typed) argument for a message: its repr, or its type for large objects."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {list(value.shape)}"
    if sp.issparse(value):
        return f"a scipy.sparse {type(value).__name__} of dtype {value.dtype}"
    text = _fmt(value)
    return text if len(text) <= 80 else f"a {type(value).__name__}"


def first_index(mask: np.ndarray) -> tuple[int, ...]:
    """The index of the first True entry of ``mask`` (in C order)."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _is_real_scalar(value: Any, integer: bool) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    kinds = "iu" if integer else "iuf"
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in kinds
    if integer:
        return isinstance(value, (numbers.Integral, np.integer))
    return isinstance(value, (numbers.Real, np.integer, np.floating))


def _interval(lo: float | None, hi: float | None, lo_open: bool, hi_open: bool) -> str:
    left = "(-inf" if lo is None else f"{'(' if lo_open else '['}{lo:g}"
    right = "inf)" if hi is None else f"{hi:g}{')' if hi_open else ']'}"
    return f"{left}, {right}"


# ----------------------------------------------------------------------------------------------- scalars
def real_scalar(
    name: str,
    value: Any,
    *,
    positive: bool = False,
    nonneg: bool = False,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    finite: bool = True,
) -> Any:
    """``value`` as a Python ``float`` (``int`` with ``integer=True``), checked against its range.

    Args:
        name: the argument's name, used in the message.
        value: the argument.
        positive: require ``value > 0`` (for an integer: ``>= 1``).
        nonneg: require ``value >= 0``.
        lo, hi: bounds (closed unless ``lo_open``/``hi_open``); combined with ``positive``/``nonneg``.
        integer: require an integer type (``int``, ``np.integer``, a 0-d integer array; not ``bool``, not ``2.0``).
        finite: reject ``inf`` (NaN is always rejected). With ``finite=False`` an infinite bound is allowed.

    Raises:
        ArgumentTypeError: ``value`` is not a real number (a string, a bool, a complex number, None, an array...).
        ValidationError: ``value`` is NaN, infinite (with ``finite=True``) or out of range.
    """
    if positive:
        if integer:
            lo, lo_open = (1 if lo is None else max(lo, 1)), False
        elif lo is None or lo <= 0:
            lo, lo_open = 0.0, True
    elif nonneg and (lo is None or lo < 0):
        lo, lo_open = 0, False
    if integer:
        bounds = ([f">= {lo}"] if lo is not None else []) + ([f"<= {hi}"] if hi is not None else [])
        noun = "an integer" + (" " + " and ".join(bounds) if bounds else "")
        must = f"be {noun}"
    else:
        fin = "finite " if finite else ""
        if hi is None and lo == 0 and lo_open:
            noun = f"a positive {fin}number"
            must = f"be {noun}"
        elif hi is None and lo == 0:
            noun = f"a non-negative {fin}number"
            must = f"be {noun}"
        elif hi is None and lo is None:
            noun = f"a {fin}real number"
            must = f"be {noun}"
        else:
            interval = _interval(lo, hi, lo_open, hi_open)
            noun = f"a real number in {interval}"
            must = f"lie in {interval}"
    if not _is_real_scalar(value, integer):
        raise ArgumentTypeError(f"{name} must be {noun}, got {_describe(value)} ({type(value).__name__})", name)
    x: Any = int(value) if integer else float(value)
    ok = not (x != x) and (not finite or abs(x) != np.inf)
    if lo is not None:
        ok = ok and (x > lo if lo_open else x >= lo)
    if hi is not None:
        ok = ok and (x < hi if hi_open else x <= hi)
    if not ok:
        raise ValidationError(f"{name} must {must}, got {_fmt(value)}", name)
    return x


def boolean(name: str, value: Any) -> bool:
    """``value`` as a ``bool``; only ``True``, ``False`` and ``np.bool_`` are accepted (``"no"``, ``1``, ``None``
    raise :class:`ArgumentTypeError`)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"{name} must be a bool (True or False), got {_describe(value)}", name)
    return bool(value)


def choice(name: str, value: Any, options: Iterable[Any]) -> Any:
    """The option equal to ``value`` (same type family and value), else :class:`ValidationError` listing them.

    Strings match strings only (``np.str_`` included), so ``True`` is not the option ``1`` and ``1`` is not ``"1"``.
    """
    opts = list(options)
    for opt in opts:
        if value is opt:
            return opt
        if isinstance(value, (bool, np.bool_)) != isinstance(opt, (bool, np.bool_)):
            continue
        if isinstance(opt, str):
            if isinstance(value, str) and value == opt:
                return opt
            continue
        if isinstance(value, str) or isinstance(value, np.ndarray):
            continue
        try:
            if value == opt:
                return opt
        except Exception:  # noqa: BLE001 - an uncomparable value is simply not this option
            continue
    raise ValidationError(f"{name} must be one of {opts}, got {_describe(value)}", name)


def generator(name: str, rng: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``None`` (fresh entropy), a non-negative ``int`` seed or a non-empty
    sequence of them (``SeedSequence`` entropy, as ``numpy.random.default_rng`` takes), a ``SeedSequence``, a
    ``BitGenerator`` or a ``Generator`` (returned as is, so its stream is shared with the caller).

    Raises:
        ArgumentTypeError: any other type (a string, a float, a bool, a legacy ``RandomState``...).
        ValidationError: a negative seed.
    """
    if rng is None or isinstance(rng, (np.random.SeedSequence, np.random.BitGenerator, np.random.Generator)):
        return np.random.default_rng(rng)
    if _is_real_scalar(rng, integer=True):
        seed = int(rng)
        if seed < 0:
            raise ValidationError(f"{name} must be a non-negative seed, got {seed}", name)
        return np.random.default_rng(seed)
    if (
        isinstance(rng, (list, tuple, np.ndarray))
        and np.ndim(rng) == 1
        and len(rng) > 0
        and all(_is_real_scalar(x, integer=True) for x in rng)
    ):
        seeds = [int(x) for x in rng]  # entropy for a SeedSequence, as numpy.random.default_rng accepts it
        if min(seeds) < 0:
            raise ValidationError(f"{name} must hold non-negative seeds, got {seeds}", name)
        return np.random.default_rng(seeds)
    raise ArgumentTypeError(
        f"{name} must be None, an int seed (or a sequence of them), a numpy.random.SeedSequence or a "
        "numpy.random.Generator, "
        f"got {_describe(rng)}",
        name,
    )


# ----------------------------------------------------------------------------------------------- arrays
def _check_dtype(name: str, dtype: np.dtype, value: Any, allow_bool: bool) -> None:
    kinds = "biuf" if allow_bool else "iuf"
    if dtype.kind in kinds:
        return
    if dtype.kind == "c":
        raise ArgumentTypeError(
            f"{name} must be real, got a complex array (dtype {dtype}); pass its real part explicitly if the "
            "imaginary part is zero",
            name,
        )
    if dtype.kind == "b":
        raise ArgumentTypeError(f"{name} must be a numeric array, got a boolean array", name)
    raise ArgumentTypeError(f"{name} must be a numeric array, got {_describe(value)}", name)


def real_array(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    finite: bool = True,
    sparse: bool = False,
    allow_bool: bool = True,
) -> Any:
    """``value`` as a real float64 array (a view when it already is one; never written to).

    Args:
        name: the argument's name, used in the message.
        value: an array-like (list, ndarray, anything ``np.asarray`` takes) or, with ``sparse=True``, a
            ``scipy.sparse`` matrix or array.
        ndim: the required number of axes (an int, or a tuple of allowed ones).
        finite: reject NaN and infinities, naming the first offending index.
        sparse: accept a ``scipy.sparse`` input; it is returned as a float64 ``csr_array`` copy.
        allow_bool: accept a boolean array (read as 0/1).

    Raises:
        ArgumentTypeError: not array-like, a callable, a complex, object, string, datetime or structured dtype, or a
            sparse matrix where a dense array is needed.
        ValidationError: the wrong number of axes, or a non-finite entry.
    """
    if sp.issparse(value):
        if not sparse:
            raise ArgumentTypeError(f"{name} must be a dense array, got {_describe(value)}", name)
        _check_dtype(name, value.dtype, value, allow_bool)
        out = sp.csr_array(value, dtype=np.float64, copy=True)
        if ndim is not None and 2 not in np.atleast_1d(ndim):
            raise ValidationError(f"{name} must have {ndim} axes, got a sparse matrix of shape {out.shape}", name)
        if finite and not np.isfinite(out.data).all():
            k = int(np.argmax(~np.isfinite(out.data)))
            raise ValidationError(f"{name} must be finite; it stores {_fmt(out.data[k])}", name)
        return out
    if callable(value) and not isinstance(value, np.ndarray):
        raise ArgumentTypeError(
            f"{name} must be an array, got the callable {_describe(value)}; call it to get the array", name
        )
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"{name} must be a numeric array, got {_describe(value)} ({exc})", name) from exc
    _check_dtype(name, arr.dtype, value, allow_bool)
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValidationError(f"{name} must have {want} axes, got shape {list(arr.shape)}", name)
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name: str, arr: np.ndarray) -> None:
    """:class:`ValidationError` naming the first non-finite entry of a float array."""
    if arr.size and not np.isfinite(arr).all():
        if arr.ndim == 0:
            raise ValidationError(f"{name} must be finite, got {_fmt(arr[()])}", name)
        idx = first_index(~np.isfinite(arr))
        raise ValidationError(f"{name} must be finite; {name}{list(idx)} = {_fmt(arr[idx])}", name)


def simplex(name: str, arr: np.ndarray, *, atol: float = 1e-10, finite: bool = True) -> None:
    """Check that every row (the last axis) of a float array is a probability distribution.

    Entries must be ``>= 0`` and each row sum within ``atol`` of 1; the message names the first offending index.
    Two reads of ``arr`` and no temporary of its size on the happy path (``min`` propagates NaN and an infinite entry
    makes its row sum non-finite), so it is cheap on a 0.5 GB transition kernel.

    Raises:
        ValidationError: ``"{name} must be finite; ..."``, ``"{name} must be non-negative; {name}[i, j] = ..."`` or
            ``"rows of {name} must sum to 1 (within atol); {name}[i].sum() = ..."``.
    """
    if arr.size == 0:
        return
    lo = arr.min()
    sums = arr.sum(axis=-1)
    if finite and (not np.isfinite(lo) or not np.isfinite(sums).all()):
        check_finite(name, arr)
    if lo < 0:
        idx = first_index(arr < 0)
        raise ValidationError(f"{name} must be non-negative; {name}{list(idx)} = {_fmt(arr[idx])}", name)
    off = ~(np.abs(sums - 1.0) <= atol)
    if off.any():
        if sums.ndim == 0:
            raise ValidationError(f"rows of {name} must sum to 1 (within {atol:g}); {name}.sum() = {_fmt(sums)}", name)
        idx = first_index(off)
        raise ValidationError(
            f"rows of {name} must sum to 1 (within {atol:g}); {name}{list(idx)}.sum() = {_fmt(sums[idx])}", name
        )
