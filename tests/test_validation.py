"""rltheory.validation, the defects of the Hardening issue's input fuzzer, the LQR stability boundary, and a fuzz of
TabularMDP and every solver of rltheory.tabular: every bad input raises a ValueError or TypeError naming the argument,
none is silently accepted."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import mdps.robust as mr
from mdps import garnet
from mdps.lqr import evaluate_linear_policy, scalar_lqr
from rltheory import TabularMDP
from rltheory import validation as val
from rltheory.linear import r2pvi
from rltheory.robust import robust_backward_induction, robust_expectation
from rltheory.tabular import (
    action_gaps,
    backward_induction,
    bellman_residual,
    evaluate_policy,
    linear_program,
    occupancy_measure,
    policy_iteration,
    solve,
    value_iteration,
)

S, A, H = 3, 2, 4
P_OK = np.full((S, A, S), 1.0 / S)
R_OK = np.arange(S * A, dtype=np.float64).reshape(S, A) / (S * A)


def _names(exc: BaseException, name: str) -> bool:
    """Whether the message names the argument as a word (``P`` in ``"P must ..."``, not in ``"Pessimistic"``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", str(exc)) is not None


def _assert_rejected(fn: Callable[[], Any], name: str, kind: type[BaseException] | tuple = (ValueError, TypeError)):
    with pytest.raises(kind) as info:
        fn()
    assert _names(info.value, name), f"the message does not name {name!r}: {info.value}"
    return info.value


# ----------------------------------------------------------------------------------------------- the module
class TestRealScalar:
    @pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(2), np.array(0.5), Fraction(1, 3)])
    def test_accepts_reals(self, value):
        assert val.real_scalar("x", value) == pytest.approx(float(value))
        assert type(val.real_scalar("x", value)) is float

    @pytest.mark.parametrize(
        "value", ["0.5", b"1", True, False, np.bool_(True), 0.5 + 0j, np.complex128(1), None, [0.5], np.ones(2)]
    )
    def test_rejects_non_reals_with_a_type_error_that_is_also_a_value_error(self, value):
        err = _assert_rejected(lambda: val.real_scalar("x", value), "x", val.ArgumentTypeError)
        assert isinstance(err, TypeError) and isinstance(err, ValueError) and err.argument == "x"

    @pytest.mark.parametrize(
        ("kwargs", "value", "match"),
        [
            ({"positive": True}, 0.0, "x must be a positive finite number, got 0.0"),
            ({"nonneg": True}, -1e-300, "x must be a non-negative finite number"),
            ({"lo": 0.0, "hi": 1.0, "hi_open": True}, 1.0, r"x must lie in \[0, 1\), got 1.0"),
            ({}, float("nan"), "x must be a finite real number, got nan"),
            ({}, float("inf"), "x must be a finite real number"),
            ({"integer": True, "lo": 1}, 0, "x must be an integer >= 1, got 0"),
        ],
    )
    def test_range(self, kwargs, value, match):
        with pytest.raises(val.ValidationError, match=match):
            val.real_scalar("x", value, **kwargs)

    def test_integer_and_infinite(self):
        assert val.real_scalar("n", np.int32(3), integer=True) == 3
        assert type(val.real_scalar("n", np.int32(3), integer=True)) is int
        for bad in (3.0, 2.5, True, "3"):
            _assert_rejected(lambda bad=bad: val.real_scalar("n", bad, integer=True), "n", val.ArgumentTypeError)
        assert val.real_scalar("cap", np.inf, nonneg=True, finite=False) == np.inf
        _assert_rejected(lambda: val.real_scalar("cap", np.nan, finite=False), "cap", val.ValidationError)

    def test_errors_pickle_with_their_argument(self):
        err = pickle.loads(pickle.dumps(val.ArgumentTypeError("x must be a real number", "x")))
        assert isinstance(err, TypeError) and err.argument == "x" and str(err) == "x must be a real number"


def test_boolean():
    assert val.boolean("flag", np.bool_(False)) is False
    for bad in ("no", "yes", 1, 0, None, np.array([True])):
        _assert_rejected(lambda bad=bad: val.boolean("flag", bad), "flag", val.ArgumentTypeError)


def test_choice():
    assert val.choice("method", np.str_("a"), ("a", "b")) == "a"
    assert val.choice("n", 2, (1, 2)) == 2
    for bad, options in (("c", ("a", "b")), (True, (1, 2)), ("1", (1, 2)), (1, ("1",)), (["a"], ("a",))):
        with pytest.raises(val.ValidationError, match=r"must be one of \["):
            val.choice("method", bad, options)


