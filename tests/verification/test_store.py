"""Store safety: names that would escape the report directory, read-only reports, foreign and malformed stores,
and code fingerprints that stop a sweep from mixing results of different code."""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from claims_for_tests import run_synthetic, synthetic_claim

from verification import runner
from verification.cli import main
from verification.core import get_claim
from verification.report import write_reports
from verification.runner import code_hash, run_claims
from verification.store import ResultStore, StoreError, cell_key, check_name


def _sweep(store: Path, claim=None, **kw):  # type: ignore[no-untyped-def]
    """A small real store: exact-solvers at its tiny preset (under a second), or ``claim`` at quick."""
    if claim is None:
        return run_claims([get_claim("exact-solvers")], "tiny", store, workers=0, progress=False, **kw)
    return run_claims([claim], "quick", store, workers=0, progress=False, **kw)


def _sql(store: Path, query: str, args: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(store)
    with con:
        rows = con.execute(query, args).fetchall()
    con.close()
    return rows


def _snapshot(path: Path) -> tuple[str, int, list[str]]:
    """Content hash and mtime of a file, and the files beside it (-wal/-shm would show up here)."""
    return (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_mtime_ns,
        sorted(p.name for p in path.parent.iterdir()),
    )


def _one_line_error(capsys) -> str:  # type: ignore[no-untyped-def]
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# ------------------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["exact-solvers", "exact-solvers~naive-stop", "r2pvi-theorem-5-2", "a.b_c", "Q1"])
def test_safe_names_are_accepted(name):
    assert check_name("claim", name) == name


@pytest.mark.parametrize(
    "name", ["../../escaped", "/tmp/evil", ".", "..", "", "a/b", "a\\b", ".hidden", "x\n", "~x", "a b", 3]
)
def test_unsafe_names_are_refused(name):
    with pytest.raises(StoreError, match="invalid preset name"):
        check_name("preset", name)


def test_store_with_escaping_preset_names_writes_nothing_outside_the_report(tmp_path, capsys):
    store, rep = tmp_path / "store" / "s.sqlite", tmp_path / "a" / "rep"
    _sweep(store)
    evil = tmp_path / "evil"  # an absolute path, like /tmp/evil
    for preset in ("../../escaped", str(evil)):
        _sql(
            store,
            "INSERT INTO results SELECT claim, ?, cell, seed, result, elapsed, finished_at, code_version, "
            "code_hash FROM results WHERE preset = 'tiny'",
            (preset,),
        )
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["report", "--store", str(store), "--report", str(rep)]) == 2
    err = _one_line_error(capsys)
    assert "invalid preset name" in err and "escaped" in err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written anywhere
    assert not evil.exists() and not (tmp_path / "escaped").exists()
    # an escaping --preset is refused as well
    assert main(["report", "--store", str(store), "--report", str(rep), "--preset", "../../escaped"]) == 2
    assert "invalid preset name" in _one_line_error(capsys)


