"""The backtest's records and figures; the run itself is `core/backtest_run.py`. Pure.

Conventions (README "Backtest"):

* Sessions are the dates any traded symbol has a close on, from `start` to `end`.
* On each session the targets are decided on the bars through the PREVIOUS session's close
  (the strategy never sees the close it trades at), then the planner (`build_plan`, the
  same as `alch plan`: bands, whole shares, minimum trade, reserve, collar, fees) plans
  against the simulated holdings, and every order fills at that session's close plus the
  half-spread: buys at `close * (1 + spread/2)`, sells at `close * (1 - spread/2)` less the
  SEC/FINRA fees, exactly the prices and costs the planner estimates (its quote is that
  bid/ask, so its `est_cost` is what the fill costs).
* Holdings are valued at the close. Sale proceeds settle the next session (T+1); buys that
  spend unsettled proceeds are counted (allowed in a cash account, as the live checks
  assume).
* Decimal throughout, no clock: the same inputs give the same result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, localcontext

from alchemiser_cli.core.metrics import Metrics, Relative, daily_returns, describe, relative
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ONE, ZERO
from alchemiser_cli.core.policy import PlannerPolicy

TRADING_DAYS = Decimal(252)
DAYS_PER_YEAR = Decimal("365.25")
TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class Setup:
    """What a backtest is asked: the period, the money, the planner and the cost model."""

    start: date
    end: date
    cash: Decimal
    policy: PlannerPolicy
    spread_bps: Decimal = ZERO  # the full bid/ask spread, in basis points of the close
    whole_shares: bool = False  # every symbol trades in whole shares
    risk_free: Decimal = ZERO  # annual rate for Sharpe and Sortino
    source: str = "backtest"


@dataclass(frozen=True, slots=True)
class Trade:
    """One simulated fill."""

    day: date
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    value: Decimal
    cost: Decimal  # half-spread plus fees: what the fill lost against the close
    fees: Decimal
    limit: Decimal = ZERO  # the order's limit price: a buy fills at or below, a sell above


@dataclass(frozen=True, slots=True)
class SessionPoint:
    """The account at one session's close, after that session's trades."""

    day: date
    equity: Decimal
    cash: Decimal
    invested: Decimal
    traded: Decimal  # buys + sells
    costs: Decimal
    targets: dict[str, Decimal]
    values: dict[str, Decimal] = field(default_factory=dict)  # each holding at the close


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest fall from a peak: its depth (negative) and its dates."""

    depth: Decimal
    peak: date | None
    trough: date | None
    recovered: date | None


@dataclass(frozen=True, slots=True)
class Stats:
    """Performance statistics of one equity series (the table and the JSON read these)."""

    start_value: Decimal
    end_value: Decimal
    total_return: Decimal
    cagr: Decimal | None
    volatility: Decimal | None
    sharpe: Decimal | None
    sortino: Decimal | None
    max_drawdown: Drawdown
    calmar: Decimal | None
    turnover_per_year: Decimal
    costs: Decimal
    orders: int
    time_in_market: Decimal
    yearly_returns: dict[int, Decimal]
    metrics: Metrics | None = None  # the tearsheet's figures (core/metrics.py)
    relative: Relative | None = None  # against the benchmark, when there is one


@dataclass(frozen=True, slots=True)
class Backtest:
    """The whole result: sessions, trades and the statistics (and the benchmark's)."""

    setup: Setup
    sessions: tuple[SessionPoint, ...]
    trades: tuple[Trade, ...]
    stats: Stats
    benchmark: str | None
    benchmark_equity: tuple[Decimal, ...] | None
    benchmark_stats: Stats | None
    unsettled_buys: int  # sessions whose buys spent proceeds not yet settled (T+1)


def against(
    stats: Stats, equity: Sequence[Decimal], bench: Sequence[Decimal], risk_free: Decimal
) -> Stats:
    """`stats` with its figures against the benchmark's equity over the same sessions."""
    mine = daily_returns(stats.start_value, equity)
    theirs = daily_returns(stats.start_value, bench)
    return replace(stats, relative=relative(mine, theirs, risk_free))


