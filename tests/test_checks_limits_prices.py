"""Each limit, market, price and saved-plan check: one case that passes and one that
blocks, with exact messages (the engine and the account checks: tests/test_checks.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from alchemiser_cli.core.checks.daytrade import check_day_trades
from alchemiser_cli.core.checks.limits import (
    check_daily_notional,
    check_max_orders,
    check_order_notional,
    check_order_pct,
    check_position_weight,
    check_sector_weight,
    check_turnover,
)
from alchemiser_cli.core.checks.market import check_market_open, check_session_edges
from alchemiser_cli.core.checks.orders import check_no_short
from alchemiser_cli.core.checks.plan import (
    check_plan_age,
    check_positions_unchanged,
    check_unreachable_targets,
)
from alchemiser_cli.core.checks.prices import (
    check_collar,
    check_price_moves,
    check_quote_age,
    check_spreads,
)
from alchemiser_cli.core.checks.record import Severity, Unit
from alchemiser_cli.core.models import (
    Fill,
    Position,
    Side,
)
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import Limits, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import D, make_snapshot
from tests.test_checks import CAL, NOW, at, ctx, figures, world


def test_order_notional_limit() -> None:
    plan, snap = world()
    assert check_order_notional(plan, snap, ctx()) is None
    finding = check_order_notional(plan, snap, ctx(limits=Limits(max_order_notional=D(5000))))
    assert finding is not None
    assert finding.message == (
        "1 order(s) above max_order_notional $5,000.00: largest buy BBB $6,000.00"
    )
    assert figures(finding) == ("BBB", D(6000), D(5000), Unit.USD)
    assert check_order_notional(plan, snap, ctx(limits=Limits(max_order_notional=None))) is None


def test_order_share_of_equity_limit() -> None:
    plan, snap = world()
    assert check_order_pct(plan, snap, ctx()) is None
    finding = check_order_pct(plan, snap, ctx(limits=Limits(max_order_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == ("buy BBB $6,000.00 is 60% of equity, above max_order_pct 50%")
    assert figures(finding) == ("BBB", D("0.6"), D("0.5"), Unit.RATIO)


def test_order_count_limit() -> None:
    plan, snap = world()
    assert check_max_orders(plan, snap, ctx()) is None
    finding = check_max_orders(plan, snap, ctx(limits=Limits(max_orders=1)))
    assert finding is not None
    assert finding.message == "plan has 2 orders, above max_orders 1"
    assert figures(finding) == (None, D(2), D(1), Unit.COUNT)


def test_turnover_limit() -> None:
    plan, snap = world()
    assert check_turnover(plan, snap, ctx()) is None
    finding = check_turnover(plan, snap, ctx(limits=Limits(max_turnover_pct=D("0.5"))))
    assert finding is not None
    assert finding.message == "turnover 80% is above max_turnover_pct 50%"
    assert figures(finding) == (None, D("0.8"), D("0.5"), Unit.RATIO)


def test_daily_notional_adds_what_already_traded_today() -> None:
    plan, snap = world()
    assert check_daily_notional(plan, snap, ctx()) is None
    finding = check_daily_notional(
        plan, snap, ctx(limits=Limits(max_daily_notional=D(10000)), traded_today=D(2500))
    )
    assert finding is not None
    assert finding.message == (
        "today $2,500.00 + this plan $8,000.00 is above max_daily_notional $10,000.00"
    )
    assert figures(finding) == (None, D(10500), D(10000), Unit.USD)


def test_limits_reject_bad_values() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Limits(max_order_notional=Decimal(-1))
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        Limits(max_order_notionl=Decimal(1))  # type: ignore[call-arg]


# -- market calendar --------------------------------------------------------------------


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
    finding = check_market_open(plan, snap, ctx(market=CAL.state(at(when))))
    assert finding is not None
    assert (finding.severity, finding.message) == (Severity.BLOCK, message)


@pytest.mark.parametrize("when", ["2026-11-24T15:00:00Z", "2026-11-27T17:00:00Z"])
def test_open_market_passes_on_a_normal_tuesday_and_the_early_close_morning(when: str) -> None:
    plan, snap = world()
    assert check_market_open(plan, snap, ctx(market=CAL.state(at(when)))) is None


def test_queue_for_open_turns_the_block_into_a_warning() -> None:
    plan, snap = world()
    market = CAL.state(at("2026-11-26T15:00:00Z"))
    finding = check_market_open(plan, snap, ctx(market=market, queue_for_open=True))
    assert finding is not None
    assert finding.severity is Severity.WARN
    assert finding.message.endswith("; day orders will queue for that session")


def test_early_close_day_ends_at_13_00() -> None:
    state = CAL.state(at("2026-12-24T17:56:00Z"))  # 12:56 ET on Christmas Eve
    assert state.is_open
    assert state.session is not None
    assert state.session.early_close
    plan, snap = world()
    finding = check_session_edges(plan, snap, ctx(market=state))
    assert finding is not None
    assert finding.message == "4 min before the close; no orders in the last 5 min"
    assert figures(finding) == (None, D(4), D(5), Unit.MINUTES)
    assert not CAL.state(at("2026-12-24T18:00:00Z")).is_open


def test_first_minutes_of_the_session_are_avoided() -> None:
    plan, snap = world()
    state = CAL.state(at("2026-11-24T14:32:00Z"))  # 09:32 ET
    finding = check_session_edges(plan, snap, ctx(market=state))
    assert finding is not None
    assert finding.message == "2 min after the open; no orders in the first 5 min"
    assert figures(finding) == (None, D(2), D(5), Unit.MINUTES)
    assert check_session_edges(plan, snap, ctx(market=CAL.state(NOW))) is None


# -- day trading ------------------------------------------------------------------------


def test_round_trip_today_warns_without_a_legacy_count() -> None:
    plan, snap = world()
    assert check_day_trades(plan, snap, ctx()) is None
    traded = replace(snap, fills_today=(Fill("AAA", Side.BUY, D(1), D(100), NOW),))
    finding = check_day_trades(plan, traded, ctx())
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
    finding = check_day_trades(plan, counted, ctx())
    assert finding is not None
    assert (finding.severity, finding.message) == (
        Severity.BLOCK,
        "1 day trade(s) (BBB) with 3 already counted and equity $10,000.00 under $25,000.00 "
        "(legacy PDT rule)",
    )
    assert figures(finding) == ("BBB", D(10000), D(25000), Unit.USD)
    few = replace(counted, account=replace(counted.account, daytrade_count=2))
    warn = check_day_trades(plan, few, ctx())
    assert warn is not None
    assert warn.severity is Severity.WARN


# -- concentration ----------------------------------------------------------------------


def test_position_weight_limit() -> None:
    plan, snap = world()
    assert (
        check_position_weight(plan, snap, ctx(limits=Limits(max_position_weight=D("0.6")))) is None
    )
    finding = check_position_weight(plan, snap, ctx(limits=Limits(max_position_weight=D("0.5"))))
    assert finding is not None
    assert finding.message == "BBB would be 60% of equity, above max_position_weight 50%"
    assert figures(finding) == ("BBB", D("0.6"), D("0.5"), Unit.RATIO)


def test_sector_weight_limit() -> None:
    plan, snap = world()
    sectors = {"AAA": "equity", "BBB": "equity"}
    limits = Limits(max_sector_weight=D("0.7"))
    finding = check_sector_weight(plan, snap, ctx(limits=limits, sectors=sectors))
    assert finding is not None
    assert finding.message == "sector equity would be 80% of equity, above max_sector_weight 70%"
    assert figures(finding) == (None, D("0.8"), D("0.7"), Unit.RATIO)
    split = {"AAA": "equity", "BBB": "bonds"}
    assert check_sector_weight(plan, snap, ctx(limits=limits, sectors=split)) is None
    assert check_sector_weight(plan, snap, ctx(limits=limits)) is None


# -- prices and staleness ---------------------------------------------------------------


def test_wide_spread_blocks() -> None:
    plan, snap = world()
    assert check_spreads(plan, snap, ctx()) is None
    wide = replace(snap, quotes={**snap.quotes, "BBB": replace(snap.quotes["BBB"], ask=D(102))})
    finding = check_spreads(plan, wide, ctx())
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
    assert check_collar(plan, snap, ctx()) is None  # limits 99.50 and 100.50
    cheaper = replace(snap, quotes={
        "AAA": replace(snap.quotes["AAA"], bid=D(101), ask=D(101)),
        "BBB": replace(snap.quotes["BBB"], bid=D(99), ask=D(99)),
    })  # fmt: skip
    finding = check_collar(plan, cheaper, ctx())
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
    assert check_quote_age(plan, fresh, ctx(market=CAL.state(NOW))) is None
    old = replace(snap, quotes={
        "AAA": replace(snap.quotes["AAA"], as_of=NOW - timedelta(seconds=90)),
        "BBB": replace(snap.quotes["BBB"], as_of=None),
    })  # fmt: skip
    finding = check_quote_age(plan, old, ctx(market=CAL.state(NOW)))
    assert finding is not None
    assert finding.message == "quotes older than max_quote_age_s 60 s: AAA (90 s), BBB (no time)"
    assert figures(finding) == ("BBB", None, D(60), Unit.SECONDS)  # no time is the worst
    only_old = replace(old, quotes={**old.quotes, "BBB": fresh.quotes["BBB"]})
    aged = check_quote_age(plan, only_old, ctx(market=CAL.state(NOW)))
    assert figures(aged) == ("AAA", D(90), D(60), Unit.SECONDS)
    closed = CAL.state(at("2026-11-26T15:00:00Z"))
    assert check_quote_age(plan, old, ctx(market=closed)) is None


def test_old_saved_plan_blocks() -> None:
    plan, snap = world()
    assert check_plan_age(plan, snap, ctx(saved_plan=True)) is None
    later = ctx(saved_plan=True, now=NOW + timedelta(minutes=20))
    finding = check_plan_age(plan, snap, later)
    assert finding is not None
    assert finding.message == "plan is 20 min old, above max_plan_age_s 900 s"
    assert figures(finding) == (None, D(1200), D(900), Unit.SECONDS)
    assert check_plan_age(plan, snap, ctx(now=NOW + timedelta(minutes=20))) is None
    earlier = ctx(saved_plan=True, now=NOW - timedelta(seconds=90))  # dated in the future
    ahead = check_plan_age(plan, snap, earlier)
    assert ahead is not None
    assert ahead.message.endswith(", 90 s in the future (more than 60 s of clock skew)")
    assert figures(ahead) == (None, D(90), D(60), Unit.SECONDS)


def test_price_move_since_a_saved_plan_blocks() -> None:
    plan, snap = world()
    assert check_price_moves(plan, snap, ctx(saved_plan=True)) is None
    moved = replace(
        snap, quotes={**snap.quotes, "BBB": replace(snap.quotes["BBB"], bid=D(103), ask=D(103))}
    )
    finding = check_price_moves(plan, moved, ctx(saved_plan=True))
    assert finding is not None
    assert finding.message == "prices moved more than 2% since the plan: BBB 100 -> 103 (3%)"
    assert figures(finding) == ("BBB", D("0.03"), D("0.02"), Unit.RATIO)
    assert check_price_moves(plan, moved, ctx()) is None


def test_a_saved_plan_blocks_when_the_holdings_changed_since() -> None:
    plan, snap = world()  # made from AAA 40, BBB none
    assert check_positions_unchanged(plan, snap, ctx(saved_plan=True)) is None
    traded = replace(
        snap, positions={"AAA": Position("AAA", D(20)), "CCC": Position("CCC", D("1.5"))}
    )
    finding = check_positions_unchanged(plan, traded, ctx(saved_plan=True))
    assert finding is not None
    assert finding.severity is Severity.BLOCK
    assert finding.message == "holdings changed since the plan: AAA 40 -> 20, CCC 0 -> 1.5"
    assert figures(finding) == ("AAA", D(20), D(40), Unit.SHARES)  # now, against the plan's
    bought = replace(snap, positions={**snap.positions, "BBB": Position("BBB", D(60))})
    finding = check_positions_unchanged(plan, bought, ctx(saved_plan=True))
    assert finding is not None
    assert finding.message == "holdings changed since the plan: BBB 0 -> 60"
    # A fresh plan is made from this very snapshot: nothing to compare.
    assert check_positions_unchanged(plan, traded, ctx()) is None


def test_a_sell_beyond_the_position_blocks_as_a_short() -> None:
    plan, snap = world()  # sells 20 of the 40 AAA held
    assert check_no_short(plan, snap, ctx()) is None
    exact = replace(snap, positions={"AAA": Position("AAA", D(20))})
    assert check_no_short(plan, exact, ctx()) is None
    for positions, held in (({"AAA": Position("AAA", D("19.5"))}, "19.5"), ({}, "0")):
        finding = check_no_short(plan, replace(snap, positions=positions), ctx())
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
    finding = check_unreachable_targets(plan, snap, ctx())
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
    assert check_unreachable_targets(reachable, cheaper, ctx()) is None
