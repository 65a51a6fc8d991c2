"""The run journal: a SQLite record of every run, its plan, and every order.

An order's intent is committed here *before* it is sent, so a crash can never leave an
order the journal does not know about. Schema changes are named migration steps recorded
in the database itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder, OrderRequest
from alchemiser_cli.core.money import fmt
from alchemiser_cli.errors import JournalError
from alchemiser_cli.files import prepare_sqlite, write_transaction
from alchemiser_cli.journal import disputes
from alchemiser_cli.journal.disputes import Dispute
from alchemiser_cli.journal.queries import JournalQueries, m003_outputs
from alchemiser_cli.masking import redact


def _m001_initial(cur: sqlite3.Cursor) -> None:
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


MIGRATIONS: tuple[tuple[str, Callable[[sqlite3.Cursor], None]], ...] = (
    ("m001_initial", _m001_initial),
    # applied by name: the numbering may have gaps (names were reserved per branch)
    ("m002_disputes", disputes.m002_disputes),
    ("m003_outputs", m003_outputs),
)

# The orders table stores LegStatus values: the broker's statuses plus alch's own
# (`intent` = committed, not yet sent; `send_failed` = the broker refused it at submit;
# `unconfirmed` = sent, no answer, not found when asked: it may still arrive, so it is
# looked up again before any later run sends; `not_sent` = never sent). The names below
# are kept for callers that import them from here.
INTENT = LegStatus.INTENT
SEND_FAILED = LegStatus.SEND_FAILED
UNCONFIRMED = LegStatus.UNCONFIRMED
# Orders whose fate is unknown: they may exist at the broker, or appear there later.
UNSETTLED = LegStatus.unsettled()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of the runs table."""

    run_id: str
    command: str
    broker: str
    account_id: str
    plan_id: str | None
    started_at: str
    finished_at: str | None
    outcome: str
    message: str | None
    report: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One row of the orders table."""

    client_order_id: str
    run_id: str
    leg: int
    symbol: str
    side: str
    qty: str
    limit_price: str | None
    broker_order_id: str | None
    status: LegStatus
    filled_qty: str
    filled_avg_price: str | None
    error: str | None
    updated_at: str = ""


class Journal(JournalQueries):
    """Append-mostly store of runs and orders; every write is its own committed transaction."""

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

    # -- runs ----------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        command: str,
        broker: str,
        account_id: str,
        plan_id: str | None,
        plan: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record a run as started (outcome `running`)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO runs (run_id, command, broker, account_id, plan_id, started_at,"
                " outcome, plan_json) VALUES (?, ?, ?, ?, ?, ?, 'running', ?)",  # Outcome.RUNNING
                (
                    run_id,
                    command,
                    broker,
                    account_id,
                    plan_id,
                    now.isoformat(),
                    None if plan is None else redact(json.dumps(plan)),
                ),
            )

    def finish_run(
        self,
        run_id: str,
        outcome: str,
        message: str,
        report: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        """Record how a run ended (secrets masked: messages may quote a broker)."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, message = ?, report_json = ?"
                " WHERE run_id = ?",
                (
                    now.isoformat(),
                    outcome,
                    redact(message),
                    None if report is None else redact(json.dumps(report)),
                    run_id,
                ),
            )

    def recent_runs(self, limit: int, account_id: str | None = None) -> list[RunRecord]:
        """The newest runs first."""
        sql = "SELECT * FROM runs"
        args: tuple[object, ...] = ()
        if account_id is not None:
            sql += " WHERE account_id = ?"
            args = (account_id,)
        rows = self._read(sql + " ORDER BY started_at DESC, rowid DESC LIMIT ?", (*args, limit))
        return [self._run(r) for r in rows]

    def runs_since(self, account_id: str, since: datetime, command: str) -> list[RunRecord]:
        """An account's runs of `command` started at or after `since`, oldest first."""
        rows = self._read(
            "SELECT * FROM runs WHERE account_id = ? AND command = ? AND started_at >= ?"
            " ORDER BY started_at, rowid",
            (account_id, command, since.astimezone(UTC).isoformat()),
        )
        return [self._run(r) for r in rows]

    def known_client_order_ids(self, client_order_ids: Iterable[str]) -> set[str]:
        """Which of these client_order_ids the journal holds."""
        wanted = list(client_order_ids)
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT client_order_id FROM orders WHERE client_order_id IN ({marks})",  # noqa: S608 - placeholders only
                chunk,
            )
            known.update(r[0] for r in rows)
        return known

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run by id (a unique prefix is enough)."""
        rows = self._read(
            "SELECT * FROM runs WHERE substr(run_id, 1, length(?)) = ? LIMIT 2", (run_id, run_id)
        )
        return self._run(rows[0]) if len(rows) == 1 else None

    def run_ids_starting(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` run ids that start with `prefix`, oldest first."""
        rows = self._read(
            "SELECT run_id FROM runs WHERE substr(run_id, 1, length(?)) = ? "
            "ORDER BY run_id LIMIT ?",
            (prefix, prefix, limit),
        )
        return [str(r[0]) for r in rows]

    def runs_with_outcome(self, outcome: str, account_id: str, broker: str) -> list[RunRecord]:
        """Runs of one broker's account with this outcome (e.g. `running` = never finished).

        Matched on broker and account: the simulator and a fake Alpaca may share an id."""
        rows = self._read(
            "SELECT * FROM runs WHERE outcome = ? AND account_id = ? AND broker = ?"
            " ORDER BY started_at",
            (outcome, account_id, broker),
        )
        return [self._run(r) for r in rows]

    # -- orders --------------------------------------------------------------------------

    def record_intent(
        self, run_id: str, plan_id: str, leg: int, request: OrderRequest, now: datetime
    ) -> None:
        """Commit an order before it is sent."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO orders (client_order_id, run_id, plan_id, leg, symbol, side, qty,"
                " limit_price, order_type, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    request.client_order_id,
                    run_id,
                    plan_id,
                    leg,
                    request.symbol,
                    request.side.value,
                    fmt(request.qty),
                    None if request.limit_price is None else fmt(request.limit_price),
                    request.order_type,
                    LegStatus.INTENT.value,
                    now.isoformat(),
                    now.isoformat(),
                ),
            )

    def record_broker_state(self, order: BrokerOrder, now: datetime) -> None:
        """Store what the broker says about one of our orders."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE orders SET broker_order_id = ?, status = ?, filled_qty = ?,"
                " filled_avg_price = ?, updated_at = ? WHERE client_order_id = ?",
                (
                    order.id,
                    LegStatus.of(order.status).value,
                    fmt(order.filled_qty),
                    None if order.filled_avg_price is None else fmt(order.filled_avg_price),
                    now.isoformat(),
                    order.client_order_id,
                ),
            )

    def record_send_failure(
        self,
        client_order_id: str,
        error: str,
        now: datetime,
        status: LegStatus = LegStatus.SEND_FAILED,
    ) -> None:
        """Store that an order did not reach the broker (refused at submit, or never sent);
        `status` is a LegStatus (`send_failed`, `unconfirmed` or `not_sent`)."""
        with self._tx() as cur:
            cur.execute(
                "UPDATE orders SET status = ?, error = ?, updated_at = ? WHERE client_order_id = ?",
                (LegStatus(status).value, redact(error), now.isoformat(), client_order_id),
            )

    def record_dispute(self, order: BrokerOrder, why: str, now: datetime) -> None:
        """Journal a broker answer about one of our orders that cannot be true, as sent
        (journal/disputes.py); the order is `disputed` until the broker's word is accepted."""
        with self._tx() as cur:
            disputes.record(cur, order, redact(why), now.isoformat())

    def open_disputes(self, account_id: str, broker: str) -> list[Dispute]:
        """One broker's account's disputes not yet accepted, oldest first."""
        return disputes.open_disputes(self._read(disputes.OPEN_SQL, (account_id, broker)))

    def accept_dispute(self, client_order_id: str, now: datetime) -> None:
        """Take the broker's word for a disputed order (see journal/disputes.py)."""
        with self._tx() as cur:
            disputes.accept(cur, client_order_id, now.isoformat())

    def orders_for_run(self, run_id: str) -> list[OrderRecord]:
        """A run's orders in leg order."""
        rows = self._read(
            "SELECT client_order_id, run_id, leg, symbol, side, qty, limit_price,"
            " broker_order_id, status, filled_qty, filled_avg_price, error, updated_at"
            " FROM orders WHERE run_id = ? ORDER BY leg, client_order_id",
            (run_id,),
        )
        return [self._order(r) for r in rows]

    def unsettled_orders(self, account_id: str, broker: str) -> list[OrderRecord]:
        """One broker's account's orders whose fate is unknown (`intent`, `unconfirmed`),
        whatever their run's outcome, oldest first. Matched on broker and account: another
        broker's order with the same account id is never looked up (nor settled) here."""
        unsettled = sorted(LegStatus.unsettled())
        marks = ",".join("?" * len(unsettled))
        rows = self._read(
            "SELECT o.client_order_id, o.run_id, o.leg, o.symbol, o.side, o.qty,"  # noqa: S608 - placeholders only
            " o.limit_price, o.broker_order_id, o.status, o.filled_qty, o.filled_avg_price,"
            " o.error, o.updated_at FROM orders o JOIN runs r ON r.run_id = o.run_id"
            f" WHERE r.account_id = ? AND r.broker = ? AND o.status IN ({marks})"
            " ORDER BY o.created_at, o.rowid",
            (account_id, broker, *unsettled),
        )
        return [self._order(r) for r in rows]

    def last_plan(self, account_id: str) -> dict[str, Any] | None:
        """The plan of the account's newest execute run that had one (its targets, etc.)."""
        rows = self._read(
            "SELECT run_id, plan_json FROM runs WHERE account_id = ? AND command = 'execute'"
            " AND plan_json IS NOT NULL ORDER BY started_at DESC, rowid DESC LIMIT 1",
            (account_id,),
        )
        return self._plan(*rows[0]) if rows else None

    def run_plan(self, run_id: str) -> dict[str, Any] | None:
        """The plan a run was journaled with (None: the run had none)."""
        rows = self._read("SELECT plan_json FROM runs WHERE run_id = ?", (run_id,))
        return self._plan(run_id, rows[0][0]) if rows and rows[0][0] is not None else None

    def executed_plans(self, limit: int) -> list[tuple[RunRecord, dict[str, Any]]]:
        """The newest execute runs that sent orders (one reached, or may have reached, the
        broker), oldest first, with their plans (`alch backtest --replay-journal`: a run
        that sent nothing has nothing to compare); a damaged plan is an error naming it."""
        never = sorted(LegStatus.never_reached())
        marks = ",".join("?" * len(never))
        rows = self._read(
            "SELECT run_id, plan_json FROM runs WHERE command = 'execute' AND plan_json IS NOT"  # noqa: S608 - placeholders only
            f" NULL AND run_id IN (SELECT run_id FROM orders WHERE status NOT IN ({marks}))"
            " ORDER BY started_at DESC, rowid DESC LIMIT ?",
            (*never, limit),
        )
        out: list[tuple[RunRecord, dict[str, Any]]] = []
        for run_id, text in reversed(rows):
            run, plan = self.get_run(run_id), self._plan(run_id, text)
            if run is None or plan is None:
                raise JournalError(f"journal {self.path}: run {run_id} has a damaged plan")
            out.append((run, plan))
        return out

    def _plan(self, run_id: str, text: str) -> dict[str, Any] | None:
        """A journaled plan's JSON object (None if it is not one); unreadable JSON is a
        JournalError naming the run."""
        try:
            plan = json.loads(text)
        except ValueError:
            raise JournalError(f"journal {self.path}: run {run_id} has a damaged plan") from None
        return plan if isinstance(plan, dict) else None

    def plan_executed(self, plan_id: str) -> list[RunRecord]:
        """Execute runs in which an order of this plan filled, or may still fill (working
        at the broker, or its fate unknown: `intent`, `unconfirmed`).

        A run whose orders all ended with nothing filled (cancelled, refused, never sent)
        did not execute the plan: it runs again without --force.
        """
        return self._plan_runs(plan_id, only_reached=True)

    def plan_attempts(self, plan_id: str) -> int:
        """How many runs journaled orders for this plan (so new client_order_ids never clash)."""
        return len(self._plan_runs(plan_id, only_reached=False))

    def _plan_runs(self, plan_id: str, *, only_reached: bool) -> list[RunRecord]:
        final = sorted(LegStatus.settled())
        marks = ",".join("?" * len(final))
        # filled_qty is a decimal string: any digit 1-9 in it means something filled.
        rows = self._read(
            "SELECT * FROM runs WHERE plan_id = ? AND command = 'execute' AND run_id IN"  # noqa: S608 - placeholders only
            " (SELECT run_id FROM orders WHERE plan_id = ? AND (? = 0"
            f"  OR filled_qty GLOB '*[1-9]*' OR status NOT IN ({marks}))) ORDER BY started_at",
            (plan_id, plan_id, int(only_reached), *final),
        )
        return [self._run(r) for r in rows]

    # -- internals -----------------------------------------------------------------------

    def _run(self, row: tuple[Any, ...]) -> RunRecord:
        try:
            report = None if row[10] is None else json.loads(row[10])
        except ValueError:
            raise JournalError(f"journal {self.path}: run {row[0]} has a damaged report") from None
        return RunRecord(
            run_id=row[0],
            command=row[1],
            broker=row[2],
            account_id=row[3],
            plan_id=row[4],
            started_at=row[5],
            finished_at=row[6],
            outcome=row[7],
            message=row[8],
            report=report,
        )

    def _order(self, row: tuple[Any, ...]) -> OrderRecord:
        """An orders row; its status read back as a LegStatus (the strings never changed)."""
        try:
            status = LegStatus(row[8])
        except ValueError:
            raise JournalError(
                f"journal {self.path}: order {row[0]} has an unknown status {row[8]!r}: "
                "it was written by a newer alch; upgrade alch to read it"
            ) from None
        return OrderRecord(
            client_order_id=row[0],
            run_id=row[1],
            leg=row[2],
            symbol=row[3],
            side=row[4],
            qty=row[5],
            limit_price=row[6],
            broker_order_id=row[7],
            status=status,
            filled_qty=row[9],
            filled_avg_price=row[10],
            error=row[11],
            updated_at=row[12],
        )

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
