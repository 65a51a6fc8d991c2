"""Planner properties over random accounts, prices, targets and policies (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alchemiser_cli.core.models import Account, Asset, Position, Quote, Side, Snapshot
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.plan import Plan, Rule
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SYMBOLS = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]

cents = st.integers(min_value=0, max_value=50_000_000).map(lambda c: Decimal(c) / 100)
prices = st.integers(min_value=100, max_value=500_000).map(lambda c: Decimal(c) / 100)


@st.composite
def worlds(draw: st.DrawFn, *, costs: bool) -> tuple[Snapshot, Targets, PlannerPolicy]:
    """A random account, quotes, targets and policy; `costs=False` means no spread/fees/collar."""
    symbols = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=6, unique=True))
    quotes, assets, positions = {}, {}, {}
    for symbol in symbols:
        bid = draw(prices)
        spread = draw(st.integers(0, 50)) if costs else 0
        ask = bid + Decimal(spread) / 100
        quotes[symbol] = Quote(symbol, bid, ask)
        fractionable = draw(st.booleans())
        assets[symbol] = Asset(symbol, fractionable=fractionable)
        if draw(st.booleans()):
            whole = draw(st.integers(1, 2000))
            frac = draw(st.integers(0, 999_999_999)) if fractionable else 0
            positions[symbol] = Position(symbol, Decimal(whole) + Decimal(frac) / 10**9)
    in_targets = draw(st.lists(st.sampled_from(symbols), unique=True))
    raw = [draw(st.integers(0, 100)) for _ in in_targets]
    cash_share = draw(st.integers(0, 50))
    total = sum(raw) + cash_share or 1
    weights = {
        s: (Decimal(r) / total).quantize(Decimal("0.0001"), rounding="ROUND_DOWN")
        for s, r in zip(in_targets, raw, strict=True)
    }
    cash = draw(cents)
    policy = PlannerPolicy(
        collar_bps=Decimal(draw(st.integers(0, 100))) if costs else ZERO,
        sec_fee_rate=PlannerPolicy().sec_fee_rate if costs else ZERO,
        finra_taf_per_share=PlannerPolicy().finra_taf_per_share if costs else ZERO,
        cash_reserve=Decimal(draw(st.integers(0, 5000))),
        cash_reserve_pct=Decimal(draw(st.integers(0, 10))) / 100,
        band_abs=draw(st.sampled_from([None, Decimal("0.02"), Decimal("0.05")])),
        band_rel=draw(st.sampled_from([None, Decimal("0.25")])),
        rebalance_to=draw(st.sampled_from(["target", "edge"])),
        min_trade_value=Decimal(draw(st.sampled_from([1, 1, 5, 50]))),
    )
    snap = Snapshot(
        account=Account("P-1", cash, cash),
        positions=positions,
        quotes=quotes,
        assets=assets,
        as_of=NOW,
    )
    return snap, Targets(weights, "prop"), policy


def equity_of(snap: Snapshot) -> Decimal:
    mids = {s: (q.bid + q.ask) / 2 for s, q in snap.quotes.items()}
    return snap.account.cash + sum((p.qty * mids[s] for s, p in snap.positions.items()), ZERO)


def filled(snap: Snapshot, plan: Plan) -> Snapshot:
    """The account after every order fills at its estimated price."""
    positions = dict(snap.positions)
    for order in plan.orders:
        held = positions.get(order.symbol, Position(order.symbol, ZERO)).qty
        new = held + (order.qty if order.side is Side.BUY else -order.qty)
        positions[order.symbol] = Position(order.symbol, new)
    positions = {s: p for s, p in positions.items() if p.qty != ZERO}
    cash = plan.summary.est_cash_after
    return replace(snap, account=Account("P-1", cash, cash), positions=positions)


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(worlds(costs=True))
def test_cash_never_falls_below_the_reserve(world: tuple[Snapshot, Targets, PlannerPolicy]) -> None:
    snap, targets, policy = world
    plan = build_plan(snap, targets, policy, NOW)
    floor = min(snap.account.cash, plan.summary.reserve)
    # Worst case: every order fills at its limit price.
    assert plan.summary.min_cash_after >= floor
    assert plan.summary.est_cash_after >= plan.summary.min_cash_after


@SETTINGS
@given(worlds(costs=True))
def test_orders_respect_minimums_increments_and_holdings(
    world: tuple[Snapshot, Targets, PlannerPolicy],
) -> None:
    snap, targets, policy = world
    plan = build_plan(snap, targets, policy, NOW)
    sides = [o.side for o in plan.orders]
    assert sides == sorted(sides, key=lambda s: s is Side.BUY)  # sells first
    for order in plan.orders:
        assert order.qty > 0
        assert order.est_value >= policy.min_trade_value
        assert order.qty == order.qty.quantize(Decimal("0.000000001"))
        if not snap.assets[order.symbol].fractionable:
            assert order.qty == order.qty.to_integral_value()
        if order.side is Side.SELL:
            assert order.qty <= snap.positions[order.symbol].qty


@SETTINGS
@given(worlds(costs=True))
def test_value_is_conserved_less_estimated_costs(
    world: tuple[Snapshot, Targets, PlannerPolicy],
) -> None:
    snap, targets, policy = world
    plan = build_plan(snap, targets, policy, NOW)
    held_after = sum((p.post_qty * p.price for p in plan.positions), ZERO)
    assert held_after + plan.summary.est_cash_after == equity_of(snap) - plan.summary.est_costs


@SETTINGS
@given(worlds(costs=False))
def test_planning_the_post_trade_state_again_gives_no_orders(
    world: tuple[Snapshot, Targets, PlannerPolicy],
) -> None:
    snap, targets, policy = world
    first = build_plan(snap, targets, policy, NOW)
    again = build_plan(filled(snap, first), targets, policy, NOW)
    assert again.orders == ()


@SETTINGS
@given(worlds(costs=False))
def test_traded_positions_end_within_one_share_or_their_band(
    world: tuple[Snapshot, Targets, PlannerPolicy],
) -> None:
    snap, targets, policy = world
    # Start from cash only, so nothing but the reserve limits the buys.
    snap = replace(snap, positions={})
    plan = build_plan(snap, targets, policy, NOW)
    base = plan.summary.investable
    fractional_shortfall = ZERO
    whole_share_prices = ZERO
    for line in plan.positions:
        if line.action == "hold":
            continue
        target_value = line.target_weight * base
        band = line.band * base if line.band is not None and policy.rebalance_to == "edge" else ZERO
        if snap.assets[line.symbol].fractionable:
            # Never above target; below it only by what whole shares took (checked below).
            assert line.post_value <= target_value + band
            fractional_shortfall += max(ZERO, target_value - band - line.post_value)
        elif line.rule is not Rule.WHOLE_SHARE_TRADEOFF:
            # A share moved to fund another whole-share name (the rule says so, and the
            # exact reference in test_planner_optimal.py proves it optimal) may leave this
            # one more than a share off; every other whole-share position is within one.
            assert abs(line.post_value - target_value) <= line.price + band
            whole_share_prices += line.price
        else:
            whole_share_prices += line.price
    # A whole share takes cash from the fractional buys only when it cuts total deviation
    # by more than it takes, and each whole-share position gets at most one such share.
    assert fractional_shortfall <= whole_share_prices + Decimal("0.01") * len(plan.positions)
