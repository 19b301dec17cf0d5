"""A discounted linear-quadratic regulator with Gaussian noise, and the exact return distribution of a linear policy.

The system (all matrices time-invariant)::

    x_{t+1} = A x_t + B u_t + w_t,   w_t ~ N(0, W) i.i.d.,   r_t = -(x_t' Q x_t + u_t' R u_t),

with the linear policy ``u_t = -K x_t``. For a linear policy the discounted return ``G = sum_t gamma^t r_t`` is a
quadratic form of Gaussian noise; its mean and variance are quadratic in the state (and the first action):

* **mean** (Bellman equation, closed loop ``L = A - B K``, stage cost ``M = Q + K' R K``)::

      V(x) = -(x' P x + c),       P = M + gamma L' P L,       c = gamma tr(P W) / (1 - gamma),
      Q(x, a) = -(x' Q x + a' R a) - gamma (mu' P mu + tr(P W) + c),   mu = A x + B a;

* **variance** (law of total variance, Sobel 1982; ``Var(y' P y) = 2 tr(P W P W) + 4 mu' P W P mu`` for
  ``y ~ N(mu, W)``, Mathai & Provost 1992, Thm 3.2b.2)::

      v(x) = x' H x + h,   H = 4 gamma^2 L' P W P L + gamma^2 L' H L,
                           h = gamma^2 (2 tr(P W P W) + tr(H W)) / (1 - gamma^2),
      Var Z(x, a) = gamma^2 (2 tr(P W P W) + 4 mu' P W P mu + mu' H mu + tr(H W) + h).

``variance_factor = kappa`` gives instead the fixed point of the *scaled* variance recursion ``v = kappa (Var(r +
gamma V(x')) + gamma^2 E v(x'))``: ``H = kappa (4 gamma^2 L'PWPL + gamma^2 L'HL)``, ``h = kappa gamma^2 (2 tr(PWPW) +
tr(HW)) / (1 - kappa gamma^2)``, and ``kappa gamma^2 (...)`` in ``Var Z``. A distributional critic whose variance
target is scaled by ``kappa`` converges there (DSAC-T's 2025 loss has ``kappa = 1/2``, see
:mod:`rltheory.neural.dsac_t`); ``kappa = 1`` is the return variance.

``P`` and ``H`` solve discrete Lyapunov equations (``scipy.linalg.solve_discrete_lyapunov``); they exist when
``sqrt(gamma) rho(L) < 1`` (mean) and ``gamma rho(L) < 1`` (variance). :func:`evaluate_linear_policy` returns them;
the Monte-Carlo agreement is checked in ``tests/neural/test_neural_lqr.py``. The return distribution is *not*
Gaussian (a sum of weighted non-central chi-squares), so a Gaussian distributional critic can match its mean and
variance exactly but not its shape.

:class:`LQREnv` is the same system as a Gymnasium environment (observation ``x``, action ``u``, reward ``r_t``).
The action space is a box ``[-action_bound, action_bound]`` for learners that squash actions, but the environment
never clips: the exact formulas hold for any action it is given.

References:
    M. J. Sobel, "The variance of discounted Markov decision processes", J. Appl. Probab. 19(4), 794-802, 1982.
    A. M. Mathai, S. B. Provost, "Quadratic Forms in Random Variables", Marcel Dekker, 1992.
    D. P. Bertsekas, "Dynamic Programming and Optimal Control", Vol. I, 4th ed., 2017, §4.1 (discounted LQ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import scipy.linalg as sla
from gymnasium import spaces

from rltheory.validation import real_array, real_scalar

__all__ = [
    "LQR",
    "LQREnv",
    "LinearPolicyEvaluation",
    "evaluate_linear_policy",
    "scalar_lqr",
    "double_integrator_lqr",
    "monte_carlo_returns",
]


def _matrix(x: Any, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    arr = np.array(real_array(name, x, finite=False), dtype=np.float64, copy=True)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a matrix, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite")
    arr.flags.writeable = False
    return arr


def _check_psd(M: np.ndarray, name: str, *, strict: bool) -> None:
    if not np.allclose(M, M.T, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    lo = float(np.linalg.eigvalsh(M).min())
    if lo < (1e-12 if strict else -1e-12):
        raise ValueError(
            f"{name} must be positive {'definite' if strict else 'semi-definite'}; min eigenvalue {lo:.3g}"
        )


@dataclass(frozen=True, eq=False)
class LQR:
    """A discounted LQR ``x' = A x + B u + w``, ``w ~ N(0, W)``, reward ``-(x'Qx + u'Ru)``.

    Attributes:
        A: `[n, n]`; B: `[n, m]`; Q: `[n, n]` (PSD); R: `[m, m]` (PD); W: `[n, n]` noise covariance (PSD).
        gamma: discount factor in ``(0, 1)``.
    """

    A: np.ndarray
    B: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    W: np.ndarray
    gamma: float
    _noise_factor: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        A = _matrix(self.A, "A")
        n = A.shape[0]
        if A.shape != (n, n):
            raise ValueError(f"A must be square, got shape {A.shape}")
        B = _matrix(self.B, "B")
        if B.shape[0] != n:
            raise ValueError(f"B must have {n} rows (the state dimension), got shape {B.shape}")
        m = B.shape[1]
        Q, R, W = _matrix(self.Q, "Q", (n, n)), _matrix(self.R, "R", (m, m)), _matrix(self.W, "W", (n, n))
        _check_psd(Q, "Q", strict=False)
        _check_psd(R, "R", strict=True)
        _check_psd(W, "W", strict=False)
        gamma = real_scalar("gamma", self.gamma, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        for k, v in (("A", A), ("B", B), ("Q", Q), ("R", R), ("W", W), ("gamma", gamma)):
            object.__setattr__(self, k, v)
        lam, V = np.linalg.eigh(W)  # W = F F' also for a singular W
        object.__setattr__(self, "_noise_factor", V * np.sqrt(np.clip(lam, 0.0, None)))

    @property
    def n_states(self) -> int:
        """State dimension ``n``."""
        return int(self.A.shape[0])

    @property
    def n_actions(self) -> int:
        """Action dimension ``m``."""
        return int(self.B.shape[1])

    def gain(self, K: Any) -> np.ndarray:
        """``K`` validated as a `[m, n]` matrix."""
        return _matrix(K, "K", (self.n_actions, self.n_states))

    def optimal_gain(self) -> np.ndarray:
        """The optimal gain ``K* = gamma (R + gamma B'PB)^{-1} B'PA`` of the discounted Riccati equation.

        ``P`` solves ``P = Q + gamma A'PA - gamma^2 A'PB (R + gamma B'PB)^{-1} B'PA`` (the undiscounted DARE of
        ``(sqrt(gamma) A, sqrt(gamma) B)``; Bertsekas 2017, §4.1).
        """
        g = self.gamma
        P = sla.solve_discrete_are(np.sqrt(g) * self.A, np.sqrt(g) * self.B, self.Q, self.R)
        return g * np.linalg.solve(self.R + g * self.B.T @ P @ self.B, self.B.T @ P @ self.A)

    def reward(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``r = -(x'Qx + u'Ru)`` for `[..., n]` states and `[..., m]` actions."""
        x, u = np.asarray(x, np.float64), np.asarray(u, np.float64)
        return -(((x @ self.Q) * x).sum(-1) + ((u @ self.R) * u).sum(-1))

    def step(self, x: np.ndarray, u: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One transition from `[..., n]` states: ``(next states [..., n], rewards [...])``."""
        x, u = np.asarray(x, np.float64), np.asarray(u, np.float64)
        mu = x @ self.A.T + u @ self.B.T
        z = rng.standard_normal(mu.shape)
        return mu + z @ self._noise_factor.T, self.reward(x, u)


@dataclass(frozen=True)
class LinearPolicyEvaluation:
    """Exact mean and variance of the discounted return of ``u = -K x`` on an :class:`LQR` (module docstring).

    Attributes:
        lqr: the system.
        K: `[m, n]` gain.
        P, c: the value ``V(x) = -(x'Px + c)``.
        H, h: the return variance ``v(x) = x'Hx + h`` (with ``variance_factor = 1``).
        variance_factor: ``kappa`` of the scaled variance recursion (module docstring); 1 for the return variance.
    """

    lqr: LQR
    K: np.ndarray
    P: np.ndarray
    c: float
    H: np.ndarray
    h: float
    variance_factor: float = 1.0

    def _mu(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float64) @ self.lqr.A.T + np.asarray(a, np.float64) @ self.lqr.B.T

    def value(self, x: np.ndarray) -> np.ndarray:
        """``V(x) = E[G | x_0 = x]`` for `[..., n]` states."""
        x = np.asarray(x, np.float64)
        return -(np.einsum("...i,ij,...j->...", x, self.P, x) + self.c)

    def return_variance(self, x: np.ndarray) -> np.ndarray:
        """``Var[G | x_0 = x] = x'Hx + h``."""
        x = np.asarray(x, np.float64)
        return np.einsum("...i,ij,...j->...", x, self.H, x) + self.h

    def q_value(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``Q(x, a) = E[G | x_0 = x, u_0 = a]`` (then ``u_t = -K x_t``)."""
        lqr, mu = self.lqr, self._mu(x, a)
        tail = np.einsum("...i,ij,...j->...", mu, self.P, mu) + np.trace(self.P @ lqr.W) + self.c
        return lqr.reward(x, a) - lqr.gamma * tail

    def q_variance(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        """``Var[G | x_0 = x, u_0 = a]``."""
        lqr, mu = self.lqr, self._mu(x, a)
        PW = self.P @ lqr.W
        quad = np.einsum("...i,ij,...j->...", mu, 4.0 * PW @ self.P + self.H, mu)
        k = self.variance_factor * lqr.gamma**2
        return k * (2.0 * np.trace(PW @ PW) + quad + np.trace(self.H @ lqr.W) + self.h)

    def q_std(self, x: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Standard deviation of the return from ``(x, a)``."""
        return np.sqrt(self.q_variance(x, a))

    def action(self, x: np.ndarray) -> np.ndarray:
        """``u = -K x`` for `[..., n]` states."""
        return -np.asarray(x, np.float64) @ self.K.T


def evaluate_linear_policy(lqr: LQR, K: Any, *, variance_factor: float = 1.0) -> LinearPolicyEvaluation:
    """Exact mean and variance of the discounted return of ``u = -K x`` (module docstring for the equations).

    Args:
        lqr: the system.
        K: `[m, n]` gain.
        variance_factor: ``kappa`` in ``(0, 1]``; 1 (default) for the return variance, otherwise the fixed point of
            the variance recursion scaled by ``kappa`` (module docstring).

    Returns:
        :class:`LinearPolicyEvaluation` with ``P, c, H, h``.

    Raises:
        ValueError: naming ``K`` if ``sqrt(gamma) rho(A - BK) >= 1``: the mean return is then infinite (``E x_t' M
            x_t`` grows like ``rho^(2t)``, so ``sum_t gamma^t E x_t' M x_t`` diverges; the Lyapunov equation
            ``P = M + gamma L' P L`` has no PSD solution). ``gamma rho < 1`` is not enough: the scalar system
            ``a = 0.9, b = 0.5, gamma = 0.9`` with ``K = -0.32`` has ``gamma rho = 0.954`` but ``sqrt(gamma) rho =
            1.006``, and a solver would return the indefinite ``P < 0`` (a positive value ``V(1) = +292`` for a
            cost-only system).
    """
    if not isinstance(lqr, LQR):
        raise TypeError(f"lqr must be an mdps.lqr.LQR, got {type(lqr).__name__}")
    K = lqr.gain(K)
    kap = real_scalar("variance_factor", variance_factor, lo=0.0, hi=1.0, lo_open=True)
    g = lqr.gamma
    L = lqr.A - lqr.B @ K
    rho = float(np.max(np.abs(np.linalg.eigvals(L))))
    # The mean needs sqrt(gamma) rho(L) < 1 (module docstring); it implies gamma rho(L) < 1, which the variance needs.
    if not np.sqrt(g) * rho < 1.0:
        raise ValueError(
            f"K does not stabilise the discounted system: sqrt(gamma) * rho(A - BK) = {np.sqrt(g) * rho:.10g} >= 1 "
            f"(gamma = {g:g}, rho(A - BK) = {rho:.6g}), so the expected discounted cost of u = -K x is infinite"
        )
    M = lqr.Q + K.T @ lqr.R @ K
    P = sla.solve_discrete_lyapunov(np.sqrt(g) * L.T, M)
    P = 0.5 * (P + P.T)
    c = g * float(np.trace(P @ lqr.W)) / (1.0 - g)
    PW = P @ lqr.W
    H = sla.solve_discrete_lyapunov(np.sqrt(kap) * g * L.T, 4.0 * kap * g**2 * L.T @ PW @ P @ L)
    H = 0.5 * (H + H.T)
    h = kap * g**2 * (2.0 * float(np.trace(PW @ PW)) + float(np.trace(H @ lqr.W))) / (1.0 - kap * g**2)
    return LinearPolicyEvaluation(lqr, K, P, c, H, h, kap)


def monte_carlo_returns(
    lqr: LQR, K: Any, x0: np.ndarray, a0: np.ndarray, *, n: int, horizon: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` sampled discounted returns from ``(x0, a0)`` under ``u = -Kx``, truncated after ``horizon`` steps.

    The truncation bias is at most ``gamma^horizon`` times the value scale; pick ``horizon`` with
    ``gamma^horizon`` below the tolerance you test.

    Returns:
        `[n]` returns.
    """
    K = lqr.gain(K)
    x = np.broadcast_to(np.asarray(x0, np.float64), (n, lqr.n_states)).copy()
    u = np.broadcast_to(np.asarray(a0, np.float64), (n, lqr.n_actions)).copy()
    G = np.zeros(n)
    disc = 1.0
    for _ in range(horizon):
        x_next, r = lqr.step(x, u, rng)
        G += disc * r
        disc *= lqr.gamma
        x = x_next
        u = -x @ K.T
    return G


def scalar_lqr(
    *, a: float = 0.9, b: float = 0.5, q: float = 1.0, r: float = 0.1, noise_std: float = 0.5, gamma: float = 0.9
) -> LQR:
    """The 1-D system ``x' = a x + b u + w``, ``w ~ N(0, noise_std^2)``, reward ``-(q x^2 + r u^2)``."""
    m = np.array  # the LQR converts and validates
    return LQR(A=m([[a]]), B=m([[b]]), Q=m([[q]]), R=m([[r]]), W=m([[noise_std**2]]), gamma=gamma)


def double_integrator_lqr(*, dt: float = 0.1, noise_std: float = 0.1, r: float = 0.1, gamma: float = 0.95) -> LQR:
    """A discretised double integrator (position, velocity) pushed by a force, with velocity noise."""
    A = np.array([[1.0, dt], [0.0, 1.0]])
    B = np.array([[0.5 * dt**2], [dt]])
    W = np.diag([1e-4 * noise_std**2, noise_std**2])
    return LQR(A=A, B=B, Q=np.eye(2), R=np.array([[r]]), W=W, gamma=gamma)


class LQREnv(gym.Env):
    """An :class:`LQR` as a Gymnasium environment; ``x_0 ~ N(0, init_std^2 I)``; never terminates.

    Observation: ``x`` in ``Box(-inf, inf, (n,), float64)``. Action: ``u`` in ``Box(-action_bound,
    action_bound, (m,), float64)``, used as given (never clipped; a non-finite action raises ``ValueError``).
    Reward ``-(x'Qx + u'Ru)``; wrap in ``TimeLimit`` (or ``gymnasium.make(..., max_episode_steps=...)``) for
    episodes. The default system is :func:`scalar_lqr`. Noise uses ``self.np_random`` (``reset(seed=...)``).

    Args:
        lqr: the system, or None for :func:`scalar_lqr`.
        init_std: standard deviation of each coordinate of ``x_0``.
        action_bound: half-width of the advertised action box.
    """

    metadata = {"render_modes": []}

    def __init__(self, lqr: LQR | None = None, *, init_std: float = 1.0, action_bound: float = 5.0) -> None:
        self.lqr = scalar_lqr() if lqr is None else lqr
        if not isinstance(self.lqr, LQR):
            raise TypeError(f"lqr must be an mdps.lqr.LQR, got {type(self.lqr).__name__}")
        init_std = real_scalar("init_std", init_std, nonneg=True)
        action_bound = real_scalar("action_bound", action_bound, positive=True)
        n, m = self.lqr.n_states, self.lqr.n_actions
        self.init_std = init_std
        self.observation_space = spaces.Box(-np.inf, np.inf, (n,), np.float64)
        self.action_space = spaces.Box(-action_bound, action_bound, (m,), np.float64)
        self.state = np.zeros(n)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if options is not None and "state" in options:
            self.state = np.array(options["state"], dtype=np.float64).reshape(self.lqr.n_states)
        else:
            self.state = self.init_std * self.np_random.standard_normal(self.lqr.n_states)
        return self.state.copy(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Gymnasium's step: ``(observation, reward, terminated, truncated, info)`` after the action ``u``."""
        u = np.asarray(action, dtype=np.float64).reshape(self.lqr.n_actions)
        if not np.isfinite(u).all():
            raise ValueError(f"action must be finite, got {u}")
        x_next, r = self.lqr.step(self.state, u, self.np_random)
        self.state = x_next
        return x_next.copy(), float(r), False, False, {}
