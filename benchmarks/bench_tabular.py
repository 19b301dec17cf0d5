"""Speed of rltheory's exact tabular solvers against pymdptoolbox, rlberry and this machine's memory bandwidth.

Usage::

    python benchmarks/bench_tabular.py [--quick] [--out results.json]
    nox -s bench -- [--quick] [--out results.json]

One run measures, in order:

1. memory read bandwidth (fast-math numba sum over 2 GB, 1 thread and all threads): the limit;
2. dense random MDPs, S in {100, 500, 2000} x A in {4, 16} x H in {10, 100}: rltheory ``backward_induction``
   against pymdptoolbox ``FiniteHorizon`` and rlberry's jitted ``backward_induction``, and against the bound
   ``H S A S 8 bytes / bandwidth`` (P read once per step);
3. tiny MDPs (S=10, A=3, H=10): solves per second, single calls and one batched call of 10,000;
4. 64 reward functions sharing one P: one batched call against 64 separate calls;
5. a sparse 1000 x 1000 gridworld (10^6 states, H=100) in a child process: time and peak RSS;
6. discounted value iteration (S=500, A=8, gamma=0.9, tol=1e-8) against pymdptoolbox, errors against policy
   iteration.

Timing: ``time.perf_counter`` around whole calls as a user makes them, starting from numpy arrays
(rltheory's time includes building the validated ``TabularMDP``; pymdptoolbox's includes its constructor);
numba compiled before timing; contenders interleaved (the starting one rotated every repetition) with a short
pause before each timed call so that no BLAS or OpenMP thread is still spinning from the previous contender;
medians reported. Every contender's first-step values are checked against rltheory's. The machine may be shared:
load averages and the CPU share of other processes are recorded per section.

Prints a Markdown report on stdout (progress on stderr) and writes every raw time to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _machine  # noqa: E402
import _peers  # noqa: E402

from rltheory import TabularMDP  # noqa: E402
from rltheory.tabular import backward_induction, policy_iteration, value_iteration  # noqa: E402


@dataclass(frozen=True)
class Sizes:
    """Problem sizes of one run (``FULL`` is the reported benchmark, ``QUICK`` a < 1 minute smoke test)."""

    bw_bytes: int = 2 * 10**9
    bw_reps: int = 9
    dense_S: tuple[int, ...] = (100, 500, 2000)
    dense_A: tuple[int, ...] = (4, 16)
    dense_H: tuple[int, ...] = (10, 100)
    reps: int = 5
    batch_reps: int = 3
    gap_s: float = 0.2
    tiny: tuple[int, int, int] = (10, 3, 10)
    tiny_B: int = 10_000
    tiny_seconds: float = 1.0
    shared: tuple[tuple[int, int, int], ...] = ((500, 16, 100), (2000, 16, 100))
    shared_B: int = 64
    grid: tuple[int, int, int] = (1000, 1000, 100)
    grid_runs: int = 3
    vi: tuple[int, int, float] = (500, 8, 0.9)
    vi_tol: float = 1e-8
    dense_only: tuple[tuple[int, ...], ...] | None = None  # restrict the S x A x H grid (--dense-configs)


FULL = Sizes()
QUICK = Sizes(
    bw_bytes=256 * 2**20,
    bw_reps=3,
    dense_S=(100, 300),
    dense_A=(4,),
    dense_H=(10,),
    reps=3,
    batch_reps=3,
    gap_s=0.01,
    tiny_B=1000,
    tiny_seconds=0.1,
    shared=((200, 4, 10),),
    shared_B=8,
    grid=(100, 100, 20),
    grid_runs=1,
    vi=(100, 4, 0.9),
)

# Targets stated for this benchmark (docs/benchmarks.md discusses them).
TARGET_FRAC_OF_BOUND = 0.8
TARGET_TINY_BATCHED_RATE = 100_000
TARGET_TINY_VS_MDPTOOLBOX = 50
TARGET_SHARED_SPEEDUP = 5
TARGET_GRID_SECONDS = 10
TARGET_GRID_BYTES = 3 * 10**9


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fmt_t(s: float | None) -> str:
    if s is None or not np.isfinite(s):
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.3g} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def med(xs: list[float]) -> float:
    return statistics.median(xs)


def dense_mdp(rng: np.random.Generator, S: int, A: int, B: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows of P uniform on [0, 1) then normalised, R ~ U[0, 1); with ``B`` a leading batch axis."""
    lead = () if B is None else (B,)
    P = rng.random(lead + (S, A, S))
    P /= P.sum(axis=-1, keepdims=True)
    return P, rng.random(lead + (S, A))


