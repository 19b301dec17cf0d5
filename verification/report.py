"""Reports: a Markdown page and a PNG plot per claim, an index, and a JSON summary for tools.

The page states the verdict with the statistic behind it, a table of measured against bound per cell (mean,
quantiles over seeds, the number of seeds) and the fitted slopes with their intervals; the plot shows measured
curves (seed mean with a 10-90% band) against the bound on log-log axes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verification.core import BoundCheck, CellData, CheckOutcome, Claim, EqualityCheck, RateCheck, evaluate_claim
from verification.store import ResultStore, StoreError, cell_key, check_name

__all__ = ["ClaimReport", "write_report", "write_reports"]


@dataclass(frozen=True)
class ClaimReport:
    """What a report says about one claim."""

    claim: str
    preset: str
    verdict: str
    outcomes: tuple[CheckOutcome, ...]
    markdown: Path
    plot: Path | None
    n_cells: int
    n_seeds: int


_VERDICT_KEY = (
    "Verdicts: PASS (the check could have failed and did not), FAIL, INCONCLUSIVE (the data cannot decide), "
    "VACUOUS (the bound is at or above what the measured quantity can ever reach: it cannot fail), UNDERPOWERED "
    "(too few seeds to reject even if every seed violated). Margins: measured/bound (> 1 violates), bound/max "
    "(>= 1 is vacuous), error/tol for equalities, and the distance of the slope interval's deciding end from the "
    "exponent (negative: the wrong side)."
)


def _fmt_params(p: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in p.items())


def _g(x: float) -> str:
    return f"{x:.4g}"


def _margin(o: CheckOutcome) -> str:
    """The margins of an outcome: measured/bound (or error/tol) and bound/maximum, for the verdict table."""
    d = o.detail
    parts = []
    if "max_ratio" in d:
        parts.append(f"measured/bound {_g(d['max_ratio'])}" if "tol" not in d else f"error/tol {_g(d['max_ratio'])}")
    if "bound_over_max" in d:
        parts.append(f"bound/max {_g(d['bound_over_max'])}")
    if "x_needed" in d:
        parts.append(f"non-vacuous from {_g(d['x_needed'])}")
    if "margin" in d:
        if "exponent" in d:
            parts.append(f"exponent - interval end {d['margin']:+.3f}")
        else:  # e.g. a sign check: its one-sided bound on the predicted side (negative: the wrong side)
            parts.append(f"margin {d['margin']:+.3g}")
    return "; ".join(parts) or "-"


def _bound_rows(check: BoundCheck, cells: list[CellData]) -> list[str]:
    head = (
        "| cell | x | seeds | mean | q10 | median | q90 | max | bound | max/bound | a-priori max | bound/a-priori max |"
    )
    rows = [head, "|" + "---|" * 12]
    for cell in cells:
        Y = cell.column(check.measure)
        xs = cell.column(check.x)[0] if check.x else None
        with np.errstate(all="ignore"):
            b = check.scale * np.broadcast_to(np.asarray(check.bound(cell.params, xs), float), Y.shape[1:])
        m = (
            np.broadcast_to(np.asarray(check.maximum(cell.params, xs), float), Y.shape[1:])
            if check.maximum is not None
            else None
        )
        cols: list[tuple[int | None, str]] = [(None, "")]
        if xs is not None:
            picks = [0, len(xs) // 2, len(xs) - 1] if len(xs) > 2 else [len(xs) - 1]
            cols = [(j, _g(float(xs[j]))) for j in picks]
        for j, xv in cols:
            y = Y[:, j] if j is not None else Y.reshape(Y.shape[0], -1).max(axis=1)
            bj = float(b[j]) if j is not None else float(np.min(b))
            mj = (float(m[j]) if j is not None else float(np.min(m))) if m is not None else None
            with np.errstate(all="ignore"):
                q10, q50, q90 = np.quantile(y, [0.1, 0.5, 0.9])
                ratio = y.max() / bj if bj != 0 else float("inf")
                mcols = f"{_g(mj)} | {_g(bj / mj)}" if mj is not None else "- | -"
            rows.append(
                f"| {_fmt_params(cell.params)} | {xv} | {y.size} | {_g(y.mean())} | "
                f"{_g(q10)} | {_g(q50)} | {_g(q90)} | {_g(y.max())} | {_g(bj)} | {_g(ratio)} | {mcols} |"
            )
    return rows


def _plot(claim: Claim, cells: list[CellData], path: Path) -> Path | None:
    if not claim.plots or not cells:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = {c.label: c for c in claim.checks if isinstance(c, BoundCheck)}
    # label cells by the parameters that differ between them
    varying = [k for k in cells[0].params if len({json.dumps(c.params.get(k)) for c in cells}) > 1] or list(
        cells[0].params
    )
    fig, axes = plt.subplots(1, len(claim.plots), figsize=(6.5 * len(claim.plots), 5.5), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (xkey, measure, blabel) in zip(axes[0], claim.plots, strict=True):
        drawn: list[np.ndarray] = []
        drawn_max: list[np.ndarray] = []
        positive_x = positive_y = True  # a log axis cannot show 0 (e.g. a perturbation q = 0): go linear then
        for i, cell in enumerate(cells):
            color = colors[i % len(colors)]
            x = cell.column(xkey)[0]
            Y = cell.column(measure)
            mean = Y.mean(axis=0)
            positive_x &= bool(np.all(x > 0))
            positive_y &= bool(np.all(mean > 0))
            lo, hi = np.quantile(Y, [0.1, 0.9], axis=0)
            label = ", ".join(f"{k}={cell.params.get(k)}" for k in varying)
            ax.plot(x, mean, color=color, label=f"{label} ({Y.shape[0]} seeds)")
            ax.fill_between(x, lo, hi, color=color, alpha=0.2)  # log axes mask non-positive values
            if blabel is not None and blabel in checks:
                chk = checks[blabel]
                with np.errstate(all="ignore"):
                    b = chk.scale * np.broadcast_to(np.asarray(chk.bound(cell.params, x), float), x.shape)
                if np.isfinite(b).all() and not any(d.shape == b.shape and np.allclose(d, b) for d in drawn):
                    drawn.append(b)
                    ax.plot(x, b, color=color, linestyle="--", linewidth=1.2)
                if chk.maximum is not None:
                    mx = np.broadcast_to(np.asarray(chk.maximum(cell.params, x), float), x.shape)
                    if not any(d.shape == mx.shape and np.allclose(d, mx) for d in drawn_max):
                        drawn_max.append(mx)
                        ax.plot(x, mx, color=color, linestyle=":", linewidth=1.6)
        ax.set_xscale("log" if positive_x else "linear")
        ax.set_yscale("log" if positive_x and positive_y else "linear")
        ax.set_xlabel(xkey)
        ax.set_ylabel(measure)
        title = f"{measure} vs {xkey}" + (f" (dashed: {blabel}; dotted: a-priori maximum)" if blabel else "")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=1, frameon=False)
    fig.suptitle(
        f"{claim.name}: seed mean with 10-90% band; dashed: bound; dotted: the quantity's a-priori maximum "
        "(a bound above it cannot be violated)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _needed(claim: Claim, params: dict[str, Any]) -> set[str]:
    """The measurement keys the report reads from a cell's results: those of the checks that apply to it, and
    the plotted ones."""
    keys = {k for xkey, measure, _ in claim.plots for k in (xkey, measure)}
    for check in claim.checks:
        if check.applies is None or check.applies(params):
            keys |= {k for k in (check.measure, getattr(check, "x", None), getattr(check, "censored", None)) if k}
    return keys


def _check_rows(claim: Claim, preset: str, cells: list[CellData], store: ResultStore) -> None:
    """:class:`StoreError` naming the first stored row that lacks a measurement the report needs."""
    for cell in cells:
        needed = _needed(claim, cell.params)
        for seed, res in zip(cell.seeds, cell.results, strict=True):
            if missing := sorted(needed - res.keys()):
                raise StoreError(
                    f"malformed row in store {str(store.path)!r}: claim {claim.name!r}, preset {preset!r}, "
                    f"cell {cell_key(cell.params)}, seed {seed}: missing measurements {missing}"
                )


def write_report(claim: Claim, preset: str, store: ResultStore, report_dir: str | Path) -> ClaimReport:
    """Evaluate ``claim`` on the stored cells and write ``<report_dir>/<claim>.md`` and ``<claim>.png``."""
    check_name("claim", claim.name)  # both become file names below
    check_name("preset", preset)
    out = Path(report_dir)
    grid = claim.presets[preset].grid if preset in claim.presets else None
    cells = store.cells(claim.name, preset, grid)
    _check_rows(claim, preset, cells, store)
    out.mkdir(parents=True, exist_ok=True)
    verdict, outcomes = evaluate_claim(claim, cells)
    plot = _plot(claim, cells, out / f"{claim.name}.png")
    n_seeds = sum(len(c.seeds) for c in cells)
    lines = [
        f"# {claim.name}: {verdict}",
        "",
        f"**{claim.title}**",
        "",
        f"Source: {claim.citation}",
        "",
        f"Preset `{preset}`: {len(cells)} cells, {n_seeds} seed runs, "
        f"{store.elapsed(claim.name, preset):.1f} s of compute.",
        "",
    ]
    if claim.description:
        lines += [claim.description.strip(), ""]
    lines += [
        _VERDICT_KEY,
        "",
        "## Verdicts",
        "",
        "| check | cell | verdict | margin | statistic |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.check} | {_fmt_params(o.params)} | "
        + (f"{o.verdict} (informational)" if o.informational else f"**{o.verdict}**")
        + f" | {_margin(o)} | {o.statistic} |"
        for o in outcomes
    ]
    lines.append("")
    if claim.mutants:
        lines += ["## Mutants (deliberately wrong variants that must FAIL)", ""]
        lines += [
            f"- `{m.name}`: {m.description} (`rltheory verify {claim.name} --mutant {m.name}`)" for m in claim.mutants
        ]
        lines.append("")
    for check in claim.checks:
        if isinstance(check, BoundCheck):
            lines += [
                f"## {check.label}: measured `{check.measure}` vs bound"
                + (f" (theorem `{check.theorem}`)" if check.theorem else ""),
                "",
            ]
            if check.theorem:
                from rltheory.bounds import get

                thm = get(check.theorem)
                lines += [f"$$ {thm.latex()} $$", "", f"{thm.citation}", ""]
            if check.scale != 1.0:
                lines += [f"The bound is multiplied by {check.scale:g} in this claim.", ""]
            lines += _bound_rows(check, cells) + [""]
        elif isinstance(check, RateCheck):
            lines += [
                f"## {check.label}: log-log slope of `{check.measure}` against `{check.x}`",
                "",
                f"Fit on x >= {check.fit_from:g} * max(x); percentile bootstrap over seeds ({check.n_boot} resamples).",
                "",
                "| cell | slope | interval | exponent | verdict |",
                "|---|---|---|---|---|",
            ]
            for o in outcomes:
                if o.check == check.label and "slope" in o.detail:
                    d = o.detail
                    lines.append(
                        f"| {_fmt_params(o.params)} | {d['slope']:.3f} | [{d['low']:.3f}, {d['high']:.3f}] "
                        f"| {d['exponent']:g} | {o.verdict} |"
                    )
            lines.append("")
        elif isinstance(check, EqualityCheck):
            lines += [f"## {check.label}: `{check.measure}` <= {check.tol:g}", ""]
    if plot is not None:
        lines += ["## Plot", "", f"![{claim.name}]({plot.name})", ""]
    md = out / f"{claim.name}.md"
    md.write_text("\n".join(lines))
    return ClaimReport(claim.name, preset, verdict, tuple(outcomes), md, plot, len(cells), n_seeds)


def write_reports(
    claims: list[Claim], preset: str, store_path: str | Path, report_dir: str | Path
) -> list[ClaimReport]:
    """Write every claim's page, an index ``README.md`` and ``summary.json`` into ``report_dir``; the store is
    opened read-only and left unchanged."""
    out = Path(report_dir)
    check_name("preset", preset)
    with ResultStore(store_path, readonly=True) as store:
        reports = [write_report(c, preset, store, out) for c in claims]
    index = [
        "# Verification report",
        "",
        f"Preset `{preset}`, store `{store_path}`.",
        "",
        "| claim | verdict | cells | seed runs |",
        "|---|---|---|---|",
    ]
    index += [f"| [{r.claim}]({r.markdown.name}) | **{r.verdict}** | {r.n_cells} | {r.n_seeds} |" for r in reports]
    out.mkdir(parents=True, exist_ok=True)
    (out / "README.md").write_text("\n".join(index) + "\n")
    summary = {
        "preset": preset,
        "store": str(store_path),
        "claims": {
            r.claim: {
                "verdict": r.verdict,
                "cells": r.n_cells,
                "seed_runs": r.n_seeds,
                "markdown": r.markdown.name,
                "plot": r.plot.name if r.plot else None,
                "checks": [
                    {
                        "check": o.check,
                        "params": o.params,
                        "verdict": o.verdict,
                        "statistic": o.statistic,
                        "informational": o.informational,
                        **{k: v for k, v in o.detail.items() if isinstance(v, (int, float, str))},
                    }
                    for o in r.outcomes
                ],
            }
            for r in reports
        },
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=True))
    return reports
