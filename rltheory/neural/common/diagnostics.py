"""Diagnostics of a trained model-based learner: Lipschitz bounds of Q networks, held-out real transitions and the
value-aware model error.

* :func:`q_lipschitz`: for each network, the spectral-norm product upper bound and a sampled lower bound (largest
  Jacobian norm at given points and difference ratio of random pairs in their bounding box), both from
  :mod:`rltheory.lipschitz`, in the units of the network's raw input;
* :func:`collect_transitions`: real transitions of a stochastic policy from fresh episodes (never trained on);
* :func:`value_aware_error` and :func:`model_value_error`: ``mean_i |E_{s' ~ model(s_i, a_i)} V(s') - V(s'_i)|``
  over real transitions ``(s_i, a_i, s'_i)``, the model expectation a Monte-Carlo mean over draws (for a
  deterministic model, its mean prediction).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rltheory.neural.common.dynamics import GaussianEnsemble
from rltheory.neural.common.replay import Batch, ReplayBuffer
from rltheory.neural.common.training import OffPolicyAgent

__all__ = ["collect_transitions", "model_value_error", "q_lipschitz", "value_aware_error"]


def value_aware_error(v_model_next: torch.Tensor | np.ndarray, v_real_next: torch.Tensor | np.ndarray) -> float:
    """``mean_i |mean_k v_model_next[i, k] - v_real_next[i]|``: the value-aware model error from ``[N, K]`` values of
    ``K`` model draws of ``s'`` and ``[N]`` values of the real ``s'``."""
    vm = np.asarray(torch.as_tensor(v_model_next).detach().cpu(), dtype=np.float64)
    vr = np.asarray(torch.as_tensor(v_real_next).detach().cpu(), dtype=np.float64)
    if vm.ndim == 1:
        vm = vm[:, None]
    return float(np.mean(np.abs(vm.mean(axis=1) - vr)))


@torch.no_grad()
def model_value_error(
    value: Callable[[torch.Tensor], torch.Tensor],
    model: GaussianEnsemble,
    data: Batch,
    n_samples: int,
    gen: torch.Generator,
    *,
    deterministic: bool = False,
) -> tuple[float, float]:
    """The value-aware model error of ``model`` on the real transitions ``data`` for the value function ``value``
    (``[B, obs_dim] -> [B]``), with ``n_samples`` model draws per transition (a random elite each, noise from
    ``gen``; mean predictions if ``deterministic``), and the same divided by ``mean |V(s')|``."""
    v_real = value(data.next_obs)
    vm = []
    for _ in range(n_samples):
        _, nxt = model.sample(data.obs, data.act, gen, deterministic=deterministic)
        vm.append(value(nxt))
    err = value_aware_error(torch.stack(vm, dim=1), v_real)
    scale = float(v_real.abs().mean())
    return err, err / scale if scale > 0 else float("nan")


def collect_transitions(agent: OffPolicyAgent, env: gym.Env, n: int, seed: int, device: torch.device) -> Batch:
    """``n`` real transitions of the agent's stochastic policy from fresh episodes (the ``k``-th reset seeded
    ``seed + k``); rewards unscaled."""
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


def q_lipschitz(nets: Sequence[nn.Module], points: torch.Tensor, seed: int = 0) -> tuple[list[float], list[float]]:
    """Upper (spectral-norm product) and sampled lower Lipschitz bounds of each network in ``nets``; the lower bound
    evaluates Jacobians at ``points`` ``[N, in_features]`` and difference ratios of random pairs in their bounding
    box."""
    from rltheory.lipschitz import lipschitz_lower_bound, lipschitz_upper_bound

    lo = float(points.min()) if points.numel() else -1.0
    hi = float(points.max()) if points.numel() else 1.0
    if not hi > lo:
        hi = lo + 1.0
    ups, lows = [], []
    for net in nets:
        ups.append(lipschitz_upper_bound(net).value)
        low = lipschitz_lower_bound(net, points, n_pairs=max(3, points.shape[0]), low=lo, high=hi, seed=seed)
        lows.append(low.value)
    return ups, lows
