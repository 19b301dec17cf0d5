"""Robust offline RL with f-divergence regularization (Tang, Liu, Xu, ICML 2025, arXiv:2411.18612), checked exactly.

Five claims:

* ``r2pvi-duals``: the exact duals of :mod:`rltheory.robust` (TV, KL, Pearson chi^2 regularized; TV and KL balls)
  equal their cvxpy primals to ``1e-6`` on seeded random instances, including ``lam = 1e-3`` with
  ``v in [0, 100]``. Every primal value is the objective at the solver's (cleaned, feasible) ``q``, so an upper
  bound on the infimum. For chi^2 two solves are made and the smaller value kept: the ``q``-form of
  :func:`rltheory.robust.robust_expectation_primal`, which has ``1 / p0`` in its cone and, with ``p0`` entries near
  ``1e-4`` and ``lam = 1e-3``, stops up to ``5e-5`` *above* the infimum (the closed-form minimiser attains the dual
  value exactly there; this gap is reported as information), and the same problem in the variables ``y = q / p0``
  (:func:`chi2_primal_scaled`), accurate there but not at large ``lam``.
* ``r2pvi-theorem-5-2``: ``SubOpt(pi_hat, s, lam) <= 2 beta Phi(s)`` for every state, with ``beta`` from
  Theorem 5.2, ridge ``gamma = 1`` and the paper's per-coordinate penalty, with probability ``>= 1 - delta``
  (binomial test over seeds). SubOpt is computed **exactly** by the d-RRMDP planner
  (``d_rectangular_backward_induction`` minus ``d_rectangular_evaluate_policy``), never by rollouts, and ``Phi``
  by the valid upper bound :func:`rltheory.bounds.r2pvi.r2pvi_uncertainty` (the supremum over all linear kernels).
  Measured as the ratio ``max_s SubOpt(s) / (2 beta Phi(s)) <= 1``. Rewards lie in ``[0, 1]``, so ``SubOpt(s) <=
  H`` whatever the learner does: per seed the ratio can reach at most ``H / min_s 2 beta Phi(s)`` (stored as
  ``ratio_maximum``; the data-free ``sqrt(K + 1) / (2 beta)``, from ``Phi >= H / sqrt(K + 1)`` on the simplex, is
  drawn in the report). With the theorem's constants ``2 beta Phi`` is 180 to 13,000 at ``K <= 10^4`` against
  ``H = 3``, so the quick cells are **VACUOUS** (the inequality cannot fail there); the report gives, per cell, the
  ``K`` at which ``2 beta Phi`` would first drop below ``H`` (extrapolated with ``Phi ~ K^{-1/2}``): about
  ``6e7`` (TV), ``7e8`` (chi^2), ``2.5e9`` (KL). The full preset adds cells at ``K = 10^8 ... 10^11`` drawn as
  per-step transition counts (:func:`count_data`: the same law as ``K`` trajectories, milliseconds per seed), where
  ``2 beta Phi < H`` and the inequality is tested for real.
* ``r2pvi-consistency``: the exact SubOpt (from the uniform initial distribution) against the number ``K`` of
  trajectories has a log-log slope whose bootstrap interval reaches a value ``<= -1/2`` (the exponent of the
  theorem's ``O~(K^{-1/2})`` rate: SubOpt must decrease at least that fast), per divergence. The framework's
  ``RateCheck(direction="upper")`` passes when the interval's low end is ``<= exponent``, i.e. when the interval
  contains a value ``<= -1/2``: the right direction for an upper bound on a decreasing quantity (a synthetic test
  in ``tests/linear/test_r2pvi_claims.py`` checks it both ways). With the theorem's ``beta`` the penalty dominates
  until ``K`` is in the millions, so these cells use a practical ``beta = 0.1`` (not covered by the theorem's
  constants). The instance has actions on a smooth curve of the simplex
  (:func:`mdps.robust.bernstein_d_rectangular_mdp`): with a finite set of well-separated actions SubOpt is exactly
  0 once the estimate beats the action gap, and a log-log slope is not defined.
* ``r2pvi-simulated`` (the paper's algorithm) and ``r2pvi-simulated-code`` (the official code's options: its
  penalty, no floor, fail state, sampled TV threshold, chi^2 by Nelder-Mead *minimising*, baselines by
  Nelder-Mead): the simulated linear MDP of the paper's Figure 1, 100 trajectories of a uniform behaviour policy,
  ``beta = 1``, ridge ``0.1``, ``lam = 0.1``, DRPVI/DRVI-L radius ``0.1`` on coordinate 4 at the first step.
  The average return at perturbation ``q in {0, 0.1, ..., 1}`` is computed **exactly** by
  :func:`rltheory.tabular.evaluate_policy` on the perturbed MDP (not by the code's 100 test episodes). Every cell
  also runs PEVI on the same data, so the checks compare paired differences: PEVI better at ``q = 0``, R2PVI better
  at ``q = 1`` (so R2PVI is flatter: returns are affine in ``q``), and a larger ``lam`` gives a steeper curve,
  i.e. behaviour closer to the non-robust one (``drop = return(0) - return(1)`` grows from ``lam = 0.1`` to
  ``0.6``). Each is a one-sided 95% bootstrap interval on the seed mean: PASS when it excludes 0 on the predicted
  side, FAIL when it excludes 0 on the other side, INCONCLUSIVE otherwise.

  What the paper's algorithm shows on this instance (docs/r2pvi.md): the nominal factor of coordinate 4 is a point
  mass on the good state, which KL and chi^2 cannot perturb (absolute continuity), so the *exact* robust policies
  of all three divergences coincide with the nominal one; the robustness of R2PVI-KL and -chi^2 comes from the rare
  sampled transitions into the fail state and is weak for chi^2 (hence the larger seed counts). TV with the paper's
  threshold ``min_{s in S} V + lam`` includes the fail state (value 0), so ``alpha = lam`` truncates every value at
  the first step and the policy does not depend on ``lam`` in ``[0.1, 1]``: its lambda check is informational.
  The official figure's strongly robust chi^2 curve is reproduced by the code's minimising Nelder-Mead, not by the
  paper's supremum.

Mutants (each must come out FAIL; ``rltheory verify CLAIM --mutant``): ``r2pvi-duals~sup-dual`` (every dual with
the wrong sign: the optimistic ``sup``), ``r2pvi-theorem-5-2~bound-1e-4`` (``2 beta Phi`` divided by ``10^4``: the
bound is vacuous at runnable trajectory counts, so only a scaled bound can fail there),
``r2pvi-consistency~data-cap-100`` (a learner that never uses more than 100 trajectories: flat SubOpt),
``r2pvi-simulated~opposite-signs`` and ``r2pvi-simulated-code~opposite-signs`` (every predicted sign reversed).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
from scipy import stats

import mdps.robust as mr
from rltheory.bounds import get as get_theorem
from rltheory.bounds.r2pvi import r2pvi_beta, r2pvi_uncertainty
from rltheory.linear import OfflineData, drpvi, drvi_l, pevi, r2pvi, ridge_statistics
from rltheory.robust import (
    d_rectangular_backward_induction,
    d_rectangular_evaluate_policy,
    kl_ball_expectation,
    robust_expectation,
    tv_ball_expectation,
)
from rltheory.tabular import evaluate_policy
from verification.core import (
    CellData,
    Check,
    CheckOutcome,
    Claim,
    EqualityCheck,
    Mutant,
    Preset,
    RateCheck,
    SeedMaximumBoundCheck,
    describe_nonfinite,
)
from verification.core import register as register_claim
from verification.stats import MIN_SLOPE_SEEDS

CITATION = (
    "C. Tang, Z. Liu, P. Xu, Robust Offline Reinforcement Learning with Linearly Structured f-Divergence "
    "Regularization, ICML 2025, arXiv:2411.18612"
)
DELTA = 0.1
DUAL_TOL = 1e-6


# ----------------------------------------------------------------------------------------------- a mean-sign check
#: Fewest seeds a :class:`MeanSignCheck` decides on: its widened one-sided bootstrap bound is the small-sample
#: interval of :func:`verification.stats.bootstrap_slope` applied to a mean, which reaches its nominal coverage from
#: :data:`verification.stats.MIN_SLOPE_SEEDS` seeds on.
MIN_SIGN_SEEDS = MIN_SLOPE_SEEDS


@dataclass(frozen=True)
class MeanSignCheck:
    """The seed mean of ``measure`` has the predicted sign, by a one-sided bootstrap bound.

    The one-sided ``level`` percentile bootstrap bounds of the mean of ``sign * measure`` are widened about the mean
    by ``t_{n-1, level} / z_level * sqrt(n / (n - 1))`` (the small-sample correction of
    :func:`verification.stats.bootstrap_slope`). PASS when the lower bound lies above 0, FAIL when the upper bound lies
    below 0 (the opposite sign is established), INCONCLUSIVE otherwise (including all-zero differences).
    Non-finite measurements are FAIL (with their count); fewer than :data:`MIN_SIGN_SEEDS` seeds are UNDERPOWERED.
    The outcome's ``detail`` has the mean and its one-sided bounds ``low``, ``high`` (in the measure's units) and the
    ``margin``: the deciding one-sided bound of ``sign * mean`` (its lower bound, or its upper bound when FAIL),
    positive on the predicted side.
    """

    measure: str
    sign: int
    label: str
    level: float = 0.95
    n_boot: int = 4000
    min_seeds: int = MIN_SIGN_SEEDS
    applies: Callable[[dict[str, Any]], bool] | None = None
    informational: bool = False

    def evaluate(self, cell: CellData) -> CheckOutcome:
        raw = cell.column(self.measure).ravel()
        if (why := describe_nonfinite("measured", raw)) is not None:
            return CheckOutcome(self.label, cell.params, "FAIL", why, {"n": int(raw.size)})
        x = self.sign * raw
        n = int(x.size)
        gen = np.random.default_rng(0)
        means = x[gen.integers(0, n, size=(self.n_boot, n))].mean(axis=1)
        lo, hi = (float(v) for v in np.quantile(means, [1 - self.level, self.level]))
        mean = float(x.mean())
        if n > 1:
            widen = float(stats.t.ppf(self.level, n - 1) / stats.norm.ppf(self.level) * np.sqrt(n / (n - 1)))
            lo, hi = mean - (mean - lo) * widen, mean + (hi - mean) * widen
        verdict = "PASS" if lo > 0 else "FAIL" if hi < 0 else "INCONCLUSIVE"
        margin = lo if verdict != "FAIL" else hi
        raw_lo, raw_hi = (lo, hi) if self.sign > 0 else (-hi, -lo)
        stat = (
            f"mean {self.sign * mean:.4g} (predicted {'> 0' if self.sign > 0 else '< 0'}), one-sided "
            f"{int(100 * self.level)}% bootstrap bounds (widened) {raw_lo:.4g} below, {raw_hi:.4g} above, over {n} "
            f"seeds; {int((x > 0).sum())} seeds on the predicted side, {int((x < 0).sum())} opposite"
        )
        if n < self.min_seeds:
            verdict = "UNDERPOWERED"
            stat = f"UNDERPOWERED: {n} seeds < {self.min_seeds} (bootstrap bound below its nominal level); " + stat
        return CheckOutcome(
            self.label,
            cell.params,
            cast(Any, verdict),
            stat,
            {"mean": self.sign * mean, "low": raw_lo, "high": raw_hi, "margin": margin, "n": n},
        )


def _flip_sign(check: Any) -> Any:
    """Mutant transform: predict the opposite sign."""
    return replace(check, sign=-check.sign) if isinstance(check, MeanSignCheck) else check


# ----------------------------------------------------------------------------------------------- a per-seed maximum
def _checks(*checks: Any) -> tuple[Check, ...]:
    # MeanSignCheck implements the check protocol (evaluate / applies / informational / label) of verification.core
    return cast("tuple[Check, ...]", checks)


# ----------------------------------------------------------------------------------------------- duals vs primals
@functools.lru_cache(maxsize=16)
def _chi2_scaled_program(n: int) -> tuple[Any, Any, dict[str, Any]]:
    """The chi^2 primal on the support in the variables ``y = q / p0`` (built once per support size, DPP):
    ``min (p0 c) . y + ||sqrt(lam p0) (y - 1)||^2`` s.t. ``p0 . y = 1``, ``y >= 0``, ``c = v - min v``. Without the
    ``1 / p0`` of the ``q`` form it stays well conditioned when ``p0`` has entries ~1e-4 and ``lam = 1e-3``."""
    import cvxpy as cp

    y = cp.Variable(n, nonneg=True)
    wc = cp.Parameter(n, name="p0c")
    r = cp.Parameter(n, nonneg=True, name="sqrt_lam_p0")
    p = cp.Parameter(n, nonneg=True, name="p0")
    prob = cp.Problem(cp.Minimize(wc @ y + cp.sum_squares(cp.multiply(r, y - 1))), [p @ y == 1])
    assert prob.is_dpp()
    return prob, y, {"wc": wc, "r": r, "p": p}


def chi2_primal_scaled(v: np.ndarray, p0: np.ndarray, lam: float) -> float:
    """An independent cvxpy primal of ``inf_q E_q v + lam chi2(q || p0)`` (Clarabel at tolerances 1e-11, retried
    with its defaults if that fails), evaluated with numpy at the solver's cleaned ``q``: a feasible point's value."""
    supp = p0 > 0
    ps, vs = p0[supp], v[supp]
    m = float(vs.min())
    c = vs - m
    prob, y, par = _chi2_scaled_program(int(ps.size))
    par["wc"].value, par["r"].value, par["p"].value = ps * c, np.sqrt(lam * ps), ps
    import cvxpy as cp

    if ps.size == 1:  # q = p0 is the only feasible point
        return float(vs[0])
    for settings in ({"tol_gap_abs": 1e-11, "tol_gap_rel": 1e-11, "tol_feas": 1e-11, "max_iter": 500}, {}):
        try:
            prob.solve(solver="CLARABEL", **settings)
        except cp.error.SolverError:
            continue
        if y.value is not None:
            break
    if y.value is None:
        raise RuntimeError(f"chi2 primal failed: {prob.status}")
    q = ps * np.maximum(np.asarray(y.value), 0.0)
    q /= q.sum()
    return m + float(q @ c) + lam * float(((q - ps) ** 2 / ps).sum())


def _sup_dual(fn: Callable[..., Any], v: np.ndarray, p0: np.ndarray, **kw: Any) -> float:
    """The mutant's dual with the wrong sign: ``sup_q E_q v - (penalty)`` instead of the ``inf``, by
    ``c - inf_q E_q (c - v) + (penalty)`` with ``c = max v`` (the optimistic value, as the official code's minimising
    chi^2 solver)."""
    c = float(v.max())
    return c - float(fn(c - v, p0, **kw))


def run_duals(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """``pairs`` random ``(v, p0, lam, rho)`` per seed; the largest |dual - cvxpy primal| of each problem.

    ``params["dual"] == "sup"`` (a mutant) replaces every dual by its sign-flipped ``sup`` form."""
    sup = params.get("dual", "inf") == "sup"
    out = []
    for seq in seeds:
        gen = np.random.default_rng(seq)
        errs = {k: 0.0 for k in ("tv", "kl", "chi2", "chi2_library_primal", "tv_ball", "kl_ball")}
        for _ in range(params["pairs"]):
            S = int(gen.integers(2, 9))
            p0 = gen.dirichlet(np.full(S, 0.7))
            p0[gen.random(S) < 0.2] = 0.0
            if p0.sum() == 0:
                p0[0] = 1.0
            p0 /= p0.sum()
            if params["regime"] == "small-lambda":
                v, lam = gen.uniform(0.0, 100.0, S), 1e-3
            else:
                v, lam = gen.uniform(0.0, 5.0, S), float(np.exp(gen.uniform(np.log(1e-3), np.log(1e3))))
            rho = float(gen.uniform(0.0, 1.5))
            for div in ("tv", "kl", "chi2"):
                if sup:
                    dual = _sup_dual(robust_expectation, v, p0, lam=lam, divergence=div)
                else:
                    dual = float(robust_expectation(v, p0, lam=lam, divergence=div))
                primal = float(robust_expectation(v, p0, lam=lam, divergence=div, method="primal"))
                if div == "chi2":
                    # Two feasible-point values, each >= the infimum: the library's q-form solve (loses ~1e-5 when
                    # p0 has entries ~1e-4 and lam = 1e-3) and the y = q / p0 form (loses accuracy at large lam).
                    # Their minimum is the better upper bound; the library's own gap is reported apart.
                    errs["chi2_library_primal"] = max(errs["chi2_library_primal"], abs(primal - dual))
                    primal = min(primal, chi2_primal_scaled(v, p0, lam))
                errs[div] = max(errs[div], abs(primal - dual))
            for key, fn in (("tv_ball", tv_ball_expectation), ("kl_ball", kl_ball_expectation)):
                dual = _sup_dual(fn, v, p0, rho=rho) if sup else float(fn(v, p0, rho=rho))
                primal = float(fn(v, p0, rho=rho, method="primal"))
                errs[key] = max(errs[key], abs(primal - dual))
        out.append({f"error_{k}": v for k, v in errs.items()})
    return out


R2PVI_DUALS = register_claim(
    Claim(
        name="r2pvi-duals",
        title="Exact TV/KL/chi^2 regularized duals and TV/KL-ball duals equal their cvxpy primals to 1e-6",
        citation=CITATION + ", Section 4 (dual formulas); Hu & Hong 2013 (KL ball)",
        run=run_duals,
        checks=tuple(
            EqualityCheck(f"error_{k}", DUAL_TOL, label=f"{k}: abs(dual - primal) <= 1e-6")
            for k in ("tv", "kl", "chi2", "tv_ball", "kl_ball")
        )
        + (
            EqualityCheck(
                "error_chi2_library_primal",
                DUAL_TOL,
                label="chi2 vs rltheory.robust's q-form primal (informational)",
                informational=True,
            ),
        ),
        presets={
            "quick": Preset(
                ({"regime": "moderate", "pairs": 10}, {"regime": "small-lambda", "pairs": 10}),
                n_seeds=8,
                seeds_per_task=4,
            ),
            "full": Preset(
                ({"regime": "moderate", "pairs": 50}, {"regime": "small-lambda", "pairs": 50}),
                n_seeds=40,
                seeds_per_task=10,
            ),
        },
        description=__doc__ or "",
        mutants=(
            Mutant(
                "sup-dual",
                "every dual with the wrong sign: sup_q E_q v - lam D (resp. the sup over the ball), the optimistic "
                "value, instead of the inf, against the same cvxpy primals",
                params={"dual": "sup"},
                preset=Preset(({"regime": "moderate", "pairs": 2},), n_seeds=2),
            ),
        ),
    )
)


# ----------------------------------------------------------------------------------------------- offline instances
def _instance(params: dict[str, Any], gen: np.random.Generator) -> Any:
    if params["instance"] == "random":
        return mr.random_d_rectangular_mdp(params["S"], params["A"], params["d"], params["H"], rng=gen)
    if params["instance"] == "bernstein":
        return mr.bernstein_d_rectangular_mdp(params["S"], params["A"], params["H"], rng=gen)
    raise ValueError(f"unknown instance {params['instance']!r}")


def _prefix(data: OfflineData, K: int) -> OfflineData:
    return OfflineData(data.states[:K], data.actions[:K], data.rewards[:K], data.next_states[:K])


def count_data(model: Any, behaviour: np.ndarray, Ks: list[int], gen: np.random.Generator) -> list[OfflineData]:
    """Datasets of ``K`` independent trajectories of ``behaviour`` for every ``K`` of the increasing list ``Ks``, as
    counts: every step's ``(s, a, s')`` with its number of occurrences as sample weight (nested: each dataset is the
    previous one plus ``K_j - K_{j-1}`` new trajectories, like the prefixes of one long dataset).

    The per-step transition counts of ``K`` i.i.d. trajectories are drawn exactly (Markov property: given the
    ``n_h(s)`` trajectories in state ``s`` at step ``h``, their actions and next states are independent multinomials),
    and every statistic of R2PVI (the ridge Gram matrices, ``M_h``, the sampled support) is a weighted sum over
    samples, so R2PVI on these datasets is R2PVI on the trajectories, at a cost that does not grow with ``K``
    (``K = 10^11`` takes milliseconds). The rows are not trajectories: ``beta`` must be given for the true ``K``."""
    m = model.nominal()
    H, S, A = m.horizon, m.n_states, m.n_actions
    P = np.asarray(m.P)
    P = P if m.p_time_varying else np.broadcast_to(P, (H, S, A, S))
    R = m.R if m.r_time_varying else np.broadcast_to(m.R, (H, S, A))
    s, a, s2 = (x.ravel() for x in np.meshgrid(np.arange(S), np.arange(A), np.arange(S), indexing="ij"))
    rewards = np.stack([np.asarray(R[h])[s, a] for h in range(H)], axis=1)
    counts = np.zeros((s.size, H))
    out, done = [], 0
    for K in Ks:
        n = gen.multinomial(K - done, m.initial)
        for h in range(H):
            n_sa = gen.multinomial(n, behaviour[h])  # [S, A]
            n_sas = gen.multinomial(n_sa, P[h])  # [S, A, S]
            counts[:, h] += n_sas.reshape(-1)
            n = n_sas.sum(axis=(0, 1))
        done = K
        out.append(
            OfflineData(
                np.repeat(s[:, None], H, axis=1),
                np.repeat(a[:, None], H, axis=1),
                rewards,
                np.repeat(s2[:, None], H, axis=1),
                counts.copy(),
            )
        )
    return out


#: Rewards of both offline instances lie in [0, 1] (``r_h = <phi, theta_h>``, ``phi`` on the simplex, ``theta_h in
#: [0, 1]^d``), so every robust regularized value, and every SubOpt, lies in ``[0, H R_MAX]``.
R_MAX = 1.0


def _suboptimality_curve(params: dict[str, Any], seq: np.random.SeedSequence, *, theorem_beta: bool) -> dict[str, Any]:
    """One instance and one dataset of ``max(K)`` trajectories; R2PVI on the first ``K`` of them for every ``K``.

    ``params["sampler"] == "counts"`` draws the datasets by :func:`count_data` (same law; for ``K`` in the
    billions). ``params["data_cap"]`` (a mutant) trains on at most that many trajectories whatever ``K``."""
    gen = np.random.default_rng(seq)
    model = _instance(params, gen)
    div, lam = params["divergence"], params["lam"]
    star = d_rectangular_backward_induction(model, lam=lam, divergence=div)
    Ks = [int(k) for k in params["K"]]
    rewards = model.rewards()
    if rewards.min() < 0 or rewards.max() > R_MAX:
        raise RuntimeError(f"rewards outside [0, {R_MAX}]: the a-priori maximum H r_max would not hold")
    behaviour = mr.uniform_policy(model.nominal())
    if params.get("sampler", "trajectories") == "counts":
        datasets = count_data(model, behaviour, Ks, gen)
    else:
        data = mr.collect_offline_data(model, behaviour, max(Ks), gen)
        cap = params.get("data_cap")
        datasets = [_prefix(data, K if cap is None else min(K, int(cap))) for K in Ks]
    H, d = model.horizon, model.dim
    keys = ("subopt", "subopt_max", "two_beta_phi", "ratio", "ratio_maximum", "beta")
    rows: dict[str, list[float]] = {k: [] for k in keys}
    for K, sub in zip(Ks, datasets, strict=True):
        st = ridge_statistics(sub, model.phi, ridge=params["ridge"])
        if theorem_beta:
            # Theorem 5.2's beta at the number K of trajectories (given explicitly: count datasets have other rows)
            beta = float(r2pvi_beta(div, H=H, d=d, K=K, lam=lam, delta=DELTA))
        else:
            beta = params["beta"]
        sol = r2pvi(sub, model.phi, rewards, divergence=div, lam=lam, beta=beta, stats=st, ridge=params["ridge"])
        V_hat = d_rectangular_evaluate_policy(model, sol.policy, lam=lam, divergence=div).values[0]
        gap = star.values[0] - V_hat
        if gap.min() < -1e-9:
            raise RuntimeError(f"a learned policy beats the exact optimum by {-gap.min():.3g}: planner mismatch")
        gap = np.maximum(gap, 0.0)  # rounding
        phi_ub = r2pvi_uncertainty(model.phi, st.inverse_diagonal(), star.policy)
        bound = 2.0 * sol.beta * phi_ub
        rows["subopt"].append(float(model.initial @ gap))
        rows["subopt_max"].append(float(gap.max()))
        rows["two_beta_phi"].append(float(bound.min()))
        rows["ratio"].append(float(np.max(gap / bound)))
        # the largest ratio any policy could reach on this data: SubOpt(s) <= H r_max at every state
        rows["ratio_maximum"].append(float(np.max(H * R_MAX / bound)))
        rows["beta"].append(float(sol.beta))
    return {"K": Ks, **rows}


def run_theorem(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """R2PVI with Theorem 5.2's beta; exact SubOpt per state and the valid ``2 beta Phi`` per state."""
    return [_suboptimality_curve(params, s, theorem_beta=True) for s in seeds]


