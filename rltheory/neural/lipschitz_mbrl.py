"""MBPO with an ensemble, a single model, or a single model with a Lipschitz-regularised value function.

Four configurations of one MBPO learner (Janner, Fu, Zhang, Levine, "When to Trust Your Model: Model-Based Policy
Optimization", NeurIPS 2019, arXiv:1906.08253; official code ``JannerM/mbpo``), selected by ``Config.variant``:

* ``"ensemble"`` (a): an ensemble of ``ensemble_size`` probabilistic (Gaussian, NLL-trained) dynamics models, the
  ``num_elites`` best on held-out data used for rollouts (a random elite per rollout sample, as MBPO);
* ``"single"`` (b): one model (``ensemble_size = num_elites = 1``), *deterministic* by default: trained as before
  (Gaussian NLL), rolled out with its mean prediction, the ``deterministic`` flag of MBPO's ``FakeEnv.step``. The
  authors describe their method as using "just a single deterministic model" (project page, as quoted in the
  project's issue): a Gaussian single model would keep the sampling noise that, on the paper's account, is what
  regularises the value function. ``single_model="gaussian"`` samples the single model instead (the ablation);
* ``"spectral"`` (c): the single model, and both Q networks spectrally normalised: every linear layer divided by
  its largest singular value (``torch.nn.utils.parametrizations.spectral_norm``, one power-iteration step per
  training forward pass; Miyato et al. 2018, arXiv:1802.05957), followed by a frozen output scale
  ``sn_lipschitz``, so ``Lip(Q) <= sn_lipschitz`` (ReLU is 1-Lipschitz) in the Euclidean norm on ``(s, a)``;
* ``"adversarial"`` (d): the single model, and the critic loss gets the penalty of :func:`adversarial_penalty`.

**The loop.** MBPO runs on the shared loop :func:`rltheory.neural.common.training.train_off_policy` with MBPO's
schedule as loop hooks (:mod:`rltheory.neural.common.mbpo`: model retraining every ``model_train_freq`` steps,
rollouts into a model pool holding ``model_retain_epochs`` epochs at the current rollout length, as MBPO's
``_reallocate_model_pool``, and SAC updates on ``real_ratio`` real and ``1 - real_ratio`` model data; the model is
:mod:`rltheory.neural.common.dynamics`'s), and resumes bit-identically from its checkpoints. SAC is MBPO's: twin Q
networks, targets ``r + gamma (1 - d)(min_i Q_bar_i(s', a') - alpha log pi(a'|s'))`` with ``a'`` from the *current*
policy, Polyak updates every step, learnt temperature (policy, losses and set-up: :mod:`rltheory.neural.common.sac`).

**What is inferred (the paper's method section, losses and hyperparameters could not be read here).** The paper
(R. Zheng, X. Wang, H. Xu, F. Huang, "Is Model Ensemble Necessary? Model-based RL via a Single Model with Lipschitz
Regularized Value Function", ICLR 2023, arXiv:2302.01244) names two mechanisms, "computing the adversarial noise"
and "regularizing the value network's spectral norm", applied to the value function of MBPO with a single model.
The forms implemented here are generic ones:

* spectral norm on *every* layer of both Q networks with a fixed output scale ``sn_lipschitz`` (a hard Lipschitz
  budget that :func:`rltheory.lipschitz.lipschitz_upper_bound` certifies); whether the paper normalises every
  layer, and with what scale, is unknown; a 1-Lipschitz Q cannot span Pendulum's return range, hence the scale;
* the adversarial penalty ``lambda E[(Q(s + delta*, a) - Q(s, a))^2]`` on the states of each SAC batch, ``delta*``
  found by ``adv_steps`` steps of projected signed-gradient ascent (PGD, Madry et al. 2018) from a uniform random
  start in the box ``|delta_j| <= adv_epsilon * sigma_j`` (``sigma_j``: the std of state coordinate ``j`` in the
  real buffer), ``lambda = adv_weight``; the norm, radius, steps, weight and what is perturbed are not known;
* how the single deterministic model is trained (here: the Gaussian model's NLL, its mean used) is not known;
* the value-aware model error ``mean_i |E_{s' ~ model(s_i, a_i)} V(s') - V(s'_i)|`` over held-out *real*
  transitions collected with the final stochastic policy after training, ``V(s) = min_j Q_j(s, pi_det(s))``, the
  model expectation a mean over ``vame_samples`` draws (the mean prediction itself for a deterministic model).

The Lipschitz constant of each Q network is reported as the spectral-norm product (an upper bound) and a sampled
lower bound, both from :mod:`rltheory.lipschitz`, in the units of the raw observation and action. Not supported:
vector environments (``num_envs > 1``).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from rltheory.neural.common.device import get_device
from rltheory.neural.common.diagnostics import collect_transitions, model_value_error, q_lipschitz, value_aware_error
from rltheory.neural.common.dynamics import GaussianEnsemble, gaussian_nll_loss, soft_clamp_logvar
from rltheory.neural.common.mbpo import MBPOConfig, MBPOHooks
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
    sac_target,
)
from rltheory.neural.common.seeding import Generators, init_scope, make_generators
from rltheory.neural.common.training import LoopContext, TrainLog, make_gym_env, train_off_policy

__all__ = [
    "SINGLE_MODELS",
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
    "q_lipschitz",
    "sac_target",
    "soft_clamp_logvar",
    "train",
    "value_aware_error",
]

#: Configuration names, in the order (a) ensemble, (b) single, (c) spectral, (d) adversarial used in the docs.
VARIANTS = ("ensemble", "single", "spectral", "adversarial")
#: How the single model of variants (b)-(d) predicts: its mean (default), or a Gaussian draw (ablation).
SINGLE_MODELS = ("deterministic", "gaussian")


# ------------------------------------------------------------------------------------------------------ config
@dataclass(frozen=True)
class Config(MBPOConfig):
    """Hyperparameters: the loop's (:class:`~rltheory.neural.common.config.TrainConfig`), MBPO's model side
    (:class:`~rltheory.neural.common.mbpo.MBPOConfig`, documented there, ``model_pool_size`` included) and these.

    Attributes:
        variant: one of :data:`VARIANTS`; the single-model variants force ``ensemble_size = num_elites = 1``.
        single_model: ``"deterministic"`` (the single model's mean prediction, the authors' setting) or
            ``"gaussian"`` (a draw from it); the ensemble is always sampled.
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
    single_model: str = "deterministic"
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
        if self.single_model not in SINGLE_MODELS:
            raise ValueError(f"single_model must be one of {SINGLE_MODELS}, got {self.single_model!r}")
        for name in ("value_lr", "policy_lr", "alpha_lr", "sn_lipschitz", "init_alpha"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.gamma < 1 or not 0 < self.tau <= 1:
            raise ValueError(f"need 0 < gamma < 1 and 0 < tau <= 1, got {self.gamma}, {self.tau}")
        if self.adv_epsilon < 0 or self.adv_weight < 0 or self.adv_steps < 0:
            raise ValueError("adv_epsilon, adv_weight and adv_steps must be >= 0")

    @property
    def n_models(self) -> int:
        """Models actually trained: ``ensemble_size`` for ``"ensemble"``, else 1."""
        return self.ensemble_size if self.variant == "ensemble" else 1

    @property
    def n_elites(self) -> int:
        """Models used in rollouts: ``num_elites`` for ``"ensemble"``, else 1."""
        return self.num_elites if self.variant == "ensemble" else 1

    @property
    def deterministic_model(self) -> bool:
        """Roll out the mean prediction: the single-model variants with ``single_model="deterministic"``."""
        return self.variant != "ensemble" and self.single_model == "deterministic"

    @classmethod
    def paper(cls, **overrides: Any) -> Self:
        """MBPO's official Hopper defaults (``JannerM/mbpo``: ``examples/config/hopper/0.py``,
        ``mbpo/models/constructor.py``, ``examples/development/variants.py``; github.com/JannerM/mbpo): 7 models / 5
        elites, 4 x 200 swish, lr 1e-3, per-layer weight decay 2.5e-5 ... 1e-4, model retrained every 250 steps, 1e5
        rollout starts, schedule [20, 150, 1, 15], epoch 1,000 steps, 1 retained epoch, real ratio 0.05, 20 SAC updates
        per step, SAC 2 x 256 ReLU, lr 3e-4, gamma 0.99, tau 5e-3, batch 256, target entropy -1, 5,000 random initial
        steps; the model pool holds one epoch of rollouts at the current length ``k`` (1e5 x 4 x ``k`` transitions). The
        number of epochs (125 for Hopper, MBPO paper Fig. 2) and the 1e6 real buffer are from the paper's plots/code as
        recalled, not re-read here. The Lipschitz knobs (``sn_lipschitz``, ``adv_*``) are not MBPO's and not known from
        the Zheng et al. paper: they stay at this module's defaults (inferred)."""
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
        the mean: measured, reward RMSE 1.3 against a std of 3.6), retraining every 250 steps, 400 rollout starts
        of length 1 -> 5 over the first 3 epochs of 1,000 steps, 5 retained epochs (a pool of 8,000 to 40,000
        model transitions), real ratio 0.1, 5 evaluation episodes every 500 steps, ``sn_lipschitz = 300``."""
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


# --------------------------------------------------------------------------------------------- regularisers
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
        self._policy_params = list(self.policy.parameters())
        self.critic_opt, self.policy_opt, self.alpha_opt = sac_optimizers(
            self._critic_params,
            self._policy_params,
            self.log_alpha,
            value_lr=c.value_lr,
            policy_lr=c.policy_lr,
            alpha_lr=c.alpha_lr,
        )
        self.target_entropy = default_target_entropy(act_dim, c.target_entropy)
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
        polyak(self._target_params, self._source_params, c.tau)
        self.n_updates += 1
        info.update(
            critic_loss=loss_q.detach(),
            policy_loss=loss_pi.detach(),
            alpha=alpha,
            q_mean=qs[0].detach().mean(),
        )
        return info

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, temperature, the adversarial perturbation scale and the update counter."""
        return {
            "obs_std": self.obs_std.detach().clone(),
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
        self.obs_std = state["obs_std"].to(self.device)
        self.n_updates = int(state["n_updates"])


# ----------------------------------------------------------------------------------------------------- training
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
        wall_time_s: the loop (all processes of a resumed run, evaluations included) and the final diagnostics.
        compute_time_s: wall time of environment steps, model training, rollouts and SAC updates (no evaluation,
            no diagnostics).
        compute_cpu_s: process CPU time of the same (the measure the claim compares: on a shared machine it is
            far less sensitive to other processes than wall time; with ``threads=1`` it tracks single-core wall
            time); like the wall times, summed over the processes of a resumed run.
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


class _Hooks(MBPOHooks):
    """MBPO's schedule (:class:`~rltheory.neural.common.mbpo.MBPOHooks`) and this module's pieces: the adversarial
    perturbation scale (the real states' std) after each model training, the Lipschitz bounds of Q at each
    evaluation, and at the end the value-aware model error and the final bounds (kept out of the compute time)."""

    def __init__(self, c: Config, agent: MBPOAgent, gens: Generators, env_fn: Callable[[], gym.Env]) -> None:
        super().__init__(c, agent.obs_std.shape[0], agent.policy.scale.shape[0], agent.device, gens.init_seed + 1)
        self.agent, self.env_fn = agent, env_fn
        self.lip_curve: list[tuple[int, float, float]] = []
        self.diag = {"time": 0.0, "cpu": 0.0}  # the Lipschitz bounds at the evaluations
        self.final: dict[str, Any] = {}

    def train_model(self, ctx: LoopContext) -> dict[str, float]:
        info = super().train_model(ctx)
        self.agent.obs_std = ctx.buffer.obs[: len(ctx.buffer)].std(0).clamp_min(1e-6)
        return info

    def _bounds(self, ctx: LoopContext, seed: int = 0) -> tuple[list[float], list[float]]:
        b = ctx.buffer.sample(self.agent.config.lipschitz_points, ctx.gens.np_rng)
        nets = [q.net for q in self.agent.critics if isinstance(q, QNetwork)]
        return q_lipschitz(nets, torch.cat([b.obs, b.act], dim=-1), seed=seed)

    def on_eval(self, ctx: LoopContext, returns: np.ndarray) -> dict[str, float]:
        if not self.agent.config.lipschitz_every_eval:
            return {}
        t0, c0 = time.perf_counter(), time.process_time()
        ups, lows = self._bounds(ctx)
        self.diag["time"] += time.perf_counter() - t0
        self.diag["cpu"] += time.process_time() - c0
        self.lip_curve.append((ctx.state.step, max(ups), max(lows)))
        return {"q/lipschitz_upper": max(ups), "q/lipschitz_lower": max(lows)}

    def on_end(self, ctx: LoopContext) -> None:
        c, t0 = self.agent.config, time.perf_counter()
        env = self.env_fn()
        try:
            seed = ctx.gens.env_seed + 2_000_003
            held_out = collect_transitions(self.agent, env, c.vame_transitions, seed, ctx.device)
        finally:
            env.close()
        det = c.deterministic_model
        n = 1 if det else c.vame_samples  # the draws of a deterministic model are all its mean
        vame, rel = model_value_error(self.agent.value, self.model, held_out, n, ctx.gens.torch_rng, deterministic=det)
        ups, lows = self._bounds(ctx, seed=1)
        self.final = {"vame": vame, "rel": rel, "ups": tuple(ups), "lows": tuple(lows)}
        ctx.log(
            {"final/value_aware_error": vame, "final/q_lipschitz_upper": max(ups), "final/q_lipschitz_lower": max(lows)}
        )
        self.final["time"] = time.perf_counter() - t0

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "lip_curve": list(self.lip_curve), "diag": dict(self.diag)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.lip_curve = [(int(s), float(u), float(lo)) for s, u, lo in state["lip_curve"]]
        self.diag = {k: float(v) for k, v in state["diag"].items()}


def train(
    config: Config,
    *,
    run_dir: str | Path | None = None,
    progress: bool = False,
    env_fn: Callable[[], gym.Env] | None = None,
    on_checkpoint: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train MBPO in the configuration ``config.variant`` (module docstring) on the shared loop.

    Args:
        config: :class:`Config` (e.g. ``Config.tiny(variant="spectral")``).
        run_dir: where ``metrics.csv``, TensorBoard files and ``checkpoint.pt`` go; a run with the same config and
            ``run_dir`` resumes from its checkpoint.
        progress: show a progress bar.
        env_fn: builds one environment (default ``gymnasium.make(config.env_id, **config.env_kwargs)``).
        on_checkpoint: called with the step after each checkpoint.

    Returns:
        :class:`TrainResult` with the learning curve, Lipschitz bounds of Q, value-aware model error and timings.
    """
    c = config
    device = get_device(c.device)
    gens = make_generators(c.seed, device)
    fn = env_fn or (lambda: make_gym_env(c.env_id, **c.env_kwargs))
    probe = fn()
    try:
        obs_dim, act_dim, low, high = box_action_space(probe, "MBPO")
    finally:
        probe.close()
    prev = torch.get_num_threads()
    torch.set_num_threads(c.threads)
    try:
        agent = MBPOAgent(obs_dim, act_dim, low, high, c, gens, device)
        hooks = _Hooks(c, agent, gens, fn)
    finally:
        torch.set_num_threads(prev)
    log = train_off_policy(
        agent, c, gens, device, run_dir=run_dir, progress=progress, on_checkpoint=on_checkpoint, env_fn=fn, hooks=hooks
    )
    f = hooks.final
    diag_time = hooks.diag["time"] + f["time"]
    log.extra.update(lipschitz_curve=hooks.lip_curve, model=hooks.model_info, diag_time_s=diag_time)
    return TrainResult(
        config=c,
        agent=agent,
        model=hooks.model,
        log=log,
        q_lipschitz_upper=f["ups"],
        q_lipschitz_lower=f["lows"],
        value_aware_error=f["vame"],
        value_aware_error_rel=f["rel"],
        wall_time_s=log.wall_time_s + f["time"],
        compute_time_s=log.wall_time_s - log.eval_time_s - hooks.diag["time"],
        compute_cpu_s=log.cpu_time_s - log.eval_cpu_time_s - hooks.diag["cpu"],
        model_time_s=hooks.times["model"],
        rollout_time_s=hooks.times["rollout"],
        update_time_s=log.update_time_s,
    )


def compare(config: Config, variants: Sequence[str] = VARIANTS, *, progress: bool = False) -> dict[str, TrainResult]:
    """Train every variant with ``config`` (only ``variant`` changes) and return ``{variant: result}``."""
    return {v: train(config.replace(variant=v), progress=progress) for v in variants}
