"""Running the backtest: the real planner, session by session, over daily closes, with
every order filled at the session's close plus the half-spread (the conventions are in
`core/backtest.py`'s docstring and README "Backtest"). Pure: no clock, no I/O."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal

from alchemiser_cli.core.backtest import (
    TWO,
    Backtest,
    SessionPoint,
    Setup,
    Stats,
    Trade,
    against,
    performance,
)
from alchemiser_cli.core.models import Account, Asset, Position, Quote, Side, Snapshot
from alchemiser_cli.core.money import BPS, ZERO
from alchemiser_cli.core.plan import PlannedOrder
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.ticks import grid_nearest, grid_quote
from alchemiser_cli.errors import InputError, PlanError

CLOSE = time(21, 0, tzinfo=UTC)  # the session's close, for the plan's timestamp only

# Decides the target weights on the bars through the given date (the previous session);
# None holds: the session trades nothing (a strategy off its `:rebalance-frequency`).
TargetsFn = Callable[[date], Mapping[str, Decimal] | None]
Progress = Callable[[int, int], None]
Prices = dict[str, list[Decimal | None]]


class BacktestError(InputError):
    """A backtest cannot run on these inputs (no sessions, a symbol without a price)."""


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


def _sessions(bars: Mapping[str, Series], universe: Sequence[str], setup: Setup) -> list[date]:
    """The sessions to run (with the one before the first), or the reason there are none."""
    for symbol in universe:
        if symbol not in bars:
            raise BacktestError(f"no daily bars for {symbol}")
    days = session_days(bars, universe, setup.start, setup.end)
    if len(days) < 2:
        raise BacktestError(
            f"no session between {setup.start.isoformat()} and {setup.end.isoformat()} with "
            "a close before it: choose dates inside the bars' history"
        )
    return days


@dataclass(slots=True)
class _Book:
    """The simulated account: cash, holdings, the trades so far."""

    cash: Decimal
    held: dict[str, Decimal] = field(default_factory=dict)
    trades: list[Trade] = field(default_factory=list)
    unsettled_buys: int = 0

    def snapshot(
        self, day: date, i: int, weights: Mapping[str, Decimal], prices: Prices, setup: Setup
    ) -> Snapshot:
        """The account at `day`'s close, quoted at the close plus and minus the half-spread."""
        half = setup.spread_bps / BPS / TWO
        quotes: dict[str, Quote] = {}
        assets: dict[str, Asset] = {}
        for symbol in sorted(set(weights) | set(self.held)):
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
        cash = self.cash
        return Snapshot(
            account=Account("backtest", cash=cash, buying_power=cash, settled_cash=cash),
            positions={s: Position(s, q) for s, q in self.held.items()},
            quotes=quotes,
            assets=assets,
            as_of=datetime.combine(day, CLOSE),
            broker="backtest",
        )

    def fill(self, day: date, orders: Sequence[PlannedOrder]) -> tuple[Decimal, Decimal]:
        """Fill `orders` at their estimated prices; the value traded and its costs."""
        start_cash = self.cash
        traded = costs = proceeds = spent = ZERO
        for order in orders:
            _within_limit(order)
            value = order.qty * order.est_price
            if order.side is Side.SELL:
                self.cash += value - order.fees
                proceeds += value - order.fees
                left = self.held[order.symbol] - order.qty
                if left:
                    self.held[order.symbol] = left
                else:
                    del self.held[order.symbol]
            else:
                self.cash -= value
                spent += value
                self.held[order.symbol] = self.held.get(order.symbol, ZERO) + order.qty
            traded += value
            costs += order.est_cost
            self.trades.append(
                Trade(day, order.symbol, order.side, order.qty, order.est_price, value,
                      order.est_cost, order.fees, order.limit_price)
            )  # fmt: skip
        if spent > start_cash and proceeds > ZERO:
            self.unsettled_buys += 1
        return traded, costs

    def values(self, i: int, prices: Prices) -> dict[str, Decimal]:
        """Each holding's value at session `i`'s close."""
        values: dict[str, Decimal] = {}
        for symbol, qty in self.held.items():
            close = prices[symbol][i]
            assert close is not None  # quoted above
            values[symbol] = qty * close
        return values


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
    days = _sessions(bars, universe, setup)
    # Closes as a venue shows them: on the grid of valid prices (core/ticks.py).
    prices = {
        s: [None if c is None else grid_nearest(c) for c in _aligned(bars[s], days)]
        for s in universe
    }
    book = _Book(setup.cash)
    points: list[SessionPoint] = []
    total = len(days) - 1
    weights: dict[str, Decimal] = {}
    for i in range(1, len(days)):
        day, prev = days[i], days[i - 1]
        decided = decide(prev)
        weights = weights if decided is None else dict(decided)
        snap = book.snapshot(day, i, weights, prices, setup)
        orders = (
            ()
            if decided is None
            else build_plan(snap, Targets(weights, setup.source), setup.policy, snap.as_of).orders
        )
        traded, costs = book.fill(day, orders)
        values = book.values(i, prices)
        invested = sum(values.values(), ZERO)
        points.append(
            SessionPoint(day, book.cash + invested, book.cash, invested, traded, costs, weights,
                         values)
        )  # fmt: skip
        if on_progress is not None:
            on_progress(i, total)
    return _result(bars, setup, days, points, book, benchmark)


def _result(
    bars: Mapping[str, Series],
    setup: Setup,
    days: Sequence[date],
    points: list[SessionPoint],
    book: _Book,
    benchmark: str | None,
) -> Backtest:
    """The run's figures, against the benchmark when there is one."""
    stats = performance(setup.cash, points, book.trades, setup.risk_free)
    bench_equity: tuple[Decimal, ...] | None = None
    bench_stats: Stats | None = None
    if benchmark is not None:
        bench_equity, bench_stats = _benchmark(bars, benchmark, days[1:], setup)
        stats = against(stats, [p.equity for p in points], bench_equity, setup.risk_free)
    return Backtest(
        setup, tuple(points), tuple(book.trades), stats, benchmark, bench_equity, bench_stats,
        book.unsettled_buys,
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
