"""The backtest: the real planner, session by session, over daily closes. Pure.

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

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, localcontext

from alchemiser_cli.core.metrics import Metrics, Relative, daily_returns, describe, relative
from alchemiser_cli.core.models import Account, Asset, Position, Quote, Side, Snapshot
from alchemiser_cli.core.money import BPS, ONE, ZERO
from alchemiser_cli.core.plan import PlannedOrder
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.ticks import grid_nearest, grid_quote
from alchemiser_cli.errors import InputError, PlanError

TRADING_DAYS = Decimal(252)
DAYS_PER_YEAR = Decimal("365.25")
TWO = Decimal(2)
CLOSE = time(21, 0, tzinfo=UTC)  # the session's close, for the plan's timestamp only

# Decides the target weights on the bars through the given date (the previous session);
# None holds: the session trades nothing (a strategy off its `:rebalance-frequency`).
TargetsFn = Callable[[date], Mapping[str, Decimal] | None]
Progress = Callable[[int, int], None]


class BacktestError(InputError):
    """A backtest cannot run on these inputs (no sessions, a symbol without a price)."""


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


def _aligned(series: Series, days: Sequence[date]) -> list[Decimal | None]:
    """The close on each day, carried forward over a missing day; None before the first."""
    out: list[Decimal | None] = []
    dates, closes = series.dates, series.closes
    for day in days:
        i = bisect_right(dates, day)
        out.append(closes[i - 1] if i else None)
    return out


def session_days(
    bars: Mapping[str, Series], symbols: Sequence[str], start: date, end: date
) -> list[date]:
    """Every date in [start, end] any of `symbols` has a close on, with the one before."""
    found: set[date] = set()
    for symbol in symbols:
        series = bars.get(symbol)
        if series is not None:
            found.update(d for d in series.dates if d <= end)
    every = sorted(found)
    first = next((i for i, d in enumerate(every) if d >= start), len(every))
    if first == 0 and every:
        first = 1  # the first session needs a previous close to decide on
    return every[max(first - 1, 0) :]


def run_backtest(
    bars: Mapping[str, Series],
    universe: Sequence[str],
    decide: TargetsFn,
    setup: Setup,
    *,
    benchmark: str | None = None,
    on_progress: Progress | None = None,
) -> Backtest:
    """Simulate `setup` over the sessions of `universe` (see the module's conventions)."""
    for symbol in universe:
        if symbol not in bars:
            raise BacktestError(f"no daily bars for {symbol}")
    days = session_days(bars, universe, setup.start, setup.end)
    if len(days) < 2:
        raise BacktestError(
            f"no session between {setup.start.isoformat()} and {setup.end.isoformat()} with "
            "a close before it: choose dates inside the bars' history"
        )
    # Closes as a venue shows them: on the grid of valid prices (core/ticks.py).
    prices = {
        s: [None if c is None else grid_nearest(c) for c in _aligned(bars[s], days)]
        for s in universe
    }
    half = setup.spread_bps / BPS / TWO
    policy = setup.policy
    cash = setup.cash
    held: dict[str, Decimal] = {}
    points: list[SessionPoint] = []
    trades: list[Trade] = []
    unsettled_buys = 0
    total = len(days) - 1
    weights: dict[str, Decimal] = {}
    for i in range(1, len(days)):
        day, prev = days[i], days[i - 1]
        decided = decide(prev)
        weights = weights if decided is None else dict(decided)
        quotes: dict[str, Quote] = {}
        assets: dict[str, Asset] = {}
        for symbol in sorted(set(weights) | set(held)):
            line = prices.get(symbol)
            close = line[i] if line is not None else None
            if close is None:
                raise BacktestError(
                    f"no close for {symbol} on or before {day.isoformat()}: start the "
                    "backtest later or add its history"
                )
            bid, ask, _ = grid_quote(close, half)
            quotes[symbol] = Quote(symbol, bid, ask, close)
            assets[symbol] = Asset(symbol, fractionable=not setup.whole_shares)
        account = Account("backtest", cash=cash, buying_power=cash, settled_cash=cash)
        snap = Snapshot(
            account=account,
            positions={s: Position(s, q) for s, q in held.items()},
            quotes=quotes,
            assets=assets,
            as_of=datetime.combine(day, CLOSE),
            broker="backtest",
        )
        orders = (
            ()
            if decided is None
            else build_plan(snap, Targets(weights, setup.source), policy, snap.as_of).orders
        )
        traded = costs = proceeds = spent = ZERO
        for order in orders:
            _within_limit(order)
            value = order.qty * order.est_price
            if order.side is Side.SELL:
                cash += value - order.fees
                proceeds += value - order.fees
                left = held[order.symbol] - order.qty
                if left:
                    held[order.symbol] = left
                else:
                    del held[order.symbol]
            else:
                cash -= value
                spent += value
                held[order.symbol] = held.get(order.symbol, ZERO) + order.qty
            traded += value
            costs += order.est_cost
            trades.append(
                Trade(day, order.symbol, order.side, order.qty, order.est_price, value,
                      order.est_cost, order.fees, order.limit_price)
            )  # fmt: skip
        if spent > account.cash and proceeds > ZERO:
            unsettled_buys += 1
        values: dict[str, Decimal] = {}
        for symbol, qty in held.items():
            close = prices[symbol][i]
            assert close is not None  # quoted above
            values[symbol] = qty * close
        invested = sum(values.values(), ZERO)
        points.append(
            SessionPoint(day, cash + invested, cash, invested, traded, costs, weights, values)
        )
        if on_progress is not None:
            on_progress(i, total)
    stats = performance(
        setup.cash,
        points,
        trades,
        setup.risk_free,
    )
    bench_equity: tuple[Decimal, ...] | None = None
    bench_stats: Stats | None = None
    if benchmark is not None:
        bench_equity, bench_stats = _benchmark(bars, benchmark, days[1:], setup)
        stats = against(stats, [p.equity for p in points], bench_equity, setup.risk_free)
    return Backtest(
        setup, tuple(points), tuple(trades), stats, benchmark, bench_equity, bench_stats,
        unsettled_buys,
    )  # fmt: skip


def _within_limit(order: PlannedOrder) -> None:
    """A fill at the quote's touch never crosses the order's limit (the quotes and limits
    are on one grid); one that would is a bug, never a silent fill."""
    price, limit = order.est_price, order.limit_price
    if (price > limit) if order.side is Side.BUY else (price < limit):
        raise PlanError(
            f"backtest fill of {order.symbol} at {price} crosses its limit {limit} "
            "(a bug: report it)"
        )


def _benchmark(
    bars: Mapping[str, Series], symbol: str, days: Sequence[date], setup: Setup
) -> tuple[tuple[Decimal, ...], Stats]:
    """Buy and hold `symbol` with the whole cash at the first session's close, no costs."""
    if symbol not in bars:
        raise BacktestError(f"no daily bars for the benchmark {symbol}")
    closes = _aligned(bars[symbol], days)
    if closes[0] is None:
        raise BacktestError(
            f"the benchmark {symbol} has no close on or before {days[0].isoformat()}"
        )
    first = closes[0]
    equity = tuple(setup.cash * c / first for c in closes if c is not None)
    points = [
        SessionPoint(d, e, ZERO, e, ZERO, ZERO, {}) for d, e in zip(days, equity, strict=True)
    ]
    return equity, performance(setup.cash, points, (), setup.risk_free)


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
