"""MLP blocks of rltheory.neural.common and the one Lipschitz upper bound they share with rltheory.lipschitz (on the
``device`` fixture's device, conftest.py)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from rltheory import lipschitz  # noqa: E402
from rltheory.neural.common import lipschitz_upper_bound, mlp  # noqa: E402
from rltheory.neural.common.nets import ACTIVATIONS  # noqa: E402


def test_one_lipschitz_upper_bound():
    assert lipschitz_upper_bound is lipschitz.lipschitz_upper_bound


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_reading_the_bound_changes_nothing(device, scale):
    torch.manual_seed(0)
    net = mlp(4, 2, (32, 32), activation="gelu", spectral_norm=True, lipschitz_scale=scale).to(device).train()
    with torch.no_grad():
        for _ in range(5):  # a few training-mode passes, as in training
            net(torch.randn(8, 4, device=device))
    before = {k: v.clone() for k, v in net.state_dict().items()}  # parameters and the power-iteration u, v
    assert any(k.endswith("_u") for k in before) and any(k.endswith("_v") for k in before)
    a = lipschitz_upper_bound(net)
    b = lipschitz_upper_bound(net)
    assert a == b  # two reads agree
    after = net.state_dict()
    assert after.keys() == before.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # no parameter or buffer changed
    assert net.training
    # every normalised layer has norm ~1 (the eval-mode weight); the output scale and GELU enter as constants
    assert a.activation_constants.count(scale) == (3 if scale != 1.0 else 0)
    assert a.value == pytest.approx(scale**3 * lipschitz.ACTIVATION_LIPSCHITZ["GELU"] ** 2, rel=0.05)
    low = lipschitz.lipschitz_lower_bound(net, n_points=64, n_pairs=64)
    assert low.value <= a.value
    # the side effect the bound avoids: reading a spectral-normalised weight in training mode advances u
    first = net[0][0] if scale != 1.0 else net[0]
    first.weight  # noqa: B018
    u_key = next(k for k in before if k.endswith("_u"))
    assert not torch.equal(before[u_key], net.state_dict()[u_key])


def test_plain_mlp_bound_is_the_svd_product(device):
    torch.manual_seed(1)
    net = mlp(3, 1, (16,), activation="tanh").to(device)
    linear = [m for m in net if isinstance(m, torch.nn.Linear)]
    norms = [float(torch.linalg.matrix_norm(m.weight.detach().double(), ord=2)) for m in linear]
    assert lipschitz_upper_bound(net).value == pytest.approx(norms[0] * norms[1], rel=1e-12)
    assert set(ACTIVATIONS) == {"relu", "gelu", "elu", "tanh", "silu", "identity"}