def run_consistency(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """R2PVI with a fixed practical beta; exact SubOpt from the initial distribution against K."""
    return [_suboptimality_curve(params, s, theorem_beta=False) for s in seeds]


def _one(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    return np.asarray(1.0)


def _beta(params: dict[str, Any], K: np.ndarray) -> np.ndarray:
    return np.asarray(
        r2pvi_beta(params["divergence"], H=params["H"], d=params["d"], K=K, lam=params["lam"], delta=DELTA)
    )


def ratio_maximum_free(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
    """Data-free maximum of ``max_s SubOpt(s) / (2 beta Phi(s))``: ``r_max sqrt(K + gamma) / (2 beta)``.

    With features on the simplex, ``Lambda_ii <= K + gamma`` (``K`` samples per step, ``phi_i <= 1``) and
    ``[Lambda^{-1}]_ii >= 1 / Lambda_ii``, so ``g_h >= 1 / sqrt(K + gamma)`` and ``Phi(s) >= H / sqrt(K + gamma)`` at
    every state, whatever the data; with ``SubOpt <= H r_max`` the ratio is at most ``r_max sqrt(K + gamma) /
    (2 beta)``. (Per seed the check uses the tighter ``H r_max / min_s 2 beta Phi(s)`` of the seed's own data.)"""
    assert K is not None
    K = np.asarray(K, np.float64)
    return R_MAX * np.sqrt(K + params["ridge"]) / (2.0 * _beta(params, K))


def extrapolate_ratio_maximum(params: dict[str, Any], K_last: float, m_last: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Each seed's ``H r_max / min_s 2 beta Phi(s)`` continued beyond ``K_last`` with ``Phi ~ (K + gamma)^{-1/2}``
    (``Lambda_h ~ K E[phi phi^T] + gamma I``) and Theorem 5.2's ``beta(K)``: ``[n_seeds, len(K)]``."""
    K = np.asarray(K, np.float64)
    g = params["ridge"]
    scale = (_beta(params, np.asarray(float(K_last))) / _beta(params, K)) * np.sqrt((K + g) / (K_last + g))
    return np.asarray(m_last, np.float64)[:, None] * scale[None, :]


def _theorem_cells(Ks: list[int], instances: list[dict[str, Any]], **kw: Any) -> tuple[dict[str, Any], ...]:
    return tuple(
        {**inst, "divergence": div, "lam": 1.0, "ridge": 1.0, "K": Ks, **kw}
        for inst in instances
        for div in ("tv", "kl", "chi2")
    )


_RANDOM = {"instance": "random", "S": 6, "A": 4, "d": 3, "H": 3}
_BERNSTEIN = {"instance": "bernstein", "S": 4, "A": 257, "d": 3, "H": 3}
#: Dataset sizes at which 2 beta Phi drops below H on these instances (docs/r2pvi.md): K ~ 5e7 - 2.5e8 (TV),
#: 6e8 - 2.5e9 (chi^2), 2e9 - 1e10 (KL). The count sampler runs them in milliseconds.
_LARGE_K = [10**8, 10**9, 10**10, 10**11]

R2PVI_THEOREM = register_claim(
    Claim(
        name="r2pvi-theorem-5-2",
        title="R2PVI: exact SubOpt(s) <= 2 beta Phi(s) at every state w.p. >= 1 - delta (Theorem 5.2, valid Phi)",
        citation=CITATION + ", Theorem 5.2 (v1 numbering)",
        run=run_theorem,
        checks=(
            SeedMaximumBoundCheck(
                "ratio",
                _one,
                x="K",
                delta=DELTA,
                label="max_s SubOpt(s) / (2 beta Phi(s)) <= 1",
                maximum=ratio_maximum_free,
                maximum_measure="ratio_maximum",
                extrapolate=extrapolate_ratio_maximum,
            ),
        ),
        presets={
            "quick": Preset(_theorem_cells([100, 1000, 10000], [_RANDOM, _BERNSTEIN]), n_seeds=16, seeds_per_task=8),
            "full": Preset(
                _theorem_cells([100, 300, 1000, 3000, 10000, 30000, 100000], [_RANDOM, _BERNSTEIN])
                + _theorem_cells(_LARGE_K, [_RANDOM, _BERNSTEIN], sampler="counts"),
                n_seeds=64,
                seeds_per_task=8,
            ),
        },
        description=__doc__ or "",
        plots=(
            ("K", "ratio", "max_s SubOpt(s) / (2 beta Phi(s)) <= 1"),
            ("K", "ratio_maximum", None),
            ("K", "two_beta_phi", None),
        ),
        mutants=(
            Mutant(
                "bound-1e-4",
                "Theorem 5.2's 2 beta Phi divided by 10^4, below the exact SubOpt of the theorem-beta learner "
                "(ratios 1e-4 to 5e-3 at K <= 10^4); the bound itself is vacuous there, so no genuinely wrong "
                "variant of it can fail at these K",
                bound_scale=1e-4,
                preset=Preset(
                    ({**_RANDOM, "divergence": "tv", "lam": 1.0, "ridge": 1.0, "K": [100, 1000]},), n_seeds=4
                ),
            ),
        ),
    )
)

_RATE_EXPONENT = float(get_theorem("r2pvi_tv_suboptimality").exponent("K", rate=True))


def _consistency_cells(Ks: list[int]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {**_BERNSTEIN, "divergence": div, "lam": 1.0, "ridge": 1.0, "beta": 0.1, "K": Ks}
        for div in ("tv", "kl", "chi2")
    )


R2PVI_CONSISTENCY = register_claim(
    Claim(
        name="r2pvi-consistency",
        title="R2PVI: exact SubOpt vs K has log-log slope <= -1/2 (interval reaches -1/2), per divergence",
        citation=CITATION + ", Theorem 5.2 and the O~(K^{-1/2}) rates (slide 19)",
        run=run_consistency,
        checks=(
            RateCheck(
                "subopt",
                "K",
                exponent=lambda p: _RATE_EXPONENT,
                direction="upper",
                label="slope of SubOpt in K <= -1/2",
            ),
        ),
        presets={
            "quick": Preset(
                _consistency_cells([int(k) for k in np.unique(np.geomspace(100, 30000, 8).astype(int))]),
                n_seeds=32,
                seeds_per_task=8,
            ),
            "full": Preset(
                _consistency_cells([int(k) for k in np.unique(np.geomspace(100, 100000, 10).astype(int))]),
                n_seeds=128,
                seeds_per_task=16,
            ),
        },
        description=__doc__ or "",
        plots=(("K", "subopt", None),),
        mutants=(
            Mutant(
                "data-cap-100",
                "an inconsistent learner: R2PVI trained on at most the first 100 trajectories whatever K, so SubOpt "
                "stays flat in K (slope 0 > -1/2)",
                params={"data_cap": 100},
                preset=Preset(
                    _consistency_cells([int(k) for k in np.unique(np.geomspace(100, 3000, 5).astype(int))])[:1],
                    n_seeds=4,
                ),
            ),
        ),
    )
)


# ----------------------------------------------------------------------------------------------- simulated MDP
_QS = [round(0.1 * i, 1) for i in range(11)]
_RHO = [[0.0, 0.0, 0.0, 0.1], [0.0, 0.0, 0.0, 0.0]]


def _code_flags(method: str) -> dict[str, Any]:
    flags: dict[str, Any] = {"penalty": "code", "clip": "code", "zero_states": [mr.SIMULATED_FAIL_STATE]}
    if method == "r2pvi-tv":
        flags["tv_threshold"] = "samples"
    if method == "r2pvi-chi2":
        flags.update(chi2_solver="nelder-mead-min", chi2_clip=False)
    if method in ("drpvi", "drvi-l"):
        flags["solver"] = "nelder-mead"
    return flags


def _train(method: str, lam: float, config: str, data: OfflineData, model: Any, st: Any) -> Any:
    beta, ridge = 1.0, 0.1
    if method == "pevi":
        kw: dict[str, Any] = {"clip": "code", "zero_states": [mr.SIMULATED_FAIL_STATE]} if config == "code" else {}
        return pevi(data, model.phi, beta=beta, ridge=ridge, stats=st, **kw)
    flags = _code_flags(method) if config == "code" else {}
    R = model.rewards()
    if method.startswith("r2pvi-"):
        div = method.split("-", 1)[1]
        return r2pvi(data, model.phi, R, divergence=div, lam=lam, beta=beta, ridge=ridge, stats=st, **flags)
    fn = drpvi if method == "drpvi" else drvi_l
    return fn(data, model.phi, R, rho=_RHO, beta=beta, ridge=ridge, stats=st, **flags)


def _returns(policy: np.ndarray, tests: list[Any]) -> np.ndarray:
    return np.array([evaluate_policy(t, policy).values[0] @ t.initial for t in tests])


def run_simulated(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """Per seed: 100 uniform-behaviour trajectories; the cell's method and PEVI; exact returns at every q."""
    model = mr.simulated_linear_mdp()
    tests = [mr.simulated_linear_mdp(perturbation=q).nominal() for q in _QS]
    behaviour = mr.uniform_policy(model.nominal())
    method, lam, config = params["method"], params["lam"], params["config"]
    out = []
    for seq in seeds:
        data = mr.collect_offline_data(model, behaviour, params["trajectories"], np.random.default_rng(seq))
        st = ridge_statistics(data, model.phi, ridge=0.1)
        ret_pevi = _returns(_train("pevi", lam, config, data, model, st).policy, tests)
        sol = _train(method, lam, config, data, model, st)
        ret = _returns(sol.policy, tests)
        drop = float(ret[0] - ret[-1])
        row = {
            "q": _QS,
            "return": ret.tolist(),
            "pevi_return": ret_pevi.tolist(),
            "gain_q0": float(ret[0] - ret_pevi[0]),
            "gain_q1": float(ret[-1] - ret_pevi[-1]),
            "drop": drop,
            "distance_to_pevi": float(np.abs(ret - ret_pevi).mean()),
            "seconds": float(sol.elapsed),
            "drop_gain_larger_lam": 0.0,
        }
        if method.startswith("r2pvi-") and params.get("lam_compare"):
            big = _returns(_train(method, params["lam_compare"], config, data, model, st).policy, tests)
            row["drop_gain_larger_lam"] = float((big[0] - big[-1]) - drop)
        out.append(row)
    return out


def _is(methods: tuple[str, ...], lam: float | None = 0.1) -> Callable[[dict[str, Any]], bool]:
    return lambda p: p["method"] in methods and (lam is None or p["lam"] == lam)


def _simulated_cells(config: str, sweep: str) -> tuple[dict[str, Any], ...]:
    base = {"config": config, "trajectories": 100}
    cells = [{**base, "method": "pevi", "lam": 0.1}]
    cells += [{**base, "method": m, "lam": 0.1, "lam_compare": 0.6} for m in ("r2pvi-tv", "r2pvi-kl", "r2pvi-chi2")]
    cells += [{**base, "method": m, "lam": 0.1} for m in ("drpvi", "drvi-l")]
    cells += [{**base, "method": sweep, "lam": lam} for lam in (0.2, 0.3, 0.6)]
    return tuple(cells)


def _mutant_cells(config: str, methods: tuple[str, ...]) -> tuple[dict[str, Any], ...]:
    return tuple({"config": config, "trajectories": 100, "method": m, "lam": 0.1, "lam_compare": 0.6} for m in methods)


def _simulated_checks(lam_checked: tuple[str, ...], lam_informational: tuple[str, ...]) -> tuple[Check, ...]:
    r2 = ("r2pvi-tv", "r2pvi-kl", "r2pvi-chi2")
    base = ("drpvi", "drvi-l")
    return _checks(
        MeanSignCheck("gain_q0", -1, "PEVI better at q = 0 (R2PVI - PEVI < 0)", applies=_is(r2)),
        MeanSignCheck("gain_q1", +1, "R2PVI better at q = 1 (R2PVI - PEVI > 0)", applies=_is(r2)),
        MeanSignCheck(
            "drop_gain_larger_lam",
            +1,
            "lam = 0.6 steeper than lam = 0.1 (closer to non-robust)",
            applies=_is(lam_checked),
        ),
        MeanSignCheck(
            "drop_gain_larger_lam",
            +1,
            "lam = 0.6 steeper than lam = 0.1 (informational)",
            applies=_is(lam_informational),
            informational=True,
        ),
        MeanSignCheck("gain_q0", -1, "baseline: PEVI better at q = 0", applies=_is(base), informational=True),
        MeanSignCheck("gain_q1", +1, "baseline: better than PEVI at q = 1", applies=_is(base), informational=True),
    )


R2PVI_SIMULATED = register_claim(
    Claim(
        name="r2pvi-simulated",
        title="Simulated linear MDP (paper's algorithm): PEVI best at q=0, R2PVI better at q=1; larger lam steeper",
        citation=CITATION + ", Section 6 / Figure 1 (simulated linear MDP of Liu & Xu 2024)",
        run=run_simulated,
        checks=_simulated_checks(("r2pvi-kl", "r2pvi-chi2"), ("r2pvi-tv",)),
        presets={
            "quick": Preset(_simulated_cells("paper", "r2pvi-kl"), n_seeds=100, seeds_per_task=25),
            "full": Preset(_simulated_cells("paper", "r2pvi-kl"), n_seeds=400, seeds_per_task=50),
        },
        description=__doc__ or "",
        plots=(("q", "return", None),),
        mutants=(
            Mutant(
                "opposite-signs",
                "every prediction reversed (R2PVI better than PEVI at q = 0, worse at q = 1; lam = 0.6 flatter), "
                "on R2PVI-TV and R2PVI-KL",
                transform=_flip_sign,
                preset=Preset(_mutant_cells("paper", ("r2pvi-tv", "r2pvi-kl")), n_seeds=8),
            ),
        ),
    )
)

R2PVI_SIMULATED_CODE = register_claim(
    Claim(
        name="r2pvi-simulated-code",
        title="Simulated linear MDP with the official code's options: the same crossing; larger lam steeper",
        citation=CITATION + "; official code panxulab/Robust-Regularized-Pessimistic-Value-Iteration HEAD 2ea039d",
        run=run_simulated,
        checks=_simulated_checks(("r2pvi-tv", "r2pvi-kl"), ("r2pvi-chi2",)),
        presets={
            "quick": Preset(_simulated_cells("code", "r2pvi-tv"), n_seeds=20, seeds_per_task=10),
            "full": Preset(_simulated_cells("code", "r2pvi-tv"), n_seeds=100, seeds_per_task=20),
        },
        description=__doc__ or "",
        plots=(("q", "return", None),),
        mutants=(
            Mutant(
                "opposite-signs",
                "every prediction reversed (R2PVI better than PEVI at q = 0, worse at q = 1; lam = 0.6 flatter), "
                "on R2PVI-TV and R2PVI-KL with the code's options",
                transform=_flip_sign,
                preset=Preset(_mutant_cells("code", ("r2pvi-tv", "r2pvi-kl")), n_seeds=8),
            ),
        ),
    )
)
