"""The 20-stock, 25%-band backtest on 28 years of real closes against references that share
no code with alch (issue 24): with whole shares and no costs it equals a ledger that fills
every order at the close on the price grid within its limit; with fractional shares it
matches a frictionless rebalancer to 0.01%; cash never goes negative."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import Backtest, Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.policy import PlannerPolicy
from tests.conftest import SHARED

US_DAILY = SHARED / "data" / "us-daily"
STOCKS = [
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO",
    "LLY", "MRK", "MSFT", "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
]  # fmt: skip
WEIGHT = Decimal("0.05")
START, END = date(1995, 1, 3), date(2022, 12, 28)
CASH = Decimal(1_000_000)
BANDED = PlannerPolicy(
    collar_bps=Decimal(0),
    sec_fee_rate=Decimal(0),
    finra_taf_per_share=Decimal(0),
    band_rel=Decimal("0.25"),
)

pytestmark = pytest.mark.shared


def on_grid(text: str) -> Decimal:
    """A close as a venue quotes it: the nearest cent at $1 and above, $0.0001 below."""
    close = Decimal(text)
    return close.quantize(Decimal("0.01") if close >= 1 else Decimal("0.0001"), ROUND_HALF_EVEN)


def closes() -> tuple[list[date], dict[str, list[Decimal]]]:
    """Each stock's close on the grid, session by session from START to END (read here
    from the CSV files, not through alch)."""
    table: dict[str, dict[date, Decimal]] = {}
    for symbol in STOCKS:
        with (US_DAILY / f"{symbol}.csv").open(encoding="utf-8") as handle:
            rows = csv.DictReader(handle)
            table[symbol] = {date.fromisoformat(r["date"]): on_grid(r["close"]) for r in rows}
    days = sorted(d for d in table[STOCKS[0]] if START <= d <= END)
    assert all(set(days) <= set(t) for t in table.values())  # the 20 share their dates
    return days, {s: [table[s][d] for d in days] for s in STOCKS}


def backtest(whole: bool, reinvest: bool = False) -> Backtest:
    bars = daily_bars(STOCKS, date(1994, 12, 1), END, US_DAILY)
    weights = dict.fromkeys(STOCKS, WEIGHT)
    policy = BANDED.model_copy(update={"reinvest": reinvest})
    setup = Setup(START, END, CASH, policy, whole_shares=whole)
    return run_backtest(bars, STOCKS, lambda _day: weights, setup)


def out_of_band(values: dict[str, Decimal], equity: Decimal) -> set[str]:
    return {s for s, v in values.items() if abs(v / equity - WEIGHT) > WEIGHT / 4}


@pytest.fixture(scope="module")
def prices() -> tuple[list[date], dict[str, list[Decimal]]]:
    return closes()


def test_whole_shares_without_costs_equal_a_ledger_of_limit_fills(
    prices: tuple[list[date], dict[str, list[Decimal]]],
) -> None:
    days, close = prices
    bt = backtest(whole=True)
    assert [p.day for p in bt.sessions] == days
    by_day: dict[date, list[tuple[str, Side, Decimal, Decimal]]] = {}
    for t in bt.trades:
        by_day.setdefault(t.day, []).append((t.symbol, t.side, t.qty, t.limit))
    cash, held = CASH, dict.fromkeys(STOCKS, Decimal(0))
    for i, (day, point) in enumerate(zip(days, bt.sessions, strict=True)):
        values = {s: held[s] * close[s][i] for s in STOCKS}
        equity = cash + sum(values.values())
        traded = by_day.get(day, [])
        # Only positions outside their band trade (the rule), each in whole shares.
        assert {s for s, *_ in traded} <= out_of_band(values, equity)
        for symbol, side, qty, limit in sorted(traded, key=lambda t: t[1] is Side.BUY):
            price = close[symbol][i]  # no spread: the fill is at the close on the grid
            assert qty == qty.to_integral_value()
            if side is Side.BUY:
                assert price <= limit  # a fill never crosses its limit
                cash -= qty * price
                held[symbol] += qty
            else:
                assert price >= limit
                cash += qty * price
                held[symbol] -= qty
            assert held[symbol] >= 0
        assert cash >= 0  # no session with negative cash
        equity = cash + sum(held[s] * close[s][i] for s in STOCKS)
        assert (point.cash, point.equity) == (cash, equity)  # to the last digit
    assert len(bt.trades) > 300


def test_fractional_shares_match_a_frictionless_rebalancer(
    prices: tuple[list[date], dict[str, list[Decimal]]],
) -> None:
    days, close = prices
    bt = backtest(whole=False)
    # The reference: real-valued shares (floats), every out-of-band stock traded to its
    # target, buys scaled down together when the cash does not cover them.
    cash, held = float(CASH), dict.fromkeys(STOCKS, 0.0)
    for i in range(len(days)):
        price = {s: float(close[s][i]) for s in STOCKS}
        values = {s: held[s] * price[s] for s in STOCKS}
        equity = cash + sum(values.values())
        goal = float(WEIGHT) * equity
        out = [s for s in STOCKS if abs(values[s] / equity - float(WEIGHT)) > float(WEIGHT) / 4]
        for s in out:
            if values[s] > goal:
                cash += values[s] - goal
                held[s] = goal / price[s]
        wants = {s: goal - values[s] for s in out if values[s] < goal}
        scale = min(1.0, cash / sum(wants.values())) if wants else 0.0
        for s, want in wants.items():
            held[s] += scale * want / price[s]
            cash -= scale * want
    final = cash + sum(held[s] * float(close[s][-1]) for s in STOCKS)
    assert abs(float(bt.stats.end_value) / final - 1) < 1e-4  # 0.01% after 28 years
    assert min(p.cash for p in bt.sessions) >= 0
    for t in bt.trades:
        assert t.price <= t.limit if t.side is Side.BUY else t.price >= t.limit
    # Under the band, sale proceeds wait in cash (README "How the planner decides").
    idle = [p.cash / p.equity for p in bt.sessions]
    assert round(sum(idle) / len(idle), 4) == Decimal("0.0281")  # 2.81% on average
    assert round(max(idle), 4) == Decimal("0.0867")  # 8.67% at the peak


def test_reinvest_leaves_no_cash_idle_under_the_band() -> None:
    bt = backtest(whole=False, reinvest=True)
    assert max(p.cash / p.equity for p in bt.sessions) < Decimal("0.0001")
    assert min(p.cash for p in bt.sessions) >= 0
