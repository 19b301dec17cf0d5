"""The sweep runner: claims x grid x seeds -> tasks on any ``concurrent.futures.Executor`` -> the SQLite store.

* Seeds: seed ``i`` of claim ``c`` is child ``i`` of ``SeedSequence([base_seed, crc32(c)])`` (exactly what
  ``SeedSequence.spawn`` returns), so a cell's result depends only on its parameters and its seed, not on the
  executor, the number of workers, or which seeds share a task. The same seed is used in every cell of a grid
  (common random numbers across instances).
* Executors: a local process pool by default (``spawn`` start method, BLAS pinned to one thread per worker so
  that workers do not oversubscribe the cores), ``workers=0`` runs in-process, and a Dask cluster is used through
  ``distributed.Client(address).get_executor()``.
* Resumption: finished seeds are skipped; every finished task is committed at once, so an interrupted sweep
  (SIGINT or SIGKILL) loses only the tasks that were running.
* Code fingerprints: every row records the package version and :func:`code_hash` (the claim's run function and
  the cell); a sweep whose store holds seeds of a cell computed by other code refuses to resume, instead of mixing
  results of two versions of the code.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import inspect
import os
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from verification.core import Claim, RunFn
from verification.store import ResultStore, StoreError, cell_key

__all__ = [
    "InlineExecutor",
    "SweepSummary",
    "code_hash",
    "code_version",
    "dask_executor",
    "run_claims",
    "seed_sequence",
]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def seed_sequence(claim: str, index: int, base_seed: int = 0) -> np.random.SeedSequence:
    """Seed ``index`` of a claim: ``SeedSequence([base_seed, crc32(claim)]).spawn(index + 1)[index]``."""
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    return np.random.SeedSequence([int(base_seed), zlib.crc32(claim.encode())], spawn_key=(int(index),))


def code_version() -> str:
    """The installed ``rltheory`` version, or ``"unknown"``."""
    try:
        return importlib.metadata.version("rltheory")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _run_source(run: Any) -> str:
    """The source of a run function (a ``functools.partial``: its function's, with its arguments); its qualified
    name where the source cannot be read."""
    if isinstance(run, functools.partial):
        return _run_source(run.func) + f"\npartial{run.args!r}{sorted(run.keywords.items())!r}"
    try:
        # the whole module: its constants, instances and helpers decide the results as much as the function does
        module = inspect.getmodule(run)
        own = inspect.getsource(run)
        return own + "\0" + (inspect.getsource(module) if module is not None else "")
    except (OSError, TypeError):
        return f"{getattr(run, '__module__', '?')}.{getattr(run, '__qualname__', type(run).__qualname__)}"


def code_hash(run: RunFn, params: dict[str, Any]) -> str:
    """Fingerprint of the code computing a cell: SHA-256 (16 hex digits) of the run function's source, the source
    of the whole module that defines it (its constants, instance builders and helpers) and the cell's parameters.
    It does not see changes in other modules the run function calls (e.g. a solver in ``rltheory``); the package
    version, stored beside it, stands for those."""
    text = _run_source(run) + "\0" + cell_key(params)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe_code(code: tuple[str | None, str | None]) -> str:
    version, digest = code
    if version is None and digest is None:
        return "no fingerprint (stored by an older rltheory)"
    return f"rltheory {version}, run hash {digest}"


class InlineExecutor(Executor):
    """Runs each task in the calling process at submission (``workers=0``; for debugging and tests)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        """Run ``fn(*args, **kwargs)`` now and return a finished ``Future`` holding its result or exception."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future, as an executor does
            fut.set_exception(exc)
        return fut


def dask_executor(address: str, *, timeout: float = 10.0) -> Executor:
    """A ``concurrent.futures`` executor on the Dask scheduler at ``address`` (needs the ``dask`` extra)."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise ValueError("--scheduler needs Dask: pip install 'rltheory[dask]'") from exc
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {address!r}: {exc}") from exc
    return client.get_executor()


def _task(name: str, run: RunFn, params: dict[str, Any], seeds: list[int], base_seed: int) -> list[tuple]:
    seqs = [seed_sequence(name, i, base_seed) for i in seeds]
    t0 = time.perf_counter()
    results = run(dict(params), seqs)
    per_seed = (time.perf_counter() - t0) / len(seeds)
    if len(results) != len(seeds):
        raise RuntimeError(f"claim {name!r} returned {len(results)} results for {len(seeds)} seeds")
    return [(s, r, per_seed) for s, r in zip(seeds, results, strict=True)]


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Child processes inherit one BLAS/OpenMP thread each; the parent's settings are restored afterwards."""
    saved = {k: os.environ.get(k) for k in _THREAD_VARS}
    os.environ.update({k: "1" for k in _THREAD_VARS})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass(frozen=True)
class SweepSummary:
    """What a sweep did: seeds computed now, seeds found in the store, and wall time."""

    computed: int
    skipped: int
    wall: float


def run_claims(
    claims: Sequence[Claim],
    preset: str,
    store_path: str | Path,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    n_seeds: int | None = None,
    base_seed: int = 0,
    progress: bool = True,
) -> SweepSummary:
    """Run (or resume) a sweep of ``claims`` at ``preset`` into the store at ``store_path``.

    Args:
        claims: claims to run.
        preset: ``"quick"``, ``"full"`` or another preset every claim defines.
        store_path: SQLite file; finished seeds found there are skipped.
        workers: process-pool size (default: CPU count); 0 runs in-process. Ignored when ``executor`` is given.
        executor: any ``concurrent.futures.Executor`` (e.g. :func:`dask_executor`); not shut down here.
        n_seeds: overrides the presets' seed counts.
        base_seed: root entropy of all seeds.
        progress: show a progress bar with an ETA.

    Returns:
        :class:`SweepSummary`.
    """
    t0 = time.perf_counter()
    if n_seeds is not None and n_seeds < 1:
        raise ValueError(f"n_seeds must be >= 1, got {n_seeds}")
    presets = {c.name: c.preset(preset) for c in claims}
    with ResultStore(store_path) as store:
        if store.get_meta("base_seed") is None:
            store.set_meta("base_seed", base_seed)
        stored_seed = store.get_meta("base_seed")
        if stored_seed != base_seed:
            raise ValueError(
                f"store {str(store_path)!r} holds results for base_seed={stored_seed}, not {base_seed}; "
                "use another --store"
            )
        tasks, skipped = [], 0
        version = code_version()
        hashes: dict[tuple[str, str], str] = {}
        stale: dict[str, list[str]] = {}  # claim -> its cells holding seeds of other code
        for claim in claims:
            pre = presets[claim.name]
            want = n_seeds or pre.n_seeds
            for params in pre.grid:
                now = hashes[claim.name, cell_key(params)] = code_hash(claim.run, params)
                other = store.code(claim.name, preset, params) - {(version, now)}
                if other:
                    was = "; ".join(sorted(map(_describe_code, other), key=str))
                    stale.setdefault(claim.name, []).append(f"{cell_key(params)} (stored: {was}; now run hash {now})")
                done = store.finished(claim.name, preset, params)
                todo = [i for i in range(want) if i not in done]
                skipped += want - len(todo)
                for j in range(0, len(todo), pre.seeds_per_task):
                    tasks.append((claim, params, todo[j : j + pre.seeds_per_task]))
        if stale:
            parts = []
            for name, cells in stale.items():
                shown = ", ".join(cells[:3]) + (f" and {len(cells) - 3} more" if len(cells) > 3 else "")
                parts.append(f"claim {name!r}: {len(cells)} cell(s) {shown}")
            raise StoreError(
                f"store {str(store_path)!r} holds seeds computed by other code than this rltheory {version} "
                f"(preset {preset!r}; {'; '.join(parts)}); resuming would mix the two: use another --store"
            )
        total = sum(len(t[2]) for t in tasks)
        computed = 0
        own = executor is None and bool(tasks)
        if own:
            if workers is None:
                workers = os.cpu_count() or 1
            if workers < 0:
                raise ValueError(f"workers must be >= 0, got {workers}")
            if workers == 0:
                executor = InlineExecutor()
            else:
                with _single_threaded_children():
                    executor = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        bar = None
        if progress and total:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="seed", desc=", ".join(c.name for c in claims)[:40], smoothing=0.1)
        futures: dict[Future, tuple[Claim, dict]] = {}
        try:
            for claim, params, seeds in tasks:
                assert executor is not None
                fut = executor.submit(_task, claim.name, claim.run, params, seeds, base_seed)
                futures[fut] = (claim, params)
            for fut in as_completed(futures):
                claim, params = futures[fut]
                rows = fut.result()
                store.add(
                    claim.name,
                    preset,
                    params,
                    rows,
                    code_version=version,
                    code_hash=hashes[claim.name, cell_key(params)],
                )
                computed += len(rows)
                if bar is not None:
                    bar.update(len(rows))
        except BaseException:
            for fut in futures:
                fut.cancel()
            if own and executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            if bar is not None:
                bar.close()
        if own and executor is not None:
            executor.shutdown(wait=True)
    return SweepSummary(computed=computed, skipped=skipped, wall=time.perf_counter() - t0)
