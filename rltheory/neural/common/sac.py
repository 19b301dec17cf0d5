"""The pieces of soft actor-critic that the SAC-family learners share (DSAC-T, MBPO's SAC, ...).

* :class:`TanhGaussianPolicy`: ``a = scale * tanh(u) + shift``, ``u ~ N(mu(s), sigma(s)^2)``, with the log-density of
  the squashed, scaled action;
* the clipped double-Q soft target :func:`sac_target` and the losses :func:`sac_critic_loss`, :func:`policy_loss`
  and :func:`alpha_loss` (the temperature loss);
* :func:`polyak` (target networks), :func:`sac_optimizers` (the three Adams) and :func:`default_target_entropy`;
* :func:`box_action_space`: the observation and action sizes and the bounds of an environment whose tanh policy
  needs a bounded ``Box`` action space (a ``ValueError`` naming the method otherwise).

References:
    T. Haarnoja, A. Zhou, P. Abbeel, S. Levine, "Soft Actor-Critic", ICML 2018, arXiv:1801.01290; "Soft
    Actor-Critic Algorithms and Applications", arXiv:1812.05905 (temperature tuning).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rltheory.neural.common.nets import mlp

__all__ = [
    "TanhGaussianPolicy",
    "alpha_loss",
    "box_action_space",
    "default_target_entropy",
    "policy_loss",
    "polyak",
    "sac_critic_loss",
    "sac_optimizers",
    "sac_target",
]

_TANH_EPS = 1e-6  # DSAC-T's official TanhGaussDistribution's EPS in log(1 + EPS - tanh(u)^2)


class TanhGaussianPolicy(nn.Module):
    """``a = scale * tanh(u) + shift``, ``u ~ N(mu(s), sigma(s)^2)``, log-std clamped (DSAC-T's official
    ``StochaPolicy`` with ``std_type="mlp_shared"`` and ``TanhGaussDistribution``; MBPO's softlearning policy is the
    same up to the clamp range and the epsilon of the tanh correction)."""

    scale: torch.Tensor
    shift: torch.Tensor

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        action_low: np.ndarray,
        action_high: np.ndarray,
        hidden: Sequence[int],
        activation: str,
        *,
        log_std_min: float,
        log_std_max: float,
    ) -> None:
        super().__init__()
        self.net = mlp(obs_dim, 2 * act_dim, hidden, activation=activation)
        low, high = torch.as_tensor(action_low, dtype=torch.float32), torch.as_tensor(action_high, dtype=torch.float32)
        self.register_buffer("scale", (high - low) / 2)
        self.register_buffer("shift", (high + low) / 2)
        self.log_std_min, self.log_std_max = log_std_min, log_std_max

    def dist(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and std of the pre-tanh Gaussian, `[B, act_dim]` each."""
        mu, log_std = self.net(obs).chunk(2, dim=-1)
        return mu, log_std.clamp(self.log_std_min, self.log_std_max).exp()

    def sample(self, obs: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised action `[B, act_dim]` and its log-density `[B]` (tanh and scale corrected)."""
        mu, std = self.dist(obs)
        noise = torch.randn(mu.shape, generator=gen, device=mu.device, dtype=mu.dtype)
        u = mu + std * noise
        t = torch.tanh(u)
        logp = (-0.5 * noise.pow(2) - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)
        logp = logp - torch.log(1 + _TANH_EPS - t.pow(2)).sum(-1) - torch.log(self.scale).sum()
        return self.scale * t + self.shift, logp

    def mode(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic action ``scale * tanh(mu) + shift`` (the one evaluations use)."""
        mu, _ = self.dist(obs)
        return self.scale * torch.tanh(mu) + self.shift


# ------------------------------------------------------------------------------------------------------- losses
def sac_critic_loss(q: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """SAC's critic loss ``mean((Q - y)^2) / 2`` with ``y`` detached."""
    return 0.5 * torch.mean((q - y.detach()).pow(2))


def sac_target(
    rew: torch.Tensor,
    done: torch.Tensor,
    gamma: float,
    alpha: float | torch.Tensor,
    q_next: Sequence[torch.Tensor],
    logp_next: torch.Tensor,
) -> torch.Tensor:
    """``r + gamma (1 - d)(min_i Q_bar_i(s', a') - alpha log pi(a'|s'))`` (clipped double-Q soft target)."""
    q = q_next[0]
    for other in q_next[1:]:
        q = torch.min(q, other)
    return rew + gamma * (1.0 - done) * (q - alpha * logp_next)


def policy_loss(alpha: float | torch.Tensor, logp: torch.Tensor, q_min: torch.Tensor) -> torch.Tensor:
    """``mean(alpha log pi(a~|s) - min_i Q_i(s, a~))`` (SAC's reparameterised policy loss)."""
    return torch.mean(alpha * logp - q_min)


def alpha_loss(log_alpha: torch.Tensor, logp: torch.Tensor, target_entropy: float) -> torch.Tensor:
    """``-log alpha * mean(log pi + H)``: alpha grows when the entropy ``-E log pi`` is below ``H``."""
    return -log_alpha * torch.mean(logp.detach() + target_entropy)


# ------------------------------------------------------------------------------------------------ set-up, targets
def polyak(target: Sequence[torch.Tensor], source: Sequence[torch.Tensor], tau: float) -> None:
    """``target <- (1 - tau) target + tau source``, in place, for matching lists of tensors (one foreach kernel)."""
    with torch.no_grad():
        torch._foreach_lerp_(list(target), list(source), tau)


def sac_optimizers(
    critic_params: Iterable[torch.Tensor],
    policy_params: Iterable[torch.Tensor],
    log_alpha: torch.Tensor,
    *,
    value_lr: float,
    policy_lr: float,
    alpha_lr: float,
) -> tuple[torch.optim.Adam, torch.optim.Adam, torch.optim.Adam]:
    """The critic, policy and temperature Adams. ``foreach=True`` is the same arithmetic as the default per-tensor
    loop, with fewer kernel launches."""
    return (
        torch.optim.Adam(list(critic_params), lr=value_lr, foreach=True),
        torch.optim.Adam(list(policy_params), lr=policy_lr, foreach=True),
        torch.optim.Adam([log_alpha], lr=alpha_lr, foreach=True),
    )


def default_target_entropy(act_dim: int, target_entropy: float | None) -> float:
    """``target_entropy``, or SAC's heuristic ``-dim(A)`` when it is None."""
    return -float(act_dim) if target_entropy is None else float(target_entropy)


def box_action_space(env: gym.Env, method: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    """``(obs_dim, act_dim, low, high)`` of ``env`` (flat sizes, float64 bounds); a ``ValueError`` naming ``method``
    unless the action space is a bounded ``Box`` (a tanh policy cannot cover an unbounded one)."""
    space = env.action_space
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"{method} needs Box actions, got {type(space).__name__}")
    if not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
        raise ValueError(f"{method}'s tanh policy needs a bounded action box")
    obs_dim = int(np.prod(env.observation_space.shape or (1,)))
    return obs_dim, int(np.prod(space.shape)), np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
