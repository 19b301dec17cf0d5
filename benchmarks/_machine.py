"""What the benchmark ran on, how busy the machine was, and how fast its memory is (private helper).

The machine is shared with other jobs, so every section records ``os.getloadavg()`` before and after and the
share of all CPUs that other processes used while it ran (``foreign_cpu``, from ``/proc/stat`` minus this
process and its children). The memory probe is a STREAM-like read: a fast-math numba sum over a 2 GB array,
which the compiler vectorises (a plain ``numpy.sum`` is compute-bound on these CPUs and reads ~half as fast).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import statistics
import subprocess
import time
from importlib import metadata
from typing import Any

import numba
import numpy as np
from numba import njit, prange

_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (idle and iowait excluded)


def _lscpu() -> dict[str, str]:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    pairs = (line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Date, CPU, memory, library versions, BLAS and threading configuration."""
    import scipy
    import threadpoolctl

    cpu = _lscpu()
    flags = cpu.get("Flags", "").split()
    with open("/proc/meminfo") as f:
        mem_kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    blas = [
        {k: d.get(k) for k in ("internal_api", "version", "architecture", "threading_layer", "num_threads", "prefix")}
        for d in threadpoolctl.threadpool_info()
    ]
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS", "OMP_", "MKL", "NUMBA", "GOMP"))}
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": cpu.get("Model name", platform.processor()),
        "cpu_family_model": f"family {cpu.get('CPU family', '?')}, model {cpu.get('Model', '?')}",
        "hypervisor": cpu.get("Hypervisor vendor"),
        "cores": os.cpu_count(),
        "threads_per_core": cpu.get("Thread(s) per core"),
        "avx512f": "avx512f" in flags,
        "caches": {k: cpu[k] for k in ("L1d cache", "L2 cache", "L3 cache") if k in cpu},
        "memory_gib": round(mem_kib / 2**20, 1),
        "python": platform.python_version(),
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
            "llvmlite": _version("llvmlite"),
            "rltheory": _version("rltheory"),
            "pymdptoolbox": _version("pymdptoolbox"),
            "rlberry": _version("rlberry"),
            "threadpoolctl": threadpoolctl.__version__,
        },
        "blas": blas,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numba_threading_layer_config": numba.config.THREADING_LAYER,
        "env": env,
    }


class Load:
    """Load average and the CPU share of other processes over a stretch of the run."""

    def __init__(self) -> None:
        self.before = os.getloadavg()
        self._t0 = time.perf_counter()
        self._busy0 = self._busy_s()
        self._own0 = self._own_s()

    @staticmethod
    def _busy_s() -> float:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
        return sum(fields[i] for i in _BUSY_FIELDS) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _own_s() -> float:
        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            r = resource.getrusage(who)
            total += r.ru_utime + r.ru_stime
        return total

    def done(self) -> dict[str, Any]:
        wall = time.perf_counter() - self._t0
        foreign = (self._busy_s() - self._busy0) - (self._own_s() - self._own0)
        return {
            "loadavg_before": [round(x, 2) for x in self.before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "wall_s": round(wall, 2),
            "foreign_cpu": round(max(0.0, foreign) / (wall * (os.cpu_count() or 1)), 3),
        }


def wait_quiet(max_wait_s: float, threshold: float = 0.10, window_s: float = 1.0) -> dict[str, float]:
    """Wait (at most ``max_wait_s``) until other processes use less than ``threshold`` of all CPUs over a window."""
    t0 = time.perf_counter()
    while True:
        probe = Load()
        time.sleep(window_s)
        share = probe.done()["foreign_cpu"]
        waited = time.perf_counter() - t0
        if share < threshold or waited >= max_wait_s:
            return {"waited_s": round(waited, 1), "foreign_cpu_at_start": share}


# ------------------------------------------------------------------------------------------------ bandwidth
@njit(fastmath=True, nogil=True)
def _sum_serial(a):  # pragma: no cover - compiled
    s = 0.0
    for i in range(a.shape[0]):
        s += a[i]
    return s


@njit(fastmath=True, parallel=True)
def _sum_parallel(a):  # pragma: no cover - compiled
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i]
    return s


def memory_bandwidth(nbytes: int, reps: int) -> dict[str, Any]:
    """Read bandwidth (GB/s, 1 GB = 1e9 bytes) of a fast-math sum over ``nbytes``: 1 thread and all threads.

    The array is written first, so every page is backed by its own memory (an untouched ``np.zeros`` array
    would be read from the kernel's single zero page, i.e. from cache). The two probes are interleaved.
    """
    a = np.full(nbytes // 8, 1.0)
    _sum_serial(a[:1024])
    _sum_parallel(a[:1024])
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(threads)
    times: dict[str, list[float]] = {"1 thread": [], f"{threads} threads": []}
    for _ in range(reps):
        for name, fn in ((f"{threads} threads", _sum_parallel), ("1 thread", _sum_serial)):
            time.sleep(0.05)
            t0 = time.perf_counter()
            total = fn(a)
            times[name].append(time.perf_counter() - t0)
            assert total == a.shape[0]
    out: dict[str, Any] = {"bytes": a.nbytes, "reps": reps, "probes": {}}
    for name, ts in times.items():
        out["probes"][name] = {
            "threads": 1 if name == "1 thread" else threads,
            "gbps_best": a.nbytes / min(ts) / 1e9,
            "gbps_median": a.nbytes / statistics.median(ts) / 1e9,
            "times_s": ts,
        }
    return out


def dgemm_rate(m: int, k: int, n: int, reps: int) -> dict[str, float]:
    """Throughput (GFLOP/s) of ``[m, k] @ [k, n]`` in float64, the product a batch sharing one P makes per step."""
    rng = np.random.default_rng(0)
    a, b = rng.random((m, k)), rng.random((k, n))
    a @ b
    ts = []
    for _ in range(reps):
        time.sleep(0.05)
        t0 = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t0)
    flop = 2.0 * m * k * n
    return {
        "shape": [m, k, n],
        "gflops_best": flop / min(ts) / 1e9,
        "gflops_median": flop / statistics.median(ts) / 1e9,
    }
