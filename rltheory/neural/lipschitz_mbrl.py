"""MBPO with an ensemble, a single model, or a single model with a Lipschitz-regularised value function.

Four configurations of one MBPO-style learner (Janner, Fu, Zhang, Levine, "When to Trust Your Model: Model-Based
Policy Optimization", NeurIPS 2019, arXiv:1906.08253; official code ``JannerM/mbpo``), selected by
``Config.variant``:

* ``"ensemble"`` (a): an ensemble of ``ensemble_size`` probabilistic (Gaussian, NLL-trained) dynamics models, the
  ``num_elites`` best on held-out data used for rollouts (a random elite per rollout sample, as MBPO);
* ``"single"`` (b): one probabilistic model (``ensemble_size = num_elites = 1``);
* ``"spectral"`` (c): one model, and both Q networks spectrally normalised: every linear layer divided by its
  largest singular value (``torch.nn.utils.parametrizations.spectral_norm``, one power-iteration step per training
  forward pass; Miyato et al. 2018, arXiv:1802.05957), followed by a frozen output scale ``sn_lipschitz``, so
  ``Lip(Q) <= sn_lipschitz`` (ReLU is 1-Lipschitz) in the Euclidean norm on the ``(s, a)`` input;
* ``"adversarial"`` (d): one model, and the critic loss gets the penalty of :func:`adversarial_penalty`.

**The MBPO loop** (:func:`train`). Real transitions go to a real buffer. After ``warmup_steps`` uniformly random
steps, every ``model_train_freq`` environment steps the model is retrained on all real data (inputs ``(s, a)``
standardised; targets ``(r, s' - s)``; Gaussian NLL of :func:`gaussian_nll_loss` with learnt soft log-variance
bounds; per-layer L2 weight decay; ``holdout_ratio`` of the data (at most 5,000) held out; training stops when no
member improved its held-out MSE by 1% for ``model_patience`` epochs, or after ``model_max_epochs``; each member
keeps its best snapshot; the elites are the ``num_elites`` lowest held-out MSEs) and ``rollout_batch_size`` real
states are rolled ``k`` steps through the model with the current stochastic policy (``k`` from
``rollout_schedule = (min_epoch, max_epoch, min_len, max_len)``, linear in the epoch ``step // epoch_length``);
model transitions fill a FIFO model buffer holding ``model_retain_epochs`` epochs of rollouts. Every environment
step then runs ``updates_per_iteration`` SAC updates on batches of ``real_ratio`` real and ``1 - real_ratio``
model transitions. SAC is the MBPO/softlearning version: twin Q networks, targets ``r + gamma (1 - d)(min_i
Q_bar_i(s', a') - alpha log pi(a'|s'))`` with ``a'`` from the *current* policy, Polyak updates every step, learnt
temperature. Its pieces are reused from :mod:`rltheory.neural.dsac_t` (:class:`TanhGaussianPolicy`,
:func:`sac_critic_loss`, :func:`policy_loss`, :func:`alpha_loss`); replay buffers, MLPs, spectral norm, seeding
and evaluation come from :mod:`rltheory.neural.common`.

**What is inferred (the paper's method section, losses and hyperparameters could not be read here; see
``shared/research/theory-papers.md`` §3).** The paper (R. Zheng, X. Wang, H. Xu, F. Huang, "Is Model Ensemble
Necessary? Model-based RL via a Single Model with Lipschitz Regularized Value Function", ICLR 2023,
arXiv:2302.01244) names two mechanisms, "computing the adversarial noise" and "regularizing the value network's
spectral norm", applied to the value function of MBPO with a single model. The forms implemented here are
generic ones:

* spectral norm on *every* layer of both Q networks with a fixed output scale ``sn_lipschitz`` (a hard Lipschitz
  budget that :func:`rltheory.lipschitz.lipschitz_upper_bound` certifies). Whether the paper normalises every layer,
  and with what scale, is unknown; a 1-Lipschitz Q cannot span Pendulum's return range (about 0 to -1,500 over
  states a few units apart), hence the scale, chosen per task (``tiny``: 300);
* the adversarial penalty ``lambda E[(Q(s + delta*, a) - Q(s, a))^2]`` on the states of each SAC batch (real and
  model), ``delta*`` found by ``adv_steps`` steps of projected signed-gradient ascent (PGD, Madry et al. 2018)
  from a uniform random start in the box ``|delta_j| <= adv_epsilon * sigma_j`` (``sigma_j``: the standard
  deviation of state coordinate ``j`` in the real buffer), with ``lambda = adv_weight``. The norm, radius, number
  of steps, weight, and whether the paper perturbs states, next states or targets are not known;
* the value-aware model error (the paper's central diagnostic) is measured as
  ``mean_i |E_{s' ~ model(s_i, a_i)} V(s') - V(s'_i)|`` over held-out *real* transitions ``(s_i, a_i, s'_i)``
  collected with the final stochastic policy after training (never trained on), with ``V(s) = min_j Q_j(s,
  pi_det(s))`` the learnt value and the model expectation a Monte-Carlo mean over ``vame_samples`` draws (ensemble:
  a random elite per draw, as in rollouts). For a deterministic environment such as Pendulum, ``V(s'_i)`` is the
  exact real expectation; for stochastic ones it is a one-sample estimate (unbiased, so the mean absolute error is
  then an upper estimate). The paper's exact definition is not known.

The Lipschitz constant of each Q network is reported as the spectral-norm product (an upper bound, rigorous up to
float64 round-off) and a sampled lower bound (largest Jacobian norm and difference ratio at real ``(s, a)`` points
and random pairs in their bounding box), both from :mod:`rltheory.lipschitz`, in the units of the raw observation
and action.

Not supported (raise): vector environments (``num_envs > 1``), checkpoint/resume, TensorBoard.
"""

from __future__ import annotations

import copy
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from tqdm.auto import tqdm

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.device import get_device
from rltheory.neural.common.nets import mlp
from rltheory.neural.common.replay import Batch, ReplayBuffer
from rltheory.neural.common.seeding import Generators, init_scope, make_generators
from rltheory.neural.common.training import (
    MetricsLogger,
    TrainLog,
    accumulate_metrics,
    evaluate,
    make_gym_env,
    metrics_to_floats,
)
from rltheory.neural.dsac_t import TanhGaussianPolicy, alpha_loss, policy_loss, sac_critic_loss

__all__ = [
    "VARIANTS",
    "Config",
    "GaussianEnsemble",
    "MBPOAgent",
    "QNetwork",
    "TrainResult",
    "adversarial_penalty",
    "adversarial_perturbation",
    "compare",
    "gaussian_nll_loss",
    "report_table",
    "sac_target",
    "soft_clamp_logvar",
    "train",
    "value_aware_error",
]

