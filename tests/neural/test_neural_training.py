"""The shared training loop: determinism, checkpoint/resume (also after SIGKILL, for DSAC-T and for MBPO on the
loop's hooks), safe checkpoint loading, logs, metrics kept on the device; and the DSAC-T smoke runs. The device
comes from the ``device`` fixture (conftest.py)."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal

from rltheory.neural import dsac_t, lipschitz_mbrl


def _tiny(device, **kw):
    base = dict(
        total_steps=600,
        warmup_steps=200,
        updates_per_iteration=1,
        hidden=(16, 16),
        batch_size=32,
        buffer_size=10_000,
        eval_every=200,
        eval_episodes=1,
        log_every=100,
        device=str(device),
        env_kwargs={"max_episode_steps": 50},
    )
    base.update(kw)
    return dsac_t.Config.tiny(**base)


def _params(result):
    return torch.cat(
        [p.detach().flatten() for p in result.agent.critics.parameters()]
        + [p.detach().flatten() for p in result.agent.policy.parameters()]
    )


@pytest.mark.parametrize("algorithm", dsac_t.ALGORITHMS)
def test_smoke_all_algorithms(algorithm, device):
    res = dsac_t.train(_tiny(device, algorithm=algorithm, total_steps=300, eval_every=0), progress=False)
    assert res.log.n_updates == 101  # updates from step 200 (after 200 warm-up transitions) to 300
    assert res.log.eval_returns.shape == (1, 1) and np.isfinite(res.log.eval_returns).all()
    assert torch.isfinite(_params(res)).all()


def test_same_seed_same_run_other_seed_other_run(device):
    a = dsac_t.train(_tiny(device, total_steps=300), progress=False)
    b = dsac_t.train(_tiny(device, total_steps=300), progress=False)
    c = dsac_t.train(_tiny(device, total_steps=300, seed=1), progress=False)
    assert torch.equal(_params(a), _params(b))
    assert_array_equal(a.log.eval_returns, b.log.eval_returns)
    assert not torch.equal(_params(a), _params(c))


def test_delayed_policy_update_and_loss_form_switch(device):
    cfg = _tiny(device, loss_form="code-2025")
    from rltheory.neural.common import Batch, make_generators

    agent = dsac_t.DSACT(3, 1, np.array([-2.0]), np.array([2.0]), cfg, make_generators(0, device), device)
    g = torch.Generator().manual_seed(0)
    batch = Batch(
        torch.randn(32, 3, generator=g),
        torch.rand(32, 1, generator=g),
        -torch.rand(32, generator=g),
        torch.randn(32, 3, generator=g),
        torch.zeros(32),
    ).to(device=device)
    p0 = [p.clone() for p in agent.policy.parameters()]
    info = agent.update(batch)  # update 0: delayed step happens
    # diagnostics stay 0-d tensors on the device (no host sync per update)
    assert all(isinstance(v, torch.Tensor) and v.ndim == 0 and v.device.type == device.type for v in info.values())
    assert {"critic_loss", "policy_loss", "alpha", "q_mean"} <= set(info)
    p1 = [p.clone() for p in agent.policy.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(p0, p1, strict=True))
    agent.update(batch)  # update 1: the policy does not move
    assert all(torch.equal(a, b) for a, b in zip(p1, agent.policy.parameters(), strict=True))


def test_resume_in_process_is_identical(tmp_path, device):
    cfg = _tiny(device, checkpoint_every=300)
    full = dsac_t.train(cfg, run_dir=tmp_path / "full", progress=False)
    run_dir = tmp_path / "interrupted"
    stops = []

    class Stop(Exception):
        pass

    def stop(step):
        stops.append(step)
        raise Stop

    with pytest.raises(Stop):
        dsac_t.train(cfg, run_dir=run_dir, progress=False, on_checkpoint=stop)
    assert stops == [300]
    torch.load(run_dir / "checkpoint.pt", weights_only=True)  # tensors and plain data only
    resumed = dsac_t.train(cfg, run_dir=run_dir, progress=False)
    assert resumed.log.resumed_from == 300
    assert torch.equal(_params(full), _params(resumed))
    assert_array_equal(full.log.eval_returns, resumed.log.eval_returns)
    assert_array_equal(full.log.episode_returns, resumed.log.episode_returns)
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    evals = [float(r["value"]) for r in rows if r["name"] == "eval/return_mean"]
    assert_array_equal(evals, full.log.eval_returns.mean(1))  # no duplicated or missing rows after the resume
    # the update metrics (summed on the device, floats only at log time) are the same rows, bit for bit
    full_rows = list(csv.DictReader((tmp_path / "full" / "metrics.csv").open()))
    assert [r for r in rows if r["name"].startswith("train/")] == [
        r for r in full_rows if r["name"].startswith("train/")
    ]


def test_loop_state_round_trip_and_older_checkpoints():
    from rltheory.neural.common import LoopState

    st = LoopState.initial(_tiny("cpu"))
    st.acc = {"x": torch.tensor(1.5, dtype=torch.float64)}
    d = st.to_dict()
    assert d["acc"] == {"x": 1.5} and LoopState.from_dict(d) == st
    legacy = {k: v for k, v in d.items() if k not in ("cpu", "eval_cpu_time")}  # the loop dict before LoopState
    assert LoopState.from_dict(legacy).cpu == 0.0
    with pytest.raises(ValueError, match="unknown loop state"):
        LoopState.from_dict({**d, "nope": 1})
    with pytest.raises(ValueError, match="incomplete"):
        LoopState.from_dict({k: v for k, v in d.items() if k != "step"})


def test_hooks_run_in_order_and_their_state_is_checkpointed(tmp_path, device):
    from rltheory.neural.common import LoopHooks, make_generators
    from rltheory.neural.common.training import train_off_policy

    class Recorder(LoopHooks):
        def __init__(self):
            self.calls, self.n_batches = [], 0

        def on_step(self, ctx):
            self.calls.append(("step", ctx.state.step, ctx.state.n_updates))

        def sample_batch(self, ctx, batch_size):
            self.n_batches += 1
            return super().sample_batch(ctx, batch_size)

        def on_eval(self, ctx, returns):
            return {"hook/n_batches": float(self.n_batches)}

        def on_end(self, ctx):
            ctx.log({"hook/end": 1.0})

        def state_dict(self):
            return {"n_batches": self.n_batches}

        def load_state_dict(self, state):
            self.n_batches = int(state["n_batches"])

    cfg = _tiny(device, total_steps=300, checkpoint_every=250, eval_every=100)

    def run(run_dir, on_checkpoint=None):
        gens = make_generators(cfg.seed, device)
        agent = dsac_t.DSACT(3, 1, np.array([-2.0]), np.array([2.0]), cfg, gens, device)
        hooks = Recorder()
        train_off_policy(agent, cfg, gens, device, run_dir=run_dir, on_checkpoint=on_checkpoint, hooks=hooks)
        return hooks

    full = run(tmp_path / "full")
    assert full.calls[0] == ("step", 1, 0) and full.calls[-1] == ("step", 300, 100)  # before that step's updates
    assert full.n_batches == 101

    def stop(step):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "cut", on_checkpoint=stop)
    resumed = run(tmp_path / "cut")
    assert resumed.calls[0] == ("step", 251, 51) and resumed.n_batches == 101  # the count came from the checkpoint
    rows = [r for r in csv.DictReader((tmp_path / "cut" / "metrics.csv").open()) if r["name"].startswith("hook/")]
    assert [(r["step"], r["name"], r["value"]) for r in rows] == [
        ("100", "hook/n_batches", "0.0"),
        ("200", "hook/n_batches", "1.0"),
        ("300", "hook/n_batches", "101.0"),
        ("300", "hook/end", "1.0"),
    ]


def test_resume_refuses_a_different_config(tmp_path, device):
    cfg = _tiny(device, checkpoint_every=300, total_steps=400)

    def stop(step):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        dsac_t.train(cfg, run_dir=tmp_path, progress=False, on_checkpoint=stop)
    with pytest.raises(ValueError, match="different config"):
        dsac_t.train(cfg.replace(seed=5), run_dir=tmp_path, progress=False)


_KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, torch
    from rltheory.neural import dsac_t
    sys.path.insert(0, {tests!r})
    from test_neural_training import _tiny, _params
    cfg = _tiny(sys.argv[3], checkpoint_every=300)
    kill = sys.argv[2] == "kill"
    cb = (lambda step: os.kill(os.getpid(), signal.SIGKILL)) if kill else None
    res = dsac_t.train(cfg, run_dir=sys.argv[1], progress=False, on_checkpoint=cb)
    torch.save({{"params": _params(res).cpu(), "evals": torch.from_numpy(res.log.eval_returns),
                "resumed": res.log.resumed_from}}, os.path.join(sys.argv[1], "out.pt"))
    """
)


