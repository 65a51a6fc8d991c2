"""The simulator's history: the account at each close, transfers, fills and orders since
a time, and the trades its tax lots are built from."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.brokers.sim.account import Accounts
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.models import BrokerOrder, Fill, Side
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.tax.ledger import Ledger, TaxEvent, rebuild


class Activity(Accounts):
    """What happened to the account over time."""

    def portfolio_history(self, start: date, end: date) -> PortfolioHistory:
        """The account at each session's close from its daily history (sim/history.py)."""
        self._tick()
        return self._history.read(start, end, self.daily_bars)

    def transfer(self, amount: Decimal) -> None:
        """Deposit (positive) or withdraw (negative) cash today (tests and scenarios)."""
        today = self.now().astimezone(NEW_YORK).date()
        self._history.open_day(today)
        with self._tx() as cur:
            cash = Decimal(self._meta("cash") or "0") + amount
            cur.execute("UPDATE meta SET value = ? WHERE key = 'cash'", (fmt(cash),))
        self._history.add_flow(today, amount)

    def trade_history(self, *, refresh: bool = False) -> list[TaxEvent]:
        """The seed's positions (bought when seeded), every fill and split, oldest first."""
        return lots.history(self._conn)

    def open_lots(self, *, refresh: bool = False) -> Ledger:
        """The tax lots of the whole history (rebuilt: a simulated history is short)."""
        return rebuild(lots.history(self._conn))

    def orders_since(self, since: datetime) -> list[BrokerOrder]:
        """Orders submitted at or after `since`."""
        self._tick()
        return [
            o for o in self._orders("1=1") if o.submitted_at is not None and o.submitted_at >= since
        ]

    def fills_since(self, since: datetime) -> list[Fill]:
        """Executions at or after `since`."""
        rows = self._conn.execute(
            "SELECT order_id, symbol, side, qty, price, at FROM fills ORDER BY rowid"
        )
        fills = [
            Fill(s, Side(side), Decimal(q), Decimal(p), datetime.fromisoformat(at), oid)
            for oid, s, side, q, p, at in rows
        ]
        return [f for f in fills if f.at >= since]

    def book_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        """A fill now that no order of this simulator made (a trade outside alch, or a
        history for tests and benchmarks): cash, position, lots and the fills move."""
        with self._tx() as cur:
            lots.book(cur, f"outside-{uuid.uuid4()}", symbol, side, qty, price, self.now())
