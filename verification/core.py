"""Claims: one statement of one paper, declared as data.

A :class:`Claim` names the instances it quantifies over (a parameter grid per preset), the function that runs one
cell for a block of seeds, what that function measures, and the checks that turn measurements into a verdict:

* :class:`BoundCheck`: an inequality ``measured <= bound`` that must hold with probability ``>= 1 - delta``,
  tested by a one-sided binomial test over seeds (any violation fails a deterministic statement);
* :class:`RateCheck`: the log-log slope of a measured curve against a parameter, with a bootstrap interval,
  compared with the theorem's exponent;
* :class:`EqualityCheck`: a measured error against an exact solver must stay below a tolerance.

Every verdict states its power. Beside PASS, FAIL and INCONCLUSIVE (the data cannot decide):

* **VACUOUS**: a bound at or above the measured quantity's a-priori maximum (``BoundCheck.maximum``: regret can
  never exceed ``H K r_max``) in every entry of a cell. The inequality then holds whatever the algorithm does;
  the outcome gives ``bound / maximum`` and, for a curve, the abscissa at which the bound would first drop below
  the maximum.
* **UNDERPOWERED**: too few seeds for the test to reject even if every seed violated (binomial test:
  ``delta ** n >= alpha``; slope: fewer than :data:`verification.stats.MIN_SLOPE_SEEDS` seeds).

Non-finite measurements or bounds are FAIL, with the count of NaN/inf entries. A claim is PASS only when every
check that decides it is PASS on at least one cell and nothing else on the others than PASS, VACUOUS or
UNDERPOWERED; see :func:`evaluate_claim`. Each claim carries :class:`Mutant` s: deliberately wrong variants that
must FAIL, so that every claim shows it can fail.

A run function has the signature ``run(params: dict, seeds: list[numpy.random.SeedSequence]) -> list[dict]`` and
returns one JSON-serialisable dict of measurements per seed; the result for seed ``i`` must depend only on
``params`` and ``seeds[i]`` (so blocks of seeds may be run vectorised without changing any result).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

import numpy as np

from verification.stats import (
    MIN_SLOPE_SEEDS,
    BinomialResult,
    SlopeResult,
    Verdict,
    binomial_power_seeds,
    binomial_test,
    bootstrap_slope,
)

__all__ = [
    "BoundCheck",
    "CellData",
    "Check",
    "CheckOutcome",
    "Claim",
    "EqualityCheck",
    "Mutant",
    "Preset",
    "RateCheck",
    "SeedMaximumBoundCheck",
    "Verdict",
    "all_claims",
    "check_verdict",
    "describe_nonfinite",
    "evaluate_claim",
    "get_claim",
    "horizon_maximum",
    "probability_maximum",
    "regret_maximum",
    "register",
]

RunFn = Callable[[dict[str, Any], list[np.random.SeedSequence]], list[dict[str, Any]]]


@dataclass(frozen=True)
class Preset:
    """A parameter grid and a seed count.

    Attributes:
        grid: parameter dicts, one per cell (JSON-serialisable values).
        n_seeds: seeds per cell.
        seeds_per_task: seeds run together in one task (vectorised runs); results do not depend on it.
    """

    grid: tuple[dict[str, Any], ...]
    n_seeds: int
    seeds_per_task: int = 1

    def __post_init__(self) -> None:
        if not self.grid:
            raise ValueError("grid must hold at least one cell")
        if self.n_seeds < 1 or self.seeds_per_task < 1:
            raise ValueError("n_seeds and seeds_per_task must be >= 1")


@dataclass(frozen=True)
class CellData:
    """The stored measurements of one grid cell: ``results[i]`` is the dict returned for seed ``seeds[i]``."""

    params: dict[str, Any]
    seeds: tuple[int, ...]
    results: tuple[dict[str, Any], ...]

    def column(self, key: str) -> np.ndarray:
        """Measurement ``key`` stacked over seeds: ``[n_seeds, ...]``."""
        try:
            return np.asarray([r[key] for r in self.results], dtype=np.float64)
        except KeyError:
            raise KeyError(f"measurement {key!r} missing; available: {sorted(self.results[0])}") from None


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check on one cell, with the statistic that justifies it."""

    check: str
    params: dict[str, Any]
    verdict: Verdict
    statistic: str
    detail: dict[str, Any] = field(default_factory=dict)
    informational: bool = False


