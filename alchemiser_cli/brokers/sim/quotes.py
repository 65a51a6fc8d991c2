"""The simulator's quotes, assets and bars: the seed's fixed book, ALCH_SIM_BARS closes
or synthetic prices; and the changes tests and scenarios make to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.brokers.sim.store import SimStore
from alchemiser_cli.core.models import Asset, Quote
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.strategy.series import Series


class Quotes(SimStore):
    """Quotes, assets and daily bars."""

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Series]:
        """Closes from ALCH_SIM_BARS (one SYMBOL.csv each), else synthetic ones (flagged):
        the whole file through `end`, whatever `start` (it is on disk already; a strategy's
        RSI and EMA then read every close there is, and bars that end before `start` are
        still there to be reported stale)."""
        return daily_bars(symbols, date.min, end, self._bars_dir)

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Quotes for the symbols the simulator can price, stamped with the sim clock: from
        ALCH_SIM_BARS where a symbol has bars (they win over the seed's fixed quote), else
        the seed's, else (without ALCH_SIM_BARS) synthetic ones, flagged as such."""
        now = self.now()
        wanted = set(symbols)
        rows = self._rows("SELECT symbol, bid, ask, last FROM quotes", wanted)
        fixed = {
            s: Quote(s, Decimal(b), Decimal(a), Decimal(last), as_of=now)
            for s, b, a, last in rows
            if s in wanted
        }
        if self._prices is None:
            return fixed
        return self._prices.quotes(wanted, fixed, self._listed(wanted), now)

    def _bar_quote(self, symbol: str) -> Quote | None:
        """The bars' quote for a symbol now, if it has bars (seeding a position's cost)."""
        if self._prices is None or not self._prices.has_bars(symbol):
            return None
        return self._prices.quote(symbol, self.now())

    def _listed(self, symbols: set[str]) -> set[str]:
        """The seed's listed symbols among `symbols` (`quotes = [...]`)."""
        return {r[0] for r in self._rows("SELECT symbol FROM listed", symbols)}

    def assets(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """Assets the simulator knows: any symbol it can quote, tradable and fractionable
        unless the seed says otherwise."""
        wanted = set(symbols)
        adv = {s: Decimal(v) for s, v in self._rows("SELECT symbol, volume FROM adv", wanted)}
        known = {
            s: Asset(s, bool(t), bool(f), st, adv.get(s))
            for s, t, f, st in self._rows("SELECT * FROM assets", wanted)
        }
        quoted = {r[0] for r in self._rows("SELECT symbol FROM quotes", wanted)}
        quoted |= self._listed(wanted)
        if self._prices is not None:
            quoted |= self._prices.priced(wanted)
        return {
            s: known.get(s, Asset(s, avg_daily_volume=adv.get(s)))
            for s in wanted
            if s in known or s in quoted
        }

    def listing(self) -> dict[str, Asset]:
        """Every asset the simulator knows (the fake Alpaca server's assets listing)."""
        symbols = {r[0] for r in self._conn.execute("SELECT symbol FROM quotes")}
        symbols |= {r[0] for r in self._conn.execute("SELECT symbol FROM assets")}
        symbols |= {r[0] for r in self._conn.execute("SELECT symbol FROM listed")}
        return self.assets(symbols)

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal = ZERO) -> None:
        """Change a quote (tests and scenarios)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO quotes VALUES (?, ?, ?, ?)",
                (symbol, fmt(bid), fmt(ask), fmt(last)),
            )

    def set_adv(self, symbol: str, volume: Decimal) -> None:
        """Set a symbol's average daily volume in shares (tests and scenarios)."""
        with self._tx() as cur:
            cur.execute("INSERT OR REPLACE INTO adv VALUES (?, ?)", (symbol, fmt(volume)))

    def split(self, symbol: str, ratio: Decimal) -> None:
        """A stock split now: `ratio` new shares per old one in the position, its lots and
        its quote (tests and scenarios; the fake Alpaca server reports it as activities)."""
        with self._tx() as cur:
            lots.split(cur, symbol, ratio, self.now())
            row = cur.execute("SELECT bid, ask, last FROM quotes WHERE symbol = ?", (symbol,))
            quote = row.fetchone()
            if quote is not None:
                cur.execute(
                    "UPDATE quotes SET bid = ?, ask = ?, last = ? WHERE symbol = ?",
                    (*(fmt(Decimal(p) / ratio) for p in quote), symbol),
                )
