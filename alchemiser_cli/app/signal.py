"""Strategies as a source of targets: read the files, fetch the bars, evaluate and blend.

The evaluation itself is pure (`core/strategy`); this use case only reads the strategy
files, asks the broker for the bars each compiled program needs (its `lookback`: one rule,
`program.history`), with the market open the latest trades, decides the as-of date, and
says whether a run on the next session is on the strategies' schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.core.strategy import frequency
from alchemiser_cli.core.strategy.evaluate import Blend, explain_blend
from alchemiser_cli.core.strategy.nodes import Symphony
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.program import Program, compile, history
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.errors import InputError
from alchemiser_cli.files import read_text

log = logging.getLogger(__name__)


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


def latest_trades(broker: Broker, symbols: list[str]) -> dict[str, Decimal]:
    """The last trade of each symbol (the mid of a two-sided quote when none is reported)."""
    out: dict[str, Decimal] = {}
    for symbol, quote in broker.quotes(symbols).items():
        if quote.last > 0:
            out[symbol] = quote.last
        elif quote.bid > 0 and quote.ask >= quote.bid:
            out[symbol] = (quote.bid + quote.ask) / 2
    return out


def strategy_bars(
    broker: Broker, programs: Sequence[Program], first: date, end: date
) -> dict[str, Series]:
    """The bars every program reads to decide on sessions from `first` to `end`: from its
    lookback before `first` (as far back as the source has; the engine reads no further
    back if it has more: `program.within_lookback`)."""
    symbols = sorted({sym for p in programs for sym in p.symbols})
    return broker.daily_bars(symbols, first - history(programs), end)


def evaluate_strategies(
    broker: Broker,
    strategies: list[tuple[Symphony, Decimal]],
    end: date,
    margin: Decimal,
    *,
    live: bool = False,
) -> Blend:
    """Fetch the bars through `end` and evaluate and blend the strategies; with `live`
    (the market open, not the simulator), `current-price` is the latest trade."""
    programs = [(compile(s), w) for s, w in strategies]
    bars = strategy_bars(broker, [p for p, _ in programs], end, end)
    symbols = sorted(bars)
    prices = latest_trades(broker, symbols) if live and broker.name != "sim" else None
    return explain_blend(programs, bars, end, fragile_margin=margin, live_prices=prices)


def off_schedule(
    rt: Runtime, strategies: Sequence[tuple[Symphony, Decimal]], decided: date
) -> tuple[str, date] | None:
    """Why the next session is not a rebalance session for any of the strategies (decided
    on `decided`'s close), and the next one that is; None when one of them trades on it."""
    trading = rt.market(rt.broker.now()).next_session.day
    freqs = [s.rebalance_frequency for s, _ in strategies]
    if any(frequency.due(f, decided, trading) for f in freqs):
        return None
    coming = min(rt.first_session_from(frequency.next_period(f, trading)) for f in freqs)
    rules = "; ".join(
        f"{s.file} rebalances :{s.rebalance_frequency}, {frequency.describe(s.rebalance_frequency)}"
        for s, _ in strategies
    )
    why = (
        f"{trading.isoformat()} is not a rebalance session ({rules}); the next rebalance is "
        f"{coming.isoformat()}"
    )
    return why, coming


def schedule_guard(rt: Runtime, signal: SignalRecord | None, force: bool) -> str | None:
    """A fresh `execute` of strategies off their schedule does nothing (the cron keeps
    running daily and trades on the rebalance session); `--force` trades anyway, loudly."""
    if signal is None or signal.off_schedule is None:
        return None
    if force:
        bypass = f"bypassed by --force: {signal.off_schedule}"
        log.warning(bypass)
        rt.notices.append(bypass)
        return None
    return f"nothing to do: {signal.off_schedule}; --force trades anyway"


def as_of_for(rt: Runtime, as_of: date | None) -> tuple[date, bool]:
    """The session whose bars a run reads, and whether prices are live: by default the last
    session the calendar closed (after an early close, that day's) on the broker's clock,
    with the latest trades while the market is open; `--as-of` reads history only."""
    if as_of is not None:
        return as_of, False
    now = rt.broker.now()
    return rt.last_session(now), rt.market(now).is_open


def signal(rt: Runtime, files: list[str], as_of: date | None, margin: Decimal) -> Blend:
    """The blend of the strategy files as of `as_of` (see `as_of_for`); bars that end
    before the session asked for are used, with a note saying so."""
    end, live = as_of_for(rt, as_of)
    blend = evaluate_strategies(rt.broker, read_strategies(files), end, margin, live=live)
    wanted = rt.last_session_by(end)
    for result, _ in blend.results:
        if result.as_of < wanted:
            rt.notices.append(
                f"{result.file}: its bars end {result.as_of.isoformat()}, before the "
                f"session of {wanted.isoformat()}: the decision is made on stale data"
            )
    return blend