def test_store_with_escaping_claim_name_is_refused(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    _sweep(store)
    _sql(store, "UPDATE results SET claim = '../../escaped'")
    assert main(["report", "--store", str(store), "--report", str(tmp_path / "rep")]) == 2
    assert "invalid claim name '../../escaped'" in _one_line_error(capsys)
    assert not (tmp_path / "rep").exists()


def test_sweep_refuses_an_unsafe_claim_name_before_computing(tmp_path):
    store = tmp_path / "s.sqlite"
    with pytest.raises(StoreError, match="invalid claim name '../evil'"):
        _sweep(store, synthetic_claim("../evil"))
    with ResultStore(store) as st:
        assert st.count() == 0


def test_report_of_a_mutant_run(tmp_path, capsys):
    """Mutant runs are stored as ``claim~mutant``; the report resolves them instead of calling them unknown."""
    store, rep = tmp_path / "s.sqlite", tmp_path / "rep"
    mutant = get_claim("exact-solvers").mutated()
    _sweep(store, mutant)
    assert main(["report", "--store", str(store), "--report", str(rep)]) == 1  # the report's exit code: a FAIL
    assert (rep / f"{mutant.name}.md").read_text().startswith(f"# {mutant.name}: FAIL")


# ---------------------------------------------------------------------------------------------------- read-only
def test_report_leaves_the_store_untouched(tmp_path, capsys):
    store = tmp_path / "odd dir ?#%20" / "s.sqlite"  # characters that a file: URI must escape
    _sweep(store)
    before = _snapshot(store)
    assert before[2] == ["s.sqlite"]  # the sweep closed cleanly: no -wal/-shm
    assert main(["report", "--store", str(store), "--report", str(tmp_path / "rep")]) == 0
    assert (tmp_path / "rep" / "exact-solvers.md").exists()
    assert _snapshot(store) == before  # same bytes, same mtime, no -wal/-shm created
    write_reports([get_claim("exact-solvers")], "tiny", store, tmp_path / "rep2")
    assert _snapshot(store) == before


def test_report_reads_a_store_that_a_sweep_holds_open(tmp_path):
    store = tmp_path / "s.sqlite"
    _sweep(store)
    schema = _sql(store, "SELECT sql FROM sqlite_master ORDER BY name")
    with ResultStore(store) as live:  # a running sweep: its -wal and -shm exist
        live.set_meta("note", "in flight")
        reports = write_reports([get_claim("exact-solvers")], "tiny", store, tmp_path / "rep")
        assert reports[0].verdict == "PASS" and reports[0].n_seeds == 4
    assert _sql(store, "SELECT sql FROM sqlite_master ORDER BY name") == schema


def test_readonly_store_cannot_write(tmp_path):
    store = tmp_path / "s.sqlite"
    _sweep(store)
    before = _snapshot(store)
    with ResultStore(store, readonly=True) as st:
        assert st.count("exact-solvers", "tiny") == 4
        with pytest.raises(StoreError, match="is open read-only"):
            st.set_meta("x", 1)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # nor behind the methods' backs
            st._con.execute("DELETE FROM results")
    assert _snapshot(store) == before


# ------------------------------------------------------------------------------------------------ foreign files
def _foreign_db(path: Path, *tables: str) -> Path:
    con = sqlite3.connect(path)
    with con:
        for t in tables:
            con.execute(t)
    con.close()
    return path


@pytest.mark.parametrize(
    ("tables", "why"),
    [
        (("CREATE TABLE people (name TEXT)",), "no table 'meta' or 'results'"),
        ((), "no table"),
        (("CREATE TABLE results (claim TEXT)", "CREATE TABLE meta (key TEXT, value TEXT)"), "lacks columns"),
        (
            (
                "CREATE TABLE results (claim, preset, cell, seed, result, elapsed, finished_at)",
                "CREATE TABLE meta (key TEXT, value TEXT)",
            ),
            "no 'format' or 'base_seed' key",
        ),
    ],
)
def test_report_refuses_a_sqlite_file_that_is_not_a_store(tmp_path, capsys, tables, why):
    db = _foreign_db(tmp_path / "other.sqlite", *tables)
    before = _snapshot(db)
    assert main(["report", "--store", str(db), "--report", str(tmp_path / "rep")]) == 2
    err = _one_line_error(capsys)
    assert "is not an rltheory result store" in err and why in err, err
    assert _snapshot(db) == before and not (tmp_path / "rep").exists()


def test_sweep_refuses_a_foreign_database_without_changing_it(tmp_path):
    db = _foreign_db(tmp_path / "other.sqlite", "CREATE TABLE people (name TEXT)")
    before = _snapshot(db)
    with pytest.raises(StoreError, match="not an rltheory result store"):
        _sweep(db)
    assert _snapshot(db) == before
    assert _sql(db, "PRAGMA journal_mode") == [("delete",)]  # not switched to WAL


def test_report_refuses_a_file_that_is_not_sqlite(tmp_path, capsys):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("this is not a database\n" * 100)
    before = _snapshot(bad)
    assert main(["report", "--store", str(bad), "--report", str(tmp_path / "rep")]) == 2
    assert "cannot read result store" in _one_line_error(capsys)
    assert _snapshot(bad) == before


# --------------------------------------------------------------------------------------------- malformed rows
def _first_row(store: Path) -> tuple[str, int]:
    return _sql(store, "SELECT cell, seed FROM results ORDER BY cell, seed LIMIT 1")[0]


@pytest.mark.parametrize(
    ("result", "why"),
    [("{not json", "the result is not valid JSON"), ("[1, 2]", "the result is a list, not an object")],
)
def test_malformed_result_names_its_row(tmp_path, result, why):
    store = tmp_path / "s.sqlite"
    _sweep(store, synthetic_claim(n_seeds=2))
    cell, seed = _first_row(store)
    _sql(store, "UPDATE results SET result = ? WHERE cell = ? AND seed = ?", (result, cell, seed))
    with ResultStore(store, readonly=True) as st, pytest.raises(ValueError) as exc:
        st.cells("synthetic", "quick")
    msg = str(exc.value)
    assert why in msg and "claim 'synthetic'" in msg and "preset 'quick'" in msg, msg
    assert f"cell {cell}" in msg and f"seed {seed}" in msg, msg


def test_malformed_cell_names_its_row(tmp_path):
    store = tmp_path / "s.sqlite"
    _sweep(store, synthetic_claim(n_seeds=2))
    cell, _ = _first_row(store)
    _sql(store, "UPDATE results SET cell = '{broken' WHERE cell = ?", (cell,))
    with ResultStore(store, readonly=True) as st, pytest.raises(ValueError, match=r"cell \{broken, seed 0: the cell"):
        st.cells("synthetic", "quick")


def test_result_missing_a_measurement_names_its_row(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    claim = synthetic_claim(n_seeds=2)
    _sweep(store, claim)
    cell, seed = _first_row(store)
    _sql(store, "UPDATE results SET result = '{\"K\": [1, 2]}' WHERE cell = ? AND seed = ?", (cell, seed))
    with pytest.raises(ValueError) as exc:
        write_reports([claim], "quick", store, tmp_path / "rep")
    msg = str(exc.value)
    assert "claim 'synthetic', preset 'quick'" in msg and f"cell {cell}, seed {seed}" in msg, msg
    assert "missing measurements ['y']" in msg, msg


def test_malformed_row_is_a_one_line_cli_error(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    _sweep(store)
    _sql(store, "UPDATE results SET result = '{}' WHERE seed = 2")
    assert main(["report", "--store", str(store), "--report", str(tmp_path / "rep")]) == 2
    err = _one_line_error(capsys)
    assert "malformed row" in err and "claim 'exact-solvers', preset 'tiny'" in err and "seed 2" in err, err


# ------------------------------------------------------------------------------------------------ fingerprints
def run_synthetic_v2(params: dict[str, Any], seeds: list[np.random.SeedSequence]) -> list[dict[str, Any]]:
    """:func:`run_synthetic` after a code change."""
    return [{**r, "u": r["u"] + 1.0} for r in run_synthetic(params, seeds)]


def test_code_hash():
    p, q = {"c": 1.0}, {"c": 3.0}
    assert code_hash(run_synthetic, p) == code_hash(run_synthetic, dict(p))
    assert len({code_hash(run_synthetic, p), code_hash(run_synthetic, q), code_hash(run_synthetic_v2, p)}) == 3
    part = functools.partial(run_synthetic)
    assert code_hash(part, p) != code_hash(run_synthetic, p)
    assert code_hash(len, p) == code_hash(len, p)  # no source: the qualified name


def test_rows_carry_the_code_and_same_code_resumes(tmp_path):
    store, claim = tmp_path / "s.sqlite", synthetic_claim()
    _sweep(store, claim, n_seeds=2)
    rows = _sql(store, "SELECT cell, code_version, code_hash FROM results")
    assert {(v, h) for _, v, h in rows} == {
        (runner.code_version(), code_hash(run_synthetic, json.loads(c))) for c, _, _ in rows
    }
    s = _sweep(store, claim, n_seeds=3)
    assert (s.computed, s.skipped) == (2, 4)


def test_changed_run_function_refuses_to_resume(tmp_path, capsys):
    store, claim = tmp_path / "s.sqlite", synthetic_claim()
    _sweep(store, claim, n_seeds=2)
    before = _sql(store, "SELECT * FROM results ORDER BY cell, seed")
    changed = replace(claim, run=run_synthetic_v2)
    with pytest.raises(StoreError) as exc:
        _sweep(store, changed, n_seeds=4)
    msg = str(exc.value)
    assert "claim 'synthetic'" in msg and "2 cell(s)" in msg and "use another --store" in msg, msg
    first = claim.presets["quick"].grid[0]
    stored, now = code_hash(run_synthetic, first), code_hash(run_synthetic_v2, first)
    assert f"{cell_key(first)} (stored: rltheory {runner.code_version()}, run hash {stored}; now run hash {now})" in msg
    assert "\n" not in msg
    assert _sql(store, "SELECT * FROM results ORDER BY cell, seed") == before  # nothing computed or written
    s = _sweep(tmp_path / "other.sqlite", changed, n_seeds=2)  # another store is fine
    assert s.computed == 4


def test_changed_package_version_refuses_to_resume(tmp_path, monkeypatch):
    store, claim = tmp_path / "s.sqlite", synthetic_claim()
    _sweep(store, claim, n_seeds=2)
    monkeypatch.setattr(runner, "code_version", lambda: "99.0")
    with pytest.raises(StoreError, match=r"other code than this rltheory 99\.0 .*claim 'synthetic'.*another --store"):
        _sweep(store, claim, n_seeds=2)


def test_cli_verify_refuses_a_store_of_other_code(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    _sweep(store)
    _sql(store, "UPDATE results SET code_hash = '0123456789abcdef' WHERE seed = 0")
    argv = [
        "verify",
        "exact-solvers",
        "--preset",
        "tiny",
        "--workers",
        "0",
        "--store",
        str(store),
        "--no-progress",
        "--report",
        str(tmp_path / "rep"),
    ]
    assert main(argv) == 2
    err = _one_line_error(capsys)
    assert "claim 'exact-solvers'" in err and "0123456789abcdef" in err and "another --store" in err, err


_OLD_SCHEMA = """
CREATE TABLE results (claim TEXT NOT NULL, preset TEXT NOT NULL, cell TEXT NOT NULL, seed INTEGER NOT NULL,
    result TEXT NOT NULL, elapsed REAL NOT NULL, finished_at REAL NOT NULL, PRIMARY KEY (claim, preset, cell, seed));
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _legacy_store(path: Path, claim) -> Path:  # type: ignore[no-untyped-def]
    """A store as written before the code columns existed, holding the rows of a real sweep."""
    new = path.parent.parent / "new.sqlite"
    _sweep(new, claim, n_seeds=2)
    rows = _sql(new, "SELECT claim, preset, cell, seed, result, elapsed, finished_at FROM results")
    path.parent.mkdir()
    con = sqlite3.connect(path)
    con.executescript(_OLD_SCHEMA)
    with con:
        con.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("INSERT INTO meta VALUES ('base_seed', '0')")
    con.close()
    return path


def test_legacy_store_reads_and_migrates_but_does_not_resume(tmp_path):
    claim = synthetic_claim()
    store = _legacy_store(tmp_path / "old" / "s.sqlite", claim)
    before = _snapshot(store)
    (r,) = write_reports([claim], "quick", store, tmp_path / "rep")  # read-only: no migration needed
    assert r.n_seeds == 4 and _snapshot(store) == before
    with pytest.raises(StoreError, match="no fingerprint \\(stored by an older rltheory\\).*use another --store"):
        _sweep(store, claim, n_seeds=2)
    cols = [r[1] for r in _sql(store, "PRAGMA table_info(results)")]
    assert cols[-2:] == ["code_version", "code_hash"]  # migrated by the read-write open
    assert _sql(store, "SELECT COUNT(*), COUNT(code_hash) FROM results") == [(4, 0)]
