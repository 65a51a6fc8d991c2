"""The simulator database's schema: named migration steps recorded in the database itself,
like the journal's. A file made before migrations existed (tables, no `migrations` table)
is brought up to date in place; its account, orders and fills are kept."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.files import write_transaction

_M001_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, qty TEXT NOT NULL,
        avg_price TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS quotes (symbol TEXT PRIMARY KEY, bid TEXT NOT NULL,
        ask TEXT NOT NULL, last TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS assets (symbol TEXT PRIMARY KEY, tradable INTEGER NOT NULL,
        fractionable INTEGER NOT NULL, status TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY,
        client_order_id TEXT UNIQUE NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
        qty TEXT NOT NULL, limit_price TEXT, order_type TEXT NOT NULL, tif TEXT NOT NULL,
        status TEXT NOT NULL, filled_qty TEXT NOT NULL, filled_avg_price TEXT,
        submitted_at TEXT NOT NULL, seq INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS fills (order_id TEXT NOT NULL, symbol TEXT NOT NULL,
        side TEXT NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS script (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        symbol TEXT NOT NULL, action TEXT NOT NULL, qty TEXT)""",
    "CREATE TABLE IF NOT EXISTS submissions (client_order_id TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS adv (symbol TEXT PRIMARY KEY, volume TEXT NOT NULL)",
)


def _m001_initial(cur: sqlite3.Cursor) -> None:
    # IF NOT EXISTS: a file from before migrations already has these tables.
    for statement in _M001_TABLES:
        cur.execute(statement)


def _m002_held_orders(cur: sqlite3.Cursor) -> None:
    # Orders a script holds are never re-matched. Files from before migrations may have it.
    if "held" not in {r[1] for r in cur.execute("PRAGMA table_info(orders)")}:
        cur.execute("ALTER TABLE orders ADD COLUMN held INTEGER NOT NULL DEFAULT 0")


def _m004_listed_symbols(cur: sqlite3.Cursor) -> None:
    # A seed's `quotes = [...]`: symbols known to the simulator, priced from bars.
    cur.execute("CREATE TABLE IF NOT EXISTS listed (symbol TEXT PRIMARY KEY)")


def _m005_equity_history(cur: sqlite3.Cursor) -> None:
    # The account at the last touch of each day (its portfolio history, valued at closes)
    # and the day's deposits and withdrawals.
    cur.execute(
        """CREATE TABLE IF NOT EXISTS equity_history (day TEXT PRIMARY KEY,
            cash TEXT NOT NULL, positions TEXT NOT NULL, flow TEXT NOT NULL DEFAULT '0')"""
    )


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Cursor], None]], ...] = (
    # Steps apply by name: a gap in the numbering is fine (names were reserved per branch).
    ("m001_initial", _m001_initial),
    ("m002_held_orders", _m002_held_orders),
    ("m004_listed_symbols", _m004_listed_symbols),
    ("m005_equity_history", _m005_equity_history),
    ("m006_lots", lots.migrate),
)


def prepare(conn: sqlite3.Connection) -> None:
    """Create the table that records migrations (a file that is not a database fails here)."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )


def migrate(conn: sqlite3.Connection, now: datetime) -> list[str]:
    """Apply every migration not yet recorded (`prepare` first); return the names applied.

    `conn` must be in autocommit mode (isolation_level=None): each step runs in its own
    write transaction, and is asked for again under the write lock, so two processes
    opening a new file at once migrate it once.
    """
    done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        with write_transaction(conn) as cur:
            if cur.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone() is None:
                step(cur)
                cur.execute("INSERT INTO migrations VALUES (?, ?)", (name, now.isoformat()))
                applied.append(name)
    return applied