def _stdev(values: Sequence[Decimal], mean: Decimal) -> Decimal | None:
    if len(values) < 2:
        return None
    return (sum(((v - mean) ** 2 for v in values), ZERO) / (len(values) - 1)).sqrt()


def max_drawdown(start_value: Decimal, days: Sequence[date], equity: Sequence[Decimal]) -> Drawdown:
    """The deepest fall from a running peak (the start value counts as the first peak)."""
    peak, peak_day = start_value, None
    worst = Drawdown(ZERO, None, None, None)
    worst_peak = start_value
    for day, value in zip(days, equity, strict=True):
        if value >= peak:
            if worst.trough is not None and worst.recovered is None and value >= worst_peak:
                worst = Drawdown(worst.depth, worst.peak, worst.trough, day)
            peak, peak_day = value, day
            continue
        depth = value / peak - ONE
        if depth < worst.depth:
            worst = Drawdown(depth, peak_day or days[0], day, None)
            worst_peak = peak
    return worst


def drawdowns(start_value: Decimal, equity: Sequence[Decimal]) -> list[Decimal]:
    """The drawdown at each point: value / running peak - 1 (zero or negative)."""
    out: list[Decimal] = []
    peak = start_value
    for value in equity:
        peak = max(peak, value)
        out.append(value / peak - ONE)
    return out


def performance(
    start_value: Decimal,
    points: Sequence[SessionPoint],
    trades: Sequence[Trade],
    risk_free: Decimal,
) -> Stats:
    """Total return, CAGR, volatility, Sharpe, Sortino, drawdown, Calmar, turnover, costs,
    orders, time in market and yearly returns of one equity series (see README)."""
    with localcontext() as ctx:
        ctx.prec = 28
        days = [p.day for p in points]
        equity = [p.equity for p in points]
        end_value = equity[-1]
        total_return = end_value / start_value - ONE
        returns: list[Decimal] = []
        last = start_value
        for value in equity:
            returns.append(value / last - ONE if last else ZERO)
            last = value
        years = Decimal((days[-1] - days[0]).days) / DAYS_PER_YEAR
        cagr = None
        if years > 0 and end_value > 0:
            cagr = (end_value / start_value) ** (ONE / years) - ONE
        mean = sum(returns, ZERO) / len(returns)
        sd = _stdev(returns, mean)
        root = TRADING_DAYS.sqrt()
        daily_rf = risk_free / TRADING_DAYS
        volatility = sd * root if sd is not None else None
        sharpe = (mean - daily_rf) / sd * root if sd else None
        downside = (
            sum((min(ZERO, r - daily_rf) ** 2 for r in returns), ZERO) / len(returns)
        ).sqrt()
        sortino = (mean - daily_rf) / downside * root if downside else None
        dd = max_drawdown(start_value, days, equity)
        calmar = cagr / -dd.depth if cagr is not None and dd.depth < 0 else None
        traded = sum((p.traded for p in points), ZERO)
        mean_equity = sum(equity, ZERO) / len(equity)
        turnover = traded / TWO / mean_equity if mean_equity else ZERO
        if years >= 1:
            turnover /= years
        in_market = Decimal(sum(1 for p in points if p.invested > 0)) / len(points)
        yearly: dict[int, Decimal] = {}
        base = start_value
        for day, value in zip(days, equity, strict=True):
            yearly[day.year] = value  # the year's last value, replaced day by day
        for year in sorted(yearly):
            end = yearly[year]
            yearly[year] = end / base - ONE
            base = end
        return Stats(
            start_value=start_value,
            end_value=end_value,
            total_return=total_return,
            cagr=cagr,
            volatility=volatility,
            sharpe=sharpe,
            sortino=sortino,
            max_drawdown=dd,
            calmar=calmar,
            turnover_per_year=turnover,
            costs=sum((p.costs for p in points), ZERO),
            orders=len(trades),
            time_in_market=in_market,
            yearly_returns=yearly,
            metrics=describe(start_value, days, equity),
        )
