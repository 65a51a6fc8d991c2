"""`backtest`: fetch the bars through the broker's `daily_bars`, run the pure backtest
(`core/backtest.py`) with the configured planner, and hand back its result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.signal import read_strategies
from alchemiser_cli.core.backtest import Backtest, Progress, Setup, run_backtest
from alchemiser_cli.core.strategy.evaluate import targets_from_strategies
from alchemiser_cli.core.strategy.indicators import required_bars
from alchemiser_cli.core.strategy.nodes import (
    Filter,
    If,
    Indicator,
    Symphony,
    WeightInverseVolatility,
    symbols_of,
    walk,
)
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import InputError

# Bars read before --from: a static allocation needs only the previous close; a strategy,
# every indicator's window filled on the first session (see `warmup`).
TARGETS_WARMUP = timedelta(days=10)
BAR_BATCH = 20  # symbols per daily_bars call: the unit of the download's progress
LATE_START = timedelta(days=7)  # a first session this far after --from is worth a note


def warmup(symphonies: list[Symphony]) -> timedelta:
    """Calendar days of history before --from that fill every indicator on the first
    session: the longest indicator read, plus the longest filter or inverse-volatility
    window (a filter over groups scores each group's re-evaluated series over its window),
    at 252 sessions to 365 days, with a margin for holidays."""
    reads, windows = 1, 0
    for symphony in symphonies:
        for node in walk(symphony.root):
            if isinstance(node, If):
                for side in (node.condition.lhs, node.condition.rhs):
                    if isinstance(side, Indicator):
                        reads = max(reads, required_bars(side.name, side.window))
            elif isinstance(node, Filter):
                reads = max(reads, required_bars(node.indicator.name, node.indicator.window))
                windows = max(windows, node.indicator.window or 1)
            elif isinstance(node, WeightInverseVolatility):
                reads = max(reads, node.window + 1)
                windows = max(windows, node.window)
    return timedelta(days=(reads + windows + 1) * 365 // 252 + 15)


@dataclass(frozen=True, slots=True)
class Request:
    """What `alch backtest` asks, parsed by the command line."""

    start: date
    end: date
    cash: Decimal
    strategies: tuple[str, ...] = ()
    targets: Targets | None = None
    benchmark: str | None = None
    spread_bps: Decimal = Decimal(0)
    whole_shares: bool = False
    risk_free: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The backtest and where its bars came from."""

    result: Backtest
    synthetic: bool


def _note_short_data(rt: Runtime, result: Backtest, end: date) -> None:
    """Say so when the bars stop before the last session `--to` asks for (never silent)."""
    if not result.sessions:
        return
    wanted = rt.last_session_by(end)
    last = result.sessions[-1].day
    if last < wanted:
        rt.notices.append(
            f"the bars end {last.isoformat()}: the backtest stops there, not at the session "
            f"of {wanted.isoformat()} that --to asks for"
        )


def _note_late_start(rt: Runtime, result: Backtest, start: date, bars: dict[str, Series]) -> None:
    """Say so when the bars begin well after `--from` (1975 starting in 1990 silently)."""
    if not result.sessions:
        return
    first = result.sessions[0].day
    if first - start > LATE_START:
        began = min((s.dates[0] for s in bars.values() if s.dates), default=first)
        rt.notices.append(
            f"the bars start {began.isoformat()}: the backtest starts on {first.isoformat()}, "
            f"not at the session of {start.isoformat()} that --from asks for"
        )


def read_bars(
    rt: Runtime, symbols: list[str], start: date, end: date, on_bars: Progress | None
) -> dict[str, Series]:
    """The daily bars of `symbols`, read BAR_BATCH symbols at a time so that a long
    download (Alpaca, cold cache) can show its progress."""
    bars: dict[str, Series] = {}
    for first in range(0, len(symbols), BAR_BATCH):
        bars.update(rt.broker.daily_bars(symbols[first : first + BAR_BATCH], start, end))
        if on_bars is not None:
            on_bars(min(first + BAR_BATCH, len(symbols)), len(symbols))
    return bars


def backtest(
    rt: Runtime,
    req: Request,
    on_progress: Progress | None = None,
    on_bars: Progress | None = None,
) -> Outcome:
    """Run the backtest of `req` on the broker's daily bars. `on_bars(done, total)` hears
    of the symbols whose bars are read, `on_progress(done, total)` of the sessions run."""
    if req.end < req.start:
        raise InputError(f"--to {req.end.isoformat()} is before --from {req.start.isoformat()}")
    policy = rt.settings.planner
    if req.strategies:
        strategies = read_strategies(list(req.strategies))
        universe = sorted({sym for s, _ in strategies for sym in symbols_of(s.root)})
        history = warmup([s for s, _ in strategies])
        thresholds = [s.rebalance_threshold for s, _ in strategies if s.rebalance_threshold]
        if thresholds and not policy.bands_on:
            policy = policy.model_copy(update={"band_abs": min(thresholds)})
        source = ", ".join(req.strategies)
    elif req.targets is not None:
        weights = dict(req.targets.weights)
        universe = sorted(weights)
        history = TARGETS_WARMUP
        source = req.targets.source
    else:
        raise InputError("give --strategy FILE (repeatable) or --targets FILE")
    symbols = set(universe)
    if req.benchmark is not None:
        symbols.add(req.benchmark)
    bars = read_bars(rt, sorted(symbols), req.start - history, req.end, on_bars)
    if req.strategies:

        def decide(day: date) -> dict[str, Decimal]:
            return targets_from_strategies(strategies, bars, day).weights

    else:

        def decide(day: date) -> dict[str, Decimal]:
            return weights

    setup = Setup(
        start=req.start,
        end=req.end,
        cash=req.cash,
        policy=policy,
        spread_bps=req.spread_bps,
        whole_shares=req.whole_shares,
        risk_free=req.risk_free,
        source=source,
    )
    result = run_backtest(
        bars, universe, decide, setup, benchmark=req.benchmark, on_progress=on_progress
    )
    _note_late_start(rt, result, req.start, bars)
    _note_short_data(rt, result, req.end)
    return Outcome(result, synthetic=any(s.synthetic for s in bars.values()))
