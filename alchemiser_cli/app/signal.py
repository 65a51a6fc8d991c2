"""Strategies as a source of targets: read the files, fetch the bars, evaluate and blend.

The evaluation itself is pure (`core/strategy`); this use case only reads the strategy
files, asks the broker for the bars each compiled program needs (its `lookback`: one rule,
`program.history`), with the market open the latest trades, decides the as-of date, and
says whether a run on the next session is on the strategies' schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.strategy import frequency
from alchemiser_cli.core.strategy.evaluate import Blend, explain_blend
from alchemiser_cli.core.strategy.nodes import Symphony
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.program import Program, compile, history
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import InputError
from alchemiser_cli.files import read_text

log = logging.getLogger(__name__)
HOLE = timedelta(days=31)  # more than a month without a close: not a holiday, a hole


def read_strategies(args: list[str], source: str = "--strategy") -> list[tuple[Symphony, Decimal]]:
    """Parse `FILE` or `FILE=weight` arguments; without weights the blend is equal. Given
    weights add up to 1, with `cash=W` (or `cash = W` in `[strategies]`) for what the
    strategies leave in cash: a blend that silently held cash would trade less than asked."""
    parsed: list[tuple[Symphony, Decimal | None]] = []
    cash: Decimal | None = None
    for arg in args:
        path, weight = arg, None
        if "=" in arg:
            path, raw = arg.rsplit("=", 1)
            weight = _blend_weight(arg, raw, cash=path.strip().lower() == "cash")
        if path.strip().lower() == "cash" and weight is not None:
            cash = weight
            continue
        text = read_text(Path(path), "strategy")
        parsed.append((parse_symphony(text, path), weight))
    if not parsed:
        raise InputError(f"{source}: cash alone is no strategy: name at least one strategy file")
    given = [w for _, w in parsed if w is not None]
    if given and len(given) != len(parsed):
        raise InputError("give a weight to every strategy file (FILE=0.6) or to none")
    held = Decimal(1) - (cash or Decimal(0))
    if given:
        _adds_up(sum(given, Decimal(0)), cash, source)
    equal = held / len(parsed)
    return [(s, w if w is not None else equal) for s, w in parsed]


def _blend_weight(arg: str, raw: str, *, cash: bool) -> Decimal:
    """One `=weight` of a blend: a number or a percentage, above 0 (cash: at least 0) and
    at most 1."""
    try:
        weight = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
    except InvalidOperation:
        raise InputError(f"{arg}: the weight after = must be a number like 0.6 or 60%") from None
    low = "at least 0" if cash else "above 0"
    if not (weight.is_finite() and (weight >= 0 if cash else weight > 0) and weight <= 1):
        raise InputError(f"{arg}: the weight after = must be {low} and at most 1")
    return weight


def _adds_up(total: Decimal, cash: Decimal | None, source: str) -> None:
    """Given blend weights (and cash) must add up to exactly 1."""
    config = source.startswith("[")
    label = f"the {source}" if source != "signal" else "the strategy"
    if cash is None and total != 1:
        rest = Decimal(1) - total
        hint = (
            f"cash = {fmt(rest)}"
            if config
            else f"{'--strategy ' if source != 'signal' else ''}cash={fmt(rest)}"
        )
        if rest < 0:
            raise InputError(f"{label} weights add up to {fmt(total * 100)}%, more than 100%")
        raise InputError(
            f"{label} weights add up to {fmt(total * 100)}%: give the rest to cash ({hint}) "
            "or raise a weight"
        )
    if cash is not None and total + cash != 1:
        raise InputError(
            f"{label} weights and cash add up to {fmt((total + cash) * 100)}%, not 100%"
        )


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
    notes: list[str] | None = None,
) -> Blend:
    """Fetch the bars through `end` and evaluate and blend the strategies; with `live`
    (the market open, not the simulator), `current-price` is the latest trade. `notes`
    hears of holes in the bars."""
    programs = [(compile(s), w) for s, w in strategies]
    bars = strategy_bars(broker, [p for p, _ in programs], end, end)
    symbols = sorted(bars)
    prices = latest_trades(broker, symbols) if live and broker.name != "sim" else None
    blend = explain_blend(programs, bars, end, fragile_margin=margin, live_prices=prices)
    if notes is not None:
        notes.extend(n for n in holes(bars) if n not in notes)
    return blend


def off_schedule(
    rt: Runtime, strategies: Sequence[tuple[str, str | None]], decided: date
) -> tuple[str, date] | None:
    """Why the next session is not a rebalance session for any of the strategies (each a
    file and its `:rebalance-frequency`, decided on `decided`'s close), and the next one
    that is; None when one of them trades on it."""
    trading = rt.market(rt.broker.now()).next_session.day
    freqs = [f for _, f in strategies]
    if any(frequency.due(f, decided, trading) for f in freqs):
        return None
    coming = min(rt.first_session_from(frequency.next_period(f, trading)) for f in freqs)
    rules = "; ".join(f"{file} rebalances :{f}, {frequency.describe(f)}" for file, f in strategies)
    why = (
        f"{trading.isoformat()} is not a rebalance session ({rules}); the next rebalance is "
        f"{coming.isoformat()}"
    )
    return why, coming


def scheduled(rt: Runtime, targets: Targets) -> Targets:
    """Targets read from a signal document (`alch signal --json | ... --targets -`) keep
    their strategies' schedule: the document names each strategy's `:rebalance-frequency`
    and the close it decided on, so this run decides off-schedule as `--strategy` does."""
    record = targets.signal
    if record is None or record.off_schedule is not None:
        return targets
    rules = [(s.file, s.rebalance_frequency) for s in record.strategies]
    schedule = off_schedule(rt, rules, record.as_of)
    if schedule is None:
        return targets
    rt.notices.append(f"not a rebalance session: {schedule[0]}")
    dated = replace(record, off_schedule=schedule[0], next_rebalance=schedule[1])
    return replace(targets, signal=dated)


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


def holes(bars: Mapping[str, Series]) -> list[str]:
    """A note for each stretch of more than a month without a close in a symbol's bars:
    indicators count closes, so they read across it as if the days were consecutive."""
    found = []
    for symbol in sorted(bars):
        dates = bars[symbol].dates
        for before, after in pairwise(dates):
            if after - before > HOLE:
                first, last = _weekday(before, 1), _weekday(after, -1)
                found.append(
                    f"{symbol} has no closes from {first.isoformat()} to {last.isoformat()} "
                    f"({(last - first).days + 1} days): indicators read across the hole as if "
                    "the days were consecutive"
                )
    return found


def _weekday(day: date, step: int) -> date:
    """The first weekday after (step 1) or before (step -1) `day`."""
    day += timedelta(days=step)
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def as_of_for(rt: Runtime, as_of: date | None) -> tuple[date, bool]:
    """The session whose bars a run reads, and whether prices are live: by default the last
    session the calendar closed (after an early close, that day's) on the broker's clock,
    with the latest trades while the market is open; `--as-of` reads history only."""
    if as_of is not None:
        return as_of, False
    now = rt.broker.now()
    return rt.last_session(now), rt.market(now).is_open


def holdable(strategies: list[tuple[Symphony, Decimal]]) -> tuple[str, ...]:
    """Every symbol any branch of the strategies can hold (the tradable check reads them)."""
    return tuple(sorted({sym for s, _ in strategies for sym in compile(s).holdable}))


def signal(
    rt: Runtime, files: list[str], as_of: date | None, margin: Decimal
) -> tuple[Blend, tuple[str, ...]]:
    """The blend of the strategy files as of `as_of` (see `as_of_for`) and every symbol
    they can hold; bars that end before the session asked for are used, with a note."""
    end, live = as_of_for(rt, as_of)
    parsed = read_strategies(files, "signal")
    blend = evaluate_strategies(rt.broker, parsed, end, margin, live=live, notes=rt.notices)
    wanted = rt.last_session_by(end)
    for result, _ in blend.results:
        if result.as_of < wanted:
            rt.notices.append(
                f"{result.file}: its bars end {result.as_of.isoformat()}, before the "
                f"session of {wanted.isoformat()}: the decision is made on stale data"
            )
    return blend, holdable(parsed)
