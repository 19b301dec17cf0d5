"""Lipschitz Bellman-gap bounds for model-based RL (Zheng, Wang, Xu, Huang, ICLR 2023), checked exactly.

Four claims, all deterministic (``delta = 0``: a single violation fails):

* ``lipschitz-gap-bounds``: on line, grid and random metric MDPs with learned models at controlled W1 errors
  ``eps`` (mixtures towards random targets, or mass shifts) and on maximum-likelihood models from samples, the
  operator gap ``|T V - T_hat V|(s, a) <= gamma L_V W_1(s, a)`` for the fixed points and for random (Lipschitz and
  arbitrary) value functions, and the fixed-point gap ``||V - V_hat|| <= gamma L eps_W / (1 - gamma)`` with ``L``
  the Lipschitz constant of either fixed point (optimal values, and a random policy's values), with the
  value-aware bound in between. Measured as ratios ``measured / bound <= 1`` (a ``1e-9`` round-off allowance),
  and as the curve of the normalised fixed-point gap ``||V - V_hat|| (1 - gamma) / (gamma L)`` against ``eps``,
  which must stay below the line ``y = eps``. W1 itself is checked: the constructed models have
  ``W_1 = eps`` to ``1e-9``, and the certified LP agrees with an independent solver to ``1e-9``
  (``scipy.stats.wasserstein_distance`` on the line, the Kantorovich-Rubinstein dual LP elsewhere).
* ``lipschitz-tightness``: the equality cases: ``V = L f`` with ``f`` a Kantorovich potential makes the operator
  gap equal ``gamma L W_1``; ``V = L x`` with a shifted model makes it equal at every pair; and rewards that make
  ``V* = L x`` with a shifted model give ``||V* - V_hat*|| = gamma L eps / (1 - gamma)`` exactly.
* ``lipschitz-tradeoff``: Lipschitz-constrained value iteration at constraints ``L = kappa L_{V*}``: the
  model-induced gap obeys ``gamma L eps / (1 - gamma)`` (so shrinks with ``L``), and the approximation bias lies in
  ``[E*(L), E*(L) / (1 - gamma)]`` (so grows as ``L`` shrinks). Plotted in units of
  ``U = gamma L_{V*} eps / (1 - gamma)``: gap (below the line ``kappa``), bias and total error.
* ``lipschitz-network-bounds``: the spectral-norm product bound is at least the sampled lower bound on random
  torch MLPs, with equality for a single linear layer.

**Maxima and verdicts.** Every gap has an a-priori range whatever the learned model: rewards ``R`` (and ``R_hat``)
in ``[lo, hi]`` put every fixed point in ``[lo, hi] / (1 - gamma)``, so ``||V - V_hat|| <= eps_R + gamma (hi - lo)
/ (1 - gamma)`` (also for Lipschitz value iteration, whose projection is monotone and constant-equivariant), and
``|T V - T_hat V| <= eps_R + gamma span(V)``. Each ratio check declares, per seed, the largest value its ratio could
take (that range over the bound: ``<key>_maximum``); a cell whose bounds all sit at or above it would be VACUOUS.
None is at the quick preset (the bounds are 0.4% to 32% of the range on the line and grid, up to 4.5 times it only
at the largest ``eps`` of the random instance), so the claims PASS with the margin ``bound / maximum`` in the
report. ``value-aware bound <= Lipschitz bound`` compares two bounds and the network bounds compare two estimates of
one constant: neither has an a-priori range. Each claim ships mutants, deliberately wrong variants that must FAIL:
``W_1`` replaced by TV (the discrete metric: smaller than ``W_1`` on the unit-spaced line) and the Lipschitz
constant halved (gap bounds); the bound halved on the instance where it is attained (tightness); the bias bound
without its ``1 / (1 - gamma)`` (trade-off); the spectral norms by one power-iteration step, an underestimate
(networks).

Source reading: the paper's theorem was not reachable (abstract, introduction and project page only); the bounds
are the Kantorovich-Rubinstein reconstruction proved in :mod:`rltheory.lipschitz.gaps` and
:mod:`rltheory.lipschitz.regularization`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.stats import wasserstein_distance

from mdps.metric import (
    MetricMDP,
    empirical_model,
    linear_values,
    metric_grid,
    metric_line,
    metric_random,
    mixture_model,
    shift_capacity,
    shift_model,
    tight_fixed_point_pair,
)
from rltheory.lipschitz import (
    fixed_point_gap,
    kantorovich_potential,
    lipschitz_constant,
    lipschitz_tradeoff,
    operator_gap,
    transition_wasserstein,
    value_aware_error,
    wasserstein_line,
)
from rltheory.tabular import policy_iteration
from verification.core import BoundCheck, Claim, EqualityCheck, Mutant, Preset, SeedMaximumBoundCheck, register

CITATION = (
    "R. Zheng, X. Wang, H. Xu, F. Huang, Is Model Ensemble Necessary? Model-based RL via a Single Model with "
    "Lipschitz Regularized Value Function, ICLR 2023, arXiv:2302.01244 (theorem reconstructed in its "
    "Kantorovich-Rubinstein form; see rltheory.lipschitz.gaps)"
)
#: Round-off allowance of every ratio check (measured / bound <= 1 + ROUNDOFF).
ROUNDOFF = 1e-9
#: Tolerance of the W1 exactness and equality checks.
EXACT_TOL = 1e-9


# ------------------------------------------------------------------------------------------------ instances
def _instance(params: dict[str, Any], rng: np.random.Generator) -> MetricMDP:
    space, gamma = params["space"], params["gamma"]
    reward = params.get("reward", "random")
    if space == "line":
        return metric_line(params["S"], n_actions=params["A"], gamma=gamma, reward=reward, rng=rng)
    if space == "grid":
        return metric_grid(
            params["rows"], params["cols"], gamma=gamma, slip=0.2, ord=params.get("ord", 1), reward=reward, rng=rng
        )
    if space == "random":
        return metric_random(params["S"], params["A"], dim=params.get("dim", 2), gamma=gamma, reward=reward, rng=rng)
    raise ValueError(f"unknown space {params['space']!r}")


def _learned(inst: MetricMDP, model: str, eps: float, rng: np.random.Generator) -> MetricMDP:
    if model == "mixture":
        return mixture_model(inst, eps, target="point", rng=rng)
    if model == "mixture-random":
        return mixture_model(inst, eps, target="random", rng=rng)
    if model == "shift":
        return shift_model(inst, eps)
    raise ValueError(f"unknown model {model!r}")


def _eps_levels(params: dict[str, Any]) -> list[float]:
    """The W1 errors of a cell: absolute, or fractions of the shift capacity (which depends on P only)."""
    if params["model"] != "shift":
        return list(params["eps"])
    cap = float(shift_capacity(_instance(params, np.random.default_rng(0))).min())
    return [f * cap for f in params["eps"]]


def _safe_ratio(num: float, den: float) -> float:
    if den > 0:
        return num / den
    return 0.0 if num <= 1e-15 else np.inf


def _max_ratio(top: float, den: float) -> float:
    """The largest value a ratio ``gap / den`` can take when ``gap <= top``: ``inf`` for a zero bound."""
    return top / den if den > 0 else np.inf


def _trivial_gap(mdp: Any, mdp_hat: Any) -> float:
    """A-priori maximum of ``||V - V_hat||_inf`` for fixed points of the two models, whatever the kernels:
    ``eps_R + gamma (hi - lo) / (1 - gamma)`` with every reward of both models in ``[lo, hi]`` (optimal values,
    a policy's values and Lipschitz-constrained fixed points all lie in ``[lo, hi] / (1 - gamma)``)."""
    R, Rh = np.asarray(mdp.R, np.float64), np.asarray(mdp_hat.R, np.float64)
    gamma = float(mdp.gamma)
    lo, hi = min(R.min(), Rh.min()), max(R.max(), Rh.max())
    return float(np.abs(R - Rh).max()) + gamma * (hi - lo) / (1.0 - gamma)


def _discrete_metric(S: int) -> np.ndarray:
    return 1.0 - np.eye(S)


def _kr_dual(p: np.ndarray, q: np.ndarray, d: np.ndarray) -> float:
    """W1 by the Kantorovich-Rubinstein dual LP ``max f.(p - q) s.t. f_i - f_j <= d_ij`` (an independent form).

    The LP's potential is made exactly 1-Lipschitz by a c-transform before its value is taken (HiGHS meets the
    constraints only within its tolerance).
    """
    S = p.size
    i, j = np.nonzero(~np.eye(S, dtype=bool))
    k = np.arange(i.size)
    A = sp.csr_array((np.r_[np.ones(k.size), -np.ones(k.size)], (np.r_[k, k], np.r_[i, j])), shape=(k.size, S))
    res = linprog(
        -(p - q),
        A_ub=A,
        b_ub=d[i, j],
        bounds=[(0, 0)] + [(None, None)] * (S - 1),
        method="highs",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    f = np.min(res.x[None, :] + d, axis=1)
    return float(f @ (p - q))


# ------------------------------------------------------------------------------------------------ claim 1
def _gap_measures(
    inst: MetricMDP,
    hat: MetricMDP,
    values: list[np.ndarray],
    policy: np.ndarray,
    rng: np.random.Generator,
    w1_metric: str = "metric",
) -> dict[str, float]:
    """Every ratio measured / bound for one learned model, and the W1 error against an independent solver."""
    d, gamma = inst.metric, float(inst.mdp.gamma)  # type: ignore[arg-type]
    S, A = inst.mdp.n_states, inst.mdp.n_actions
    # the mutant "w1-as-tv" puts TV (W1 under the discrete metric) into every bound, L still under d
    dist = _discrete_metric(S) if w1_metric == "discrete" else d
    w = transition_wasserstein(inst.mdp, hat.mdp, metric=dist, validate=False)
    fp = fixed_point_gap(inst.mdp, hat.mdp, metric=d, w1=w, validate=False)
    eps_r = float(np.abs(np.asarray(inst.mdp.R) - np.asarray(hat.mdp.R)).max())
    op = op_max = 0.0
    for V in [fp.values, fp.values_hat, *values]:
        og = operator_gap(inst.mdp, hat.mdp, V, metric=d, w1=w, validate=False)
        safe = np.where(og.bound > 0, og.bound, 1.0)
        op = max(op, float(np.max(np.where(og.bound > 0, og.gap / safe, np.where(og.gap <= 1e-15, 0.0, np.inf)))))
        # |T V - T_hat V| <= eps_R + gamma span(V) whatever the learned kernel; pairs with a zero bound have W1 = 0
        # and no gap (a gap there is a violation whatever the maximum)
        top = eps_r + gamma * float(np.ptp(V))
        pos = og.bound > 0
        op_max = max(op_max, float(np.max(top / og.bound[pos])) if pos.any() else 0.0)
    fpp = fixed_point_gap(inst.mdp, hat.mdp, metric=d, w1=w, policy=policy, validate=False)
    triv = _trivial_gap(inst.mdp, hat.mdp)
    indep = 0.0
    P, Ph = inst.mdp.dense_P().reshape(-1, S), hat.mdp.dense_P().reshape(-1, S)
    for r in rng.choice(S * A, size=min(4, S * A), replace=False):
        if inst.points is not None:
            ref = wasserstein_distance(inst.points, inst.points, P[r], Ph[r])
            indep = max(indep, abs(float(wasserstein_line(P[r], Ph[r], inst.points)) - ref))
        else:
            ref = _kr_dual(P[r], Ph[r], d)
        indep = max(indep, abs(float(w.reshape(-1)[r]) - ref))
    return {
        "operator_gap_ratio": op,
        "fixed_point_ratio": _safe_ratio(fp.gap, fp.bound),
        "fixed_point_ratio_L_true": _safe_ratio(fp.gap, fp.bound_true),
        "fixed_point_ratio_L_hat": _safe_ratio(fp.gap, fp.bound_hat),
        "value_aware_ratio": _safe_ratio(fp.gap, fp.value_aware_bound),
        "value_aware_over_bound": _safe_ratio(fp.value_aware_bound, fp.bound),
        "policy_fixed_point_ratio": _safe_ratio(fpp.gap, fpp.bound),
        "w1_independent_error": indep,
        "normalised_gap": _safe_ratio(fp.gap, gamma * min(fp.lipschitz_true, fp.lipschitz_hat) / (1.0 - gamma)),
        "eps_w": fp.eps_w,
        "w1_min": float(w.min()),
        # what each ratio could reach whatever the learned model: the a-priori range of its gap over its bound
        "operator_gap_ratio_maximum": op_max,
        "fixed_point_ratio_maximum": _max_ratio(triv, fp.bound),
        "fixed_point_ratio_L_true_maximum": _max_ratio(triv, fp.bound_true),
        "fixed_point_ratio_L_hat_maximum": _max_ratio(triv, fp.bound_hat),
        "value_aware_ratio_maximum": _max_ratio(triv, fp.value_aware_bound),
        "policy_fixed_point_ratio_maximum": _max_ratio(triv, fpp.bound),
        "normalised_gap_maximum": _max_ratio(triv, gamma * min(fp.lipschitz_true, fp.lipschitz_hat) / (1.0 - gamma)),
    }


_MAX_KEYS = (
    "operator_gap_ratio",
    "fixed_point_ratio",
    "fixed_point_ratio_L_true",
    "fixed_point_ratio_L_hat",
    "value_aware_ratio",
    "value_aware_over_bound",
    "policy_fixed_point_ratio",
    "w1_independent_error",
    "operator_gap_ratio_maximum",
    "fixed_point_ratio_maximum",
    "fixed_point_ratio_L_true_maximum",
    "fixed_point_ratio_L_hat_maximum",
    "value_aware_ratio_maximum",
    "policy_fixed_point_ratio_maximum",
)


def run_gap_bounds(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Operator and fixed-point gaps against their bounds, over W1 levels, plus an empirical model per seed."""
    levels = _eps_levels(params)
    w1_metric = params.get("w1_metric", "metric")
    out = []
    for seq in seeds:
        rng = np.random.default_rng(seq)
        inst = _instance(params, rng)
        S, A = inst.mdp.n_states, inst.mdp.n_actions
        V_rand = rng.normal(size=S) * 10.0
        f = kantorovich_potential(rng.dirichlet(np.ones(S)), rng.dirichlet(np.ones(S)), inst.metric, validate=False)
        V_lip = float(rng.uniform(0.1, 5.0)) * f
        policy = rng.dirichlet(np.ones(A), size=S)
        worst = dict.fromkeys(_MAX_KEYS, 0.0)
        w1_err = 0.0
        norm_gap, norm_max, eps_measured = [], [], []
        for eps in levels:
            m = _gap_measures(inst, _learned(inst, params["model"], eps, rng), [V_rand, V_lip], policy, rng, w1_metric)
            worst = {k: max(worst[k], m[k]) for k in _MAX_KEYS}
            w1_err = max(w1_err, abs(m["eps_w"] - eps), abs(m["w1_min"] - eps))
            norm_gap.append(m["normalised_gap"])
            norm_max.append(m["normalised_gap_maximum"])
            eps_measured.append(m["eps_w"])
        emp = empirical_model(inst, params["n_samples"], rng=rng)
        m = _gap_measures(inst, emp, [V_rand, V_lip], policy, rng, w1_metric)
        worst = {k: max(worst[k], m[k]) for k in _MAX_KEYS}
        out.append(
            {
                "eps": levels,
                "normalised_gap": norm_gap,
                "normalised_gap_maximum": norm_max,
                "eps_measured": eps_measured,
                **worst,
                "empirical_eps_w": m["eps_w"],
                "w1_target_error": w1_err,
            }
        )
    return out


def _one(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    return np.asarray(1.0 + ROUNDOFF)


def _identity(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    assert x is not None
    return np.asarray(x) * (1.0 + ROUNDOFF)


def _ratio(measure: str, label: str, theorem: str | None = None, *, maximum: bool = True) -> BoundCheck:
    """``measure <= 1`` (deterministic); with ``maximum``, against the per-seed a-priori maximum
    ``<measure>_maximum`` stored by the run (VACUOUS where the bound covers it)."""
    if not maximum:
        return BoundCheck(measure, _one, delta=0.0, theorem=theorem, label=label)
    return SeedMaximumBoundCheck(
        measure, _one, delta=0.0, theorem=theorem, label=label, maximum_measure=f"{measure}_maximum"
    )


def _line(S: int, A: int, model: str, eps: list[float], **kw: Any) -> dict[str, Any]:
    return {"space": "line", "S": S, "A": A, "gamma": 0.9, "model": model, "eps": eps, "n_samples": 20, **kw}


def _grid(rows: int, cols: int, model: str, eps: list[float], **kw: Any) -> dict[str, Any]:
    return {
        "space": "grid",
        "rows": rows,
        "cols": cols,
        "S": rows * cols,
        "A": 5,
        "gamma": 0.9,
        "model": model,
        "eps": eps,
        "n_samples": 20,
        **kw,
    }


def _random(S: int, A: int, model: str, eps: list[float], **kw: Any) -> dict[str, Any]:
    return {"space": "random", "S": S, "A": A, "gamma": 0.9, "model": model, "eps": eps, "n_samples": 20, **kw}


_EPS = [0.01, 0.03, 0.1, 0.3]
_EPS_RANDOM = [0.003, 0.01, 0.03, 0.1]  # the unit square: smaller distances
_FRACTIONS = [0.1, 0.3, 0.6, 0.9]  # of the shift capacity

GAP_BOUNDS = register(
    Claim(
        name="lipschitz-gap-bounds",
        title="|T V - T_hat V| <= gamma L_V W1 and ||V - V_hat|| <= gamma L eps_W/(1-gamma) on metric MDPs (exact)",
        citation=CITATION,
        run=run_gap_bounds,
        checks=(
            _ratio("operator_gap_ratio", "operator gap <= gamma L_V W1", "lipschitz_operator_gap"),
            _ratio(
                "fixed_point_ratio",
                "fixed-point gap <= gamma min(L_V, L_Vhat) eps/(1-gamma)",
                "lipschitz_fixed_point_gap",
            ),
            _ratio("fixed_point_ratio_L_true", "fixed-point gap <= bound with L = L_V"),
            _ratio("fixed_point_ratio_L_hat", "fixed-point gap <= bound with L = L_Vhat"),
            _ratio("value_aware_ratio", "fixed-point gap <= value-aware bound"),
            _ratio("value_aware_over_bound", "value-aware bound <= Lipschitz bound", maximum=False),
            _ratio("policy_fixed_point_ratio", "policy-evaluation fixed-point gap <= bound"),
            SeedMaximumBoundCheck(
                "normalised_gap",
                _identity,
                x="eps",
                delta=0.0,
                label="(1-gamma)/(gamma L) gap <= eps_W",
                maximum_measure="normalised_gap_maximum",
            ),
            EqualityCheck("w1_target_error", EXACT_TOL, label="constructed models have W1 = eps"),
            EqualityCheck("w1_independent_error", EXACT_TOL, label="W1 = independent solver"),
        ),
        presets={
            "quick": Preset(
                (
                    _line(20, 3, "mixture", _EPS),
                    _line(20, 3, "shift", _FRACTIONS),
                    _grid(5, 5, "mixture-random", _EPS),
                    _grid(5, 5, "shift", _FRACTIONS),
                    _random(15, 3, "mixture", _EPS_RANDOM),
                ),
                n_seeds=8,
                seeds_per_task=4,
            ),
            "full": Preset(
                (
                    _line(50, 3, "mixture", _EPS),
                    _line(50, 5, "mixture-random", _EPS),
                    _line(50, 3, "shift", _FRACTIONS),
                    _grid(8, 8, "mixture-random", _EPS),
                    _grid(8, 8, "shift", _FRACTIONS),
                    _grid(8, 8, "mixture", _EPS, ord=2),
                    _random(40, 4, "mixture", _EPS_RANDOM),
                    _random(40, 4, "mixture-random", _EPS_RANDOM, dim=3),
                ),
                n_seeds=30,
                seeds_per_task=5,
            ),
            "tiny": Preset((_line(8, 2, "mixture", [0.05, 0.2]),), n_seeds=2, seeds_per_task=2),
        },
        description=__doc__ or "",
        plots=(("eps", "normalised_gap", "(1-gamma)/(gamma L) gap <= eps_W"),),
        mutants=(
            Mutant(
                "w1-as-tv",
                "W1 replaced by TV (the discrete metric) in every bound, L still under the line's metric: on the "
                "unit-spaced line TV <= W1, so the bounds shrink below gaps that attain gamma L_V W1",
                params={"w1_metric": "discrete"},
            ),
            Mutant(
                "lipschitz-halved",
                "every bound with the Lipschitz constant halved (gamma L_V W1 / 2, ...): the operator gap of a "
                "Kantorovich-potential V attains gamma L_V W1",
                bound_scale=0.5,
            ),
        ),
    )
)


# ------------------------------------------------------------------------------------------------ claim 2
def run_tightness(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Relative errors of the equality cases (0 up to round-off where theory says equality holds)."""
    out = []
    for seq in seeds:
        rng = np.random.default_rng(seq)
        inst = _instance(params, rng)
        d, gamma = inst.metric, float(inst.mdp.gamma)  # type: ignore[arg-type]
        S = inst.mdp.n_states
        L = float(rng.uniform(0.5, 3.0))
        hat = mixture_model(inst, params["eps"], target="random", rng=rng)
        P, Ph = inst.mdp.dense_P().reshape(-1, S), hat.mdp.dense_P().reshape(-1, S)
        kr = 0.0
        for r in rng.choice(P.shape[0], size=min(6, P.shape[0]), replace=False):
            f = kantorovich_potential(P[r], Ph[r], d, validate=False)
            V = L * f
            w = transition_wasserstein(inst.mdp, hat.mdp, metric=d, validate=False).reshape(-1)[r]
            gap = value_aware_error(inst.mdp, hat.mdp, V).reshape(-1)[r]
            bound = gamma * float(lipschitz_constant(V, d, validate=False)) * w
            kr = max(kr, abs(gap - bound) / max(1.0, bound))
        nan = float("nan")  # the shift constructions need axis neighbours: line and grid only
        res: dict[str, Any] = {
            "kr_equality_error": kr,
            "shift_operator_equality_error": nan,
            "fixed_point_equality_error": nan,
            "fixed_point_tight_ratio": nan,
            "fixed_point_tight_ratio_maximum": nan,
        }
        if params["space"] in ("line", "grid"):
            eps = params["shift_fraction"] * float(shift_capacity(inst).min())
            shifted = shift_model(inst, eps)
            og = operator_gap(inst.mdp, shifted.mdp, linear_values(inst, L), metric=d, validate=False)
            res["shift_operator_equality_error"] = float(np.max(np.abs(og.gap - og.bound)) / max(1.0, og.sup_bound))
            true, learned = tight_fixed_point_pair(inst, eps, L)
            fp = fixed_point_gap(true.mdp, learned.mdp, metric=d, validate=False)
            res["fixed_point_equality_error"] = abs(fp.gap - fp.bound) / max(1.0, fp.bound)
            res["fixed_point_tight_ratio"] = _safe_ratio(fp.gap, fp.bound)
            res["fixed_point_tight_ratio_maximum"] = _max_ratio(_trivial_gap(true.mdp, learned.mdp), fp.bound)
        out.append(res)
    return out


def _structured(params: dict[str, Any]) -> bool:
    return params["space"] in ("line", "grid")


TIGHTNESS = register(
    Claim(
        name="lipschitz-tightness",
        title="The Lipschitz gap bounds are attained: Kantorovich potentials, shifted models, linear value functions",
        citation=CITATION,
        run=run_tightness,
        checks=(
            EqualityCheck("kr_equality_error", EXACT_TOL, label="V = L f (Kantorovich potential): gap = gamma L W1"),
            EqualityCheck(
                "shift_operator_equality_error",
                EXACT_TOL,
                label="V = L x, shifted model: gap = bound",
                applies=_structured,
            ),
            EqualityCheck(
                "fixed_point_equality_error",
                EXACT_TOL,
                label="V* = L x, shifted model: fixed-point gap = gamma L eps/(1-gamma)",
                applies=_structured,
            ),
            SeedMaximumBoundCheck(
                "fixed_point_tight_ratio",
                _one,
                delta=0.0,
                label="tight instance: gap <= bound",
                theorem="lipschitz_fixed_point_gap",
                applies=_structured,
                maximum_measure="fixed_point_tight_ratio_maximum",
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {"space": "line", "S": 20, "A": 3, "gamma": 0.9, "eps": 0.2, "shift_fraction": 0.5},
                    {"space": "grid", "rows": 5, "cols": 5, "gamma": 0.95, "eps": 0.2, "shift_fraction": 0.5},
                    {"space": "grid", "rows": 4, "cols": 6, "gamma": 0.9, "eps": 0.2, "shift_fraction": 0.9, "ord": 2},
                    {"space": "random", "S": 15, "A": 3, "gamma": 0.9, "eps": 0.05},
                ),
                n_seeds=8,
                seeds_per_task=4,
            ),
            "full": Preset(
                (
                    {"space": "line", "S": 60, "A": 3, "gamma": 0.99, "eps": 0.2, "shift_fraction": 0.5},
                    {"space": "grid", "rows": 8, "cols": 8, "gamma": 0.95, "eps": 0.2, "shift_fraction": 0.9},
                    {
                        "space": "grid",
                        "rows": 6,
                        "cols": 9,
                        "gamma": 0.9,
                        "eps": 0.2,
                        "shift_fraction": 0.5,
                        "ord": np.inf,
                    },
                    {"space": "random", "S": 40, "A": 4, "gamma": 0.9, "eps": 0.05, "dim": 3},
                ),
                n_seeds=30,
                seeds_per_task=5,
            ),
            "tiny": Preset(
                ({"space": "line", "S": 6, "A": 2, "gamma": 0.9, "eps": 0.1, "shift_fraction": 0.5},),
                n_seeds=2,
                seeds_per_task=2,
            ),
        },
        description=__doc__ or "",
        mutants=(
            Mutant(
                "fixed-point-bound-halved",
                "the fixed-point bound gamma L eps/(1-gamma) with L halved, on the instance where the claim shows it "
                "is attained (V* = L x, shifted model)",
                bound_scale=0.5,
            ),
        ),
    )
)


# ------------------------------------------------------------------------------------------------ claim 3
def run_tradeoff(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Gap and bias of Lipschitz value iteration at ``L = kappa L_{V*}``, in units of ``gamma L_{V*} eps/(1-gamma)``."""
    kappa = np.asarray(params["kappa"], dtype=np.float64)
    out = []
    for seq in seeds:
        rng = np.random.default_rng(seq)
        inst = _instance(params, rng)
        hat = mixture_model(inst, params["eps"], target="point", rng=rng)
        d, gamma = inst.metric, float(inst.mdp.gamma)  # type: ignore[arg-type]
        L_star = float(lipschitz_constant(policy_iteration(inst.mdp).values, d, validate=False))
        curve = lipschitz_tradeoff(inst.mdp, hat.mdp, d, np.r_[0.0, kappa * L_star], validate=False)
        unit = gamma * L_star * curve.eps_w / (1.0 - gamma)
        g, b, e, t = curve.model_gap[1:], curve.bias[1:], curve.approximation_error[1:], curve.total[1:]
        bound_total = (e + gamma * curve.L[1:] * curve.eps_w) / (1.0 - gamma)
        # a-priori ranges whatever the learned model: V_L, V_hat_L and V* lie in [lo, hi] / (1 - gamma)
        triv = _trivial_gap(inst.mdp, hat.mdp)  # ||V_L - V_hat_L||
        R, Rh = np.asarray(inst.mdp.R), np.asarray(hat.mdp.R)
        span = float(max(R.max(), Rh.max()) - min(R.min(), Rh.min())) / (1.0 - gamma)  # ||V_L - V*||, ||V_hat_L - V*||
        op_top = curve.eps_r + gamma * span  # |T V_L - T_hat V_L| <= eps_R + gamma span(V_L)
        out.append(
            {
                "kappa": kappa.tolist(),
                "model_gap_rel": (g / unit).tolist(),
                "model_gap_rel_maximum": [triv / unit] * len(g),
                "bias_rel": (b / unit).tolist(),
                "total_rel": (t / unit).tolist(),
                "gap_ratio": float(np.max(g / curve.gap_bound[1:])),
                "operator_gap_ratio": float(np.max(curve.operator_gap[1:] / (gamma * curve.L[1:] * curve.eps_w))),
                "bias_lower_ratio": float(np.max(e / np.maximum(b, 1e-300))),
                "bias_upper_ratio": float(np.max((1.0 - gamma) * b / np.maximum(e, 1e-300))),
                "total_ratio": float(np.max(t / bound_total)),
                "gap_ratio_maximum": float(np.max(triv / curve.gap_bound[1:])),
                "operator_gap_ratio_maximum": float(np.max(op_top / (gamma * curve.L[1:] * curve.eps_w))),
                "bias_upper_ratio_maximum": float(np.max((1.0 - gamma) * span / np.maximum(e, 1e-300))),
                "total_ratio_maximum": float(np.max(span / bound_total)),
                "gap_at_zero": float(curve.model_gap[0]),
                "bias_increases": float(np.sum(np.diff(b) > 1e-9)),
                "best_kappa": float(kappa[int(np.argmin(t))]),
                "L_star": L_star,
                "eps_w": curve.eps_w,
            }
        )
    return out


def _kappa_bound(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    assert x is not None
    return np.asarray(x) * (1.0 + ROUNDOFF)


def _bias_bound_without_factor(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    # bias_upper_ratio = (1 - gamma) bias / E*: "bias <= E*" reads bias_upper_ratio <= 1 - gamma
    return np.asarray((1.0 - params["gamma"]) * (1.0 + ROUNDOFF))


def _drop_geometric_factor(check: Any) -> Any:
    """Mutant transform: the check ``bias <= E*(L)/(1-gamma)`` becomes ``bias <= E*(L)``."""
    if isinstance(check, BoundCheck) and check.measure == "bias_upper_ratio":
        return replace(check, bound=_bias_bound_without_factor, label="bias <= E*(L) (MUTANT: no 1/(1-gamma))")
    return check


_KAPPA = [0.03, 0.06, 0.1, 0.17, 0.25, 0.35, 0.5, 0.7, 0.85, 0.95]

TRADEOFF = register(
    Claim(
        name="lipschitz-tradeoff",
        title="A tighter Lipschitz constraint shrinks the model-induced gap and grows the approximation bias",
        citation=CITATION,
        run=run_tradeoff,
        checks=(
            SeedMaximumBoundCheck(
                "model_gap_rel",
                _kappa_bound,
                x="kappa",
                delta=0.0,
                theorem="lipschitz_constrained_gap",
                label="model gap <= gamma L eps/(1-gamma)",
                maximum_measure="model_gap_rel_maximum",
            ),
            _ratio("gap_ratio", "model gap / bound <= 1", "lipschitz_constrained_gap"),
            _ratio("operator_gap_ratio", "operator gap at V_L <= gamma L eps"),
            _ratio("bias_lower_ratio", "bias >= E*(L)", maximum=False),
            _ratio("bias_upper_ratio", "bias <= E*(L)/(1-gamma)", "lipschitz_projection_bias"),
            _ratio("total_ratio", "total error <= (E* + gamma L eps)/(1-gamma)", "lipschitz_regularized_error"),
            EqualityCheck("gap_at_zero", EXACT_TOL, label="L = 0: no model-induced gap"),
            EqualityCheck(
                "bias_increases", 0.0, label="steps where the bias grows with L (not a theorem)", informational=True
            ),
        ),
        presets={
            "quick": Preset(
                (
                    {"space": "line", "S": 20, "A": 3, "gamma": 0.9, "reward": "smooth", "eps": 0.5, "kappa": _KAPPA},
                    {"space": "line", "S": 20, "A": 3, "gamma": 0.9, "reward": "smooth", "eps": 1.5, "kappa": _KAPPA},
                    {"space": "grid", "rows": 5, "cols": 5, "S": 25, "A": 5, "gamma": 0.9, "eps": 0.5, "kappa": _KAPPA},
                ),
                n_seeds=6,
                seeds_per_task=3,
            ),
            "full": Preset(
                (
                    {"space": "line", "S": 40, "A": 3, "gamma": 0.95, "reward": "smooth", "eps": 0.5, "kappa": _KAPPA},
                    {"space": "line", "S": 40, "A": 3, "gamma": 0.95, "reward": "smooth", "eps": 2.0, "kappa": _KAPPA},
                    {
                        "space": "grid",
                        "rows": 7,
                        "cols": 7,
                        "S": 49,
                        "A": 5,
                        "gamma": 0.95,
                        "eps": 0.5,
                        "kappa": _KAPPA,
                    },
                    {
                        "space": "grid",
                        "rows": 7,
                        "cols": 7,
                        "S": 49,
                        "A": 5,
                        "gamma": 0.95,
                        "eps": 2.0,
                        "kappa": _KAPPA,
                    },
                ),
                n_seeds=20,
                seeds_per_task=5,
            ),
            "tiny": Preset(
                ({"space": "line", "S": 8, "A": 2, "gamma": 0.9, "eps": 0.3, "kappa": [0.1, 0.5, 0.9]},),
                n_seeds=2,
                seeds_per_task=2,
            ),
        },
        description=__doc__ or "",
        mutants=(
            Mutant(
                "bias-without-geometric-factor",
                "the bias bound stated as ||V_L - V*|| <= E*(L), without its 1/(1-gamma) (a dropped geometric sum): "
                "with E*(L) <= bias this claims the bias equals its lower bound",
                transform=_drop_geometric_factor,
            ),
        ),
        plots=(
            ("kappa", "model_gap_rel", "model gap <= gamma L eps/(1-gamma)"),
            ("kappa", "bias_rel", None),
            ("kappa", "total_rel", None),
        ),
    )
)


# ------------------------------------------------------------------------------------------------ claim 4
def run_network_bounds(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Spectral upper bound against the sampled lower bound on random MLPs (torch, CPU, float64 copies)."""
    import torch

    from rltheory.lipschitz import layer_spectral_norms, lipschitz_lower_bound, lipschitz_upper_bound

    acts = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "silu": torch.nn.SiLU, "elu": torch.nn.ELU}
    out = []
    for seq in seeds:
        seed = int(seq.generate_state(1)[0])
        torch.manual_seed(seed)  # module initialisation draws from torch's default generator
        widths = [params["d_in"]] + [params["width"]] * params["depth"] + [params["d_out"]]
        layers: list[Any] = []
        for i in range(len(widths) - 1):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(acts[params["activation"]]())
        net = torch.nn.Sequential(*layers)
        if params.get("spectral_norm"):
            for m in net:
                if isinstance(m, torch.nn.Linear):
                    torch.nn.utils.parametrizations.spectral_norm(m, n_power_iterations=50)
        if params.get("upper", "svd") == "power-1":  # the mutant: one power-iteration step per layer
            upper = lipschitz_upper_bound(net, method="power", n_iter=1, seed=seed)
        else:
            upper = lipschitz_upper_bound(net)
        lower = lipschitz_lower_bound(net, n_points=256, n_pairs=256, seed=seed)
        power = layer_spectral_norms(net, method="power", n_iter=300, seed=seed)
        out.append(
            {
                "lower_over_upper": lower.value / upper.value,
                "upper_over_lower": upper.value / lower.value,
                "linear_equality_error": abs(1.0 - lower.value / upper.value) if params["depth"] == 0 else 0.0,
                "power_vs_svd": float(np.max(np.abs(np.array(power) / np.array(upper.layer_norms) - 1.0))),
                "upper": upper.value,
            }
        )
    return out


def _linear(params: dict[str, Any]) -> bool:
    return params["depth"] == 0


def _net(depth: int, width: int, activation: str, **kw: Any) -> dict[str, Any]:
    return {"d_in": 4, "d_out": 1, "depth": depth, "width": width, "activation": activation, **kw}


NETWORK_BOUNDS = register(
    Claim(
        name="lipschitz-network-bounds",
        title="Spectral-norm product >= sampled Lipschitz lower bound on random MLPs (equal for one linear layer)",
        citation=(
            "T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida, Spectral Normalization for Generative Adversarial "
            "Networks, ICLR 2018, arXiv:1802.05957; used by Zheng et al., ICLR 2023, arXiv:2302.01244"
        ),
        run=run_network_bounds,
        checks=(
            _ratio("lower_over_upper", "sampled lower bound <= spectral upper bound", maximum=False),
            EqualityCheck(
                "linear_equality_error", EXACT_TOL, label="one linear layer: bounds coincide", applies=_linear
            ),
            EqualityCheck("upper_over_lower", np.inf, label="looseness upper / lower", informational=True),
            EqualityCheck("power_vs_svd", 1e-5, label="power iteration matches SVD", informational=True),
        ),
        presets={
            "quick": Preset(
                (
                    _net(0, 1, "relu", d_out=3),
                    _net(2, 32, "relu"),
                    _net(3, 64, "tanh"),
                    _net(2, 64, "silu", d_out=2),
                    _net(2, 32, "relu", spectral_norm=True),
                ),
                n_seeds=6,
                seeds_per_task=3,
            ),
            "full": Preset(
                (
                    _net(0, 1, "relu", d_out=3),
                    _net(2, 256, "relu"),
                    _net(4, 256, "tanh"),
                    _net(3, 200, "silu", d_out=8),
                    _net(4, 200, "elu"),
                    _net(3, 256, "relu", spectral_norm=True),
                ),
                n_seeds=20,
                seeds_per_task=5,
            ),
            "tiny": Preset((_net(1, 8, "relu"),), n_seeds=2, seeds_per_task=2),
        },
        mutants=(
            Mutant(
                "power-iteration-1",
                "the 'upper bound' from one power-iteration step per layer (an underestimate of each spectral norm, "
                "the default of torch's spectral_norm) instead of the exact SVD, on the linear layer where the "
                "sampled lower bound equals the true constant",
                params={"upper": "power-1"},
                preset=Preset((_net(0, 1, "relu", d_out=3),), n_seeds=4, seeds_per_task=4),
            ),
        ),
        description=(
            "Random MLPs (PyTorch default initialisation, seeded per seed): the upper bound is the product of the "
            "layers' exact spectral norms (float64 SVD, enlarged by a round-off allowance) times the activations' "
            "Lipschitz constants (SiLU 1.09984); the lower bound is the largest Jacobian norm over 256 uniform "
            "points of [-1, 1]^4 and the largest difference ratio over 256 pairs (rltheory.lipschitz.networks)."
        ),
    )
)