def test_sigkill_then_resume_is_identical(tmp_path, device):
    script = tmp_path / "run.py"
    script.write_text(_KILL_SCRIPT.format(tests=str(Path(__file__).parent)))
    killed = tmp_path / "killed"
    run = [sys.executable, str(script), str(killed)]
    p = subprocess.run([*run, "kill", str(device)], capture_output=True, text=True)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert (killed / "checkpoint.pt").exists() and not (killed / "out.pt").exists()
    p = subprocess.run([*run, "resume", str(device)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    a = torch.load(killed / "out.pt", weights_only=True)
    clean = dsac_t.train(_tiny(device, checkpoint_every=300), run_dir=tmp_path / "clean", progress=False)
    assert a["resumed"] == 300
    assert torch.equal(a["params"], _params(clean).cpu())
    assert_array_equal(a["evals"].numpy(), clean.log.eval_returns)


def _mbpo_tiny(device, variant, **kw):
    """A few hundred steps of MBPO: models trained at steps 100, 180, 260, 340, rollouts growing from 1 to 5 steps
    over epochs of 100 steps (so the model pool is reallocated after the resume), a checkpoint at step 200."""
    base = dict(
        variant=variant,
        device=str(device),
        total_steps=400,
        warmup_steps=100,
        updates_per_iteration=1,
        batch_size=32,
        model_train_freq=80,
        model_hidden=(16, 16),
        model_max_epochs=2,
        hidden=(16, 16),
        rollout_batch_size=20,
        epoch_length=100,
        rollout_schedule=(0, 3, 1, 5),
        eval_every=100,
        eval_episodes=1,
        log_every=50,
        vame_transitions=20,
        vame_samples=2,
        lipschitz_points=8,
        checkpoint_every=200,
    )
    base.update(kw)
    return lipschitz_mbrl.Config.tiny(**base)


def _mbpo_params(result):
    return torch.cat(
        [
            p.detach().flatten()
            for m in (result.agent.critics, result.agent.policy, result.model)
            for p in m.parameters()
        ]
    )


_MBPO_KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, torch
    from rltheory.neural import lipschitz_mbrl
    sys.path.insert(0, {tests!r})
    from test_neural_training import _mbpo_tiny, _mbpo_params
    cfg = _mbpo_tiny(sys.argv[3], sys.argv[4])
    kill = sys.argv[2] == "kill"
    cb = (lambda step: os.kill(os.getpid(), signal.SIGKILL)) if kill else None
    res = lipschitz_mbrl.train(cfg, run_dir=sys.argv[1], on_checkpoint=cb)
    torch.save({{"params": _mbpo_params(res).cpu(), "evals": torch.from_numpy(res.log.eval_returns),
                "vame": res.value_aware_error, "lip": list(res.q_lipschitz_lower), "resumed": res.log.resumed_from}},
               os.path.join(sys.argv[1], "out.pt"))
    """
)


@pytest.mark.parametrize("variant", ["ensemble", "spectral", "adversarial"])
def test_mbpo_sigkill_then_resume_is_identical(tmp_path, device, variant):
    script = tmp_path / "run.py"
    script.write_text(_MBPO_KILL_SCRIPT.format(tests=str(Path(__file__).parent)))
    killed = tmp_path / "killed"
    run = [sys.executable, str(script), str(killed)]
    p = subprocess.run([*run, "kill", str(device), variant], capture_output=True, text=True)
    assert p.returncode == -signal.SIGKILL, p.stderr
    assert (killed / "checkpoint.pt").exists() and not (killed / "out.pt").exists()
    ck = torch.load(killed / "checkpoint.pt", weights_only=True)  # tensors and plain data only
    assert ck["loop"]["step"] == 200 and ck["hooks"]["pool"]["size"] > 0  # the model pool is in the checkpoint
    p = subprocess.run([*run, "resume", str(device), variant], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    a = torch.load(killed / "out.pt", weights_only=True)
    clean = lipschitz_mbrl.train(_mbpo_tiny(device, variant), run_dir=tmp_path / "clean")
    assert a["resumed"] == 200
    assert torch.equal(a["params"], _mbpo_params(clean).cpu())
    assert_array_equal(a["evals"].numpy(), clean.log.eval_returns)
    assert a["vame"] == clean.value_aware_error and a["lip"] == list(clean.q_lipschitz_lower)
    # every logged row (update metrics, model statistics, Lipschitz bounds, final diagnostics) is the same, bit for bit
    assert (killed / "metrics.csv").read_text() == (tmp_path / "clean" / "metrics.csv").read_text()


class _Planted:
    """A pickle payload: unpickling it creates the directory ``marker`` (standing in for arbitrary code)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("kind", ["torch.save", "pickle"])
def test_planted_checkpoint_is_refused_without_running_it(tmp_path, device, kind):
    import pickle

    cfg = _tiny(device, checkpoint_every=100, total_steps=300)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    marker = tmp_path / "code-ran"
    payload = {"config": cfg.to_dict(), "agent": _Planted(marker)}
    ckpt = run_dir / "checkpoint.pt"
    if kind == "torch.save":
        torch.save(payload, ckpt)
    else:
        ckpt.write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match="not a checkpoint written by this loop"):
        dsac_t.train(cfg, run_dir=run_dir, progress=False)
    assert not marker.exists()
    # the payload is live: an unsafe load runs it
    if kind == "torch.save":
        torch.load(ckpt, weights_only=False)
    else:
        pickle.loads(ckpt.read_bytes())  # noqa: S301 - the point of the test
    assert marker.is_dir()


def test_accumulated_metrics_equal_python_float_sums(device):
    from rltheory.neural.common.training import accumulate_metrics, metrics_to_floats

    g = torch.Generator().manual_seed(0)
    values = [torch.randn((), generator=g) * 10 ** float(torch.randint(-8, 8, (), generator=g)) for _ in range(200)]
    values[0] = torch.tensor(-0.0)  # 0.0 + -0.0 is 0.0 for Python floats, and must stay so
    acc: dict = {}
    expected: dict = {}
    for i, v in enumerate(values):
        metrics = {"a": v.to(device), "b": v.double().to(device) * 3, "c": float(v)}
        if i % 3 == 0:
            metrics["sparse"] = v.to(device)
        accumulate_metrics(acc, metrics)
        for k, x in metrics.items():
            expected[k] = expected.get(k, 0.0) + float(x)
    got = metrics_to_floats(acc)
    assert list(got) == list(expected)
    assert all(type(x) is float for x in got.values())
    assert [repr(x) for x in got.values()] == [repr(x) for x in expected.values()]


@pytest.mark.skipif(
    not __import__("mdps.control", fromlist=["x"]).mujoco_available(), reason="the mujoco extra is not installed"
)
def test_mujoco_env_state_round_trip():
    import gymnasium as gym

    from rltheory.neural.common import env_state, restore_env_state

    def run(env, n):
        return [env.step(np.full(env.action_space.shape, 0.3, dtype=np.float32))[0] for _ in range(n)]

    a = gym.make("Hopper-v5")
    a.reset(seed=0)
    run(a, 7)
    st = env_state(a)
    ref = run(a, 5)
    b = gym.make("Hopper-v5")
    b.reset(seed=123)
    restore_env_state(b, st)
    assert_array_equal(np.array(run(b, 5)), np.array(ref))


def test_tensorboard_and_csv_logs(tmp_path, device):
    pytest.importorskip("tensorboard")
    dsac_t.train(_tiny(device, total_steps=300, tensorboard=True), run_dir=tmp_path, progress=False)
    assert any(f.name.startswith("events.out.tfevents") for f in tmp_path.iterdir())
    names = {r["name"] for r in csv.DictReader((tmp_path / "metrics.csv").open())}
    assert {"eval/return_mean", "train/critic_loss", "train/episode_return", "train/alpha"} <= names


def test_checkpointing_needs_a_run_dir(device):
    with pytest.raises(ValueError, match="run_dir"):
        dsac_t.train(_tiny(device, checkpoint_every=100), progress=False)


def test_config_round_trip_and_validation():
    cfg = dsac_t.Config.paper()
    assert dsac_t.Config.from_dict(cfg.to_dict()) == cfg
    assert cfg.hidden == (256, 256, 256) and cfg.activation == "gelu" and cfg.update_every == 20
    assert dsac_t.Config.tiny().env_id == "Pendulum-v1"
    with pytest.raises(ValueError, match="algorithm"):
        dsac_t.Config.tiny(algorithm="td3")
    with pytest.raises(ValueError, match="unknown Config fields"):
        dsac_t.Config.from_dict({"nope": 1})
    with pytest.raises(ValueError, match="gamma"):
        dsac_t.Config.tiny(gamma=1.0)


def test_env_kwargs_reach_the_environment(device):
    cfg = _tiny(device, total_steps=200, warmup_steps=200, env_kwargs={"max_episode_steps": 20})
    res = dsac_t.train(cfg, progress=False)
    assert res.log.episode_steps[0] == 20
