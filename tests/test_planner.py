"""Hand-checked planner examples: every number here was worked out on paper first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core import decision
from alchemiser_cli.core.models import Quote, Side
from alchemiser_cli.core.plan import Plan, Rule
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.planner_value import band_threshold, reference_price, sell_fees
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import PlanError, PriceError, QuoteError
from tests.conftest import D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
NO_COSTS = PlannerPolicy(collar_bps=D(0), sec_fee_rate=D(0), finra_taf_per_share=D(0))


def targets(**weights: str) -> Targets:
    return Targets({k.replace("_", "."): D(v) for k, v in weights.items()}, source="test")


def line(plan: Plan, symbol: str) -> tuple[Rule, str, Decimal]:
    found = next(p for p in plan.positions if p.symbol == symbol)
    return found.rule, found.action, found.trade_qty


def orders(plan: Plan) -> list[tuple[int, str, str, Decimal, Decimal]]:
    return [(o.leg, o.side.value, o.symbol, o.qty, o.limit_price) for o in plan.orders]


def test_funding_from_all_cash_without_costs_hits_targets_exactly() -> None:
    snap = make_snapshot("10000", quotes={"VTI": ("100", "100"), "BND": ("50", "50")})
    plan = build_plan(snap, targets(VTI="0.6", BND="0.4"), NO_COSTS, NOW)
    assert orders(plan) == [(1, "buy", "BND", D(80), D(50)), (2, "buy", "VTI", D(60), D(100))]
    assert plan.summary.est_cash_after == 0
    assert plan.summary.min_cash_after == 0
    assert [p.post_weight for p in plan.positions] == [D("0.4"), D("0.6")]


def test_funding_with_a_collar_sizes_buys_at_the_limit_price() -> None:
    # Limits 100.50 and 50.25 make the full buy cost 10,050 > 10,000 cash: every buy is
    # scaled by 10000/10050 and truncated to 9 decimals.
    snap = make_snapshot("10000", quotes={"VTI": ("100", "100"), "BND": ("50", "50")})
    plan = build_plan(snap, targets(VTI="0.6", BND="0.4"), PlannerPolicy(), NOW)
    assert orders(plan) == [
        (1, "buy", "BND", D("79.601990049"), D("50.25")),
        (2, "buy", "VTI", D("59.701492537"), D("100.50")),
    ]
    assert D(0) <= plan.summary.min_cash_after < D("0.01")


def test_full_liquidation_sells_everything_including_fractions() -> None:
    snap = make_snapshot(
        "5",
        positions={"VTI": "10.5", "BND": "3"},
        quotes={"VTI": ("100", "100.10"), "BND": ("50", "50.02")},
    )
    plan = build_plan(snap, targets(), PlannerPolicy(), NOW)
    # Sell limits: bid less 50 bps, rounded up to the cent.
    assert orders(plan) == [
        (1, "sell", "BND", D(3), D("49.75")),
        (2, "sell", "VTI", D("10.5"), D("99.50")),
    ]
    assert {p.rule for p in plan.positions} == {Rule.NOT_IN_TARGETS}
    # SEC fee rounds up to a cent per order; FINRA TAF 0.000195/share rounds up to a cent.
    assert sell_fees(D(3), D("49.75"), PlannerPolicy()) == D("0.01") + D("0.01")
    assert plan.summary.sell_value == D("1200")  # 3 * 50 + 10.5 * 100 at the bid


def test_non_fractionable_high_priced_asset_buys_the_share_that_cuts_deviation() -> None:
    # Target 500k of a 700k share (0.714 share). Buying none leaves 500k of deviation;
    # one share leaves 200k, and the 200k it takes from VTI costs less than the 300k cut.
    snap = make_snapshot(
        "1000000",
        quotes={"BRK.A": ("700000", "700000"), "VTI": ("100", "100")},
        non_fractionable=("BRK.A",),
    )
    plan = build_plan(snap, targets(BRK_A="0.5", VTI="0.5"), NO_COSTS, NOW)
    assert orders(plan) == [
        (1, "buy", "BRK.A", D(1), D(700000)),
        (2, "buy", "VTI", D(3000), D(100)),
    ]
    assert all(o.qty == o.qty.to_integral_value() for o in plan.orders if o.symbol == "BRK.A")


def test_non_fractionable_target_under_half_a_share_is_held() -> None:
    snap = make_snapshot(
        "100000", quotes={"BRK.A": ("700000", "700000")}, non_fractionable=("BRK.A",)
    )
    plan = build_plan(snap, targets(BRK_A="1"), NO_COSTS, NOW)
    assert plan.orders == ()
    assert line(plan, "BRK.A") == (Rule.WITHIN_ONE_SHARE, "hold", D(0))


def test_non_fractionable_sell_rounds_to_the_nearest_share() -> None:
    # Holding 10 at 100 with 3000 cash: equity 4000, target 50% = 2000 = 20 shares -> buy 10.
    # Holding 30 (3000) with 1000 cash and target 50%: 2000 target -> sell 10.
    snap = make_snapshot(
        "1000",
        positions={"XYZ": "30"},
        quotes={"XYZ": ("100", "100")},
        non_fractionable=("XYZ",),
    )
    plan = build_plan(snap, targets(XYZ="0.5"), NO_COSTS, NOW)
    assert orders(plan) == [(1, "sell", "XYZ", D(10), D(100))]


def test_position_not_in_targets_is_sold_and_explained() -> None:
    snap = make_snapshot(
        "0", positions={"AAPL": "10"}, quotes={"AAPL": ("200", "200"), "VTI": ("100", "100")}
    )
    plan = build_plan(snap, targets(VTI="1"), NO_COSTS, NOW)
    assert orders(plan) == [(1, "sell", "AAPL", D(10), D(200)), (2, "buy", "VTI", D(20), D(100))]
    assert line(plan, "AAPL") == (Rule.NOT_IN_TARGETS, "sell", D(-10))


def test_unlisted_positions_are_left_when_sell_unlisted_is_off() -> None:
    snap = make_snapshot(
        "1000", positions={"AAPL": "10"}, quotes={"AAPL": ("200", "200"), "VTI": ("100", "100")}
    )
    policy = NO_COSTS.model_copy(update={"sell_unlisted": False})
    plan = build_plan(snap, targets(VTI="0.5"), policy, NOW)
    assert line(plan, "AAPL") == (Rule.UNLISTED_HELD, "hold", D(0))
    assert orders(plan) == [(1, "buy", "VTI", D("10"), D(100))]  # 50% of 3000 = 1500; cash 1000


def test_keep_leaves_a_position_alone_and_out_of_the_base() -> None:
    # Equity 3000 of which TSLA 2000 is kept: the base is 1000, so VTI targets 1000.
    snap = make_snapshot(
        "1000", positions={"TSLA": "10"}, quotes={"TSLA": ("200", "200"), "VTI": ("100", "100")}
    )
    policy = NO_COSTS.model_copy(update={"keep": ("TSLA",)})
    plan = build_plan(snap, targets(VTI="1"), policy, NOW)
    assert orders(plan) == [(1, "buy", "VTI", D(10), D(100))]
    assert line(plan, "TSLA") == (Rule.KEPT, "hold", D(0))
    assert plan.summary.kept_value == D(2000)
    assert plan.summary.investable == D(1000)


def test_keep_symbols_are_upper_cased() -> None:
    assert PlannerPolicy(keep=("tsla", "TSLA", " aapl")).keep == ("AAPL", "TSLA")


def test_bands_that_cover_every_drift_leave_everything_untouched() -> None:
    # VTI at 55% vs 60% (drift 5 points) and BND at 45% vs 40%: inside a 6-point band.
    snap = make_snapshot(
        "0",
        positions={"VTI": "55", "BND": "90"},
        quotes={"VTI": ("100", "100"), "BND": ("50", "50")},
    )
    policy = NO_COSTS.model_copy(update={"band_abs": D("0.06")})
    plan = build_plan(snap, targets(VTI="0.6", BND="0.4"), policy, NOW)
    assert plan.orders == ()
    assert {p.rule for p in plan.positions} == {Rule.IN_BAND}


def test_out_of_band_trades_to_target_or_to_the_band_edge() -> None:
    snap = make_snapshot(
        "0",
        positions={"VTI": "50", "BND": "100"},
        quotes={"VTI": ("100", "100"), "BND": ("50", "50")},
    )
    band = NO_COSTS.model_copy(update={"band_abs": D("0.05")})
    to_target = build_plan(snap, targets(VTI="0.6", BND="0.4"), band, NOW)
    assert orders(to_target) == [(1, "sell", "BND", D(20), D(50)), (2, "buy", "VTI", D(10), D(100))]
    edge = band.model_copy(update={"rebalance_to": "edge"})
    to_edge = build_plan(snap, targets(VTI="0.6", BND="0.4"), edge, NOW)
    # Edges: BND 45% (4500 = 90 shares) and VTI 55% (5500 = 55 shares).
    assert orders(to_edge) == [(1, "sell", "BND", D(10), D(50)), (2, "buy", "VTI", D(5), D(100))]
    assert {p.rule for p in to_edge.positions} == {Rule.OUT_OF_BAND}


def test_band_threshold_is_the_narrower_of_absolute_and_relative() -> None:
    policy = PlannerPolicy(band_abs=D("0.05"), band_rel=D("0.25"))
    assert band_threshold(D("0.6"), policy) == D("0.05")
    assert band_threshold(D("0.1"), policy) == D("0.025")
    assert band_threshold(D("0.1"), PlannerPolicy()) is None


def test_trades_below_the_minimum_are_skipped_with_the_reason() -> None:
    snap = make_snapshot(
        "0.50", positions={"VTI": "10"}, quotes={"VTI": ("100", "100"), "BND": ("50", "50")}
    )
    # Equity 1000.50: VTI targets 999.99975 (sell $0.00025), BND 0.50025 (cash 0.50 buys
    # 0.01 share = $0.50). Both are under the $1 minimum.
    plan = build_plan(snap, targets(VTI="0.9995", BND="0.0005"), NO_COSTS, NOW)
    assert plan.orders == ()
    reasons = {s.symbol: s.reason for s in plan.skipped}
    assert reasons == {
        "BND": "trade of $0.50 is below the minimum $1.00",
        "VTI": "trade of $0.00 is below the minimum $1.00",
    }
    assert {p.rule for p in plan.positions} == {Rule.DUST}


def test_cash_reserve_is_never_spent() -> None:
    snap = make_snapshot("10000", quotes={"VTI": ("100", "100")})
    policy = NO_COSTS.model_copy(update={"cash_reserve": D(500), "cash_reserve_pct": D("0.10")})
    plan = build_plan(snap, targets(VTI="1"), policy, NOW)
    assert plan.summary.reserve == D(1000)  # the larger of $500 and 10% of equity
    assert orders(plan) == [(1, "buy", "VTI", D(90), D(100))]
    assert plan.summary.min_cash_after == D(1000)


def test_a_missing_quote_is_an_error_naming_the_symbol() -> None:
    snap = make_snapshot("1000", quotes={"VTI": ("100", "100")})
    with pytest.raises(PriceError) as info:
        build_plan(snap, targets(VTI="0.5", BND="0.5"), NO_COSTS, NOW)
    assert str(info.value) == "no quote for BND: cannot value or trade it"


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        (Quote("X", D("10"), D("10.02")), D("10.01")),
        (Quote("X", D(0), D(0), last=D("9.5")), D("9.5")),
        (Quote("X", D("10"), D(0), last=D("9.5")), D("9.5")),
    ],
)
def test_reference_price_is_mid_else_last(quote: Quote, expected: Decimal) -> None:
    assert reference_price(quote, "X") == expected


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        (
            Quote("X", D(0), D(0), D(0)),
            "no usable price for X from the broker (bid 0, ask 0, last 0); try again in a moment",
        ),
        (
            Quote("X", D("10.5"), D("10")),
            "crossed quote for X from the broker: bid 10.5 > ask 10; try again in a moment",
        ),
    ],
)
def test_unusable_prices_are_errors(quote: Quote, message: str) -> None:
    with pytest.raises(QuoteError) as info:
        reference_price(quote, "X")
    assert str(info.value) == message
    assert info.value.exit_code == 3  # the broker's data, not bad input (attack item 11)


def test_short_positions_are_refused() -> None:
    snap = make_snapshot("1000", positions={"VTI": "-5"}, quotes={"VTI": ("100", "100")})
    with pytest.raises(PlanError, match="VTI: short positions are not supported"):
        build_plan(snap, targets(VTI="0.5"), NO_COSTS, NOW)


def test_unknown_asset_is_an_error() -> None:
    snap = make_snapshot("1000", quotes={"VTI": ("100", "100")})
    snap.assets.pop("VTI")
    with pytest.raises(PlanError, match="VTI: the broker has no asset record"):
        build_plan(snap, targets(VTI="0.5"), NO_COSTS, NOW)


def test_untradable_asset_is_skipped_not_traded() -> None:
    snap = make_snapshot(
        "1000",
        positions={"OLD": "5"},
        quotes={"OLD": ("10", "10"), "VTI": ("100", "100")},
        not_tradable=("OLD", "VTI"),
    )
    plan = build_plan(snap, targets(VTI="0.5"), NO_COSTS, NOW)
    assert plan.orders == ()
    assert {s.symbol: s.rule for s in plan.skipped} == {
        "OLD": Rule.NOT_TRADABLE,
        "VTI": Rule.NOT_TRADABLE,
    }


def test_plan_id_is_stable_for_the_same_inputs_and_changes_with_them() -> None:
    snap = make_snapshot("1000", quotes={"VTI": ("100", "100")})
    first = build_plan(snap, targets(VTI="0.5"), NO_COSTS, NOW)
    later = build_plan(snap, targets(VTI="0.5"), NO_COSTS, datetime(2026, 11, 25, tzinfo=UTC))
    other = build_plan(snap, targets(VTI="0.6"), NO_COSTS, NOW)
    assert first.plan_id == later.plan_id
    assert first.plan_id != other.plan_id
    assert len(first.plan_id) == 16


def test_sub_dollar_prices_use_four_decimal_ticks() -> None:
    snap = make_snapshot("100", quotes={"PNY": ("0.5", "0.5012")})
    plan = build_plan(snap, targets(PNY="1"), PlannerPolicy(), NOW)
    assert plan.orders[0].limit_price == D("0.5037")  # 0.5012 * 1.005 = 0.503706, down to tick
    assert plan.orders[0].side is Side.BUY


# Issue 15: the allocation is a proven optimum of the total deviation from target.
# Each figure below was worked by hand from the rules (default collar 50 bps: buy limits
# ask * 1.005 rounded down to the cent, sell limits bid * 0.995 rounded up; SEC fee
# 0.0000278/$ and FINRA TAF 0.000195/share, each rounded up to the cent).


def test_pattern_a_moves_shares_between_whole_share_names() -> None:
    # Cash 2,000; targets WA 900 (0.9 share of 1,000) and WB 1,100 (110 shares of 10).
    # Limits 1,005 and 10.05. 110 WB and no WA leaves 900 of deviation. One WA (1,005)
    # leaves 995, i.e. 99 WB (994.95): |1000 - 900| + |990 - 1100| = 100 + 110 = 210.
    # (Without a collar 1 WA + 100 WB gives 200; the collar costs the 100th WB share.)
    snap = make_snapshot(
        "2000",
        quotes={"WA": ("1000", "1000"), "WB": ("10", "10")},
        non_fractionable=("WA", "WB"),
    )
    plan = build_plan(snap, targets(WA="0.45", WB="0.55"), PlannerPolicy(), NOW)
    assert orders(plan) == [(1, "buy", "WA", D(1), D(1005)), (2, "buy", "WB", D(99), D("10.05"))]
    assert plan.summary.deviation == D(210)
    # Proven optimal by HiGHS (issue 24); its float bound, less a margin, is floored to cents.
    assert (plan.summary.deviation_bound, plan.summary.search) == (D("209.99"), "optimal")
    assert plan.summary.min_cash_after == D("0.05")
    wb = next(p for p in plan.positions if p.symbol == "WB")
    assert wb.rule is Rule.WHOLE_SHARE_TRADEOFF
    assert wb.note == "11 shares fewer than the nearest whole number (110): the $110.55 funds WA"


def test_pattern_b_leftover_cash_is_not_free_when_fractional_buys_were_scaled() -> None:
    # Cash 10,000; FA targets 9,925 (99.25 shares), WB 75 (0.75 share). Both limits 100.50.
    # One WB share: FA gets 9,899.50 / 100.50 = 98.502487562 shares; deviation
    # 25 + 74.75 = 99.75. No WB: FA's 99.25 shares cost 9,974.63, so both FA is full and
    # the deviation is WB's 75.00.
    snap = make_snapshot(
        "10000", quotes={"FA": ("100", "100"), "WB": ("100", "100")}, non_fractionable=("WB",)
    )
    plan = build_plan(snap, targets(FA="0.9925", WB="0.0075"), PlannerPolicy(), NOW)
    assert orders(plan) == [(1, "buy", "FA", D("99.25"), D("100.50"))]
    assert plan.summary.deviation == D("75.00")
    assert (plan.summary.deviation_bound, plan.summary.search) == (D("74.99"), "optimal")
    assert line(plan, "WB") == (Rule.WHOLE_SHARE_TRADEOFF, "hold", D(0))
    assert {s.symbol: s.reason for s in plan.skipped} == {
        "WB": "1 share fewer than the nearest whole number (1): the $100.50 funds FA"
    }


def test_pattern_c_sells_a_little_more_to_fund_a_whole_share() -> None:
    # Cash 90 + 9.10 FA at 100: equity 1,000; FA targets 900 (sell 0.1), WB 100 (1 share).
    # Selling 0.1 at 99.50 less fees 0.02 leaves 99.93 < WB's 100.50 limit: short 0.57,
    # i.e. 0.57 / 99.50 = 0.0057286432... more FA, rounded up to 9 decimals (0.005728643
    # would free 0.5699999785, short of 0.57): 0.005728644; fees stay 0.02. FA ends at
    # 8.994271356 shares = 899.4271356: deviation 0.5728644 (the issue's ~$0.57).
    snap = make_snapshot(
        "90",
        positions={"FA": "9.10"},
        quotes={"FA": ("100", "100"), "WB": ("100", "100")},
        non_fractionable=("WB",),
    )
    plan = build_plan(snap, targets(FA="0.9", WB="0.1"), PlannerPolicy(), NOW)
    assert orders(plan) == [
        (1, "sell", "FA", D("0.105728644"), D("99.50")),
        (2, "buy", "WB", D(1), D("100.50")),
    ]
    assert plan.summary.deviation == D("0.5728644")
    # The model counts fees at their proportional rate (0.0028 rather than the 0.02 they
    # round up to), so its proven bound is a little lower than the plan.
    assert plan.summary.deviation_bound == D("0.55")
    assert plan.summary.search == "optimal"
    assert plan.summary.min_cash_after >= D(0)
    fa = next(p for p in plan.positions if p.symbol == "FA")
    assert (fa.rule, fa.note) == (
        Rule.WHOLE_SHARE_TRADEOFF,
        "sells 0.005728644 more than its goal to fund WB",
    )


def test_twenty_five_whole_share_buys_are_decided_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    # 25 whole-share names at 30.00-54.00, 4% each of 9,000 cash (360 each), default
    # collar. The relaxation (shares may be fractional) bounds the deviation at 252.39; the
    # exact search (HiGHS) proves 258 the least any plan can have.
    quotes = {f"W{i:02d}": (str(30 + i), str(30 + i)) for i in range(25)}
    snap = make_snapshot("9000", quotes=quotes, non_fractionable=tuple(quotes))
    weights = Targets({s: D("0.04") for s in quotes}, "t")
    plan = build_plan(snap, weights, PlannerPolicy(), NOW)
    assert all(o.qty == o.qty.to_integral_value() for o in plan.orders)
    assert plan.summary.min_cash_after >= 0
    assert (plan.summary.deviation, plan.summary.deviation_bound) == (D(258), D("257.99"))
    assert plan.summary.search == "optimal"
    # Without costs every name can sit at its nearest share but cash binds: the fast
    # method's answer is then proven optimal by the relaxation alone (bound = deviation).
    exact = build_plan(snap, weights, NO_COSTS, NOW)
    assert (exact.summary.deviation, exact.summary.deviation_bound) == (D(246), D(246))
    # Above the search's size the fast method's plan stands and the relaxation's bound is
    # reported, with the reason.
    monkeypatch.setattr(decision, "MILP_ITEMS", 10)
    fast = build_plan(snap, weights, PlannerPolicy(), NOW)
    assert (fast.summary.deviation, fast.summary.deviation_bound) == (D(258), D("252.39"))
    assert fast.summary.search == "too_large"


def test_fees_rounded_to_the_cent_can_price_a_whole_share_out() -> None:
    # Cash 0; 3.174 BBB at 252.06 (equity 800.03844); AAA (800, whole) targets 600.02883:
    # 0.75 share, nearest 1. Selling every BBB share raises 800.03844 less fees 0.03 (SEC,
    # 0.0222 rounded up) + 0.01 (TAF) = 799.99844: short of 800 by 0.00156. At the fees'
    # proportional rate it would fit, so the allocation plans again with less: no AAA, and
    # BBB sells to its goal only: 600.02883 / 252.06 = 2.3805 shares.
    snap = make_snapshot(
        "0",
        positions={"BBB": "3.174"},
        quotes={"AAA": ("800", "800"), "BBB": ("252.06", "252.06")},
        non_fractionable=("AAA",),
    )
    plan = build_plan(snap, targets(AAA="0.75", BBB="0.25"), PlannerPolicy(collar_bps=D(0)), NOW)
    assert orders(plan) == [(1, "sell", "BBB", D("2.3805"), D("252.06"))]
    assert line(plan, "AAA") == (Rule.NO_CASH, "hold", D(0))
    assert plan.summary.deviation == D("600.02883")
    assert plan.summary.deviation_bound <= plan.summary.deviation
