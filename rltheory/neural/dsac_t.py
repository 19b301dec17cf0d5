"""DSAC-T: Distributional Soft Actor-Critic with Three Refinements, with DSAC-v1 and SAC as switches.

Each critic ``i`` outputs a Gaussian return distribution ``Z_i(s, a) = N(Q_i, sigma_i^2)`` (an MLP with outputs
``[mean, pre_std]``, ``sigma = softplus(pre_std)``); the policy is tanh-Gaussian; a *target policy* gives the next
action ``a' ~ pi_bar(s')``. One update of DSAC-T (``algorithm="dsac-t"``, ``loss_form="paper"``)::

    Z_bar_i(s', a') = N(Q_bar_i', sigma_bar_i'^2),  eps_i ~ N(0, 1) clipped to [-3, 3]
    G_i = Q_bar_i' + eps_i sigma_bar_i'                       (a sampled return of each target critic)
    j = argmin_i Q_bar_i'                                   (twin value distributions: the smaller mean)
    y_q = r + gamma (1 - d) (Q_bar_j' - alpha log pi(a'|s'))  (expected value substitution: the mean target)
    y_z = r + gamma (1 - d) (G_j - alpha log pi(a'|s'))       (a sampled return, from the same critic j)
    m_i <- (1 - tau_b) m_i + tau_b mean_batch(sigma_i)        (moving-average std; the first batch initialises it)
    y~_i = Q_i + clip(y_z - Q_i, -b m_i, b m_i)               (variance-based adjustment: clip at b sigma_bar, b = 3)
    omega_i = m_i^2                                           (variance-based adjustment: the sigma_bar^2 weight)
    dL_i/dQ_i     = -(omega_i + eps) (y_q - Q_i) / (sigma_i^2 + eps)
    dL_i/dsigma_i = -(omega_i + eps) ((Q_i - y~_i)^2 - sigma_i^2) / (sigma_i^3 + eps),    eps = 0.1

(the per-sample gradients of :func:`dsac_t_critic_loss`, averaged over the batch). With ``eps = 0`` and
``omega = 1`` these are the gradients of the Gaussian negative log-likelihood ``-log N(y; Q, sigma^2)``, with the mean
fed by ``y_q`` and the variance by the clipped sample ``y~``. Their fixed point is ``Q = E[y_q]`` and
``sigma^2 = E[(Q - y~)^2]``, i.e. the mean and (up to the clipping) the variance of the return. Policy and
temperature follow SAC: ``L_pi = E[alpha log pi(a~|s) - min_i Q_i(s, a~)]``, ``L_alpha = -log alpha E[log pi + H]``,
``H = -dim(A)``; the policy and temperature steps and all Polyak updates (both critics and the policy) run every
``delay_update = 2`` updates.

**Sources.** The update above is the original official code, ``dsac_v2.py`` at ``Jingliang-Duan/DSAC-v2@c69f7eb``
(2024-02-23), taken as the paper's form (the project's implementation notes on the paper); the paper body
(arXiv:2310.05858) could not be read here, so the correspondence to the paper's equations is as stated in those
notes, not checked against the PDF. ``loss_form="code-2025"`` is the later rewrite ``c5105eb`` (2025-07-12,
"Optimize Q-loss calculation for complex tasks", still at ``53447f4``)::

    ratio_i = clamp(m_i^2 / (sigma_i^2 + 0.1), 0.1, 10)
    L_i = mean(ratio_i [Huber_50(Q_i, y_q) + sigma_i (sigma_i^2 - Huber_50(Q_i, y~_i)) / (sigma_i + 0.1)])

In the quadratic region ``Huber(x) = x^2 / 2``, so for fixed targets its fixed point is ``sigma^2 = E[(Q - y~)^2] / 2``
(an inference from the gradient, checked in the tests). Because ``y~`` carries the bootstrapped ``sigma'`` of the
next state, the whole variance recursion is halved, ``sigma^2 = (Var(r + gamma Q') + gamma^2 E sigma'^2) / 2``: the
2025 critic does not learn the return's variance (on the scalar LQR of ``mdps.lqr`` its sigma is 0.36 to 0.53 of the
return's std, and matches this halved fixed point, :func:`mdps.lqr.evaluate_linear_policy` with
``variance_factor=0.5``).
``algorithm="dsac-v1"`` is ``dsac_v1.py`` at ``53447f4``: one distributional critic, mean *and* variance fed by the
sampled return ``y_z`` (no expected-value substitution), clipping at a fixed ``v1_td_bound`` and no ``omega`` weight.
``algorithm="sac"`` replaces the critics by two scalar Q networks, ``y = r + gamma (1 - d) (min_i Q_bar_i' - alpha
log pi)`` and ``L = sum_i mean((Q_i - y)^2) / 2`` (Haarnoja et al. 2018), everything else (networks, target policy,
delayed updates, learning rates) unchanged, so the three compare on equal terms. The tanh-Gaussian policy, SAC's
critic, policy and temperature losses, Polyak averaging and the optimiser set-up are those of
:mod:`rltheory.neural.common.sac` (re-exported here), shared with MBPO's SAC.

Differences from the official code (none change the algorithm): the policy and temperature gradients are computed
only on the iterations that apply them (the official code computes them every iteration and discards half); the
critic losses of the twin critics are summed and stepped by one Adam over both critics (Adam is per-parameter, so
this equals the official two optimisers); randomness comes from explicit generators.

References:
    J. Duan, W. Wang, L. Xiao, J. Gao, S. E. Li, C. Liu, Y.-Q. Zhang, B. Cheng, K. Li, "Distributional Soft
    Actor-Critic with Three Refinements", IEEE TPAMI 2025, arXiv:2310.05858. Code: github.com/Jingliang-Duan/DSAC-v2.
    J. Duan, Y. Guan, S. E. Li, Y. Ren, Q. Sun, B. Cheng, "Distributional Soft Actor-Critic: Off-Policy
    Reinforcement Learning for Addressing Value Estimation Errors", IEEE TNNLS 33(11), 2022, arXiv:2001.02811.
    T. Haarnoja, A. Zhou, P. Abbeel, S. Levine, "Soft Actor-Critic", ICML 2018, arXiv:1801.01290; "Soft
    Actor-Critic Algorithms and Applications", arXiv:1812.05905 (temperature tuning).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.device import get_device
from rltheory.neural.common.nets import mlp
from rltheory.neural.common.replay import Batch
from rltheory.neural.common.sac import (
    TanhGaussianPolicy,
    alpha_loss,
    box_action_space,
    default_target_entropy,
    policy_loss,
    polyak,
    sac_critic_loss,
    sac_optimizers,
)
from rltheory.neural.common.seeding import Generators, init_scope, make_generators
from rltheory.neural.common.training import TrainLog, make_gym_env, train_off_policy

__all__ = [
    "ALGORITHMS",
    "LOSS_FORMS",
    "Config",
    "Critic",
    "DSACT",
    "TanhGaussianPolicy",
    "TrainResult",
    "alpha_loss",
    "clip_target",
    "dsac_t_2025_critic_loss",
    "dsac_t_critic_gradients",
    "dsac_t_critic_loss",
    "dsac_v1_critic_loss",
    "ema_std",
    "fit_critic_fixed_policy",
    "policy_loss",
    "sac_critic_loss",
    "train",
    "twin_targets",
]

ALGORITHMS = ("dsac-t", "dsac-v1", "sac")
LOSS_FORMS = ("paper", "code-2025")


# ------------------------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class Config(TrainConfig):
    """DSAC-T / DSAC-v1 / SAC hyperparameters (plus the loop's, see :class:`TrainConfig`).

    Attributes:
        algorithm: ``"dsac-t"``, ``"dsac-v1"`` or ``"sac"`` (module docstring).
        loss_form: DSAC-T critic loss, ``"paper"`` (2024 code) or ``"code-2025"`` (Huber/ratio rewrite).
        hidden: hidden widths of every network (value and policy).
        activation: hidden activation (official: GELU).
        value_lr, policy_lr, alpha_lr: Adam learning rates.
        gamma: discount; tau: Polyak rate of the targets; tau_b: rate of the moving-average std (None: tau).
        delay_update: policy/temperature steps and Polyak updates every this many updates.
        clip_b: DSAC-T clipping boundary in units of the moving-average std (the paper's xi = 3).
        grad_bias: the ``eps`` added to ``omega``, ``sigma^2`` and ``sigma^3`` (0.1).
        sample_clip: the standard-normal draw of the sampled return is clipped to ``[-sample_clip, sample_clip]``.
        v1_td_bound: DSAC-v1's fixed clipping boundary.
        huber_delta, ratio_clip: the 2025 loss's Huber threshold and weight clamp.
        auto_alpha: learn the temperature; init_log_alpha: its initial log (official 1.0, so alpha_0 = e);
        alpha: the temperature when ``auto_alpha`` is False.
        target_entropy: None for ``-dim(A)``.
        log_std_min, log_std_max: clamp of the policy's log-std.
        target_policy: next actions from a Polyak-averaged policy (official) instead of the current one.
    """

    algorithm: str = "dsac-t"
    loss_form: str = "paper"
    hidden: tuple[int, ...] = (256, 256, 256)
    activation: str = "gelu"
    value_lr: float = 1e-4
    policy_lr: float = 1e-4
    alpha_lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 0.005
    tau_b: float | None = None
    delay_update: int = 2
    clip_b: float = 3.0
    grad_bias: float = 0.1
    sample_clip: float = 3.0
    v1_td_bound: float = 10.0
    huber_delta: float = 50.0
    ratio_clip: tuple[float, float] = (0.1, 10.0)
    auto_alpha: bool = True
    init_log_alpha: float = 1.0
    alpha: float = 0.2
    target_entropy: float | None = None
    log_std_min: float = -20.0
    log_std_max: float = 0.5
    target_policy: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.loss_form not in LOSS_FORMS:
            raise ValueError(f"loss_form must be one of {LOSS_FORMS}, got {self.loss_form!r}")
        for name in ("value_lr", "policy_lr", "alpha_lr", "clip_b", "sample_clip", "v1_td_bound", "huber_delta"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.gamma < 1:
            raise ValueError(f"gamma must be in (0, 1), got {self.gamma}")
        for name in ("tau", "tau_b"):
            v = getattr(self, name)
            if v is not None and not 0 < v <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if not isinstance(self.delay_update, int) or self.delay_update < 1:
            raise ValueError(f"delay_update must be a positive int, got {self.delay_update!r}")
        if self.grad_bias < 0:
            raise ValueError(f"grad_bias must be >= 0, got {self.grad_bias}")

    @classmethod
    def paper(cls, **overrides: Any) -> Self:
        """The official code's defaults: ``example_train/dsacv2_mlp_mujoco_offserial.py`` (MuJoCo; Humanoid by
        default) at ``Jingliang-Duan/DSAC-v2@53447f4``: 3x256 GELU networks, lr 1e-4/1e-4/3e-4, gamma 0.99, tau
        0.005, delay 2, batch 256, buffer 1e6, 10,000 warm-up steps from the initial policy, 20 environment steps
        per update, 10 evaluation episodes every 2,500 updates (50,000 steps), 1.5 M updates (30 M steps). The
        official scripts use the legacy ``gym`` Humanoid-v3; this preset names Gymnasium's Humanoid-v5."""
        base = cls(
            env_id="Humanoid-v5",
            total_steps=30_000_000,
            warmup_steps=10_000,
            warmup_random=False,
            update_every=20,
            batch_size=256,
            buffer_size=1_000_000,
            eval_every=50_000,
            eval_episodes=10,
            log_every=20_000,
        )
        return base.replace(**overrides)

    @classmethod
    def tiny(cls, **overrides: Any) -> Self:
        """A CPU preset that learns Pendulum-v1 in 10,000 steps (a minute or two on one core): 2x64 networks, two
        updates per environment step after 1,000 uniformly random warm-up steps, learning rates 1e-3 (critics) and
        3e-4 (policy, temperature), alpha_0 = 1, 20 evaluation episodes every 1,000 steps (with fewer the mean is
        too noisy to compare with -200: a converged policy scores about -155 with a per-episode sd of about 90).
        Everything else is the paper's (GELU, target policy, delay 2, tau 0.005, b = 3, eps = 0.1, batch 256)."""
        base = cls(
            env_id="Pendulum-v1",
            total_steps=10_000,
            warmup_steps=1_000,
            warmup_random=True,
            update_every=1,
            updates_per_iteration=2,
            hidden=(64, 64),
            value_lr=1e-3,
            policy_lr=3e-4,
            alpha_lr=3e-4,
            init_log_alpha=0.0,
            batch_size=256,
            buffer_size=100_000,
            eval_every=1_000,
            eval_episodes=20,
            log_every=1_000,
        )
        return base.replace(**overrides)


# ----------------------------------------------------------------------------------------------------- networks
class Critic(nn.Module):
    """A Gaussian return distribution ``(Q(s, a), sigma(s, a))`` (``distributional=True``: outputs ``[mean,
    pre_std]``, ``sigma = softplus(pre_std)``, as the official ``ActionValueDistri``) or a scalar Q network."""

    def __init__(
        self, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str, *, distributional: bool
    ) -> None:
        super().__init__()
        self.distributional = distributional
        self.net = mlp(obs_dim + act_dim, 2 if distributional else 1, hidden, activation=activation)

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(mean [B], std [B])``; std is None for a scalar critic."""
        out = self.net(torch.cat([obs, act], dim=-1))
        if not self.distributional:
            return out[..., 0], None
        return out[..., 0], F.softplus(out[..., 1])


# ------------------------------------------------------------------------------------------------------- losses
def twin_targets(
    rew: torch.Tensor,
    done: torch.Tensor,
    gamma: float,
    alpha: float | torch.Tensor,
    logp_next: torch.Tensor,
    q_next: Sequence[torch.Tensor],
    z_next: Sequence[torch.Tensor],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The expected and sampled targets of the twin value distributions.

    ``j = argmin_i q_next[i]`` per sample (ties go to the second critic, as in the official
    ``torch.where(q1 < q2, ...)``); ``y_q = r + gamma (1 - d)(q_next[j] - alpha logp')`` and
    ``y_z = r + gamma (1 - d)(z_next[j] - alpha logp')`` with ``z_next[j]`` the sampled return of the same critic.
    With one critic, ``j = 0``.

    Args:
        rew, done, logp_next: `[B]`.
        q_next, z_next: one `[B]` tensor per critic: target means and sampled returns at ``(s', a')``.

    Returns:
        ``(y_q, y_z)``, `[B]` each.
    """
    if len(q_next) != len(z_next) or len(q_next) not in (1, 2):
        raise ValueError(f"need 1 or 2 critics' means and samples, got {len(q_next)} and {len(z_next)}")
    if len(q_next) == 1:
        qn, zn = q_next[0], z_next[0]
    else:
        first = q_next[0] < q_next[1]
        qn, zn = torch.where(first, q_next[0], q_next[1]), torch.where(first, z_next[0], z_next[1])
    cont = gamma * (1.0 - done)
    return rew + cont * (qn - alpha * logp_next), rew + cont * (zn - alpha * logp_next)


def clip_target(y: torch.Tensor, q: torch.Tensor, bound: float | torch.Tensor) -> torch.Tensor:
    """``q + clip(y - q, -bound, bound)``: the target moved to within ``bound`` of the (detached) mean ``q``."""
    b = torch.as_tensor(bound, dtype=y.dtype, device=y.device)
    return q + torch.clamp(y - q, -b, b)


def ema_std(m: torch.Tensor | None, sigma: torch.Tensor, tau_b: float) -> torch.Tensor:
    """``(1 - tau_b) m + tau_b mean(sigma)``; the first call (``m`` None) returns ``mean(sigma)``. Detached."""
    batch_mean = sigma.detach().mean()
    return batch_mean if m is None else (1.0 - tau_b) * m + tau_b * batch_mean


def _gaussian_surrogate(
    q: torch.Tensor, std: torch.Tensor, y_mean: torch.Tensor, y_var: torch.Tensor, bias: float
) -> torch.Tensor:
    # A loss whose gradient in (q, std) is the closed form: coefficients are detached, q and std enter linearly.
    q_d, s_d = q.detach(), torch.clamp(std, min=0.0).detach()
    g_q = -(y_mean.detach() - q_d) / (s_d.pow(2) + bias)
    g_s = -((q_d - y_var.detach()).pow(2) - s_d.pow(2)) / (s_d.pow(3) + bias)
    return torch.mean(g_q * q + g_s * std)


def dsac_t_critic_loss(
    q: torch.Tensor,
    std: torch.Tensor,
    y_q: torch.Tensor,
    y_clip: torch.Tensor,
    omega: float | torch.Tensor,
    *,
    bias: float = 0.1,
) -> torch.Tensor:
    """The DSAC-T critic surrogate (2024 code, the paper's form): a scalar whose gradients in ``q`` and ``std`` are
    :func:`dsac_t_critic_gradients`::

        L = (omega + eps) mean_k[ -(y_q - Q)/(sigma^2 + eps) Q  -  ((Q - y~)^2 - sigma^2)/(sigma^3 + eps) sigma ]

    with the bracketed coefficients held constant (detached), ``eps = bias``.

    Args:
        q, std: `[B]` critic mean and std (with gradients).
        y_q: `[B]` expected target; y_clip: `[B]` clipped sampled target ``y~``.
        omega: the moving-average std squared, ``m^2``.
        bias: ``eps``.
    """
    omega_t = torch.as_tensor(omega, dtype=q.dtype, device=q.device).detach()
    return (omega_t + bias) * _gaussian_surrogate(q, std, y_q, y_clip, bias)


def dsac_t_critic_gradients(
    q: torch.Tensor,
    std: torch.Tensor,
    y_q: torch.Tensor,
    y_clip: torch.Tensor,
    omega: float | torch.Tensor,
    *,
    bias: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The paper's closed-form critic gradients, per sample (divided by the batch size ``B``)::

        dL/dQ_k     = -(omega + eps) (y_q,k - Q_k) / (sigma_k^2 + eps) / B
        dL/dsigma_k = -(omega + eps) ((Q_k - y~_k)^2 - sigma_k^2) / (sigma_k^3 + eps) / B

    Returns:
        ``(dL/dq [B], dL/dstd [B])``.
    """
    B = q.shape[0]
    w = torch.as_tensor(omega, dtype=q.dtype, device=q.device) + bias
    g_q = -w * (y_q - q) / (std.pow(2) + bias) / B
    g_s = -w * ((q - y_clip).pow(2) - std.pow(2)) / (std.pow(3) + bias) / B
    return g_q, g_s


def dsac_v1_critic_loss(
    q: torch.Tensor, std: torch.Tensor, y_z: torch.Tensor, y_clip: torch.Tensor, *, bias: float = 0.1
) -> torch.Tensor:
    """DSAC-v1's bounded critic surrogate (``dsac_v1.py``, ``bound=True``): the mean is fed by the *sampled*
    target ``y_z``, the variance by ``y~ = Q + clip(y_z - Q, -b, b)`` with a fixed ``b``, no ``omega`` weight."""
    return _gaussian_surrogate(q, std, y_z, y_clip, bias)


def dsac_t_2025_critic_loss(
    q: torch.Tensor,
    std: torch.Tensor,
    y_q: torch.Tensor,
    y_clip: torch.Tensor,
    m: float | torch.Tensor,
    *,
    bias: float = 0.1,
    huber_delta: float = 50.0,
    ratio_clip: tuple[float, float] = (0.1, 10.0),
) -> torch.Tensor:
    """The 2025 code's critic loss (``c5105eb``)::

        ratio = clamp(m^2 / (sigma^2 + eps), lo, hi)
        L = mean(ratio [Huber(Q, y_q) + sigma (sigma^2 - Huber(Q, y~)) / (sigma + eps)])

    with ``sigma`` inside ``ratio``, the second Huber and the fraction's coefficients detached.
    """
    s_d = torch.clamp(std, min=0.0).detach()
    m_t = torch.as_tensor(m, dtype=q.dtype, device=q.device).detach()
    ratio = (m_t.pow(2) / (s_d.pow(2) + bias)).clamp(ratio_clip[0], ratio_clip[1])
    h_mean = F.huber_loss(q, y_q.detach(), delta=huber_delta, reduction="none")
    h_var = F.huber_loss(q.detach(), y_clip.detach(), delta=huber_delta, reduction="none")
    return torch.mean(ratio * (h_mean + std * (s_d.pow(2) - h_var) / (s_d + bias)))


# -------------------------------------------------------------------------------------------------------- agent
class DSACT:
    """The DSAC-T / DSAC-v1 / SAC learner (networks, optimisers, moving averages); see the module docstring.

    Args:
        obs_dim, act_dim: flat sizes.
        action_low, action_high: `[act_dim]` bounds of the action box.
        config: :class:`Config`.
        gens: random streams; networks are initialised from ``gens.init_seed``, noise drawn from ``gens.torch_rng``.
        device: where the networks live.
        dtype: parameter dtype (float64 for gradient checks).
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        config: Config,
        gens: Generators,
        device: torch.device | str = "cpu",
        *,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.config, self.gens, self.device = config, gens, torch.device(device)
        c = config
        n_critics = 1 if c.algorithm == "dsac-v1" else 2
        distributional = c.algorithm != "sac"
        with init_scope(gens.init_seed, self.device):
            self.policy = TanhGaussianPolicy(
                obs_dim,
                act_dim,
                action_low,
                action_high,
                c.hidden,
                c.activation,
                log_std_min=c.log_std_min,
                log_std_max=c.log_std_max,
            )
            self.critics = nn.ModuleList(
                [
                    Critic(obs_dim, act_dim, c.hidden, c.activation, distributional=distributional)
                    for _ in range(n_critics)
                ]
            )
        self.policy.to(self.device, dtype)
        self.critics.to(self.device, dtype)
        self.policy_target = copy.deepcopy(self.policy).requires_grad_(False)
        self.critic_targets = copy.deepcopy(self.critics).requires_grad_(False)
        self.log_alpha = torch.tensor(float(c.init_log_alpha), device=self.device, dtype=dtype, requires_grad=True)
        # parameter lists are cached: walking the module tree every update costs as much as a small layer
        self._critic_params = list(self.critics.parameters())
        self._policy_params = list(self.policy.parameters())
        self._polyak_pairs = (
            list(self.critic_targets.parameters()) + list(self.policy_target.parameters()),
            self._critic_params + self._policy_params,
        )
        self.critic_opt, self.policy_opt, self.alpha_opt = sac_optimizers(
            self._critic_params,
            self._policy_params,
            self.log_alpha,
            value_lr=c.value_lr,
            policy_lr=c.policy_lr,
            alpha_lr=c.alpha_lr,
        )
        self.target_entropy = default_target_entropy(act_dim, c.target_entropy)
        self.tau_b = c.tau if c.tau_b is None else c.tau_b
        self.mean_std: list[torch.Tensor | None] = [None] * n_critics
        self.n_updates = 0
        self.dtype = dtype

    # ---- acting and reading the critic
    @property
    def alpha(self) -> torch.Tensor:
        """The current temperature (detached)."""
        if self.config.auto_alpha:
            return self.log_alpha.detach().exp()
        return torch.tensor(self.config.alpha, device=self.device, dtype=self.dtype)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, deterministic: bool) -> torch.Tensor:
        """Actions for observations `[B, obs_dim]`: the tanh of the mean, or a policy sample."""
        obs = obs.to(self.dtype)
        return self.policy.mode(obs) if deterministic else self.policy.sample(obs, self.gens.torch_rng)[0]

    @torch.no_grad()
    def value_distribution(self, obs: torch.Tensor, act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The critics' estimate at ``(s, a)``: the smaller mean over the critics, and that critic's std (None for
        SAC). This is the value the policy maximises."""
        outs = [crit(obs.to(self.dtype), act.to(self.dtype)) for crit in self.critics]
        if len(outs) == 1:
            return outs[0]
        (q1, s1), (q2, s2) = outs
        first = q1 < q2
        std = None if s1 is None or s2 is None else torch.where(first, s1, s2)
        return torch.where(first, q1, q2), std

    # ---- the update
    def _noise(self, like: torch.Tensor) -> torch.Tensor:
        eps = torch.randn(like.shape, generator=self.gens.torch_rng, device=like.device, dtype=like.dtype)
        return eps.clamp(-self.config.sample_clip, self.config.sample_clip)

    def critic_loss(
        self, batch: Batch, next_act: torch.Tensor, next_logp: torch.Tensor, alpha: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The summed critic loss of the configured algorithm on ``batch`` (updates the moving-average std)."""
        c = self.config
        with torch.no_grad():
            nxt = [crit(batch.next_obs, next_act) for crit in self.critic_targets]
        outs = [crit(batch.obs, batch.act) for crit in self.critics]
        info: dict[str, torch.Tensor] = {}
        if c.algorithm == "sac":
            q_next = torch.min(nxt[0][0], nxt[1][0])
            y = batch.rew + c.gamma * (1.0 - batch.done) * (q_next - alpha * next_logp)
            loss = sum((sac_critic_loss(q, y) for q, _ in outs), torch.zeros((), device=self.device))
            info["q_mean"] = outs[0][0].detach().mean()
            return loss, info
        with torch.no_grad():
            z_next = [q + self._noise(q) * s for q, s in nxt]  # type: ignore[operator]
            y_q, y_z = twin_targets(batch.rew, batch.done, c.gamma, alpha, next_logp, [q for q, _ in nxt], z_next)
        loss = torch.zeros((), device=self.device, dtype=self.dtype)
        for i, (q, std) in enumerate(outs):
            assert std is not None
            if c.algorithm == "dsac-v1":
                y_clip = clip_target(y_z, q.detach(), c.v1_td_bound)
                loss = loss + dsac_v1_critic_loss(q, std, y_z, y_clip, bias=c.grad_bias)
                continue
            m = ema_std(self.mean_std[i], std, self.tau_b)
            self.mean_std[i] = m
            y_clip = clip_target(y_z, q.detach(), c.clip_b * m)
            if c.loss_form == "paper":
                loss = loss + dsac_t_critic_loss(q, std, y_q, y_clip, m.pow(2), bias=c.grad_bias)
            else:
                loss = loss + dsac_t_2025_critic_loss(
                    q, std, y_q, y_clip, m, bias=c.grad_bias, huber_delta=c.huber_delta, ratio_clip=c.ratio_clip
                )
        info["q_mean"] = outs[0][0].detach().mean()
        info["std_mean"] = outs[0][1].detach().mean()  # type: ignore[union-attr]
        if self.mean_std[0] is not None:
            info["mean_std"] = self.mean_std[0]
        return loss, info

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One DSAC-T (or DSAC-v1, SAC) update on ``batch``; returns scalar diagnostics as detached 0-d tensors on
        the device (``float()`` them when needed: the training loop does so only when it writes a log row, so an
        update does not wait for the GPU)."""
        c = self.config
        batch = batch.to(self.dtype) if batch.obs.dtype != self.dtype else batch
        alpha = self.alpha
        delayed = self.n_updates % c.delay_update == 0
        with torch.no_grad():
            pi_next = self.policy_target if c.target_policy else self.policy
            next_act, next_logp = pi_next.sample(batch.next_obs, self.gens.torch_rng)
        loss_q, info = self.critic_loss(batch, next_act, next_logp, alpha)
        self.critic_opt.zero_grad(set_to_none=True)
        loss_q.backward()
        if delayed:
            # the official order: every gradient is computed before any step, so the policy sees this update's
            # critic parameters before their step
            new_act, logp = self.policy.sample(batch.obs, self.gens.torch_rng)
            q_new = [crit(batch.obs, new_act)[0] for crit in self.critics]
            q_min = q_new[0] if len(q_new) == 1 else torch.min(q_new[0], q_new[1])
            loss_pi = policy_loss(alpha, logp, q_min)
            self.policy_opt.zero_grad(set_to_none=True)
            loss_pi.backward(inputs=self._policy_params)
            info["policy_loss"] = loss_pi.detach()
            info["entropy"] = -logp.detach().mean()
            if c.auto_alpha:
                self.alpha_opt.zero_grad(set_to_none=True)
                alpha_loss(self.log_alpha, logp, self.target_entropy).backward()
        self.critic_opt.step()
        if delayed:
            self.policy_opt.step()
            if c.auto_alpha:
                self.alpha_opt.step()
            polyak(*self._polyak_pairs, c.tau)
        self.n_updates += 1
        info["critic_loss"] = loss_q.detach()
        info["alpha"] = alpha
        return {k: v.detach() for k, v in info.items()}

    # ---- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Networks, targets, optimisers, temperature, moving averages and the update counter."""
        return {
            "policy": self.policy.state_dict(),
            "policy_target": self.policy_target.state_dict(),
            "critics": self.critics.state_dict(),
            "critic_targets": self.critic_targets.state_dict(),
            "log_alpha": self.log_alpha.detach().clone(),
            "critic_opt": self.critic_opt.state_dict(),
            "policy_opt": self.policy_opt.state_dict(),
            "alpha_opt": self.alpha_opt.state_dict(),
            "mean_std": [None if m is None else m.clone() for m in self.mean_std],
            "n_updates": self.n_updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.policy.load_state_dict(state["policy"])
        self.policy_target.load_state_dict(state["policy_target"])
        self.critics.load_state_dict(state["critics"])
        self.critic_targets.load_state_dict(state["critic_targets"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.policy_opt.load_state_dict(state["policy_opt"])
        self.alpha_opt.load_state_dict(state["alpha_opt"])
        self.mean_std = [None if m is None else m.to(self.device) for m in state["mean_std"]]
        self.n_updates = int(state["n_updates"])


# ----------------------------------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """A trained agent, its config and its training log."""

    config: Config
    agent: DSACT
    log: TrainLog


def train(
    config: Config,
    *,
    run_dir: str | Path | None = None,
    progress: bool = True,
    env_fn: Callable[[], gym.Env] | None = None,
    on_checkpoint: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train DSAC-T (or DSAC-v1, SAC: ``config.algorithm``) on ``config.env_id``.

    Args:
        config: :class:`Config` (e.g. ``Config.tiny()``).
        run_dir: where ``metrics.csv``, TensorBoard files and ``checkpoint.pt`` go; a run with the same config
            and ``run_dir`` resumes from its checkpoint.
        progress: show a progress bar.
        env_fn: builds one environment (default ``gymnasium.make(config.env_id, **config.env_kwargs)``).
        on_checkpoint: called with the step after each checkpoint.

    Returns:
        :class:`TrainResult` (the agent and :class:`TrainLog`: evaluation curve, timings).
    """
    device = get_device(config.device)
    gens = make_generators(config.seed, device)
    fn = env_fn or (lambda: make_gym_env(config.env_id, **config.env_kwargs))
    probe = fn()
    try:
        obs_dim, act_dim, low, high = box_action_space(probe, "DSAC-T")
    finally:
        probe.close()
    prev = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        agent = DSACT(obs_dim, act_dim, low, high, config, gens, device)
    finally:
        torch.set_num_threads(prev)
    log = train_off_policy(
        agent, config, gens, device, run_dir=run_dir, progress=progress, on_checkpoint=on_checkpoint, env_fn=fn
    )
    return TrainResult(config, agent, log)


def fit_critic_fixed_policy(
    config: Config,
    obs_dim: int,
    act_dim: int,
    sample_batch: Callable[[np.random.Generator, int], Batch],
    policy: Callable[[torch.Tensor], torch.Tensor],
    n_updates: int,
    *,
    seed: int | np.random.SeedSequence = 0,
    dtype: torch.dtype = torch.float32,
) -> DSACT:
    """Policy evaluation: train only the critics of ``config.algorithm`` for the fixed deterministic ``policy``.

    Each update draws a fresh batch ``sample_batch(rng, config.batch_size)`` (e.g. i.i.d. transitions of a model)
    and uses next actions ``policy(s')`` with temperature 0, so the critics learn the return distribution of
    ``policy`` (the mean ``Q^pi`` and, for the distributional critics, its spread). The targets are Polyak-updated
    every ``delay_update`` updates, as in training.

    Returns:
        The :class:`DSACT` agent (read the critics with :meth:`DSACT.value_distribution`).
    """
    device = get_device(config.device)
    gens = make_generators(seed, device)
    big = np.full(act_dim, 1e6)
    agent = DSACT(obs_dim, act_dim, -big, big, config, gens, device, dtype=dtype)
    zero = torch.zeros((), device=device, dtype=dtype)
    for _ in range(n_updates):
        batch = sample_batch(gens.np_rng, config.batch_size).to(dtype, device)
        with torch.no_grad():
            next_act = policy(batch.next_obs)
        loss, _ = agent.critic_loss(batch, next_act, torch.zeros_like(batch.rew), zero)
        agent.critic_opt.zero_grad(set_to_none=True)
        loss.backward()
        agent.critic_opt.step()
        if agent.n_updates % config.delay_update == 0:
            polyak(list(agent.critic_targets.parameters()), agent._critic_params, config.tau)
        agent.n_updates += 1
    return agent
