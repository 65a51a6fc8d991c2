"""What a tearsheet shows, whichever the source: a backtest (`from_backtest`) or the live
account's history (app/report.py). The page (render/tearsheet/) reads only this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from alchemiser_cli.core.backtest import Backtest, Stats, Trade
from alchemiser_cli.core.metrics import daily_returns
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.rolling import Rolling, rolling

ROLLING_WINDOWS = (126, 252)  # six and twelve months of sessions


@dataclass(frozen=True, slots=True)
class SymbolSummary:
    """One symbol over the whole period: orders, money traded, costs and what it added."""

    symbol: str
    orders: int
    traded: Decimal  # buys + sells
    turnover: Decimal  # traded / 2 / mean equity
    costs: Decimal
    contribution: Decimal  # profit in money: last value + sales - purchases - fees
    contribution_pct: Decimal  # of the starting value


@dataclass(frozen=True, slots=True)
class Overlay:
    """The live account against the backtest of its strategy over the same sessions."""

    label: str
    equity: tuple[Decimal, ...]  # the backtest's equity, from the live starting equity
    tracking_daily: tuple[Decimal, ...]  # live daily return - backtest daily return
    tracking_monthly: dict[tuple[int, int], Decimal]  # live month - backtest month
    tracking_total: Decimal  # live total return - backtest total return
    backtest_stats: Stats


@dataclass(frozen=True, slots=True)
class RunMark:
    """A journaled run, marked on the live curve."""

    day: date
    label: str


@dataclass(frozen=True, slots=True)
class Tearsheet:
    """Everything one tearsheet page shows."""

    title: str
    settings: tuple[tuple[str, str], ...]  # every setting that shaped the result
    synthetic: bool
    days: tuple[date, ...]
    equity: tuple[Decimal, ...]
    stats: Stats
    benchmark: str | None = None
    benchmark_equity: tuple[Decimal, ...] | None = None
    benchmark_stats: Stats | None = None
    weights: dict[str, tuple[Decimal, ...]] = field(default_factory=dict)
    symbols: tuple[SymbolSummary, ...] = ()
    rolling: tuple[Rolling, ...] = ()
    overlay: Overlay | None = None
    runs: tuple[RunMark, ...] = ()
    notes: tuple[str, ...] = ()
    trades: tuple[Trade, ...] = ()  # every fill (for --csv; the page sums them by symbol)


def rolling_of(
    stats: Stats, equity: Sequence[Decimal], bench: Sequence[Decimal] | None, risk_free: Decimal
) -> tuple[Rolling, ...]:
    """The rolling Sharpe, volatility and beta over six and twelve months."""
    mine = daily_returns(stats.start_value, equity)
    theirs = daily_returns(stats.start_value, bench) if bench is not None else None
    return tuple(rolling(mine, theirs, w, risk_free) for w in ROLLING_WINDOWS)


def symbol_summaries(
    trades: Sequence[Trade], last_values: dict[str, Decimal], start: Decimal, mean_equity: Decimal
) -> tuple[SymbolSummary, ...]:
    """Per symbol: orders, traded, turnover, costs and contribution, largest first."""
    rows: dict[str, list[Decimal]] = {}  # orders, traded, costs, net cash
    for t in trades:
        row = rows.setdefault(t.symbol, [ZERO, ZERO, ZERO, ZERO])
        row[0] += 1
        row[1] += t.value
        row[2] += t.cost
        row[3] += t.value - t.fees if t.side is Side.SELL else -t.value
    out = []
    for symbol, (orders, traded, costs, net) in rows.items():
        gain = last_values.get(symbol, ZERO) + net
        out.append(
            SymbolSummary(
                symbol,
                int(orders),
                traded,
                traded / 2 / mean_equity if mean_equity else ZERO,
                costs,
                gain,
                gain / start,
            )
        )
    return tuple(sorted(out, key=lambda s: (-s.contribution, s.symbol)))


def weights_of(
    days: int, values: Sequence[dict[str, Decimal]], equity: Sequence[Decimal]
) -> dict[str, tuple[Decimal, ...]]:
    """Each symbol's share of the equity at every close (zero when not held)."""
    names = sorted({s for v in values for s in v})
    return (
        {
            s: tuple(v.get(s, ZERO) / e if e else ZERO for v, e in zip(values, equity, strict=True))
            for s in names
        }
        if days
        else {}
    )


def _plain(value: Decimal) -> str:
    """A number without trailing zeros or an exponent (2.00 -> 2, 0.50 -> 0.5)."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def backtest_settings(
    bt: Backtest, synthetic: bool, bar_source: str
) -> tuple[tuple[str, str], ...]:
    """The header: every setting that shaped a backtest's result."""
    s, p = bt.setup, bt.setup.policy
    band = []
    if p.band_abs is not None:
        band.append(f"±{_plain(p.band_abs * 100)} pt")
    if p.band_rel is not None:
        band.append(f"±{_plain(p.band_rel * 100)}% of target")
    return (
        ("source", s.source),
        ("period", f"{bt.sessions[0].day} to {bt.sessions[-1].day} ({len(bt.sessions)} sessions)"),
        ("starting cash", f"{s.cash:,.2f}"),
        ("band", " and ".join(band) or "none (trade to target every session)"),
        ("--to", p.rebalance_to),
        ("whole shares", "yes (every symbol)" if s.whole_shares else "no (fractional)"),
        ("collar", f"{p.collar_bps} bps"),
        (
            "fees",
            f"SEC {p.sec_fee_rate} of sales, FINRA TAF {p.finra_taf_per_share}/share "
            f"(at most {p.finra_taf_max} an order)",
        ),
        ("spread", f"{s.spread_bps} bps (half paid a trade)"),
        ("cash reserve", f"{p.cash_reserve:,.2f} or {_plain(p.cash_reserve_pct * 100)}% of equity"),
        ("minimum trade", f"{p.min_trade_value:,.2f}"),
        ("risk-free", f"{_plain(s.risk_free * 100)}% a year"),
        ("benchmark", bt.benchmark or "none"),
        ("bars", ("SYNTHETIC (a demonstration, not market data)" if synthetic else bar_source)),
    )


def from_backtest(bt: Backtest, *, synthetic: bool, bar_source: str) -> Tearsheet:
    """The tearsheet of a backtest."""
    equity = tuple(p.equity for p in bt.sessions)
    bench = bt.benchmark_equity
    mean_equity = sum(equity, ZERO) / len(equity)
    last = bt.sessions[-1].values
    title = f"Backtest {bt.sessions[0].day} to {bt.sessions[-1].day}: {bt.setup.source}"
    return Tearsheet(
        title=title,
        settings=backtest_settings(bt, synthetic, bar_source),
        synthetic=synthetic,
        days=tuple(p.day for p in bt.sessions),
        equity=equity,
        stats=bt.stats,
        benchmark=bt.benchmark,
        benchmark_equity=bench,
        benchmark_stats=bt.benchmark_stats,
        weights=weights_of(len(equity), [p.values for p in bt.sessions], equity),
        symbols=symbol_summaries(bt.trades, last, bt.setup.cash, mean_equity),
        rolling=rolling_of(bt.stats, equity, bench, bt.setup.risk_free),
        trades=bt.trades,
    )
