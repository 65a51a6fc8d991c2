"""A backtest's trades through the tax lots: realised gains per year and the wash sales the
strategy would have caused. Amounts only (no tax rates); estimates, not tax advice.

Each session's fills happen at its close (16:00 New York), sells before buys, at the
prices the backtest filled them (sells' fees deducted from their proceeds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from alchemiser_cli.core.backtest import Trade
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.tax.ledger import Kind, TaxEvent, Term, rebuild
from alchemiser_cli.core.tax.records import NOT_ADVICE
from alchemiser_cli.core.types import Exact, Money

CLOSE = time(16, 0)


@dataclass(frozen=True, slots=True)
class TaxYear:
    """One calendar year's realised gains as reported, and its wash sales."""

    year: int
    short_term: Money
    long_term: Money
    disallowed: Money
    wash_sales: int


@dataclass(frozen=True, slots=True)
class BacktestWash:
    """A wash sale the strategy made: the loss sale, the purchase that replaced it."""

    symbol: str
    sold: date
    replacement_acquired: date
    replacement_qty: Exact
    disallowed: Money


@dataclass(frozen=True, slots=True)
class BacktestTax:
    """Per year, the realised gains and wash sales; every wash sale; the totals."""

    years: tuple[TaxYear, ...]
    wash_sales: tuple[BacktestWash, ...]
    short_term: Money
    long_term: Money
    disallowed: Money
    note: str = f"amounts only, no tax rates: {NOT_ADVICE}"


def backtest_tax(trades: Sequence[Trade]) -> BacktestTax:
    """Rebuild the lots from the backtest's fills and total what they realised."""
    events = [
        TaxEvent(datetime.combine(t.day, CLOSE, tzinfo=NEW_YORK), t.symbol,
                 Kind.BUY if t.side is Side.BUY else Kind.SELL, t.qty, t.price,
                 fees=t.fees if t.side is Side.SELL else ZERO, ref=f"trade-{n}")
        for n, t in enumerate(trades)
    ]  # fmt: skip
    ledger = rebuild(events)
    short: dict[int, Decimal] = {}
    long: dict[int, Decimal] = {}
    disallowed: dict[int, Decimal] = {}
    count: dict[int, int] = {}
    for r in ledger.realised:
        into = short if r.term is Term.SHORT else long
        into[r.sold.year] = into.get(r.sold.year, ZERO) + r.gain
        disallowed[r.sold.year] = disallowed.get(r.sold.year, ZERO) + r.disallowed
    for w in ledger.washes:
        count[w.sold.year] = count.get(w.sold.year, 0) + 1
    years = tuple(
        TaxYear(y, short.get(y, ZERO), long.get(y, ZERO), disallowed.get(y, ZERO),
                count.get(y, 0))
        for y in sorted(disallowed)
    )  # fmt: skip
    washes = tuple(
        BacktestWash(w.symbol, w.sold, w.replacement_acquired, w.replacement_qty, w.disallowed)
        for w in ledger.washes
    )
    return BacktestTax(
        years,
        washes,
        sum((y.short_term for y in years), ZERO),
        sum((y.long_term for y in years), ZERO),
        sum((y.disallowed for y in years), ZERO),
    )