def test_generator():
    gen = np.random.default_rng(0)
    assert val.generator("rng", gen) is gen
    assert isinstance(val.generator("rng", None), np.random.Generator)
    a = val.generator("rng", 3).random()
    assert a == val.generator("rng", np.int64(3)).random() == val.generator("rng", np.random.SeedSequence(3)).random()
    for bad in ("abc", 1.5, True, [1.0], np.random.RandomState(0), object()):
        _assert_rejected(lambda bad=bad: val.generator("rng", bad), "rng", val.ArgumentTypeError)
    _assert_rejected(lambda: val.generator("rng", -1), "rng", val.ValidationError)
    # a sequence of int seeds is SeedSequence entropy, as numpy.random.default_rng takes it
    assert val.generator("rng", [1, 2]).random() == np.random.default_rng([1, 2]).random()
    _assert_rejected(lambda: val.generator("rng", [1, -2]), "rng", val.ValidationError)
    _assert_rejected(lambda: val.generator("rng", []), "rng", val.ArgumentTypeError)


class TestRealArray:
    def test_accepts_and_views(self):
        x = np.ones((2, 3))
        assert val.real_array("x", x) is x
        assert val.real_array("x", [[1, 2]]).dtype == np.float64
        assert val.real_array("x", np.array([True, False])).tolist() == [1.0, 0.0]

    @pytest.mark.parametrize(
        "bad",
        [
            np.ones(2, dtype=complex),
            np.ones(2) + 0j,
            [1.0, 2j],
            np.array(["a", "b"]),
            np.array([1.0, 2.0], dtype=object),
            [1.0, None],
            np.array(["2020-01-01"], dtype="datetime64[D]"),
            [[1.0], [1.0, 2.0]],
            len,
            sp.csr_array(np.eye(2)),
        ],
    )
    def test_rejects(self, bad):
        _assert_rejected(lambda: val.real_array("x", bad), "x", val.ArgumentTypeError)

    def test_sparse(self):
        out = val.real_array("P", sp.csr_matrix(np.eye(2, dtype=np.int64)), sparse=True)
        assert isinstance(out, sp.csr_array) and out.dtype == np.float64
        _assert_rejected(lambda: val.real_array("P", sp.csr_array(np.eye(2) * 1j), sparse=True), "P", TypeError)
        bad = sp.csr_array(np.array([[np.nan, 0.0], [0.0, 1.0]]))
        _assert_rejected(lambda: val.real_array("P", bad, sparse=True), "P", val.ValidationError)

    def test_finite_and_ndim(self):
        with pytest.raises(val.ValidationError, match=r"x must be finite; x\[1, 0\] = nan"):
            val.real_array("x", [[0.0, 1.0], [np.nan, 0.0]])
        assert np.isnan(val.real_array("x", [np.nan], finite=False)).all()
        with pytest.raises(val.ValidationError, match=r"x must have 2 or 3 axes, got shape \[2\]"):
            val.real_array("x", [1.0, 2.0], ndim=(2, 3))


def test_simplex():
    val.simplex("p", np.array([[0.5, 0.5], [1.0, 0.0]]))
    with pytest.raises(val.ValidationError, match=r"p must be non-negative; p\[1, 1\] = -0.5"):
        val.simplex("p", np.array([[0.5, 0.5], [1.5, -0.5]]))
    with pytest.raises(val.ValidationError, match=r"rows of p must sum to 1 \(within 1e-10\); p\[1\].sum\(\) = 0.9"):
        val.simplex("p", np.array([[0.5, 0.5], [0.9, 0.0]]))
    with pytest.raises(val.ValidationError, match=r"p must be finite; p\[0\] = nan"):
        val.simplex("p", np.array([np.nan, 1.0]))


# ----------------------------------------------------------------------------------------------- the issue's defects
def _mdp(**kw: Any) -> TabularMDP:
    return TabularMDP(P_OK, R_OK, **({"gamma": 0.9} | kw))


def _other_solution():
    other = TabularMDP(P_OK, 1.0 - R_OK, gamma=0.9)  # same sizes and gamma, other rewards
    return solve(other)


def _d_model():
    return mr.random_d_rectangular_mdp(4, 3, 3, 3, rng=0)


def _r2pvi_with_method_as_rewards():
    model = _d_model()
    return r2pvi(mr.population_data(model), model.phi, model.rewards, divergence="tv", lam=0.25, beta=0.0)


