"""`orders.*`: no open orders on planned symbols, and no sell beyond the shares held."""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.checks.common import Offender, worst_offender
from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Unit, bypassed, check
from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.plan import Plan


@check("orders.open_conflict", "no open orders on planned symbols")
def check_open_orders(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when open orders exist on a symbol the plan trades; warn when
    --allow-open-orders lets the plan trade beside them (`ctx.cancel_open`: nothing is
    cancelled)."""
    planned = {o.symbol for o in plan.orders}
    clash = sorted({o.symbol for o in snap.open_orders if o.symbol in planned})
    if not clash:
        return None
    found = this.block(
        f"open orders already exist for {', '.join(clash)}",
        "wait for them, cancel them, or pass --allow-open-orders",
        symbol=clash[0],
    )
    if ctx.cancel_open:
        return bypassed(
            found,
            "--allow-open-orders",
            "those orders stay open and may fill beside this plan's; alch cancels nothing",
        )
    return found


@check("orders.no_short", "sells within the shares held", unit=Unit.SHARES)
def check_no_short(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a sell of more shares than are held: on a margin account it would open a short."""
    short: list[Offender] = []  # value: the shares sold, limit: the shares held
    for order in plan.orders:
        if order.side is Side.SELL:
            position = snap.positions.get(order.symbol)
            held = position.qty if position is not None else ZERO
            if order.qty > held:
                short.append(_short(order.symbol, order.qty, held))
    return worst_offender(
        this,
        short,
        lambda _: (
            "sells beyond the position (they would open a short): "
            + ", ".join(o.listed for o in short)
        ),
        "re-plan with `alch plan`",
    )


def _short(symbol: str, qty: Decimal, held: Decimal) -> Offender:
    return Offender(symbol, qty, held, f"{symbol} sells {fmt(qty)}, holds {fmt(held)}")
