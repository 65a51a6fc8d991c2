"""`alch backtest --json`: the whole report (statistics, the benchmark's, yearly returns),
the daily equity series and the trades, from one `core.backtest.Backtest`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Final, TypeVar

from pydantic import TypeAdapter

from alchemiser_cli.core.backtest import Backtest, Stats, drawdowns
from alchemiser_cli.core.backtest_replay import Difference, RunReplay
from alchemiser_cli.core.metrics import DrawdownSpan
from alchemiser_cli.core.tax.backtest import BacktestTax

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_D = TypeVar("_D", bound="DataclassInstance")
_RATIO = Decimal("0.000001")
_CENT = Decimal("0.01")


def ratio(value: Decimal) -> Decimal:
    """A return, weight or statistic rounded to 6 decimals for display and JSON."""
    return value.quantize(_RATIO, ROUND_HALF_EVEN)


def cents(value: Decimal) -> Decimal:
    """Money rounded to the cent for display and JSON."""
    return value.quantize(_CENT, ROUND_HALF_EVEN)


def _maybe(value: Decimal | None) -> Decimal | None:
    return None if value is None else ratio(value)


def published(document: type[_D], record: object, **changes: object) -> _D:
    """The core `record` as its document (a dataclass adding no field to the record's:
    the fields are listed once, in core), with `changes` (e.g. a figure rounded)."""
    values = {f.name: getattr(record, f.name) for f in fields(document)}
    return document(**(values | changes))


@dataclass(frozen=True, slots=True)
class DrawdownDocument(DrawdownSpan):
    """One of the deepest drawdowns (peak None: the starting value; recovered None: not yet)."""


@dataclass(frozen=True, slots=True)
class StatsDocument:
    """Performance statistics (ratios as fractions: 0.1 is 10%)."""

    start_value: Decimal
    end_value: Decimal
    total_return: Decimal
    cagr: Decimal | None
    volatility: Decimal | None
    sharpe: Decimal | None
    sortino: Decimal | None
    max_drawdown: Decimal
    max_drawdown_peak: date | None
    max_drawdown_trough: date | None
    max_drawdown_recovered: date | None
    calmar: Decimal | None
    turnover_per_year: Decimal
    costs: Decimal
    orders: int
    time_in_market: Decimal
    yearly_returns: dict[str, Decimal]
    trailing_returns: dict[str, Decimal | None] = field(default_factory=dict)
    best_day: Decimal | None = None
    worst_day: Decimal | None = None
    best_month: Decimal | None = None
    worst_month: Decimal | None = None
    best_year: Decimal | None = None
    worst_year: Decimal | None = None
    win_rate_days: Decimal | None = None
    win_rate_months: Decimal | None = None
    skew: Decimal | None = None
    kurtosis: Decimal | None = None
    monthly_returns: dict[str, Decimal] = field(default_factory=dict)  # "YYYY-MM"
    top_drawdowns: tuple[DrawdownDocument, ...] = ()
    alpha: Decimal | None = None
    beta: Decimal | None = None
    correlation: Decimal | None = None
    r_squared: Decimal | None = None
    tracking_error: Decimal | None = None
    information_ratio: Decimal | None = None


@dataclass(frozen=True, slots=True)
class PointDocument:
    """The account at one session's close."""

    date: dt.date
    equity: Decimal
    cash: Decimal
    drawdown: Decimal
    benchmark: Decimal | None
    traded: Decimal
    costs: Decimal


@dataclass(frozen=True, slots=True)
class TradeDocument:
    """One simulated fill."""

    date: dt.date
    symbol: str
    side: str
    qty: Decimal
    price: Decimal
    value: Decimal
    cost: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class BacktestDocument:
    """`alch backtest --json`."""

    start: date
    end: date
    sessions: int
    source: str
    synthetic_bars: bool
    initial_cash: Decimal
    spread_bps: Decimal
    whole_shares: bool
    risk_free: Decimal
    band_abs: Decimal | None
    band_rel: Decimal | None
    rebalance_to: str
    stats: StatsDocument
    benchmark: str | None
    benchmark_stats: StatsDocument | None
    unsettled_buy_sessions: int
    equity: tuple[PointDocument, ...]
    trades: tuple[TradeDocument, ...]
    schema_version: int = 2  # 2: `tax` (issue 27)
    # `--tax`: realised gains per year and the wash sales the strategy made; else None.
    tax: BacktestTax | None = None


BACKTEST_ADAPTER: Final = TypeAdapter(BacktestDocument)


_METRIC_NAMES = (
    "best_day", "worst_day", "best_month", "worst_month", "best_year", "worst_year",
    "win_rate_days", "win_rate_months", "skew", "kurtosis",
)  # fmt: skip


