"""`limits.*`: each order, the order count, the turnover, today's total and the post-trade
weights within the `[limits]`."""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.checks.common import Offender, largest, over, pct, worst_offender
from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Needs, Unit, check
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO, dollars
from alchemiser_cli.core.plan import Plan


@check(
    "limits.order_notional",
    "each order within max_order_notional",
    unit=Unit.USD,
    setting="max_order_notional",
)
def check_order_notional(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block any order whose value at its limit exceeds max_order_notional."""
    limit = ctx.limits.max_order_notional
    if limit is None:
        return None
    big = [
        Offender(o.symbol, o.max_value, limit, f"{o.side} {o.symbol}")
        for o in plan.orders
        if o.max_value > limit
    ]
    return worst_offender(
        this,
        big,
        lambda worst: (
            f"{len(big)} order(s) above max_order_notional {dollars(limit)}: "
            f"largest {worst.listed} {dollars(worst.value or ZERO)}"
        ),
        "raise [limits] max_order_notional if this is intended",
        pick=largest,
    )


@check(
    "limits.order_pct",
    "each order within max_order_pct of equity",
    unit=Unit.RATIO,
    setting="max_order_pct",
)
def check_order_pct(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block any order larger than max_order_pct of equity."""
    limit = ctx.limits.max_order_pct
    equity = plan.account.equity
    if limit is None or equity <= ZERO:
        return None
    big = [
        Offender(o.symbol, o.max_value / equity, limit, f"{o.side} {o.symbol}", o.max_value)
        for o in plan.orders
        if o.max_value / equity > limit
    ]
    return worst_offender(
        this,
        big,
        lambda worst: (
            f"{worst.listed} {dollars(worst.rank or ZERO)} is "
            f"{pct(worst.value or ZERO)} of equity, above max_order_pct {pct(limit)}"
        ),
        "raise [limits] max_order_pct if this is intended",
        pick=largest,
    )


@check("limits.max_orders", "order count within max_orders", unit=Unit.COUNT, setting="max_orders")
def check_max_orders(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run with more orders than max_orders."""
    limit = ctx.limits.max_orders
    return worst_offender(
        this,
        over(Decimal(len(plan.orders)), None if limit is None else Decimal(limit)),
        lambda _: f"plan has {len(plan.orders)} orders, above max_orders {limit}",
        "raise [limits] max_orders or trade in smaller steps",
    )


@check(
    "limits.turnover",
    "turnover within max_turnover_pct",
    unit=Unit.RATIO,
    setting="max_turnover_pct",
)
def check_turnover(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run whose turnover exceeds max_turnover_pct."""
    limit = ctx.limits.max_turnover_pct
    turnover = plan.summary.turnover
    return worst_offender(
        this,
        over(turnover, limit),
        lambda _: f"turnover {pct(turnover)} is above max_turnover_pct {pct(limit or ZERO)}",
        "raise [limits] max_turnover_pct if this is intended",
    )


@check(
    "limits.daily_notional",
    "today's total within max_daily_notional",
    unit=Unit.USD,
    setting="max_daily_notional",
)
def check_daily_notional(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block when today's traded value plus this plan exceeds max_daily_notional."""
    limit = ctx.limits.max_daily_notional
    planned = sum((o.max_value for o in plan.orders), ZERO)
    return worst_offender(
        this,
        over(ctx.traded_today + planned, limit),
        lambda _: (
            f"today {dollars(ctx.traded_today)} + this plan {dollars(planned)} is above "
            f"max_daily_notional {dollars(limit or ZERO)}"
        ),
        "wait for the next day or raise [limits] max_daily_notional",
    )


@check(
    "limits.position_weight",
    "post-trade weights within max_position_weight",
    unit=Unit.RATIO,
    setting="max_position_weight",
)
def check_position_weight(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block a post-trade weight of one symbol above max_position_weight (of equity)."""
    limit = ctx.limits.max_position_weight
    equity = plan.account.equity
    if limit is None or equity <= ZERO:
        return None
    big = [
        Offender(p.symbol, p.post_value / equity, limit, p.symbol, p.post_value)
        for p in plan.positions
        if p.post_value / equity > limit
    ]
    return worst_offender(
        this,
        big,
        lambda worst: (
            f"{worst.listed} would be {pct(worst.value or ZERO)} of equity, above "
            f"max_position_weight {pct(limit)}"
        ),
        "lower its target or raise [limits] max_position_weight",
        pick=largest,
    )


@check(
    "limits.sector_weight",
    "sector weights within max_sector_weight",
    unit=Unit.RATIO,
    setting="max_sector_weight",
    needs=(Needs.SECTORS,),
)
def check_sector_weight(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block a post-trade sector weight above max_sector_weight."""
    limit = ctx.limits.max_sector_weight
    equity = plan.account.equity
    if limit is None or not ctx.sectors or equity <= ZERO:
        return None
    totals: dict[str, Decimal] = {}
    for line in plan.positions:
        sector = ctx.sectors.get(line.symbol)
        if sector is not None:
            totals[sector] = totals.get(sector, ZERO) + line.post_value
    big = [
        Offender(None, value / equity, limit, sector, value)
        for sector, value in totals.items()
        if value / equity > limit
    ]
    return worst_offender(
        this,
        big,
        lambda worst: (
            f"sector {worst.listed} would be {pct(worst.value or ZERO)} of equity, "
            f"above max_sector_weight {pct(limit)}"
        ),
        "lower its targets or raise [limits] max_sector_weight",
        pick=largest,
    )
