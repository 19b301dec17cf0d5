"""A resumable result store: one SQLite row per (claim, preset, cell, seed), written the moment it finishes.

SQLite in WAL mode with one committed transaction per finished task: a sweep killed by SIGINT or SIGKILL keeps
every committed row, and a half-written transaction is rolled back on the next open, so the file is never corrupt.
``synchronous=NORMAL`` in WAL mode is durable against a crash of the process (the case here); only a power loss
could lose the last transactions (https://www.sqlite.org/pragma.html#pragma_synchronous). The primary key makes a
rerun idempotent: a row is written once, and ``finished()`` tells the runner which seeds to skip.

Every row carries the code that computed it (``code_version``, the package version, and ``code_hash``, a hash of
the claim's run function and the cell), so that the runner can refuse to mix results of different code.

A store is opened read-write by the sweep and read-only (``readonly=True``) by reports, which never modify it.
Claim and preset names become file names in reports, so only names matching :data:`NAME_PATTERN` are written or
read (:func:`check_name`); anything unexpected in a store is a :class:`StoreError`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from verification.core import CellData

__all__ = ["NAME_PATTERN", "ResultStore", "StoreError", "cell_key", "check_name"]

#: Claim and preset names (they become file and directory names in reports): a letter or digit, then letters,
#: digits and ``. _ ~ -`` (mutant claims are named ``claim~mutant``); so never ``.``, ``..``, a path or empty.
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._~-]{0,199}"
_NAME = re.compile(NAME_PATTERN)

#: ``meta`` key marking an rltheory store, and its value.
_FORMAT_KEY, _FORMAT = "format", "rltheory-results"

_RESULT_COLUMNS = ("claim", "preset", "cell", "seed", "result", "elapsed", "finished_at")
_CODE_COLUMNS = ("code_version", "code_hash")

_SCHEMA = """
BEGIN;
CREATE TABLE IF NOT EXISTS results (
    claim TEXT NOT NULL,
    preset TEXT NOT NULL,
    cell TEXT NOT NULL,
    seed INTEGER NOT NULL,
    result TEXT NOT NULL,
    elapsed REAL NOT NULL,
    finished_at REAL NOT NULL,
    code_version TEXT,
    code_hash TEXT,
    PRIMARY KEY (claim, preset, cell, seed)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
COMMIT;
"""


class StoreError(ValueError):
    """A store that cannot be used as it is: not an rltheory store, an invalid name, a malformed row, or results of
    other code. The message is one line and names what is wrong."""


def check_name(kind: str, name: object) -> str:
    """``name`` if it is a safe claim or preset name (:data:`NAME_PATTERN`); :class:`StoreError` otherwise."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise StoreError(
            f"invalid {kind} name {name!r}: a {kind} name must match {NAME_PATTERN} (letters, digits, '.', '_', "
            "'~', '-'; not a path), since it names report files"
        )
    return name


