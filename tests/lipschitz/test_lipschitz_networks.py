"""Spectral-norm upper bound and sampled lower bound on the Lipschitz constant of torch MLPs."""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rltheory.lipschitz import (  # noqa: E402
    ACTIVATION_LIPSCHITZ,
    layer_spectral_norms,
    lipschitz_lower_bound,
    lipschitz_upper_bound,
)


def test_import_does_not_load_torch():
    code = "import sys, rltheory.lipschitz; assert 'torch' not in sys.modules, 'torch imported eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_hand_linear_layer():
    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    up = lipschitz_upper_bound([lin])
    assert up.layer_norms == pytest.approx((3.0,))
    assert up.value == pytest.approx(3.0, rel=1e-12)
    low = lipschitz_lower_bound([lin], n_points=16, n_pairs=30)
    assert low.value == pytest.approx(3.0, rel=1e-9)
    assert low.value <= up.value


def _mlp(widths, act, seed):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(act())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize(
    "act",
    [
        torch.nn.ReLU,
        torch.nn.Tanh,
        torch.nn.SiLU,
        torch.nn.GELU,
        torch.nn.ELU,
        torch.nn.Sigmoid,
        torch.nn.LeakyReLU,
        torch.nn.Softplus,
        torch.nn.Mish,
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_upper_bound_dominates_lower_bound(act, seed):
    net = _mlp([3, 24, 24, 2], act, seed)
    up = lipschitz_upper_bound(net)
    low = lipschitz_lower_bound(net, n_points=128, n_pairs=128, seed=seed)
    assert 0 < low.value <= up.value
    assert low.gradient_norm <= up.value and low.difference_ratio <= up.value


def test_single_layer_bounds_coincide_for_vector_outputs():
    for seed in range(5):
        net = _mlp([6, 4], torch.nn.ReLU, seed)
        up = lipschitz_upper_bound(net).value
        low = lipschitz_lower_bound(net, n_points=8, n_pairs=30, seed=seed).value
        assert low <= up and low == pytest.approx(up, rel=1e-9)


def test_spectral_normalised_network_and_caller_state_untouched():
    net = _mlp([4, 32, 32, 1], torch.nn.ReLU, 0)
    for m in net:
        if isinstance(m, torch.nn.Linear):
            torch.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=30)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}  # parameters and the power-iteration u, v
    assert any(k.endswith("_u") for k in before) and any(k.endswith("_v") for k in before)
    up = lipschitz_upper_bound(net)
    low = lipschitz_lower_bound(net, n_points=64, n_pairs=64)
    after = net.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert net.training
    assert lipschitz_upper_bound(net) == up  # reading twice gives the same bound
    assert lipschitz_lower_bound(net, n_points=64, n_pairs=64).value == low.value
    assert low.value <= up.value
    assert up.value <= 1.0 + 1e-3  # each normalised layer has norm ~1 (power-iteration estimate of sigma)


def test_module_stating_its_lipschitz_constant():
    class Scale(torch.nn.Module):
        lipschitz_constant = 2.5

        def forward(self, x):
            return 2.5 * x

    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
    up = lipschitz_upper_bound([lin, Scale()])
    assert up.activation_constants == (2.5,)
    assert up.value == pytest.approx(7.5, rel=1e-12)
    assert lipschitz_lower_bound([lin, Scale()], n_points=16, n_pairs=30).value == pytest.approx(7.5, rel=1e-9)


def test_power_iteration_approaches_svd():
    net = _mlp([5, 16, 8, 1], torch.nn.Tanh, 1)
    svd = np.array(layer_spectral_norms(net))
    power = np.array(layer_spectral_norms(net, method="power", n_iter=2000))
    assert np.all(power <= svd * (1 + 1e-12))
    np.testing.assert_allclose(power, svd, rtol=1e-6)


def test_inputs_and_validation():
    net = _mlp([2, 8, 1], torch.nn.ReLU, 0)
    low = lipschitz_lower_bound(net, inputs=np.zeros((3, 2)), n_pairs=0)
    assert low.n_points == 3 and low.n_pairs == 0
    with pytest.raises(ValueError, match="inputs"):
        lipschitz_lower_bound(net, inputs=np.zeros((3, 5)))
    with pytest.raises(TypeError, match="unsupported layer"):
        lipschitz_upper_bound(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2)))

    class Custom(torch.nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError, match="Sequential"):
        lipschitz_upper_bound(Custom())
    assert ACTIVATION_LIPSCHITZ["Sigmoid"] == 0.25
