"""Sweeps: seeds, resumption after SIGKILL, executors (process pool, in-process, Dask), and failing claims."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from claims_for_tests import gated_claim, synthetic_claim, vi_false_claim

from verification.core import evaluate_claim
from verification.report import write_reports
from verification.runner import run_claims, seed_sequence
from verification.store import ResultStore

HERE = Path(__file__).parent


def _rows(path):
    con = sqlite3.connect(path)
    rows = con.execute("SELECT claim, preset, cell, seed, result FROM results ORDER BY claim, cell, seed").fetchall()
    con.close()
    return rows


def test_seed_sequence_is_spawn():
    root = np.random.SeedSequence([0, 12345])
    import zlib

    root = np.random.SeedSequence([7, zlib.crc32(b"abc")])
    kids = root.spawn(5)
    for i, kid in enumerate(kids):
        assert np.array_equal(seed_sequence("abc", i, 7).generate_state(4), kid.generate_state(4))


def test_results_do_not_depend_on_task_blocking_or_workers(tmp_path):
    a = synthetic_claim(seeds_per_task=1)
    b = synthetic_claim(seeds_per_task=5)
    run_claims([a], "quick", tmp_path / "a.sqlite", workers=0, progress=False)
    run_claims([b], "quick", tmp_path / "b.sqlite", workers=2, progress=False)
    assert _rows(tmp_path / "a.sqlite") == _rows(tmp_path / "b.sqlite")
    assert len(_rows(tmp_path / "a.sqlite")) == 2 * 12


def test_rerun_skips_finished_seeds(tmp_path):
    c = synthetic_claim()
    s1 = run_claims([c], "quick", tmp_path / "s.sqlite", workers=0, progress=False, n_seeds=4)
    assert (s1.computed, s1.skipped) == (8, 0)
    s2 = run_claims([c], "quick", tmp_path / "s.sqlite", workers=0, progress=False, n_seeds=6)
    assert (s2.computed, s2.skipped) == (4, 8)
    with ResultStore(tmp_path / "s.sqlite") as st:
        assert st.count("synthetic", "quick") == 12


def _sweep_process(script_body: str) -> subprocess.Popen:
    script = f"import sys\nsys.path.insert(0, {str(HERE)!r})\n" + textwrap.dedent(script_body)
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-c", script], env=env, start_new_session=True)


def _wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    """Poll ``predicate`` until it holds; fail loudly (and kill the sweep) if the sweep exits or time runs out.

    The timeout only bounds a broken run: whether the test passes never depends on how fast anything is."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"the sweep exited (code {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def _n_rows(path: Path) -> int:
    try:
        return len(_rows(path)) if path.exists() else 0
    except sqlite3.OperationalError:  # the store is being created
        return 0


def test_sigkill_mid_sweep_resumes_to_the_uninterrupted_store(tmp_path):
    killed, clean, gate = tmp_path / "killed.sqlite", tmp_path / "clean.sqlite", tmp_path / "gate"
    claim = gated_claim(str(gate), block_from=6)  # seeds 6..9 wait for the gate: the sweep cannot finish early
    proc = _sweep_process(f"""
        from claims_for_tests import gated_claim
        from verification.runner import run_claims
        run_claims([gated_claim({str(gate)!r}, block_from=6)], "quick", {str(killed)!r}, workers=2, progress=False)
    """)
    try:
        _wait_for(lambda: _n_rows(killed) >= 6, proc, "6 finished seeds in the store")
        os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its workers, mid-flight
        proc.wait()
    finally:
        gate.touch()
    partial = len(_rows(killed))
    assert partial == 6, partial  # exactly the seeds that could finish; none lost, none half-written
    con = sqlite3.connect(killed)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    resumed = run_claims([claim], "quick", killed, workers=2, progress=False)
    assert resumed.skipped == partial and resumed.computed == 10 - partial
    run_claims([claim], "quick", clean, workers=0, progress=False)
    assert _rows(killed) == _rows(clean)
    assert len({r[2:4] for r in _rows(killed)}) == 10  # no duplicate (cell, seed)


def test_sigint_mid_sweep_keeps_finished_seeds(tmp_path):
    store, gate, seen = tmp_path / "int.sqlite", tmp_path / "gate", tmp_path / "sigint-seen"
    # The sweep's own SIGINT handler leaves a mark before raising KeyboardInterrupt, so the test opens the gate
    # only once the sweep has taken the interrupt: it is still running when the signal arrives, by construction.
    proc = _sweep_process(f"""
        import pathlib, signal
        from claims_for_tests import gated_claim
        from verification.runner import run_claims

        def on_sigint(signum, frame):
            pathlib.Path({str(seen)!r}).touch()
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        try:
            run_claims([gated_claim({str(gate)!r}, block_from=4)], "quick", {str(store)!r}, workers=2,
                       progress=False)
        except KeyboardInterrupt:
            sys.exit(130)
        sys.exit(0)
    """)
    try:
        _wait_for(lambda: _n_rows(store) >= 4, proc, "4 finished seeds in the store")
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground process group
        _wait_for(seen.exists, proc, "the sweep to take the SIGINT")
    finally:
        gate.touch()  # the workers' parked seeds may now finish; the interrupted sweep no longer stores them
    assert proc.wait(timeout=120) == 130
    partial = len(_rows(store))
    assert partial == 4, partial
    claim = gated_claim(str(gate), block_from=4)
    resumed = run_claims([claim], "quick", store, workers=0, progress=False)
    assert resumed.skipped == partial and resumed.computed == 10 - partial
    assert len(_rows(store)) == 10


def test_dask_local_cluster_matches_process_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    c = synthetic_claim()
    run_claims([c], "quick", tmp_path / "pool.sqlite", workers=2, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        with distributed.Client(lc) as client:
            run_claims([c], "quick", tmp_path / "dask.sqlite", executor=client.get_executor(), progress=False)
    assert _rows(tmp_path / "pool.sqlite") == _rows(tmp_path / "dask.sqlite")


def test_unreachable_scheduler_is_a_clear_error():
    pytest.importorskip("distributed")
    from verification.runner import dask_executor

    with pytest.raises(ValueError, match="cannot reach the Dask scheduler"):
        dask_executor("tcp://127.0.0.1:9", timeout=1.0)


def test_true_claim_passes_and_false_claims_fail(tmp_path):
    true = synthetic_claim("true")
    wrong_rate = synthetic_claim("wrong-rate", slope=1.0, exponent=0.5)
    wrong_bound = synthetic_claim("wrong-bound", scale=0.01)
    store = tmp_path / "s.sqlite"
    run_claims([true, wrong_rate, wrong_bound], "quick", store, workers=0, progress=False)
    with ResultStore(store) as st:
        verdict = {c.name: evaluate_claim(c, st.cells(c.name, "quick"))[0] for c in (true, wrong_rate, wrong_bound)}
    assert verdict == {"true": "PASS", "wrong-rate": "FAIL", "wrong-bound": "FAIL"}


def test_bound_divided_by_100_fails_on_a_real_solver(tmp_path):
    claim = vi_false_claim()
    store = tmp_path / "s.sqlite"
    run_claims([claim], "quick", store, workers=0, progress=False)
    reports = write_reports([claim], "quick", store, tmp_path / "rep")
    assert reports[0].verdict == "FAIL"
    outcomes = {o.check: o.verdict for o in reports[0].outcomes}
    assert outcomes == {"VI error <= tol/200": "FAIL", "PI = BI": "PASS"}


def test_report_files(tmp_path):
    c = synthetic_claim()
    store = tmp_path / "s.sqlite"
    run_claims([c], "quick", store, workers=0, progress=False)
    (r,) = write_reports([c], "quick", store, tmp_path / "rep")
    text = r.markdown.read_text()
    assert text.startswith("# synthetic: PASS")
    assert "| cell | x | seeds | mean |" in text and "slope" in text
    assert r.plot is not None and r.plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["claims"]["synthetic"]["verdict"] == "PASS"
    assert (tmp_path / "rep" / "README.md").exists()


def test_store_path_errors(tmp_path):
    with pytest.raises(ValueError, match="is a directory"):
        ResultStore(tmp_path)
    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("this is not a database" * 100)
    with pytest.raises(ValueError, match="cannot open result store"):
        ResultStore(bad)