def _r2pvi_lam_str():
    model = _d_model()
    return r2pvi(mr.population_data(model), model.phi, model.rewards(), divergence="tv", lam="1", beta=0.0)


_SPARSE_C = sp.csr_array(P_OK.reshape(S * A, S).astype(complex))

#: (label, call, argument named, expected type): every input of the Hardening issue's list.
DEFECTS: list[tuple[str, Callable[[], Any], str, type]] = [
    ("complex P", lambda: TabularMDP(P_OK + 0j, R_OK, horizon=H), "P", TypeError),
    ("complex P (imaginary part)", lambda: TabularMDP(P_OK + 1e-3j, R_OK, horizon=H), "P", TypeError),
    ("complex R", lambda: TabularMDP(P_OK, R_OK + 1j, horizon=H), "R", TypeError),
    ("complex sparse P", lambda: TabularMDP(_SPARSE_C, R_OK, gamma=0.5), "P", TypeError),
    ("gamma='0.5'", lambda: TabularMDP(P_OK, R_OK, gamma="0.5"), "gamma", TypeError),
    ("gamma=False", lambda: TabularMDP(P_OK, R_OK, gamma=False), "gamma", TypeError),
    ("copy='yes'", lambda: TabularMDP(P_OK, R_OK, horizon=H, copy="yes"), "copy", TypeError),
    ("batched='no'", lambda: TabularMDP(P_OK, R_OK, horizon=H, batched="no"), "batched", TypeError),
    (
        "robust lam='1'",
        lambda: robust_backward_induction(_mdp(horizon=H, gamma=None), lam="1", divergence="kl"),
        "lam",
        TypeError,
    ),
    ("dual lam='1'", lambda: robust_expectation([0.0, 1.0], [0.5, 0.5], lam="1", divergence="tv"), "lam", TypeError),
    ("r2pvi lam='1'", _r2pvi_lam_str, "lam", TypeError),
    ("value_iteration tol='1e-3'", lambda: value_iteration(_mdp(), tol="1e-3"), "tol", TypeError),
    ("garnet rng='abc'", lambda: garnet(4, 2, 2, rng="abc"), "rng", TypeError),
    ("action_gaps of another MDP's solution", lambda: action_gaps(_mdp(), _other_solution()), "solution", ValueError),
    ("bellman_residual of NaN values", lambda: bellman_residual(_mdp(), np.full(S, np.nan)), "values", ValueError),
    ("r2pvi rewards=model.rewards (bound method)", _r2pvi_with_method_as_rewards, "rewards", TypeError),
    (
        "lqr K with gamma rho < 1 <= sqrt(gamma) rho",
        lambda: evaluate_linear_policy(scalar_lqr(), [[-0.32]]),
        "K",
        ValueError,
    ),
]


