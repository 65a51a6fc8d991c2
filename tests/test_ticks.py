"""Limit prices on the venue's grid (issue 24): cents at $1 and above, $0.0001 below; a
marketable limit stays marketable and inside its collar (to the tick the check allows)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import BPS, tick_for
from alchemiser_cli.core.plan import Rule
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.ticks import buy_limit, grid_quote, on_grid, sell_limit
from tests.conftest import D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NO_COSTS = PlannerPolicy(collar_bps=D(0), sec_fee_rate=D(0), finra_taf_per_share=D(0))


@pytest.mark.parametrize(
    ("ask", "collar", "limit"),
    [
        ("1.453", "0", "1.46"),  # off the grid: the next tick up, not 1.45 below the ask
        ("1.45", "0", "1.45"),
        ("100", "50", "100.50"),
        ("0.5012", "50", "0.5037"),  # 0.503706 down to the sub-dollar tick
        ("0.99995", "0", "1.00"),
        ("1.453", "10", "1.46"),  # 1.454453 down is 1.45 < ask: the next tick up
        ("1.453", "50", "1.46"),  # 1.460265 down: 1.46, marketable and inside the collar
    ],
)
def test_buy_limits_are_marketable_and_on_the_grid(ask: str, collar: str, limit: str) -> None:
    got = buy_limit(D(ask), D(collar) / BPS)
    assert got == D(limit)
    assert got >= D(ask)
    assert on_grid(got)


@pytest.mark.parametrize(
    ("bid", "collar", "limit"),
    [
        ("1.453", "0", "1.45"),
        ("100", "50", "99.50"),
        ("0.5012", "50", "0.4987"),  # 0.498694 up to the sub-dollar tick
        ("1.001", "0", "1.00"),
    ],
)
def test_sell_limits_are_marketable_and_on_the_grid(bid: str, collar: str, limit: str) -> None:
    got = sell_limit(D(bid), D(collar) / BPS)
    assert got == D(limit)
    assert got <= D(bid)
    assert on_grid(got)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 10_000_000).map(lambda c: Decimal(c) / 10_000),
    st.integers(0, 1000).map(lambda b: Decimal(b) / BPS),
)
def test_limits_never_leave_the_collar_by_more_than_a_tick(price: Decimal, collar: Decimal) -> None:
    buy, sell = buy_limit(price, collar), sell_limit(price, collar)
    assert on_grid(buy)
    assert on_grid(sell)
    assert price <= buy <= price * (1 + collar) + tick_for(buy)
    assert price * (1 - collar) - tick_for(sell) <= sell <= price


@pytest.mark.parametrize(
    ("close", "spread", "quote"),
    [
        ("1.453", "0", ("1.45", "1.45", "1.45")),
        ("78.279", "0", ("78.28", "78.28", "78.28")),
        ("0.144", "0", ("0.144", "0.144", "0.144")),
        ("100", "10", ("99.95", "100.05", "100")),
        ("33.333", "10", ("33.31", "33.35", "33.33")),  # bid down, ask up: never narrower
    ],
)
def test_backtest_quotes_sit_on_the_grid(
    close: str, spread: str, quote: tuple[str, str, str]
) -> None:
    assert grid_quote(D(close), D(spread) / BPS / 2) == tuple(D(x) for x in quote)


def test_an_off_grid_ask_without_a_collar_buys_at_or_above_the_ask() -> None:
    # Issue 24: BBY's adjusted close 1.453 as the ask, no collar: the limit was 1.45, below
    # the ask (a live order would not fill; the backtest filled it above its own limit).
    snap = make_snapshot("1000", quotes={"BBY": ("1.453", "1.453")})
    plan = build_plan(snap, Targets({"BBY": D(1)}, "t"), NO_COSTS, NOW)
    (order,) = plan.orders
    assert order.side is Side.BUY
    assert order.limit_price == D("1.46")
    assert order.qty * order.limit_price <= D(1000)


def test_an_off_grid_quote_never_sells_past_the_goal_to_fund_buys() -> None:
    # Buy limits below the mid read as more than a dollar of value per dollar spent: when
    # cash could not fund every buy (here an unlisted position held, not sold), the
    # allocation sold AMD past its goal to buy more BBY. At or above the ask, a buy is
    # worth at most a dollar per dollar and no sell goes past its goal.
    snap = make_snapshot(
        "0",
        positions={"AMD": "100", "ZZZ": "10"},
        quotes={"AMD": ("62.57", "62.57"), "BBY": ("1.453", "1.453"), "ZZZ": ("100", "100")},
    )
    policy = NO_COSTS.model_copy(update={"sell_unlisted": False})
    plan = build_plan(snap, Targets({"AMD": D("0.25"), "BBY": D("0.75")}, "t"), policy, NOW)
    amd = next(p for p in plan.positions if p.symbol == "AMD")
    assert amd.rule is Rule.TO_TARGET
    # To its goal, 25% of 7,257 = 1,814.25, to the 9th decimal of a share, and no further.
    assert amd.trade_qty == D("-71.004474989")
    assert D("1814.249") < amd.post_value <= D("1814.25")
    for order in plan.orders:
        assert on_grid(order.limit_price)
