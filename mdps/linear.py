"""Linear MDPs with known features on a finite state space, and the tabular MDP seen as one.

A linear MDP (Jin, Yang, Wang & Jordan, COLT 2020, arXiv:1907.05388, Assumption A) has a known feature map
``phi: S x A -> R^d`` such that, at every step ``h``,

    ``P_h(s' | s, a) = <phi(s, a), mu_h(s')>``,   ``R_h(s, a) = <phi(s, a), theta_h>``,

for unknown measures ``mu_h`` (here a ``[d, S]`` matrix per step) and vectors ``theta_h`` (``[d]``). The paper also
asks ``||phi(s, a)|| <= 1``, ``||mu_h(S)|| <= sqrt(d)`` (``mu_h(S) = sum_s' mu_h(s')``) and ``||theta_h|| <= sqrt(d)``;
:meth:`LinearMDP.assumption_a` reports them.

Every tabular MDP is linear with one-hot features ``phi(s, a) = e_{s A + a}``, ``d = S A``: then ``mu(s') =
P(s' | ., .)`` flattened and ``theta = R`` flattened (:func:`one_hot_linear_mdp`).

:func:`random_linear_mdp` draws low-rank linear MDPs (``d < S A``) whose kernel is a true stochastic kernel by
construction: every ``phi(s, a)`` lies on the probability simplex of ``R^d`` and every row ``mu_h[i, :]`` is a
distribution over next states, so ``P_h(. | s, a) = sum_i phi_i(s, a) mu_h[i, :]`` is a mixture of distributions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rltheory.mdp import TabularMDP
from rltheory.validation import generator

__all__ = ["LinearMDP", "one_hot_linear_mdp", "one_hot_features", "random_linear_mdp"]

#: Tolerance on ``|phi mu - P|`` and ``|phi theta - R|`` accepted by :class:`LinearMDP`.
FACTOR_ATOL = 1e-10


def _frozen(x: Any, name: str) -> np.ndarray:
    arr = np.array(x, dtype=np.float64, order="C", copy=True)
    if not np.isfinite(arr).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite; {name}{list(idx)} = {arr[idx]}")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True, eq=False)
class LinearMDP:
    """A finite-horizon MDP together with features under which it is linear; validated and frozen.

    Args:
        features: ``phi`` ``[S, A, d]``.
        mdp: the finite-horizon ``TabularMDP`` (dense ``P``) the linear MDP equals.
        mu: ``[d, S]`` or time-inhomogeneous ``[H, d, S]`` with ``P_h(s'|s, a) = sum_i phi(s, a)_i mu_h[i, s']``,
            or None when unknown.
        theta: ``[d]`` or ``[H, d]`` with ``R_h(s, a) = phi(s, a) . theta_h``, or None.

    Raises:
        ValueError: on a shape mismatch, a non-finite entry, or factors that do not reproduce ``P`` and ``R`` to
            within ``1e-10``.
    """

    features: np.ndarray
    mdp: TabularMDP
    mu: np.ndarray | None = None
    theta: np.ndarray | None = None
    d: int = field(init=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.mdp, TabularMDP):
            raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(self.mdp).__name__}")
        if self.mdp.is_discounted or self.mdp.batched or self.mdp.is_sparse:
            raise ValueError("mdp must be an unbatched finite-horizon TabularMDP with a dense P")
        S, A, H = self.mdp.n_states, self.mdp.n_actions, self.mdp.horizon
        assert H is not None
        phi = _frozen(self.features, "features")
        if phi.ndim != 3 or phi.shape[:2] != (S, A) or phi.shape[2] < 1:
            raise ValueError(f"features must have shape [S, A, d] = [{S}, {A}, d], got {list(phi.shape)}")
        d = phi.shape[2]
        set_(self, "features", phi)
        set_(self, "d", d)
        if self.mu is not None:
            mu = _frozen(self.mu, "mu")
            if mu.shape not in ((d, S), (H, d, S)):
                raise ValueError(f"mu must have shape [d, S] = [{d}, {S}] or [H, d, S], got {list(mu.shape)}")
            P_lin = np.einsum("sai,...it->...sat", phi, mu)
            P_ref = self.mdp.P
            err = np.abs(np.broadcast_to(P_lin, (H, S, A, S)) - np.broadcast_to(P_ref, (H, S, A, S)))
            if err.max() > FACTOR_ATOL:
                idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
                raise ValueError(
                    f"features and mu do not reproduce P: |<phi, mu> - P| = {err.max():.3g} "
                    f"at [h, s, a, s'] = {list(idx)}"
                )
            set_(self, "mu", mu)
        if self.theta is not None:
            theta = _frozen(self.theta, "theta")
            if theta.shape not in ((d,), (H, d)):
                raise ValueError(f"theta must have shape [d] = [{d}] or [H, d], got {list(theta.shape)}")
            R_lin = np.einsum("sai,...i->...sa", phi, theta)
            err = np.abs(np.broadcast_to(R_lin, (H, S, A)) - np.broadcast_to(self.mdp.R, (H, S, A)))
            if err.max() > FACTOR_ATOL:
                idx = tuple(int(i) for i in np.unravel_index(np.argmax(err), err.shape))
                raise ValueError(
                    f"features and theta do not reproduce R: |<phi, theta> - R| = {err.max():.3g} "
                    f"at [h, s, a] = {list(idx)}"
                )
            set_(self, "theta", theta)

    @classmethod
    def from_factors(cls, features: Any, mu: Any, theta: Any, *, horizon: int, initial: Any = None) -> LinearMDP:
        """Build the tabular MDP ``P_h = phi mu_h``, ``R_h = phi theta_h`` from its factors (validated as a
        ``TabularMDP``: ``phi mu_h`` must be a stochastic kernel)."""
        phi = np.asarray(features, dtype=np.float64)
        mu_a = np.asarray(mu, dtype=np.float64)
        th = np.asarray(theta, dtype=np.float64)
        if phi.ndim != 3:
            raise ValueError(f"features must have shape [S, A, d], got {list(phi.shape)}")
        P = np.einsum("sai,...it->...sat", phi, mu_a)
        R = np.einsum("sai,...i->...sa", phi, th)
        return cls(phi, TabularMDP(P, R, horizon=horizon, initial=initial), mu_a, th)

    @property
    def n_states(self) -> int:
        return self.mdp.n_states

    @property
    def n_actions(self) -> int:
        return self.mdp.n_actions

    @property
    def horizon(self) -> int:
        assert self.mdp.horizon is not None
        return self.mdp.horizon

    def assumption_a(self) -> dict[str, float]:
        """The norms bounded by Assumption A of Jin et al. (2020): ``max ||phi(s, a)||`` (``<= 1``), and, when the
        factors are known, ``max_h ||mu_h(S)||`` and ``max_h ||theta_h||`` (``<= sqrt(d)``), with ``sqrt(d)``."""
        out = {"max_phi_norm": float(np.linalg.norm(self.features, axis=-1).max()), "sqrt_d": float(np.sqrt(self.d))}
        if self.mu is not None:
            out["max_mu_norm"] = float(np.linalg.norm(self.mu.sum(axis=-1), axis=-1).max())
        if self.theta is not None:
            out["max_theta_norm"] = float(np.linalg.norm(self.theta, axis=-1).max())
        return out


def one_hot_features(n_states: int, n_actions: int) -> np.ndarray:
    """One-hot features ``phi(s, a) = e_{s A + a}``: ``[S, A, S A]``."""
    S, A = int(n_states), int(n_actions)
    if S < 1 or A < 1:
        raise ValueError(f"n_states and n_actions must be >= 1, got {n_states!r}, {n_actions!r}")
    return np.eye(S * A).reshape(S, A, S * A)


def one_hot_linear_mdp(mdp: TabularMDP) -> LinearMDP:
    """A tabular MDP as a linear MDP: ``phi(s, a) = e_{s A + a}`` (``d = S A``), ``mu_h[s A + a, s'] = P_h(s'|s, a)``
    and ``theta_h[s A + a] = R_h(s, a)``, which reproduce ``P`` and ``R`` exactly.

    A sparse ``P`` is densified (``d = S A`` makes the linear view dense anyway).

    Args:
        mdp: an unbatched finite-horizon ``TabularMDP``.
    """
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a rltheory.TabularMDP, got {type(mdp).__name__}")
    if mdp.is_discounted or mdp.batched:
        raise ValueError("one_hot_linear_mdp needs an unbatched finite-horizon MDP")
    S, A = mdp.n_states, mdp.n_actions
    if mdp.is_sparse:
        mdp = TabularMDP(mdp.dense_P(), mdp.R, horizon=mdp.horizon, initial=mdp.initial)
    P = np.asarray(mdp.P)
    mu = P.reshape(*P.shape[:-3], S * A, S)
    theta = mdp.R.reshape(*mdp.R.shape[:-2], S * A)
    return LinearMDP(one_hot_features(S, A), mdp, mu, theta)


def random_linear_mdp(
    n_states: int,
    n_actions: int,
    d: int,
    *,
    horizon: int,
    rng: Any = None,
    feature_concentration: float = 0.3,
    transition_concentration: float = 0.3,
    time_homogeneous: bool = True,
    initial: Any = None,
) -> LinearMDP:
    """A random low-rank linear MDP whose ``P_h = phi mu_h`` is a stochastic kernel by construction.

    ``phi(s, a) ~ Dirichlet(feature_concentration 1_d)`` (on the simplex, so ``phi >= 0``, ``sum_i phi_i = 1`` and
    ``||phi||_2 <= 1``); each row of ``mu_h`` ``~ Dirichlet(transition_concentration 1_S)`` (a distribution over
    next states); ``theta_h ~ Uniform[0, 1]^d``. Then

        ``P_h(s' | s, a) = sum_i phi_i(s, a) mu_h[i, s']`` is a convex combination of ``d`` distributions, and
        ``R_h(s, a) = phi(s, a) . theta_h`` lies in ``[0, 1]``;

    Assumption A of Jin, Yang, Wang & Jordan (COLT 2020, arXiv:1907.05388) holds: ``||phi|| <= 1``,
    ``||mu_h(S)|| = ||1_d|| = sqrt(d)``, ``||theta_h|| <= sqrt(d)``. Small concentrations give nearly one-hot
    features and sparse next-state distributions (a harder exploration problem); large ones give nearly uniform
    mixtures. The rank of ``P_h`` (as an ``[S A, S]`` matrix) is at most ``d``.

    Args:
        n_states: ``S >= 1``.
        n_actions: ``A >= 1``.
        d: feature dimension ``>= 1`` (``d < S A`` for a genuinely low-rank MDP).
        horizon: ``H >= 1``.
        rng: anything ``numpy.random.default_rng`` accepts.
        feature_concentration: Dirichlet parameter ``> 0`` of the features.
        transition_concentration: Dirichlet parameter ``> 0`` of the rows of ``mu_h``.
        time_homogeneous: one ``mu``, ``theta`` for every step (``[d, S]``, ``[d]``) or one per step
            (``[H, d, S]``, ``[H, d]``).
        initial: initial-state distribution ``[S]`` (uniform when None).

    Returns:
        a validated :class:`LinearMDP` with its factors ``mu`` and ``theta``.
    """
    for name, v in (("n_states", n_states), ("n_actions", n_actions), ("d", d), ("horizon", horizon)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    for name, c in (
        ("feature_concentration", feature_concentration),
        ("transition_concentration", transition_concentration),
    ):
        if not (isinstance(c, (int, float, np.integer, np.floating)) and np.isfinite(c) and c > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {c!r}")
    gen = generator("rng", rng)
    S, A, H = int(n_states), int(n_actions), int(horizon)
    lead = () if time_homogeneous else (H,)
    phi = gen.dirichlet(np.full(int(d), float(feature_concentration)), size=(S, A))
    mu = gen.dirichlet(np.full(S, float(transition_concentration)), size=(*lead, int(d)))
    theta = gen.uniform(0.0, 1.0, size=(*lead, int(d)))
    # Dirichlet draws can underflow to rows that sum to 1 - O(eps): renormalise so P passes the 1e-10 row check.
    phi /= phi.sum(axis=-1, keepdims=True)
    mu /= mu.sum(axis=-1, keepdims=True)
    return LinearMDP.from_factors(phi, mu, theta, horizon=H, initial=initial)
