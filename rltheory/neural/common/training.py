"""The shared off-policy training loop: environment interaction, replay, updates, evaluation, logs, checkpoints.

:func:`train_off_policy` drives any agent that follows :class:`OffPolicyAgent`. It

* steps ``config.num_envs`` environments (a ``SyncVectorEnv`` with same-step autoreset), storing transitions with
  rewards multiplied by ``config.reward_scale`` and ``done = terminated`` (time-limit truncations bootstrap);
* runs ``config.updates_per_iteration`` gradient updates every ``config.update_every`` environment steps after
  ``config.warmup_steps``;
* evaluates the deterministic policy every ``config.eval_every`` steps on ``config.eval_episodes`` episodes whose
  start states are the same at every evaluation (seeds fixed by the run's seed), returns unscaled;
* logs to ``run_dir/metrics.csv`` (long format: ``step,name,value``) and, with ``config.tensorboard``, to
  TensorBoard event files in ``run_dir``;
* writes ``run_dir/checkpoint.pt`` every ``config.checkpoint_every`` steps (atomically: a temporary file, then
  ``os.replace``) and, when called again with the same ``run_dir``, continues from it. A checkpoint holds the
  agent (networks, optimisers, statistics), the replay buffer, every random generator, the environments' states
  (MuJoCo integration state, or the Python state of classic-control envs, and their noise generators), the
  loop's :class:`LoopState` and the state of its :class:`LoopHooks`, so on the CPU a resumed run produces
  bit-identical results to an uninterrupted one (``tests/neural/test_neural_training.py`` kills a DSAC-T and an
  MBPO run with SIGKILL and checks this).

**Hooks.** A method whose schedule is more than "step, store, update" passes a :class:`LoopHooks` subclass:
``on_step`` runs after every environment step and before that step's updates (MBPO trains its model every
``model_train_freq`` steps there and rolls it out into a model buffer), ``sample_batch`` builds each update's
batch (MBPO mixes real and model transitions), ``on_eval`` adds values to each evaluation's log row, ``on_end``
runs after the last step with the logger still open (final diagnostics), and ``state_dict`` / ``load_state_dict``
put the hooks' own state (a model, its optimiser, a model buffer) into the checkpoint. Every hook sees a
:class:`LoopContext` (agent, config, generators, device, replay buffer, :class:`LoopState`, logger).

Checkpoints hold only tensors and plain data (numpy arrays and scalars are stored as dtype, shape and raw bytes),
so they are read with ``torch.load(..., weights_only=True)``: a file planted at the checkpoint path cannot run code
when a run resumes (it is refused with a ``ValueError``). The file is loaded onto the CPU and each piece is then
copied to where it lives (parameters and optimiser state to the device, generator states into their generators),
so a checkpoint written on one device resumes on another.

The update metrics are kept as tensors on the device and summed there in float64 (the same sums, bit for bit, as
adding Python floats); they become Python floats only when a log row or a checkpoint is written, so the loop does
not wait for the device after every update.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import os
import pickle
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from tqdm.auto import tqdm

from rltheory.neural.common.config import TrainConfig
from rltheory.neural.common.replay import Batch, ReplayBuffer
from rltheory.neural.common.seeding import Generators

__all__ = [
    "LoopContext",
    "LoopHooks",
    "LoopState",
    "MetricsLogger",
    "OffPolicyAgent",
    "TrainLog",
    "env_state",
    "evaluate",
    "make_gym_env",
    "restore_env_state",
    "train_off_policy",
]

CHECKPOINT_NAME = "checkpoint.pt"
METRICS_NAME = "metrics.csv"


class OffPolicyAgent(Protocol):
    """What :func:`train_off_policy` needs from an agent."""

    def act(self, obs: torch.Tensor, *, deterministic: bool) -> torch.Tensor:
        """Actions `[B, act_dim]` in the environment's units for observations `[B, obs_dim]` (no gradient)."""
        ...

    def update(self, batch: Batch) -> Mapping[str, torch.Tensor | float]:
        """One gradient update; scalar diagnostics (0-d tensors, left on the device, or Python numbers)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training (networks, optimisers, counters, statistics)."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        ...


@dataclass
class TrainLog:
    """What a training run returns.

    Attributes:
        eval_steps: `[E]` environment steps at each evaluation.
        eval_returns: `[E, eval_episodes]` undiscounted, unscaled returns of the deterministic policy.
        episode_steps, episode_returns: `[N]` training episodes (step at their end, unscaled return).
        n_updates: gradient updates done.
        wall_time_s: wall time of the loop (this process and any run it resumed), evaluation included.
        update_time_s: time inside ``agent.update`` (replay sampling included).
        eval_time_s: time spent evaluating.
        resumed_from: the checkpoint step this process continued from, or None.
        run_dir: where logs and the checkpoint were written, or None.
        extra: whatever the method adds (MBPO: Lipschitz curves, model statistics).
        cpu_time_s: process CPU time of the loop (this process and any run it resumed), evaluation included.
        eval_cpu_time_s: process CPU time spent evaluating.
    """

    eval_steps: np.ndarray
    eval_returns: np.ndarray
    episode_steps: np.ndarray
    episode_returns: np.ndarray
    n_updates: int
    wall_time_s: float
    update_time_s: float
    eval_time_s: float
    resumed_from: int | None = None
    run_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    cpu_time_s: float = float("nan")
    eval_cpu_time_s: float = float("nan")

    @property
    def updates_per_s(self) -> float:
        """Gradient updates per second of update time."""
        return self.n_updates / self.update_time_s if self.update_time_s > 0 else float("nan")

    @property
    def final_return(self) -> float:
        """Mean return of the last evaluation."""
        return float(self.eval_returns[-1].mean()) if len(self.eval_returns) else float("nan")


# ------------------------------------------------------------------------------------------------ plain data
_NUMPY_TAG = "__rltheory_numpy__"


def _to_plain(x: Any) -> Any:
    """``x`` (nested dicts, lists, tuples) with every numpy array or scalar replaced by a tagged dict of its dtype
    string, shape and raw bytes: data that ``torch.load(..., weights_only=True)`` reads back. Tensors, Python
    scalars and strings pass through."""
    if isinstance(x, np.ndarray | np.generic):
        arr = np.asarray(x)
        if arr.dtype.hasobject or arr.dtype.fields is not None:
            raise TypeError(f"cannot store a numpy array of dtype {arr.dtype} in a checkpoint")
        return {
            _NUMPY_TAG: "scalar" if isinstance(x, np.generic) else "array",
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "data": np.ascontiguousarray(arr).tobytes(),
        }
    if isinstance(x, dict):
        return {k: _to_plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_to_plain(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_to_plain(v) for v in x)
    return x


def _from_plain(x: Any) -> Any:
    """Inverse of :func:`_to_plain` (arrays come back writable, scalars as numpy scalars of their dtype)."""
    if isinstance(x, dict):
        if _NUMPY_TAG in x:
            arr = np.frombuffer(x["data"], dtype=np.dtype(x["dtype"])).reshape(x["shape"]).copy()
            return arr[()] if x[_NUMPY_TAG] == "scalar" else arr
        return {k: _from_plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_from_plain(v) for v in x]
    if isinstance(x, tuple):
        return tuple(_from_plain(v) for v in x)
    return x


def accumulate_metrics(acc: dict[str, Any], metrics: Mapping[str, Any]) -> None:
    """Add one update's scalar ``metrics`` to the running sums ``acc`` without leaving the device: a tensor is
    summed as a float64 tensor (exactly the Python-float sum ``acc[k] + float(v)``, with no host sync)."""
    for k, v in metrics.items():
        x = v.detach().reshape(()).to(torch.float64) if isinstance(v, torch.Tensor) else float(v)
        acc[k] = acc.get(k, 0.0) + x


def metrics_to_floats(values: Mapping[str, Any]) -> dict[str, float]:
    """``{k: float(v)}`` for scalar tensors and numbers, with one device sync for all the tensors together."""
    out: dict[str, float] = {}
    tensors = {k: v for k, v in values.items() if isinstance(v, torch.Tensor)}
    if tensors:
        dev = next(iter(tensors.values())).device
        stacked = torch.stack([v.detach().reshape(()).to(dev, torch.float64) for v in tensors.values()])
        out.update(zip(tensors, stacked.tolist(), strict=True))
    return {k: out[k] if k in out else float(v) for k, v in values.items()}


def _load_checkpoint(path: Path) -> dict[str, Any]:
    """``torch.load`` of a checkpoint onto the CPU with ``weights_only=True``, refusing anything else."""
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        why = next((ln for ln in lines if "GLOBAL" in ln or "nsupported" in ln), lines[0] if lines else repr(exc))
        raise ValueError(
            f"{path} is not a checkpoint written by this loop: it holds objects other than tensors and plain data, "
            f"so it was not loaded (unpickling it could run code): {why} Delete the file or use a new run_dir."
        ) from exc
    if not isinstance(ck, dict) or not {"config", "agent", "buffer", "gens", "envs", "obs", "loop"} <= set(ck):
        raise ValueError(f"{path} is not a checkpoint written by this loop; delete it or use a new run_dir")
    return ck


# --------------------------------------------------------------------------------------------------- env state
def _simple(v: Any) -> bool:
    if v is None or isinstance(v, bool | int | float | str | np.ndarray | np.generic):
        return True
    if isinstance(v, tuple | list):
        return all(_simple(x) for x in v)
    return False


def _simple_vars(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in vars(obj).items() if k not in skip and _simple(v)}


def _is_mujoco(env: Any) -> bool:
    return hasattr(env, "model") and hasattr(env, "data") and type(env.data).__module__.startswith("mujoco")


def env_state(env: gym.Env) -> dict[str, Any]:
    """The mutable state of a (wrapped) Gymnasium environment: every wrapper's plain attributes (time-limit
    counters, flags), the base environment's plain attributes, its ``np_random`` state and, for MuJoCo, the
    full integration state (``mj_getState(..., mjSTATE_INTEGRATION)``)."""
    wrappers = []
    e: Any = env
    while isinstance(e, gym.Wrapper):
        wrappers.append(_simple_vars(e, ("env",)))
        e = e.env
    state: dict[str, Any] = {
        "wrappers": wrappers,
        "base": _simple_vars(e, ("_np_random",)),
        "np_random": None if getattr(e, "_np_random", None) is None else e._np_random.bit_generator.state,
    }
    if _is_mujoco(e):
        import mujoco

        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        buf = np.empty(mujoco.mj_stateSize(e.model, spec))
        mujoco.mj_getState(e.model, e.data, buf, spec)
        state["mujoco"] = buf
    return state


def restore_env_state(env: gym.Env, state: dict[str, Any]) -> None:
    """Restore :func:`env_state` into an environment built the same way (and reset once, so its generator exists)."""
    e: Any = env
    for attrs in state["wrappers"]:
        if not isinstance(e, gym.Wrapper):
            raise ValueError("environment wrapper chain differs from the checkpoint's")
        for k, v in attrs.items():
            setattr(e, k, copy.deepcopy(v))
        e = e.env
    for k, v in state["base"].items():
        setattr(e, k, copy.deepcopy(v))
    if state["np_random"] is not None:
        e.np_random.bit_generator.state = state["np_random"]
    if "mujoco" in state:
        import mujoco

        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        mujoco.mj_setState(e.model, e.data, state["mujoco"], spec)
        mujoco.mj_forward(e.model, e.data)
        mujoco.mj_setState(e.model, e.data, state["mujoco"], spec)  # mj_forward may touch the warm start


# ----------------------------------------------------------------------------------------------------- logging
class MetricsLogger:
    """Scalar metrics to ``run_dir/metrics.csv`` (``step,name,value``) and optionally TensorBoard.

    With ``resume_step`` the CSV keeps only rows with ``step <= resume_step`` (those the checkpoint had seen).
    With ``run_dir=None`` nothing is written.
    """

    def __init__(self, run_dir: Path | None, *, tensorboard: bool = False, resume_step: int | None = None) -> None:
        self.path = None if run_dir is None else Path(run_dir) / METRICS_NAME
        self._writer: Any = None
        if self.path is None:
            if tensorboard:
                raise ValueError("tensorboard=True needs a run_dir to write the event files into")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        rows: list[list[str]] = []
        if resume_step is not None and self.path.exists():
            with self.path.open(newline="") as f:
                rows = [r for r in list(csv.reader(f))[1:] if int(r[0]) <= resume_step]
        with self.path.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "name", "value"])
            w.writerows(rows)
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as exc:  # torch raises this when the tensorboard package is missing
                raise ImportError(
                    "tensorboard=True needs the 'tensorboard' package: pip install 'rltheory[tensorboard]'"
                ) from exc
            self._writer = SummaryWriter(
                log_dir=str(run_dir), purge_step=None if resume_step is None else resume_step + 1
            )

    def log(self, step: int, values: dict[str, float]) -> None:
        """Append one row per value."""
        if self.path is None:
            return
        with self.path.open("a", newline="") as f:
            w = csv.writer(f)
            for k, v in values.items():
                w.writerow([step, k, repr(float(v))])
        if self._writer is not None:
            for k, v in values.items():
                self._writer.add_scalar(k, float(v), step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


# -------------------------------------------------------------------------------------------------- evaluation
def evaluate(
    agent: OffPolicyAgent,
    env: gym.Env,
    seeds: list[int],
    device: torch.device,
    *,
    max_steps: int | None = None,
) -> np.ndarray:
    """Undiscounted returns of the deterministic policy, one episode per seed (``env.reset(seed=s)``)."""
    returns = np.zeros(len(seeds))
    for i, s in enumerate(seeds):
        obs, _ = env.reset(seed=int(s))
        done, t = False, 0
        while not done and (max_steps is None or t < max_steps):
            o = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=device).unsqueeze(0)
            a = agent.act(o, deterministic=True)[0].cpu().numpy()
            obs, r, term, trunc, _ = env.step(a)
            returns[i] += float(r)
            done, t = bool(term or trunc), t + 1
    return returns


# ------------------------------------------------------------------------------------------------------- loop
_MUJOCO_PREFIXES = (
    "Hopper",
    "HalfCheetah",
    "Walker2d",
    "Ant",
    "Humanoid",
    "InvertedPendulum",
    "InvertedDouble",
    "Reacher",
    "Swimmer",
    "Pusher",
)


def make_gym_env(env_id: str, **kwargs: Any) -> gym.Env:
    """``gymnasium.make(env_id, **kwargs)``, with an error naming the ``mujoco`` extra when a MuJoCo task cannot
    be built (``mdps.control`` has the full set of factories; ``rltheory`` does not import ``mdps``)."""
    try:
        return gym.make(env_id, **kwargs)
    except (ImportError, gym.error.DependencyNotInstalled) as exc:
        if env_id.split("/")[-1].startswith(_MUJOCO_PREFIXES):
            raise ImportError(f"{env_id} needs MuJoCo: pip install 'rltheory[mujoco]' ({exc})") from exc
        raise


def _default_env_fn(config: TrainConfig) -> Callable[[], gym.Env]:
    return lambda: make_gym_env(config.env_id, **config.env_kwargs)


@dataclass
class LoopState:
    """The loop's counters and records: what a checkpoint holds of the loop besides the agent, the replay buffer,
    the generators and the environments.

    Attributes:
        step: environment steps taken (summed over the parallel environments).
        pending: environment steps since the last training iteration (after the warm-up).
        n_updates: gradient updates done.
        next_eval, next_ckpt, next_log: the steps of the next evaluation, checkpoint and log row of update metrics.
        ep_ret: `[num_envs]` unscaled return of each environment's running episode.
        episodes: ``(step, return)`` of each finished training episode.
        evals: ``(step, returns [eval_episodes])`` of each evaluation.
        acc, acc_n: running sums of the update metrics since the last log row (float64 tensors on the device, or
            floats after a checkpoint) and the number of updates summed.
        wall, cpu: wall and process CPU time of the loop so far (all processes of the run).
        update_time: wall time inside the updates (batch sampling included).
        eval_time, eval_cpu_time: wall and process CPU time of the evaluations.
    """

    step: int
    pending: int
    n_updates: int
    next_eval: int
    next_ckpt: int
    next_log: int
    ep_ret: np.ndarray
    episodes: list[tuple[int, float]] = field(default_factory=list)
    evals: list[tuple[int, np.ndarray]] = field(default_factory=list)
    acc: dict[str, Any] = field(default_factory=dict)
    acc_n: int = 0
    wall: float = 0.0
    update_time: float = 0.0
    eval_time: float = 0.0
    cpu: float = 0.0
    eval_cpu_time: float = 0.0

    @classmethod
    def initial(cls, config: TrainConfig) -> LoopState:
        """The state before the first step."""
        return cls(
            step=0,
            pending=0,
            n_updates=0,
            next_eval=config.eval_every or config.total_steps,
            next_ckpt=config.checkpoint_every or config.total_steps + 1,
            next_log=config.log_every or config.total_steps + 1,
            ep_ret=np.zeros(config.num_envs),
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict of plain data (the metric sums as Python floats: the same sums, and no tensors)."""
        self.acc = metrics_to_floats(self.acc)
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LoopState:
        """Inverse of :meth:`to_dict`; fields with defaults may be missing (checkpoints of older versions)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown loop state fields in the checkpoint: {sorted(unknown)}")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise ValueError(f"the checkpoint's loop state is incomplete: {exc}") from exc


@dataclass
class LoopContext:
    """What a :class:`LoopHooks` method sees: the run's pieces and its current :class:`LoopState` (``state.step``
    is the number of environment steps taken so far)."""

    agent: OffPolicyAgent
    config: TrainConfig
    gens: Generators
    device: torch.device
    buffer: ReplayBuffer
    state: LoopState
    logger: MetricsLogger

    def log(self, values: Mapping[str, float], step: int | None = None) -> None:
        """Write ``values`` to the run's logs at ``step`` (default: the current step)."""
        self.logger.log(self.state.step if step is None else step, dict(values))


