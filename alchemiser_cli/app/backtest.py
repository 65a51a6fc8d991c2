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
from alchemiser_cli.core.strategy.nodes import symbols_of
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import InputError

# Bars read before --from: a strategy's indicators need their windows filled on the first
# session (400 calendar days hold about 275 sessions); a static allocation needs only the
# previous close.
STRATEGY_WARMUP = timedelta(days=400)
TARGETS_WARMUP = timedelta(days=10)


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


def backtest(rt: Runtime, req: Request, on_progress: Progress | None = None) -> Outcome:
    """Run the backtest of `req` on the broker's daily bars."""
    if req.end < req.start:
        raise InputError(f"--to {req.end.isoformat()} is before --from {req.start.isoformat()}")
    policy = rt.settings.planner
    if req.strategies:
        strategies = read_strategies(list(req.strategies))
        universe = sorted({sym for s, _ in strategies for sym in symbols_of(s.root)})
        warmup = STRATEGY_WARMUP
        thresholds = [s.rebalance_threshold for s, _ in strategies if s.rebalance_threshold]
        if thresholds and not policy.bands_on:
            policy = policy.model_copy(update={"band_abs": min(thresholds)})
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
    bars = rt.broker.daily_bars(sorted(symbols), req.start - warmup, req.end)
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
    return Outcome(result, synthetic=any(s.synthetic for s in bars.values()))