MaximumFn = Callable[[dict[str, Any], np.ndarray | None], np.ndarray]


def regret_maximum(horizon: str = "H", r_max: float = 1.0) -> MaximumFn:
    """A-priori maximum of a cumulative regret over ``K`` episodes with rewards in ``[0, r_max]``: ``H K r_max``
    (``H`` read from the cell parameter ``horizon``)."""

    def maximum(params: dict[str, Any], K: np.ndarray | None) -> np.ndarray:
        return np.asarray(float(params[horizon]) * r_max * np.asarray(K, dtype=np.float64))

    return maximum


def horizon_maximum(horizon: str | int = "H", r_max: float = 1.0) -> MaximumFn:
    """A-priori maximum of a suboptimality (value gap) with rewards in ``[0, r_max]``: ``H r_max`` (``H`` a cell
    parameter name, or a number)."""

    def maximum(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
        H = params[horizon] if isinstance(horizon, str) else horizon
        return np.asarray(float(H) * r_max)

    return maximum


def probability_maximum(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
    """A-priori maximum of a probability or a share: 1."""
    return np.asarray(1.0)


def describe_nonfinite(name: str, a: np.ndarray) -> str | None:
    """``'k of n <name> entries non-finite (i NaN, j inf)'``, or None when every entry of ``a`` is finite."""
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    n_nan = int(np.isnan(a).sum())
    return f"{int(bad.sum())} of {a.size} {name} entries non-finite ({n_nan} NaN, {int(bad.sum()) - n_nan} inf)"


def _first_nonvacuous_x(check: BoundCheck, params: dict[str, Any], xs: np.ndarray) -> float | None:
    """Smallest abscissa beyond the measured ones at which ``bound < maximum`` (a log grid up to ``1e18``, 0.5%
    apart), or None if there is none there."""
    assert check.maximum is not None
    x0 = float(np.max(xs))
    if not (np.isfinite(x0) and x0 > 0):
        return None
    grid = np.geomspace(x0, 1e18, 8000)
    try:
        with np.errstate(all="ignore"):
            b = check.scale * np.broadcast_to(np.asarray(check.bound(params, grid), np.float64), grid.shape)
            m = np.broadcast_to(np.asarray(check.maximum(params, grid), np.float64), grid.shape)
    except Exception:  # noqa: BLE001 - a bound that cannot be evaluated off its grid gives no estimate
        return None
    hit = np.flatnonzero(b < m)
    return float(grid[hit[0]]) if hit.size else None


@dataclass(frozen=True)
class BoundCheck:
    """``measure <= scale * bound`` with probability ``>= 1 - delta`` per seed.

    Attributes:
        measure: measurement key (a scalar, or a curve over ``x``).
        bound: ``bound(params, x) -> array`` evaluating the theorem's right-hand side (``x`` is the stored
            abscissa ``x`` key's values, or None for scalar measurements).
        x: measurement key of the abscissa of a curve (e.g. ``"K"``), or None.
        delta: failure probability of the theorem; 0 for a deterministic statement.
        theorem: registry name of the theorem in :mod:`rltheory.bounds` (for the report), if any.
        scale: multiplies the bound (a deliberately false claim divides it).
        alpha: level of the binomial test.
        label: name in reports.
        applies: ``applies(params)`` selects the cells the check is run on (all when None).
        informational: reported, but does not enter the claim's verdict.
        maximum: ``maximum(params, x) -> array``, the a-priori maximum of the measured quantity (what it can reach
            whatever the algorithm does: :func:`regret_maximum`, :func:`horizon_maximum`,
            :func:`probability_maximum`). Where the bound is at or above it, the inequality cannot fail; a cell in
            which that holds everywhere is VACUOUS. A measurement above its maximum is a FAIL (a broken run). None:
            the quantity has no a-priori maximum (never vacuous by this rule).

    The outcome's ``detail`` carries the margins: ``max_ratio`` (max measured / bound) and ``bound_over_max`` (min
    bound / maximum: below 1 the check can fail), and for a vacuous curve ``x_needed``, the first abscissa at which
    the bound would drop below the maximum.
    """

    measure: str
    bound: Callable[[dict[str, Any], np.ndarray | None], np.ndarray]
    x: str | None = None
    delta: float = 0.0
    theorem: str | None = None
    scale: float = 1.0
    alpha: float = 0.05
    label: str = "bound"
    applies: Callable[[dict[str, Any]], bool] | None = None
    informational: bool = False
    maximum: MaximumFn | None = None

    def evaluate(self, cell: CellData) -> CheckOutcome:
        measured = cell.column(self.measure)
        xs = cell.column(self.x)[0] if self.x else None
        with np.errstate(all="ignore"):
            b = self.scale * np.broadcast_to(
                np.asarray(self.bound(cell.params, xs), dtype=np.float64), measured.shape[1:]
            )
        n = measured.shape[0]
        detail: dict[str, Any] = {"n": n, "delta": self.delta}
        bad = [m for m in (describe_nonfinite("measured", measured), describe_nonfinite("bound", b)) if m]
        if bad:
            return CheckOutcome(self.label, cell.params, "FAIL", "; ".join(bad), detail)
        over = measured > b
        viol = over.reshape(n, -1).any(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = float(np.max(np.where(b > 0, measured / b, np.where(measured > b, np.inf, 0.0))))
        detail.update(max_ratio=ratio, violations=int(viol.sum()))
        margin = f"max measured/bound = {ratio:.3g}"
        if self.maximum is not None:
            m = np.broadcast_to(np.asarray(self.maximum(cell.params, xs), dtype=np.float64), b.shape)
            if (why := describe_nonfinite("maximum", m)) is not None:
                return CheckOutcome(self.label, cell.params, "FAIL", why, detail)
            with np.errstate(divide="ignore", invalid="ignore"):
                b_over_m = float(np.min(np.where(m > 0, b / m, np.inf)))
            detail["bound_over_max"] = b_over_m
            margin += f"; min bound/maximum = {b_over_m:.3g}"
            above = measured > m * (1 + 1e-9) + 1e-12
            if above.any():
                return CheckOutcome(
                    self.label,
                    cell.params,
                    "FAIL",
                    f"{int(above.sum())} measured entries exceed the quantity's a-priori maximum (a broken run); "
                    + margin,
                    detail,
                )
            if not (b < m).any():
                stat = f"VACUOUS: the bound is >= the a-priori maximum everywhere ({margin})"
                if xs is not None and (xn := _first_nonvacuous_x(self, cell.params, xs)) is not None:
                    detail["x_needed"] = xn
                    stat += f"; it first drops below at {self.x} ~ {xn:.3g}"
                elif xs is not None:
                    stat += f"; not below it for any {self.x} up to 1e18"
                return CheckOutcome(self.label, cell.params, "VACUOUS", stat, detail)
        res: BinomialResult = binomial_test(int(viol.sum()), n, self.delta, alpha=self.alpha)
        detail["p_value"] = res.p_value
        stat = (
            f"{res.violations}/{res.n} seeds violate (delta={self.delta:g}); "
            f"p = P(Bin(n, delta) >= v) = {res.p_value:.3g}; {margin}"
        )
        if res.verdict == "UNDERPOWERED":
            need = binomial_power_seeds(self.delta, self.alpha)
            power = f"delta^n = {self.delta**n:.3g} >= alpha = {self.alpha:g}, needs >= {need} seeds"
            stat = f"UNDERPOWERED: {power}; " + stat
        return CheckOutcome(self.label, cell.params, res.verdict, stat, detail)


class _NoExtrapolation(Exception):
    pass


#: Stands for an infinite per-seed maximum (a ratio over a zero bound): finite, so that the core's arithmetic on
#: maxima neither overflows nor reads it as a non-finite (broken) maximum.
_UNBOUNDED = 1e300


@dataclass(frozen=True)
class SeedMaximumBoundCheck(BoundCheck):
    """A :class:`~verification.core.BoundCheck` whose measured quantity's maximum depends on each seed's own data.

    ``maximum_measure`` is a measurement (the shape of ``measure``) holding, per seed, the largest value ``measure``
    could take on that seed whatever the algorithm does (for Theorem 5.2's ratio ``max_s SubOpt(s) / (2 beta
    Phi(s))``: ``H r_max / min_s 2 beta Phi(s)``, since ``SubOpt <= H r_max``). ``maximum`` (optional) is a data-free
    a-priori maximum, drawn in the report; the smaller of the two is used. The cell is VACUOUS when the bound is at
    or above every seed's maximum at every entry, and a measurement above its seed's maximum is FAIL (a broken run).
    ``extrapolate(params, x_last, m_last [n], x [m]) -> [n, m]`` continues each seed's maximum beyond the largest
    measured abscissa, to estimate ``x_needed`` (None: no estimate is made). An infinite per-seed maximum (a zero
    bound) means "unbounded" and is kept as ``1e300``.
    """

    maximum_measure: str = ""
    extrapolate: Callable[[dict[str, Any], float, np.ndarray, np.ndarray], np.ndarray] | None = None

    def evaluate(self, cell: CellData) -> CheckOutcome:
        if not self.maximum_measure:
            raise ValueError(f"{self.label}: SeedMaximumBoundCheck needs maximum_measure")
        measured = cell.column(self.measure)
        if not np.isfinite(measured).all():  # FAIL, with the count of NaN/inf entries
            return BoundCheck.evaluate(replace(self, maximum=None), cell)
        xs = cell.column(self.x)[0] if self.x else None
        per_seed = np.broadcast_to(cell.column(self.maximum_measure), measured.shape).astype(np.float64)
        if np.isnan(per_seed).any() or (per_seed == -np.inf).any():
            why = describe_nonfinite("per-seed maximum", per_seed)
            return CheckOutcome(self.label, cell.params, "FAIL", str(why), {"n": int(measured.shape[0])})
        per_seed = np.minimum(per_seed, _UNBOUNDED)
        prior = self.maximum
        if prior is not None:
            with np.errstate(all="ignore"):
                per_seed = np.minimum(
                    per_seed, np.broadcast_to(np.asarray(prior(cell.params, xs), np.float64), measured.shape[1:])
                )
        with np.errstate(all="ignore"):
            above = (measured > per_seed * (1 + 1e-9) + 1e-12).reshape(measured.shape[0], -1).any(axis=1)
        if above.any():
            return CheckOutcome(
                self.label,
                cell.params,
                "FAIL",
                f"{int(above.sum())} seeds measure above their own a-priori maximum "
                f"({self.maximum_measure}): a broken run",
                {"n": int(measured.shape[0])},
            )
        cell_max = per_seed.max(axis=0)
        extrapolate = self.extrapolate

        def maximum(params: dict[str, Any], x: np.ndarray | None) -> np.ndarray:
            if xs is None or x is None or (np.shape(x) == xs.shape and np.array_equal(x, xs)):
                return cell_max
            if extrapolate is None:
                raise _NoExtrapolation
            grid = np.asarray(x, np.float64)
            m = np.asarray(extrapolate(params, float(xs[-1]), per_seed[:, -1], grid), np.float64).max(axis=0)
            return np.minimum(m, prior(params, grid)) if prior is not None else m

        out = BoundCheck.evaluate(replace(self, maximum=maximum), cell)
        stat = out.statistic.replace("the bound is >= the a-priori maximum", "the bound is >= every seed's maximum")
        if out.verdict == "VACUOUS" and xs is not None:
            if extrapolate is None:
                stat = (
                    stat.split(f"; not below it for any {self.x}")[0]
                    + f" (no extrapolation beyond the measured {self.x})"
                )
            elif "x_needed" in out.detail:
                stat += " (extrapolated from each seed's largest measured " + f"{self.x})"
        return replace(out, statistic=stat, detail={**out.detail, "maximum": self.maximum_measure})


@dataclass(frozen=True)
class RateCheck:
    """The log-log slope of ``measure`` against ``x`` (a curve per seed), against an exponent.

    Attributes:
        measure: measurement key of the curve ``[len(x)]`` per seed.
        x: measurement key of the abscissa.
        exponent: ``exponent(params) -> float`` (usually a registered theorem's ``exponent(symbol)``).
        direction: ``"upper"`` (PASS when the interval reaches a value ``<= exponent``) or ``"two-sided"``.
        fit_from: fit only points with ``x >= fit_from * max(x)`` (skips a burn-in).
        level, n_boot, max_width, min_seeds: bootstrap settings (see :func:`verification.stats.bootstrap_slope`);
            fewer than ``min_seeds`` seeds is UNDERPOWERED.
        censored: measurement key of a 0/1 curve (``[len(x)]`` per seed) marking runs stopped at a cap before the
            quantity was reached (their value is the cap, a lower bound). A cap of the form ``c x^e`` gives censored
            runs exactly the tested exponent and pulls the slope towards it, so a fit with a censored share above
            ``max_censored`` at any fitted point is INCONCLUSIVE, never PASS.
        max_censored: the largest share of censored runs tolerated at a fitted point.
        label: name in reports.
        applies, informational: as in :class:`BoundCheck`.
    """

    measure: str
    x: str
    exponent: Callable[[dict[str, Any]], float]
    direction: Literal["upper", "two-sided"] = "upper"
    fit_from: float = 0.0
    level: float = 0.95
    n_boot: int = 2000
    max_width: float = 1.0
    min_seeds: int = MIN_SLOPE_SEEDS
    censored: str | None = None
    max_censored: float = 0.05
    label: str = "rate"
    applies: Callable[[dict[str, Any]], bool] | None = None
    informational: bool = False

    def evaluate(self, cell: CellData) -> CheckOutcome:
        Y = cell.column(self.measure)
        x = cell.column(self.x)[0]
        e = float(self.exponent(cell.params))
        bad = [m for m in (describe_nonfinite("measured", Y), describe_nonfinite(f"abscissa {self.x!r}", x)) if m]
        if not np.isfinite(e):
            bad.append(f"exponent {e}")
        if bad:
            return CheckOutcome(self.label, cell.params, "FAIL", "; ".join(bad), {"n": Y.shape[0]})
        keep = x >= self.fit_from * x.max()
        share = 0.0
        if self.censored is not None:
            cens = np.broadcast_to(cell.column(self.censored), Y.shape)[:, keep]
            share = float(cens.mean(axis=0).max())
        try:
            res: SlopeResult = bootstrap_slope(
                x[keep],
                Y[:, keep],
                exponent=e,
                direction=self.direction,
                level=self.level,
                n_boot=self.n_boot,
                max_width=self.max_width,
                min_seeds=self.min_seeds,
            )
        except ValueError as exc:
            return CheckOutcome(self.label, cell.params, "INCONCLUSIVE", f"slope not computable: {exc}")
        stat = (
            f"slope {res.slope:.3f}, {int(100 * res.level)}% interval [{res.low:.3f}, {res.high:.3f}] "
            f"vs exponent {e:g} ({self.direction}); {res.n_seeds} seeds, {res.n_points} points"
        )
        verdict: Verdict = res.verdict
        if verdict == "UNDERPOWERED":
            why = f"{res.n_seeds} seeds < {self.min_seeds} (interval below its nominal coverage)"
            stat = f"UNDERPOWERED: {why}; " + stat
        if self.censored is not None:
            stat += f"; censored share {share:.0%} (max {self.max_censored:.0%})"
            if share > self.max_censored and verdict in ("PASS", "FAIL"):
                verdict = "INCONCLUSIVE"
                stat = "INCONCLUSIVE (censored runs pull the slope to the cap's exponent): " + stat
        # margin: how far the interval's decisive end sits from the exponent (negative: the wrong side)
        margin = e - res.low if self.direction == "upper" else min(e - res.low, res.high - e)
        return CheckOutcome(
            self.label,
            cell.params,
            verdict,
            stat,
            {
                "slope": res.slope,
                "low": res.low,
                "high": res.high,
                "exponent": e,
                "margin": margin,
                "n": res.n_seeds,
                "censored_share": share,
                "x_min": float(x[keep].min()),
                "x_max": float(x[keep].max()),
            },
        )


@dataclass(frozen=True)
class EqualityCheck:
    """A measured error (e.g. ``max |V - V*|``) must be ``<= tol`` on every seed (``applies``, ``informational``
    as in :class:`BoundCheck`)."""

    measure: str
    tol: float
    label: str = "equality"
    applies: Callable[[dict[str, Any]], bool] | None = None
    informational: bool = False

    def evaluate(self, cell: CellData) -> CheckOutcome:
        err = cell.column(self.measure)
        if (why := describe_nonfinite("measured", err)) is not None:
            return CheckOutcome(self.label, cell.params, "FAIL", why, {"tol": self.tol})
        worst = float(np.max(err))
        verdict: Verdict = "PASS" if worst <= self.tol else "FAIL"
        ratio = worst / self.tol if self.tol > 0 else (0.0 if worst <= 0 else np.inf)
        stat = f"max error {worst:.3g} vs tolerance {self.tol:g} (error/tol = {ratio:.3g}) over {err.shape[0]} seeds"
        return CheckOutcome(
            self.label, cell.params, verdict, stat, {"max_error": worst, "tol": self.tol, "max_ratio": ratio}
        )


Check = BoundCheck | RateCheck | EqualityCheck


@dataclass(frozen=True)
class Mutant:
    """A deliberately wrong variant of a claim: run through the same checks, it must come out FAIL.

    A mutant shows that a claim can fail at all: a check that passes the truth and its mutant alike certifies
    nothing. It changes what is run (``params`` merged into every cell switch the run function to a wrong variant,
    e.g. a learner with its bonus removed; or another ``run``), what is checked (``bound_scale`` multiplies every
    deciding bound, ``tol_scale`` every deciding tolerance, ``transform`` rewrites any check), or both.

    Attributes:
        name: short name, used as ``rltheory verify CLAIM --mutant NAME``.
        description: what is wrong, in one line.
        params: merged into every cell of the preset.
        bound_scale: multiplies the bound of every deciding (or targeted) :class:`BoundCheck`.
        tol_scale: multiplies the tolerance of every deciding (or targeted) :class:`EqualityCheck`.
        transform: ``transform(check) -> check`` applied to every deciding check after the scales.
        run: a replacement run function (module level, picklable); the claim's own when None.
        preset: the claim's preset it runs on, or an explicit :class:`Preset`; small enough for the default test
            run, with enough seeds that the mutant's checks are powered.
        n_seeds: overrides the preset's seed count.
        targets: labels of the checks the mutant is aimed at: the scales and ``transform`` apply to those only, and
            one of them must FAIL (not some other check). Empty: every deciding check is a target.
    """

    name: str
    description: str
    params: Mapping[str, Any] = field(default_factory=dict)
    bound_scale: float = 1.0
    tol_scale: float = 1.0
    transform: Callable[[Any], Any] | None = None
    run: RunFn | None = None
    preset: str | Preset = "tiny"
    n_seeds: int | None = None
    targets: tuple[str, ...] = ()


def _mutate_check(check: Any, mutant: Mutant) -> Any:
    if check.informational or (mutant.targets and check.label not in mutant.targets):
        return check
    if isinstance(check, BoundCheck) and mutant.bound_scale != 1.0:
        check = replace(check, scale=check.scale * mutant.bound_scale)
    if isinstance(check, EqualityCheck) and mutant.tol_scale != 1.0:
        check = replace(check, tol=check.tol * mutant.tol_scale)
    return mutant.transform(check) if mutant.transform is not None else check


@dataclass(frozen=True)
class Claim:
    """One statement of one paper, with its instances, run function, checks and presets.

    Attributes:
        name: registry key, used on the command line (``rltheory verify NAME``).
        title: one line for ``rltheory list``.
        citation: the paper and the theorem.
        run: module-level run function (picklable), see the module docstring.
        checks: the checks; see :func:`evaluate_claim` for how their outcomes make the verdict.
        presets: at least ``"quick"`` (minutes on 2 cores) and ``"full"`` (the paper's scale).
        description: what is measured and how, for the report.
        plots: ``(x key, measure key, BoundCheck label or None)`` curves to plot in the report.
        mutants: deliberately wrong variants that must FAIL (every built-in claim has at least one).
    """

    name: str
    title: str
    citation: str
    run: RunFn
    checks: tuple[Check, ...]
    presets: Mapping[str, Preset]
    description: str = ""
    plots: tuple[tuple[str, str, str | None], ...] = ()
    mutants: tuple[Mutant, ...] = ()

    def __post_init__(self) -> None:
        missing = {"quick", "full"} - set(self.presets)
        if missing:
            raise ValueError(f"claim {self.name!r} needs presets {sorted(missing)}")
        names = [m.name for m in self.mutants]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.name!r}: mutant names must be distinct, got {names}")

    def preset(self, name: str) -> Preset:
        try:
            return self.presets[name]
        except KeyError:
            raise ValueError(f"claim {self.name!r} has no preset {name!r}; presets: {sorted(self.presets)}") from None

    def mutated(self, mutant: str | None = None) -> Claim:
        """The claim turned into its mutant ``mutant`` (the first when None), named ``"<claim>~<mutant>"``, whose
        ``quick`` and ``full`` presets are the mutant's preset."""
        if not self.mutants:
            raise ValueError(f"claim {self.name!r} has no mutants")
        if mutant is None:
            mut = self.mutants[0]
        else:
            found = [m for m in self.mutants if m.name == mutant]
            if not found:
                raise ValueError(
                    f"claim {self.name!r} has no mutant {mutant!r}; mutants: {', '.join(m.name for m in self.mutants)}"
                )
            mut = found[0]
        base = mut.preset if isinstance(mut.preset, Preset) else self.preset(mut.preset)
        grid = tuple({**cell, **mut.params} for cell in base.grid)
        pre = Preset(grid, mut.n_seeds or base.n_seeds, base.seeds_per_task)
        return Claim(
            name=f"{self.name}~{mut.name}",
            title=f"MUTANT, must FAIL ({mut.description}) of: {self.title}",
            citation=self.citation,
            run=mut.run or self.run,
            checks=tuple(_mutate_check(c, mut) for c in self.checks),
            presets={"quick": pre, "full": pre},
            description=f"Mutant `{mut.name}` of `{self.name}`: {mut.description}. It must come out FAIL.\n\n"
            + self.description,
            plots=self.plots,
        )


_REGISTRY: dict[str, Claim] = {}


def register(claim: Claim) -> Claim:
    """Add a claim to the registry (its name must be new)."""
    if claim.name in _REGISTRY and _REGISTRY[claim.name] is not claim:
        raise ValueError(f"a claim named {claim.name!r} is already registered")
    _REGISTRY[claim.name] = claim
    return claim


def _load_builtin() -> None:
    import verification.claims  # noqa: F401  (registers the built-in claims)


def get_claim(name: str) -> Claim:
    """The registered claim ``name``; ValueError listing the valid names otherwise."""
    _load_builtin()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown claim {name!r}; known claims: {', '.join(sorted(_REGISTRY))}") from None


def all_claims() -> list[Claim]:
    """Every registered claim, sorted by name."""
    _load_builtin()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def check_verdict(outcomes: Sequence[CheckOutcome]) -> Verdict:
    """One check's verdict over the cells it was run on: FAIL if any cell fails, else INCONCLUSIVE if any cell
    cannot decide, else PASS if at least one cell passes (the others VACUOUS or UNDERPOWERED: the statement was
    tested where it could be), else UNDERPOWERED if any cell is, else VACUOUS."""
    vs = {o.verdict for o in outcomes}
    for v in ("FAIL", "INCONCLUSIVE", "PASS", "UNDERPOWERED"):
        if v in vs:
            return cast(Verdict, v)
    return "VACUOUS" if vs else "INCONCLUSIVE"


def evaluate_claim(claim: Claim, cells: Sequence[CellData]) -> tuple[Verdict, list[CheckOutcome]]:
    """Run every check on the cells it applies to and combine the deciding (non-informational) checks.

    Each check gets :func:`check_verdict` over its cells. The claim is FAIL if any check is FAIL, else INCONCLUSIVE
    if any is INCONCLUSIVE (or none decides), else PASS only if every deciding check is PASS, else UNDERPOWERED if
    any check is, else VACUOUS: a claim one of whose parts could not have failed is not a PASS.
    """
    outcomes = []
    by_check: dict[int, list[CheckOutcome]] = {}
    for cell in cells:
        for i, check in enumerate(claim.checks):
            if check.applies is None or check.applies(cell.params):
                o = check.evaluate(cell)
                o = replace(o, informational=check.informational) if check.informational else o
                outcomes.append(o)
                if not check.informational:
                    by_check.setdefault(i, []).append(o)
    verdicts = {check_verdict(os) for os in by_check.values()}
    overall: Verdict
    if not verdicts or "INCONCLUSIVE" in verdicts and "FAIL" not in verdicts:
        overall = "INCONCLUSIVE"
    elif "FAIL" in verdicts:
        overall = "FAIL"
    elif verdicts == {"PASS"}:
        overall = "PASS"
    elif "UNDERPOWERED" in verdicts:
        overall = "UNDERPOWERED"
    else:
        overall = "VACUOUS"
    return overall, outcomes
