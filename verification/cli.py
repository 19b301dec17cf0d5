"""The ``rltheory`` command line.

* ``rltheory list``: the registered claims, one line each, with their mutants.
* ``rltheory verify CLAIM... [--quick|--full] [--workers N] [--scheduler ADDRESS] [--store PATH] [--report DIR]
  [--seeds N] [--mutant [NAME]]``: run (or resume) the sweeps, then write the report. With ``--mutant`` each claim
  is replaced by its (first, or named) mutant, which must come out FAIL.
* ``rltheory report --store PATH --report DIR``: rewrite the report from a store.
* ``rltheory solve INSTANCE [--horizon H | --gamma G] [--method M]``: optimal values and policy of a zoo instance.
* ``rltheory zoo``: the zoo instances.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _parse_value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise SystemExit(f"rltheory: --param expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip().replace("-", "_")] = _parse_value(v.strip())
    return out


def _format_table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, sep, *body])


def _cmd_solve(args: argparse.Namespace) -> int:
    import mdps
    from rltheory.tabular import solve

    if args.horizon is not None and args.gamma is not None:
        print("rltheory solve: give --horizon or --gamma, not both", file=sys.stderr)
        return 2
    kwargs = _parse_params(args.param)
    if args.horizon is not None:
        kwargs["horizon"] = args.horizon
    if args.gamma is not None:
        kwargs["gamma"] = args.gamma
    if args.max_rows < 2:
        print(f"rltheory solve: --max-rows must be >= 2, got {args.max_rows}", file=sys.stderr)
        return 2
    try:
        mdp = mdps.make(args.instance, **kwargs)
        if args.tol is not None and (args.method or "") != "value_iteration":
            print("rltheory solve: --tol is value iteration's; give --method value_iteration", file=sys.stderr)
            return 2
        sol = solve(mdp, method=args.method, **({"tol": args.tol} if args.tol is not None else {}))
    except (ValueError, TypeError) as exc:
        print(f"rltheory solve: {exc}", file=sys.stderr)
        return 2
    except OverflowError as exc:
        print(f"rltheory solve: {exc}", file=sys.stderr)
        return 1
    failed = 0 if sol.success else 1
    if failed:
        print(f"rltheory solve: {sol.method} did not succeed: {sol.message}", file=sys.stderr)
    finite = not mdp.is_discounted
    V0 = sol.values[0] if finite else sol.values
    pi0 = sol.policy[0] if finite else sol.policy
    if args.format == "json":
        json.dump(
            {
                "instance": args.instance,
                "mdp": repr(mdp),
                "method": sol.method,
                "success": sol.success,
                "nit": int(np.sum(sol.nit)),
                "values": sol.values.tolist(),
                "policy": sol.policy.tolist(),
                "initial_value": float(mdp.initial @ V0),
            },
            sys.stdout,
        )
        print()
        return failed
    S = mdp.n_states
    shown = range(S) if S <= args.max_rows else list(range(args.max_rows // 2)) + list(range(S - args.max_rows // 2, S))
    headers = ["state", "V*_1(s)" if finite else "V*(s)", "pi*_1(s)" if finite else "pi*(s)"]
    if finite:
        headers.append("pi*_h(s), h=1..H")
    rows = []
    for s in shown:
        row = [str(s), f"{V0[s]:.6g}", str(int(pi0[s]))]
        if finite:
            seq = "".join(str(int(a)) if mdp.n_actions <= 10 else f"{int(a)}," for a in sol.policy[:, s])
            row.append(seq if len(seq) <= 60 else seq[:57] + "...")
        rows.append(row)
    print(f"{args.instance}: {mdp!r}")
    print(
        f"method={sol.method}  success={sol.success}  nit={int(np.sum(sol.nit))}  "
        f"time={sol.elapsed * 1e3:.2f} ms  message={sol.message}"
    )
    print(_format_table(headers, rows))
    if len(shown) < S:
        print(f"({S - len(shown)} states not shown; --max-rows to change)")
    print(f"value of the initial distribution: {float(mdp.initial @ V0):.10g}")
    return failed


def _cmd_zoo(args: argparse.Namespace) -> int:
    import mdps

    for name, ctor in mdps.ZOO.items():
        doc = (ctor.__doc__ or "").strip().splitlines()
        print(f"{name:12s} {doc[0] if doc else ''}")
    return 0


#: ``rltheory verify`` exit codes (also in docs/cli.md).
EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_UNDECIDED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _verify_exit_code(verdicts: Sequence[str]) -> int:
    """0 when every claim is PASS; 1 when any is FAIL; 3 when none fails but some are INCONCLUSIVE, VACUOUS or
    UNDERPOWERED (nothing was shown wrong, and not everything was shown right)."""
    if all(v == "PASS" for v in verdicts):
        return EXIT_PASS
    return EXIT_FAIL if "FAIL" in verdicts else EXIT_UNDECIDED


def _cmd_list(args: argparse.Namespace) -> int:
    from verification.core import all_claims

    claims = all_claims()
    width = max(len(c.name) for c in claims)
    for c in claims:
        print(f"{c.name:{width}s}  {c.title}")
        for m in c.mutants:
            print(f"{'':{width}s}    mutant {m.name}: {m.description}")
    return 0


def _resolve_claims(names: Sequence[str], mutant: str | None = None):  # type: ignore[no-untyped-def]
    from verification.core import all_claims, get_claim

    claims = all_claims() if list(names) == ["all"] else [get_claim(n) for n in names]
    if mutant is None:
        return claims
    return [c.mutated(None if mutant == "" else mutant) for c in claims]


def _print_reports(reports, report_dir: str) -> None:  # type: ignore[no-untyped-def]
    for r in reports:
        print(f"{r.claim:24s} {r.verdict:13s} ({r.n_cells} cells, {r.n_seeds} seed runs)  {r.markdown}")
    print(f"report: {Path(report_dir) / 'README.md'} (plots and summary.json beside it)")


def _report_dir_error(path: str) -> str | None:
    """Why ``--report PATH`` cannot be a report directory, or None (checked before any work is done)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        return f"--report {path!r} is an existing file, not a directory; give a directory for the report"
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                return f"--report {path!r}: {str(parent)!r} is a file, so the directory cannot be created"
            break
    return None


