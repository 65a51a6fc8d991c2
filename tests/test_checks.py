"""Each pre-trade check: one case that passes and one that blocks, with exact messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from alchemiser_cli.core import checks
from alchemiser_cli.core.calendar import NyseCalendar
from alchemiser_cli.core.checks import CHECKS, CheckContext, Finding, Severity, Unit, run_checks
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
CAL = NyseCalendar.around(date(2026, 11, 24))
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
    assert list(by_id) == [c[0] for c in CHECKS]
    # Session edges and quote age only apply while the market is open; assets need a
    # broken asset record. Each has its own blocking test below. plan.unreachable only
    # ever warns (tested below).
    open_only = {"market.session_edge", "prices.quote_age", "assets.tradable", "plan.unreachable"}
    # The signal.* checks need a plan made from strategies (tests/test_strategy_wiring.py);
    # signal.warmup only ever warns (tests/test_strategy_program.py).
    open_only |= {"signal.tradable", "signal.fragile", "signal.stale", "signal.warmup"}
    assert {i for i, f in by_id.items() if f.severity is not Severity.BLOCK} == open_only


def test_account_status_blocks_a_restricted_account() -> None:
    plan, snap = world()
    assert checks.check_account_status(plan, snap, ctx()) is None
    blocked = replace(snap, account=replace(snap.account, trading_blocked=True, status="INACTIVE"))
    finding = checks.check_account_status(plan, blocked, ctx())
    assert finding is not None
    assert finding.message == "account T-1 cannot trade: status INACTIVE, trading_blocked"
    assert figures(finding) == (None, None, None, None)


def test_buying_power_counts_sell_proceeds_and_blocks_beyond() -> None:
    plan, snap = world()
    assert checks.check_buying_power(plan, snap, ctx()) is None
    poorer = replace(snap, account=replace(snap.account, buying_power=D(3000)))
    finding = checks.check_buying_power(plan, poorer, ctx())
    assert finding is not None
    assert finding.message == (
        "buys need up to $6,000.00 at their limit prices; cash $3,000.00 + sells $1,999.93 "
        "= $4,999.93"
    )
    assert figures(finding) == (None, D(6000), D("4999.93"), Unit.USD)


def test_cash_accounts_may_reinvest_unsettled_proceeds() -> None:
    plan, snap = world()
    unsettled = replace(snap, account=replace(snap.account, settled_cash=D(0)))
    assert checks.check_buying_power(plan, unsettled, ctx()) is None


def test_selling_todays_buys_while_proceeds_are_unsettled_is_a_good_faith_violation() -> None:
    plan, snap = world()  # the plan sells AAA
    assert snap.account.account_type == "cash"
    bought_aaa = (Fill("AAA", Side.BUY, D(1), D(100), NOW),)
    sold_bbb = (Fill("BBB", Side.SELL, D(2), D(40), NOW),)
    # Bought today, but no proceeds are unsettled: the buy was paid with settled cash.
    assert checks.check_good_faith(plan, replace(snap, fills_today=bought_aaa), ctx()) is None
    # Sold something else today too: the AAA buy may have used those proceeds.
    risky = replace(snap, fills_today=bought_aaa + sold_bbb)
    finding = checks.check_good_faith(plan, risky, ctx())
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
    assert checks.check_good_faith(plan, gap, ctx()) is not None
    # Margin accounts are not subject to it.
    margin = replace(risky, account=replace(snap.account, account_type="margin"))
    assert checks.check_good_faith(plan, margin, ctx()) is None


def test_open_buy_orders_hold_back_cash() -> None:
    plan, snap = world()
    small = (BrokerOrder("o", "c", "ZZZ", Side.BUY, D(10), D(100), OrderStatus.NEW, D(5)),)
    assert checks.check_buying_power(plan, replace(snap, open_orders=small), ctx()) is None
    large = (BrokerOrder("o", "c", "ZZZ", Side.BUY, D(30), D(100), OrderStatus.NEW),)
    finding = checks.check_buying_power(plan, replace(snap, open_orders=large), ctx())
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
    assert checks.check_buying_power(plan, margin, ctx()) is not None
    assert checks.check_buying_power(plan, margin, ctx(limits=Limits(allow_margin=True))) is None


def test_order_notional_limit() -> None:
    plan, snap = world()
    assert checks.check_order_notional(plan, snap, ctx()) is None
    finding = checks.check_order_notional(
        plan, snap, ctx(limits=Limits(max_order_notional=D(5000)))
    )
    assert finding is not None
    assert finding.message == (
        "1 order(s) above max_order_notional $5,000.00: largest buy BBB $6,000.00"
    )
    assert figures(finding) == ("BBB", D(6000), D(5000), Unit.USD)
    assert (
        checks.check_order_notional(plan, snap, ctx(limits=Limits(max_order_notional=None))) is None
    )


def test_order_share_of_equity_limit() -> None:
    plan, snap = world()
    assert checks.check_order_pct(plan, snap, ctx()) is None
    finding = checks.check_order_pct(plan, snap, ctx(limits=Limits(max_order_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == ("buy BBB $6,000.00 is 60% of equity, above max_order_pct 50%")
    assert figures(finding) == ("BBB", D("0.6"), D("0.5"), Unit.RATIO)


def test_order_count_limit() -> None:
    plan, snap = world()
    assert checks.check_max_orders(plan, snap, ctx()) is None
    finding = checks.check_max_orders(plan, snap, ctx(limits=Limits(max_orders=1)))
    assert finding is not None
    assert finding.message == "plan has 2 orders, above max_orders 1"
    assert figures(finding) == (None, D(2), D(1), Unit.COUNT)


def test_turnover_limit() -> None:
    plan, snap = world()
    assert checks.check_turnover(plan, snap, ctx()) is None
    finding = checks.check_turnover(plan, snap, ctx(limits=Limits(max_turnover_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == "turnover 80% is above max_turnover_pct 50%"
    assert figures(finding) == (None, D("0.8"), D("0.5"), Unit.RATIO)


def test_daily_notional_adds_what_already_traded_today() -> None:
    plan, snap = world()
    assert checks.check_daily_notional(plan, snap, ctx()) is None
    finding = checks.check_daily_notional(
        plan, snap, ctx(limits=Limits(max_daily_notional=D(10000)), traded_today=D(2500))
    )
    assert finding is not None
    assert finding.message == (
        "today $2,500.00 + this plan $8,000.00 is above max_daily_notional $10,000.00"
    )
    assert figures(finding) == (None, D(10500), D(10000), Unit.USD)


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
    assert figures(finding) == ("BBB", None, None, None)
    finding = checks.check_assets(plan, halted, ctx())
    assert finding is not None
    assert finding.message == "AAA not tradable"


def test_open_orders_on_planned_symbols_block_and_allowing_them_warns_by_name() -> None:
    plan, snap = world()
    assert checks.check_open_orders(plan, snap, ctx()) is None
    busy = replace(
        snap,
        open_orders=(BrokerOrder("o1", "c1", "BBB", Side.BUY, D(1), D(1), OrderStatus.NEW),),
    )
    finding = checks.check_open_orders(plan, busy, ctx())
    assert finding is not None
    assert finding.message == "open orders already exist for BBB"
    assert finding.hint == "wait for them, cancel them, or pass --allow-open-orders"
    assert (finding.severity, finding.bypassed_by, finding.symbol) == (Severity.BLOCK, None, "BBB")
    # Allowed, the check does not pass (its pass text would say there are none): it warns.
    allowed = checks.check_open_orders(plan, busy, ctx(cancel_open=True))
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
    assert checks.check_already_executed(plan, snap, ctx()) is None
    finding = checks.check_already_executed(plan, snap, ctx(already_executed=("run-1",)))
    assert finding is not None
    assert finding.message == f"plan {plan.plan_id} already sent orders in run run-1"
    assert (finding.severity, finding.bypassed_by) == (Severity.BLOCK, None)
    # Forced, the check does not pass (its pass text says "plan not executed before"): it warns.
    forced = checks.check_already_executed(
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
    assert (
        checks.check_already_executed(empty, snap, ctx(already_executed=("r",), force=True)) is None
    )


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


# -- market calendar --------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("2026-11-26T15:00:00Z", "market closed: Thanksgiving (2026-11-26); next session "
         "2026-11-27 09:30-13:00 ET (early close)"),
        ("2026-12-25T15:00:00Z", "market closed: Christmas (2026-12-25); next session "
         "2026-12-28 09:30-16:00 ET"),
        ("2027-01-01T15:00:00Z", "market closed: New Year's Day (2027-01-01); next session "
         "2027-01-04 09:30-16:00 ET"),
        ("2026-11-28T15:00:00Z", "market closed: Saturday 2026-11-28; next session "
         "2026-11-30 09:30-16:00 ET"),
        ("2026-11-24T22:00:00Z", "market closed: after the close at 16:00 ET (now 17:00 ET); "
         "next session 2026-11-25 09:30-16:00 ET"),
        ("2026-11-27T18:30:00Z", "market closed: after the early close at 13:00 ET (now 13:30 ET); "
         "next session 2026-11-30 09:30-16:00 ET"),
        ("2026-11-24T13:00:00Z", "market closed: before the open at 09:30 ET (now 08:00 ET); "
         "next session 2026-11-24 09:30-16:00 ET"),
    ],
)  # fmt: skip
def test_closed_market_blocks_naming_why_and_the_next_session(when: str, message: str) -> None:
    plan, snap = world()
    finding = checks.check_market_open(plan, snap, ctx(market=CAL.state(at(when))))
    assert finding is not None
    assert (finding.severity, finding.message) == (Severity.BLOCK, message)


@pytest.mark.parametrize("when", ["2026-11-24T15:00:00Z", "2026-11-27T17:00:00Z"])
def test_open_market_passes_on_a_normal_tuesday_and_the_early_close_morning(when: str) -> None:
    plan, snap = world()
    assert checks.check_market_open(plan, snap, ctx(market=CAL.state(at(when)))) is None


def test_queue_for_open_turns_the_block_into_a_warning() -> None:
    plan, snap = world()
    market = CAL.state(at("2026-11-26T15:00:00Z"))
    finding = checks.check_market_open(plan, snap, ctx(market=market, queue_for_open=True))
    assert finding is not None
    assert finding.severity is Severity.WARN
    assert finding.message.endswith("; day orders will queue for that session")


def test_early_close_day_ends_at_13_00() -> None:
    state = CAL.state(at("2026-12-24T17:56:00Z"))  # 12:56 ET on Christmas Eve
    assert state.is_open
    assert state.session is not None
    assert state.session.early_close
    plan, snap = world()
    finding = checks.check_session_edges(plan, snap, ctx(market=state))
    assert finding is not None
    assert finding.message == "4 min before the close; no orders in the last 5 min"
    assert figures(finding) == (None, D(4), D(5), Unit.MINUTES)
    assert not CAL.state(at("2026-12-24T18:00:00Z")).is_open


def test_first_minutes_of_the_session_are_avoided() -> None:
    plan, snap = world()
    state = CAL.state(at("2026-11-24T14:32:00Z"))  # 09:32 ET
    finding = checks.check_session_edges(plan, snap, ctx(market=state))
    assert finding is not None
    assert finding.message == "2 min after the open; no orders in the first 5 min"
    assert figures(finding) == (None, D(2), D(5), Unit.MINUTES)
    assert checks.check_session_edges(plan, snap, ctx(market=CAL.state(NOW))) is None


# -- day trading ------------------------------------------------------------------------


def test_round_trip_today_warns_without_a_legacy_count() -> None:
    plan, snap = world()
    assert checks.check_day_trades(plan, snap, ctx()) is None
    traded = replace(snap, fills_today=(Fill("AAA", Side.BUY, D(1), D(100), NOW),))
    finding = checks.check_day_trades(plan, traded, ctx())
    assert finding is not None
    assert (finding.severity, finding.message) == (
        Severity.WARN,
        "plan reverses today's trades in AAA (same-session round trip)",
    )
    assert figures(finding) == ("AAA", None, None, None)


def test_legacy_pdt_count_blocks_small_accounts_only() -> None:
    plan, snap = world()
    fills = (Fill("BBB", Side.SELL, D(1), D(100), NOW),)
    counted = replace(snap, fills_today=fills, account=replace(snap.account, daytrade_count=3))
    finding = checks.check_day_trades(plan, counted, ctx())
    assert finding is not None
    assert (finding.severity, finding.message) == (
        Severity.BLOCK,
        "1 day trade(s) (BBB) with 3 already counted and equity $10,000.00 under $25,000.00 "
        "(legacy PDT rule)",
    )
    assert figures(finding) == ("BBB", D(10000), D(25000), Unit.USD)
    few = replace(counted, account=replace(counted.account, daytrade_count=2))
    warn = checks.check_day_trades(plan, few, ctx())
    assert warn is not None
    assert warn.severity is Severity.WARN


# -- concentration ----------------------------------------------------------------------


def test_position_weight_limit() -> None:
    plan, snap = world()
    assert (
        checks.check_position_weight(plan, snap, ctx(limits=Limits(max_position_weight=D("0.6"))))
        is None
    )
    finding = checks.check_position_weight(
        plan, snap, ctx(limits=Limits(max_position_weight=D("0.5")))
    )
    assert finding is not None
    assert finding.message == "BBB would be 60% of equity, above max_position_weight 50%"
    assert figures(finding) == ("BBB", D("0.6"), D("0.5"), Unit.RATIO)


def test_sector_weight_limit() -> None:
    plan, snap = world()
    sectors = {"AAA": "equity", "BBB": "equity"}
    limits = Limits(max_sector_weight=D("0.7"))
    finding = checks.check_sector_weight(plan, snap, ctx(limits=limits, sectors=sectors))
    assert finding is not None
    assert finding.message == "sector equity would be 80% of equity, above max_sector_weight 70%"
    assert figures(finding) == (None, D("0.8"), D("0.7"), Unit.RATIO)
    split = {"AAA": "equity", "BBB": "bonds"}
    assert checks.check_sector_weight(plan, snap, ctx(limits=limits, sectors=split)) is None
    assert checks.check_sector_weight(plan, snap, ctx(limits=limits)) is None


# -- prices and staleness ---------------------------------------------------------------


def test_wide_spread_blocks() -> None:
    plan, snap = world()
    assert checks.check_spreads(plan, snap, ctx()) is None
    wide = replace(snap, quotes={**snap.quotes, "BBB": replace(snap.quotes["BBB"], ask=D(102))})
    finding = checks.check_spreads(plan, wide, ctx())
    assert finding is not None
    assert finding.message == "spread above max_spread_bps 100: BBB 198.0 bps"
    symbol, value, limit, unit = figures(finding)
    assert value is not None
    assert (symbol, value.quantize(D("0.0001")), limit, unit) == (
        "BBB",
        D("198.0198"),  # 2 / 101 of the mid, exact in the field
        D(100),
        Unit.BPS,
    )


def test_limit_prices_must_sit_inside_their_collar() -> None:
    snap = make_snapshot(
        "6000", positions={"AAA": "40"}, quotes={"AAA": ("100", "100"), "BBB": ("100", "100")}
    )
    plan = build_plan(snap, Targets({"AAA": D("0.2"), "BBB": D("0.6")}, "t"), PlannerPolicy(), NOW)
    assert checks.check_collar(plan, snap, ctx()) is None  # limits 99.50 and 100.50
    cheaper = replace(snap, quotes={
        "AAA": replace(snap.quotes["AAA"], bid=D(101), ask=D(101)),
        "BBB": replace(snap.quotes["BBB"], bid=D(99), ask=D(99)),
    })  # fmt: skip
    finding = checks.check_collar(plan, cheaper, ctx())
    assert finding is not None
    assert finding.message == (
        "limit outside its collar: sell AAA limit 99.5 < bid 101 - 50 bps; "
        "buy BBB limit 100.5 > ask 99 + 50 bps"
    )
    # The first order outside: AAA's limit against the lowest limit its collar allows
    # (bid 101 less 50 bps, less one tick).
    assert figures(finding) == ("AAA", D("99.5"), D("100.485"), Unit.USD)


def test_stale_quotes_block_while_open() -> None:
    plan, snap = world()
    fresh = replace(snap, quotes={s: replace(q, as_of=NOW) for s, q in snap.quotes.items()})
    assert checks.check_quote_age(plan, fresh, ctx(market=CAL.state(NOW))) is None
    old = replace(snap, quotes={
        "AAA": replace(snap.quotes["AAA"], as_of=NOW - timedelta(seconds=90)),
        "BBB": replace(snap.quotes["BBB"], as_of=None),
    })  # fmt: skip
    finding = checks.check_quote_age(plan, old, ctx(market=CAL.state(NOW)))
    assert finding is not None
    assert finding.message == "quotes older than max_quote_age_s 60 s: AAA (90 s), BBB (no time)"
    assert figures(finding) == ("BBB", None, D(60), Unit.SECONDS)  # no time is the worst
    only_old = replace(old, quotes={**old.quotes, "BBB": fresh.quotes["BBB"]})
    aged = checks.check_quote_age(plan, only_old, ctx(market=CAL.state(NOW)))
    assert figures(aged) == ("AAA", D(90), D(60), Unit.SECONDS)
    closed = CAL.state(at("2026-11-26T15:00:00Z"))
    assert checks.check_quote_age(plan, old, ctx(market=closed)) is None


def test_old_saved_plan_blocks() -> None:
    plan, snap = world()
    assert checks.check_plan_age(plan, snap, ctx(saved_plan=True)) is None
    later = ctx(saved_plan=True, now=NOW + timedelta(minutes=20))
    finding = checks.check_plan_age(plan, snap, later)
    assert finding is not None
    assert finding.message == "plan is 20 min old, above max_plan_age_s 900 s"
    assert figures(finding) == (None, D(1200), D(900), Unit.SECONDS)
    assert checks.check_plan_age(plan, snap, ctx(now=NOW + timedelta(minutes=20))) is None
    earlier = ctx(saved_plan=True, now=NOW - timedelta(seconds=90))  # dated in the future
    ahead = checks.check_plan_age(plan, snap, earlier)
    assert ahead is not None
    assert ahead.message.endswith(", 90 s in the future (more than 60 s of clock skew)")
    assert figures(ahead) == (None, D(90), D(60), Unit.SECONDS)


def test_price_move_since_a_saved_plan_blocks() -> None:
    plan, snap = world()
    assert checks.check_price_moves(plan, snap, ctx(saved_plan=True)) is None
    moved = replace(
        snap, quotes={**snap.quotes, "BBB": replace(snap.quotes["BBB"], bid=D(103), ask=D(103))}
    )
    finding = checks.check_price_moves(plan, moved, ctx(saved_plan=True))
    assert finding is not None
    assert finding.message == "prices moved more than 2% since the plan: BBB 100 -> 103 (3%)"
    assert figures(finding) == ("BBB", D("0.03"), D("0.02"), Unit.RATIO)
    assert checks.check_price_moves(plan, moved, ctx()) is None


def test_a_saved_plan_blocks_when_the_holdings_changed_since() -> None:
    plan, snap = world()  # made from AAA 40, BBB none
    assert checks.check_positions_unchanged(plan, snap, ctx(saved_plan=True)) is None
    traded = replace(
        snap, positions={"AAA": Position("AAA", D(20)), "CCC": Position("CCC", D("1.5"))}
    )
    finding = checks.check_positions_unchanged(plan, traded, ctx(saved_plan=True))
    assert finding is not None
    assert finding.severity is Severity.BLOCK
    assert finding.message == "holdings changed since the plan: AAA 40 -> 20, CCC 0 -> 1.5"
    assert figures(finding) == ("AAA", D(20), D(40), Unit.SHARES)  # now, against the plan's
    bought = replace(snap, positions={**snap.positions, "BBB": Position("BBB", D(60))})
    finding = checks.check_positions_unchanged(plan, bought, ctx(saved_plan=True))
    assert finding is not None
    assert finding.message == "holdings changed since the plan: BBB 0 -> 60"
    # A fresh plan is made from this very snapshot: nothing to compare.
    assert checks.check_positions_unchanged(plan, traded, ctx()) is None


def test_a_sell_beyond_the_position_blocks_as_a_short() -> None:
    plan, snap = world()  # sells 20 of the 40 AAA held
    assert checks.check_no_short(plan, snap, ctx()) is None
    exact = replace(snap, positions={"AAA": Position("AAA", D(20))})
    assert checks.check_no_short(plan, exact, ctx()) is None
    for positions, held in (({"AAA": Position("AAA", D("19.5"))}, "19.5"), ({}, "0")):
        finding = checks.check_no_short(plan, replace(snap, positions=positions), ctx())
        assert finding is not None
        assert finding.severity is Severity.BLOCK
        assert finding.message == (
            f"sells beyond the position (they would open a short): AAA sells 20, holds {held}"
        )
        assert figures(finding) == ("AAA", D(20), D(held), Unit.SHARES)


def test_a_target_under_half_a_share_is_a_warning_not_silent() -> None:
    # Equity 100,000; a 60% target is 60,000 of a 748,000 share: 0 shares is the nearest
    # whole number, so the plan holds none (within_one_share) and the check says so.
    snap = make_snapshot(
        "100000", quotes={"BRK.A": ("748000", "748000")}, non_fractionable=("BRK.A",)
    )
    plan = build_plan(snap, Targets({"BRK.A": D("0.6")}, "test"), PlannerPolicy(), NOW)
    assert plan.orders == ()
    finding = checks.check_unreachable_targets(plan, snap, ctx())
    assert finding is not None
    assert finding.severity is Severity.WARN
    assert finding.message == (
        "BRK.A: its 60% target ($60,000.00) is under half of one share ($748,000.00), "
        "so it stays at 0 shares"
    )
    assert figures(finding) == ("BRK.A", D(60000), D(374000), Unit.USD)  # half a share
    cheaper = make_snapshot(
        "100000", quotes={"BRK.A": ("50000", "50000")}, non_fractionable=("BRK.A",)
    )
    reachable = build_plan(cheaper, Targets({"BRK.A": D("0.6")}, "test"), PlannerPolicy(), NOW)
    assert [(o.symbol, o.qty) for o in reachable.orders] == [("BRK.A", D(1))]
    assert checks.check_unreachable_targets(reachable, cheaper, ctx()) is None
