"""Verdicts carry their power: NaN is FAIL, a bound above the quantity's maximum is VACUOUS, too few seeds is
UNDERPOWERED, censoring cannot pass a rate, and the CLI's exit code says all of it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from verification import core
from verification.cli import main
from verification.core import (
    BoundCheck,
    CellData,
    Claim,
    EqualityCheck,
    Mutant,
    Preset,
    RateCheck,
    evaluate_claim,
    regret_maximum,
)

K = [10.0, 100.0, 1000.0]


def _cell(results: list[dict[str, Any]], **params: Any) -> CellData:
    return CellData({"H": 2, **params}, tuple(range(len(results))), tuple(results))


def _regret_cells(factor: float, n: int = 8) -> CellData:
    return _cell([{"K": K, "regret": [factor * np.sqrt(k) for k in K]} for _ in range(n)])


def _sqrt_bound(c: float):
    return lambda p, x: c * np.sqrt(np.asarray(x))


def test_nan_measurements_fail_with_the_count():
    cell = _cell([{"K": K, "regret": [np.nan, 1.0, 2.0]}, {"K": K, "regret": [1.0, np.inf, 2.0]}])
    o = BoundCheck("regret", _sqrt_bound(1.0), x="K").evaluate(cell)
    assert o.verdict == "FAIL" and "2 of 6 measured entries non-finite (1 NaN, 1 inf)" in o.statistic
    assert RateCheck("regret", "K", exponent=lambda p: 0.5).evaluate(cell).verdict == "FAIL"
    assert EqualityCheck("regret", 1e9).evaluate(cell).verdict == "FAIL"


def test_nan_bound_fails_even_against_a_huge_measurement():
    cell = _cell([{"x": 1e9} for _ in range(8)])
    o = BoundCheck("x", lambda p, x: np.asarray(np.nan), delta=0.05).evaluate(cell)
    assert o.verdict == "FAIL" and "bound entries non-finite" in o.statistic


def test_bound_above_the_maximum_is_vacuous_and_says_where_it_stops_being():
    # bound 100 sqrt(K) against the maximum H K = 2 K: above it while sqrt(K) < 50, i.e. K < 2500
    o = BoundCheck("regret", _sqrt_bound(100.0), x="K", maximum=regret_maximum()).evaluate(_regret_cells(1.0))
    assert o.verdict == "VACUOUS"
    assert o.detail["bound_over_max"] == pytest.approx(100 * np.sqrt(1000) / 2000)
    assert o.detail["x_needed"] == pytest.approx(2500, rel=0.01)
    # the same bound, tested where it is below the maximum somewhere, decides
    cell = _cell([{"K": K + [1e4], "regret": [np.sqrt(k) for k in K + [1e4]]} for _ in range(8)])
    assert BoundCheck("regret", _sqrt_bound(100.0), x="K", maximum=regret_maximum()).evaluate(cell).verdict == "PASS"


def test_measurement_above_its_maximum_is_a_broken_run():
    cell = _cell([{"K": K, "regret": [3.0 * k for k in K]} for _ in range(8)])  # regret > H K = 2 K
    o = BoundCheck("regret", _sqrt_bound(1e9), x="K", maximum=regret_maximum()).evaluate(cell)
    assert o.verdict == "FAIL" and "a-priori maximum" in o.statistic


def test_too_few_seeds_is_underpowered_even_for_measurements_1000x_worse():
    check = BoundCheck("x", lambda p, x: np.asarray(1.0), delta=0.25)
    worse = _cell([{"x": 1000.0}, {"x": 1000.0}])
    o = check.evaluate(worse)
    assert o.verdict == "UNDERPOWERED" and "needs >= 3 seeds" in o.statistic
    assert check.evaluate(_cell([{"x": 1000.0}] * 3)).verdict == "FAIL"


def _claim(*checks: Any) -> Claim:
    pre = Preset(({"H": 2},), 8)
    return Claim("t", "t", "t", run=lambda p, s: [], checks=checks, presets={"quick": pre, "full": pre})


def test_a_claim_with_a_part_that_cannot_fail_is_not_pass():
    cell = _regret_cells(1.0)
    ok = BoundCheck("regret", _sqrt_bound(2.0), x="K", label="ok")
    vac = BoundCheck("regret", _sqrt_bound(100.0), x="K", maximum=regret_maximum(), label="vacuous")
    weak = BoundCheck("regret", _sqrt_bound(2.0), x="K", delta=0.9, label="weak")
    assert evaluate_claim(_claim(ok), [cell])[0] == "PASS"
    assert evaluate_claim(_claim(ok, vac), [cell])[0] == "VACUOUS"
    assert evaluate_claim(_claim(ok, vac, weak), [cell])[0] == "UNDERPOWERED"
    assert evaluate_claim(_claim(vac, replace_scale(ok, 0.01)), [cell])[0] == "FAIL"
    # informational parts do not enter the verdict
    assert evaluate_claim(_claim(ok, replace_info(vac)), [cell])[0] == "PASS"


def replace_scale(check: BoundCheck, scale: float) -> BoundCheck:
    from dataclasses import replace

    return replace(check, scale=scale, label="scaled")


def replace_info(check: BoundCheck) -> BoundCheck:
    from dataclasses import replace

    return replace(check, informational=True)


def test_censored_runs_cannot_pass_a_rate():
    # K(eps) ~ eps^-2.6, capped at 3 / eps^2: the capped runs have exactly slope -2, the tested exponent
    rng = np.random.default_rng(0)
    eps = np.array([0.03, 0.021, 0.015, 0.0106, 0.0075])
    cap = 3.0 / eps**2
    rows = []
    for _ in range(32):
        k = 0.25 * eps**-2.6 * np.exp(rng.normal(0, 0.3, eps.size))
        rows.append({"eps": eps.tolist(), "episodes": np.minimum(k, cap).tolist(), "censored_at": (k > cap).tolist()})
    cell = _cell(rows)
    naive = RateCheck("episodes", "eps", exponent=lambda p: -2.0, direction="two-sided", max_width=1.5)
    aware = RateCheck(
        "episodes", "eps", exponent=lambda p: -2.0, direction="two-sided", max_width=1.5, censored="censored_at"
    )
    share = np.mean([r["censored_at"] for r in rows], axis=0).max()
    assert share > 0.5
    pulled = naive.evaluate(cell).detail["slope"]
    assert -2.45 < pulled < -2.0  # the cap's exponent leaks into the fit: the true slope is -2.6
    o = aware.evaluate(cell)
    assert o.verdict == "INCONCLUSIVE" and "censored share" in o.statistic
    clean = _cell([{**r, "episodes": (0.3 * eps**-2.0).tolist(), "censored_at": [0] * 5} for r in rows])
    assert aware.evaluate(clean).verdict == "PASS"


# ------------------------------------------------------------------------------------------------ mutants, CLI
def run_fixed(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """regret = c sqrt(K) per seed (or NaN), deterministic."""
    c = np.nan if params.get("nan") else params["c"]
    return [{"K": K, "regret": [c * np.sqrt(k) for k in K]} for _ in seeds]


def _cli_claim(name: str, bound: Any, **params: Any) -> Claim:
    pre = Preset(({"H": 2, "c": 1.0, **params},), 8, 8)
    return Claim(
        name,
        "test claim",
        "test",
        run=run_fixed,
        checks=(BoundCheck("regret", bound, x="K", delta=0.05, maximum=regret_maximum(), label="regret <= bound"),),
        presets={"quick": pre, "full": pre},
        mutants=(Mutant("tenth", "bound / 10", bound_scale=0.1, preset="quick"),),
    )


@pytest.fixture
def cli_claims():
    claims = {
        "t-pass": _cli_claim("t-pass", _sqrt_bound(2.0)),
        "t-nan-results": _cli_claim("t-nan-results", _sqrt_bound(2.0), nan=True),
        "t-nan-bound": _cli_claim("t-nan-bound", lambda p, x: np.full(np.shape(x), np.nan)),
        "t-vacuous": _cli_claim("t-vacuous", _sqrt_bound(1e6)),
    }
    core._load_builtin()
    for c in claims.values():
        core.register(c)
    yield claims
    for name in claims:
        core._REGISTRY.pop(name, None)


@pytest.mark.parametrize(
    ("name", "verdict", "code"),
    [("t-pass", "PASS", 0), ("t-nan-results", "FAIL", 1), ("t-nan-bound", "FAIL", 1), ("t-vacuous", "VACUOUS", 3)],
)
def test_cli_exit_code_follows_the_verdict(cli_claims, tmp_path, capsys, name, verdict, code):
    args = [
        "verify",
        name,
        "--workers",
        "0",
        "--store",
        str(tmp_path / "s.sqlite"),
        "--report",
        str(tmp_path / "r"),
        "--no-progress",
    ]
    assert main(args) == code
    assert f"{name:24s} {verdict}" in capsys.readouterr().out


def test_cli_mutant_must_fail(cli_claims, tmp_path, capsys):
    base = ["--workers", "0", "--store", str(tmp_path / "s.sqlite"), "--report", str(tmp_path / "r"), "--no-progress"]
    assert main(["verify", "t-pass", "--mutant", *base]) == 0  # 1 sqrt(K) > 0.2 sqrt(K): caught
    assert "t-pass~tenth" in capsys.readouterr().out
    assert main(["verify", "t-vacuous", "--mutant", "tenth", *base]) == 1  # 1e5 sqrt(K) is still vacuous
    assert "NOT caught" in capsys.readouterr().err
    assert main(["verify", "t-pass", "--mutant", "nope", *base]) == 2
    assert "has no mutant 'nope'" in capsys.readouterr().err


def test_list_shows_mutants(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "mutant naive-stop" in out


def test_mutated_claim():
    c = _cli_claim("t-m", _sqrt_bound(2.0))
    m = c.mutated()
    assert m.name == "t-m~tenth" and m.checks[0].scale == pytest.approx(0.1) and not m.mutants
    with pytest.raises(ValueError, match="mutant names must be distinct"):
        Claim("x", "x", "x", run_fixed, (), c.presets, mutants=(c.mutants[0], c.mutants[0]))