def cell_key(params: dict[str, Any]) -> str:
    """Canonical JSON of a parameter dict (sorted keys): the cell's identity in the store."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in con.execute(f"PRAGMA table_info({table})")]


def _tables(con: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _not_a_store(con: sqlite3.Connection, *, new_ok: bool) -> str | None:
    """Why the database is not an rltheory store, or None. ``new_ok``: an empty database is fine (a new store)."""
    tables = _tables(con)
    if not tables and new_ok:
        return None
    if "results" not in tables or "meta" not in tables:
        missing = sorted({"results", "meta"} - tables)
        return f"no table {' or '.join(map(repr, missing))}" + (f" (it has {sorted(tables)})" if tables else "")
    lacking = [c for c in _RESULT_COLUMNS if c not in _columns(con, "results")]
    if lacking:
        return f"table 'results' lacks columns {lacking}"
    if not {"key", "value"} <= set(_columns(con, "meta")):
        return "table 'meta' lacks columns 'key' and 'value'"
    keys = {str(r[0]) for r in con.execute("SELECT key FROM meta")}
    if not keys and new_ok:
        return None  # created by this class, no sweep has started in it yet
    if _FORMAT_KEY not in keys and "base_seed" not in keys:  # stores written before the format key have base_seed
        return f"no {_FORMAT_KEY!r} or 'base_seed' key in table 'meta'"
    return None


class ResultStore:
    """The SQLite store of a sweep. Use as a context manager.

    Args:
        path: the database file. Read-write (the sweep): created with its parent directory if missing, old stores
            gain the code columns. ``readonly=True`` (reports): the file must be an rltheory store; it is copied
            into memory in one read and never written (see :meth:`_open_readonly`).
    """

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"store path {str(self.path)!r} is a directory; give a file such as results.sqlite")
        self._con = self._open_readonly() if readonly else self._open_readwrite()

    def _open_readwrite(self) -> sqlite3.Connection:
        """Open (or create) the store for a sweep: WAL mode, the schema, the code columns of old stores."""
        con = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30.0)
            # refuse a foreign database before changing anything in it (journal mode, tables)
            if (why := _not_a_store(con, new_ok=True)) is not None:
                raise StoreError(f"cannot open result store {str(self.path)!r}: not an rltheory result store, {why}")
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.executescript(_SCHEMA)
            for col in _CODE_COLUMNS:  # migration: stores written before the code columns
                if col not in _columns(con, "results"):
                    try:
                        con.execute(f"ALTER TABLE results ADD COLUMN {col} TEXT")
                    except sqlite3.OperationalError as exc:  # another process added it just now
                        if "duplicate column" not in str(exc):
                            raise
            with con:
                con.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (_FORMAT_KEY, json.dumps(_FORMAT)))
        except StoreError:
            if con is not None:
                con.close()
            raise
        except (sqlite3.DatabaseError, OSError) as exc:
            if con is not None:
                con.close()
            raise StoreError(f"cannot open result store {str(self.path)!r}: {exc}") from exc
        return con

    def _open_readonly(self) -> sqlite3.Connection:
        """Read the store into an in-memory copy without writing to it.

        The file is opened through a ``mode=ro`` URI. When no ``-wal`` (or ``-journal``) file lies beside it, no
        writer has it open and the file holds everything, so it is opened ``immutable=1``, which creates no
        ``-wal``/``-shm`` files either; a live sweep's store is read through its own WAL. The copy is taken in
        one backup, so a sweep that starts later cannot change what the report sees.
        """
        if not self.path.is_file():
            raise StoreError(f"no result store at {str(self.path)!r}")
        quiet = not any(Path(f"{self.path}{s}").exists() for s in ("-wal", "-journal"))
        uri = self.path.absolute().as_uri() + "?mode=ro" + ("&immutable=1" if quiet else "")
        src = mem = None
        try:
            src = sqlite3.connect(uri, uri=True, timeout=30.0)
            if (why := _not_a_store(src, new_ok=False)) is not None:
                raise StoreError(f"{str(self.path)!r} is not an rltheory result store: {why}")
            mem = sqlite3.connect(":memory:")
            src.backup(mem)
            mem.execute("PRAGMA query_only=ON")
        except sqlite3.DatabaseError as exc:
            if mem is not None:
                mem.close()
            raise StoreError(f"cannot read result store {str(self.path)!r}: {exc}") from exc
        except BaseException:
            if mem is not None:
                mem.close()
            raise
        finally:
            if src is not None:
                src.close()
        return mem

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._con.close()

    # ----------------------------------------------------------------------------------------------- writes
    def _writable(self) -> None:
        if self.readonly:
            raise StoreError(f"store {str(self.path)!r} is open read-only")

    def add(
        self,
        claim: str,
        preset: str,
        params: dict[str, Any],
        rows: Iterable[tuple[int, dict, float]],
        *,
        code_version: str | None = None,
        code_hash: str | None = None,
    ) -> int:
        """Write the finished seeds of one task in one transaction; rows already present are kept. Returns the
        number of new rows. ``code_version`` and ``code_hash`` identify the code that computed them."""
        self._writable()
        check_name("claim", claim)
        check_name("preset", preset)
        key = cell_key(params)
        now = time.time()
        data = [
            (claim, preset, key, int(seed), json.dumps(res, allow_nan=True), float(el), now, code_version, code_hash)
            for seed, res, el in rows
        ]
        cols = ", ".join(_RESULT_COLUMNS + _CODE_COLUMNS)
        with self._con:
            before = self._con.total_changes
            self._con.executemany(f"INSERT OR IGNORE INTO results ({cols}) VALUES ({', '.join('?' * 9)})", data)
            return self._con.total_changes - before

    def set_meta(self, key: str, value: Any) -> None:
        self._writable()
        with self._con:
            self._con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    # ----------------------------------------------------------------------------------------------- reads
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except (TypeError, ValueError) as exc:
            raise StoreError(f"store {str(self.path)!r}: meta key {key!r} is not valid JSON ({exc})") from None

    def finished(self, claim: str, preset: str, params: dict[str, Any]) -> set[int]:
        """Seeds of a cell already stored."""
        check_name("claim", claim)
        check_name("preset", preset)
        cur = self._con.execute(
            "SELECT seed FROM results WHERE claim = ? AND preset = ? AND cell = ?", (claim, preset, cell_key(params))
        )
        return {int(r[0]) for r in cur}

    def code(self, claim: str, preset: str, params: dict[str, Any]) -> set[tuple[str | None, str | None]]:
        """The distinct ``(code_version, code_hash)`` of a cell's stored seeds (None for rows stored before the
        code columns existed)."""
        cur = self._con.execute(
            "SELECT DISTINCT code_version, code_hash FROM results WHERE claim = ? AND preset = ? AND cell = ?",
            (claim, preset, cell_key(params)),
        )
        return {(v, h) for v, h in cur}

    def count(self, claim: str | None = None, preset: str | None = None) -> int:
        q, args = "SELECT COUNT(*) FROM results WHERE 1=1", []
        if claim is not None:
            q += " AND claim = ?"
            args.append(claim)
        if preset is not None:
            q += " AND preset = ?"
            args.append(preset)
        return int(self._con.execute(q, args).fetchone()[0])

    def runs(self) -> list[tuple[str, str]]:
        """The (claim, preset) pairs present in the store; :class:`StoreError` for a name that is not
        :func:`check_name`-safe (it would become a path)."""
        cur = self._con.execute("SELECT DISTINCT claim, preset FROM results ORDER BY claim, preset")
        out = []
        for claim, preset in cur:
            try:
                out.append((check_name("claim", claim), check_name("preset", preset)))
            except StoreError as exc:
                raise StoreError(f"store {str(self.path)!r} holds a run with an {exc}") from None
        return out

    def _row_error(self, claim: str, preset: str, cell: object, seed: object, why: str) -> StoreError:
        return StoreError(
            f"malformed row in store {str(self.path)!r}: claim {claim!r}, preset {preset!r}, cell {cell}, "
            f"seed {seed!r}: {why}"
        )

    def cells(self, claim: str, preset: str, grid: Iterable[dict[str, Any]] | None = None) -> list[CellData]:
        """Stored cells of a claim and preset, seeds sorted; in ``grid`` order when a grid is given. A row whose
        cell or result is not a JSON object, or whose seed is not an integer, is a :class:`StoreError` naming it."""
        cur = self._con.execute(
            "SELECT cell, seed, result FROM results WHERE claim = ? AND preset = ? ORDER BY cell, seed", (claim, preset)
        )
        by_cell: dict[str, list[tuple[int, dict]]] = {}
        checked: set[str] = set()
        for key, seed, res in cur:
            if key not in checked:
                try:
                    params = json.loads(key)
                except (TypeError, ValueError) as exc:
                    raise self._row_error(claim, preset, key, seed, f"the cell is not valid JSON ({exc})") from None
                if not isinstance(params, dict):
                    raise self._row_error(claim, preset, key, seed, "the cell is not a JSON object")
                checked.add(key)
            if not isinstance(seed, int) or isinstance(seed, bool):
                raise self._row_error(claim, preset, key, seed, "the seed is not an integer")
            try:
                value = json.loads(res)
            except (TypeError, ValueError) as exc:
                raise self._row_error(claim, preset, key, seed, f"the result is not valid JSON ({exc})") from None
            if not isinstance(value, dict):
                why = f"the result is a {type(value).__name__}, not an object"
                raise self._row_error(claim, preset, key, seed, why)
            by_cell.setdefault(key, []).append((seed, value))
        keys = [cell_key(p) for p in grid] if grid is not None else sorted(by_cell)
        out = []
        for key in keys:
            if key in by_cell:
                rows = by_cell[key]
                out.append(CellData(json.loads(key), tuple(s for s, _ in rows), tuple(r for _, r in rows)))
        return out

    def elapsed(self, claim: str, preset: str) -> float:
        """Total compute seconds stored for a claim and preset."""
        row = self._con.execute(
            "SELECT COALESCE(SUM(elapsed), 0) FROM results WHERE claim = ? AND preset = ?", (claim, preset)
        ).fetchone()
        return float(row[0])
