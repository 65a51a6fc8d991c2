"""`market.*`: the market open, and not in the first or last minutes of its session."""

from __future__ import annotations

from alchemiser_cli.core.checks.common import closed_by_broker, minutes, trading
from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Needs, Unit, check
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.plan import Plan


@check("market.closed", "market open now", needs=(Needs.ORDERS, Needs.CLOCK))
def check_market_open(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when the market is closed, by the NYSE calendar or by the broker's own clock
    (an unscheduled closure), unless orders may queue for the next session."""
    market = ctx.market
    if market is None or trading(ctx) or not plan.orders:
        return None
    if closed_by_broker(ctx):
        why = (
            f"market closed: the NYSE calendar says open but {ctx.broker_clock} says closed: "
            "an unscheduled closure?"
        )
        queued = f"{why}; day orders will queue for the next session"
    else:
        why = market.describe_closed()
        queued = f"{why}; day orders will queue for that session"
    if ctx.queue_for_open:
        return this.warn(queued, "they execute at the next open, at their limit prices")
    return this.block(why, "run during the session, or pass --queue-for-open to queue day orders")


@check(
    "market.session_edge",
    "not in the first or last minutes of the session",
    unit=Unit.MINUTES,
    needs=(Needs.ORDERS, Needs.CLOCK, Needs.OPEN),
)
def check_session_edges(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block in the first and last minutes of a session (auction noise, wide spreads)."""
    market = ctx.market
    if market is None or not trading(ctx) or not plan.orders:
        return None
    since, until = market.minutes_since_open, market.minutes_to_close
    first, last = ctx.limits.no_trade_first_min, ctx.limits.no_trade_last_min
    if since is not None and since < first:
        return this.block(
            f"{since:.0f} min after the open; no orders in the first {first} min",
            "wait, or lower [limits] no_trade_first_min",
            value=minutes(since),
            limit=first,
        )
    if until is not None and until < last:
        return this.block(
            f"{until:.0f} min before the close; no orders in the last {last} min",
            "run earlier, or lower [limits] no_trade_last_min",
            value=minutes(until),
            limit=last,
        )
    return None
