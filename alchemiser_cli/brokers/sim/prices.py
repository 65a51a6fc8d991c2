"""The simulator's prices from daily bars: quotes for strategies' symbols.

- With `ALCH_SIM_BARS=DIR`, any symbol with a `SYMBOL.csv` there is quoted at its close on
  the simulator's session (the session in progress, else the last one that opened), half
  the configured spread either side (`sim_spread_bps`, 5 by default, as the backtest). A
  symbol whose bars end before that session is quoted at its last close, stamped with that
  close's time, so the quote-age check sees how old it is.
- Without it, any symbol is quoted the same way from its deterministic synthetic closes
  (`brokers/bars.py`), and the quote says it is synthetic: a demonstration, not a market.

The seed's fixed quotes (`[quotes.SYMBOL]`) are used for symbols without bars; with
`ALCH_SIM_BARS`, a symbol's bars win over its fixed quote.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.bars import read_csv_series, synthetic_series
from alchemiser_cli.core.calendar import NEW_YORK, NyseCalendar
from alchemiser_cli.core.models import Quote
from alchemiser_cli.core.money import BPS, price_down, price_up
from alchemiser_cli.core.strategy.series import Series

DEFAULT_SPREAD_BPS = Decimal(5)
_CLOSE = time(16, 0)


def quote_at_close(symbol: str, close: Decimal, spread_bps: Decimal) -> tuple[Decimal, Decimal]:
    """(bid, ask): `close` less and plus half the spread, on the tick grid (the bid down,
    the ask up, so the spread is never narrower than configured)."""
    half = close * spread_bps / BPS / 2
    return price_down(close - half), price_up(close + half)


class BarPrices:
    """Quotes from daily closes on the simulator's session; a series is read once."""

    def __init__(
        self,
        bars_dir: Path | None,
        calendar_for: Callable[[datetime], NyseCalendar],
        spread_bps: Decimal = DEFAULT_SPREAD_BPS,
    ) -> None:
        self._dir = bars_dir
        self._calendar_for = calendar_for
        self._spread = spread_bps
        self._series: dict[tuple[str, date], Series] = {}

    @property
    def synthetic(self) -> bool:
        """Whether the closes are synthetic (no ALCH_SIM_BARS directory)."""
        return self._dir is None

    def has_bars(self, symbol: str) -> bool:
        """Whether `symbol` has closes: a file under ALCH_SIM_BARS, or (synthetic) any."""
        return self._dir is None or (self._dir / f"{symbol}.csv").is_file()

    def priced(self, symbols: set[str]) -> set[str]:
        """The symbols among `symbols` that have closes to be quoted from."""
        return {s for s in symbols if self.has_bars(s)}

    def quotes(
        self, wanted: set[str], fixed: dict[str, Quote], listed: set[str], now: datetime
    ) -> dict[str, Quote]:
        """The quotes of `wanted`: from the bars where a symbol has them (they win over a
        fixed quote, except synthetic ones), else the fixed quote; a listed symbol is
        always quoted from bars (a missing file is its error)."""
        out: dict[str, Quote] = {}
        for symbol in sorted(wanted):
            seeded = fixed.get(symbol)
            from_bars = self.has_bars(symbol) and (seeded is None or not self.synthetic)
            if from_bars or symbol in listed:
                out[symbol] = self.quote(symbol, now)
            elif seeded is not None:
                out[symbol] = seeded
        return out

    def session(self, now: datetime) -> date:
        """The simulator's session: the one in progress, else the last one that opened."""
        calendar = self._calendar_for(now)
        day = now.astimezone(NEW_YORK).date()
        while True:
            found = calendar.session(day)
            if found is not None and found.open <= now:
                return day
            day = date.fromordinal(day.toordinal() - 1)

    def quote(self, symbol: str, now: datetime) -> Quote:
        """`symbol` at its close on the session (its last close before it, stamped with that
        close's time), half the spread either side. Raises `BarsError` for a bad file."""
        session = self.session(now)
        series = self._read(symbol, session)
        at = bisect_right(series.dates, session) - 1
        if at < 0:
            from alchemiser_cli.brokers.bars import BarsError

            raise BarsError(
                f"no daily bars for {symbol} on or before {session.isoformat()}: cannot "
                "quote it on the simulator"
            )
        day, close = series.dates[at], series.closes[at]
        bid, ask = quote_at_close(symbol, close, self._spread)
        stamp = now if day == session else datetime.combine(day, _CLOSE, tzinfo=NEW_YORK)
        return Quote(symbol, bid, ask, close, as_of=stamp, synthetic=series.synthetic)

    def _read(self, symbol: str, session: date) -> Series:
        key = (symbol, session if self._dir is None else date.min)
        series = self._series.get(key)
        if series is None:
            series = (
                synthetic_series(symbol, session)
                if self._dir is None
                else read_csv_series(self._dir / f"{symbol}.csv", symbol)
            )
            self._series[key] = series
        return series
