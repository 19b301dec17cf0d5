"""Probabilistic dynamics models for model-based RL: MBPO's Gaussian ensemble, its loss and its training.

:class:`GaussianEnsemble` holds ``E`` networks ``(s, a) -> N(mu, diag(exp(logvar)))`` over ``(r, s' - s)`` as one
batched network (``[E, B, .]`` matmuls); :func:`gaussian_nll_loss` with :func:`soft_clamp_logvar` is MBPO's loss
(learnt soft bounds on the log-variance); :func:`train_model` is MBPO's model training (standardised inputs,
hold-out early stopping, per-member best snapshots, elites); :func:`termination_fn` gives MBPO's static
termination functions for model rollouts. A draw from the model (:meth:`GaussianEnsemble.sample`) takes a random
elite per row and either samples the Gaussian or, with ``deterministic=True``, returns its mean (the
``deterministic`` flag of MBPO's ``FakeEnv.step``).

References:
    M. Janner, J. Fu, M. Zhang, S. Levine, "When to Trust Your Model: Model-Based Policy Optimization", NeurIPS
    2019, arXiv:1906.08253; code ``github.com/JannerM/mbpo`` (``mbpo/models``, ``mbpo/static``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from rltheory.neural.common.replay import ReplayBuffer

__all__ = ["GaussianEnsemble", "gaussian_nll_loss", "soft_clamp_logvar", "termination_fn", "train_model"]


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
        self,
        obs: torch.Tensor,
        act: torch.Tensor,
        gen: torch.Generator,
        members: torch.Tensor | None = None,
        *,
        deterministic: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One draw of ``(r, s')`` per row, each row from the member ``members[i]`` (default: a random elite, drawn
        from ``gen``); with ``deterministic`` the member's mean prediction instead of a Gaussian draw (MBPO's
        ``FakeEnv.step(..., deterministic=True)``: no noise is drawn)."""
        mean, logvar = self(torch.cat([obs, act], dim=-1))
        B = obs.shape[0]
        if members is None:
            elites = torch.as_tensor(self.elites, device=obs.device)
            members = elites[torch.randint(0, len(self.elites), (B,), generator=gen, device=obs.device)]
        rows = torch.arange(B, device=obs.device)
        mu, lv = mean[members, rows], logvar[members, rows]
        if deterministic:
            out = mu
        else:
            noise = torch.randn(mu.shape, generator=gen, device=mu.device, dtype=mu.dtype)
            out = mu + torch.exp(0.5 * lv) * noise
        return out[:, 0], obs + out[:, 1:]


def train_model(
    model: GaussianEnsemble,
    opt: torch.optim.Optimizer,
    buf: ReplayBuffer,
    rng: np.random.Generator,
    *,
    holdout_ratio: float,
    batch_size: int,
    weight_decay: Sequence[float],
    patience: int,
    max_epochs: int | None,
    n_elites: int,
) -> dict[str, float]:
    """Retrain ``model`` on all of ``buf`` (MBPO's ``BNN.train``): inputs ``(s, a)`` standardised, targets
    ``(r, s' - s)``, a fraction ``holdout_ratio`` of the data (at most 5,000) held out, epochs of minibatches of
    ``batch_size`` (each member its own permutation) on the NLL plus the per-layer ``weight_decay``, until no member
    improved its held-out MSE by 1% for ``patience`` epochs or ``max_epochs`` (None: no cap) were run; each member
    keeps its best snapshot, and the ``n_elites`` lowest held-out MSEs become ``model.elites``. Permutations come
    from ``rng``. Returns the epochs run, the mean of the last minibatch losses and the elites' held-out MSE."""
    n = len(buf)
    obs, act, rew, nxt = buf.obs[:n], buf.act[:n], buf.rew[:n], buf.next_obs[:n]
    inputs = torch.cat([obs, act], dim=-1)
    targets = torch.cat([rew[:, None], nxt - obs], dim=-1)
    perm = torch.as_tensor(rng.permutation(n), device=inputs.device)
    n_hold = min(int(n * holdout_ratio), 5000)
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
        for start in range(0, n_tr, batch_size):
            b = idx[:, start : start + batch_size]
            mean, logvar = model(inputs[b])
            loss = gaussian_nll_loss(mean, logvar, targets[b], model.max_logvar, model.min_logvar)
            loss = loss + model.weight_decay_loss(weight_decay)
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
        if since >= patience or (max_epochs is not None and epoch >= max_epochs):
            break
    with torch.no_grad():
        params = _member_params(model)
        for e in range(E):
            if snaps[e] is not None:
                for k, v in snaps[e].items():  # type: ignore[union-attr]
                    params[k][e].copy_(v)
    mse = holdout_mse()
    model.elites = [int(i) for i in np.argsort(mse)[:n_elites]]
    return {
        "model/epochs": float(epoch),
        "model/train_loss": float(np.mean(torch.stack(list(recent)).double().tolist())) if recent else float("nan"),
        "model/holdout_mse": float(np.mean(mse[model.elites])),
    }


def _member_params(model: GaussianEnsemble) -> dict[str, torch.Tensor]:
    return {f"{i}.{k}": getattr(layer, k) for i, layer in enumerate(model.layers) for k in ("weight", "bias")}


# ------------------------------------------------------------------------------------------------- termination
def termination_fn(env_id: str) -> Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]:
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