def _cmd_verify(args: argparse.Namespace) -> int:
    from verification.report import write_reports
    from verification.runner import dask_executor, run_claims

    preset = "full" if args.full else args.preset
    if (why := _report_dir_error(args.report)) is not None:
        print(f"rltheory verify: {why}", file=sys.stderr)
        return 2
    try:
        claims = _resolve_claims(args.claims, args.mutant)
        for c in claims:
            c.preset(preset)
        executor = dask_executor(args.scheduler) if args.scheduler else None
        summary = run_claims(
            claims,
            preset,
            args.store,
            workers=args.workers,
            executor=executor,
            n_seeds=args.seeds,
            base_seed=args.base_seed,
            progress=not args.no_progress,
        )
    except ValueError as exc:
        print(f"rltheory verify: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nrltheory verify: interrupted; finished seeds are saved in {args.store} and a rerun resumes there",
            file=sys.stderr,
        )
        return 130
    print(f"{summary.computed} seed runs computed, {summary.skipped} found in {args.store}, {summary.wall:.1f} s")
    try:
        reports = write_reports(claims, preset, args.store, args.report)
    except ValueError as exc:
        print(f"rltheory verify: {exc}", file=sys.stderr)
        return 2
    _print_reports(reports, args.report)
    if args.mutant is not None:
        survived = [r.claim for r in reports if r.verdict != "FAIL"]
        if survived:
            print(f"mutants NOT caught (their claims cannot fail this way): {', '.join(survived)}", file=sys.stderr)
            return EXIT_FAIL
        print("every mutant came out FAIL, as it must")
        return EXIT_PASS
    return _verify_exit_code([r.verdict for r in reports])