class LoopHooks:
    """Extension points of :func:`train_off_policy` (module docstring). The defaults do what the loop does without
    hooks; a method overrides what it needs. Hooks draw their randomness from ``ctx.gens``, so that a resumed run
    repeats it, and keep their state in :meth:`state_dict`."""

    def on_step(self, ctx: LoopContext) -> None:
        """After each environment step (its transitions stored, finished episodes logged, ``ctx.state.step``
        advanced) and before that step's updates."""

    def sample_batch(self, ctx: LoopContext, batch_size: int) -> Batch:
        """The batch of one update: ``batch_size`` uniform draws from the replay buffer."""
        return ctx.buffer.sample(batch_size, ctx.gens.np_rng)

    def on_eval(self, ctx: LoopContext, returns: np.ndarray) -> Mapping[str, float]:
        """After each evaluation (``returns``: `[eval_episodes]`): further values for the same log row."""
        return {}

    def on_end(self, ctx: LoopContext) -> None:
        """After the last step, with the logger still open."""

    def state_dict(self) -> dict[str, Any]:
        """The hooks' state for a checkpoint: tensors and plain data (numpy arrays and scalars allowed)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (called after the agent and the replay buffer are restored)."""


def train_off_policy(
    agent: OffPolicyAgent,
    config: TrainConfig,
    gens: Generators,
    device: torch.device,
    *,
    run_dir: str | Path | None = None,
    progress: bool = False,
    on_checkpoint: Callable[[int], None] | None = None,
    env_fn: Callable[[], gym.Env] | None = None,
    hooks: LoopHooks | None = None,
) -> TrainLog:
    """Train ``agent`` off-policy as ``config`` says (module docstring); resume from ``run_dir`` if it holds a
    checkpoint of the same config.

    Args:
        agent: the learner (its networks already initialised from ``gens.init_seed``).
        config: loop settings.
        gens: the run's random streams (:func:`rltheory.neural.common.seeding.make_generators`).
        device: where tensors live.
        run_dir: directory for ``metrics.csv``, TensorBoard files and ``checkpoint.pt``; None writes nothing.
        progress: show a tqdm progress bar.
        on_checkpoint: called with the step after each checkpoint is written (tests use it to kill the process).
        env_fn: builds one environment (training copies and the evaluation copy); default
            ``gymnasium.make(config.env_id, **config.env_kwargs)``. It must not scale rewards (the loop does).
        hooks: a method's extensions of the loop (:class:`LoopHooks`); None for the plain loop.

    Returns:
        :class:`TrainLog`.
    """
    rdir = None if run_dir is None else Path(run_dir)
    if config.checkpoint_every and rdir is None:
        raise ValueError("checkpoint_every > 0 needs a run_dir to write the checkpoint into")
    hooks = hooks or LoopHooks()
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    env_fn = env_fn or _default_env_fn(config)
    venv = gym.vector.SyncVectorEnv(
        [env_fn for _ in range(config.num_envs)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    eval_env = env_fn()
    space = venv.single_action_space
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"the off-policy loop needs Box actions, got {type(space).__name__}")
    low, high = np.asarray(space.low, np.float64), np.asarray(space.high, np.float64)
    obs_dim = int(np.prod(venv.single_observation_space.shape or (1,)))
    act_dim = int(np.prod(space.shape))
    buffer = ReplayBuffer(obs_dim, act_dim, config.buffer_size, device=device)
    eval_seeds = [gens.env_seed + 1_000_003 + j for j in range(config.eval_episodes)]
    n = config.num_envs

    obs, _ = venv.reset(seed=gens.env_seed)
    st = LoopState.initial(config)
    resumed_from = None
    ckpt_path = None if rdir is None else rdir / CHECKPOINT_NAME
    if ckpt_path is not None and ckpt_path.exists():
        # everything is loaded onto the CPU; load_state_dict copies parameters and optimiser state to the device,
        # and generator states stay CPU byte tensors, which is what Generator.set_state takes for every device
        ck = _load_checkpoint(ckpt_path)
        if ck["config"] != config.to_dict():
            raise ValueError(f"{ckpt_path} was written by a different config; use a new run_dir or delete it")
        agent.load_state_dict(ck["agent"])
        buffer.load_state_dict(ck["buffer"])
        gens.load_state_dict(_from_plain(ck["gens"]))
        for sub, env_st in zip(venv.envs, _from_plain(ck["envs"]), strict=True):
            restore_env_state(sub, env_st)
        obs = _from_plain(ck["obs"])
        st = LoopState.from_dict(_from_plain(ck["loop"]))
        hooks.load_state_dict(_from_plain(ck.get("hooks", {})))
        resumed_from = int(st.step)
    logger = MetricsLogger(rdir, tensorboard=config.tensorboard, resume_step=resumed_from)
    ctx = LoopContext(agent, config, gens, device, buffer, st, logger)

    def save_checkpoint() -> None:
        assert ckpt_path is not None
        state = {
            "config": config.to_dict(),
            "agent": agent.state_dict(),
            "buffer": buffer.state_dict(),
            "gens": _to_plain(gens.state_dict()),
            "envs": _to_plain([env_state(sub) for sub in venv.envs]),
            "obs": _to_plain(obs),
            "loop": _to_plain(st.to_dict()),
            "hooks": _to_plain(hooks.state_dict()),
        }
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save(state, tmp)
        os.replace(tmp, ckpt_path)

    def do_eval(step: int) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        rets = evaluate(agent, eval_env, eval_seeds, device)
        st.eval_time += time.perf_counter() - t0
        st.eval_cpu_time += time.process_time() - c0
        st.evals.append((step, rets))
        values = {"eval/return_mean": rets.mean(), "eval/return_std": rets.std(), **hooks.on_eval(ctx, rets)}
        logger.log(step, values)
        bar.set_postfix(eval_return=f"{rets.mean():.1f}")

    bar = tqdm(total=config.total_steps, initial=st.step, disable=not progress, unit="step", leave=False)
    t_start = time.perf_counter() - st.wall
    c_start = time.process_time() - st.cpu
    try:
        while st.step < config.total_steps:
            step = st.step
            if step < config.warmup_steps and config.warmup_random:
                act = gens.np_rng.uniform(low, high, size=(n, act_dim))
            else:
                o = torch.as_tensor(np.asarray(obs, dtype=np.float32), device=device)
                act = agent.act(o, deterministic=False).cpu().numpy().astype(np.float64)
            next_obs, rew, term, trunc, info = venv.step(act.astype(space.dtype))
            real_next = np.array(next_obs, copy=True)
            if "_final_obs" in info:
                for i in np.flatnonzero(info["_final_obs"]):
                    real_next[i] = info["final_obs"][i]
            buffer.add(obs, act, np.asarray(rew) * config.reward_scale, real_next, term)
            st.ep_ret += rew
            step += n
            for i in np.flatnonzero(term | trunc):
                st.episodes.append((step, float(st.ep_ret[i])))
                logger.log(step, {"train/episode_return": st.ep_ret[i]})
                st.ep_ret[i] = 0.0
            obs = next_obs
            st.step = step
            bar.update(n)
            hooks.on_step(ctx)
            if step >= config.warmup_steps:
                st.pending += n
                while st.pending >= config.update_every:
                    st.pending -= config.update_every
                    t0 = time.perf_counter()
                    for _ in range(config.updates_per_iteration):
                        metrics = agent.update(hooks.sample_batch(ctx, config.batch_size))
                        st.n_updates += 1
                        accumulate_metrics(st.acc, metrics)  # no host sync: floats only when logged
                        st.acc_n += 1
                    st.update_time += time.perf_counter() - t0
            if step >= st.next_log:
                st.next_log += config.log_every
                if st.acc_n:
                    sums = metrics_to_floats(st.acc)
                    logger.log(step, {f"train/{k}": v / st.acc_n for k, v in sums.items()})
                st.acc, st.acc_n = {}, 0
            if step >= st.next_eval or step >= config.total_steps:
                while st.next_eval <= step:
                    st.next_eval += config.eval_every or config.total_steps
                do_eval(step)
            if step >= st.next_ckpt and step < config.total_steps:
                while st.next_ckpt <= step:
                    st.next_ckpt += config.checkpoint_every
                st.wall = time.perf_counter() - t_start
                st.cpu = time.process_time() - c_start
                save_checkpoint()
                if on_checkpoint is not None:
                    on_checkpoint(step)
        st.wall = time.perf_counter() - t_start
        st.cpu = time.process_time() - c_start
        hooks.on_end(ctx)
    finally:
        bar.close()
        logger.close()
        venv.close()
        eval_env.close()
        torch.set_num_threads(prev_threads)
    return TrainLog(
        eval_steps=np.array([s for s, _ in st.evals], dtype=np.int64),
        eval_returns=np.array([r for _, r in st.evals], dtype=np.float64).reshape(len(st.evals), -1),
        episode_steps=np.array([s for s, _ in st.episodes], dtype=np.int64),
        episode_returns=np.array([r for _, r in st.episodes], dtype=np.float64),
        n_updates=int(st.n_updates),
        wall_time_s=float(st.wall),
        update_time_s=float(st.update_time),
        eval_time_s=float(st.eval_time),
        resumed_from=resumed_from,
        run_dir=rdir,
        cpu_time_s=float(st.cpu),
        eval_cpu_time_s=float(st.eval_cpu_time),
    )
