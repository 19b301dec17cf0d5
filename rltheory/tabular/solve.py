"""The ``solve`` façade and action gaps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rltheory.mdp import TabularMDP
from rltheory.tabular import _backup as bk
from rltheory.tabular._results import Solution
from rltheory.tabular.dp import backward_induction, policy_iteration, value_iteration
from rltheory.tabular.lp import linear_program
from rltheory.validation import ValidationError

__all__ = ["solve", "action_gaps", "METHODS", "SOLUTION_RTOL"]

#: Solver names accepted by :func:`solve`.
METHODS: dict[str, Callable[..., Solution]] = {
    "backward_induction": backward_induction,
    "value_iteration": value_iteration,
    "policy_iteration": policy_iteration,
    "linear_program": linear_program,
}


def solve(mdp: TabularMDP, method: str | None = None, **options: Any) -> Solution:
    """Solve an MDP exactly with the named method.

    Args:
        mdp: the MDP.
        method: one of :data:`METHODS`. Default: ``"backward_induction"`` for a finite horizon and
            ``"policy_iteration"`` (exact, and the fastest for dense discounted MDPs) for a discounted one.
        **options: keyword options of the chosen solver (e.g. ``tol`` for value iteration).

    Returns:
        The solver's :class:`Solution`.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if method is None:
        method = "policy_iteration" if mdp.is_discounted else "backward_induction"
    try:
        fn = METHODS[method]
    except (KeyError, TypeError):  # TypeError: an unhashable method
        raise ValidationError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}", "method") from None
    if method == "backward_induction" and mdp.is_discounted:
        raise ValueError(
            "backward_induction needs a finite horizon; for gamma use one of "
            "'value_iteration', 'policy_iteration', 'linear_program'"
        )
    return fn(mdp, **options)


def action_gaps(mdp: TabularMDP, solution: Solution | None = None) -> np.ndarray:
    """Sub-optimality gaps ``Delta_h(s, a) = V*_h(s) - Q*_h(s, a) >= 0``.

    The gap is zero exactly for optimal actions; its smallest positive value ``gap_min`` governs
    gap-dependent logarithmic regret (e.g. Simchowitz & Jamieson, "Non-asymptotic gap-dependent regret bounds for
    tabular MDPs", NeurIPS 2019). Gaps below ``1e-12 (1 + |V*|)`` are rounded to exactly 0.

    Args:
        mdp: the MDP.
        solution: an exact solution of ``mdp`` (computed with :func:`solve` when omitted).

    Returns:
        ``[H, S, A]`` (``[S, A]`` discounted), batch axis first.

    Raises:
        ValueError: naming ``solution`` when it is not a solution of ``mdp``: shapes that differ from ``mdp``'s, or
            ``q_values`` that are not the Bellman backup of its ``values`` in ``mdp`` (within
            :data:`SOLUTION_RTOL`), e.g. the solution of another MDP of the same size.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if solution is None:
        solution = solve(mdp)
    elif not isinstance(solution, Solution):
        raise TypeError(f"solution must be a rltheory.tabular.Solution, got {type(solution).__name__}")
    V, Q = solution.values, solution.q_values
    if Q is None:
        raise ValueError("solution has no q_values (computed with keep_q_values=False)")
    _check_solution_of(mdp, V, Q)
    gaps = V[..., None] - Q
    gaps[gaps < 1e-12 * (1.0 + np.abs(V[..., None]))] = 0.0
    return gaps


#: Relative tolerance of :func:`action_gaps`'s check that a solution's ``q_values`` are one Bellman backup of its
#: ``values`` in the given MDP: ``|Q - (R + P V)| <= SOLUTION_RTOL (1 + max |V|)``. Every solver computes ``Q`` by
#: exactly that backup (float64 rounding, ~1e-16 relative); the Q-values of another MDP miss it by O(|V|).
SOLUTION_RTOL = 1e-9


def _check_solution_of(mdp: TabularMDP, V: Any, Q: Any) -> None:
    """``ValueError`` naming ``solution`` unless ``(V, Q)`` have ``mdp``'s shapes and ``Q`` is the backup of ``V``."""
    V = np.asarray(V)
    Q = np.asarray(Q)
    H = mdp.horizon
    core: tuple[int, ...] = (mdp.n_states,) if H is None else (H, mdp.n_states)
    want = mdp.batch_shape + core
    if V.shape != want or Q.shape != want + (mdp.n_actions,):
        raise ValidationError(
            f"solution does not belong to mdp: its values have shape {list(V.shape)} and q_values "
            f"{list(Q.shape)}, but {mdp!r} needs {list(want)} and {list(want + (mdp.n_actions,))}",
            "solution",
        )
    if V.dtype.kind != "f" or Q.dtype.kind != "f" or not (np.isfinite(V).all() and np.isfinite(Q).all()):
        raise ValidationError("solution must hold finite float values and q_values", "solution")
    with np.errstate(over="ignore", invalid="ignore"):
        backup = bk.q_from_values(mdp, V)
    err = float(np.max(np.abs(Q - backup))) if Q.size else 0.0
    scale = 1.0 + float(np.max(np.abs(V))) if V.size else 1.0
    if not err <= SOLUTION_RTOL * scale:
        raise ValidationError(
            f"solution does not belong to mdp: its q_values are not the Bellman backup of its values in mdp "
            f"(max |Q - (R + P V)| = {err:.3g} > {SOLUTION_RTOL:g} (1 + max |V|) = {SOLUTION_RTOL * scale:.3g}); "
            "pass the solution of this MDP, or omit it",
            "solution",
        )
