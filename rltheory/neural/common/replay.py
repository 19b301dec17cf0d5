"""A uniform replay buffer that lives on the training device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Batch", "ReplayBuffer"]


@dataclass(frozen=True)
class Batch:
    """A batch of transitions ``(s, a, r, s', d)``.

    Attributes:
        obs: `[B, obs_dim]`; act: `[B, act_dim]`; rew: `[B]`; next_obs: `[B, obs_dim]`;
        done: `[B]`, 1.0 where the episode *terminated* at ``s'`` (no bootstrap); time-limit truncations are 0.
    """

    obs: torch.Tensor
    act: torch.Tensor
    rew: torch.Tensor
    next_obs: torch.Tensor
    done: torch.Tensor

    def to(self, dtype: torch.dtype | None = None, device: torch.device | str | None = None) -> Batch:
        """The same batch cast to ``dtype`` (e.g. float64 for gradient checks) and/or moved to ``device``."""
        fields = (self.obs, self.act, self.rew, self.next_obs, self.done)
        return Batch(*(t.to(device=device, dtype=dtype) for t in fields))


class ReplayBuffer:
    """A ring buffer of ``capacity`` transitions stored as tensors on ``device``; uniform sampling with replacement.

    Args:
        obs_dim, act_dim: flat observation and action sizes.
        capacity: number of transitions kept (the oldest are overwritten).
        device: where the tensors live (sampling returns views on it, no host-device copy).
        dtype: storage dtype.
    """

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        capacity: int,
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        if obs_dim < 1 or act_dim < 1:
            raise ValueError(f"obs_dim and act_dim must be >= 1, got {obs_dim}, {act_dim}")
        self.capacity, self.obs_dim, self.act_dim = int(capacity), int(obs_dim), int(act_dim)
        self.device, self.dtype = torch.device(device), dtype
        kw: dict[str, Any] = {"device": self.device, "dtype": dtype}
        self.obs = torch.zeros((self.capacity, self.obs_dim), **kw)
        self.act = torch.zeros((self.capacity, self.act_dim), **kw)
        self.rew = torch.zeros(self.capacity, **kw)
        self.next_obs = torch.zeros((self.capacity, self.obs_dim), **kw)
        self.done = torch.zeros(self.capacity, **kw)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, obs: Any, act: Any, rew: Any, next_obs: Any, done: Any) -> None:
        """Append a batch of ``n`` transitions (arrays with a leading axis ``n``, or one unbatched transition)."""
        o = torch.as_tensor(np.asarray(obs), dtype=self.dtype, device=self.device).reshape(-1, self.obs_dim)
        n = o.shape[0]
        if n > self.capacity:
            raise ValueError(f"cannot add {n} transitions to a buffer of capacity {self.capacity}")
        a = torch.as_tensor(np.asarray(act), dtype=self.dtype, device=self.device).reshape(n, self.act_dim)
        r = torch.as_tensor(np.asarray(rew), dtype=self.dtype, device=self.device).reshape(n)
        o2 = torch.as_tensor(np.asarray(next_obs), dtype=self.dtype, device=self.device).reshape(n, self.obs_dim)
        d = torch.as_tensor(np.asarray(done), dtype=self.dtype, device=self.device).reshape(n)
        idx = (self.pos + torch.arange(n, device=self.device)) % self.capacity
        self.obs[idx], self.act[idx], self.rew[idx], self.next_obs[idx], self.done[idx] = o, a, r, o2, d
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """``batch_size`` transitions drawn uniformly with replacement; indices come from ``rng``."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = torch.as_tensor(rng.integers(0, self.size, size=batch_size), device=self.device)
        return Batch(self.obs[idx], self.act[idx], self.rew[idx], self.next_obs[idx], self.done[idx])

    def resize(self, capacity: int) -> None:
        """Change the capacity in place, keeping the newest ``min(len(self), capacity)`` transitions in the order
        they were added (the oldest are dropped when the buffer shrinks)."""
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        capacity = int(capacity)
        if capacity == self.capacity:
            return
        n = self.size
        order = (self.pos - n + torch.arange(n, device=self.device)) % self.capacity  # oldest first
        keep = order[max(0, n - capacity) :]
        m = keep.shape[0]
        for k in ("obs", "act", "rew", "next_obs", "done"):
            old = getattr(self, k)
            new = torch.zeros((capacity, *old.shape[1:]), device=self.device, dtype=self.dtype)
            new[:m] = old[keep]
            setattr(self, k, new)
        self.capacity, self.size, self.pos = capacity, m, m % capacity

    def state_dict(self) -> dict[str, Any]:
        """The filled part of the buffer and its pointers (for a checkpoint), on the CPU."""
        n = self.size
        return {
            "capacity": self.capacity,
            "pos": self.pos,
            "size": n,
            **{k: getattr(self, k)[:n].cpu() for k in ("obs", "act", "rew", "next_obs", "done")},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (the capacity must match)."""
        if int(state["capacity"]) != self.capacity:
            raise ValueError(f"checkpoint buffer capacity {state['capacity']} != {self.capacity}")
        n = int(state["size"])
        for k in ("obs", "act", "rew", "next_obs", "done"):
            getattr(self, k)[:n] = state[k].to(device=self.device, dtype=self.dtype)
        self.pos, self.size = int(state["pos"]), n
