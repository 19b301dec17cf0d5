"""The shared neural core (torch; extra ``neural``): device, seeding, replay, MLPs, config, training loop, SAC parts.

Device and seeding
    :func:`get_device`, :func:`make_generators`, :class:`Generators`, :func:`init_scope`, :func:`seed_everything`
Data and networks
    :class:`ReplayBuffer`, :class:`Batch`, :func:`mlp`, :class:`MLP`, :func:`lipschitz_upper_bound` (the one of
    :mod:`rltheory.lipschitz`, re-exported)
Training
    :class:`TrainConfig`, :func:`train_off_policy`, :class:`TrainLog`, :class:`OffPolicyAgent`,
    :class:`LoopState`, :class:`LoopHooks`, :class:`LoopContext`, :class:`MetricsLogger`, :func:`evaluate`,
    :func:`env_state`, :func:`restore_env_state`
Soft actor-critic (:mod:`rltheory.neural.common.sac`)
    :class:`TanhGaussianPolicy`, :func:`sac_target`, :func:`sac_critic_loss`, :func:`policy_loss`,
    :func:`alpha_loss`, :func:`polyak`, :func:`sac_optimizers`, :func:`default_target_entropy`,
    :func:`box_action_space`
Model-based pieces (MBPO)
    :mod:`rltheory.neural.common.dynamics` (the Gaussian dynamics ensemble and its training) and
    :mod:`rltheory.neural.common.mbpo` (:class:`~rltheory.neural.common.mbpo.MBPOConfig`, the model pool and the
    loop hooks of MBPO's schedule); import them from their modules
"""

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.device import get_device
from rltheory.neural.common.nets import ACTIVATIONS, MLP, lipschitz_upper_bound, mlp
from rltheory.neural.common.replay import Batch, ReplayBuffer
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
from rltheory.neural.common.seeding import Generators, init_scope, make_generators, seed_everything
from rltheory.neural.common.training import (
    LoopContext,
    LoopHooks,
    LoopState,
    MetricsLogger,
    OffPolicyAgent,
    TrainLog,
    env_state,
    evaluate,
    restore_env_state,
    train_off_policy,
)

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "Batch",
    "Generators",
    "LoopContext",
    "LoopHooks",
    "LoopState",
    "MetricsLogger",
    "OffPolicyAgent",
    "ReplayBuffer",
    "TanhGaussianPolicy",
    "TrainConfig",
    "TrainLog",
    "alpha_loss",
    "box_action_space",
    "default_target_entropy",
    "env_state",
    "evaluate",
    "get_device",
    "init_scope",
    "lipschitz_upper_bound",
    "make_generators",
    "mlp",
    "policy_loss",
    "polyak",
    "restore_env_state",
    "sac_critic_loss",
    "sac_optimizers",
    "sac_target",
    "seed_everything",
    "train_off_policy",
]
