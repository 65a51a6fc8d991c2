"""`prices.*`: prices close to a saved plan's, spreads narrow, limit prices inside their
collar, quotes fresh."""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.checks.common import (
    Offender,
    largest,
    listed,
    pct,
    seconds,
    trading,
    worst_offender,
)
from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Needs, Unit, check
from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import BPS, ZERO, fmt, tick_for
from alchemiser_cli.core.plan import Plan


@check(
    "prices.moved",
    "prices close to the saved plan's",
    unit=Unit.RATIO,
    setting="max_price_move_pct",
    needs=(Needs.SAVED_PLAN,),
)
def check_price_moves(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan when a traded symbol's price moved more than max_price_move_pct."""
    limit = ctx.limits.max_price_move_pct
    if limit is None or not ctx.saved_plan:
        return None
    moved: list[Offender] = []  # the largest move, up or down, is the worst
    for order in plan.orders:
        then = plan.prices.get(order.symbol)
        quote = snap.quotes.get(order.symbol)
        if then is None or quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        now_mid = (quote.bid + quote.ask) / 2
        change = (now_mid - then.ref) / then.ref
        if abs(change) > limit:
            text = f"{order.symbol} {fmt(then.ref)} -> {fmt(now_mid)} ({pct(change)})"
            moved.append(Offender(order.symbol, change, limit, text, rank=abs(change)))
    return worst_offender(
        this,
        moved,
        lambda _: f"prices moved more than {pct(limit)} since the plan: {listed(moved)}",
        "the plan is stale: make a fresh one with `alch plan`",
        pick=largest,
    )


@check("prices.spread", "spreads within max_spread_bps", unit=Unit.BPS, setting="max_spread_bps")
def check_spreads(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block trading a symbol whose bid/ask spread is wider than max_spread_bps."""
    limit = ctx.limits.max_spread_bps
    if limit is None:
        return None
    wide: list[Offender] = []
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        if quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        mid = (quote.bid + quote.ask) / 2
        spread = (quote.ask - quote.bid) / mid * BPS
        if spread > limit:
            text = f"{order.symbol} {spread.quantize(Decimal('0.1'))} bps"
            wide.append(Offender(order.symbol, spread, limit, text))
    return worst_offender(
        this,
        wide,
        lambda _: f"spread above max_spread_bps {fmt(limit)}: {listed(wide)}",
        "wait for a tighter market, or raise [limits] max_spread_bps",
        pick=largest,
    )


@check("prices.collar", "limit prices inside their collar", unit=Unit.USD)
def check_collar(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a limit price outside its collar around the fresh quote (a stale, too generous
    limit would pay up or sell down more than the collar allows)."""
    collar = plan.policy.collar_bps / BPS
    bps = fmt(plan.policy.collar_bps)
    outside: list[Offender] = []  # value: the limit price, limit: the edge it crossed
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        if quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        tick = tick_for(order.limit_price)
        price = order.limit_price
        if order.side is Side.BUY:
            edge = quote.ask * (1 + collar) + tick
            if price > edge:
                text = f"buy {order.symbol} limit {fmt(price)} > ask {fmt(quote.ask)} + {bps} bps"
                outside.append(Offender(order.symbol, price, edge, text))
        else:
            edge = quote.bid * (1 - collar) - tick
            if price < edge:
                text = f"sell {order.symbol} limit {fmt(price)} < bid {fmt(quote.bid)} - {bps} bps"
                outside.append(Offender(order.symbol, price, edge, text))
    return worst_offender(
        this,
        outside,
        lambda _: "limit outside its collar: " + "; ".join(o.listed for o in outside),
        "prices moved since the plan: make a fresh one",
    )


@check(
    "prices.quote_age",
    "quotes fresh",
    unit=Unit.SECONDS,
    setting="max_quote_age_s",
    needs=(Needs.CLOCK, Needs.OPEN),
)
def check_quote_age(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block on quotes older than max_quote_age_s while the market is open."""
    limit = ctx.limits.max_quote_age_s
    if limit is None or not trading(ctx):
        return None
    stale: list[Offender] = []
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        as_of = quote.as_of if quote is not None else None
        age = None if as_of is None else (ctx.now - as_of).total_seconds()
        if age is None or age > limit:
            stale.append(_stale(order.symbol, age, limit))
    return worst_offender(
        this,
        stale,
        lambda _: f"quotes older than max_quote_age_s {limit} s: {listed(stale)}",
        "check the market-data feed",
        pick=largest,
    )


def _stale(symbol: str, age: float | None, limit: int) -> Offender:
    """A stale quote; the worst is one without a time, else the oldest."""
    if age is None:
        return Offender(symbol, None, Decimal(limit), f"{symbol} (no time)", Decimal("Infinity"))
    return Offender(symbol, seconds(age), Decimal(limit), f"{symbol} ({age:.0f} s)", Decimal(age))
