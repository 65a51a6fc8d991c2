"""The journal's database: opening it (private, migrated), reads and write transactions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alchemiser_cli.errors import JournalError
from alchemiser_cli.files import prepare_sqlite, write_transaction
from alchemiser_cli.journal.migrations import MIGRATIONS


class Connection:
    """One open journal file; the journal's parts (runs, legs, outputs) build on it."""

    def __init__(self, path: Path, *, durable: bool = True) -> None:
        """`durable=False` (the simulator's runs): commits are not fsynced one by one
        (synchronous=NORMAL), as the simulated broker's own are not; a process crash
        still loses nothing. A real broker's runs keep every commit on disk before the
        order it records is sent."""
        self.path = path
        prepare_sqlite(path, "journal", JournalError)  # 0600, never through a symlink
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=10)
            self._conn.execute("PRAGMA journal_mode=WAL")
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self.migrate()
            tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master")}
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"journal {path}: {exc}") from None
        missing = sorted({"runs", "orders"} - tables)
        if missing:
            raise JournalError(
                f"journal {path} is damaged (no {', '.join(missing)} table): move it aside "
                "and alch starts a new one"
            )

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    def migrate(self) -> list[str]:
        """Apply every migration not yet recorded; return the names applied."""
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = self._applied()
        applied = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with self._tx() as cur:
                # Asked again under the write lock: two processes opening a new journal at
                # once (two cron jobs) both see it unmigrated; only the first may migrate.
                if cur.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                    continue
                step(cur)
                cur.execute("INSERT INTO migrations VALUES (?, datetime('now'))", (name,))
            applied.append(name)
        return applied

    def _applied(self) -> set[str]:
        """Names of the migrations already applied (read without the write lock)."""
        return {r[0] for r in self._read("SELECT name FROM migrations")}

    def migrations(self) -> list[str]:
        """Names of the migrations recorded in this database."""
        return [r[0] for r in self._read("SELECT name FROM migrations ORDER BY name")]

    def _plan(self, run_id: str, text: str) -> dict[str, Any] | None:
        """A journaled plan's JSON object (None if it is not one); unreadable JSON is a
        JournalError naming the run."""
        try:
            plan = json.loads(text)
        except ValueError:
            raise JournalError(f"journal {self.path}: run {run_id} has a damaged plan") from None
        return plan if isinstance(plan, dict) else None

    def _read(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        """Run a query; a damaged or locked database is a JournalError, never a traceback."""
        try:
            return self._conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        try:
            with write_transaction(self._conn) as cur:
                yield cur
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path}: {exc}") from None
