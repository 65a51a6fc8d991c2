"""Each pre-trade check: one case that passes and one that blocks, with exact messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core import checks
from alchemiser_cli.core.checks import CHECKS, CheckContext, Severity, run_checks
from alchemiser_cli.core.models import Account, BrokerOrder, OrderStatus, Side, Snapshot
from alchemiser_cli.core.planner import Plan, build_plan
from alchemiser_cli.core.policy import Limits, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
POLICY = PlannerPolicy(collar_bps=D(0))


def world() -> tuple[Plan, Snapshot]:
    """Equity 10,000: sell 20 AAA (2,000), buy 60 BBB (6,000); cash 2,000 left."""
    snap = make_snapshot(
        "6000", positions={"AAA": "40"}, quotes={"AAA": ("100", "100"), "BBB": ("100", "100")}
    )
    plan = build_plan(snap, Targets({"AAA": D("0.2"), "BBB": D("0.6")}, "t"), POLICY, NOW)
    return plan, snap


def ctx(**changes: object) -> CheckContext:
    return replace(CheckContext(limits=Limits(), now=NOW), **changes)  # type: ignore[arg-type]


def test_the_world_is_what_the_tests_assume() -> None:
    plan, _ = world()
    assert [(o.side.value, o.symbol, o.qty) for o in plan.orders] == [
        ("sell", "AAA", D(20)),
        ("buy", "BBB", D(60)),
    ]


def test_every_check_passes_on_a_sound_plan_and_reports_its_id() -> None:
    plan, snap = world()
    report = run_checks(plan, snap, ctx())
    assert not report.blocked
    assert [f.check_id for f in report.findings] == [c[0] for c in CHECKS]
    assert all(f.severity is Severity.PASS for f in report.findings)
    assert report.warnings == ()


def test_check_ids_in_the_table_match_the_findings_they_produce() -> None:
    plan, snap = world()
    bad = replace(
        snap,
        broker="other",
        account=replace(snap.account, status="CLOSED", buying_power=D(0)),
        open_orders=(BrokerOrder("o1", "c1", "BBB", Side.BUY, D(1), D(1), OrderStatus.NEW),),
    )
    limits = Limits(
        max_order_notional=D(1),
        max_order_pct=D("0.01"),
        max_orders=1,
        max_turnover_pct=D("0.01"),
        max_daily_notional=D(1),
    )
    report = run_checks(plan, bad, ctx(limits=limits, already_executed=("r1",)))
    for (check_id, _, _), finding in zip(CHECKS, report.findings, strict=True):
        assert finding.check_id == check_id
        if check_id != "assets.tradable":
            assert finding.severity is Severity.BLOCK, check_id


def test_account_status_blocks_a_restricted_account() -> None:
    plan, snap = world()
    assert checks.check_account_status(plan, snap, ctx()) is None
    blocked = replace(snap, account=replace(snap.account, trading_blocked=True, status="INACTIVE"))
    finding = checks.check_account_status(plan, blocked, ctx())
    assert finding is not None
    assert finding.message == "account T-1 cannot trade: status INACTIVE, trading_blocked"


def test_buying_power_counts_sell_proceeds_and_blocks_beyond() -> None:
    plan, snap = world()
    assert checks.check_buying_power(plan, snap, ctx()) is None
    poorer = replace(snap, account=replace(snap.account, buying_power=D(3000)))
    finding = checks.check_buying_power(plan, poorer, ctx())
    assert finding is not None
    assert finding.message == (
        "buys need up to $6000.00 at their limit prices; buying power $3000.00 + sells "
        "$2000.00 = $5000.00"
    )


def test_order_notional_limit() -> None:
    plan, snap = world()
    assert checks.check_order_notional(plan, snap, ctx()) is None
    finding = checks.check_order_notional(
        plan, snap, ctx(limits=Limits(max_order_notional=D(5000)))
    )
    assert finding is not None
    assert finding.message == (
        "1 order(s) above max_order_notional $5000.00: largest buy BBB $6000.00"
    )
    assert (
        checks.check_order_notional(plan, snap, ctx(limits=Limits(max_order_notional=None))) is None
    )


def test_order_share_of_equity_limit() -> None:
    plan, snap = world()
    assert checks.check_order_pct(plan, snap, ctx()) is None
    finding = checks.check_order_pct(plan, snap, ctx(limits=Limits(max_order_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == ("buy BBB $6000.00 is 60% of equity, above max_order_pct 50%")


def test_order_count_limit() -> None:
    plan, snap = world()
    assert checks.check_max_orders(plan, snap, ctx()) is None
    finding = checks.check_max_orders(plan, snap, ctx(limits=Limits(max_orders=1)))
    assert finding is not None
    assert finding.message == "plan has 2 orders, above max_orders 1"


def test_turnover_limit() -> None:
    plan, snap = world()
    assert checks.check_turnover(plan, snap, ctx()) is None
    finding = checks.check_turnover(plan, snap, ctx(limits=Limits(max_turnover_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == "turnover 80% is above max_turnover_pct 50%"


def test_daily_notional_adds_what_already_traded_today() -> None:
    plan, snap = world()
    assert checks.check_daily_notional(plan, snap, ctx()) is None
    finding = checks.check_daily_notional(
        plan, snap, ctx(limits=Limits(max_daily_notional=D(10000)), traded_today=D(2500))
    )
    assert finding is not None
    assert finding.message == (
        "today $2500.00 + this plan $8000.00 is above max_daily_notional $10000.00"
    )


def test_assets_must_be_tradable_and_fractionable_for_fractions() -> None:
    plan, snap = world()
    assert checks.check_assets(plan, snap, ctx()) is None
    fractional = replace(plan, orders=(replace(plan.orders[1], qty=D("60.5"), fractional=True),))
    halted = replace(
        snap,
        assets={
            "AAA": replace(snap.assets["AAA"], tradable=False),
            "BBB": replace(snap.assets["BBB"], fractionable=False),
        },
    )
    finding = checks.check_assets(fractional, halted, ctx())
    assert finding is not None
    assert finding.message == "BBB not fractionable (qty 60.5)"
    finding = checks.check_assets(plan, halted, ctx())
    assert finding is not None
    assert finding.message == "AAA not tradable"


def test_open_orders_on_planned_symbols_block_unless_cancel_open() -> None:
    plan, snap = world()
    assert checks.check_open_orders(plan, snap, ctx()) is None
    busy = replace(
        snap,
        open_orders=(BrokerOrder("o1", "c1", "BBB", Side.BUY, D(1), D(1), OrderStatus.NEW),),
    )
    finding = checks.check_open_orders(plan, busy, ctx())
    assert finding is not None
    assert finding.message == "open orders already exist for BBB"
    assert checks.check_open_orders(plan, busy, ctx(cancel_open=True)) is None


def test_a_plan_already_executed_blocks_unless_forced() -> None:
    plan, snap = world()
    assert checks.check_already_executed(plan, snap, ctx()) is None
    finding = checks.check_already_executed(plan, snap, ctx(already_executed=("run-1",)))
    assert finding is not None
    assert finding.message == f"plan {plan.plan_id} already sent orders in run run-1"
    assert (
        checks.check_already_executed(plan, snap, ctx(already_executed=("run-1",), force=True))
        is None
    )


@pytest.mark.parametrize(
    ("account_id", "broker", "blocks"),
    [("T-1", "sim", False), ("T-2", "sim", True), ("T-1", "alpaca-paper", True)],
)
def test_plan_must_belong_to_this_account(account_id: str, broker: str, blocks: bool) -> None:
    plan, snap = world()
    other = replace(snap, account=Account(account_id, D(0), D(0)), broker=broker)
    finding = checks.check_plan_account(plan, other, ctx())
    assert (finding is not None) is blocks


def test_no_orders_means_nothing_to_block_on_account_state() -> None:
    plan, snap = world()
    empty = replace(plan, orders=())
    blocked = replace(snap, account=replace(snap.account, account_blocked=True))
    assert checks.check_account_status(empty, blocked, ctx()) is None
    assert checks.check_buying_power(empty, blocked, ctx()) is None


def test_limits_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Limits(max_order_notional=Decimal(-1))
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        Limits(max_order_notionl=Decimal(1))  # type: ignore[call-arg]
