"""Instances of robust offline RL with linear features: d-rectangular linear RRMDPs, the simulated linear MDP and the
American put option of Tang, Liu & Xu (ICML 2025), offline data collection and population ("unbounded") data.

* :func:`random_d_rectangular_mdp`: a random tabular d-rectangular linear RRMDP (features and factor distributions
  on the simplex, rewards ``<phi, theta_h>`` in ``[0, 1]``), as a :class:`rltheory.robust.DRectangularMDP`.
* :func:`bernstein_d_rectangular_mdp`: ``d = 3``, actions on a smooth curve of the simplex (polynomial decay of
  suboptimality in the data size, for rate checks).
* :func:`simulated_linear_mdp`: the 5-state, ``H = 3``, ``d = 4``, 16-action linear MDP of the paper's first
  experiment (from Liu & Xu 2024, adapted to offline data), nominal or with the test perturbation ``q in [0, 1]``.
* :func:`american_put_option`: the American put option (Tamar, Mannor, Xu 2014) with ``d`` hat features,
  ``H = 20``, price-up probability ``p``, as an exact finite MDP on the price lattice.
* :func:`collect_offline_data`: ``N`` trajectories of a behaviour policy (a ``numpy.random.Generator`` drives it).
* :func:`population_data`: every ``(s, a, s')`` weighted by ``rho_h(s, a) P_h(s' | s, a)``: the infinite-data
  limit of the ridge regressions.

Zero-based steps ``h = 0, ..., H-1`` in code (the paper's ``h = 1, ..., H``).

References:
    C. Tang, Z. Liu, P. Xu, "Robust Offline Reinforcement Learning with Linearly Structured f-Divergence
    Regularization", ICML 2025, arXiv:2411.18612 (experiments; official code ``panxulab/Robust-Regularized-
    Pessimistic-Value-Iteration``, HEAD 2ea039d, ``Simulated_Linear_MDP/env.py``, ``American_put_opt/env.py``).
    Z. Liu, P. Xu, "Distributionally Robust Off-Dynamics Reinforcement Learning: Provable Efficiency with Linear
    Function Approximation", AISTATS 2024, arXiv:2402.15399 (the simulated linear MDP).
    A. Tamar, S. Mannor, H. Xu, "Scaling Up Robust MDPs Using Function Approximation", ICML 2014 (the put option).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from rltheory.linear.ridge import OfflineData
from rltheory.mdp import TabularMDP
from rltheory.robust import DRectangularMDP
from rltheory.validation import generator, real_scalar

__all__ = [
    "AmericanPutOption",
    "SIMULATED_ACTIONS",
    "SIMULATED_FAIL_STATE",
    "american_put_option",
    "bernstein_d_rectangular_mdp",
    "collect_offline_data",
    "hat_features",
    "population_data",
    "random_d_rectangular_mdp",
    "simulated_linear_mdp",
    "uniform_policy",
]

#: The 16 actions ``{-1, 1}^4`` of the simulated linear MDP, in ``itertools.product`` order (as the official code).
SIMULATED_ACTIONS = np.array(list(itertools.product([-1, 1], repeat=4)), dtype=np.float64)
#: The fail state ``x4`` (index 3): absorbing with reward 0.
SIMULATED_FAIL_STATE = 3


def _rng(rng: Any, name: str = "rng") -> np.random.Generator:
    return generator(name, rng)


def _count(name: str, value: Any) -> int:
    return real_scalar(name, value, integer=True, positive=True)


# ----------------------------------------------------------------------------------------------- random instances
def random_d_rectangular_mdp(
    n_states: int,
    n_actions: int,
    dim: int,
    horizon: int,
    *,
    rng: Any = None,
    feature_concentration: float = 1.0,
    factor_concentration: float = 1.0,
    initial: Any = None,
) -> DRectangularMDP:
    """A random tabular d-rectangular linear RRMDP.

    ``phi(s, a) ~ Dirichlet(feature_concentration 1_d)``, ``mu0_{h,i} ~ Dirichlet(factor_concentration 1_S)``,
    ``theta_h ~ U[0, 1]^d`` (so ``r_h = <phi, theta_h> in [0, 1]`` and ``||theta_h|| <= sqrt(d)``, Assumption 3.1).

    Args:
        n_states, n_actions, dim, horizon: ``S, A, d, H`` (each ``>= 1``).
        rng: seed or ``numpy.random.Generator``.
        feature_concentration, factor_concentration: Dirichlet parameters (``> 0``; small values give sparse rows).
        initial: initial distribution ``[S]``; the point mass on state 0 when None.

    Returns:
        :class:`rltheory.robust.DRectangularMDP`.
    """
    S, A, d, H = (
        _count(n, v) for n, v in (("n_states", n_states), ("n_actions", n_actions), ("dim", dim), ("horizon", horizon))
    )
    for name, c in (("feature_concentration", feature_concentration), ("factor_concentration", factor_concentration)):
        if (
            isinstance(c, bool)
            or not isinstance(c, (int, float, np.integer, np.floating))
            or not (np.isfinite(c) and c > 0)
        ):
            raise ValueError(f"{name} must be a positive number, got {c!r}")
    gen = _rng(rng)
    phi = gen.dirichlet(np.full(d, float(feature_concentration)), size=(S, A))
    phi /= phi.sum(axis=-1, keepdims=True)
    mu0 = gen.dirichlet(np.full(S, float(factor_concentration)), size=(H, d))
    mu0 /= mu0.sum(axis=-1, keepdims=True)
    theta = gen.random((H, d))
    init = np.eye(S)[0] if initial is None else initial
    return DRectangularMDP(phi, theta, mu0, initial=init)


def bernstein_d_rectangular_mdp(n_states: int, n_actions: int, horizon: int, *, rng: Any = None) -> DRectangularMDP:
    """A d-rectangular linear RRMDP (``d = 3``) whose actions lie on a smooth curve of the simplex.

    Action ``j`` has parameter ``t_j = j / (A - 1)`` and, in state ``s``, the features
    ``phi(s, a_j) = pi_s(B(t_j))`` with the quadratic Bernstein basis ``B(t) = ((1 - t)^2, 2 t (1 - t), t^2)`` and a
    random permutation ``pi_s`` of the coordinates per state; ``mu0_{h,i} ~ Dirichlet(1_S)``, ``theta_h ~
    U[0, 1]^3``, uniform initial distribution. ``Q_h(s, a_j) = <phi(s, a_j), theta_h + w_h>`` is then a quadratic
    in ``t_j``, often maximised inside the curve, so a small error in the estimated weights costs a suboptimality of
    the order of its square instead of vanishing once it drops below an action gap: a finite instance on which
    suboptimality decays polynomially in the amount of data (used by the consistency claim).

    Args:
        n_states, n_actions, horizon: ``S``, ``A >= 2``, ``H``.
        rng: seed or generator.
    """
    S, A, H = (_count(n, v) for n, v in (("n_states", n_states), ("n_actions", n_actions), ("horizon", horizon)))
    if A < 2:
        raise ValueError(f"n_actions must be >= 2, got {n_actions!r}")
    gen = _rng(rng)
    t = np.linspace(0.0, 1.0, A)
    B = np.stack([(1.0 - t) ** 2, 2.0 * t * (1.0 - t), t**2], axis=-1)
    phi = np.stack([B[:, gen.permutation(3)] for _ in range(S)])
    mu0 = gen.dirichlet(np.ones(S), size=(H, 3))
    mu0 /= mu0.sum(axis=-1, keepdims=True)
    theta = gen.random((H, 3))
    return DRectangularMDP(phi, theta, mu0, initial=np.full(S, 1.0 / S))


# ----------------------------------------------------------------------------------------------- simulated MDP
def simulated_linear_mdp(
    *, perturbation: float | None = None, delta: float = 0.3, xi_norm: float = 0.2, leak: float = 0.001
) -> DRectangularMDP:
    """The simulated linear MDP of Tang, Liu & Xu's first experiment: 5 states, 16 actions, ``d = 4``, ``H = 3``.

    States ``x1..x5`` (indices 0..4), start ``x1``; actions ``a in {-1, 1}^4`` (:data:`SIMULATED_ACTIONS`),
    ``xi = xi_norm (1, 1, 1, 1) / 4``; features
    ``phi(x_k, a) = (1 - delta - <xi, a>) e_k + (delta + <xi, a>) e_4`` for ``k = 1, 2, 3``, ``phi(x4, .) = e_3``,
    ``phi(x5, .) = e_4``; rewards ``theta_1 = 0``, ``theta_2 = theta_3 = e_4``. Nominal factors (every step):
    ``mu_1 = (1 - leak) x2 + leak x4``, ``mu_2 = (1 - leak) x3 + leak x4``, ``mu_3 = x4``, ``mu_4 = x5``: ``x4`` is
    the absorbing fail state (reward 0), ``x5`` the absorbing good state (reward 1 from step 2 on).

    The test environment with perturbation ``q`` changes the first step only: ``mu_{1,1} = x2`` and
    ``mu_{1,4} = q x4 + (1 - q) x5`` (mass moves from the good to the fail state), as in the official code's
    ``LinearMDP_test`` (``q = 0`` drops the leak of the first step, so it is not exactly the nominal MDP).

    Args:
        perturbation: ``q in [0, 1]``, or None for the nominal (training) MDP.
        delta, xi_norm: the code's defaults 0.3 and 0.2 (``phi`` stays on the simplex for ``delta >= xi_norm`` and
            ``delta + xi_norm <= 1``).
        leak: the code's 0.001.

    Returns:
        :class:`rltheory.robust.DRectangularMDP` (``model.nominal()`` is the :class:`~rltheory.mdp.TabularMDP`).
    """
    if not (0.0 <= xi_norm <= delta and delta + xi_norm <= 1.0):
        raise ValueError(f"need 0 <= xi_norm <= delta and delta + xi_norm <= 1, got delta={delta}, xi_norm={xi_norm}")
    if not 0.0 <= leak <= 1.0:
        raise ValueError(f"leak must lie in [0, 1], got {leak!r}")
    xi_a = SIMULATED_ACTIONS @ np.full(4, xi_norm / 4.0)  # [16]
    phi = np.zeros((5, 16, 4))
    for k in range(3):
        phi[k, :, k] = 1.0 - delta - xi_a
        phi[k, :, 3] = delta + xi_a
    phi[3, :, 2] = 1.0
    phi[4, :, 3] = 1.0
    theta = np.array([[0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1]], dtype=np.float64)
    mu = np.zeros((3, 4, 5))
    mu[:, 0, 1], mu[:, 0, 3] = 1.0 - leak, leak
    mu[:, 1, 2], mu[:, 1, 3] = 1.0 - leak, leak
    mu[:, 2, 3] = 1.0
    mu[:, 3, 4] = 1.0
    if perturbation is not None:
        q = float(perturbation)
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"perturbation must lie in [0, 1], got {perturbation!r}")
        mu[0, 0] = np.eye(5)[1]
        mu[0, 3] = q * np.eye(5)[3] + (1.0 - q) * np.eye(5)[4]
    return DRectangularMDP(phi, theta, mu, initial=np.eye(5)[0])


# ----------------------------------------------------------------------------------------------- American put
@dataclass(frozen=True, eq=False)
class AmericanPutOption:
    """The American put option on its price lattice, with hat features.

    States: lattice points ``(h, u)`` (``h = 0..H`` steps taken, ``u = 0..h`` up-moves; price
    ``s0 1.02^u 0.98^(h-u)``) at index ``h (h + 1) / 2 + u``, and one absorbing "exercised" state (the last index).
    Actions: 0 hold, 1 exercise (reward ``max(0, K - s) / reward_scale``, then absorbed).

    Attributes:
        mdp: the :class:`~rltheory.mdp.TabularMDP` at price-up probability ``p`` (``horizon = H``).
        phi: features ``[S, 2, d]``: hold ``phi_i(s) = max(0, 1 - |s - s_i| / Delta)``, ``Delta = 100 / d``,
            ``s_i = 80 + i Delta``; exercise and the absorbing state: 0 (their continuation is known to be 0).
        prices: ``[S]`` (``nan`` at the absorbing state).
        absorbing: index of the absorbing state.
        s0, strike, p, reward_scale, horizon, dim: the parameters.
    """

    mdp: TabularMDP
    phi: np.ndarray
    prices: np.ndarray
    absorbing: int
    s0: float
    strike: float
    p: float
    reward_scale: float
    horizon: int
    dim: int

    def with_probability(self, p: float) -> AmericanPutOption:
        """The same option (same ``s0``) with price-up probability ``p`` (the paper's test environments)."""
        return american_put_option(
            d=self.dim, horizon=self.horizon, p=p, s0=self.s0, strike=self.strike, reward_scale=self.reward_scale
        )

    @property
    def rewards(self) -> np.ndarray:
        """``[H, S, A]`` (the same at every step)."""
        return np.broadcast_to(self.mdp.R, (self.horizon,) + self.mdp.R.shape)

    def code_caps(self) -> np.ndarray:
        """The official code's caps as ``q_max`` ``[H, S, A]``: the hold value ``<= H - h`` (zero-based ``h``), the
        exercise value (a known payoff) uncapped."""
        H, S = self.horizon, self.mdp.n_states
        caps = np.empty((H, S, 2))
        caps[:, :, 0] = (H - np.arange(H))[:, None]
        caps[:, :, 1] = np.inf
        return caps


def hat_features(prices: Any, d: int, *, lower: float = 60.0, upper: float = 160.0, start: float = 80.0) -> np.ndarray:
    """The put option's hat features ``phi_i(s) = max(0, 1 - |s - s_i| / Delta)``, ``Delta = (upper - lower) / d``,
    anchors ``s_i = start + i Delta`` (official code); ``[..., d]``. They sum to 1 only on ``[start, s_{d-1}]``."""
    s = np.asarray(prices, dtype=np.float64)[..., None]
    step = (upper - lower) / d
    anchors = start + step * np.arange(d)
    return np.maximum(0.0, 1.0 - np.abs(s - anchors) / step)


def american_put_option(
    *,
    d: int = 30,
    horizon: int = 20,
    p: float = 0.5,
    s0: float | None = None,
    rng: Any = None,
    strike: float = 100.0,
    reward_scale: float | None = None,
) -> AmericanPutOption:
    """The American put option of Tang, Liu & Xu's second experiment (after Tamar, Mannor, Xu 2014), exactly.

    Price ``s' = 1.02 s`` with probability ``p``, else ``0.98 s``; start ``s0 ~ U(strike - 5, strike + 5)`` (drawn
    from ``rng`` when ``s0`` is None, once, as the code draws it once per environment seed); hold (reward 0) or
    exercise (reward ``max(0, strike - s)``, then absorbed); ``H`` steps, no discount. Since every trajectory starts
    at the same ``s0``, the reachable prices form a lattice of ``(H + 1)(H + 2) / 2`` points, so the MDP is finite
    and returns are computed exactly (:func:`rltheory.tabular.evaluate_policy`) instead of by test episodes.

    Rewards are divided by ``reward_scale`` (default: the strike), so they lie in ``[0, 1]`` as the R2PVI theory
    assumes; multiply values by ``reward_scale`` for the code's units. The official code uses raw payoffs with the
    continuation capped at ``H - h``, and its ``self.K`` (the strike) is the number of trajectories, a bug that is
    harmless only for ``N = 100`` (see ``docs/r2pvi.md``); the strike here is always ``strike``.

    Args:
        d: number of hat features (30, 60, 120 in the paper).
        horizon: ``H`` (20).
        p: price-up probability (0.5 for the data; 0.2..1.0 for the tests).
        s0: initial price, or None to draw it.
        rng: seed or generator for ``s0``.
        strike: ``K = 100``.
        reward_scale: divides every reward (default ``strike``).

    Returns:
        :class:`AmericanPutOption`.
    """
    d = _count("d", d)
    H = _count("horizon", horizon)
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    if s0 is None:
        s0 = float(_rng(rng).uniform(strike - 5.0, strike + 5.0))
    scale = float(strike if reward_scale is None else reward_scale)
    if not scale > 0:
        raise ValueError(f"reward_scale must be positive, got {reward_scale!r}")
    n_lattice = (H + 1) * (H + 2) // 2
    S = n_lattice + 1
    absorbing = S - 1
    prices = np.full(S, np.nan)
    P = np.zeros((S, 2, S))
    for h in range(H + 1):
        for u in range(h + 1):
            i = h * (h + 1) // 2 + u
            prices[i] = s0 * 1.02**u * 0.98 ** (h - u)
            if h < H:
                up, down = (h + 1) * (h + 2) // 2 + u + 1, (h + 1) * (h + 2) // 2 + u
                P[i, 0, up] += float(p)
                P[i, 0, down] += 1.0 - float(p)
            else:
                P[i, 0, i] = 1.0
            P[i, 1, absorbing] = 1.0
    P[absorbing, :, absorbing] = 1.0
    R = np.zeros((S, 2))
    R[:n_lattice, 1] = np.maximum(0.0, strike - prices[:n_lattice]) / scale
    phi = np.zeros((S, 2, d))
    phi[:n_lattice, 0] = hat_features(prices[:n_lattice], d)
    initial = np.eye(S)[0]
    mdp = TabularMDP(P, R, horizon=H, initial=initial)
    prices.flags.writeable = False
    phi.flags.writeable = False
    return AmericanPutOption(mdp, phi, prices, absorbing, float(s0), float(strike), float(p), scale, H, d)


# ----------------------------------------------------------------------------------------------- data
def uniform_policy(mdp: TabularMDP) -> np.ndarray:
    """The uniformly random behaviour policy ``[H, S, A]``."""
    H, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    if H is None:
        raise ValueError("uniform_policy needs a finite-horizon MDP")
    return np.full((H, S, A), 1.0 / A)


def _policy_probs(mdp: TabularMDP, behaviour: Any) -> np.ndarray:
    H, S, A = mdp.horizon, mdp.n_states, mdp.n_actions
    assert H is not None
    pol = np.asarray(behaviour)
    if pol.shape == (H, S) and np.issubdtype(pol.dtype, np.integer):
        if pol.min() < 0 or pol.max() >= A:
            raise ValueError(f"behaviour actions must lie in [0, {A})")
        return np.eye(A)[pol]
    if pol.shape == (H, S, A) and np.issubdtype(pol.dtype, np.floating):
        if not np.isfinite(pol).all() or (pol < 0).any() or np.abs(pol.sum(-1) - 1).max() > 1e-10:
            raise ValueError("behaviour rows must be probability vectors")
        return pol.astype(np.float64)
    raise ValueError(f"behaviour must be [H, S] = [{H}, {S}] ints or [H, S, A] = [{H}, {S}, {A}] floats")


def _as_tabular(mdp: Any) -> TabularMDP:
    if isinstance(mdp, DRectangularMDP):
        return mdp.nominal()
    if not isinstance(mdp, TabularMDP):
        raise TypeError(f"mdp must be a TabularMDP or a DRectangularMDP, got {type(mdp).__name__}")
    if mdp.horizon is None or mdp.batched or mdp.is_sparse:
        raise ValueError("mdp must be an unbatched finite-horizon TabularMDP with a dense P")
    return mdp


def _sampler(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative sums ``[M, n]`` of the rows of ``table`` and each row's last positive index (round-off guard)."""
    cdf = np.cumsum(table, axis=-1)
    last = table.shape[-1] - 1 - np.argmax(table[:, ::-1] > 0, axis=-1)
    return cdf, last


def _draw(cdf: np.ndarray, last: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws: for each ``i`` the smallest ``j`` with ``u_i < cdf[rows_i, j]``, by one ``searchsorted``
    per distinct row (``O(N log n)``, no ``[N, n]`` temporary)."""
    out = np.empty(rows.shape[0], dtype=np.int64)
    order = np.argsort(rows, kind="stable")
    uniq, starts = np.unique(rows[order], return_index=True)
    bounds = np.append(starts, rows.shape[0])
    for k, r in enumerate(uniq):
        idx = order[bounds[k] : bounds[k + 1]]
        out[idx] = np.minimum(np.searchsorted(cdf[r], u[idx], side="right"), last[r])
    return out


def collect_offline_data(mdp: Any, behaviour: Any, n_trajectories: int, rng: Any = None) -> OfflineData:
    """``N`` independent trajectories of ``behaviour`` in the (nominal) MDP, vectorised over trajectories.

    Per step, one uniform array draws the actions and one the next states (inverse CDF, the same draws as
    :func:`mdps.offline.collect_offline_dataset` makes), so the dataset is a deterministic function of ``rng``;
    the rewards are the mean rewards ``R_h(s_h, a_h)``.

    Args:
        mdp: a finite-horizon :class:`~rltheory.mdp.TabularMDP`, or a :class:`~rltheory.robust.DRectangularMDP`
            (its nominal MDP).
        behaviour: ``[H, S]`` ints or ``[H, S, A]`` probabilities (e.g. :func:`uniform_policy`).
        n_trajectories: ``N >= 1`` (the paper's ``K``).
        rng: seed or ``numpy.random.Generator``.

    Returns:
        :class:`rltheory.linear.OfflineData` with arrays ``[N, H]``.
    """
    m = _as_tabular(mdp)
    N = _count("n_trajectories", n_trajectories)
    probs = _policy_probs(m, behaviour)
    gen = _rng(rng)
    H, S, A = m.horizon, m.n_states, m.n_actions
    assert H is not None
    P = np.asarray(m.P)
    P = P if m.p_time_varying else np.broadcast_to(P, (H, S, A, S))
    R = m.R if m.r_time_varying else np.broadcast_to(m.R, (H, S, A))
    states = np.empty((N, H), dtype=np.int64)
    actions = np.empty((N, H), dtype=np.int64)
    next_states = np.empty((N, H), dtype=np.int64)
    init_cdf, init_last = _sampler(m.initial[None, :])
    s = _draw(init_cdf, init_last, np.zeros(N, dtype=np.int64), gen.random(N))
    for h in range(H):
        pi_cdf, pi_last = _sampler(probs[h])  # rows: states
        a = _draw(pi_cdf, pi_last, s, gen.random(N))
        p_cdf, p_last = _sampler(P[h].reshape(S * A, S))  # rows: (state, action) pairs
        nxt = _draw(p_cdf, p_last, s * A + a, gen.random(N))
        states[:, h], actions[:, h], next_states[:, h] = s, a, nxt
        s = nxt
    rewards = np.asarray(R[np.arange(H)[None, :], states, actions], dtype=np.float64)
    return OfflineData(states, actions, rewards, next_states)


def population_data(mdp: Any, design: Any = None, *, scale: float = 1.0) -> OfflineData:
    """The infinite-data limit: every ``(s, a, s')`` at every step, weighted ``scale rho_h(s, a) P_h(s' | s, a)``.

    With this dataset the ridge regression of a function ``f`` of the next state at step ``h`` is
    ``(sum rho phi phi^T + gamma I)^{-1} sum rho phi P f``, which equals ``mu_h f`` exactly as ``gamma / scale -> 0``
    on a linear MDP whose features span ``R^d`` under ``rho_h``. The rows are not trajectories.

    Args:
        mdp: :class:`~rltheory.mdp.TabularMDP` or :class:`~rltheory.robust.DRectangularMDP` (nominal kernel).
        design: ``rho`` ``[H, S, A]`` or ``[S, A]`` non-negative weights; uniform ``1 / (S A)`` when None.
        scale: multiplies every weight (the number of samples the population stands for).

    Returns:
        :class:`rltheory.linear.OfflineData` with ``N = S A S`` rows and ``weights``.
    """
    m = _as_tabular(mdp)
    H, S, A = m.horizon, m.n_states, m.n_actions
    assert H is not None
    rho = np.full((H, S, A), 1.0 / (S * A)) if design is None else np.broadcast_to(np.asarray(design, float), (H, S, A))
    if not np.isfinite(rho).all() or (rho < 0).any():
        raise ValueError("design must be finite and non-negative")
    P = np.asarray(m.P)
    P = P if m.p_time_varying else np.broadcast_to(P, (H, S, A, S))
    R = m.R if m.r_time_varying else np.broadcast_to(m.R, (H, S, A))
    s, a, s2 = (x.ravel() for x in np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij"))
    N = s.size
    states = np.repeat(s[:, None], H, axis=1)
    actions = np.repeat(a[:, None], H, axis=1)
    next_states = np.repeat(s2[:, None], H, axis=1)
    weights = float(scale) * np.stack([rho[h][s, a] * P[h][s, a, s2] for h in range(H)], axis=1)
    rewards = np.stack([R[h][s, a] for h in range(H)], axis=1)
    assert weights.shape == (N, H)
    return OfflineData(states, actions, rewards, next_states, weights)
