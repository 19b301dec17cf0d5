"""MBPO's schedule on the shared off-policy loop: model training, model rollouts, the model pool, mixed batches.

Model-Based Policy Optimization (Janner, Fu, Zhang, Levine, "When to Trust Your Model: Model-Based Policy
Optimization", NeurIPS 2019, arXiv:1906.08253; official code ``github.com/JannerM/mbpo``, read here at ``e39fae3``:
``mbpo/algorithms/mbpo.py``) runs on :func:`rltheory.neural.common.training.train_off_policy` through
:class:`MBPOHooks`:

* real environment steps go to the loop's replay buffer (the *real* buffer), uniformly random for the first
  ``warmup_steps``;
* every ``model_train_freq`` steps from ``warmup_steps`` on (``on_step``), the dynamics model
  (:class:`~rltheory.neural.common.dynamics.GaussianEnsemble`) is retrained on all real data
  (:func:`~rltheory.neural.common.dynamics.train_model`), the rollout length ``k`` is set from ``rollout_schedule``
  and the epoch ``step // epoch_length`` (MBPO's ``_set_rollout_length``), the model pool is resized
  (``_reallocate_model_pool``, below) and ``rollout_batch_size`` real states are rolled ``k`` steps through the model
  with the current stochastic policy, a random elite per row, each model transition going to the pool (rows whose
  model state is terminal, by MBPO's static termination functions, stop);
* every environment step after the warm-up, the loop's ``updates_per_iteration`` SAC updates each take a batch
  of ``round(real_ratio * batch_size)`` real and the rest model transitions (``sample_batch``; only real ones
  while the pool is empty).

**The model pool** holds, as MBPO's ``_reallocate_model_pool``, the model transitions of ``model_retain_epochs``
epochs at the *current* rollout length::

    capacity = model_retain_epochs * int(k * rollout_batch_size * epoch_length / model_train_freq)

recomputed after every model training; when the capacity changes the pool is reallocated keeping its newest
transitions (MBPO copies them all into the new pool; when it shrinks, which the usual growing schedule never
does, it keeps the newest). ``model_pool_size`` fixes the capacity instead (an ablation; this project's earlier
fixed size ``rollout_batch_size * max_len * max(1, epoch_length // model_train_freq) * model_retain_epochs``,
sized for the longest rollouts, kept about ``max_len`` times too many epochs of stale rollouts while ``k`` was
short: about 15 epochs on Hopper).

A draw from the model is a Gaussian sample, or the member's mean prediction where ``config.deterministic_model``
(MBPO's ``deterministic`` flag, passed to ``FakeEnv.step``). The hooks' state (model, its optimiser, the pool,
the last model statistics, timings) goes into the loop's checkpoint, so an MBPO run resumes bit-identically.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.dynamics import GaussianEnsemble, termination_fn, train_model
from rltheory.neural.common.replay import Batch, ReplayBuffer
from rltheory.neural.common.seeding import init_scope
from rltheory.neural.common.training import LoopContext, LoopHooks

__all__ = ["MBPOConfig", "MBPOHooks", "model_pool_capacity", "rollout_length"]


@dataclass(frozen=True)
class MBPOConfig(TrainConfig):
    """MBPO's model-side hyperparameters (plus the loop fields of :class:`TrainConfig`; ``updates_per_iteration`` is
    MBPO's ``n_train_repeat``, SAC updates per environment step; ``batch_size`` the SAC batch). A method's config
    subclasses it and adds its learner's fields. One environment (``num_envs=1``).

    Attributes:
        ensemble_size, num_elites: models trained and models used in rollouts (see :attr:`n_models`).
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
        model_retain_epochs: epochs of model rollouts kept in the model pool (module docstring).
        model_pool_size: a fixed model-pool capacity instead of MBPO's (None: MBPO's, module docstring).
        real_ratio: fraction of real transitions in each SAC batch.
    """

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
    model_pool_size: int | None = None
    real_ratio: float = 0.05

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_envs != 1:
            raise ValueError("MBPO here runs one environment (num_envs=1)")
        if not 1 <= self.num_elites <= self.ensemble_size:
            raise ValueError(f"need 1 <= num_elites <= ensemble_size, got {self.num_elites}, {self.ensemble_size}")
        if not 0 <= self.real_ratio <= 1:
            raise ValueError(f"real_ratio must be in [0, 1], got {self.real_ratio}")
        if not 0 < self.holdout_ratio < 1:
            raise ValueError(f"holdout_ratio must be in (0, 1), got {self.holdout_ratio}")
        lo_e, hi_e, lo_k, hi_k = self.rollout_schedule
        if lo_k < 1 or hi_k < lo_k or hi_e < lo_e:
            raise ValueError(f"bad rollout_schedule {self.rollout_schedule}")
        if not self.model_lr > 0:
            raise ValueError(f"model_lr must be > 0, got {self.model_lr}")
        names = ("model_batch_size", "model_train_freq", "model_patience", "rollout_batch_size", "epoch_length")
        for name in (*names, "model_retain_epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.model_pool_size is not None and self.model_pool_size < 1:
            raise ValueError(f"model_pool_size must be None or >= 1, got {self.model_pool_size}")

    @property
    def n_models(self) -> int:
        """Models trained (``ensemble_size``)."""
        return self.ensemble_size

    @property
    def n_elites(self) -> int:
        """Models used in rollouts (``num_elites``)."""
        return self.num_elites

    @property
    def deterministic_model(self) -> bool:
        """Roll out the models' mean predictions instead of Gaussian draws (MBPO's ``deterministic``; False)."""
        return False


def rollout_length(schedule: tuple[int, int, int, int], epoch: int) -> int:
    """MBPO's ``_set_rollout_length``: ``min_len`` up to ``min_epoch``, then linear up to ``max_len`` at
    ``max_epoch``, truncated to an int."""
    lo_e, hi_e, lo_k, hi_k = schedule
    if epoch <= lo_e or hi_e == lo_e:
        return lo_k if epoch <= lo_e else hi_k
    frac = min(1.0, (epoch - lo_e) / (hi_e - lo_e))
    return int(lo_k + frac * (hi_k - lo_k))


def model_pool_capacity(c: MBPOConfig, k: int) -> int:
    """The model pool's capacity at rollout length ``k``: ``c.model_pool_size``, or MBPO's
    ``_reallocate_model_pool`` size ``model_retain_epochs * int(k * rollout_batch_size * epoch_length /
    model_train_freq)``."""
    if c.model_pool_size is not None:
        return c.model_pool_size
    rollouts_per_epoch = c.rollout_batch_size * c.epoch_length / c.model_train_freq
    return max(1, c.model_retain_epochs * int(k * rollouts_per_epoch))


class MBPOHooks(LoopHooks):
    """MBPO's schedule as :class:`~rltheory.neural.common.training.LoopHooks` (module docstring).

    Args:
        config: the run's :class:`MBPOConfig`.
        obs_dim, act_dim: flat sizes.
        device: where the model and the pool live.
        init_seed: the model's initialisation seed (inside :func:`init_scope`).

    Attributes:
        model: the :class:`GaussianEnsemble`; model_opt: its Adam; pool: the model pool (a :class:`ReplayBuffer`).
        model_info: the last model training's statistics (logged at each training).
        times: wall seconds of model training (``"model"``) and rollouts (``"rollout"``).
    """

    def __init__(self, config: MBPOConfig, obs_dim: int, act_dim: int, device: torch.device, init_seed: int) -> None:
        c = self.config = config
        self.obs_dim, self.act_dim, self.device = obs_dim, act_dim, device
        with init_scope(init_seed, device):
            self.model = GaussianEnsemble(c.n_models, obs_dim, act_dim, c.model_hidden, c.model_activation).to(device)
        self.model_opt = torch.optim.Adam(self.model.parameters(), lr=c.model_lr)
        k0 = rollout_length(c.rollout_schedule, 0)
        self.pool = ReplayBuffer(obs_dim, act_dim, model_pool_capacity(c, k0), device=device)
        self.term_fn = termination_fn(c.env_id)
        self.n_real = int(round(c.batch_size * c.real_ratio))
        self.model_info: dict[str, float] = {}
        self.times = {"model": 0.0, "rollout": 0.0}

    # ---- the schedule
    def on_step(self, ctx: LoopContext) -> None:
        """Every ``model_train_freq`` steps from ``warmup_steps`` on: retrain the model, resize the pool, roll out."""
        c, step = self.config, ctx.state.step
        if step < c.warmup_steps or (step - c.warmup_steps) % c.model_train_freq:
            return
        t0 = time.perf_counter()
        self.model_info = self.train_model(ctx)
        t1 = time.perf_counter()
        k = rollout_length(c.rollout_schedule, step // c.epoch_length)
        self.pool.resize(model_pool_capacity(c, k))
        self.rollout(ctx, k)
        self.times["model"] += t1 - t0
        self.times["rollout"] += time.perf_counter() - t1
        ctx.log(self.model_info)

    def train_model(self, ctx: LoopContext) -> dict[str, float]:
        """Retrain the model on the real buffer (:func:`~rltheory.neural.common.dynamics.train_model`)."""
        c = self.config
        return train_model(
            self.model,
            self.model_opt,
            ctx.buffer,
            ctx.gens.np_rng,
            holdout_ratio=c.holdout_ratio,
            batch_size=c.model_batch_size,
            weight_decay=c.model_weight_decay,
            patience=c.model_patience,
            max_epochs=c.model_max_epochs,
            n_elites=c.n_elites,
        )

    @torch.no_grad()
    def rollout(self, ctx: LoopContext, k: int) -> int:
        """Roll ``rollout_batch_size`` real start states ``k`` steps through the model into the pool; returns the
        number of model transitions added."""
        obs = ctx.buffer.sample(self.config.rollout_batch_size, ctx.gens.np_rng).obs
        added = 0
        for _ in range(k):
            if obs.shape[0] == 0:
                break
            act = ctx.agent.act(obs, deterministic=False)
            rew, nxt = self.model.sample(obs, act, ctx.gens.torch_rng, deterministic=self.config.deterministic_model)
            done = self.term_fn(obs, act, nxt)
            n = min(obs.shape[0], self.pool.capacity)
            self.pool.add(obs[:n], act[:n], rew[:n], nxt[:n], done[:n].float())
            added += n
            obs = nxt[~done]
        return added

    def sample_batch(self, ctx: LoopContext, batch_size: int) -> Batch:
        """``n_real`` real and ``batch_size - n_real`` model transitions (all real while the pool is empty)."""
        rng = ctx.gens.np_rng
        if len(self.pool) == 0 or self.n_real >= batch_size:
            return ctx.buffer.sample(batch_size, rng)
        br = ctx.buffer.sample(self.n_real, rng)
        bm = self.pool.sample(batch_size - self.n_real, rng)
        pairs = zip(
            (br.obs, br.act, br.rew, br.next_obs, br.done), (bm.obs, bm.act, bm.rew, bm.next_obs, bm.done), strict=True
        )
        return Batch(*(torch.cat([x, y]) for x, y in pairs))

    # ---- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Model (with its input scaler and elites), its optimiser, the pool, the last statistics and timings."""
        return {
            "model": self.model.state_dict(),
            "elites": list(self.model.elites),
            "model_opt": self.model_opt.state_dict(),
            "pool": self.pool.state_dict(),
            "model_info": dict(self.model_info),
            "times": dict(self.times),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the pool at the checkpoint's capacity)."""
        self.model.load_state_dict(state["model"])
        self.model.elites = [int(i) for i in state["elites"]]
        self.model_opt.load_state_dict(state["model_opt"])
        self.pool = ReplayBuffer(self.obs_dim, self.act_dim, int(state["pool"]["capacity"]), device=self.device)
        self.pool.load_state_dict(state["pool"])
        self.model_info = {k: float(v) for k, v in state["model_info"].items()}
        self.times = {k: float(v) for k, v in state["times"].items()}
