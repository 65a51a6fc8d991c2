"""`backtest --replay-journal`: the journal's live runs held against the backtest's day.

Reads each execute run's journaled plan (targets, holdings and cash it started from, the
planner policy it used) and its orders with their fills, fetches the bars through the
broker's `daily_bars`, and compares with `core/backtest_replay.py`.
"""

from __future__ import annotations

import contextlib
from bisect import bisect_left
from datetime import date, timedelta
from decimal import Decimal

from pydantic import ValidationError

from alchemiser_cli.app.backtest import TARGETS_WARMUP
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.signal import read_strategies
from alchemiser_cli.brokers.bars import BarsError
from alchemiser_cli.core.backtest_replay import LiveOrder, LiveRun, RunReplay, replay_run
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.evaluate import BlendRun
from alchemiser_cli.core.strategy.program import compile, history
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents import PLAN_ADAPTER
from alchemiser_cli.errors import InputError, JournalError
from alchemiser_cli.journal.records import RunRecord


def _live_run(
    rt: Runtime, record: RunRecord, stored: dict[str, object]
) -> tuple[LiveRun, PlannerPolicy]:
    try:
        plan = PLAN_ADAPTER.validate_python(stored)
    except ValidationError:
        raise JournalError(
            f"journal: run {record.run_id} has a plan this version cannot read"
        ) from None
    orders = tuple(
        LiveOrder(
            o.symbol,
            Side(o.side),
            Decimal(o.qty),
            Decimal(o.filled_qty or 0),
            Decimal(o.filled_avg_price) if o.filled_avg_price else None,
        )
        for o in rt.journal.orders_for_run(record.run_id)
    )
    run = LiveRun(
        run_id=record.run_id,
        day=plan.created_at.astimezone(NEW_YORK).date(),
        at=plan.created_at,
        outcome=record.outcome,
        targets=dict(plan.targets),
        holdings={p.symbol: p.qty for p in plan.positions if p.qty},
        cash=plan.account.cash,
        orders=orders,
    )
    return run, plan.policy


def _previous(series: Series, day: date) -> date | None:
    i = bisect_left(series.dates, day)
    return series.dates[i - 1] if i else None


def _bars(rt: Runtime, symbols: list[str], start: date, end: date) -> dict[str, Series]:
    """The daily bars of `symbols`; one without bars (no CSV under ALCH_SIM_BARS) is left
    out, so its orders are "not replayed" instead of failing the whole replay."""
    try:
        return rt.broker.daily_bars(symbols, start, end)
    except BarsError:
        found: dict[str, Series] = {}
        for symbol in symbols:
            with contextlib.suppress(BarsError):
                found |= rt.broker.daily_bars([symbol], start, end)
        return found


def replay_journal(
    rt: Runtime,
    strategies: tuple[str, ...],
    targets: Targets | None,
    spread_bps: Decimal,
    runs: int,
    *,
    whole_shares: bool = False,
) -> tuple[list[RunReplay], bool]:
    """Each of the newest `runs` live runs that sent orders (oldest first) against the
    backtest's day, and whether the closes were synthetic. With neither strategies nor
    targets, each run is replayed on its own targets (then only orders and fill prices
    can differ)."""
    journaled = rt.journal.executed_plans(runs)
    if not journaled:
        raise InputError(
            "the journal has no executed run that sent orders to replay: run `alch execute` first"
        )
    lives = [_live_run(rt, record, stored) for record, stored in journaled]
    programs = [(compile(s), w) for s, w in read_strategies(list(strategies))] if strategies else []
    symbols: set[str] = set()
    for run, _ in lives:
        symbols |= set(run.targets) | set(run.holdings)
    if programs:
        symbols |= {sym for p, _ in programs for sym in p.symbols}
        warmup = history([p for p, _ in programs])
    else:
        warmup = TARGETS_WARMUP
    if targets is not None:
        symbols |= set(targets.weights)
    first = min(run.day for run, _ in lives)
    last = max(run.day for run, _ in lives)
    bars = _bars(rt, sorted(symbols), first - warmup - timedelta(days=10), last)
    blend = BlendRun(programs, bars) if programs else None
    out: list[RunReplay] = []
    for run, policy in lives:
        if blend is not None:
            reference = max(bars, key=lambda s: len(bars[s].dates))
            before = _previous(bars[reference], run.day)
            if before is None:
                raise InputError(f"no bars before {run.day.isoformat()} to decide run {run.run_id}")
            weights = blend.weights(before)
        elif targets is not None:
            weights = dict(targets.weights)
        else:
            weights = dict(run.targets)
        closes = {
            s: series.closes[series.dates.index(run.day)]
            for s, series in bars.items()
            if run.day in series.dates
        }
        out.append(replay_run(run, weights, closes, policy, spread_bps, whole_shares=whole_shares))
    return out, any(series.synthetic for series in bars.values())
