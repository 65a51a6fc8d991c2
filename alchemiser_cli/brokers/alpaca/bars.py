"""Daily bars from Alpaca with an incremental SQLite cache under ALCH_HOME.

The request is alpaca-py's `StockBarsRequest` (timeframe 1Day, `adjustment=all`: split-
and dividend-adjusted, the feed from settings), paged by alpaca-py until exhausted. The
cache (`ALCH_HOME/cache/bars-<paper|live>.sqlite`) keeps each symbol's closes and the date
range already asked for, per feed; a later call fetches only the days before or after that
range, so a daily run asks for one new session. A symbol Alpaca returns no bars for is an
error naming it, never an empty series.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.files import prepare_sqlite, write_transaction

BATCH = 100  # symbols per request
Fetch = Callable[[list[str], date, date], dict[str, list[tuple[date, Decimal]]]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bars (feed TEXT NOT NULL, symbol TEXT NOT NULL, day TEXT NOT NULL,
    close TEXT NOT NULL, PRIMARY KEY (feed, symbol, day));
CREATE TABLE IF NOT EXISTS covered (feed TEXT NOT NULL, symbol TEXT NOT NULL,
    first TEXT NOT NULL, last TEXT NOT NULL, PRIMARY KEY (feed, symbol));
"""


def bars_params(symbols: list[str], start: date, end: date, feed: str) -> dict[str, Any]:
    """The query of alpaca-py's request for adjusted daily bars from `start` to `end`
    (inclusive), through its public `to_request_fields`."""
    from alpaca.data.enums import Adjustment, DataFeed
    from alpaca.data.requests import StockBarsRequest
    from alpaca.data.timeframe import TimeFrame

    return StockBarsRequest(
        symbol_or_symbols=symbols,
        timeframe=TimeFrame.Day,
        start=datetime(start.year, start.month, start.day, tzinfo=UTC),
        end=datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=UTC),
        adjustment=Adjustment.ALL,
        feed=DataFeed(feed),
    ).to_request_fields()


def parse_bars(raw: Any, symbols: list[str]) -> dict[str, list[tuple[date, Decimal]]]:
    """Alpaca's raw `{symbol: [{"t": ..., "c": ...}]}` as (New York date, close) pairs."""
    out: dict[str, list[tuple[date, Decimal]]] = {s: [] for s in symbols}
    if not isinstance(raw, dict):
        raise BrokerError(f"unexpected bars answer from Alpaca: {type(raw).__name__}")
    for symbol, rows in raw.items():
        if symbol not in out or not isinstance(rows, list):
            continue
        for row in rows:
            try:
                stamp = datetime.fromisoformat(str(row["t"]).replace("Z", "+00:00"))
                close = Decimal(str(row["c"]))
                if stamp.tzinfo is None:  # naive: astimezone would guess the host's zone
                    raise ValueError(row["t"])
            except (KeyError, TypeError, ValueError, InvalidOperation):
                raise BrokerError(
                    f"unexpected daily bar for {symbol} from Alpaca: {row!r}"
                ) from None
            if not close.is_finite() or close <= 0:
                raise BrokerError(f"Alpaca sent a daily close of {close} for {symbol}")
            out[symbol].append((stamp.astimezone(NEW_YORK).date(), close))
    return out


class BarCache:
    """Closes and covered date ranges per (feed, symbol) in one private SQLite file."""

    def __init__(self, path: Path) -> None:
        prepare_sqlite(path, "bar cache", BrokerError)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=10)
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise BrokerError(
                f"bar cache {path}: {exc} (delete the file: it is only a cache)"
            ) from None

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    def covered(self, feed: str, symbol: str) -> tuple[date, date] | None:
        row = self._conn.execute(
            "SELECT first, last FROM covered WHERE feed = ? AND symbol = ?", (feed, symbol)
        ).fetchone()
        return (date.fromisoformat(row[0]), date.fromisoformat(row[1])) if row else None

    def store(
        self, feed: str, symbol: str, first: date, last: date, rows: list[tuple[date, Decimal]]
    ) -> None:
        known = self.covered(feed, symbol)
        lo, hi = (min(first, known[0]), max(last, known[1])) if known else (first, last)
        with write_transaction(self._conn) as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO bars VALUES (?, ?, ?, ?)",
                [(feed, symbol, d.isoformat(), str(c)) for d, c in rows],
            )
            cur.execute(
                "INSERT OR REPLACE INTO covered VALUES (?, ?, ?, ?)",
                (feed, symbol, lo.isoformat(), hi.isoformat()),
            )

    def series(self, feed: str, symbol: str, start: date, end: date) -> Series:
        rows = self._conn.execute(
            "SELECT day, close FROM bars WHERE feed = ? AND symbol = ? AND day >= ? AND day <= ? "
            "ORDER BY day",
            (feed, symbol, start.isoformat(), end.isoformat()),
        ).fetchall()
        return Series(
            tuple(date.fromisoformat(d) for d, _ in rows), tuple(Decimal(c) for _, c in rows)
        )


def missing_ranges(
    known: tuple[date, date] | None, start: date, end: date
) -> list[tuple[date, date]]:
    """The parts of [start, end] outside the range already fetched."""
    if known is None:
        return [(start, end)]
    gaps = []
    if start < known[0]:
        gaps.append((start, min(end, known[0] - timedelta(days=1))))
    if end > known[1]:
        gaps.append((max(start, known[1] + timedelta(days=1)), end))
    return gaps


def cached_daily_bars(
    fetch: Fetch, cache: BarCache, feed: str, symbols: Iterable[str], start: date, end: date
) -> dict[str, Series]:
    """Each symbol's closes in [start, end], fetching only what the cache lacks."""
    wanted = sorted(set(symbols))
    by_gap: dict[tuple[date, date], list[str]] = {}
    for symbol in wanted:
        for gap in missing_ranges(cache.covered(feed, symbol), start, end):
            by_gap.setdefault(gap, []).append(symbol)
    for (first, last), names in sorted(by_gap.items()):
        for i in range(0, len(names), BATCH):
            batch = names[i : i + BATCH]
            got = fetch(batch, first, last)
            for symbol in batch:
                rows = [(d, c) for d, c in got.get(symbol, []) if first <= d <= last]
                if rows or cache.covered(feed, symbol) is not None:
                    # a symbol with no bars at all is not remembered: asked again next time
                    cache.store(feed, symbol, first, last, rows)
    out = {s: cache.series(feed, s, start, end) for s in wanted}
    empty = [s for s, series in out.items() if not series.dates]
    if empty:
        raise BrokerError(
            f"Alpaca has no daily bars for {', '.join(empty)} from {start.isoformat()} to "
            f"{end.isoformat()} (feed {feed}): check the symbols"
        )
    return out
