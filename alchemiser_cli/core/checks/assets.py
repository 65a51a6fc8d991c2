"""`assets.tradable`: every asset tradable, and fractionable where an order needs it."""

from __future__ import annotations

from alchemiser_cli.core.checks.common import not_tradable
from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, check
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.plan import Plan


@check("assets.tradable", "every asset tradable (and fractionable where needed)")
def check_assets(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block orders in assets that are not tradable, or fractional in non-fractionable ones."""
    problems, symbols = [], []
    for order in plan.orders:
        asset = snap.assets.get(order.symbol)
        if asset is None or not_tradable(snap, order.symbol):
            problems.append(f"{order.symbol} not tradable")
        elif order.fractional and not asset.fractionable:
            problems.append(f"{order.symbol} not fractionable (qty {fmt(order.qty)})")
        else:
            continue
        symbols.append(order.symbol)
    if problems:
        return this.block("; ".join(problems), "re-plan with `alch plan`", symbol=symbols[0])
    return None
