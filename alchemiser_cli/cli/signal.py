"""`alch signal FILE...`: evaluate strategies on daily bars; print the decision and targets."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.cli.common import JsonOpt, console, globals_of, service_for
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.strategy.evaluate import (
    DEFAULT_FRAGILE_MARGIN,
    Blend,
    targets_from_strategies,
)
from alchemiser_cli.core.strategy.nodes import Symphony, symbols_of
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.documents import dumps
from alchemiser_cli.errors import InputError
from alchemiser_cli.files import read_text
from alchemiser_cli.masking import redact
from alchemiser_cli.render.signal import TARGETS_ADAPTER, render_signal, targets_document

FilesArg = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE", help="Strategy files (.clj); FILE=0.6 blends by weight (default: equal)."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate on the bars through this date (YYYY-MM-DD)."),
]
FragileOpt = Annotated[
    str,
    typer.Option(
        "--fragile-margin",
        help="Mark a decision fragile within this relative margin of flipping (2% default).",
    ),
]
MARKET_CLOSE = time(16, 0)
HISTORY = timedelta(days=5 * 366)  # bars read before the as-of date: 5 years (~1,260 sessions)


def _margin(raw: str) -> Decimal:
    text = raw.strip()
    try:
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value < 1:
        raise InputError(f"--fragile-margin {raw!r}: give a fraction such as 0.02 or 2%")
    return value


def _strategies(args: list[str]) -> list[tuple[Symphony, Decimal]]:
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
    strategies = _strategies(files)
    end = as_of or last_completed_session_date(now)
    symbols = sorted({sym for s, _ in strategies for sym in symbols_of(s.root)})
    bars = broker.daily_bars(symbols, end - HISTORY, end)
    live = None
    if as_of is None and market_open and broker.name != "sim":
        live = latest_trades(broker, symbols)
    return targets_from_strategies(strategies, bars, end, fragile_margin=margin, live_prices=live)


def signal(
    ctx: typer.Context,
    files: FilesArg,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    fragile_margin: FragileOpt = "2%",
) -> None:
    """Evaluate strategy files on daily bars: the decision tree and the target weights."""
    opts = globals_of(ctx)
    with service_for(ctx) as service:
        day: date | None = None
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise InputError(f"--as-of {as_of!r}: give a date as YYYY-MM-DD") from None
        margin = _margin(fragile_margin)
        now = service.broker.now()  # market hours follow the broker's clock
        market_open = day is None and service.market(now).is_open
        blend = evaluate_files(service.broker, now, files, day, margin, market_open=market_open)
        if any(r.synthetic for r, _ in blend.results) and opts.verbosity >= 0:
            sys.stderr.write(
                "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, "
                "not market data\n"
            )
        if json_out:
            document = TARGETS_ADAPTER.dump_python(targets_document(blend), mode="json")
            sys.stdout.write(redact(dumps(document)) + "\n")
        else:
            render_signal(console(), blend)


__all__ = ["DEFAULT_FRAGILE_MARGIN", "signal"]