#: Configuration names, with the issue's letters: a ensemble, b single, c spectral, d adversarial.
VARIANTS = ("ensemble", "single", "spectral", "adversarial")
VARIANT_LETTERS = {"ensemble": "a", "single": "b", "spectral": "c", "adversarial": "d"}


# ------------------------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class Config(TrainConfig):
    """MBPO hyperparameters (plus the loop fields of :class:`TrainConfig`; ``updates_per_iteration`` is MBPO's
    ``n_train_repeat``, SAC updates per environment step; ``batch_size`` the SAC batch).

    Attributes:
        variant: one of :data:`VARIANTS`.
        ensemble_size, num_elites: models trained and models used in rollouts (forced to 1 for the single-model
            variants).
        model_hidden, model_activation: dynamics-network widths and activation (MBPO: 4 x 200, swish = SiLU).
        model_lr: Adam learning rate of the model.
        model_weight_decay: L2 coefficients per model layer (the last one repeats if there are fewer than layers).
        model_batch_size: model minibatch size.
        model_train_freq: environment steps between model retraining (and rollouts).
        model_max_epochs: cap on model epochs per retraining (None: only the early stop).
        model_patience: early stop after this many epochs without a 1% held-out improvement of any member.
        holdout_ratio: fraction of real data held out (at most 5,000 transitions) for early stopping and elites.
        rollout_batch_size: real start states per rollout round.
        rollout_schedule: ``(min_epoch, max_epoch, min_len, max_len)``: rollout length grows linearly from
            ``min_len`` to ``max_len`` between these epochs.
        epoch_length: environment steps per MBPO epoch.
        model_retain_epochs: epochs of model rollouts kept in the model buffer.
        real_ratio: fraction of real transitions in each SAC batch.
        hidden, activation: SAC network widths and activation.
        value_lr, policy_lr, alpha_lr: SAC Adam learning rates.
        gamma, tau: discount and Polyak rate.
        init_alpha: initial temperature; target_entropy: None for ``-dim(A)``.
        log_std_min, log_std_max: policy log-std clamp.
        sn_lipschitz: Lipschitz budget of each spectrally normalised Q network (variant ``"spectral"``).
        adv_epsilon: perturbation radius in units of each state coordinate's std (variant ``"adversarial"``).
        adv_steps: projected gradient-ascent steps for the perturbation.
        adv_weight: weight ``lambda`` of the adversarial penalty.
        vame_transitions: held-out real transitions for the value-aware model error.
        vame_samples: model draws per transition for the model expectation.
        lipschitz_points: real ``(s, a)`` points for the sampled Lipschitz lower bound.
        lipschitz_every_eval: also estimate the Lipschitz bounds at every evaluation (otherwise only at the end).
    """

    variant: str = "ensemble"
    ensemble_size: int = 7
    num_elites: int = 5
    model_hidden: tuple[int, ...] = (200, 200, 200, 200)
    model_activation: str = "silu"
    model_lr: float = 1e-3
    model_weight_decay: tuple[float, ...] = (2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4)
    model_batch_size: int = 256
    model_train_freq: int = 250
    model_max_epochs: int | None = None
    model_patience: int = 5
    holdout_ratio: float = 0.2
    rollout_batch_size: int = 100_000
    rollout_schedule: tuple[int, int, int, int] = (20, 150, 1, 15)
    epoch_length: int = 1000
    model_retain_epochs: int = 1
    real_ratio: float = 0.05
    hidden: tuple[int, ...] = (256, 256)
    activation: str = "relu"
    value_lr: float = 3e-4
    policy_lr: float = 3e-4
    alpha_lr: float = 3e-4
    gamma: float = 0.99
    tau: float = 5e-3
    init_alpha: float = 1.0
    target_entropy: float | None = None
    log_std_min: float = -20.0
    log_std_max: float = 2.0
    sn_lipschitz: float = 300.0
    adv_epsilon: float = 0.05
    adv_steps: int = 1
    adv_weight: float = 1.0
    vame_transitions: int = 1000
    vame_samples: int = 20
    lipschitz_points: int = 512
    lipschitz_every_eval: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if self.num_envs != 1:
            raise ValueError("MBPO here runs one environment (num_envs=1)")
        if self.checkpoint_every:
            raise ValueError("checkpoint/resume is not implemented for MBPO (checkpoint_every must be 0)")
        if self.tensorboard:
            raise ValueError("tensorboard is not supported by the MBPO loop (metrics.csv is written)")
        if not 1 <= self.num_elites <= self.ensemble_size:
            raise ValueError(f"need 1 <= num_elites <= ensemble_size, got {self.num_elites}, {self.ensemble_size}")
        if not 0 <= self.real_ratio <= 1:
            raise ValueError(f"real_ratio must be in [0, 1], got {self.real_ratio}")
        if not 0 < self.holdout_ratio < 1:
            raise ValueError(f"holdout_ratio must be in (0, 1), got {self.holdout_ratio}")
        lo_e, hi_e, lo_k, hi_k = self.rollout_schedule
        if lo_k < 1 or hi_k < lo_k or hi_e < lo_e:
            raise ValueError(f"bad rollout_schedule {self.rollout_schedule}")
        for name in ("model_lr", "value_lr", "policy_lr", "alpha_lr", "sn_lipschitz", "init_alpha"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.gamma < 1 or not 0 < self.tau <= 1:
            raise ValueError(f"need 0 < gamma < 1 and 0 < tau <= 1, got {self.gamma}, {self.tau}")
        if self.adv_epsilon < 0 or self.adv_weight < 0 or self.adv_steps < 0:
            raise ValueError("adv_epsilon, adv_weight and adv_steps must be >= 0")
        for name in ("model_batch_size", "model_train_freq", "model_patience", "rollout_batch_size", "epoch_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")

    @property
    def n_models(self) -> int:
        """Models actually trained: ``ensemble_size`` for ``"ensemble"``, else 1."""
        return self.ensemble_size if self.variant == "ensemble" else 1

    @property
    def n_elites(self) -> int:
        """Models used in rollouts: ``num_elites`` for ``"ensemble"``, else 1."""
        return self.num_elites if self.variant == "ensemble" else 1

    @classmethod
    def paper(cls, **overrides: Any) -> Self:
        """MBPO's official Hopper defaults (``JannerM/mbpo``: ``examples/config/hopper/0.py``,
        ``mbpo/models/constructor.py``, ``examples/development/variants.py``, as recorded in
        ``shared/research/theory-papers.md`` §3.3): 7 models / 5 elites, 4 x 200 swish, lr 1e-3, per-layer weight
        decay 2.5e-5 ... 1e-4, model retrained every 250 steps, 1e5 rollout starts, schedule [20, 150, 1, 15],
        epoch 1,000 steps, 1 retained epoch, real ratio 0.05, 20 SAC updates per step, SAC 2 x 256 ReLU, lr 3e-4,
        gamma 0.99, tau 5e-3, batch 256, target entropy -1, 5,000 random initial steps. The number of epochs
        (125 for Hopper, MBPO paper Fig. 2) and the 1e6 real buffer are from the paper's plots/code as recalled,
        not re-read here. The Lipschitz knobs (``sn_lipschitz``, ``adv_*``) are not MBPO's and not known from the
        Zheng et al. paper: they stay at this module's defaults (inferred)."""
        base = cls(
            env_id="Hopper-v5",
            total_steps=125_000,
            warmup_steps=5_000,
            warmup_random=True,
            updates_per_iteration=20,
            batch_size=256,
            buffer_size=1_000_000,
            eval_every=1_000,
            eval_episodes=5,
            log_every=1_000,
            target_entropy=-1.0,
        )
        return base.replace(**overrides)

    @classmethod
    def tiny(cls, **overrides: Any) -> Self:
        """A CPU preset for Pendulum-v1 (about a minute or two per configuration on one core): 3,000 steps (15
        episodes), 500 random steps, 5 SAC updates per step, 2 x 64 SAC networks (critic lr 1e-3), 5 models / 3
        elites of 3 x 64 SiLU trained 50 epochs (batch 128) per retraining, warm-started (MBPO's 1%-improvement early
        stop with patience 5 halts after a few epochs on a few hundred transitions, leaving a model no better than
        the mean: measured, reward RMSE 1.3 against a std of 3.6), retraining every 250 steps, 400
        rollout starts of length 1 -> 5 over the first 3 epochs of 1,000 steps, 5 retained epochs, real ratio 0.1,
        5 evaluation episodes every 500 steps, ``sn_lipschitz = 300``."""
        base = cls(
            env_id="Pendulum-v1",
            total_steps=3_000,
            warmup_steps=500,
            warmup_random=True,
            updates_per_iteration=5,
            batch_size=256,
            buffer_size=100_000,
            eval_every=500,
            eval_episodes=5,
            log_every=500,
            ensemble_size=5,
            num_elites=3,
            model_hidden=(64, 64, 64),
            model_weight_decay=(2.5e-5, 5e-5, 7.5e-5, 1e-4),
            model_batch_size=128,
            model_max_epochs=50,
            model_patience=50,
            rollout_batch_size=400,
            rollout_schedule=(0, 3, 1, 5),
            model_retain_epochs=5,
            real_ratio=0.1,
            hidden=(64, 64),
            value_lr=1e-3,
            vame_transitions=400,
            lipschitz_points=256,
        )
        return base.replace(**overrides)


# ------------------------------------------------------------------------------------------------------ losses
def soft_clamp_logvar(logvar: torch.Tensor, max_logvar: torch.Tensor, min_logvar: torch.Tensor) -> torch.Tensor:
    """MBPO's differentiable bound: ``max - softplus(max - v)``, then ``min + softplus(. - min)``."""
    logvar = max_logvar - torch.nn.functional.softplus(max_logvar - logvar)
    return min_logvar + torch.nn.functional.softplus(logvar - min_logvar)


def gaussian_nll_loss(
    mean: torch.Tensor,
    logvar: torch.Tensor,
    target: torch.Tensor,
    max_logvar: torch.Tensor | None = None,
    min_logvar: torch.Tensor | None = None,
    *,
    bound_coef: float = 0.01,
) -> torch.Tensor:
    """MBPO's ensemble NLL: ``sum_e mean_{b,j}[(mu - y)^2 exp(-logvar) + logvar] + c (sum max_logvar - sum
    min_logvar)`` (the Gaussian NLL up to a factor 2 and a constant; the last term keeps the learnt bounds tight).

    Args:
        mean, logvar: ``[E, B, D]`` predictions of the ``E`` members; target: ``[E, B, D]`` or ``[B, D]``.
        max_logvar, min_logvar: ``[D]`` learnt bounds (the penalty is skipped when None).
        bound_coef: ``c`` (MBPO: 0.01).
    """
    if mean.ndim == 2:
        mean, logvar = mean[None], logvar[None]
    err = (mean - target).pow(2) * torch.exp(-logvar) + logvar
    loss = err.mean(dim=(1, 2)).sum()
    if max_logvar is not None and min_logvar is not None:
        loss = loss + bound_coef * (max_logvar.sum() - min_logvar.sum())
    return loss


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


def adversarial_perturbation(
    q_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    obs: torch.Tensor,
    act: torch.Tensor,
    radius: torch.Tensor | float,
    n_steps: int,
    gen: torch.Generator | None = None,
) -> torch.Tensor:
    """``delta* ~ argmax_{|delta_j| <= radius_j} (Q(s + delta, a) - Q(s, a))^2`` by projected signed-gradient
    ascent: a uniform random start in the box, then ``n_steps`` steps of size ``2.5 radius / max(n_steps, 1)``
    along ``sign(grad)``, each projected back onto the box. Returns a detached ``[B, obs_dim]`` perturbation. With
    ``n_steps = 0`` it is the random start (random-noise smoothing)."""
    r = torch.as_tensor(radius, dtype=obs.dtype, device=obs.device)
    u = torch.rand(obs.shape, generator=gen, device=obs.device, dtype=obs.dtype)
    delta = (2.0 * u - 1.0) * r
    obs0, act0 = obs.detach(), act.detach()
    with torch.no_grad():
        q0 = q_fn(obs0, act0)
    step = 2.5 * r / max(n_steps, 1)
    for _ in range(n_steps):
        d = delta.detach().requires_grad_(True)
        gap = (q_fn(obs0 + d, act0) - q0).pow(2).sum()
        (g,) = torch.autograd.grad(gap, d)
        delta = torch.max(torch.min(delta + step * torch.sign(g), r), -r)
    return delta.detach()


def adversarial_penalty(
    q_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    obs: torch.Tensor,
    act: torch.Tensor,
    delta: torch.Tensor,
) -> torch.Tensor:
    """``mean((Q(s + delta, a) - Q(s, a))^2)``, differentiable in the Q network (``delta`` fixed): zero for a
    network that does not depend on the state, at most ``Lip(Q)^2 mean ||delta||^2``."""
    return torch.mean((q_fn(obs + delta.detach(), act) - q_fn(obs, act)).pow(2))


def value_aware_error(v_model_next: torch.Tensor | np.ndarray, v_real_next: torch.Tensor | np.ndarray) -> float:
    """``mean_i |mean_k v_model_next[i, k] - v_real_next[i]|``: the value-aware model error from ``[N, K]`` values of
    ``K`` model draws of ``s'`` and ``[N]`` values of the real ``s'``."""
    vm = np.asarray(torch.as_tensor(v_model_next).detach().cpu(), dtype=np.float64)
    vr = np.asarray(torch.as_tensor(v_real_next).detach().cpu(), dtype=np.float64)
    if vm.ndim == 1:
        vm = vm[:, None]
    return float(np.mean(np.abs(vm.mean(axis=1) - vr)))


# -------------------------------------------------------------------------------------------------- dynamics
class _EnsembleLinear(nn.Module):
    """``E`` independent linear layers applied as one batched matmul: ``[E, B, in] -> [E, B, out]``."""

    def __init__(self, n: int, d_in: int, d_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n, d_in, d_out))
        self.bias = nn.Parameter(torch.zeros(n, 1, d_out))
        bound = 1.0 / math.sqrt(d_in)  # nn.Linear's default (kaiming-uniform, a = sqrt(5)) range
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class GaussianEnsemble(nn.Module):
    """``E`` probabilistic dynamics models ``(s, a) -> N(mu, diag(exp(logvar)))`` over ``(r, s' - s)``.

    Inputs are standardised with statistics fitted by :meth:`fit_scaler`; log-variances are soft-clamped to learnt
    bounds (:func:`soft_clamp_logvar`, initial max 0.5, min -10, as MBPO).
    """

    in_mean: torch.Tensor
    in_std: torch.Tensor

    def __init__(self, n: int, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str) -> None:
        super().__init__()
        self.n, self.obs_dim, self.act_dim = n, obs_dim, act_dim
        self.out_dim = obs_dim + 1
        sizes = [obs_dim + act_dim, *hidden, 2 * self.out_dim]
        self.layers = nn.ModuleList(_EnsembleLinear(n, sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))
        acts = {"silu": nn.SiLU, "relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "elu": nn.ELU}
        if activation not in acts:
            raise ValueError(f"model_activation must be one of {sorted(acts)}, got {activation!r}")
        self.act = acts[activation]()
        self.max_logvar = nn.Parameter(torch.full((self.out_dim,), 0.5))
        self.min_logvar = nn.Parameter(torch.full((self.out_dim,), -10.0))
        self.register_buffer("in_mean", torch.zeros(obs_dim + act_dim))
        self.register_buffer("in_std", torch.ones(obs_dim + act_dim))
        self.elites: list[int] = list(range(n))

    def fit_scaler(self, inputs: torch.Tensor) -> None:
        """Standardise inputs with the mean and std of ``inputs`` (std floored at 1e-12 -> 1)."""
        with torch.no_grad():
            self.in_mean.copy_(inputs.mean(0))
            std = inputs.std(0)
            self.in_std.copy_(torch.where(std < 1e-12, torch.ones_like(std), std))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: ``[E, B, in]`` or ``[B, in]`` (shared by all members) -> mean, logvar ``[E, B, out]``."""
        if x.ndim == 2:
            x = x.unsqueeze(0).expand(self.n, *x.shape)
        h = (x - self.in_mean) / self.in_std
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = self.act(h)
        mean, logvar = h.split(self.out_dim, dim=-1)
        return mean, soft_clamp_logvar(logvar, self.max_logvar, self.min_logvar)

    def weight_decay_loss(self, decays: Sequence[float]) -> torch.Tensor:
        """``sum_l decay_l * ||W_l||^2 / 2`` (per-layer L2, MBPO)."""
        total = torch.zeros((), device=self.in_mean.device)
        for i, layer in enumerate(self.layers):
            d = decays[min(i, len(decays) - 1)] if decays else 0.0
            w = layer.weight
            assert isinstance(w, torch.Tensor)
            total = total + 0.5 * d * w.pow(2).sum()
        return total

    @torch.no_grad()
    def sample(
        self, obs: torch.Tensor, act: torch.Tensor, gen: torch.Generator, members: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One draw of ``(r, s')`` per row, each row from the member ``members[i]`` (default: a random elite)."""
        mean, logvar = self(torch.cat([obs, act], dim=-1))
        B = obs.shape[0]
        if members is None:
            elites = torch.as_tensor(self.elites, device=obs.device)
            members = elites[torch.randint(0, len(self.elites), (B,), generator=gen, device=obs.device)]
        rows = torch.arange(B, device=obs.device)
        mu, lv = mean[members, rows], logvar[members, rows]
        noise = torch.randn(mu.shape, generator=gen, device=mu.device, dtype=mu.dtype)
        out = mu + torch.exp(0.5 * lv) * noise
        return out[:, 0], obs + out[:, 1:]


def _train_model(
    model: GaussianEnsemble, opt: torch.optim.Optimizer, buf: ReplayBuffer, c: Config, rng: np.random.Generator
) -> dict[str, float]:
    """Retrain ``model`` on all of ``buf`` (MBPO's ``_train`` with a holdout, early stop and elite selection)."""
    n = len(buf)
    obs, act, rew, nxt = buf.obs[:n], buf.act[:n], buf.rew[:n], buf.next_obs[:n]
    inputs = torch.cat([obs, act], dim=-1)
    targets = torch.cat([rew[:, None], nxt - obs], dim=-1)
    perm = torch.as_tensor(rng.permutation(n), device=inputs.device)
    n_hold = min(int(n * c.holdout_ratio), 5000)
    n_hold = max(n_hold, 1) if n > 1 else 0
    hold, train_idx = perm[:n_hold], perm[n_hold:]
    if len(train_idx) == 0:
        train_idx = hold
    model.fit_scaler(inputs[train_idx])
    E = model.n
    best = [float("inf")] * E
    snaps: list[dict[str, torch.Tensor] | None] = [None] * E
    since, epoch = 0, 0
    n_tr = len(train_idx)
    recent: deque[torch.Tensor] = deque(maxlen=10)  # the last minibatch losses, on the device (no sync per step)

    def holdout_mse() -> np.ndarray:
        with torch.no_grad():
            if n_hold == 0:
                return np.zeros(E)
            mean, _ = model(inputs[hold])
            return ((mean - targets[hold]) ** 2).mean(dim=(1, 2)).cpu().numpy()

    while True:
        idx = torch.stack([train_idx[torch.as_tensor(rng.permutation(n_tr), device=inputs.device)] for _ in range(E)])
        for start in range(0, n_tr, c.model_batch_size):
            b = idx[:, start : start + c.model_batch_size]
            mean, logvar = model(inputs[b])
            loss = gaussian_nll_loss(mean, logvar, targets[b], model.max_logvar, model.min_logvar)
            loss = loss + model.weight_decay_loss(c.model_weight_decay)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            recent.append(loss.detach())
        epoch += 1
        mse = holdout_mse()
        improved = False
        for e in range(E):
            if best[e] == float("inf") or (best[e] - mse[e]) / max(abs(best[e]), 1e-12) > 0.01:
                best[e] = float(mse[e])
                snaps[e] = {k: v[e].detach().clone() for k, v in _member_params(model).items()}
                improved = True
        since = 0 if improved else since + 1
        if since >= c.model_patience or (c.model_max_epochs is not None and epoch >= c.model_max_epochs):
            break
    with torch.no_grad():
        params = _member_params(model)
        for e in range(E):
            if snaps[e] is not None:
                for k, v in snaps[e].items():  # type: ignore[union-attr]
                    params[k][e].copy_(v)
    mse = holdout_mse()
    model.elites = [int(i) for i in np.argsort(mse)[: c.n_elites]]
    return {
        "model/epochs": float(epoch),
        "model/train_loss": float(np.mean(torch.stack(list(recent)).double().tolist())) if recent else float("nan"),
        "model/holdout_mse": float(np.mean(mse[model.elites])),
    }


def _member_params(model: GaussianEnsemble) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": getattr(layer, k) for i, layer in enumerate(model.layers) for k in ("weight", "bias")}


# ------------------------------------------------------------------------------------------------- termination
def _termination_fn(env_id: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
    """MBPO's static termination functions (``mbpo/static``) for model rollouts; none for other tasks."""
    name = env_id.split("/")[-1].split("-")[0]

    def never(obs: torch.Tensor, act: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        return torch.zeros(nxt.shape[0], dtype=torch.bool, device=nxt.device)

    def hopper(obs: torch.Tensor, act: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        height, angle = nxt[:, 0], nxt[:, 1]
        healthy = torch.isfinite(nxt).all(-1) & (nxt[:, 1:].abs() < 100).all(-1) & (height > 0.7) & (angle.abs() < 0.2)
        return ~healthy

    def walker(obs: torch.Tensor, act: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        height, angle = nxt[:, 0], nxt[:, 1]
        return ~((height > 0.8) & (height < 2.0) & (angle > -1.0) & (angle < 1.0))

    def ant(obs: torch.Tensor, act: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        x = nxt[:, 0]
        return ~(torch.isfinite(nxt).all(-1) & (x >= 0.2) & (x <= 1.0))

    def humanoid(obs: torch.Tensor, act: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        z = nxt[:, 0]
        return ~((z > 1.0) & (z < 2.0))

    fns = {"Hopper": hopper, "Walker2d": walker, "Ant": ant, "Humanoid": humanoid}
    return fns.get(name, never)


# ------------------------------------------------------------------------------------------------------ agent
class QNetwork(nn.Module):
    """``Q(s, a) = net([s, a])``. With ``lipschitz`` set, every linear layer is spectrally normalised and a frozen
    ``nn.Linear(1, 1)`` of weight ``lipschitz`` follows, so ``net`` (an ``nn.Sequential`` the bounds of
    :mod:`rltheory.lipschitz` read directly) has ``Lip <= lipschitz`` for 1-Lipschitz activations."""

    def __init__(
        self, obs_dim: int, act_dim: int, hidden: Sequence[int], activation: str, *, lipschitz: float | None = None
    ) -> None:
        super().__init__()
        body = mlp(obs_dim + act_dim, 1, hidden, activation=activation, spectral_norm=lipschitz is not None)
        if lipschitz is None:
            self.net: nn.Sequential = body
        else:
            scale = nn.Linear(1, 1, bias=False)
            with torch.no_grad():
                scale.weight.fill_(float(lipschitz))
            scale.weight.requires_grad_(False)
            self.net = nn.Sequential(body, scale)
        self.lipschitz = lipschitz

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """``[B]`` values."""
        return self.net(torch.cat([obs, act], dim=-1))[..., 0]


def _polyak(target: Sequence[torch.Tensor], source: Sequence[torch.Tensor], tau: float) -> None:
    with torch.no_grad():
        torch._foreach_lerp_(list(target), list(source), tau)


class MBPOAgent:
    """The SAC learner of MBPO (module docstring), with the variant's Q regularisation.

    Args:
        obs_dim, act_dim: flat sizes; action_low, action_high: the action box.
        config: :class:`Config`; gens: random streams (init from ``gens.init_seed``, noise from ``gens.torch_rng``).
        device: where the networks live.
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
    ) -> None:
        c = config
        self.config, self.gens, self.device = c, gens, torch.device(device)
        lip = c.sn_lipschitz if c.variant == "spectral" else None
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
                [QNetwork(obs_dim, act_dim, c.hidden, c.activation, lipschitz=lip) for _ in range(2)]
            )
        self.policy.to(self.device)
        self.critics.to(self.device)
        self.critic_targets = copy.deepcopy(self.critics).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(c.init_alpha), device=self.device, requires_grad=True)
        self._critic_params = [p for p in self.critics.parameters() if p.requires_grad]
        self._target_params = [p for p in self.critic_targets.parameters()]
        self._source_params = [p for p in self.critics.parameters()]
        self.critic_opt = torch.optim.Adam(self._critic_params, lr=c.value_lr, foreach=True)
        self._policy_params = list(self.policy.parameters())
        self.policy_opt = torch.optim.Adam(self._policy_params, lr=c.policy_lr, foreach=True)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=c.alpha_lr, foreach=True)
        self.target_entropy = -float(act_dim) if c.target_entropy is None else float(c.target_entropy)
        self.obs_std = torch.ones(obs_dim, device=self.device)  # perturbation scale of the adversarial variant
        self.n_updates = 0

    @torch.no_grad()
    def act(self, obs: torch.Tensor, *, deterministic: bool) -> torch.Tensor:
        """Actions for observations ``[B, obs_dim]``."""
        return self.policy.mode(obs) if deterministic else self.policy.sample(obs, self.gens.torch_rng)[0]

    def q_min(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """``min_i Q_i(s, a)``."""
        return torch.min(self.critics[0](obs, act), self.critics[1](obs, act))

    @torch.no_grad()
    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """``V(s) = min_i Q_i(s, pi_det(s))`` (used for the value-aware model error)."""
        return self.q_min(obs, self.policy.mode(obs))

    def update(self, batch: Batch) -> dict[str, torch.Tensor]:
        """One SAC update (with the variant's penalty); returns diagnostics as detached 0-d tensors on the device
        (no host sync; :func:`train` converts them to floats only when it writes a log row)."""
        c = self.config
        alpha = self.log_alpha.detach().exp()
        with torch.no_grad():
            next_act, next_logp = self.policy.sample(batch.next_obs, self.gens.torch_rng)
            q_next = [t(batch.next_obs, next_act) for t in self.critic_targets]
            y = sac_target(batch.rew, batch.done, c.gamma, alpha, q_next, next_logp)
        info: dict[str, torch.Tensor] = {}
        # spectral norm: the normalised weights are computed once per pass (one power-iteration step), not once
        # per forward call
        with parametrize.cached():
            qs = [crit(batch.obs, batch.act) for crit in self.critics]
            loss_q = sac_critic_loss(qs[0], y) + sac_critic_loss(qs[1], y)
            if c.variant == "adversarial" and c.adv_weight > 0 and c.adv_epsilon > 0:
                radius = c.adv_epsilon * self.obs_std
                pen = torch.zeros((), device=self.device)
                for crit in self.critics:
                    delta = adversarial_perturbation(
                        crit, batch.obs, batch.act, radius, c.adv_steps, self.gens.torch_rng
                    )
                    pen = pen + adversarial_penalty(crit, batch.obs, batch.act, delta)
                loss_q = loss_q + c.adv_weight * pen
                info["adv_penalty"] = pen.detach()
            self.critic_opt.zero_grad(set_to_none=True)
            loss_q.backward()
        self.critic_opt.step()

        with parametrize.cached():
            new_act, logp = self.policy.sample(batch.obs, self.gens.torch_rng)
            loss_pi = policy_loss(alpha, logp, self.q_min(batch.obs, new_act))
            self.policy_opt.zero_grad(set_to_none=True)
            loss_pi.backward(inputs=self._policy_params)
        self.policy_opt.step()
        self.alpha_opt.zero_grad(set_to_none=True)
        alpha_loss(self.log_alpha, logp, self.target_entropy).backward()
        self.alpha_opt.step()
        _polyak(self._target_params, self._source_params, c.tau)
        self.n_updates += 1
        info.update(
            critic_loss=loss_q.detach(),
            policy_loss=loss_pi.detach(),
            alpha=alpha,
            q_mean=qs[0].detach().mean(),
        )
        return info

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers and temperature."""
        return {
            "policy": self.policy.state_dict(),
            "critics": self.critics.state_dict(),
            "critic_targets": self.critic_targets.state_dict(),
            "log_alpha": self.log_alpha.detach().clone(),
            "critic_opt": self.critic_opt.state_dict(),
            "policy_opt": self.policy_opt.state_dict(),
            "alpha_opt": self.alpha_opt.state_dict(),
            "n_updates": self.n_updates,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.policy.load_state_dict(state["policy"])
        self.critics.load_state_dict(state["critics"])
        self.critic_targets.load_state_dict(state["critic_targets"])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.critic_opt.load_state_dict(state["critic_opt"])
        self.policy_opt.load_state_dict(state["policy_opt"])
        self.alpha_opt.load_state_dict(state["alpha_opt"])
        self.n_updates = int(state["n_updates"])


# ----------------------------------------------------------------------------------------------------- results
@dataclass
class TrainResult:
    """One MBPO run.

    Attributes:
        config: the run's config; agent: the SAC learner; model: the dynamics ensemble; log: the training log
            (evaluation curve, episodes, update counts and times; ``log.extra`` has the Lipschitz curves).
        q_lipschitz_upper: spectral-norm product bound of each Q network at the end.
        q_lipschitz_lower: sampled lower bound of each Q network at the end.
        value_aware_error: value-aware model error at the end (module docstring), in return units.
        value_aware_error_rel: the same divided by ``mean |V(s')|`` over the held-out transitions.
        wall_time_s: the whole run (including evaluations and diagnostics).
        compute_time_s: wall time of environment steps, model training, rollouts and SAC updates (no evaluation,
            no diagnostics).
        compute_cpu_s: process CPU time of the same (the measure the claim compares: on a shared machine it is
            far less sensitive to other processes than wall time; with ``threads=1`` it tracks single-core wall
            time).
        model_time_s, rollout_time_s, update_time_s: parts of ``compute_time_s``.
    """

    config: Config
    agent: MBPOAgent
    model: GaussianEnsemble
    log: TrainLog
    q_lipschitz_upper: tuple[float, ...]
    q_lipschitz_lower: tuple[float, ...]
    value_aware_error: float
    value_aware_error_rel: float
    wall_time_s: float
    compute_time_s: float
    compute_cpu_s: float
    model_time_s: float
    rollout_time_s: float
    update_time_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def final_return(self) -> float:
        """Mean return of the last evaluation."""
        return self.log.final_return

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable measurements (learning curve included)."""
        return {
            "variant": self.config.variant,
            "eval_steps": self.log.eval_steps.tolist(),
            "eval_return_mean": self.log.eval_returns.mean(axis=1).tolist(),
            "final_return": self.final_return,
            "q_lipschitz_upper": max(self.q_lipschitz_upper),
            "q_lipschitz_lower": max(self.q_lipschitz_lower),
            "value_aware_error": self.value_aware_error,
            "value_aware_error_rel": self.value_aware_error_rel,
            "wall_time_s": self.wall_time_s,
            "compute_time_s": self.compute_time_s,
            "compute_cpu_s": self.compute_cpu_s,
            "model_time_s": self.model_time_s,
            "rollout_time_s": self.rollout_time_s,
            "update_time_s": self.update_time_s,
            "n_updates": self.log.n_updates,
        }


def q_lipschitz(agent: MBPOAgent, points: torch.Tensor, seed: int = 0) -> tuple[list[float], list[float]]:
    """Upper (spectral-norm product) and sampled lower Lipschitz bounds of each Q network, on ``(s, a)`` inputs;
    the lower bound evaluates Jacobians at ``points`` ``[N, obs_dim + act_dim]`` and difference ratios of random
    pairs in their bounding box."""
    from rltheory.lipschitz import lipschitz_lower_bound, lipschitz_upper_bound

    lo = float(points.min()) if points.numel() else -1.0
    hi = float(points.max()) if points.numel() else 1.0
    if not hi > lo:
        hi = lo + 1.0
    ups, lows = [], []
    for crit in agent.critics:
        ups.append(lipschitz_upper_bound(crit.net).value)
        lows.append(
            lipschitz_lower_bound(crit.net, points, n_pairs=max(3, points.shape[0]), low=lo, high=hi, seed=seed).value
        )
    return ups, lows


def _rollout_length(c: Config, step: int) -> int:
    lo_e, hi_e, lo_k, hi_k = c.rollout_schedule
    epoch = step // c.epoch_length
    if epoch <= lo_e or hi_e == lo_e:
        return lo_k if epoch <= lo_e else hi_k
    frac = min(1.0, (epoch - lo_e) / (hi_e - lo_e))
    return int(lo_k + frac * (hi_k - lo_k))


@torch.no_grad()
def _rollout(
    agent: MBPOAgent,
    model: GaussianEnsemble,
    real: ReplayBuffer,
    model_buf: ReplayBuffer,
    c: Config,
    gens: Generators,
    term_fn: Callable[..., torch.Tensor],
    k: int,
) -> int:
    obs = real.sample(c.rollout_batch_size, gens.np_rng).obs
    added = 0
    for _ in range(k):
        if obs.shape[0] == 0:
            break
        act = agent.act(obs, deterministic=False)
        rew, nxt = model.sample(obs, act, gens.torch_rng)
        done = term_fn(obs, act, nxt)
        n = min(obs.shape[0], model_buf.capacity)
        model_buf.add(obs[:n], act[:n], rew[:n], nxt[:n], done[:n].float())
        added += n
        obs = nxt[~done]
    return added


@torch.no_grad()
def _value_aware_error(
    agent: MBPOAgent, model: GaussianEnsemble, data: Batch, n_samples: int, gen: torch.Generator
) -> tuple[float, float]:
    v_real = agent.value(data.next_obs)
    vm = []
    for _ in range(n_samples):
        _, nxt = model.sample(data.obs, data.act, gen)
        vm.append(agent.value(nxt))
    v_model = torch.stack(vm, dim=1)
    err = value_aware_error(v_model, v_real)
    scale = float(v_real.abs().mean())
    return err, err / scale if scale > 0 else float("nan")


def _collect(agent: MBPOAgent, env: gym.Env, n: int, seed: int, device: torch.device) -> Batch:
    """``n`` real transitions of the stochastic policy from fresh episodes (never stored in a training buffer)."""
    buf = ReplayBuffer(
        int(np.prod(env.observation_space.shape or (1,))),
        int(np.prod(env.action_space.shape or (1,))),
        n,
        device=device,
    )
    obs, _ = env.reset(seed=seed)
    ep = 0
    while len(buf) < n:
        o = torch.as_tensor(np.asarray(obs, np.float32), device=device)[None]
        a = agent.act(o, deterministic=False)[0].cpu().numpy()
        nxt, r, term, trunc, _ = env.step(a)
        buf.add(obs, a, r, nxt, term)
        obs = nxt
        if term or trunc:
            ep += 1
            obs, _ = env.reset(seed=seed + ep)
    return Batch(buf.obs, buf.act, buf.rew, buf.next_obs, buf.done)


def train(
    config: Config,
    *,
    run_dir: str | Path | None = None,
    progress: bool = False,
    env_fn: Callable[[], gym.Env] | None = None,
) -> TrainResult:
    """Train MBPO in the configuration ``config.variant`` (module docstring).

    Args:
        config: :class:`Config` (e.g. ``Config.tiny(variant="spectral")``).
        run_dir: where ``metrics.csv`` is written (None: nothing written).
        progress: show a progress bar.
        env_fn: builds one environment (default ``gymnasium.make(config.env_id, **config.env_kwargs)``).

    Returns:
        :class:`TrainResult` with the learning curve, Lipschitz bounds of Q, value-aware model error and timings.
    """
    c = config
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(c.threads)
    device = get_device(c.device)
    gens = make_generators(c.seed, device)
    fn = env_fn or (lambda: make_gym_env(c.env_id, **c.env_kwargs))
    env, eval_env = fn(), fn()
    try:
        space = env.action_space
        if not isinstance(space, gym.spaces.Box) or not np.isfinite(space.low).all():
            raise ValueError("MBPO's tanh policy needs a bounded Box action space")
        obs_dim = int(np.prod(env.observation_space.shape or (1,)))
        act_dim = int(np.prod(space.shape))
        low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
        agent = MBPOAgent(obs_dim, act_dim, low, high, c, gens, device)
        with init_scope(gens.init_seed + 1, device):
            model = GaussianEnsemble(c.n_models, obs_dim, act_dim, c.model_hidden, c.model_activation).to(device)
        model_opt = torch.optim.Adam(model.parameters(), lr=c.model_lr)
        real = ReplayBuffer(obs_dim, act_dim, c.buffer_size, device=device)
        rounds_kept = max(1, c.epoch_length // c.model_train_freq) * c.model_retain_epochs
        max_k = c.rollout_schedule[3]
        model_buf = ReplayBuffer(obs_dim, act_dim, c.rollout_batch_size * max_k * rounds_kept, device=device)
        term_fn = _termination_fn(c.env_id)
        logger = MetricsLogger(None if run_dir is None else Path(run_dir))
        eval_seeds = [gens.env_seed + 1_000_003 + j for j in range(c.eval_episodes)]
        n_real = int(round(c.batch_size * c.real_ratio))

        times = {"model": 0.0, "rollout": 0.0, "update": 0.0, "eval": 0.0, "diag": 0.0}
        cpu_excluded = 0.0  # process CPU time of evaluations and diagnostics
        evals: list[tuple[int, np.ndarray]] = []
        episodes: list[tuple[int, float]] = []
        lip_curve: list[tuple[int, float, float]] = []
        model_info: dict[str, float] = {}
        acc: dict[str, Any] = {}  # running sums: float64 tensors on the device
        acc_n = 0
        n_updates = 0
        obs, _ = env.reset(seed=gens.env_seed)
        ep_ret = 0.0
        next_eval = c.eval_every or c.total_steps
        bar = tqdm(total=c.total_steps, disable=not progress, unit="step", leave=False)

        def lipschitz_points() -> torch.Tensor:
            b = real.sample(c.lipschitz_points, gens.np_rng)
            return torch.cat([b.obs, b.act], dim=-1)

        def do_eval(step: int) -> None:
            nonlocal cpu_excluded
            c0 = time.process_time()
            t0 = time.perf_counter()
            rets = evaluate(agent, eval_env, eval_seeds, device)
            times["eval"] += time.perf_counter() - t0
            evals.append((step, rets))
            vals = {"eval/return_mean": float(rets.mean())}
            if c.lipschitz_every_eval:
                t0 = time.perf_counter()
                ups, lows = q_lipschitz(agent, lipschitz_points())
                times["diag"] += time.perf_counter() - t0
                lip_curve.append((step, max(ups), max(lows)))
                vals.update({"q/lipschitz_upper": max(ups), "q/lipschitz_lower": max(lows)})
            logger.log(step, vals)
            cpu_excluded += time.process_time() - c0
            bar.set_postfix(eval_return=f"{rets.mean():.1f}")

        step = 0
        while step < c.total_steps:
            if step < c.warmup_steps and c.warmup_random:
                act = gens.np_rng.uniform(low, high)
            else:
                o = torch.as_tensor(np.asarray(obs, np.float32), device=device)[None]
                act = agent.act(o, deterministic=False)[0].cpu().numpy().astype(np.float64)
            nxt, r, term, trunc, _ = env.step(act.astype(space.dtype))
            real.add(obs, act, float(r) * c.reward_scale, nxt, term)
            ep_ret += float(r)
            step += 1
            obs = nxt
            if term or trunc:
                episodes.append((step, ep_ret))
                logger.log(step, {"train/episode_return": ep_ret})
                ep_ret = 0.0
                obs, _ = env.reset()
            bar.update(1)
            if step >= c.warmup_steps:
                if (step - c.warmup_steps) % c.model_train_freq == 0:
                    t0 = time.perf_counter()
                    model_info = _train_model(model, model_opt, real, c, gens.np_rng)
                    t1 = time.perf_counter()
                    agent.obs_std = real.obs[: len(real)].std(0).clamp_min(1e-6)
                    _rollout(agent, model, real, model_buf, c, gens, term_fn, _rollout_length(c, step))
                    times["model"] += t1 - t0
                    times["rollout"] += time.perf_counter() - t1
                    logger.log(step, model_info)
                t0 = time.perf_counter()
                for _ in range(c.updates_per_iteration):
                    if len(model_buf) == 0 or n_real >= c.batch_size:
                        batch = real.sample(c.batch_size, gens.np_rng)
                    else:
                        br = real.sample(n_real, gens.np_rng)
                        bm = model_buf.sample(c.batch_size - n_real, gens.np_rng)
                        batch = Batch(
                            *(
                                torch.cat([x, y])
                                for x, y in zip(
                                    (br.obs, br.act, br.rew, br.next_obs, br.done),
                                    (bm.obs, bm.act, bm.rew, bm.next_obs, bm.done),
                                    strict=True,
                                )
                            )
                        )
                    info = agent.update(batch)
                    n_updates += 1
                    accumulate_metrics(acc, info)  # summed on the device; floats only when logged
                    acc_n += 1
                times["update"] += time.perf_counter() - t0
            if c.log_every and step % c.log_every == 0 and acc_n:
                logger.log(step, {f"train/{k_}": v / acc_n for k_, v in metrics_to_floats(acc).items()})
                acc, acc_n = {}, 0
            if step >= next_eval or step >= c.total_steps:
                while next_eval <= step:
                    next_eval += c.eval_every or c.total_steps
                do_eval(step)
        bar.close()

        t0, c0 = time.perf_counter(), time.process_time()
        held_out = _collect(agent, fn(), c.vame_transitions, gens.env_seed + 2_000_003, device)
        vame, vame_rel = _value_aware_error(agent, model, held_out, c.vame_samples, gens.torch_rng)
        ups, lows = q_lipschitz(agent, lipschitz_points(), seed=1)
        times["diag"] += time.perf_counter() - t0
        cpu_excluded += time.process_time() - c0
        logger.log(
            step,
            {
                "final/value_aware_error": vame,
                "final/q_lipschitz_upper": max(ups),
                "final/q_lipschitz_lower": max(lows),
            },
        )
        logger.close()
    finally:
        env.close()
        eval_env.close()
        torch.set_num_threads(prev_threads)
    wall = time.perf_counter() - t_wall
    compute = wall - times["eval"] - times["diag"]
    compute_cpu = time.process_time() - t_cpu - cpu_excluded
    log = TrainLog(
        eval_steps=np.array([s for s, _ in evals], dtype=np.int64),
        eval_returns=np.array([r for _, r in evals], dtype=np.float64).reshape(len(evals), -1),
        episode_steps=np.array([s for s, _ in episodes], dtype=np.int64),
        episode_returns=np.array([r for _, r in episodes], dtype=np.float64),
        n_updates=n_updates,
        wall_time_s=wall,
        update_time_s=times["update"],
        eval_time_s=times["eval"],
        run_dir=None if run_dir is None else Path(run_dir),
        extra={"lipschitz_curve": lip_curve, "model": model_info, "diag_time_s": times["diag"]},
    )
    return TrainResult(
        config=c,
        agent=agent,
        model=model,
        log=log,
        q_lipschitz_upper=tuple(ups),
        q_lipschitz_lower=tuple(lows),
        value_aware_error=vame,
        value_aware_error_rel=vame_rel,
        wall_time_s=wall,
        compute_time_s=compute,
        compute_cpu_s=compute_cpu,
        model_time_s=times["model"],
        rollout_time_s=times["rollout"],
        update_time_s=times["update"],
    )


def compare(config: Config, variants: Sequence[str] = VARIANTS, *, progress: bool = False) -> dict[str, TrainResult]:
    """Train every variant with ``config`` (only ``variant`` changes) and return ``{variant: result}``."""
    return {v: train(config.replace(variant=v), progress=progress) for v in variants}


def report_table(results: dict[str, TrainResult]) -> str:
    """A Markdown table: final return, Lipschitz bounds of Q, value-aware model error and compute per variant,
    with compute relative to the ensemble when it is present."""
    ref = results.get("ensemble")
    rows = [
        "| config | final return | Lip(Q) upper | Lip(Q) lower | VAME | VAME rel. | compute CPU s | compute wall s "
        "| wall s | CPU vs ensemble |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v, r in results.items():
        ratio = r.compute_cpu_s / ref.compute_cpu_s if ref is not None else float("nan")
        rows.append(
            f"| ({VARIANT_LETTERS[v]}) {v} | {r.final_return:.1f} | {max(r.q_lipschitz_upper):.4g} | "
            f"{max(r.q_lipschitz_lower):.4g} | {r.value_aware_error:.3g} | {r.value_aware_error_rel:.3g} | "
            f"{r.compute_cpu_s:.1f} | {r.compute_time_s:.1f} | {r.wall_time_s:.1f} | {ratio:.2f} |"
        )
    return "\n".join(rows)
