"""The journal's schema as named migration steps, applied in order and recorded in the
database itself (`Connection.migrate`); the names are what a journal file stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from alchemiser_cli.journal.disputes import m002_disputes


def m001_initial(cur: sqlite3.Cursor) -> None:
    """The runs and orders tables."""
    cur.execute(
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY, command TEXT NOT NULL, broker TEXT NOT NULL,
            account_id TEXT NOT NULL, plan_id TEXT, started_at TEXT NOT NULL,
            finished_at TEXT, outcome TEXT NOT NULL, message TEXT,
            plan_json TEXT, report_json TEXT)"""
    )
    cur.execute(
        """CREATE TABLE orders (
            client_order_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id),
            plan_id TEXT NOT NULL, leg INTEGER NOT NULL, symbol TEXT NOT NULL,
            side TEXT NOT NULL, qty TEXT NOT NULL, limit_price TEXT, order_type TEXT NOT NULL,
            broker_order_id TEXT, status TEXT NOT NULL, filled_qty TEXT NOT NULL DEFAULT '0',
            filled_avg_price TEXT, error TEXT, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )
    cur.execute("CREATE INDEX orders_run ON orders(run_id)")
    cur.execute("CREATE INDEX runs_started ON runs(started_at)")


def m003_outputs(cur: sqlite3.Cursor) -> None:
    """Files alch wrote for the user (--out, --report): a later run may replace one of them
    while it is as alch left it; any other existing file needs --overwrite."""
    cur.execute(
        "CREATE TABLE outputs (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, "
        "written_at TEXT NOT NULL)"
    )


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Cursor], None]], ...] = (
    ("m001_initial", m001_initial),
    # applied by name: the numbering may have gaps (names were reserved per branch)
    ("m002_disputes", m002_disputes),
    ("m003_outputs", m003_outputs),
)
