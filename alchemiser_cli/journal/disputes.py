"""Disputed orders in the journal: the broker's answer about an order that cannot be true
(more filled than ordered, a negative quantity, a zero price), kept with its figures.

A dispute never blocks a later run (it is settled: nothing is looked up for it again);
runs and `status` say it is open until `alch reconcile --accept` takes the broker's word:
the order is then recorded as the broker has it and the dispute is closed, with its time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.core.money import fmt


def m002_disputes(cur: sqlite3.Cursor) -> None:
    """The disputes table: one row per disputed order, the broker's figures as sent."""
    cur.execute(
        """CREATE TABLE disputes (
            client_order_id TEXT PRIMARY KEY REFERENCES orders(client_order_id),
            broker_order_id TEXT NOT NULL, broker_status TEXT NOT NULL, qty TEXT NOT NULL,
            filled_qty TEXT NOT NULL, filled_avg_price TEXT, limit_price TEXT,
            noted_at TEXT NOT NULL, accepted_at TEXT)"""
    )


@dataclass(frozen=True, slots=True)
class Dispute:
    """One open (not yet accepted) dispute, with its order's journaled intent."""

    client_order_id: str
    run_id: str
    symbol: str
    side: str
    qty: str  # what alch asked for
    broker_status: str
    broker_qty: str
    broker_filled_qty: str
    broker_avg_price: str | None
    error: str | None


def record(cur: sqlite3.Cursor, order: BrokerOrder, why: str, now: str) -> None:
    """Journal the broker's figures for one of alch's orders and mark it disputed."""
    avg = None if order.filled_avg_price is None else fmt(order.filled_avg_price)
    limit = None if order.limit_price is None else fmt(order.limit_price)
    cur.execute(
        "UPDATE orders SET broker_order_id = ?, status = ?, filled_qty = ?, filled_avg_price"
        " = ?, error = ?, updated_at = ? WHERE client_order_id = ?",
        (order.id, LegStatus.DISPUTED.value, fmt(order.filled_qty), avg, why, now,
         order.client_order_id),
    )  # fmt: skip
    cur.execute(
        "INSERT INTO disputes (client_order_id, broker_order_id, broker_status, qty,"
        " filled_qty, filled_avg_price, limit_price, noted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (client_order_id) DO UPDATE SET broker_status = excluded.broker_status,"
        " qty = excluded.qty, filled_qty = excluded.filled_qty, filled_avg_price ="
        " excluded.filled_avg_price, noted_at = excluded.noted_at, accepted_at = NULL",
        (order.client_order_id, order.id, order.status.value, fmt(order.qty),
         fmt(order.filled_qty), avg, limit, now),
    )  # fmt: skip


OPEN_SQL = (
    "SELECT d.client_order_id, o.run_id, o.symbol, o.side, o.qty, d.broker_status, d.qty,"
    " d.filled_qty, d.filled_avg_price, o.error FROM disputes d"
    " JOIN orders o ON o.client_order_id = d.client_order_id"
    " JOIN runs r ON r.run_id = o.run_id"
    " WHERE d.accepted_at IS NULL AND r.account_id = ? AND r.broker = ?"
    " ORDER BY d.noted_at, d.client_order_id"
)


def open_disputes(rows: list[tuple[object, ...]]) -> list[Dispute]:
    """Rows of OPEN_SQL as disputes."""
    return [Dispute(*(None if v is None else str(v) for v in row)) for row in rows]  # type: ignore[arg-type]


def accept(cur: sqlite3.Cursor, client_order_id: str, now: str) -> None:
    """Take the broker's word: the order is journaled with the broker's status and
    figures (as they were disputed), and the dispute is closed."""
    row = cur.execute(
        "SELECT broker_status FROM disputes WHERE client_order_id = ? AND accepted_at IS NULL",
        (client_order_id,),
    ).fetchone()
    if row is None:
        return
    cur.execute(
        "UPDATE orders SET status = ?, error = 'the broker''s word accepted: ' || "
        "coalesce(error, ''), updated_at = ? WHERE client_order_id = ?",
        (str(row[0]), now, client_order_id),
    )
    cur.execute(
        "UPDATE disputes SET accepted_at = ? WHERE client_order_id = ?", (now, client_order_id)
    )
