"""The shared neural core (torch; extra ``neural``): device, seeding, replay, MLPs, config, training loop.

Device and seeding
    :func:`get_device`, :func:`make_generators`, :class:`Generators`, :func:`init_scope`, :func:`seed_everything`
Data and networks
    :class:`ReplayBuffer`, :class:`Batch`, :func:`mlp`, :class:`MLP`, :func:`lipschitz_upper_bound` (the one of
    :mod:`rltheory.lipschitz`, re-exported)
Training
    :class:`TrainConfig`, :func:`train_off_policy`, :class:`TrainLog`, :class:`OffPolicyAgent`,
    :class:`MetricsLogger`, :func:`evaluate`, :func:`env_state`, :func:`restore_env_state`
"""

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.device import get_device
from rltheory.neural.common.nets import ACTIVATIONS, MLP, lipschitz_upper_bound, mlp
from rltheory.neural.common.replay import Batch, ReplayBuffer
from rltheory.neural.common.seeding import Generators, init_scope, make_generators, seed_everything
from rltheory.neural.common.training import (
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
    "MetricsLogger",
    "OffPolicyAgent",
    "ReplayBuffer",
    "TrainConfig",
    "TrainLog",
    "env_state",
    "evaluate",
    "get_device",
    "init_scope",
    "lipschitz_upper_bound",
    "make_generators",
    "mlp",
    "restore_env_state",
    "seed_everything",
    "train_off_policy",
]
