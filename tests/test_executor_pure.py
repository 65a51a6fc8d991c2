"""The executor's pure parts: ids, peg prices, re-peg waits, slicing, buy re-sizing, leg
summaries and a run's conclusion (no broker, no journal, no clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Asset, BrokerOrder, OrderStatus, Quote, Side
from alchemiser_cli.core.plan import PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import ExecutionResult, OrderResult, Outcome, SliceResult
from alchemiser_cli.executor import (
    client_order_id,
    peg_price,
    repeg_interval,
    slice_count,
    split_qty,
)
from alchemiser_cli.executor.pure import conclude, resize_buys, summarise
from tests.conftest import D

SESSION = Session(
    date(2026, 11, 27),
    datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
    datetime(2026, 11, 27, 18, 0, tzinfo=UTC),
)


def test_client_order_ids_are_deterministic_and_short() -> None:
    cid = client_order_id("0123456789abcdef", 12, 3, 4)
    assert cid == "alch-0123456789abcdef-012-03-04"
    assert len(cid) <= 48


@pytest.mark.parametrize("steps", [0, 1, 3, 7])
def test_peg_ladder_walks_to_the_collar_edge_and_never_past_it(steps: int) -> None:
    buys = [peg_price(Side.BUY, D("100.00"), D("100.50"), k, steps) for k in range(steps + 1)]
    sells = [peg_price(Side.SELL, D("99.90"), D("99.40"), k, steps) for k in range(steps + 1)]
    assert buys == sorted(buys)
    assert buys[-1] == D("100.50")
    assert all(D("100.00") < p <= D("100.50") for p in buys)
    assert sells == sorted(sells, reverse=True)
    assert sells[-1] == D("99.40")
    assert all(D("99.40") <= p < D("99.90") for p in sells)
    # The price ran away past the edge, or no quote at all: the edge, never beyond.
    assert peg_price(Side.BUY, D("101"), D("100.50"), 0, steps) == D("100.50")
    assert peg_price(Side.SELL, D("99"), D("99.40"), 0, steps) == D("99.40")
    assert peg_price(Side.BUY, D("0"), D("100.50"), 0, steps) == D("100.50")


def test_repeg_interval_grows_with_the_spread_and_is_capped() -> None:
    assert repeg_interval(10, None) == 10
    assert repeg_interval(10, Quote("X", D("99.99"), D("100.01"))) == pytest.approx(11)  # 2 bps
    assert repeg_interval(10, Quote("X", D("99.8"), D("100.2"))) == pytest.approx(30)  # 40 bps
    assert repeg_interval(10, Quote("X", D("90"), D("110"))) == 40  # capped at 4x


def test_slice_count_follows_notional_and_adv_and_is_capped() -> None:
    policy = ExecutionPolicy(slice_notional=D(10_000), slice_adv_pct=D("0.01"), max_slices=5)
    assert slice_count(D(50), D(100), None, policy) == 1
    assert slice_count(D(250), D(100), None, policy) == 3  # 25k over 10k slices
    thin = Asset("T", avg_daily_volume=D(5_000))  # 1% of ADV = 50 shares
    assert slice_count(D(120), D(10), thin, policy) == 3
    assert slice_count(D(10_000), D(100), None, policy) == 5
    assert split_qty(D(10), 3, whole=True) == [D(3), D(3), D(4)]
    assert sum(split_qty(D("10.5"), 4, whole=False)) == D("10.5")


# -- outcomes: decided when the run concludes, never born `completed` ------------------------


def _leg(leg: int, status: LegStatus, filled: str, planned: str = "10") -> OrderResult:
    return OrderResult(
        leg=leg,
        client_order_id=f"alch-p-{leg:03d}-01-01",
        symbol=f"S{leg}",
        side=Side.BUY,
        planned_qty=D(planned),
        sent_qty=D(planned),
        limit_price=D(10),
        status=status,
        filled_qty=D(filled),
    )


def test_a_result_is_born_running_not_completed() -> None:
    """Whoever ends a run decides its outcome; until then it says so."""
    assert ExecutionResult().outcome is Outcome.RUNNING


@pytest.mark.parametrize(
    ("orders", "queue_for", "buys_cut", "late", "expected"),
    [
        ([], None, None, False, (Outcome.COMPLETED, "all 0 orders filled")),
        (
            [_leg(1, LegStatus.FILLED, "10"), _leg(2, LegStatus.FILLED, "10")],
            None,
            None,
            False,
            (Outcome.COMPLETED, "all 2 orders filled"),
        ),
        (
            [_leg(1, LegStatus.FILLED, "10"), _leg(2, LegStatus.CANCELED, "4")],
            None,
            None,
            True,
            (
                Outcome.INCOMPLETE,
                "1 of 2 orders did not complete as planned; the run deadline (60s) passed "
                "and what was open was cancelled",
            ),
        ),
        (
            [_leg(1, LegStatus.ACCEPTED, "0"), _leg(2, LegStatus.NEW, "0")],
            SESSION,
            None,
            False,
            (
                Outcome.QUEUED,
                "2 of 2 orders queued for the session 2026-11-27 09:30-13:00 ET (early close); "
                "check `alch status` after the open",
            ),
        ),
        (
            [_leg(1, LegStatus.ACCEPTED, "0"), _leg(2, LegStatus.NOT_SENT, "0")],
            SESSION,
            (D(100), D(400)),
            False,
            (
                Outcome.INCOMPLETE,
                "1 of 2 orders queued for the session 2026-11-27 09:30-13:00 ET (early close); "
                "check `alch status` after the open; buys cut to $100.00 of $400.00 planned: "
                "the sells' proceeds arrive after the open; run again once the sells have "
                "filled to buy the rest",
            ),
        ),
    ],
)
def test_conclude_always_decides_the_outcome(
    orders: list[OrderResult],
    queue_for: Session | None,
    buys_cut: tuple[Decimal, Decimal] | None,
    late: bool,
    expected: tuple[Outcome, str],
) -> None:
    decided = conclude(orders, queue_for, buys_cut, deadline_passed=late, deadline_s=60)
    assert decided == expected
    assert decided[0] is not Outcome.RUNNING


# -- leg summaries and buy re-sizing ----------------------------------------------------------


def test_a_leg_sums_its_slices_and_its_working_orders_fills() -> None:
    leg = _leg(1, LegStatus.PENDING, "0", planned="30")
    leg.arrival_mid = D(10)
    leg.slices = [
        SliceResult(1, D(10), status=LegStatus.FILLED, filled_qty=D(10), filled_value=D(100)),
        SliceResult(2, D(10), status=LegStatus.CANCELED),
        SliceResult(3, D(10), status=LegStatus.NEW),
    ]
    working = BrokerOrder(
        "b3", "c3", "S1", Side.BUY, D(10), D(11), OrderStatus.PARTIALLY_FILLED, D(5), D(11)
    )
    summarise(leg, [working])
    assert (leg.status, leg.filled_qty, leg.slippage_bps) == (
        LegStatus.PARTIALLY_FILLED,
        D(15),
        D("333.33"),  # (10*10 + 5*11) / 15 = 10.3333 against a 10.00 mid
    )


def test_a_leg_of_failed_slices_shows_the_most_telling_failure() -> None:
    leg = _leg(1, LegStatus.PENDING, "0")
    leg.slices = [
        SliceResult(1, D(5), status=LegStatus.NOT_SENT, error="the run stopped"),
        SliceResult(2, D(5), status=LegStatus.SEND_FAILED, error="insufficient qty"),
    ]
    summarise(leg, [])
    assert (leg.status, leg.filled_qty, leg.avg_price, leg.error) == (
        LegStatus.SEND_FAILED,
        D(0),
        None,
        "the run stopped",
    )


def _buy(leg: int, symbol: str, qty: str, limit: str) -> PlannedOrder:
    value = D(qty) * D(limit)
    return PlannedOrder(
        leg, symbol, Side.BUY, D(qty), D(limit), D(limit), value, value, D(0), D(0), True
    )


def test_buys_are_scaled_to_the_budget_and_tiny_ones_are_skipped() -> None:
    buys = [_buy(2, "NEW", "40", "50"), _buy(3, "WHOLE", "2", "300"), _buy(4, "TINY", "1", "3")]
    assets = {"NEW": Asset("NEW"), "WHOLE": Asset("WHOLE", fractionable=False)}
    # needed: 2000 + 600 + 3 = 2603; scale 1301/2603 = 0.4998...: 19.99... NEW, 0 WHOLE, 0 TINY
    sizing = resize_buys(buys, D(1301), D(0), assets, queued=False)
    assert [(o.symbol, qty) for o, qty in sizing.sized] == [("NEW", D("19.992316557"))]
    assert sizing.skipped == [
        (buys[1], "not enough cash after the sells to buy any"),
        (buys[2], "not enough cash after the sells to buy any"),
    ]
    assert sizing.cut == {
        2: "cut to 19.992316557 of 40 ($999.62 of $2,000.00): the cash available after the sells"
    }
    assert sizing.sent == D("999.61582785")  # 19.992316557 * 50


def test_queued_buys_below_the_minimum_say_the_proceeds_come_after_the_open() -> None:
    buys = [_buy(2, "NEW", "40", "50")]
    sizing = resize_buys(buys, D(1200), D(1500), {"NEW": Asset("NEW")}, queued=True)
    assert sizing.sized == []
    assert sizing.skipped == [
        (
            buys[0],
            "re-sized to $1,200.00, below the minimum trade $1,500.00: the sells' proceeds "
            "arrive after the open",
        )
    ]
