"""The journal's orders (legs): each intent committed before it is sent, then what the
broker said, send failures and disputes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import alchemiser_cli.journal.disputes as disputes
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder, OrderRequest
from alchemiser_cli.core.money import fmt
from alchemiser_cli.journal.connection import Connection
from alchemiser_cli.journal.disputes import Dispute
from alchemiser_cli.journal.records import OrderRecord, order_record
from alchemiser_cli.masking import redact


class Legs(Connection):
    """The orders table (and the disputes kept beside it)."""

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
        return [order_record(self.path, r) for r in rows]

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
        return [order_record(self.path, r) for r in rows]
