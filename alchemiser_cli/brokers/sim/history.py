"""The simulator's daily history, kept in `equity_history`: for each day it was touched,
the account (cash and positions) as that day began, before any of the day's fills, and the
day's deposits and withdrawals. The account only changes when touched, so a day's closing
holdings are those the next touched day began with (or today's, for the last). Read back as
a `PortfolioHistory` valued at each session's close from the simulator's daily bars, as
Alpaca values an account. One row a day: a touch costs a comparison, not a write."""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_right
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.files import write_transaction

Bars = Callable[[Iterable[str], date, date], dict[str, Series]]
Holdings = dict[str, list[str]]  # symbol -> [qty, average price]


def _state(conn: sqlite3.Connection | sqlite3.Cursor) -> tuple[str, Holdings]:
    cash = conn.execute("SELECT value FROM meta WHERE key = 'cash'").fetchone()
    rows = conn.execute("SELECT symbol, qty, avg_price FROM positions ORDER BY symbol")
    return (cash[0] if cash else "0"), {s: [q, a] for s, q, a in rows if Decimal(q) != ZERO}


class DailyHistory:
    """Opens each day's row on the day's first touch; adds transfers to it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._day: date | None = None  # the day whose row this process knows exists

    def forget(self) -> None:
        """The table was emptied (`sim reset`): open today's row again on the next touch."""
        self._day = None

    def open_day(self, day: date) -> None:
        """Keep the account as it stands now as the start of `day`, unless already kept."""
        if day == self._day:
            return
        key = (day.isoformat(),)
        if self._conn.execute("SELECT 1 FROM equity_history WHERE day = ?", key).fetchone():
            self._day = day
            return
        with write_transaction(self._conn) as cur:
            if cur.execute("SELECT 1 FROM equity_history WHERE day = ?", key).fetchone() is None:
                cash, held = _state(cur)
                cur.execute(
                    "INSERT INTO equity_history (day, cash, positions, flow) VALUES (?, ?, ?, '0')",
                    (key[0], cash, json.dumps(held)),
                )
        self._day = day

    def add_flow(self, day: date, flow: Decimal) -> None:
        """Count a deposit (+) or withdrawal (-) made on `day` (after opening its row)."""
        self.open_day(day)
        with write_transaction(self._conn) as cur:
            row = cur.execute(
                "SELECT flow FROM equity_history WHERE day = ?", (day.isoformat(),)
            ).fetchone()
            total = Decimal(row[0]) + flow
            cur.execute(
                "UPDATE equity_history SET flow = ? WHERE day = ?", (fmt(total), day.isoformat())
            )

    def read(self, start: date, end: date, bars: Bars) -> PortfolioHistory:
        """The history from `start` to `end`, valued at each day's close (see the module)."""
        rows = [
            (date.fromisoformat(d), Decimal(f), json.loads(p), Decimal(c))
            for d, c, p, f in self._conn.execute(
                "SELECT day, cash, positions, flow FROM equity_history WHERE day <= ? ORDER BY day",
                (end.isoformat(),),
            )
        ]
        if not rows:
            return PortfolioHistory((), (), ())
        cash_now, held_now = _state(self._conn)
        began = [d for d, *_ in rows]
        # The holdings each day closed with: those the next touched day began with.
        closing = [(c, h) for _, _, h, c in rows[1:]] + [(Decimal(cash_now), held_now)]
        symbols = sorted({s for _, h in closing for s in h})
        closes = bars(symbols, began[0], end) if symbols else {}
        days = set(began) | {
            d for series in closes.values() for d in series.dates if began[0] <= d <= end
        }
        flows = {d: f for d, f, _, _ in rows}
        out_days, equity, out_flows = [], [], []
        for day in sorted(d for d in days if d >= start and d.weekday() < 5):
            cash, held = closing[bisect_right(began, day) - 1]
            value = cash
            for symbol, (qty, avg) in held.items():
                value += Decimal(qty) * _close(closes.get(symbol), day, Decimal(avg))
            out_days.append(day)
            equity.append(value)
            out_flows.append(flows.get(day, ZERO))
        return PortfolioHistory(tuple(out_days), tuple(equity), tuple(out_flows))


def _close(series: Series | None, day: date, fallback: Decimal) -> Decimal:
    """The close on or before `day` (the average price before the first close)."""
    if series is None:
        return fallback
    i = bisect_right(series.dates, day)
    return series.closes[i - 1] if i else fallback
