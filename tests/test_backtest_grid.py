"""The backtest's quotes sit on the venue's grid and a fill never crosses its limit
(issue 24): sub-cent adjusted closes no longer fill buys above their own limit price."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from alchemiser_cli.core.backtest import Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.ticks import on_grid

FREE = PlannerPolicy(collar_bps=Decimal(0), sec_fee_rate=Decimal(0), finra_taf_per_share=Decimal(0))


def _bars(closes: dict[str, list[str]]) -> dict[str, Series]:
    return {
        s: Series(tuple(date(2024, 1, 1 + i) for i in range(len(v))), tuple(map(Decimal, v)))
        for s, v in closes.items()
    }


def test_sub_cent_closes_fill_on_the_grid_within_their_limits() -> None:
    bars = _bars({"BBY": ["1.453", "1.453", "1.457", "1.301"], "AMD": ["62.571"] * 4})
    weights = {"BBY": Decimal("0.5"), "AMD": Decimal("0.5")}
    setup = Setup(date(2024, 1, 2), date(2024, 1, 4), Decimal(10_000), FREE, whole_shares=True)
    bt = run_backtest(bars, ["AMD", "BBY"], lambda _d: weights, setup)
    assert bt.trades
    for trade in bt.trades:
        assert on_grid(trade.price)
        assert on_grid(trade.limit)
        if trade.side is Side.BUY:
            assert trade.price <= trade.limit
        else:
            assert trade.price >= trade.limit
    first = [t for t in bt.trades if t.day == date(2024, 1, 2)]
    assert {t.symbol: t.price for t in first} == {"AMD": Decimal("62.57"), "BBY": Decimal("1.45")}
    for point in bt.sessions:
        assert point.cash >= 0
        # Holdings are valued at the close on the grid, the price the fills were at.
        assert point.equity == point.cash + point.invested


def test_a_spread_widens_the_grid_quote_outward() -> None:
    bars = _bars({"AAA": ["33.333", "33.333", "33.333"]})
    setup = Setup(date(2024, 1, 2), date(2024, 1, 3), Decimal(1000), FREE, spread_bps=Decimal(10))
    bt = run_backtest(bars, ["AAA"], lambda _d: {"AAA": Decimal(1)}, setup)
    (buy,) = bt.trades
    # 33.33 on the grid, ask 33.33 * 1.0005 = 33.346665 up to 33.35; the mid 33.33.
    assert (buy.price, buy.limit) == (Decimal("33.35"), Decimal("33.35"))
    assert buy.cost == buy.qty * Decimal("0.02")