@pytest.mark.parametrize(("label", "call", "name", "kind"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_issue_defects_raise_naming_the_argument(label, call, name, kind):
    _assert_rejected(call, name, kind)


def test_action_gaps_accepts_every_solvers_solution():
    for mdp in (
        _mdp(),
        _mdp(gamma=None, horizon=H),
        TabularMDP(np.stack([P_OK] * 2), np.stack([R_OK] * 2), gamma=0.5, batched=True),
    ):
        ref = action_gaps(mdp)
        methods = ["value_iteration", "policy_iteration", "linear_program"]
        methods += [] if mdp.is_discounted else ["backward_induction"]
        for method in methods:
            np.testing.assert_allclose(action_gaps(mdp, solve(mdp, method)), ref, atol=1e-7)
    with pytest.raises(ValueError, match="solution does not belong to mdp: its values have shape"):
        action_gaps(_mdp(), solve(_mdp(gamma=None, horizon=H)))
    with pytest.raises(TypeError, match="solution must be a rltheory.tabular.Solution"):
        action_gaps(_mdp(), {"values": 0})


# ----------------------------------------------------------------------------------------------- LQR boundary
def test_lqr_mean_needs_sqrt_gamma_rho_below_one():
    """``x' = a x + b u + w``, ``u = -K x``: ``L = a - b K``, and the mean exists iff ``sqrt(gamma) |L| < 1``."""
    lqr = scalar_lqr()  # a = 0.9, b = 0.5, gamma = 0.9
    a, b, g = 0.9, 0.5, lqr.gamma
    edge = 1.0 / np.sqrt(g)  # |L| at the boundary
    for K_edge, inward in (((a - edge) / b, +1.0), ((a + edge) / b, -1.0)):  # L = +edge and L = -edge
        eps = 1e-6
        inside = evaluate_linear_policy(lqr, [[K_edge + inward * eps]])
        L = a - b * (K_edge + inward * eps)
        assert np.sqrt(g) * abs(L) < 1.0
        # a cost-only system: P > 0 and V < 0; P = M / (1 - gamma L^2) exactly in 1-D
        M = 1.0 + 0.1 * (K_edge + inward * eps) ** 2
        np.testing.assert_allclose(inside.P, [[M / (1.0 - g * L * L)]], rtol=1e-6)
        assert inside.P[0, 0] > 0 and inside.value(np.array([1.0])) < 0
        with pytest.raises(ValueError, match=r"K does not stabilise.*sqrt\(gamma\) \* rho\(A - BK\) = 1\.0000"):
            evaluate_linear_policy(lqr, [[K_edge - inward * eps]])
    # the gap gamma rho < 1 <= sqrt(gamma) rho: K = -0.32 gives L = 1.06, gamma L = 0.954, sqrt(gamma) L = 1.006
    assert g * 1.06 < 1.0 <= np.sqrt(g) * 1.06
    with pytest.raises(ValueError, match="K does not stabilise"):
        evaluate_linear_policy(lqr, [[-0.32]])


# ----------------------------------------------------------------------------------------------- fuzz
_OBJ = np.array([[1.0 / S] * S] * A * S, dtype=object).reshape(S, A, S)

BAD_REALS = ["0.5", True, False, 0.5 + 0j, np.complex128(0.5), None, [0.5], np.array([0.5]), float("nan"), object()]
BAD_INTS = ["4", True, 2.5, 4.0, 4 + 0j, None, [4], float("nan"), float("inf"), 0, -1]
BAD_BOOLS = ["no", "yes", "", 1, 0, None, [True]]


def _bad_arrays(good: np.ndarray) -> list[Any]:
    """Bad versions of a valid float array: complex, strings, objects, NaN, inf, a wrong shape, scalars, callables."""
    nan = good.copy()
    nan.flat[-1] = np.nan
    inf = good.copy()
    inf.flat[0] = np.inf
    return [
        good + 0j,
        good.astype(str),
        good.astype(object),
        np.array([good, None], dtype=object),
        nan,
        inf,
        good[..., :-1],
        good[None],
        0.5,
        "abc",
        None,
        len,
    ]


def _fuzz_cases() -> list[tuple[str, Callable[[], Any], str]]:
    cases: list[tuple[str, Callable[[], Any], str]] = []

    def add(label: str, name: str, fn: Callable[[], Any]) -> None:
        cases.append((label, fn, name))

    # ---- TabularMDP
    for i, bad in enumerate(_bad_arrays(P_OK) + [-P_OK, P_OK * 0.9, _OBJ, sp.csr_array(np.eye(S))]):
        add(f"TabularMDP P #{i}", "P", lambda bad=bad: TabularMDP(bad, R_OK, horizon=H))
    for i, bad in enumerate(_bad_arrays(R_OK) + [sp.csr_array(R_OK)]):
        add(f"TabularMDP R #{i}", "R", lambda bad=bad: TabularMDP(P_OK, bad, horizon=H))
    for i, bad in enumerate(BAD_REALS + [1.0, -0.1, float("inf"), 1]):
        add(f"TabularMDP gamma #{i}", "gamma", lambda bad=bad: TabularMDP(P_OK, R_OK, gamma=bad))
    for i, bad in enumerate(BAD_INTS):
        if bad is not None:
            add(f"TabularMDP horizon #{i}", "horizon", lambda bad=bad: TabularMDP(P_OK, R_OK, horizon=bad))
    init = np.full(S, 1.0 / S)
    for i, bad in enumerate(_bad_arrays(init) + [-init, init * 0.5]):
        if bad is not None:
            add(f"TabularMDP initial #{i}", "initial", lambda bad=bad: TabularMDP(P_OK, R_OK, horizon=H, initial=bad))
    for arg in ("batched", "copy"):
        for i, bad in enumerate(BAD_BOOLS):
            add(f"TabularMDP {arg} #{i}", arg, lambda arg=arg, bad=bad: TabularMDP(P_OK, R_OK, horizon=H, **{arg: bad}))

    # ---- solvers
    fin, disc = _mdp(gamma=None, horizon=H), _mdp()
    not_mdps = ["riverswim", None, {"P": P_OK, "R": R_OK}, P_OK, disc.P]
    solvers = {
        "backward_induction": lambda m: backward_induction(m),
        "value_iteration": lambda m: value_iteration(m),
        "policy_iteration": lambda m: policy_iteration(m),
        "linear_program": lambda m: linear_program(m),
        "solve": lambda m: solve(m),
        "evaluate_policy": lambda m: evaluate_policy(m, np.zeros(S, dtype=int)),
        "occupancy_measure": lambda m: occupancy_measure(m, np.zeros(S, dtype=int)),
        "bellman_residual": lambda m: bellman_residual(m, np.zeros(S)),
        "action_gaps": lambda m: action_gaps(m),
    }
    for fn_name, fn in solvers.items():
        for i, bad in enumerate(not_mdps):
            add(f"{fn_name} mdp #{i}", "mdp", lambda fn=fn, bad=bad: fn(bad))
    for i, bad in enumerate(BAD_BOOLS):
        add(
            f"backward_induction keep_q_values #{i}",
            "keep_q_values",
            lambda bad=bad: backward_induction(fin, keep_q_values=bad),
        )
    for fn_name, fn in (
        ("backward_induction", backward_induction),
        ("value_iteration", value_iteration),
        ("evaluate_policy", lambda m, **kw: evaluate_policy(m, np.zeros(S, dtype=int), **kw)),
    ):
        for i, bad in enumerate(["jax", "NUMPY", 1, None, ["numpy"], True]):
            add(f"{fn_name} backend #{i}", "backend", lambda fn=fn, bad=bad: fn(fin, backend=bad))
    for i, bad in enumerate(BAD_REALS + [0.0, -1e-3, float("inf")]):
        add(f"value_iteration tol #{i}", "tol", lambda bad=bad: value_iteration(disc, tol=bad))
    for fn_name, fn in (("value_iteration", value_iteration), ("policy_iteration", policy_iteration)):
        for i, bad in enumerate(BAD_INTS):
            add(f"{fn_name} max_iter #{i}", "max_iter", lambda fn=fn, bad=bad: fn(disc, max_iter=bad))
    for i, bad in enumerate(_bad_arrays(np.zeros(S))):
        if bad is not None:
            add(f"value_iteration V0 #{i}", "V0", lambda bad=bad: value_iteration(disc, V0=bad))
    bad_policies = [
        np.zeros(S, dtype=complex),
        np.array(["0"] * S),
        np.zeros(S, dtype=object),
        np.zeros(S, dtype=bool),
        np.zeros(S + 1, dtype=int),
        np.full(S, A, dtype=int),
        np.full(S, -1, dtype=int),
        np.full((S, A), np.nan),
        np.full((S, A), 0.4),
        np.tile([1.5, -0.5], (S, 1)),
        None,
        "greedy",
        len,
    ]
    for fn_name, fn in (("evaluate_policy", evaluate_policy), ("occupancy_measure", occupancy_measure)):
        for i, bad in enumerate(bad_policies):
            add(f"{fn_name} policy #{i}", "policy", lambda fn=fn, bad=bad: fn(disc, bad))
    for i, bad in enumerate(bad_policies + [np.full((S, A), 1.0 / A)]):
        if bad is not None:
            add(f"policy_iteration policy0 #{i}", "policy0", lambda bad=bad: policy_iteration(disc, policy0=bad))
    for i, bad in enumerate(_bad_arrays(np.zeros(S))):
        add(f"bellman_residual values #{i}", "values", lambda bad=bad: bellman_residual(disc, bad))
    for i, bad in enumerate(["simplex", "HIGHS", 1, None, ["highs"]]):
        add(f"linear_program method #{i}", "method", lambda bad=bad: linear_program(disc, method=bad))
    for i, bad in enumerate(["nope", 1, ["policy_iteration"], True]):
        add(f"solve method #{i}", "method", lambda bad=bad: solve(disc, bad))
    for i, bad in enumerate(["abc", 1.5, True, -1, [1.0], np.random.RandomState(0)]):
        add(f"garnet rng #{i}", "rng", lambda bad=bad: garnet(4, 2, 2, rng=bad))
    bad_solutions = [_other_solution(), solve(fin), {"values": np.zeros(S)}, "solution", P_OK]
    for i, bad in enumerate(bad_solutions):
        add(f"action_gaps solution #{i}", "solution", lambda bad=bad: action_gaps(disc, bad))
    return cases


FUZZ = _fuzz_cases()


@pytest.mark.parametrize(("label", "call", "name"), FUZZ, ids=[c[0] for c in FUZZ])
def test_fuzz_every_bad_input_raises_naming_the_argument(label, call, name):
    _assert_rejected(call, name)


def test_fuzz_is_not_empty():
    assert len(FUZZ) >= 250
