"""`alch report`: the live account's tearsheet from the broker's daily portfolio history
(time-weighted: deposits and withdrawals are not returns, core/history.py), against a
benchmark, and with `--strategy`/`--targets` against the backtest of that strategy over the
same sessions from the same starting equity: the tracking difference per day, per month
and in total, with the journal's runs marked on the curve."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from alchemiser_cli.app.backtest import Request, backtest
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.backtest import SessionPoint, Stats, against, performance
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.history import GrowthCurve, time_weighted
from alchemiser_cli.core.metrics import daily_returns, period_returns
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents.tearsheet import (
    Overlay,
    RunMark,
    Tearsheet,
    backtest_settings,
    rolling_of,
)
from alchemiser_cli.errors import InputError

DEFAULT_SPAN = timedelta(days=365)
NOT_MARKET = "a demonstration, not market data"
SYNTHETIC_BARS = f"SYNTHETIC ({NOT_MARKET})"


def bar_source(rt: Runtime) -> str:
    """Where the daily bars come from, for a tearsheet's header."""
    if rt.broker.name.startswith("alpaca"):
        return "Alpaca daily bars (adjusted)"
    if rt.settings.sim_bars is not None:
        return f"daily closes from {rt.settings.sim_bars}"
    return "SYNTHETIC"


@dataclass(frozen=True, slots=True)
class ReportRequest:
    """What `alch report` asks, parsed by the command line."""

    start: date | None = None
    end: date | None = None
    strategies: tuple[str, ...] = ()
    targets: Targets | None = None
    benchmark: str | None = None
    spread_bps: Decimal = Decimal(5)
    whole_shares: bool = False
    risk_free: Decimal = ZERO


def _points(days: tuple[date, ...], values: list[Decimal]) -> list[SessionPoint]:
    return [SessionPoint(d, v, ZERO, v, ZERO, ZERO, {}) for d, v in zip(days, values, strict=True)]


def _aligned(
    days: tuple[date, ...], at: list[date], values: list[Decimal], before: Decimal
) -> list[Decimal]:
    """The value on or before each of `days` (`before` ahead of the first)."""
    out = []
    for day in days:
        i = bisect_right(at, day)
        out.append(values[i - 1] if i else before)
    return out


def _benchmark(
    rt: Runtime,
    symbol: str,
    curve: GrowthCurve,
    rf: Decimal,
) -> tuple[list[Decimal], Stats, bool]:
    bars = rt.broker.daily_bars([symbol], curve.days[0] - timedelta(days=10), curve.days[-1])
    series = bars[symbol]
    closes = _aligned(curve.days, list(series.dates), list(series.closes), ZERO)
    if not closes[0]:
        raise InputError(f"the benchmark {symbol} has no close on or before {curve.days[0]}")
    equity = [curve.value[0] * c / closes[0] for c in closes]
    stats = performance(curve.value[0], _points(curve.days, equity), (), rf)
    return equity, stats, series.synthetic


def _overlay(
    rt: Runtime,
    req: ReportRequest,
    curve: GrowthCurve,
    live: Stats,
) -> tuple[Overlay, tuple[tuple[str, str], ...], bool]:
    start = curve.value[0]
    outcome = backtest(
        rt,
        Request(
            start=curve.days[0],
            end=curve.days[-1],
            cash=start,
            strategies=req.strategies,
            targets=req.targets,
            spread_bps=req.spread_bps,
            whole_shares=req.whole_shares,
            risk_free=req.risk_free,
        ),
    )
    bt = outcome.result
    equity = _aligned(
        curve.days, [p.day for p in bt.sessions], [p.equity for p in bt.sessions], start
    )
    stats = performance(start, _points(curve.days, equity), bt.trades, req.risk_free)
    mine = daily_returns(start, curve.value)
    theirs = daily_returns(start, equity)
    months_live = period_returns(start, curve.days, curve.value, monthly=True)
    months_bt = period_returns(start, curve.days, equity, monthly=True)
    overlay = Overlay(
        label=f"backtest of {bt.setup.source}",
        equity=tuple(equity),
        tracking_daily=tuple(a - b for a, b in zip(mine, theirs, strict=True)),
        tracking_monthly={k: v - months_bt[k] for k, v in months_live.items()},
        tracking_total=live.total_return - stats.total_return,
        backtest_stats=stats,
    )
    settings = backtest_settings(bt, outcome.synthetic, bar_source(rt))
    return overlay, settings, outcome.synthetic


