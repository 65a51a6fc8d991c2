"""Each pre-trade check: one case that passes and one that blocks, with exact messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from alchemiser_cli.calendar_table import calendar_around
from alchemiser_cli.core.checks.account import (
    check_account_status,
    check_buying_power,
    check_good_faith,
)
from alchemiser_cli.core.checks.assets import check_assets
from alchemiser_cli.core.checks.orders import check_open_orders
from alchemiser_cli.core.checks.plan import (
    check_already_executed,
    check_plan_account,
)
from alchemiser_cli.core.checks.record import CheckContext, Finding, Severity, Unit
from alchemiser_cli.core.checks.run import CHECKS, run_checks
from alchemiser_cli.core.models import (
    Account,
    BrokerOrder,
    Fill,
    OrderStatus,
    Position,
    Side,
    Snapshot,
)
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import Limits, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York: open
CAL = calendar_around(date(2026, 11, 24))
POLICY = PlannerPolicy(collar_bps=D(0))


def world() -> tuple[Plan, Snapshot]:
    """Equity 10,000: sell 20 AAA (2,000 less $0.07 fees), buy 60 BBB (6,000)."""
    snap = make_snapshot(
        "6000", positions={"AAA": "40"}, quotes={"AAA": ("100", "100"), "BBB": ("100", "100")}
    )
    plan = build_plan(snap, Targets({"AAA": D("0.2"), "BBB": D("0.6")}, "t"), POLICY, NOW)
    return plan, snap


def ctx(**changes: object) -> CheckContext:
    return replace(CheckContext(limits=Limits(), now=NOW), **changes)  # type: ignore[arg-type]


def figures(
    finding: Finding | None,
) -> tuple[str | None, Decimal | None, Decimal | None, Unit | None]:
    """The structured figures of a finding: (symbol, value, limit, unit)."""
    assert finding is not None
    return finding.symbol, finding.value, finding.limit, finding.unit


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


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
    assert [f.check_id for f in report.findings] == [c.check_id for c in CHECKS]
    assert all(f.severity is Severity.PASS for f in report.findings)
    assert report.warnings == ()


def test_a_pass_that_looked_at_nothing_says_why_instead_of_its_claim() -> None:
    plan, snap = world()
    blocked = replace(snap, account=replace(snap.account, trading_blocked=True))
    quiet = ctx(
        market=CAL.state(at("2026-11-26T15:00:00Z")),  # Thanksgiving
        limits=Limits(max_order_notional=None),
        already_executed=("r1",),
    )
    report = run_checks(replace(plan, orders=()), blocked, quiet)
    assert all(f.severity is Severity.PASS for f in report.findings)
    said = {f.check_id: f.message for f in report.findings}
    assert {i: said[i] for i in (
        "market.closed", "market.session_edge", "account.status", "plan.already_executed",
        "prices.quote_age", "limits.order_notional", "limits.position_weight",
        "limits.sector_weight", "limits.max_orders",
    )} == {
        "market.closed": "not checked: the plan sends no orders",  # not "market open now"
        "market.session_edge": "not checked: the plan sends no orders",
        "account.status": "not checked: the plan sends no orders",  # not "account active"
        "plan.already_executed": "not checked: the plan sends no orders",
        "prices.quote_age": "not checked: the market is closed",  # not "quotes fresh"
        "limits.order_notional": "not checked: [limits] max_order_notional is off",
        "limits.position_weight": "not checked: [limits] max_position_weight is off",
        "limits.sector_weight": "not checked: [limits] max_sector_weight is off",
        "limits.max_orders": "order count within max_orders",  # checked: its own words
    }  # fmt: skip
    fresh = replace(snap, quotes={s: replace(q, as_of=NOW) for s, q in snap.quotes.items()})
    trading = run_checks(
        plan, fresh, ctx(market=CAL.state(NOW), limits=Limits(max_sector_weight=D("0.5")))
    )
    said = {f.check_id: f.message for f in trading.findings}
    assert said["market.closed"] == "market open now"
    assert said["prices.quote_age"] == "quotes fresh"
    assert said["limits.sector_weight"] == "not checked: no sectors ([sectors] or sectors_file)"
    fresh_plan = "not checked: a fresh plan, made from this very account state"
    assert [said[i] for i in ("plan.age", "plan.positions", "prices.moved")] == [fresh_plan] * 3
    saved = {f.check_id: f.message for f in run_checks(plan, snap, ctx(saved_plan=True)).findings}
    assert saved["plan.positions"] == "holdings as the saved plan found them"
    no_clock = {f.check_id: f.message for f in run_checks(plan, snap, ctx()).findings}
    assert no_clock["market.closed"] == "not checked: no market clock"


def test_every_check_can_block_and_reports_under_its_own_id() -> None:
    plan, snap = world()
    bad = replace(
        snap,
        broker="other",
        account=replace(snap.account, status="CLOSED", buying_power=D(0), daytrade_count=5),
        positions={"AAA": Position("AAA", D(10))},  # sold by hand since the plan
        open_orders=(BrokerOrder("o1", "c1", "BBB", Side.BUY, D(1), D(1), OrderStatus.NEW),),
        quotes={  # wide, moved, and past both limits' collars
            "AAA": replace(snap.quotes["AAA"], bid=D(200), ask=D(600)),
            "BBB": replace(snap.quotes["BBB"], bid=D(10), ask=D(50)),
        },
        fills_today=(
            Fill("AAA", Side.BUY, D(1), D(100), NOW),
            Fill("CCC", Side.SELL, D(1), D(100), NOW),
        ),
    )
    limits = Limits(
        max_order_notional=D(1),
        max_order_pct=D("0.01"),
        max_orders=1,
        max_turnover_pct=D("0.01"),
        max_daily_notional=D(1),
        max_position_weight=D("0.01"),
        max_sector_weight=D("0.01"),
        max_plan_age_s=1,
    )
    closed = ctx(
        limits=limits,
        already_executed=("r1",),
        saved_plan=True,
        now=NOW + timedelta(hours=1),
        market=CAL.state(at("2026-11-26T15:00:00Z")),
        sectors={"AAA": "tech"},
    )
    by_id = {f.check_id: f for f in run_checks(plan, bad, closed).findings}
    assert list(by_id) == [c.check_id for c in CHECKS]
    # Session edges and quote age only apply while the market is open; assets need a
    # broken asset record. Each has its own blocking test below. plan.unreachable only
    # ever warns (tested below).
    open_only = {"market.session_edge", "prices.quote_age", "assets.tradable", "plan.unreachable"}
    # The signal.* checks need a plan made from strategies (tests/test_strategy_wiring.py);
    # signal.warmup only ever warns (tests/test_strategy_program.py).
    open_only |= {"signal.tradable", "signal.fragile", "signal.stale", "signal.warmup"}
    # The tax checks never block, and need a plan with a tax estimate (tests/test_tax_*.py).
    open_only |= {"tax.wash_sale", "tax.lots"}
    assert {i for i, f in by_id.items() if f.severity is not Severity.BLOCK} == open_only


def test_account_status_blocks_a_restricted_account() -> None:
    plan, snap = world()
    assert check_account_status(plan, snap, ctx()) is None
    blocked = replace(snap, account=replace(snap.account, trading_blocked=True, status="INACTIVE"))
    finding = check_account_status(plan, blocked, ctx())
    assert finding is not None
    assert finding.message == "account T-1 cannot trade: status INACTIVE, trading_blocked"
    assert figures(finding) == (None, None, None, None)


def test_buying_power_counts_sell_proceeds_and_blocks_beyond() -> None:
    plan, snap = world()
    assert check_buying_power(plan, snap, ctx()) is None
    poorer = replace(snap, account=replace(snap.account, buying_power=D(3000)))
    finding = check_buying_power(plan, poorer, ctx())
    assert finding is not None
    assert finding.message == (
        "buys need up to $6,000.00 at their limit prices; cash $3,000.00 + sells $1,999.93 "
        "= $4,999.93"
    )
    assert figures(finding) == (None, D(6000), D("4999.93"), Unit.USD)


def test_cash_accounts_may_reinvest_unsettled_proceeds() -> None:
    plan, snap = world()
    unsettled = replace(snap, account=replace(snap.account, settled_cash=D(0)))
    assert check_buying_power(plan, unsettled, ctx()) is None


def test_selling_todays_buys_while_proceeds_are_unsettled_is_a_good_faith_violation() -> None:
    plan, snap = world()  # the plan sells AAA
    assert snap.account.account_type == "cash"
    bought_aaa = (Fill("AAA", Side.BUY, D(1), D(100), NOW),)
    sold_bbb = (Fill("BBB", Side.SELL, D(2), D(40), NOW),)
    # Bought today, but no proceeds are unsettled: the buy was paid with settled cash.
    assert check_good_faith(plan, replace(snap, fills_today=bought_aaa), ctx()) is None
    # Sold something else today too: the AAA buy may have used those proceeds.
    risky = replace(snap, fills_today=bought_aaa + sold_bbb)
    finding = check_good_faith(plan, risky, ctx())
    assert finding is not None
    assert finding.severity is Severity.BLOCK
    assert finding.message == (
        "sells AAA bought today while $80.00 of sale proceeds are unsettled (T+1): "
        "a good-faith violation in a cash account"
    )
    assert figures(finding) == ("AAA", D(80), None, Unit.USD)
    # Unsettled cash reported by the broker counts the same way.
    gap = replace(
        snap,
        fills_today=bought_aaa,
        account=replace(snap.account, settled_cash=snap.account.cash - 5),
    )
    assert check_good_faith(plan, gap, ctx()) is not None
    # Margin accounts are not subject to it.
    margin = replace(risky, account=replace(snap.account, account_type="margin"))
    assert check_good_faith(plan, margin, ctx()) is None


def test_open_buy_orders_hold_back_cash() -> None:
    plan, snap = world()
    small = (BrokerOrder("o", "c", "ZZZ", Side.BUY, D(10), D(100), OrderStatus.NEW, D(5)),)
    assert check_buying_power(plan, replace(snap, open_orders=small), ctx()) is None
    large = (BrokerOrder("o", "c", "ZZZ", Side.BUY, D(30), D(100), OrderStatus.NEW),)
    finding = check_buying_power(plan, replace(snap, open_orders=large), ctx())
    assert finding is not None
    assert finding.message.endswith(
        "cash $6,000.00 - open buys $3,000.00 + sells $1,999.93 = $4,999.93"
    )


def test_margin_is_used_only_when_allowed() -> None:
    plan, snap = world()
    margin = replace(
        snap,
        account=replace(snap.account, account_type="margin", cash=D(1000), buying_power=D(20000)),
    )
    assert check_buying_power(plan, margin, ctx()) is not None
    assert check_buying_power(plan, margin, ctx(limits=Limits(allow_margin=True))) is None


def test_assets_must_be_tradable_and_fractionable_for_fractions() -> None:
    plan, snap = world()
    assert check_assets(plan, snap, ctx()) is None
    fractional = replace(plan, orders=(replace(plan.orders[1], qty=D("60.5"), fractional=True),))
    halted = replace(
        snap,
        assets={
            "AAA": replace(snap.assets["AAA"], tradable=False),
            "BBB": replace(snap.assets["BBB"], fractionable=False),
        },
    )
    finding = check_assets(fractional, halted, ctx())
    assert finding is not None
    assert finding.message == "BBB not fractionable (qty 60.5)"
    assert figures(finding) == ("BBB", None, None, None)
    finding = check_assets(plan, halted, ctx())
    assert finding is not None
    assert finding.message == "AAA not tradable"


def test_open_orders_on_planned_symbols_block_and_allowing_them_warns_by_name() -> None:
    plan, snap = world()
    assert check_open_orders(plan, snap, ctx()) is None
    busy = replace(
        snap,
        open_orders=(BrokerOrder("o1", "c1", "BBB", Side.BUY, D(1), D(1), OrderStatus.NEW),),
    )
    finding = check_open_orders(plan, busy, ctx())
    assert finding is not None
    assert finding.message == "open orders already exist for BBB"
    assert finding.hint == "wait for them, cancel them, or pass --allow-open-orders"
    assert (finding.severity, finding.bypassed_by, finding.symbol) == (Severity.BLOCK, None, "BBB")
    # Allowed, the check does not pass (its pass text would say there are none): it warns.
    allowed = check_open_orders(plan, busy, ctx(cancel_open=True))
    assert allowed == Finding(
        "orders.open_conflict",
        Severity.WARN,
        "bypassed by --allow-open-orders: open orders already exist for BBB",
        "those orders stay open and may fill beside this plan's; alch cancels nothing",
        symbol="BBB",
        bypassed_by="--allow-open-orders",
    )


def test_a_plan_already_executed_blocks_and_forcing_it_warns_by_name() -> None:
    plan, snap = world()
    assert check_already_executed(plan, snap, ctx()) is None
    finding = check_already_executed(plan, snap, ctx(already_executed=("run-1",)))
    assert finding is not None
    assert finding.message == f"plan {plan.plan_id} already sent orders in run run-1"
    assert (finding.severity, finding.bypassed_by) == (Severity.BLOCK, None)
    # Forced, the check does not pass (its pass text says "plan not executed before"): it warns.
    forced = check_already_executed(
        plan, snap, ctx(already_executed=("run-0", "run-1"), force=True)
    )
    assert forced == Finding(
        "plan.already_executed",
        Severity.WARN,
        "bypassed by --force: the journal shows this plan ran in run run-1",
        "its orders are sent again; check `alch status` for what the first run did",
        bypassed_by="--force",
    )
    # Nothing to send: nothing is sent again, nothing to warn about.
    empty = replace(plan, orders=())
    assert check_already_executed(empty, snap, ctx(already_executed=("r",), force=True)) is None


def test_bypassed_checks_warn_in_the_report_and_do_not_block() -> None:
    plan, snap = world()
    busy = replace(
        snap,
        open_orders=(BrokerOrder("o1", "c1", "AAA", Side.SELL, D(1), D(1), OrderStatus.NEW),),
    )
    report = run_checks(plan, busy, ctx(already_executed=("r9",), force=True, cancel_open=True))
    assert not report.blocked
    assert [(f.check_id, f.bypassed_by) for f in report.warnings] == [
        ("orders.open_conflict", "--allow-open-orders"),
        ("plan.already_executed", "--force"),
    ]
    assert all(f.bypassed_by is None for f in report.findings if f not in report.warnings)


@pytest.mark.parametrize(
    ("account_id", "broker", "blocks"),
    [("T-1", "sim", False), ("T-2", "sim", True), ("T-1", "alpaca-paper", True)],
)
def test_plan_must_belong_to_this_account(account_id: str, broker: str, blocks: bool) -> None:
    plan, snap = world()
    other = replace(snap, account=Account(account_id, D(0), D(0)), broker=broker)
    finding = check_plan_account(plan, other, ctx())
    assert (finding is not None) is blocks


def test_no_orders_means_nothing_to_block_on_account_state() -> None:
    plan, snap = world()
    empty = replace(plan, orders=())
    blocked = replace(snap, account=replace(snap.account, account_blocked=True))
    assert check_account_status(empty, blocked, ctx()) is None
    assert check_buying_power(empty, blocked, ctx()) is None
