"""The compiled kernel, the BLAS path and the torch backend compute the same backward induction."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from rltheory import TabularMDP
from rltheory.strategies import policies, tabular_mdps
from rltheory.tabular import backward_induction, dp, evaluate_policy, value_iteration


def _blas_path(monkeypatch):
    monkeypatch.setattr(dp, "_KERNEL_MAX_ENTRIES", 0)
    monkeypatch.setattr(dp, "_KERNEL_MAX_ENTRIES_INDEPENDENT", 0)


@given(tabular_mdps(kind="finite", batch_size=st.none() | st.integers(1, 4)))
def test_kernel_equals_blas_path(mdp):
    kernel = backward_induction(mdp)
    with pytest.MonkeyPatch.context() as mp:
        _blas_path(mp)
        blas = backward_induction(mdp)
    assert_allclose(kernel.values, blas.values, atol=1e-12)
    assert_allclose(kernel.q_values, blas.q_values, atol=1e-12)


@pytest.mark.parametrize("shared", [True, False])
@pytest.mark.parametrize("inhomogeneous", [True, False])
def test_large_batched_paths(monkeypatch, shared, inhomogeneous):
    # S*A*S = 48*30*48 = 69,120 entries: above the kernel threshold, so the shared-P batch runs the gemm path.
    rng = np.random.default_rng(1)
    S, A, H, B = 48, 30, 4, 3
    Pshape = ((1,) if shared else (B,)) + ((H,) if inhomogeneous else ()) + (S, A, S)
    P = rng.dirichlet(np.full(S, 0.3), Pshape[:-1])
    R = rng.random((B, S, A))
    mdp = TabularMDP(P, R, horizon=H, batched=True)
    sol = backward_induction(mdp)
    _blas_path(monkeypatch)
    blas = backward_induction(mdp)
    assert_allclose(sol.values, blas.values, atol=1e-12)
    for b in range(B):
        one = backward_induction(mdp.unbatch(b))
        assert_allclose(sol.values[b], one.values, atol=1e-12)
        assert_array_equal(sol.policy[b], one.policy)


@given(tabular_mdps(kind="finite", sparse=None))
def test_without_q_values_same_values_and_policy(mdp):
    full = backward_induction(mdp)
    lean = backward_induction(mdp, keep_q_values=False)
    assert lean.q_values is None
    assert_array_equal(lean.values, full.values)
    assert_array_equal(lean.policy, full.policy)


def test_sparse_kernel_on_a_large_sparse_mdp():
    import scipy.sparse as sp
    from tabular_oracle import naive_backward_induction

    rng = np.random.default_rng(3)
    S, A, H = 40, 3, 6
    dense = rng.dirichlet(np.full(S, 0.05), (S, A))
    dense[dense < 0.02] = 0.0
    dense /= dense.sum(-1, keepdims=True)
    mdp = TabularMDP(sp.csr_array(dense.reshape(S * A, S)), rng.random((H, S, A)), horizon=H)
    sol = backward_induction(mdp)
    assert_allclose(sol.values, naive_backward_induction(mdp), atol=1e-12)
    assert_allclose(sol.q_values[0].max(-1), sol.values[0], atol=0)


@pytest.fixture(scope="module")
def torch():
    """The torch tests skip without torch; the numpy-only tests above run either way."""
    return pytest.importorskip("torch")


@given(data=st.data())
def test_torch_backend_matches_numpy(torch, data):
    mdp = data.draw(tabular_mdps(batch_size=st.none() | st.integers(1, 3)))
    policy = data.draw(policies(mdp))
    ev_np = evaluate_policy(mdp, policy)
    ev_t = evaluate_policy(mdp, policy, backend="torch", device="cpu")
    assert_allclose(ev_t.values, ev_np.values, atol=1e-10)
    assert_allclose(ev_t.q_values, ev_np.q_values, atol=1e-10)
    if mdp.is_discounted:
        a = value_iteration(mdp, tol=1e-9)
        b = value_iteration(mdp, tol=1e-9, backend="torch", device="cpu")
        assert_allclose(a.values, b.values, atol=1e-12)
        assert np.all(a.nit == b.nit)
    else:
        a = backward_induction(mdp)
        b = backward_induction(mdp, backend="torch", device="cpu")
        assert_allclose(a.values, b.values, atol=1e-12)
        assert_allclose(a.q_values, b.q_values, atol=1e-12)
        # same tie-breaking (lowest action index) up to round-off differences between the two backends
        q_at = np.take_along_axis(a.q_values, b.policy[..., None], -1)[..., 0]
        assert_allclose(q_at, a.values, atol=1e-12)


def test_torch_rejects_sparse(torch):
    import scipy.sparse as sp

    mdp = TabularMDP(sp.csr_array(np.eye(2)), np.zeros((2, 1)), horizon=2)
    with pytest.raises(ValueError, match="dense P only"):
        backward_induction(mdp, backend="torch")
