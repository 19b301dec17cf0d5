"""Tabular Markov decision processes: the core type every solver and algorithm takes.

Conventions (stated once, used everywhere):

* ``P[s, a, s']`` is the probability of moving to ``s'`` after taking ``a`` in ``s``; ``R[s, a]`` the mean
  reward. A finite-horizon MDP may be time-inhomogeneous, ``P[h, s, a, s']`` and ``R[h, s, a]``.
* Steps are zero-indexed in arrays: ``values[0]`` is the value at the first step (``h = 1`` in papers).
* A finite-horizon MDP has ``horizon=H`` and no discount; a discounted MDP has ``gamma`` in ``[0, 1)``.
* A batch of MDPs is explicit (``batched=True``): P and R then carry a leading batch axis, of size ``B`` or 1
  (broadcast). It is never guessed from ``ndim``: ``[B, S, A, S]`` and ``[H, S, A, S]`` have the same rank.
* Policies: deterministic ``[H, S]`` integer arrays or stochastic ``[H, S, A]`` arrays of probabilities (finite
  horizon); ``[S]`` / ``[S, A]`` for discounted MDPs; with a leading batch axis for a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from rltheory import validation as val

__all__ = ["TabularMDP", "ROW_SUM_ATOL"]

#: Tolerance on ``|sum_s' P[s, a, s'] - 1|`` accepted at construction.
ROW_SUM_ATOL = 1e-10


def _as_float_array(name: str, x: Any, copy: bool = True) -> np.ndarray:
    arr = val.real_array(name, x, finite=False)
    # Freeze a private copy: the caller's array stays writeable and later changes to it cannot reach the MDP.
    # An array that is already read-only (e.g. taken from another TabularMDP) is shared, not copied.
    if not arr.flags.c_contiguous or (copy and arr is x and arr.flags.writeable):
        arr = np.array(arr, dtype=np.float64, order="C", copy=True)
    return arr


def _check_stochastic(name: str, P: np.ndarray) -> None:
    """Finiteness, non-negativity and row sums of a dense kernel whose last axis is the next state
    (:func:`rltheory.validation.simplex`: two reads of P, no temporaries of its size on the happy path)."""
    val.simplex(name, P, atol=ROW_SUM_ATOL)


def _check_sparse_stochastic(name: str, P: sp.csr_array, S: int, A: int) -> None:
    data = P.data
    if not np.isfinite(data).all():
        k = int(np.argmax(~np.isfinite(data)))
        row = int(np.searchsorted(P.indptr, k, side="right") - 1)
        raise val.ValidationError(
            f"{name} must be finite; {name}[s={row // A}, a={row % A}, s'={int(P.indices[k])}] = {data[k]!r}", name
        )
    if (data < 0).any():
        k = int(np.argmax(data < 0))
        row = int(np.searchsorted(P.indptr, k, side="right") - 1)
        raise val.ValidationError(
            f"{name} must be non-negative; {name}[s={row // A}, a={row % A}, s'={int(P.indices[k])}] = {data[k]!r}",
            name,
        )
    sums = np.asarray(P.sum(axis=1)).ravel()
    off = np.abs(sums - 1.0) > ROW_SUM_ATOL
    if off.any():
        row = int(np.argmax(off))
        raise val.ValidationError(
            f"rows of {name} must sum to 1 (within {ROW_SUM_ATOL:g}); row {row} "
            f"(s={row // A}, a={row % A}) sums to {sums[row]!r}",
            name,
        )


@dataclass(frozen=True, eq=False, init=False)
class TabularMDP:
    """A finite (or batch of finite) Markov decision process, validated and frozen at construction.

    The Bellman optimality equation it defines is, for a finite horizon ``H`` (``V_H = 0``),

        ``Q_h(s, a) = R_h(s, a) + sum_s' P_h(s' | s, a) V_{h+1}(s')``,   ``V_h(s) = max_a Q_h(s, a)``,

    and for a discount ``gamma``, ``Q(s, a) = R(s, a) + gamma sum_s' P(s' | s, a) V(s')``
    (Puterman, *Markov Decision Processes*, Wiley 1994, eq. 4.3.2 and 6.2.3).

    Args:
        P: transition kernel. Dense ``[S, A, S]``, time-inhomogeneous ``[H, S, A, S]`` (finite horizon only),
            or a ``scipy.sparse`` matrix ``[S*A, S]`` whose row ``s*A + a`` is ``P[s, a, :]``. With
            ``batched=True`` a dense P has a leading batch axis ``[B, ...]`` (size 1 to share one P); a sparse
            P is shared by the whole batch.
        R: mean rewards ``[S, A]`` or ``[H, S, A]``; with ``batched=True`` ``[B, S, A]`` or ``[B, H, S, A]``
            (size 1 broadcasts).
        horizon: number of steps ``H >= 1`` of a finite-horizon MDP.
        gamma: discount factor in ``[0, 1)`` of a discounted MDP. Exactly one of ``horizon`` and ``gamma``.
        initial: initial-state distribution ``[S]`` (``[B, S]`` in a batch); uniform when omitted.
        batched: whether P and R carry a leading batch axis.
        copy: copy a writeable float64 P into a private frozen array (the default: later changes to the caller's
            array cannot reach the MDP). With ``copy=False`` the MDP takes the caller's dense P as it is and marks
            it read-only, saving a copy of a large P (0.5 GB at S=2000, A=16). R and ``initial`` are always copied.

    Raises:
        ValueError: naming the argument and the first offending index, for a wrong shape, a non-finite
            entry, a negative probability, a row of P not summing to 1 within ``1e-10``, or a bad
            ``horizon``/``gamma``/``initial``.
        TypeError: for an argument of the wrong type: a non-numeric or complex P, R or ``initial`` (dense or
            sparse), a ``gamma`` or ``horizon`` that is a string, a bool or complex, a ``batched``/``copy`` that is
            not a bool (:class:`rltheory.validation.ArgumentTypeError`, which is also a ``ValueError``).
    """

    P: np.ndarray | sp.csr_array
    R: np.ndarray
    horizon: int | None
    gamma: float | None
    initial: np.ndarray
    batched: bool
    n_states: int = field(repr=True)
    n_actions: int = field(repr=True)
    batch_size: int | None = field(repr=True)

    def __init__(
        self,
        P: Any,
        R: Any,
        *,
        horizon: int | None = None,
        gamma: float | None = None,
        initial: Any = None,
        batched: bool = False,
        copy: bool = True,
    ) -> None:
        if (horizon is None) == (gamma is None):
            raise ValueError(
                f"exactly one of horizon and gamma must be given (got horizon={horizon!r}, gamma={gamma!r})"
            )
        if horizon is not None:
            horizon = val.real_scalar("horizon", horizon, integer=True, lo=1)
        if gamma is not None:
            gamma = val.real_scalar("gamma", gamma, lo=0.0, hi=1.0, hi_open=True)
        batched = val.boolean("batched", batched)
        copy = val.boolean("copy", copy)
        lead = 1 if batched else 0

        # ---- R first: it fixes S and A when P is sparse.
        R_arr = _as_float_array("R", R)
        if R_arr.ndim not in (2 + lead, 3 + lead):
            want = "[B, S, A] or [B, H, S, A]" if batched else "[S, A] or [H, S, A]"
            raise ValueError(f"R must have shape {want}, got shape {R_arr.shape}")
        val.check_finite("R", R_arr)
        S, A = R_arr.shape[-2], R_arr.shape[-1]
        if S < 1 or A < 1:
            raise ValueError(f"R must have at least one state and one action, got shape {R_arr.shape}")
        r_time = R_arr.ndim == 3 + lead

        # ---- P
        if sp.issparse(P):
            csr = val.real_array("P", P, sparse=True, finite=False)
            if csr.shape != (S * A, S):
                raise ValueError(
                    f"sparse P must have shape [S*A, S] = [{S * A}, {S}] (S={S}, A={A} from R), got {csr.shape}"
                )
            csr.sum_duplicates()
            csr.sort_indices()
            _check_sparse_stochastic("P", csr, S, A)
            P_arr: np.ndarray | sp.csr_array = csr
            p_time = False
            p_batch = None
        else:
            P_arr = _as_float_array("P", P, copy=copy)
            if P_arr.ndim not in (3 + lead, 4 + lead):
                want = "[B, S, A, S] or [B, H, S, A, S]" if batched else "[S, A, S] or [H, S, A, S]"
                raise ValueError(f"P must have shape {want}, got shape {P_arr.shape}")
            if P_arr.shape[-3:] != (S, A, S):
                raise ValueError(
                    f"P must end in [S, A, S] = [{S}, {A}, {S}] to match R of shape {R_arr.shape}, "
                    f"got P of shape {P_arr.shape}"
                )
            _check_stochastic("P", P_arr)
            p_time = P_arr.ndim == 4 + lead
            p_batch = P_arr.shape[0] if batched else None

        if (p_time or r_time) and horizon is None:
            raise ValueError("time-inhomogeneous P or R ([H, ...]) needs a finite horizon, not gamma")
        if p_time and P_arr.shape[lead] != horizon:
            raise ValueError(f"P has {P_arr.shape[lead]} steps but horizon={horizon}")
        if r_time and R_arr.shape[lead] != horizon:
            raise ValueError(f"R has {R_arr.shape[lead]} steps but horizon={horizon}")

        batch_size: int | None = None
        if batched:
            sizes = {R_arr.shape[0]} | ({p_batch} if p_batch is not None else set())
            non_one = sizes - {1}
            if len(non_one) > 1:
                raise ValueError(f"batch axes of P ({p_batch}) and R ({R_arr.shape[0]}) must be equal or 1")
            batch_size = max(sizes)

        # ---- initial distribution
        if initial is None:
            init = np.full(S, 1.0 / S)
            if batched:
                init = np.broadcast_to(init, (batch_size, S)).copy()  # type: ignore[arg-type]
        else:
            init = _as_float_array("initial", initial)
            want_shape = (S,) if not batched else None
            if batched:
                if init.ndim == 1:
                    init = np.broadcast_to(init, (batch_size, S)).copy()  # type: ignore[arg-type]
                if init.shape != (batch_size, S):
                    raise ValueError(f"initial must have shape [S] or [B, S] = [{batch_size}, {S}], got {init.shape}")
            elif init.shape != want_shape:
                raise ValueError(f"initial must have shape [S] = [{S}], got {init.shape}")
            _check_stochastic("initial", init)

        for arr in (R_arr, init) + ((P_arr,) if isinstance(P_arr, np.ndarray) else ()):
            arr.flags.writeable = False
        if not isinstance(P_arr, np.ndarray):
            for a in (P_arr.data, P_arr.indices, P_arr.indptr):
                a.flags.writeable = False

        set_ = object.__setattr__
        set_(self, "P", P_arr)
        set_(self, "R", R_arr)
        set_(self, "horizon", horizon)
        set_(self, "gamma", gamma)
        set_(self, "initial", init)
        set_(self, "batched", batched)
        set_(self, "n_states", S)
        set_(self, "n_actions", A)
        set_(self, "batch_size", batch_size)

    # ------------------------------------------------------------------ shape facts
    @property
    def is_discounted(self) -> bool:
        """True for a discounted MDP (``gamma`` set), False for a finite horizon."""
        return self.gamma is not None

    @property
    def is_sparse(self) -> bool:
        """True when P is stored as a ``scipy.sparse`` CSR matrix ``[S*A, S]``."""
        return not isinstance(self.P, np.ndarray)

    @property
    def p_time_varying(self) -> bool:
        """True when P depends on the step: ``[H, S, A, S]``."""
        return isinstance(self.P, np.ndarray) and self.P.ndim == 4 + int(self.batched)

    @property
    def r_time_varying(self) -> bool:
        """True when R depends on the step: ``[H, S, A]``."""
        return self.R.ndim == 3 + int(self.batched)

    @property
    def time_homogeneous(self) -> bool:
        """True when neither P nor R depends on the step."""
        return not (self.p_time_varying or self.r_time_varying)

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """``(B,)`` for a batch, ``()`` otherwise: the leading shape of every solver output."""
        return () if self.batch_size is None else (self.batch_size,)

    @property
    def shared_transitions(self) -> bool:
        """True when every MDP of a batch has the same P (sparse, or a batch axis of size 1)."""
        return self.batched and (self.is_sparse or self.P.shape[0] == 1)

    # ------------------------------------------------------------------ per-step views
    def P_at(self, h: int = 0) -> np.ndarray | sp.csr_array:
        """Transition kernel used at step ``h``: ``[S, A, S]`` (``[B or 1, S, A, S]`` in a batch) or sparse."""
        if not self.p_time_varying:
            return self.P
        return self.P[:, h] if self.batched else self.P[h]

    def R_at(self, h: int = 0) -> np.ndarray:
        """Rewards at step ``h``: ``[S, A]`` (``[B or 1, S, A]`` in a batch)."""
        if not self.r_time_varying:
            return self.R
        return self.R[:, h] if self.batched else self.R[h]

    def dense_P(self) -> np.ndarray:
        """P as a dense array with the stored layout (a sparse P becomes ``[S, A, S]``)."""
        if isinstance(self.P, np.ndarray):
            return self.P
        return self.P.toarray().reshape(self.n_states, self.n_actions, self.n_states)

    def unbatch(self, b: int) -> TabularMDP:
        """The ``b``-th MDP of a batch as an unbatched ``TabularMDP``."""
        if not self.batched:
            raise ValueError("unbatch() needs a batched MDP")
        assert self.batch_size is not None
        if not (0 <= b < self.batch_size):
            raise ValueError(f"b must lie in [0, {self.batch_size}), got {b}")
        P = self.P if self.is_sparse else self.P[b if self.P.shape[0] > 1 else 0]
        R = self.R[b if self.R.shape[0] > 1 else 0]
        return TabularMDP(P, R, horizon=self.horizon, gamma=self.gamma, initial=self.initial[b])

    def with_rewards(self, R: Any) -> TabularMDP:
        """The same dynamics with other rewards (validated like the constructor)."""
        return TabularMDP(self.P, R, horizon=self.horizon, gamma=self.gamma, initial=self.initial, batched=self.batched)

    def __repr__(self) -> str:
        kind = f"horizon={self.horizon}" if self.horizon is not None else f"gamma={self.gamma}"
        extras = []
        if self.batched:
            extras.append(f"batch_size={self.batch_size}")
        if self.is_sparse:
            extras.append(f"sparse nnz={self.P.nnz}")  # type: ignore[union-attr]
        if not self.time_homogeneous:
            extras.append("time-inhomogeneous")
        tail = (", " + ", ".join(extras)) if extras else ""
        return f"TabularMDP(S={self.n_states}, A={self.n_actions}, {kind}{tail})"
