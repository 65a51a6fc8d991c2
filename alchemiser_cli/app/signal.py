"""Strategies as a source of targets: read the files, fetch the bars, evaluate and blend.

The evaluation itself is pure (`core/strategy`); this use case only reads the strategy
files, asks the broker for the bars (and, with the market open, the latest trades) and
decides the as-of date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.strategy.evaluate import Blend, targets_from_strategies
from alchemiser_cli.core.strategy.nodes import Symphony, symbols_of
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.errors import InputError
from alchemiser_cli.files import read_text

MARKET_CLOSE = time(16, 0)
HISTORY = timedelta(days=5 * 366)  # bars read before the as-of date: 5 years (~1,260 sessions)


def read_strategies(args: list[str]) -> list[tuple[Symphony, Decimal]]:
    """Parse `FILE` or `FILE=weight` arguments; without weights the blend is equal."""
    parsed: list[tuple[Symphony, Decimal | None]] = []
    for arg in args:
        path, weight = arg, None
        if "=" in arg:
            path, raw = arg.rsplit("=", 1)
            try:
                weight = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
            except InvalidOperation:
                raise InputError(
                    f"{arg}: the weight after = must be a number like 0.6 or 60%"
                ) from None
            if not (weight.is_finite() and 0 < weight <= 1):
                raise InputError(f"{arg}: the weight after = must be above 0 and at most 1")
        text = read_text(Path(path), "strategy")
        parsed.append((parse_symphony(text, path), weight))
    given = [w for _, w in parsed if w is not None]
    if given and len(given) != len(parsed):
        raise InputError("give a weight to every strategy file (FILE=0.6) or to none")
    equal = Decimal(1) / len(parsed)
    return [(s, w if w is not None else equal) for s, w in parsed]


def last_completed_session_date(now: datetime) -> date:
    """The date whose close is final: today after 16:00 New York time, else yesterday."""
    local = now.astimezone(NEW_YORK)
    return local.date() if local.time() >= MARKET_CLOSE else local.date() - timedelta(days=1)


def latest_trades(broker: Broker, symbols: list[str]) -> dict[str, Decimal]:
    """The last trade of each symbol (the mid of a two-sided quote when none is reported)."""
    out: dict[str, Decimal] = {}
    for symbol, quote in broker.quotes(symbols).items():
        if quote.last > 0:
            out[symbol] = quote.last
        elif quote.bid > 0 and quote.ask >= quote.bid:
            out[symbol] = (quote.bid + quote.ask) / 2
    return out


def evaluate_files(
    broker: Broker,
    now: datetime,
    files: list[str],
    as_of: date | None,
    margin: Decimal,
    *,
    market_open: bool = False,
) -> Blend:
    """Parse, fetch the bars through the broker, evaluate and blend. Without --as-of and
    with the market open, `current-price` is the latest trade (not on the simulator)."""
    strategies = read_strategies(files)
    return evaluate_strategies(broker, now, strategies, as_of, margin, market_open=market_open)


def evaluate_strategies(
    broker: Broker,
    now: datetime,
    strategies: list[tuple[Symphony, Decimal]],
    as_of: date | None,
    margin: Decimal,
    *,
    market_open: bool = False,
) -> Blend:
    """`evaluate_files` for strategies already parsed."""
    end = as_of or last_completed_session_date(now)
    symbols = sorted({sym for s, _ in strategies for sym in symbols_of(s.root)})
    bars = broker.daily_bars(symbols, end - HISTORY, end)
    live = None
    if as_of is None and market_open and broker.name != "sim":
        live = latest_trades(broker, symbols)
    return targets_from_strategies(strategies, bars, end, fragile_margin=margin, live_prices=live)


def signal(rt: Runtime, files: list[str], as_of: date | None, margin: Decimal) -> Blend:
    """The blend of the strategy files as of `as_of` (default: the last completed session
    on the broker's clock; market hours follow that clock too)."""
    now = rt.broker.now()
    market_open = as_of is None and rt.market(now).is_open
    if as_of is None and not market_open:
        # Closed: the bars through the last session the calendar closed (after an early
        # close, that day's), as plan, check and execute use (`inputs.strategy_targets`).
        as_of = rt.last_session(now)
    blend = evaluate_files(rt.broker, now, files, as_of, margin, market_open=market_open)
    if as_of is not None:  # bars that stop before the session asked for: say so, loudly
        evening = datetime.combine(as_of, time(23, 59), tzinfo=NEW_YORK)
        wanted = rt.last_session(min(evening, now))
        for result, _ in blend.results:
            if result.as_of < wanted:
                rt.notices.append(
                    f"{result.file}: its bars end {result.as_of.isoformat()}, before the "
                    f"session of {wanted.isoformat()}: the decision is made on stale data"
                )
    return blend