def interleave(
    calls: dict[str, Callable[[], tuple[dict[str, float], np.ndarray]]], reps: int, gap_s: float, reference: np.ndarray
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Run each call ``reps`` times round-robin, rotating the first; collect every timing and max |V_1 - ref|."""
    times: dict[str, list[float]] = {}
    diffs: dict[str, float] = {name: 0.0 for name in calls}
    names = list(calls)
    for r in range(reps):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(gap_s)
            parts, V1 = calls[name]()
            for label, t in parts.items():
                times.setdefault(label, []).append(t)
            diffs[name] = max(diffs[name], float(np.abs(np.asarray(V1) - reference).max()))
    return times, diffs


def rltheory_call(P: np.ndarray, R: np.ndarray, **kw: Any) -> tuple[dict[str, float], np.ndarray]:
    """Build the validated MDP from arrays and solve it by backward induction (timed in two parts)."""
    t0 = time.perf_counter()
    mdp = TabularMDP(P, R, **kw)
    t1 = time.perf_counter()
    sol = backward_induction(mdp)
    t2 = time.perf_counter()
    return {"rltheory": t2 - t0, "rltheory_build": t1 - t0, "rltheory_solve": t2 - t1}, sol.values[..., 0, :]


# ------------------------------------------------------------------------------------------------ sections
def section_bandwidth(sz: Sizes) -> dict[str, Any]:
    out = _machine.memory_bandwidth(sz.bw_bytes, sz.bw_reps)
    # The compute limit of a batch sharing one P: one [S*A, S] @ [S, B] product per step.
    out["dgemm"] = [_machine.dgemm_rate(S * A, S, sz.shared_B, sz.bw_reps) for S, A, _ in sz.shared]
    return out


def section_dense(sz: Sizes, bw: float, peers: dict[str, Any]) -> list[dict[str, Any]]:
    mdptb, rlb = peers["pymdptoolbox"], peers["rlberry"]
    rows = []
    grid = sz.dense_only or tuple((S, A, H) for S in sz.dense_S for A in sz.dense_A for H in sz.dense_H)
    for S, A in dict.fromkeys((S, A) for S, A, _ in grid):
        rng = np.random.default_rng([S, A])
        P, R = dense_mdp(rng, S, A)
        P_ass = np.ascontiguousarray(P.transpose(1, 0, 2))
        for H in (H for S_, A_, H in grid if (S_, A_) == (S, A)):  # one P per (S, A)
            log(f"dense S={S} A={A} H={H}")
            quiet = quiet_wait(cap_s=20)
            load = _machine.Load()
            ref = rltheory_call(P, R, horizon=H)[1]  # also the warm-up
            calls: dict[str, Callable[[], tuple[dict[str, float], np.ndarray]]] = {
                "rltheory": lambda P=P, R=R, H=H: rltheory_call(P, R, horizon=H),
            }
            if mdptb is not None:

                def call_mdptb(P_ass=P_ass, R=R, H=H):
                    t, V1 = _peers.mdptoolbox_finite_horizon(mdptb, P_ass, R, H)
                    return {"pymdptoolbox": t["total"], "pymdptoolbox_build": t["build"]}, V1

                calls["pymdptoolbox"] = call_mdptb
            if rlb is not None:

                def call_rlb(P=P, R=R, H=H):
                    t, V1 = _peers.rlberry_backward_induction(rlb, P, R, H)
                    return {"rlberry": t}, V1

                calls["rlberry"] = call_rlb
            for call in list(calls.values())[1:]:
                call()  # warm-up
            times, diffs = interleave(calls, sz.reps, sz.gap_s, ref)
            bound = H * S * A * S * 8 / (bw * 1e9)
            rows.append(
                {
                    "S": S,
                    "A": A,
                    "H": H,
                    "P_MiB": P.nbytes / 2**20,
                    "bound_s": bound,
                    "times_s": times,
                    "max_abs_diff_V1": diffs,
                    "frac_of_bound": bound / med(times["rltheory_solve"]),
                    "load": load.done(),
                    "quiet_wait": quiet,
                }
            )
        del P, P_ass
    return rows


def _rate(fn: Callable[[int], Any], pool: int, seconds: float) -> float:
    n, t0 = 0, time.perf_counter()
    while True:
        for i in range(pool):
            fn(i)
        n += pool
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n / elapsed


def section_tiny(sz: Sizes, peers: dict[str, Any]) -> dict[str, Any]:
    S, A, H = sz.tiny
    B, pool = sz.tiny_B, 100
    rng = np.random.default_rng(12345)
    P, R = dense_mdp(rng, S, A, B)
    P_ass = [np.ascontiguousarray(P[i].transpose(1, 0, 2)) for i in range(pool)]
    built = [TabularMDP(P[i], R[i], horizon=H) for i in range(pool)]
    mdptb, rlb = peers["pymdptoolbox"], peers["rlberry"]

    def batched() -> tuple[float, float, np.ndarray]:
        t0 = time.perf_counter()
        mdp = TabularMDP(P, R, horizon=H, batched=True)
        t1 = time.perf_counter()
        sol = backward_induction(mdp)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, sol.values[:, 0]

    singles: dict[str, Callable[[int], Any]] = {
        "rltheory single call (MDP built once)": lambda i: backward_induction(built[i]),
        "rltheory single call (build + solve)": lambda i: backward_induction(TabularMDP(P[i], R[i], horizon=H)),
    }
    if mdptb is not None:
        singles["pymdptoolbox single call"] = lambda i: _peers.mdptoolbox_finite_horizon(mdptb, P_ass[i], R[i], H)
    if rlb is not None:
        singles["rlberry single call"] = lambda i: rlb(R[i], P[i], H)
    for fn in singles.values():
        fn(0)  # warm-up / compile
    _, _, V1_batched = batched()
    rates: dict[str, list[float]] = {name: [] for name in singles}
    batch_build: list[float] = []
    batch_solve: list[float] = []
    names = list(singles) + ["batched"]
    for r in range(3):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(sz.gap_s)
            if name == "batched":
                tb, ts, _ = batched()
                batch_build.append(tb)
                batch_solve.append(ts)
            else:
                rates[name].append(_rate(singles[name], pool, sz.tiny_seconds))
    # Correctness on the pool: every single-call contender against the batched solve.
    diffs = {
        "rltheory single call (MDP built once)": max(
            float(np.abs(backward_induction(built[i]).values[0] - V1_batched[i]).max()) for i in range(pool)
        ),
    }
    if mdptb is not None:
        diffs["pymdptoolbox single call"] = max(
            float(np.abs(_peers.mdptoolbox_finite_horizon(mdptb, P_ass[i], R[i], H)[1] - V1_batched[i]).max())
            for i in range(pool)
        )
    if rlb is not None:
        diffs["rlberry single call"] = max(
            float(np.abs(rlb(R[i], P[i], H)[1][0] - V1_batched[i]).max()) for i in range(pool)
        )
    out_rates = {name: med(v) for name, v in rates.items()}
    out_rates[f"rltheory batched, one call of B={B} (solve)"] = B / med(batch_solve)
    out_rates[f"rltheory batched, one call of B={B} (build + solve)"] = B / med(
        [a + b for a, b in zip(batch_build, batch_solve, strict=True)]
    )
    return {
        "S": S,
        "A": A,
        "H": H,
        "B": B,
        "rates_per_s": out_rates,
        "rates_all": rates,
        "batch_build_s": batch_build,
        "batch_solve_s": batch_solve,
        "max_abs_diff_V1": diffs,
    }


def section_shared(sz: Sizes, bw: float, dgemm: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    B = sz.shared_B
    for (S, A, H), gemm in zip(sz.shared, dgemm, strict=True):
        log(f"shared-P batch S={S} A={A} H={H} B={B}")
        quiet = quiet_wait(cap_s=30)
        load = _machine.Load()
        rng = np.random.default_rng([S, A, B])
        P, _ = dense_mdp(rng, S, A)
        P.flags.writeable = False  # shared by every MDP below, never copied
        Rb = rng.random((B, S, A))

        def batched(P=P, Rb=Rb, H=H):
            return rltheory_call(P[None], Rb, horizon=H, batched=True)

        def separate(P=P, Rb=Rb, H=H, S=S):
            tot = {"rltheory": 0.0, "rltheory_build": 0.0, "rltheory_solve": 0.0}
            V1 = np.empty((B, S))
            for b in range(B):
                t, V1[b] = rltheory_call(P, Rb[b], horizon=H)
                for k in tot:
                    tot[k] += t[k]
            return tot, V1

        rltheory_call(P, Rb[0], horizon=H)  # warm-up
        res: dict[str, dict[str, list[float]]] = {"batched": {}, "separate": {}}
        V1s: dict[str, list[np.ndarray]] = {"batched": [], "separate": []}
        order = [("batched", batched), ("separate", separate)]
        for r in range(sz.batch_reps):
            for name, fn in order[r % 2 :] + order[: r % 2]:
                time.sleep(sz.gap_s)
                t, V1 = fn()
                for k, v in t.items():
                    res[name].setdefault(k, []).append(v)
                V1s[name].append(V1)
        ref = V1s["separate"][0]
        diffs = {name: max(float(np.abs(V - ref).max()) for V in Vs) for name, Vs in V1s.items()}
        del V1s
        rows.append(
            {
                "S": S,
                "A": A,
                "H": H,
                "B": B,
                "times_s": res,
                "max_abs_diff_V1": diffs,
                "speedup": med(res["separate"]["rltheory"]) / med(res["batched"]["rltheory"]),
                "speedup_solve_only": med(res["separate"]["rltheory_solve"]) / med(res["batched"]["rltheory_solve"]),
                # H - 1 products (the last step needs no P V): compute- or bandwidth-limited, whichever is slower.
                "bound_batched_s": max(
                    2.0 * (H - 1) * S * A * S * B / (gemm["gflops_best"] * 1e9), H * S * A * S * 8 / (bw * 1e9)
                ),
                "load": load.done(),
                "quiet_wait": quiet,
            }
        )
        del P, Rb
    return rows


def section_gridworld(sz: Sizes) -> dict[str, Any]:
    n_rows, n_cols, H = sz.grid
    out: dict[str, Any] = {"grid": [n_rows, n_cols], "H": H, "modes": {}}
    for keep_q in (False, True):
        runs = []
        for i in range(sz.grid_runs):
            log(f"sparse gridworld {n_rows}x{n_cols} H={H} keep_q_values={keep_q}, child {i + 1}/{sz.grid_runs}")
            quiet_wait(cap_s=20)
            cmd = [sys.executable, str(HERE / "_sparse_child.py"), str(n_rows), str(n_cols), str(H), str(int(keep_q))]
            load = _machine.Load()
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
            if proc.returncode != 0:
                out["error"] = proc.stderr[-2000:]
                return out
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]) | {"load": load.done()})
        keys = ("build_s", "solve_s", "peak_rss", "peak_rss_after_import", "peak_rss_after_build", "first_call_small_s")
        summary = {k: med([r[k] for r in runs]) for k in keys}
        summary["peak_rss_max"] = max(r["peak_rss"] for r in runs)
        summary["total_s"] = med([r["build_s"] + r["solve_s"] for r in runs])
        summary["foreign_cpu"] = med([r["load"]["foreign_cpu"] for r in runs])
        out["modes"]["keep_q_values=" + str(keep_q)] = {
            "runs": runs,
            "median": summary,
            "result_bytes": runs[0]["result_bytes"],
        }
        out.update({k: runs[0][k] for k in ("n_states", "n_actions", "nnz", "sparse_vs_dense_max_diff")})
    return out


def section_vi(sz: Sizes, peers: dict[str, Any]) -> dict[str, Any]:
    S, A, gamma = sz.vi
    tol = sz.vi_tol
    rng = np.random.default_rng([S, A, 9])
    P, R = dense_mdp(rng, S, A)
    P_ass = np.ascontiguousarray(P.transpose(1, 0, 2))
    exact = policy_iteration(TabularMDP(P, R, gamma=gamma))
    mdptb = peers["pymdptoolbox"]
    nit: dict[str, int] = {}
    wrong_actions: dict[str, int] = {}
    Call = Callable[[], tuple[dict[str, float], np.ndarray]]

    def rlt(label: str, solver: Callable[..., Any], **kw: Any) -> tuple[str, Call]:
        def call():
            t0 = time.perf_counter()
            sol = solver(TabularMDP(P, R, gamma=gamma), **kw)
            t = time.perf_counter() - t0
            nit[label] = int(sol.nit)
            wrong_actions[label] = int((sol.policy != exact.policy).sum())
            return {label: t}, sol.values

        return label, call

    def tb(label: str, fn: Callable[..., Any], *args: Any) -> tuple[str, Call]:
        def call():
            t, V, pol, it = fn(mdptb, P_ass, R, gamma, *args)
            nit[label] = it
            wrong_actions[label] = int((pol != exact.policy).sum())
            return {label: t}, V

        return label, call

    calls = dict(
        [
            rlt(f"rltheory value_iteration(tol={tol:g})", value_iteration, tol=tol),
            rlt("rltheory policy_iteration", policy_iteration),
        ]
    )
    if mdptb is not None:
        calls.update(
            [
                tb(f"pymdptoolbox ValueIteration(epsilon={tol:g})", _peers.mdptoolbox_value_iteration, tol),
                tb("pymdptoolbox ValueIteration(default epsilon=0.01)", _peers.mdptoolbox_value_iteration, 0.01),
                tb("pymdptoolbox PolicyIteration", _peers.mdptoolbox_policy_iteration),
            ]
        )
    for call in calls.values():
        call()
    times, errors = interleave(calls, sz.reps, sz.gap_s, exact.values)
    return {
        "S": S,
        "A": A,
        "gamma": gamma,
        "tol": tol,
        "times_s": times,
        "max_abs_err_vs_PI": errors,
        "iterations": nit,
        "actions_differing_from_PI": wrong_actions,
        "V_star_range": [float(exact.values.min()), float(exact.values.max())],
    }


# ------------------------------------------------------------------------------------------------ report
def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def report_run(res: dict[str, Any]) -> list[str]:
    m = res["machine"]
    blas = "; ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']}, {b['threading_layer']}, {b['num_threads']} threads)"
        for b in m["blas"]
    )
    v = m["versions"]
    rows = [
        [
            name,
            " / ".join(f"{x:.2f}" for x in ld["loadavg_before"]),
            " / ".join(f"{x:.2f}" for x in ld["loadavg_after"]),
            f"{ld['foreign_cpu']:.0%}",
            f"{ld['wall_s']:.0f} s",
            f"{ld['quiet_wait']['waited_s']:.0f} s" if "quiet_wait" in ld else "—",
        ]
        for name, ld in res["load"].items()
    ]
    return [
        "## Run",
        "",
        f"* date: {m['date']}; mode: {'quick (smoke test, not for reporting)' if res['quick'] else 'full'}; "
        f"sections: {', '.join(res['sections'])}",
        f"* CPU: {m['cpu_model']} ({m['cpu_family_model']}, {m['hypervisor'] or 'bare metal'} guest), "
        f"{m['cores']} cores, {m['threads_per_core']} thread/core, AVX-512: {m['avx512f']}; "
        + ", ".join(f"{k} {x}" for k, x in m["caches"].items())
        + f"; {m['memory_gib']} GiB",
        f"* Python {m['python']}, numpy {v['numpy']}, scipy {v['scipy']}, numba {v['numba']} "
        f"(llvmlite {v['llvmlite']}), rltheory {v['rltheory']}, pymdptoolbox {v['pymdptoolbox']}, "
        f"rlberry {v['rlberry']}",
        f"* BLAS (threadpoolctl): {blas}; numba threads {m['numba_threads']}; "
        f"environment: {m['env'] or 'no OPENBLAS_/OMP_/NUMBA_ variables set'}",
        f"* peers: {res['peers']}; first calls (compile or cache load): "
        + ", ".join(f"{k} {fmt_t(x)}" for k, x in res["first_call_s"].items()),
        f"* total wall time {res['total_s']:.0f} s. The machine is shared with other jobs: load averages "
        "(1/5/15 min) and the share of all CPUs used by other processes, per section "
        f"(quiet wait: up to {res['quiet_wait_s']:g} s before each section and each configuration for other "
        "processes to drop below 10 %):",
        "",
        md_table(
            ["section", "loadavg before", "loadavg after", "other processes' CPU share", "wall", "waited for quiet"],
            rows,
        ),
    ]


def report_bandwidth(res: dict[str, Any]) -> list[str]:
    bw = res["bandwidth"]
    rows = [
        [f"read bandwidth, {name}", f"{p['gbps_best']:.1f} GB/s", f"{p['gbps_median']:.1f} GB/s"]
        for name, p in bw["probes"].items()
    ]
    rows += [
        [
            f"dgemm [{g['shape'][0]}, {g['shape'][1]}] @ [{g['shape'][1]}, {g['shape'][2]}], all threads",
            f"{g['gflops_best']:.0f} GFLOP/s",
            f"{g['gflops_median']:.0f} GFLOP/s",
        ]
        for g in bw["dgemm"]
    ]
    return [
        "",
        f"## 1. Memory read bandwidth (fast-math numba sum over {bw['bytes'] / 1e9:.2g} GB) and dgemm "
        f"throughput, {bw['reps']} reps",
        "",
        md_table(["probe", "best", "median"], rows),
        "",
        f"Bandwidth bound used below: the best all-thread read bandwidth, {res['bw_limit_gbps']:.1f} GB/s.",
    ]


def report_dense(res: dict[str, Any]) -> list[str]:
    rows = []
    for r in res["dense"]:
        t = r["times_s"]
        base = med(t["rltheory"])

        def cell(name: str, t=t, base=base) -> str:
            return f"{fmt_t(med(t[name]))} (×{med(t[name]) / base:.2f})" if name in t else "—"

        rows.append(
            [
                str(r["S"]),
                str(r["A"]),
                str(r["H"]),
                f"{r['P_MiB']:.3g}",
                fmt_t(r["bound_s"]),
                fmt_t(med(t["rltheory_solve"])),
                f"{r['frac_of_bound']:.2f}",
                f"{fmt_t(base)} ({fmt_t(med(t['rltheory_build']))})",
                cell("pymdptoolbox"),
                cell("rlberry"),
                " / ".join(f"{r['max_abs_diff_V1'].get(k, float('nan')):.0e}" for k in ("pymdptoolbox", "rlberry")),
                f"{r['load']['foreign_cpu']:.0%}",
            ]
        )
    return [
        "",
        "## 2. Dense random MDPs: backward induction",
        "",
        f"Medians of {res['sizes']['reps']} interleaved repetitions. *bound* = H·S·A·S·8 B / "
        f"{res['bw_limit_gbps']:.1f} GB/s; *frac* = bound / rltheory solve (> 1: P is served from cache). "
        "*rltheory* = build the validated `TabularMDP` from the arrays (in brackets) + solve; the ratios (×) "
        "are to it. pymdptoolbox = constructor + run; rlberry = one call. *other CPU* = share of both CPUs "
        "used by other processes while the row was measured.",
        "",
        md_table(
            [
                "S",
                "A",
                "H",
                "P MiB",
                "bound",
                "rltheory solve",
                "frac",
                "rltheory (build)",
                "pymdptoolbox",
                "rlberry",
                "max abs ΔV_1 (tb / rlb)",
                "other CPU",
            ],
            rows,
        ),
    ]


def report_tiny(res: dict[str, Any]) -> list[str]:
    tiny = res["tiny"]
    tb_rate = tiny["rates_per_s"].get("pymdptoolbox single call")
    rows = [
        [
            name,
            f"{rate:,.0f}",
            f"{rate / tb_rate:.1f}" if tb_rate else "—",
            f"{tiny['max_abs_diff_V1'][name]:.0e}" if name in tiny["max_abs_diff_V1"] else "—",
        ]
        for name, rate in tiny["rates_per_s"].items()
    ]
    return [
        "",
        f"## 3. Tiny MDPs (S={tiny['S']}, A={tiny['A']}, H={tiny['H']}): solves per second",
        "",
        "Median of 3 interleaved rounds; single calls cycle over 100 different MDPs; max abs ΔV_1 against the "
        f"batched solve. Other processes used {tiny['load']['foreign_cpu']:.0%} of the CPUs meanwhile.",
        "",
        md_table(["contender", "solves/s", "× pymdptoolbox", "max abs ΔV_1"], rows),
    ]


def report_shared(res: dict[str, Any]) -> list[str]:
    rows = []
    for r in res["shared"]:
        t = r["times_s"]
        rows.append(
            [
                str(r["S"]),
                str(r["A"]),
                str(r["H"]),
                str(r["B"]),
                f"{fmt_t(med(t['batched']['rltheory']))} ({fmt_t(med(t['batched']['rltheory_solve']))})",
                f"{fmt_t(med(t['separate']['rltheory']))} ({fmt_t(med(t['separate']['rltheory_solve']))})",
                f"{r['speedup']:.2f} ({r['speedup_solve_only']:.2f})",
                fmt_t(r["bound_batched_s"]),
                f"{r['max_abs_diff_V1']['batched']:.0e}",
                f"{r['load']['foreign_cpu']:.0%}",
            ]
        )
    return [
        "",
        "## 4. Reward functions sharing one P: one batched call vs separate calls",
        "",
        f"Build + solve (solve only in brackets), medians of {res['sizes']['batch_reps']} interleaved "
        "repetitions; P is read-only, so no MDP copies it. *bound* = the slower of (H−1)·2·S·A·S·B FLOP at the "
        "best dgemm rate of section 1 and one read of P per step at the bandwidth bound.",
        "",
        md_table(
            [
                "S",
                "A",
                "H",
                "B",
                "one batched call",
                "B separate calls",
                "speed-up",
                "bound (batched)",
                "max abs ΔV_1",
                "other CPU",
            ],
            rows,
        ),
    ]


def report_gridworld(res: dict[str, Any]) -> list[str]:
    g = res["gridworld"]
    if "error" in g:
        return ["", "## 5. Sparse gridworld", "", f"FAILED: {g['error']}"]
    rows = []
    for mode, d in g["modes"].items():
        gm = d["median"]
        rows.append(
            [
                f"`{mode}`",
                fmt_t(gm["build_s"]),
                fmt_t(gm["solve_s"]),
                fmt_t(gm["total_s"]),
                f"{gm['peak_rss_max'] / 1e9:.2f} GB",
                f"{d['result_bytes'] / 1e9:.2f} GB",
                f"{gm['peak_rss_after_build'] / 1e9:.2f} GB",
                fmt_t(gm["first_call_small_s"]),
                f"{gm['foreign_cpu']:.0%}",
            ]
        )
    return [
        "",
        f"## 5. Sparse gridworld {g['grid'][0]}×{g['grid'][1]} (S={g['n_states']:,}, A={g['n_actions']}, "
        f"H={g['H']}, nnz={g['nnz']:,}), one fresh process per run",
        "",
        f"Medians of {res['sizes']['grid_runs']} processes per mode (peak RSS: the largest). Peak RSS is the "
        "child's own high-water mark `VmHWM` (not `ru_maxrss`, which inherits the parent's). *first call* = "
        "loading or compiling the kernels on a 12×9 grid before the timed solve; there the sparse and dense "
        f"paths agree to {g['sparse_vs_dense_max_diff']:.0e}.",
        "",
        md_table(
            [
                "backward_induction(...)",
                "build",
                "solve",
                "build + solve",
                "peak RSS",
                "result arrays",
                "peak RSS after build",
                "first call",
                "other CPU",
            ],
            rows,
        ),
    ]


def report_vi(res: dict[str, Any]) -> list[str]:
    vi = res["vi"]
    rows = [
        [
            name,
            fmt_t(med(ts)),
            str(vi["iterations"][name]),
            fmt_t(med(ts) / max(1, vi["iterations"][name])),
            f"{vi['max_abs_err_vs_PI'][name]:.1e}",
            str(vi["actions_differing_from_PI"][name]),
        ]
        for name, ts in vi["times_s"].items()
    ]
    return [
        "",
        f"## 6. Discounted value iteration (S={vi['S']}, A={vi['A']}, gamma={vi['gamma']})",
        "",
        f"Build + solve, medians of {res['sizes']['reps']} interleaved repetitions. V* from rltheory "
        f"policy_iteration (values in [{vi['V_star_range'][0]:.2f}, {vi['V_star_range'][1]:.2f}]). Other "
        f"processes used {vi['load']['foreign_cpu']:.0%} of the CPUs meanwhile.",
        "",
        md_table(
            [
                "solver",
                "time",
                "iterations",
                "time / iteration",
                "max abs error vs V*",
                "states whose action differs from PI's",
            ],
            rows,
        ),
    ]


REPORTS = {
    "dense": report_dense,
    "tiny": report_tiny,
    "shared": report_shared,
    "gridworld": report_gridworld,
    "vi": report_vi,
}


def report(res: dict[str, Any]) -> str:
    out = report_run(res) + report_bandwidth(res)
    for name, fn in REPORTS.items():
        if name in res:
            out += fn(res)
    out += [
        "",
        "## Targets",
        "",
        md_table(["target", "measured", "met"], [[a, b, "yes" if c else "**no**"] for a, b, c in res["targets"]]),
    ]
    return "\n".join(out)


def targets(res: dict[str, Any]) -> list[tuple[str, str, bool]]:
    out = []
    for r in res.get("dense", []):
        if (r["S"], r["A"], r["H"]) != (2000, 16, 100):
            continue
        t = r["times_s"]
        out.append(
            (
                f"S=2000, A=16, H=100: rltheory solve >= {TARGET_FRAC_OF_BOUND} of the bandwidth bound",
                f"{r['frac_of_bound']:.2f} ({fmt_t(med(t['rltheory_solve']))} vs bound {fmt_t(r['bound_s'])})",
                r["frac_of_bound"] >= TARGET_FRAC_OF_BOUND,
            )
        )
        if "pymdptoolbox" in t:
            ratio = med(t["pymdptoolbox"]) / med(t["rltheory"])
            out.append(
                (
                    "S=2000, A=16, H=100: no slower than pymdptoolbox (build + solve each)",
                    f"pymdptoolbox / rltheory = {ratio:.2f}",
                    ratio >= 1.0,
                )
            )
    if "tiny" in res:
        tiny = res["tiny"]["rates_per_s"]
        key = next(k for k in tiny if k.startswith("rltheory batched") and k.endswith("(solve)"))
        key_b = key.replace("(solve)", "(build + solve)")
        out.append(
            (
                f"tiny batched >= {TARGET_TINY_BATCHED_RATE:,} solves/s",
                f"{tiny[key]:,.0f} solves/s ({tiny[key_b]:,.0f} with the build)",
                tiny[key] >= TARGET_TINY_BATCHED_RATE,
            )
        )
        tb = tiny.get("pymdptoolbox single call")
        if tb:
            out.append(
                (
                    f"tiny batched >= {TARGET_TINY_VS_MDPTOOLBOX}x pymdptoolbox single calls",
                    f"{tiny[key] / tb:.0f}x ({tiny[key_b] / tb:.0f}x with the build)",
                    tiny[key] / tb >= TARGET_TINY_VS_MDPTOOLBOX,
                )
            )
    for r in res.get("shared", []):
        out.append(
            (
                f"shared P, S={r['S']}: {r['B']} rewards batched >= {TARGET_SHARED_SPEEDUP}x faster than "
                f"{r['B']} calls",
                f"{r['speedup']:.2f}x (solve only {r['speedup_solve_only']:.2f}x)",
                r["speedup"] >= TARGET_SHARED_SPEEDUP,
            )
        )
    g = res.get("gridworld")
    if g is not None and "error" not in g:
        for mode, d in g["modes"].items():
            gm = d["median"]
            name = f"gridworld {g['grid'][0]}x{g['grid'][1]}, H={g['H']}, {mode}"
            out.append(
                (
                    f"{name}: build + solve < {TARGET_GRID_SECONDS} s",
                    fmt_t(gm["total_s"]),
                    gm["total_s"] < TARGET_GRID_SECONDS,
                )
            )
            out.append(
                (
                    f"{name}: peak RSS < {TARGET_GRID_BYTES / 1e9:g} GB",
                    f"{gm['peak_rss_max'] / 1e9:.2f} GB (largest of the runs)",
                    gm["peak_rss_max"] < TARGET_GRID_BYTES,
                )
            )
    return out


SECTIONS = ("dense", "tiny", "shared", "gridworld", "vi")
_QUIET_WAIT_S = 0.0


def quiet_wait(cap_s: float = np.inf) -> dict[str, float] | None:
    """Wait up to ``--quiet-wait`` (and ``cap_s``) seconds for other processes to calm down (no-op by default)."""
    return _machine.wait_quiet(min(_QUIET_WAIT_S, cap_s)) if _QUIET_WAIT_S > 0 else None


def main(argv: list[str] | None = None) -> int:
    global _QUIET_WAIT_S
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, < 1 minute: a smoke test, not a measurement")
    ap.add_argument(
        "--out",
        type=Path,
        default=HERE.parent / "reports" / "bench_tabular.json",
        help="where to write the JSON results (default: reports/bench_tabular.json)",
    )
    ap.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (the bandwidth probe always runs)",
    )
    ap.add_argument(
        "--dense-configs",
        default=None,
        metavar="S:A:H,...",
        help="only these dense configurations (default: the full S x A x H grid)",
    )
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each section and configuration, wait up to this long for other processes to use "
        "< 10%% of the CPUs (default 0: do not wait)",
    )
    args = ap.parse_args(argv)
    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    bad = sorted(set(sections) - set(SECTIONS))
    if bad:
        ap.error(f"unknown sections {bad}; choose from {','.join(SECTIONS)}")
    _QUIET_WAIT_S = args.quiet_wait
    sz = QUICK if args.quick else FULL
    if args.dense_configs:
        try:
            only = tuple(tuple(int(x) for x in c.split(":")) for c in args.dense_configs.split(","))
            assert all(len(c) == 3 for c in only)
        except (ValueError, AssertionError):
            ap.error(f"--dense-configs must look like 2000:16:100,500:4:10, got {args.dense_configs!r}")
        sz = replace(sz, dense_only=only)
    t_start = time.perf_counter()

    load: dict[str, Any] = {}
    res: dict[str, Any] = {
        "quick": args.quick,
        "sections": sections,
        "quiet_wait_s": args.quiet_wait,
        "sizes": asdict(sz),
        "load": load,
    }
    res["machine"] = _machine.machine_info()
    mdptb, note_tb = _peers.load_mdptoolbox()
    rlb, note_rlb = _peers.load_rlberry()
    peers = {"pymdptoolbox": mdptb, "rlberry": rlb}
    res["peers"] = {"pymdptoolbox": note_tb, "rlberry": note_rlb}

    # Compile (or load from numba's cache) everything before any timing; record how long the first calls took.
    first: dict[str, float] = {}
    Pt, Rt = dense_mdp(np.random.default_rng(0), 4, 2)
    t0 = time.perf_counter()
    backward_induction(TabularMDP(Pt, Rt, horizon=3))
    first["rltheory kernel"] = time.perf_counter() - t0
    if rlb is not None:
        t0 = time.perf_counter()
        rlb(Rt, Pt, 3)
        first["rlberry backward_induction"] = time.perf_counter() - t0
    res["first_call_s"] = first

    def run(name: str, fn: Callable[[], Any]) -> Any:
        log(f"section: {name}")
        quiet = quiet_wait()
        ld = _machine.Load()
        value = fn()
        load[name] = ld.done() | ({"quiet_wait": quiet} if quiet else {})
        return value

    res["bandwidth"] = run("bandwidth", lambda: section_bandwidth(sz))
    bw = max(p["gbps_best"] for p in res["bandwidth"]["probes"].values())
    res["bw_limit_gbps"] = bw
    if "dense" in sections:
        res["dense"] = run("dense", lambda: section_dense(sz, bw, peers))
    if "tiny" in sections:
        res["tiny"] = run("tiny", lambda: section_tiny(sz, peers)) | {"load": load["tiny"]}
    if "shared" in sections:
        res["shared"] = run("shared", lambda: section_shared(sz, bw, res["bandwidth"]["dgemm"]))
    if "gridworld" in sections:
        res["gridworld"] = run("gridworld", lambda: section_gridworld(sz))
    if "vi" in sections:
        res["vi"] = run("vi", lambda: section_vi(sz, peers)) | {"load": load["vi"]}
    res["total_s"] = time.perf_counter() - t_start
    res["targets"] = targets(res)

    text = report(res)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    res["report_markdown"] = text
    args.out.write_text(json.dumps(res, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
