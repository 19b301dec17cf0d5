"""Sparse gridworld solve in a fresh process, so that its peak RSS is its own (private helper).

Usage: ``python benchmarks/_sparse_child.py N_ROWS N_COLS H KEEP_Q`` (``KEEP_Q`` 1 or 0, passed to
``backward_induction(..., keep_q_values=...)``); prints one JSON line: build and solve seconds, peak resident memory
after imports, after building and at the end, the size of the result arrays, and a cross-check of the sparse path
against the dense one on a small grid of the same family. The compiled kernels are loaded (or compiled) on a small
grid first and that first call is timed separately.
"""

from __future__ import annotations

import json
import sys
import time


def _peak_bytes() -> int:
    """Peak resident memory of this process's own address space (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the parent's high-water mark across fork/exec into a child's ``ru_maxrss``,
    so a child of a large benchmark process would report the parent's peak.
    """
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024  # kB


def main() -> None:
    n_rows, n_cols, H, keep_q = (int(x) for x in sys.argv[1:5])
    t0 = time.perf_counter()
    import numpy as np

    import mdps
    from rltheory import TabularMDP
    from rltheory.tabular import backward_induction

    t_import = time.perf_counter() - t0

    # First call on a small grid: loads the numba kernels from their cache (or compiles them).
    small = mdps.gridworld(12, 9, horizon=H)
    t0 = time.perf_counter()
    sol_small = backward_induction(small, keep_q_values=bool(keep_q))
    t_first_call = time.perf_counter() - t0
    S, A = small.n_states, small.n_actions
    dense = TabularMDP(small.P.toarray().reshape(S, A, S), small.R, horizon=H)
    diff = float(np.abs(sol_small.values - backward_induction(dense).values).max())
    del small, dense, sol_small
    rss_import = _peak_bytes()

    t0 = time.perf_counter()
    mdp = mdps.gridworld(n_rows, n_cols, horizon=H)
    t_build = time.perf_counter() - t0
    rss_build = _peak_bytes()

    t0 = time.perf_counter()
    sol = backward_induction(mdp, keep_q_values=bool(keep_q))
    t_solve = time.perf_counter() - t0
    rss_end = _peak_bytes()

    result_bytes = sum(x.nbytes for x in (sol.values, sol.q_values, sol.policy) if x is not None)
    print(
        json.dumps(
            {
                "n_states": mdp.n_states,
                "n_actions": mdp.n_actions,
                "horizon": H,
                "nnz": int(mdp.P.nnz),
                "keep_q_values": bool(keep_q),
                "import_s": t_import,
                "first_call_small_s": t_first_call,
                "build_s": t_build,
                "solve_s": t_solve,
                "peak_rss_after_import": rss_import,
                "peak_rss_after_build": rss_build,
                "peak_rss": rss_end,
                "result_bytes": result_bytes,
                "V1_start": float(sol.values[0, 0]),
                "finite": bool(np.isfinite(sol.values).all()),
                "sparse_vs_dense_max_diff": diff,
            }
        )
    )


if __name__ == "__main__":
    main()
