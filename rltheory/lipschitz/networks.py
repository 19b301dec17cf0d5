"""Lipschitz constants of torch MLPs: a spectral-norm product upper bound and a sampled lower bound.

For ``f = W_K o sigma_{K-1} o W_{K-1} o ... o sigma_1 o W_1`` (affine layers ``W_l x + b_l``, activations with
Lipschitz constants ``c_l``), the Lipschitz constant for the Euclidean norms of input and output satisfies

    ``max_x ||J_f(x)||_2  =  Lip(f)  <=  prod_l ||W_l||_2  prod_l c_l``

(the upper bound is the one spectral normalisation controls: T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida,
"Spectral Normalization for Generative Adversarial Networks", ICLR 2018, arXiv:1802.05957; for its looseness see
A. Virmaux, K. Scaman, "Lipschitz regularity of deep neural networks", NeurIPS 2018, arXiv:1805.10965). The lower
bounds are ``||J_f(x)||_2`` at sampled points (where ``f`` is differentiable: almost everywhere) and the ratios
``||f(x) - f(y)|| / ||x - y||`` over sampled pairs, each a valid lower bound of ``Lip(f)``.

torch is imported inside the functions, so ``import rltheory.lipschitz`` does not need it. Both functions work on
a float64 copy of the network in eval mode (the caller's network, its mode, its parameters and its buffers, the
spectral-norm power-iteration vectors included, are left untouched: reading a bound twice gives the same number);
a spectral-normalised layer contributes the weight that an eval-mode forward pass uses. They work on any device:
the copy stays on the network's device, sampled inputs are drawn on the CPU (the same points on every device) and
moved there, and results come back as Python floats and CPU arrays.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "ACTIVATION_LIPSCHITZ",
    "LipschitzLowerBound",
    "LipschitzUpperBound",
    "layer_spectral_norms",
    "lipschitz_lower_bound",
    "lipschitz_upper_bound",
]

#: Lipschitz constants ``sup |sigma'|`` of element-wise activations (class name -> constant, rounded up in the last
#: digit). Parametrised ones (LeakyReLU, ELU, PReLU, Softplus with threshold) are computed from the module.
ACTIVATION_LIPSCHITZ: dict[str, float] = {
    "ReLU": 1.0,
    "ReLU6": 1.0,
    "Hardtanh": 1.0,
    "Tanh": 1.0,
    "Softsign": 1.0,
    "Softplus": 1.0,
    "LogSigmoid": 1.0,
    "CELU": 1.0,
    "Sigmoid": 0.25,
    "Hardsigmoid": 1.0 / 6.0 + 1e-15,
    "SiLU": 1.0998393201286,  # max of s(x)(1 + x(1 - s(x))) at x = 2.39936
    "GELU": 1.1289930686555,  # exact erf form: 1.1289041451852 at x = sqrt(2); tanh approximation: 1.12899306865
    "Mish": 1.0884981612516,
    "Hardswish": 1.5,
    "SELU": 1.0507009873554805 * 1.6732632423543772 + 1e-12,
    "Identity": 1.0,
    "Dropout": 1.0,  # identity in eval mode
    "Flatten": 1.0,
}

# relative round-off allowance added to each layer's spectral norm: a float64 SVD is backward stable, so the
# computed sigma_max is within a small multiple of n * eps of the true one; this keeps the product a rigorous bound
_SVD_SLACK_FACTOR = 16.0
# relative allowance for the round-off in ||f(x) - f(y)|| / ||x - y|| (pairs are at least 1e-3 * box width apart)
_RATIO_DEFLATION = 1e-10


@dataclass(frozen=True)
class LipschitzUpperBound:
    """``prod_l ||W_l||_2 * prod_l c_l``: an upper bound on the Lipschitz constant of an MLP (l2 -> l2).

    Attributes:
        value: the bound.
        layer_norms: ``||W_l||_2`` of each linear layer, in order.
        activation_constants: ``c_l`` of each activation, in order.
        method: ``"svd"`` (exact, with a round-off allowance: a rigorous bound) or ``"power"`` (power iteration:
            an estimate of the same product from below, converging to it).
    """

    value: float
    layer_norms: tuple[float, ...]
    activation_constants: tuple[float, ...]
    method: str


@dataclass(frozen=True)
class LipschitzLowerBound:
    """A sampled lower bound on the Lipschitz constant of a network.

    Attributes:
        value: ``max(gradient_norm, difference_ratio)``.
        gradient_norm: ``max_x ||J_f(x)||_2`` over the sampled points.
        difference_ratio: ``max ||f(x) - f(y)||_2 / ||x - y||_2`` over the sampled pairs.
        argmax: the input ``[d]`` where the largest Jacobian norm was found.
        n_points: points where the Jacobian was evaluated.
        n_pairs: pairs whose difference ratio was evaluated.
    """

    value: float
    gradient_norm: float
    difference_ratio: float
    argmax: np.ndarray
    n_points: int
    n_pairs: int


def _layers(net: Any) -> list[Any]:
    import torch.nn as nn

    if isinstance(net, nn.Sequential):
        items: Iterable[Any] = net
    elif isinstance(net, nn.Module):
        raise TypeError(
            f"net must be an nn.Sequential (or a sequence of modules applied in order), got {type(net).__name__}; "
            "a custom module's forward order cannot be read from its children: pass its layers as a sequence"
        )
    else:
        try:
            items = list(net)
        except TypeError:
            raise TypeError(
                f"net must be an nn.Sequential or a sequence of modules, got {type(net).__name__}"
            ) from None
    out: list[Any] = []
    for m in items:
        if isinstance(m, nn.Sequential):
            out.extend(_layers(m))
        elif isinstance(m, nn.Module):
            out.append(m)
        else:
            raise TypeError(f"every layer must be an nn.Module, got {type(m).__name__}")
    return out


def _activation_constant(m: Any) -> float:
    import torch.nn as nn

    name = type(m).__name__
    if hasattr(m, "lipschitz_constant"):  # a module that states its own constant (e.g. the output scale of mlp())
        return float(m.lipschitz_constant)
    if isinstance(m, nn.LeakyReLU):
        return max(1.0, abs(float(m.negative_slope)))
    if isinstance(m, nn.ELU):
        return max(1.0, float(m.alpha))
    if isinstance(m, nn.PReLU):
        return max(1.0, float(m.weight.detach().abs().max()))
    if isinstance(m, nn.Dropout) and m.training:
        raise ValueError("nn.Dropout in training mode is random; bounds are for eval mode")
    if name in ACTIVATION_LIPSCHITZ:
        return ACTIVATION_LIPSCHITZ[name]
    raise TypeError(
        f"unsupported layer {name}: the bounds cover nn.Linear and element-wise activations "
        f"({', '.join(sorted(ACTIVATION_LIPSCHITZ))}, LeakyReLU, ELU, PReLU, or a module with a "
        "lipschitz_constant attribute)"
    )


def _device(module: Any) -> torch.device:
    """Where ``module``'s first parameter or buffer lives (the CPU for a module without either)."""
    import torch

    for t in module.parameters():
        return t.device
    for t in module.buffers():
        return t.device
    return torch.device("cpu")


