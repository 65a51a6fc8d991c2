"""The simulator's daily history: the account (cash and positions) as it stood at the last
touch of each day, plus the day's deposits and withdrawals, kept in `equity_history`; read
back as a `PortfolioHistory` valued at each session's close from the simulator's daily bars
(as Alpaca values an account at the close). Days between touches carry the last holdings."""

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


class DailyHistory:
    """Writes a day's row when the account changed since the last write (cheap to call)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._last: tuple[str, str, str] | None = None

    def record(self, day: date, flow: Decimal = ZERO) -> None:
        """Keep the account as it stands now as `day`'s row (adding `flow` to its flows)."""
        cash = self._conn.execute("SELECT value FROM meta WHERE key = 'cash'").fetchone()
        rows = self._conn.execute("SELECT symbol, qty, avg_price FROM positions ORDER BY symbol")
        held = {s: [q, a] for s, q, a in rows if Decimal(q) != ZERO}
        state = (day.isoformat(), cash[0] if cash else "0", json.dumps(held))
        if state == self._last and not flow:
            return
        with write_transaction(self._conn) as cur:
            cur.execute(
                "INSERT INTO equity_history (day, cash, positions, flow) VALUES (?, ?, ?, '0') "
                "ON CONFLICT(day) DO UPDATE SET cash = excluded.cash, "
                "positions = excluded.positions",
                state,
            )
            if flow:
                cur.execute(
                    "UPDATE equity_history SET flow = ? WHERE day = ?",
                    (fmt(self._flow(cur, state[0]) + flow), state[0]),
                )
        self._last = state

    @staticmethod
    def _flow(cur: sqlite3.Cursor, day: str) -> Decimal:
        row = cur.execute("SELECT flow FROM equity_history WHERE day = ?", (day,)).fetchone()
        return Decimal(row[0]) if row else ZERO

    def read(self, start: date, end: date, bars: Bars) -> PortfolioHistory:
        """The history from `start` to `end`, valued at each day's close (see the module)."""
        rows = [
            (date.fromisoformat(d), Decimal(c), json.loads(p), Decimal(f))
            for d, c, p, f in self._conn.execute(
                "SELECT day, cash, positions, flow FROM equity_history WHERE day <= ? ORDER BY day",
                (end.isoformat(),),
            )
        ]
        if not rows:
            return PortfolioHistory((), (), ())
        symbols = sorted({s for _, _, held, _ in rows for s in held})
        closes = bars(symbols, rows[0][0], end) if symbols else {}
        days = {d for d, *_ in rows} | {
            d for series in closes.values() for d in series.dates if rows[0][0] <= d <= end
        }
        flows = {d: f for d, _, _, f in rows}
        out_days, equity, out_flows = [], [], []
        recorded = [d for d, *_ in rows]
        for day in sorted(d for d in days if d >= start and d.weekday() < 5):
            _, cash, held, _ = rows[bisect_right(recorded, day) - 1]
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