def _extra(s: Stats) -> dict[str, Any]:
    """The tearsheet's figures (core/metrics.py), rounded as the rest."""
    out: dict[str, Any] = {}
    m, r = s.metrics, s.relative
    if m is not None:
        out["trailing_returns"] = {k: _maybe(v) for k, v in m.trailing.items()}
        for name in _METRIC_NAMES:
            out[name] = _maybe(getattr(m, name))
        out["monthly_returns"] = {
            f"{y}-{mo:02d}": ratio(v) for (y, mo), v in m.monthly_returns.items()
        }
        out["top_drawdowns"] = tuple(
            published(DrawdownDocument, d, depth=ratio(d.depth)) for d in m.top_drawdowns
        )
    if r is not None:
        for name in ("alpha", "beta", "correlation", "r_squared", "tracking_error",
                     "information_ratio"):  # fmt: skip
            out[name] = _maybe(getattr(r, name))
    return out


def stats_document(s: Stats) -> StatsDocument:
    """The JSON form of one set of statistics."""
    dd = s.max_drawdown
    return StatsDocument(
        start_value=cents(s.start_value),
        end_value=cents(s.end_value),
        total_return=ratio(s.total_return),
        cagr=_maybe(s.cagr),
        volatility=_maybe(s.volatility),
        sharpe=_maybe(s.sharpe),
        sortino=_maybe(s.sortino),
        max_drawdown=ratio(dd.depth),
        max_drawdown_peak=dd.peak,
        max_drawdown_trough=dd.trough,
        max_drawdown_recovered=dd.recovered,
        calmar=_maybe(s.calmar),
        turnover_per_year=ratio(s.turnover_per_year),
        costs=cents(s.costs),
        orders=s.orders,
        time_in_market=ratio(s.time_in_market),
        yearly_returns={str(y): ratio(r) for y, r in s.yearly_returns.items()},
        **_extra(s),
    )


def backtest_document(bt: Backtest, *, synthetic: bool) -> BacktestDocument:
    """The JSON document of a backtest."""
    setup = bt.setup
    dds = drawdowns(setup.cash, [p.equity for p in bt.sessions])
    bench = bt.benchmark_equity
    points = tuple(
        PointDocument(
            date=p.day,
            equity=cents(p.equity),
            cash=cents(p.cash),
            drawdown=ratio(dd),
            benchmark=cents(bench[i]) if bench is not None else None,
            traded=cents(p.traded),
            costs=cents(p.costs),
        )
        for i, (p, dd) in enumerate(zip(bt.sessions, dds, strict=True))
    )
    trades = tuple(
        TradeDocument(
            date=t.day,
            symbol=t.symbol,
            side=t.side.value,
            qty=t.qty,
            price=t.price,
            value=cents(t.value),
            cost=t.cost,
            fees=t.fees,
        )
        for t in bt.trades
    )
    return BacktestDocument(
        start=bt.sessions[0].day,
        end=bt.sessions[-1].day,
        sessions=len(bt.sessions),
        source=setup.source,
        synthetic_bars=synthetic,
        initial_cash=setup.cash,
        spread_bps=setup.spread_bps,
        whole_shares=setup.whole_shares,
        risk_free=setup.risk_free,
        band_abs=setup.policy.band_abs,
        band_rel=setup.policy.band_rel,
        rebalance_to=setup.policy.rebalance_to,
        stats=stats_document(bt.stats),
        benchmark=bt.benchmark,
        benchmark_stats=stats_document(bt.benchmark_stats) if bt.benchmark_stats else None,
        unsettled_buy_sessions=bt.unsettled_buys,
        equity=points,
        trades=trades,
    )


@dataclass(frozen=True, slots=True)
class DifferenceDocument(Difference):
    """One difference between a live run and the backtest's day (`kind`: signal, order,
    fill)."""


@dataclass(frozen=True, slots=True)
class RunReplayDocument:
    """One live run replayed."""

    run_id: str
    date: dt.date
    outcome: str
    differences: tuple[DifferenceDocument, ...]


@dataclass(frozen=True, slots=True)
class ReplayDocument:
    """`alch backtest --replay-journal --json`: the live runs, oldest first."""

    runs: tuple[RunReplayDocument, ...]
    synthetic_bars: bool = False  # the closes are synthetic: no real comparison
    schema_version: int = 1


REPLAY_ADAPTER: Final = TypeAdapter(ReplayDocument)


def replay_document(runs: list[RunReplay], *, synthetic: bool = False) -> ReplayDocument:
    """The JSON document of a replay."""
    return ReplayDocument(
        synthetic_bars=synthetic,
        runs=tuple(
            RunReplayDocument(
                run_id=r.run_id,
                date=r.day,
                outcome=r.outcome,
                differences=tuple(published(DifferenceDocument, d) for d in r.differences),
            )
            for r in runs
        ),
    )