def _prepare(net: Any) -> tuple[Any, list[Any], int]:
    """A float64, eval-mode deep copy of ``net`` as an ``nn.Sequential``, its flat layers and its input size."""
    import torch
    import torch.nn as nn

    layers = _layers(net)
    copies = [copy.deepcopy(m) for m in layers]
    seq = nn.Sequential(*copies).double().eval()
    flat = _layers(seq)
    linear = [m for m in flat if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError("net has no nn.Linear layer")
    d_in = int(linear[0].in_features)
    with torch.no_grad():  # refreshes hook-based (old-style) spectral-norm weights
        seq(torch.zeros(1, d_in, dtype=torch.float64, device=_device(seq)))
    return seq, flat, d_in


def _weight(m: Any) -> torch.Tensor:
    import torch

    with torch.no_grad():
        return m.weight.detach().to(torch.float64)


def layer_spectral_norms(net: Any, *, method: str = "svd", n_iter: int = 200, seed: int = 0) -> list[float]:
    """``||W_l||_2`` (largest singular value) of every ``nn.Linear`` layer of ``net``, in order.

    Args:
        net: an ``nn.Sequential`` MLP, or a sequence of modules applied in order.
        method: ``"svd"`` (exact, ``torch.linalg.matrix_norm(W, 2)`` in float64) or ``"power"`` (``n_iter`` steps of
            power iteration on ``W^T W`` from a seeded random start: an estimate from below).
        n_iter: power-iteration steps.
        seed: seed of the power-iteration start.
    """
    import torch
    import torch.nn as nn

    if method not in ("svd", "power"):
        raise ValueError(f"method must be 'svd' or 'power', got {method!r}")
    _, flat, _ = _prepare(net)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for m in flat:
        if not isinstance(m, nn.Linear):
            continue
        W = _weight(m)
        if method == "svd":
            out.append(float(torch.linalg.matrix_norm(W, ord=2)))
        else:
            v = torch.randn(W.shape[1], dtype=torch.float64, generator=gen).to(W.device)
            v = v / v.norm()
            sigma = 0.0
            for _ in range(n_iter):
                w = W.T @ (W @ v)
                nrm = float(w.norm())
                if nrm == 0.0:
                    break
                v = w / nrm
                sigma = float((W @ v).norm())
            out.append(sigma)
    return out


def lipschitz_upper_bound(net: Any, *, method: str = "svd", n_iter: int = 200, seed: int = 0) -> LipschitzUpperBound:
    """``prod_l ||W_l||_2 * prod_l c_l``: the spectral-norm product bound on ``Lip(net)`` (Euclidean norms).

    Supported layers: ``nn.Linear`` (biases do not matter; spectral-normalised ones included), the activations of
    :data:`ACTIVATION_LIPSCHITZ`, ``LeakyReLU``, ``ELU``, ``PReLU``, ``Identity``, eval-mode ``Dropout``, any module
    with a ``lipschitz_constant`` attribute (such as the output scale of :func:`rltheory.neural.common.mlp`, counted
    among the activation constants); nested ``nn.Sequential``. The network is read, never run in training mode: its
    parameters and buffers (spectral-norm ``u``/``v`` vectors included) do not change, so two reads give the same
    bound. With ``method="svd"`` each norm is computed exactly in float64 and enlarged by ``16 max(m, n)`` float64
    ulps, so the product is a rigorous upper bound of the network's Lipschitz constant; ``method="power"``
    estimates the same product by power iteration (from below, no guarantee).

    Args:
        net: an ``nn.Sequential`` MLP, or a sequence of modules applied in order.
        method, n_iter, seed: see :func:`layer_spectral_norms`.

    Returns:
        :class:`LipschitzUpperBound`.

    Raises:
        TypeError: a layer the bound does not cover (convolutions, normalisation layers, custom modules).
    """
    import torch.nn as nn

    _, flat, _ = _prepare(net)
    norms = layer_spectral_norms(net, method=method, n_iter=n_iter, seed=seed)
    acts: list[float] = []
    shapes = []
    for m in flat:
        if isinstance(m, nn.Linear):
            shapes.append(max(m.in_features, m.out_features))
        else:
            acts.append(_activation_constant(m))
    value = 1.0
    for sigma, n in zip(norms, shapes, strict=True):
        slack = 1.0 + _SVD_SLACK_FACTOR * n * np.finfo(np.float64).eps if method == "svd" else 1.0
        value *= sigma * slack
    value *= math.prod(acts)
    return LipschitzUpperBound(float(value), tuple(norms), tuple(acts), method)


def lipschitz_lower_bound(
    net: Any,
    inputs: Any = None,
    *,
    n_points: int = 1024,
    n_pairs: int = 1024,
    low: float = -1.0,
    high: float = 1.0,
    seed: int = 0,
) -> LipschitzLowerBound:
    """A sampled lower bound on ``Lip(net)``: the largest Jacobian norm and difference ratio found.

    * Jacobian norms ``||J_f(x)||_2`` (the gradient norm for a scalar output) at ``inputs``, or at ``n_points``
      points drawn uniformly from the box ``[low, high]^d``; ``f`` is piecewise smooth, so ``J_f`` exists at
      almost every point and its norm there is at most ``Lip(f)``.
    * Difference ratios ``||f(x) - f(y)|| / ||x - y||`` over ``n_pairs`` pairs: random pairs in the box, pairs at
      geometrically shrinking distances (``10^-1`` to ``10^-3`` of the box width) along random directions, and
      pairs along the top right-singular vector of the Jacobian at the best point found (where the ratio approaches
      the Jacobian norm). Every ratio is a lower bound by definition; the largest is rounded down by ``1e-10``
      relative to absorb floating-point error in the difference.

    Computed in float64 on a copy of ``net``.

    Args:
        net: an ``nn.Sequential`` MLP, or a sequence of modules applied in order (any torch module works for
            this function if given as a one-element sequence).
        inputs: points ``[N, d]`` to evaluate at (tensor or array), instead of sampling them.
        n_points, n_pairs: sample sizes.
        low, high: the sampling box.
        seed: seed of the sampling (a ``torch.Generator``; global RNG state is not used).

    Returns:
        :class:`LipschitzLowerBound`.
    """
    import torch

    if n_points < 1 or n_pairs < 0:
        raise ValueError(f"n_points must be >= 1 and n_pairs >= 0, got {n_points}, {n_pairs}")
    if not (high > low):
        raise ValueError(f"need low < high, got low={low!r}, high={high!r}")
    seq, _, d_in = _prepare(net)
    dev = _device(seq)
    gen = torch.Generator().manual_seed(seed)  # a CPU generator: the same samples on every device

    def rand(*shape: int) -> torch.Tensor:
        return (low + (high - low) * torch.rand(*shape, dtype=torch.float64, generator=gen)).to(dev)

    if inputs is None:
        X = rand(n_points, d_in)
    else:
        X = inputs.detach() if isinstance(inputs, torch.Tensor) else torch.as_tensor(np.asarray(inputs))
        X = X.to(device=dev, dtype=torch.float64)
        if X.ndim != 2 or X.shape[1] != d_in:
            raise ValueError(f"inputs must have shape [N, {d_in}], got {tuple(X.shape)}")

    def f(x: torch.Tensor) -> torch.Tensor:
        return seq(x.unsqueeze(0)).reshape(-1)

    jac = torch.func.vmap(torch.func.jacrev(f))(X).detach()  # [N, out, in]
    U, svals, Vh = torch.linalg.svd(jac)
    norms = svals[:, 0]
    best = int(torch.argmax(norms))
    grad_norm = float(norms[best])
    x_best = X[best]
    v_best = Vh[best, 0]

    ratio = 0.0
    pairs = 0
    if n_pairs > 0:
        k3 = n_pairs // 3
        k1 = n_pairs - 2 * k3
        scale = float(high - low)
        xs = [rand(k1, d_in)]
        ys = [rand(k1, d_in)]
        if k3:
            dirs = torch.randn(k3, d_in, dtype=torch.float64, generator=gen)
            dirs = (dirs / dirs.norm(dim=1, keepdim=True)).to(dev)
            radii = (scale * torch.logspace(-1, -3, k3, dtype=torch.float64)).to(dev)
            base = X[torch.randint(0, X.shape[0], (k3,), generator=gen).to(dev)]
            xs.append(base)
            ys.append(base + radii[:, None] * dirs)
            xs.append(x_best.expand(k3, d_in))
            ys.append(x_best + radii[:, None] * v_best)
        x_all, y_all = torch.cat(xs), torch.cat(ys)
        with torch.no_grad():
            num = (seq(x_all) - seq(y_all)).reshape(x_all.shape[0], -1).norm(dim=1)
            den = (x_all - y_all).norm(dim=1)
            keep = den > 0
            if bool(keep.any()):
                # rounded down by a relative round-off allowance so that it stays a lower bound in floating point
                ratio = float((num[keep] / den[keep]).max()) * (1.0 - _RATIO_DEFLATION)
        pairs = int(x_all.shape[0])
    return LipschitzLowerBound(
        value=max(grad_norm, ratio),
        gradient_norm=grad_norm,
        difference_ratio=ratio,
        argmax=x_best.detach().cpu().numpy().copy(),
        n_points=int(X.shape[0]),
        n_pairs=pairs,
    )
