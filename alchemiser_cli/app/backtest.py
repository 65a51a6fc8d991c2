"""`backtest`: fetch the bars through the broker's `daily_bars`, run the pure backtest
(`core/backtest.py`) with the configured planner, and hand back its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.signal import read_strategies
from alchemiser_cli.core.backtest import Backtest, Setup
from alchemiser_cli.core.backtest_run import Progress, run_backtest, session_days
from alchemiser_cli.core.strategy.band import strategy_band
from alchemiser_cli.core.strategy.evaluate import BlendRun
from alchemiser_cli.core.strategy.program import (
    compile,
    history,
    tightest_threshold,
    within_lookback,
)
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import InputError

# Bars read before --from: a static allocation needs only the previous close; strategies,
# their programs' lookback (`program.history`: every indicator fully warmed up on the
# first session).
TARGETS_WARMUP = timedelta(days=10)
BAR_BATCH = 20  # symbols per daily_bars call: the unit of the download's progress
LATE_START = timedelta(days=7)  # a first session this far after --from is worth a note


def on_schedule(blend: BlendRun, days: list[date]) -> Callable[[date], dict[str, Decimal] | None]:
    """The backtest's decision on the close of each session: the blend's weights when the
    next session trades (the first always; then when it opens a period of a strategy's
    `:rebalance-frequency`), None (hold) when it does not."""
    following = dict(pairwise(days))
    first = days[0] if days else None

    def decide(prev: date) -> dict[str, Decimal] | None:
        day = following.get(prev)
        if prev != first and day is not None and not blend.due(prev, day):
            return None
        return blend.weights(prev)

    return decide


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
        programs = [(compile(s), w) for s, w in read_strategies(list(req.strategies))]
        universe = sorted({sym for p, _ in programs for sym in p.symbols})
        warmup = history([p for p, _ in programs])
        policy = strategy_band(policy, tightest_threshold([p for p, _ in programs]))
        source = ", ".join(req.strategies)
    elif req.targets is not None:
        weights = dict(req.targets.weights)
        universe = sorted(weights)
        warmup = TARGETS_WARMUP
        source = req.targets.source
    else:
        raise InputError("give --strategy FILE (repeatable) or --targets FILE")
    symbols = set(universe)
    if req.benchmark is not None:
        symbols.add(req.benchmark)
    bars = read_bars(rt, sorted(symbols), req.start - warmup, req.end, on_bars)
    days = session_days(bars, universe, req.start, req.end)  # days[0]: the first decided
    if req.strategies and days:
        bars = within_lookback(bars, [p for p, _ in programs], days[0])
    decide = (
        on_schedule(BlendRun(programs, bars, days[0] if days else None), days)
        if req.strategies
        else lambda _day: weights
    )

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