def _runs(rt: Runtime, account_id: str, first: date) -> tuple[RunMark, ...]:
    since = datetime.combine(first, time(), NEW_YORK).astimezone(UTC)
    marks = []
    for run in rt.journal.runs_since(account_id, since, "execute"):
        at = datetime.fromisoformat(run.started_at).astimezone(NEW_YORK).date()
        marks.append(RunMark(at, f"run {run.run_id[:8]}: {run.outcome}"))
    return tuple(marks)


def live_report(rt: Runtime, req: ReportRequest) -> Tearsheet:
    """The live account's tearsheet (see the module)."""
    today = rt.broker.now().astimezone(NEW_YORK).date()
    end = req.end or today
    if end > today:  # the simulator would value its account on closes of days to come
        rt.notices.append(f"--to {end.isoformat()} is after today: the report ends {today}")
        end = today
    start = req.start or end - DEFAULT_SPAN
    if start > today:
        raise InputError(f"--from {start.isoformat()} is after today ({today})")
    if end < start:
        raise InputError(f"--to {end.isoformat()} is before --from {start.isoformat()}")
    history = rt.broker.portfolio_history(start, end)
    curve = time_weighted(history)
    if len(curve.days) < 2:
        raise InputError(
            f"the account's history from {start} to {end} has fewer than two sessions with "
            "equity: nothing to measure yet"
        )
    value = list(curve.value)
    stats = performance(value[0], _points(curve.days, value), (), req.risk_free)
    bench_equity: list[Decimal] | None = None
    bench_stats = None
    source = bar_source(rt)
    synthetic = source == "SYNTHETIC"  # the simulator values its account at these closes
    if req.benchmark is not None:
        bench_equity, bench_stats, made_up = _benchmark(rt, req.benchmark, curve, req.risk_free)
        synthetic = synthetic or made_up
        stats = against(stats, value, bench_equity, req.risk_free)
    account = rt.broker.account().account_id
    settings: tuple[tuple[str, str], ...] = (
        ("account", f"{account} on {rt.broker.name}"),
        ("period", f"{curve.days[0]} to {curve.days[-1]} ({len(curve.days)} sessions)"),
        ("starting equity", f"{value[0]:,.2f}"),
        ("deposits less withdrawals", f"{history.net_flows:,.2f} (not counted as returns)"),
        ("benchmark", req.benchmark or "none"),
    )
    overlay = None
    if req.strategies or req.targets is not None:
        overlay, bt_settings, made_up = _overlay(rt, req, curve, stats)
        synthetic = synthetic or made_up
        skip = {"period", "starting cash", "benchmark", "bars"}
        settings += tuple((f"backtest {k}", v) for k, v in bt_settings if k not in skip)
    settings += (("bars", SYNTHETIC_BARS if synthetic else source),)
    if synthetic:
        rt.notices.append(f"synthetic bars (ALCH_SIM_BARS is unset): {NOT_MARKET}")
    title = f"Live account {account}, {curve.days[0]} to {curve.days[-1]}"
    if overlay is not None:
        title += f", against the {overlay.label}"
    sheet = Tearsheet(
        title=title,
        settings=settings,
        synthetic=synthetic,
        days=curve.days,
        equity=curve.value,
        stats=stats,
        benchmark=req.benchmark,
        benchmark_equity=tuple(bench_equity) if bench_equity is not None else None,
        benchmark_stats=bench_stats,
        rolling=rolling_of(stats, value, bench_equity, req.risk_free),
        overlay=overlay,
        runs=_runs(rt, account, curve.days[0]),
        notes=(
            "The curve is the first day's equity grown at the account's time-weighted "
            "daily returns: deposits and withdrawals are not returns.",
        ),
    )
    return sheet
