"""MLP blocks, including spectrally normalised layers for Lipschitz-constrained networks.

:func:`mlp` builds ``Linear -> act -> ... -> Linear``; with ``spectral_norm=True`` every ``Linear`` is
reparametrised as ``W / sigma_max(W)`` (times ``lipschitz_scale``) by ``torch.nn.utils.parametrizations.
spectral_norm`` (one power-iteration step per training forward pass; Miyato et al., "Spectral Normalization for
Generative Adversarial Networks", ICLR 2018, arXiv:1802.05957). :func:`lipschitz_upper_bound` is
:func:`rltheory.lipschitz.lipschitz_upper_bound` (re-exported): the product of the exact spectral norms (float64
SVD) of the linear layers and the activations' Lipschitz constants, an upper bound on the network's Lipschitz
constant in the Euclidean norm, read from an eval-mode copy so that it changes no parameter or buffer (the
spectral-norm power iteration does not advance); use ``.value`` for the number.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from rltheory.lipschitz.networks import lipschitz_upper_bound

__all__ = ["ACTIVATIONS", "MLP", "lipschitz_upper_bound", "mlp"]

#: Activation names accepted by :func:`mlp`.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "silu": nn.SiLU,
    "identity": nn.Identity,
}


class _Scale(nn.Module):
    """``x -> scale * x`` (``scale > 0``); states its Lipschitz constant for :func:`lipschitz_upper_bound`."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = float(scale)

    @property
    def lipschitz_constant(self) -> float:
        return abs(self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x


class MLP(nn.Sequential):
    """``Linear -> act -> ... -> Linear`` (a ``torch.nn.Sequential``), built by :func:`mlp`."""

    in_features: int
    out_features: int


def mlp(
    in_features: int,
    out_features: int,
    hidden: Sequence[int] = (256, 256),
    *,
    activation: str = "relu",
    spectral_norm: bool = False,
    lipschitz_scale: float = 1.0,
) -> MLP:
    """A multilayer perceptron.

    Args:
        in_features, out_features: input and output sizes.
        hidden: hidden layer widths.
        activation: a key of :data:`ACTIVATIONS`.
        spectral_norm: normalise every linear layer's spectral norm to ``lipschitz_scale``.
        lipschitz_scale: the per-layer spectral norm when ``spectral_norm`` (a network Lipschitz constant of at
            most ``lipschitz_scale ** n_layers`` times the activations' constants).
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    if in_features < 1 or out_features < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"layer sizes must be >= 1, got {in_features}, {list(hidden)}, {out_features}")
    if not lipschitz_scale > 0:
        raise ValueError(f"lipschitz_scale must be > 0, got {lipschitz_scale}")
    sizes = [in_features, *hidden, out_features]
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        lin: nn.Module = nn.Linear(sizes[i], sizes[i + 1])
        if spectral_norm:
            lin = torch.nn.utils.parametrizations.spectral_norm(lin)
            if lipschitz_scale != 1.0:
                lin = nn.Sequential(lin, _Scale(lipschitz_scale))
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    net = MLP(*layers)
    net.in_features, net.out_features = in_features, out_features
    return net