def _cmd_report(args: argparse.Namespace) -> int:
    from verification.core import get_claim
    from verification.report import write_reports
    from verification.store import ResultStore, StoreError, check_name

    if not Path(args.store).is_file():
        print(f"rltheory report: no result store at {args.store!r}", file=sys.stderr)
        return 2
    if (why := _report_dir_error(args.report)) is not None:
        print(f"rltheory report: {why}", file=sys.stderr)
        return 2

    def claim_of(name: str):  # type: ignore[no-untyped-def]
        base, tilde, mutant = name.partition("~")  # a mutant's runs are stored as "<claim>~<mutant>"
        return get_claim(base).mutated(mutant) if tilde else get_claim(name)

    try:
        with ResultStore(args.store, readonly=True) as store:  # read-only: a report never changes the store
            runs = store.runs()  # names checked: they become file and directory names below
        presets = sorted({p for _, p in runs})
        if args.preset:
            check_name("preset", args.preset)
            if args.preset not in presets:
                raise ValueError(f"store {args.store!r} holds no runs of preset {args.preset!r}; presets: {presets}")
            presets = [args.preset]
        claims_by_preset = {p: [claim_of(c) for c, q in runs if q == p] for p in presets}
    except ValueError as exc:
        print(f"rltheory report: {exc}", file=sys.stderr)
        return 2
    report_dir = Path(args.report)
    verdicts: list[str] = []
    try:
        for preset, claims in claims_by_preset.items():
            out = report_dir if len(presets) == 1 else report_dir / check_name("preset", preset)
            reports = write_reports(claims, preset, args.store, out)
            verdicts += [r.verdict for r in reports]
            _print_reports(reports, str(out))
    except (StoreError, ValueError) as exc:  # e.g. a malformed row or a non-numeric measurement
        print(f"rltheory report: {exc}", file=sys.stderr)
        return 2
    return _verify_exit_code(verdicts)  # the same codes as verify: 0 only when every claim is PASS


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rltheory`` command."""
    from rltheory.tabular import METHODS

    parser = argparse.ArgumentParser(
        prog="rltheory",
        description="Reinforcement-learning theory, checked numerically: exact solvers, bound verification.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ls = sub.add_parser("list", help="list the claims that can be verified")
    ls.set_defaults(func=_cmd_list)
    v = sub.add_parser(
        "verify",
        help="check claims numerically and write a report",
        description="Sweep instances x seeds for each claim, store every finished seed at once "
        "(a rerun resumes), then write a Markdown/PNG/JSON report.",
        epilog="exit codes: 0 every claim PASS; 1 some claim FAIL; 2 bad arguments; 3 no FAIL, but some claim "
        "INCONCLUSIVE, VACUOUS (its bound cannot be violated) or UNDERPOWERED (too few seeds to reject); "
        "130 interrupted (finished seeds are kept). With --mutant: 0 when every mutant FAILs, else 1.",
    )
    v.add_argument("claims", nargs="+", metavar="CLAIM", help="claim names (see `rltheory list`) or 'all'")
    g = v.add_mutually_exclusive_group()
    g.add_argument("--quick", dest="preset", action="store_const", const="quick", help="minutes on 2 cores (default)")
    g.add_argument("--full", action="store_true", help="the paper's scale")
    g.add_argument("--preset", dest="preset", help="another preset a claim defines (e.g. tiny)")
    v.set_defaults(preset="quick")
    v.add_argument("--workers", type=int, default=None, help="process-pool size (default: CPU count; 0 in-process)")
    v.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address (extra 'dask')")
    v.add_argument("--store", default="rltheory-results.sqlite", help="SQLite result store (resumable)")
    v.add_argument("--report", default="rltheory-report", help="report directory")
    v.add_argument("--seeds", type=int, default=None, help="seeds per cell (overrides the preset)")
    v.add_argument("--base-seed", type=int, default=0, help="root entropy of all seeds")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument(
        "--mutant",
        nargs="?",
        const="",
        default=None,
        metavar="NAME",
        help="run each claim's mutant (the first, or NAME) instead: a deliberately wrong variant that must FAIL; "
        "exit 0 when every mutant fails",
    )
    v.set_defaults(func=_cmd_verify)
    r = sub.add_parser("report", help="write the report of a result store")
    r.add_argument("--store", required=True, help="SQLite result store")
    r.add_argument("--report", default="rltheory-report", help="report directory")
    r.add_argument("--preset", default=None, help="only this preset")
    r.set_defaults(func=_cmd_report)
    p = sub.add_parser(
        "solve",
        help="print the optimal values and policy of a zoo instance",
        description="Solve a zoo MDP exactly and print V* and an optimal policy.",
    )
    p.add_argument("instance", help="zoo instance name (see `rltheory zoo`)")
    p.add_argument("--horizon", type=int, default=None, help="finite horizon H")
    p.add_argument("--gamma", type=float, default=None, help="discount factor in [0, 1)")
    p.add_argument(
        "--method",
        choices=list(METHODS),
        default=None,
        help="solver (default: backward_induction for H, policy_iteration for gamma)",
    )
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="instance parameter, e.g. --param n_states=10 (repeatable)",
    )
    p.add_argument("--tol", type=float, default=None, help="value iteration's sup-norm tolerance (default 1e-8)")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--max-rows", type=int, default=40, help="states shown in the table")
    p.set_defaults(func=_cmd_solve)
    z = sub.add_parser("zoo", help="list the MDP zoo instances")
    z.set_defaults(func=_cmd_zoo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rltheory`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # e.g. `rltheory solve ... | head`: the reader left, which is not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
