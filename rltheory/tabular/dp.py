"""Exact dynamic programming: backward induction, value and policy iteration, policy evaluation, occupancy measures.

Every function takes a :class:`~rltheory.mdp.TabularMDP` (finite-horizon or discounted, dense or sparse, single or
batched) and returns arrays whose leading axis is the batch axis when the MDP is batched.

References:
    M. L. Puterman, *Markov Decision Processes: Discrete Stochastic Dynamic Programming*, Wiley, 1994
    (backward induction §4.5; value iteration and its stopping rule, Theorem 6.3.1; policy iteration §6.4).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from rltheory.mdp import TabularMDP
from rltheory.tabular import _backup as bk
from rltheory.tabular._results import PolicyEvaluation, Solution
from rltheory.validation import boolean, choice, real_array, real_scalar

__all__ = [
    "backward_induction",
    "value_iteration",
    "policy_iteration",
    "evaluate_policy",
    "occupancy_measure",
    "bellman_residual",
]

# P stays in L2 cache below this many entries per MDP: the compiled kernel beats per-step BLAS calls there.
_KERNEL_MAX_ENTRIES = 1 << 16
# A batch of independent kernels gains nothing from BLAS (one gemv per MDP per step), so the compiled loop is used
# up to this size per MDP.
_KERNEL_MAX_ENTRIES_INDEPENDENT = 1 << 20


def _check_mdp(mdp: Any, name: str = "mdp") -> TabularMDP:
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"{name} must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    return mdp


def _need_finite(mdp: TabularMDP, fn: str) -> None:
    if mdp.is_discounted:
        raise ValueError(f"{fn} needs a finite-horizon MDP (horizon=H); this one has gamma={mdp.gamma}")


def _check_finite_values(mdp: TabularMDP, V: Any, solver: str) -> None:
    """Raise ``OverflowError`` naming ``R`` when finite rewards gave non-finite values (float64 overflow)."""
    arr = np.asarray(V)
    if np.isfinite(arr).all():
        return
    rmax = float(np.max(np.abs(mdp.R)))
    gamma = mdp.gamma
    span = f"H = {mdp.horizon}" if gamma is None else f"1 / (1 - gamma) = {1.0 / (1.0 - gamma):.6g}"
    raise OverflowError(
        f"{solver}: {int((~np.isfinite(arr)).sum())} values overflow float64: rewards R up to |R| = {rmax:.6g} "
        f"accumulate over {span} beyond {np.finfo(np.float64).max:.3g}; rescale R"
    )


def _check_backend(backend: str) -> None:
    choice("backend", backend, ("numpy", "torch"))


# ----------------------------------------------------------------------------------------------- finite horizon
def _use_kernel(mdp: TabularMDP) -> bool:
    if mdp.is_sparse:
        return False
    entries = mdp.n_states * mdp.n_actions * mdp.n_states
    if entries <= _KERNEL_MAX_ENTRIES:
        return True
    return mdp.batched and not mdp.shared_transitions and entries <= _KERNEL_MAX_ENTRIES_INDEPENDENT


def _backward_induction_arrays(
    mdp: TabularMDP, keep_q: bool = True
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    H = mdp.horizon
    assert H is not None
    S, A = mdp.n_states, mdp.n_actions
    if _use_kernel(mdp):
        from rltheory.tabular._kernels import backward_induction_batch

        lead = 1 if mdp.batched else 0
        P5 = mdp.P if mdp.batched else mdp.P[None]
        R4 = mdp.R if mdp.batched else mdp.R[None]
        if not mdp.p_time_varying:
            P5 = P5[:, None]
        if not mdp.r_time_varying:
            R4 = R4[:, None]
        Q, V, pi = backward_induction_batch(P5, R4, mdp.batch_size or 1, H)
        if not lead:
            Q, V, pi = Q[0], V[0], pi[0]
        return V, (Q if keep_q else None), pi
    bs = mdp.batch_shape
    Vs = np.empty(bs + (H, S))
    Qs = np.empty(bs + (H, S, A)) if keep_q else None
    pis = np.empty(bs + (H, S), dtype=np.int64)
    if mdp.is_sparse and not mdp.batched:
        # Fused CSR kernel: one pass over P per step, no [S, A] temporary (10^6-state gridworlds).
        from rltheory.tabular._kernels import sparse_backup_kernel

        P = mdp.P
        assert not isinstance(P, np.ndarray)
        dummy = np.empty((1, 1))
        for h in range(H - 1, -1, -1):
            V_next = Vs[h + 1] if h + 1 < H else Vs[h]
            sparse_backup_kernel(
                P.indptr,
                P.indices,
                P.data,
                mdp.R_at(h),
                V_next,
                h + 1 < H,
                Vs[h],
                pis[h],
                Qs[h] if Qs is not None else dummy,
                Qs is not None,
            )
        return Vs, Qs, pis
    V_next = np.zeros(bs + (S,))
    for h in range(H - 1, -1, -1):
        if h == H - 1:
            Q = np.broadcast_to(mdp.R_at(h), bs + (S, A)).copy()
        else:
            Q = bk.q_backup(mdp, h, V_next)
        V_h, pi_h = bk.greedy(Q)
        if Qs is not None:
            Qs[..., h, :, :] = Q
        Vs[..., h, :], pis[..., h, :] = V_h, pi_h
        V_next = V_h
    return Vs, Qs, pis


def backward_induction(
    mdp: TabularMDP, *, keep_q_values: bool = True, backend: str = "numpy", device: Any = None
) -> Solution:
    """Optimal values of a finite-horizon MDP by backward induction.

    ``V_H = 0``, ``Q_h(s, a) = R_h(s, a) + sum_s' P_h(s'|s, a) V_{h+1}(s')``, ``V_h(s) = max_a Q_h(s, a)``
    for ``h = H-1, ..., 0`` (Puterman 1994, §4.5, Theorem 4.5.1). Exact up to floating-point rounding.

    Args:
        mdp: a finite-horizon MDP (dense, sparse, time-inhomogeneous or batched).
        keep_q_values: store ``Q*`` for every step (``[H, S, A]`` floats: 3.2 GB for a 10^6-state, 4-action,
            H=100 gridworld). With False, ``q_values`` is None; values and policy are unchanged.
        backend: ``"numpy"`` (BLAS and compiled numba kernels, float64) or ``"torch"`` (dense only; batched
            solves on ``device``, e.g. a GPU).
        device: torch device for ``backend="torch"`` (default: CUDA if available, else CPU).

    Returns:
        :class:`Solution` with ``values [H, S]``, ``q_values [H, S, A]``, ``policy [H, S]`` (batch axis first).
    """
    mdp = _check_mdp(mdp)
    _need_finite(mdp, "backward_induction")
    _check_backend(backend)
    keep_q_values = boolean("keep_q_values", keep_q_values)
    t0 = time.perf_counter()
    if backend == "torch":
        from rltheory.tabular._torch import backward_induction_torch

        V, Q, pi = backward_induction_torch(mdp, device)
        Q = Q if keep_q_values else None
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            V, Q, pi = _backward_induction_arrays(mdp, keep_q_values)
    _check_finite_values(mdp, V, "backward_induction")
    return Solution(
        values=V,
        q_values=Q,
        policy=pi,
        method="backward_induction",
        success=True,
        nit=mdp.horizon or 0,
        message="exact",
        elapsed=time.perf_counter() - t0,
    )


def _evaluate_finite(mdp: TabularMDP, pol: np.ndarray, deterministic: bool) -> tuple[np.ndarray, np.ndarray]:
    H = mdp.horizon
    assert H is not None
    S, A = mdp.n_states, mdp.n_actions
    bs = mdp.batch_shape
    Vs = np.empty(bs + (H, S))
    Qs = np.empty(bs + (H, S, A))
    V_next = np.zeros(bs + (S,))
    for h in range(H - 1, -1, -1):
        if h == H - 1:
            Q = np.broadcast_to(mdp.R_at(h), bs + (S, A)).copy()
        else:
            Q = bk.q_backup(mdp, h, V_next)
        V_h = bk.average(Q, bk.policy_at(mdp, pol, h), deterministic)
        Qs[..., h, :, :] = Q
        Vs[..., h, :] = V_h
        V_next = V_h
    return Vs, Qs


# ----------------------------------------------------------------------------------------------- discounted
def _solve_policy_system(mdp: TabularMDP, probs: np.ndarray) -> np.ndarray:
    """``V = (I - gamma P_pi)^{-1} r_pi`` for a discounted MDP (dense LU, or sparse LU)."""
    gamma = mdp.gamma
    assert gamma is not None
    S = mdp.n_states
    if mdp.is_sparse and mdp.batched:
        B = mdp.batch_size
        assert B is not None
        probs_b = np.broadcast_to(probs, mdp.batch_shape + (S, mdp.n_actions))
        return np.stack([_solve_policy_system(mdp.unbatch(b), np.ascontiguousarray(probs_b[b])) for b in range(B)])
    P_pi, r_pi = bk.markov_chain(mdp, probs)
    if isinstance(P_pi, np.ndarray):
        M = np.eye(S) - gamma * P_pi
        if M.ndim == 2 and r_pi.ndim == 1:
            return sla.solve(M, r_pi, check_finite=False)
        M, r_b = np.broadcast_arrays(M, r_pi[..., :, None])
        return np.linalg.solve(M, r_b)[..., 0]
    M = (sp.identity(S, format="csc") - gamma * P_pi).tocsc()
    return np.asarray(spla.spsolve(M, r_pi), dtype=np.float64)


def _evaluate_discounted(mdp: TabularMDP, pol: np.ndarray, deterministic: bool) -> tuple[np.ndarray, np.ndarray]:
    probs = bk.as_probabilities(mdp, pol, deterministic)
    V = _solve_policy_system(mdp, probs)
    V = np.broadcast_to(V, mdp.batch_shape + (mdp.n_states,)).copy()
    Q = bk.q_backup(mdp, 0, V, mdp.gamma)  # type: ignore[arg-type]
    return V, Q


def evaluate_policy(mdp: TabularMDP, policy: Any, *, backend: str = "numpy", device: Any = None) -> PolicyEvaluation:
    """Exact value of a fixed (deterministic or stochastic) policy.

    Finite horizon: ``Q^pi_h = R_h + P_h V^pi_{h+1}``, ``V^pi_h(s) = sum_a pi_h(a|s) Q^pi_h(s, a)``, ``V^pi_H = 0``.
    Discounted: ``V^pi = (I - gamma P_pi)^{-1} r_pi`` by an LU solve (sparse LU for a sparse P), then
    ``Q^pi = R + gamma P V^pi`` (Puterman 1994, Theorem 6.1.1).

    Args:
        mdp: the MDP.
        policy: deterministic integer actions ``[H, S]`` (``[S]`` discounted) or stochastic float probabilities
            ``[H, S, A]`` (``[S, A]``); a batch axis first for a batched MDP (size 1 to share).
        backend: ``"numpy"`` or ``"torch"`` (dense only).
        device: torch device for ``backend="torch"``.

    Returns:
        :class:`PolicyEvaluation` with ``values`` and ``q_values``.
    """
    mdp = _check_mdp(mdp)
    _check_backend(backend)
    pol, deterministic = bk.as_policy(mdp, policy)
    if backend == "torch":
        from rltheory.tabular._torch import evaluate_policy_torch

        V, Q = evaluate_policy_torch(mdp, bk.as_probabilities(mdp, pol, deterministic), device)
        return PolicyEvaluation(values=V, q_values=Q, method="torch")
    if mdp.is_discounted:
        V, Q = _evaluate_discounted(mdp, pol, deterministic)
        return PolicyEvaluation(values=V, q_values=Q, method="linear_solve")
    V, Q = _evaluate_finite(mdp, pol, deterministic)
    return PolicyEvaluation(values=V, q_values=Q, method="backward")


def value_iteration(
    mdp: TabularMDP,
    *,
    tol: float = 1e-8,
    max_iter: int = 1_000_000,
    V0: Any = None,
    backend: str = "numpy",
    device: Any = None,
) -> Solution:
    """Value iteration with the epsilon-optimality stopping rule.

    Iterates ``V_{k+1} = max_a [R + gamma P V_k]`` and stops at the first ``k`` with
    ``||V_{k+1} - V_k||_inf < tol (1 - gamma) / (2 gamma)``. Then ``||V_{k+1} - V*||_inf < tol / 2`` and the
    greedy policy of ``V_{k+1}`` is ``tol``-optimal (Puterman 1994, Theorem 6.3.1). The returned ``values`` are
    therefore within ``tol`` of ``V*``: unlike a stop on the raw change ``||V_{k+1} - V_k|| < tol`` (the trap of
    pymdptoolbox issue #39, where VI reported 150.9 against the true 392.3), the error does not grow like
    ``1/(1 - gamma)``. ``q_values`` are ``R + gamma P V_{k+1}`` and ``policy`` is greedy in them.

    For a finite-horizon MDP value iteration is backward induction (``H`` backups, exact).

    Args:
        mdp: the MDP (batched MDPs stop when every member meets the rule; ``nit`` is per member).
        tol: target sup-norm accuracy, > 0.
        max_iter: cap on the number of backups; ``success`` is False if it is reached.
        V0: initial values ``[S]`` (batch axis first if batched); zeros by default.
        backend: ``"numpy"`` or ``"torch"`` (dense only).
        device: torch device for ``backend="torch"``.

    Returns:
        :class:`Solution` with ``nit``, ``residual`` (the last ``||V_{k+1} - V_k||_inf``) and ``success``.
    """
    mdp = _check_mdp(mdp)
    _check_backend(backend)
    tol = real_scalar("tol", tol, positive=True)
    max_iter = real_scalar("max_iter", max_iter, integer=True, positive=True)
    if not mdp.is_discounted:
        sol = backward_induction(mdp, backend=backend, device=device)
        return Solution(
            sol.values,
            sol.q_values,
            sol.policy,
            "value_iteration",
            True,
            sol.nit,
            0.0,
            "finite horizon: H exact backups",
            sol.elapsed,
        )
    gamma = mdp.gamma
    assert gamma is not None
    shape = mdp.batch_shape + (mdp.n_states,)
    if V0 is None:
        V = np.zeros(shape)
    else:
        V = real_array("V0", V0, finite=False)
        if V.shape != shape:
            raise ValueError(f"V0 must have shape {list(shape)}, got {list(V.shape)}")
        if not np.isfinite(V).all():
            raise ValueError("V0 must be finite")
        V = V.copy()
    threshold = np.inf if gamma == 0.0 else tol * (1.0 - gamma) / (2.0 * gamma)
    # The rule compares ||V_{k+1} - V_k|| with the threshold. Below one float64 spacing of the values it can only be
    # met by an exact floating-point fixed point, which VI need not reach: refuse up front. Between one and a few
    # spacings it may or may not be met; the loop below stops (success=False) if the change stalls at rounding.
    v_bound = float(np.max(np.abs(mdp.R))) / (1.0 - gamma) + (float(np.max(np.abs(V))) if V.size else 0.0)
    noise = float(np.spacing(v_bound)) if np.isfinite(v_bound) else 0.0  # overflow: reported after
    if threshold < noise:
        raise ValueError(
            f"tol={tol:g} is unattainable by value iteration at gamma={gamma:g}: the stopping rule needs "
            f"||V_(k+1) - V_k|| < tol (1 - gamma) / (2 gamma) = {threshold:.3g}, below the float64 rounding of "
            f"values up to |R| / (1 - gamma) = {v_bound:.6g} (their spacing {noise:.3g}); give tol >= "
            f"{noise * 2.0 * gamma / (1.0 - gamma):.3g}, or use policy_iteration (exact at any gamma)"
        )
    t0 = time.perf_counter()
    if backend == "torch":
        from rltheory.tabular._torch import value_iteration_torch

        V, diff, nit = value_iteration_torch(mdp, V, threshold, int(max_iter), device)
    else:
        nit = np.zeros(mdp.batch_shape, dtype=np.int64)
        diff = np.full(mdp.batch_shape, np.inf)
        best = np.full(mdp.batch_shape, np.inf)
        since_best = 0
        stalled = False
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(int(max_iter)):
                V_new = bk.q_backup(mdp, 0, V, gamma).max(axis=-1)
                running = diff >= threshold
                diff = np.where(running, np.abs(V_new - V).max(axis=-1), diff)
                nit = nit + running
                V = V_new
                if not (diff >= threshold).any():  # also stops on NaN (overflow), reported below
                    break
                # a contraction's change shrinks every few backups; 1000 backups without a new low while the change
                # is within 1000 spacings of V means it is rounding noise, which the rule cannot get below
                improved = (diff < best) & running
                best = np.where(improved, diff, best)
                since_best = 0 if improved.any() else since_best + 1
                if since_best >= 1000 and np.all(~running | (diff <= 1e3 * np.spacing(np.abs(V).max(axis=-1)))):
                    stalled = True
                    break
    _check_finite_values(mdp, V, "value_iteration")
    Q = bk.q_backup(mdp, 0, V, gamma)
    _, pi = bk.greedy(Q)
    success = bool(np.all(diff < threshold))
    if success:
        msg = "epsilon-optimality rule met"
    elif backend != "torch" and stalled:
        msg = (
            f"stalled: ||V_(k+1) - V_k|| = {float(np.max(diff)):.3g} stopped decreasing at the float64 rounding of V, "
            f"above the rule's {threshold:.3g}; the values are not certified within tol of V* (use a larger tol, "
            "or policy_iteration)"
        )
    else:
        msg = (
            f"max_iter={max_iter} reached before the stopping rule (last ||V_(k+1) - V_k|| = "
            f"{float(np.max(diff)):.3g} >= {threshold:.3g}); the values are not within tol of V*"
        )
    return Solution(
        values=V,
        q_values=Q,
        policy=pi,
        method="value_iteration",
        success=success,
        nit=nit if mdp.batched else int(nit),
        residual=diff if mdp.batched else float(diff),
        message=msg,
        elapsed=time.perf_counter() - t0,
    )


def policy_iteration(mdp: TabularMDP, *, max_iter: int = 10_000, policy0: Any = None) -> Solution:
    """Howard's policy iteration: exact evaluation, then greedy improvement, until the policy is stable.

    Evaluation is exact (an LU solve of ``(I - gamma P_pi) V = r_pi`` for a discounted MDP, backward recursion for
    a finite horizon). Improvement switches an action only when it gains more than ``1e-12 (1 + |Q|)``, so
    floating-point ties cannot make it cycle (Puterman 1994, §6.4; the terminating test of bettermdptools #19).
    It terminates in finitely many steps, at most ``H`` for a finite horizon, with the exact ``V*``.

    Args:
        mdp: the MDP (batched MDPs iterate until every member is stable).
        max_iter: cap on improvement steps; ``success`` is False if reached.
        policy0: initial deterministic policy; greedy in the immediate reward by default.

    Returns:
        :class:`Solution`; ``nit`` counts evaluations.
    """
    mdp = _check_mdp(mdp)
    max_iter = real_scalar("max_iter", max_iter, integer=True, positive=True)
    t0 = time.perf_counter()
    if policy0 is None:
        R = mdp.R
        if mdp.is_discounted:
            pol = np.argmax(np.broadcast_to(R, mdp.batch_shape + R.shape[-2:]), axis=-1)
        else:
            H = mdp.horizon
            assert H is not None
            full = mdp.batch_shape + (H, mdp.n_states, mdp.n_actions)
            Rb = R if mdp.r_time_varying else np.expand_dims(R, -3)
            pol = np.argmax(np.broadcast_to(Rb, full), axis=-1)
    else:
        pol, det = bk.as_policy(mdp, policy0, "policy0")
        if not det:
            raise ValueError("policy0 must be a deterministic (integer) policy")
        pol = np.broadcast_to(pol, bk.policy_shape(mdp, True)).copy()
    evaluate = _evaluate_discounted if mdp.is_discounted else _evaluate_finite
    success = False
    nit = 0
    for nit in range(1, int(max_iter) + 1):  # noqa: B007
        with np.errstate(over="ignore", invalid="ignore"):
            V, Q = evaluate(mdp, pol, True)
        _check_finite_values(mdp, Q, "policy_iteration")
        q_cur = np.take_along_axis(Q, pol[..., None], axis=-1)[..., 0]
        q_best, best = bk.greedy(Q)
        improve = q_best > q_cur + 1e-12 * (1.0 + np.abs(q_cur))
        if not improve.any():
            success = True
            break
        pol = np.where(improve, best, pol)
    msg = "policy stable" if success else f"max_iter={max_iter} reached with the policy still changing"
    return Solution(
        values=V,
        q_values=Q,
        policy=pol,
        method="policy_iteration",
        success=success,
        nit=nit,
        residual=0.0,
        message=msg,
        elapsed=time.perf_counter() - t0,
    )


# ----------------------------------------------------------------------------------------------- occupancy
def occupancy_measure(mdp: TabularMDP, policy: Any) -> np.ndarray:
    """State-action occupancy measure of a policy from ``mdp.initial``.

    Finite horizon: ``d_h(s, a) = Pr(s_h = s, a_h = a)``, ``[H, S, A]``, with ``d_0(s, a) = mu(s) pi_0(a|s)`` and
    ``d_{h+1}(s', a') = pi_{h+1}(a'|s') sum_{s,a} d_h(s, a) P_h(s'|s, a)``; each step sums to 1 and
    ``sum_h <d_h, R_h> = mu^T V^pi_0``.

    Discounted: the normalised ``d(s, a) = (1 - gamma) sum_t gamma^t Pr(s_t = s, a_t = a)``, ``[S, A]``, which
    sums to 1 and satisfies ``<d, R> = (1 - gamma) mu^T V^pi`` (Puterman 1994, §6.9).

    Args:
        mdp: the MDP.
        policy: as in :func:`evaluate_policy`.

    Returns:
        ``d`` (batch axis first for a batched MDP).
    """
    mdp = _check_mdp(mdp)
    pol, deterministic = bk.as_policy(mdp, policy)
    probs = bk.as_probabilities(mdp, pol, deterministic)
    S, A = mdp.n_states, mdp.n_actions
    mu = mdp.initial
    if mdp.is_discounted:
        gamma = mdp.gamma
        assert gamma is not None
        if mdp.is_sparse and mdp.batched:
            pb = np.broadcast_to(probs, mdp.batch_shape + (S, A))
            return np.stack(
                [occupancy_measure(mdp.unbatch(b), np.ascontiguousarray(pb[b])) for b in range(mdp.batch_size or 0)]
            )
        P_pi, _ = bk.markov_chain(mdp, probs)
        if isinstance(P_pi, np.ndarray):
            M = np.eye(S) - gamma * np.swapaxes(P_pi, -1, -2)
            M, rhs = np.broadcast_arrays(M, ((1.0 - gamma) * mu)[..., None])
            rho = np.linalg.solve(M, rhs)[..., 0]
        else:
            M = (sp.identity(S, format="csc") - gamma * P_pi.T).tocsc()
            rho = np.asarray(spla.spsolve(M, (1.0 - gamma) * mu), dtype=np.float64)
        return rho[..., None] * probs
    H = mdp.horizon
    assert H is not None
    d = np.empty(mdp.batch_shape + (H, S, A))
    rho = mu
    for h in range(H):
        d_h = rho[..., None] * bk.policy_at(mdp, probs, h)
        d[..., h, :, :] = d_h
        if h == H - 1:
            break
        P = mdp.P_at(h)
        if isinstance(P, np.ndarray):
            rho = np.einsum("...sa,...sat->...t", d_h, P)
        else:
            flat = d_h.reshape(mdp.batch_shape + (S * A,))
            rho = np.asarray(P.T @ flat.T).T if mdp.batched else P.T @ flat
    return d


def bellman_residual(mdp: TabularMDP, values: Any) -> np.ndarray:
    """Sup-norm Bellman optimality residual ``||T V - V||_inf`` (per step for a finite horizon).

    Finite horizon: ``max_s |max_a [R_h + P_h V_{h+1}](s) - V_h(s)|`` for each ``h`` (with ``V_H = 0``),
    ``[H]``. Discounted: ``||max_a [R + gamma P V] - V||_inf``, a scalar. Zero exactly at ``V*``.
    """
    mdp = _check_mdp(mdp)
    V = real_array("values", values)
    S = mdp.n_states
    if mdp.is_discounted:
        want = mdp.batch_shape + (S,)
        if V.shape != want:
            raise ValueError(f"values must have shape {list(want)}, got {list(V.shape)}")
        return np.abs(bk.q_backup(mdp, 0, V, mdp.gamma).max(-1) - V).max(-1)  # type: ignore[arg-type]
    H = mdp.horizon
    assert H is not None
    want = mdp.batch_shape + (H, S)
    if V.shape != want:
        raise ValueError(f"values must have shape {list(want)}, got {list(V.shape)}")
    return np.abs(bk.q_from_values(mdp, V).max(-1) - V).max(-1)
