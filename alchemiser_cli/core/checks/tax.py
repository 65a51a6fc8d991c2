"""`tax.*`: the tax checks, `tax.wash_sale` and `tax.lots`.

They read the plan's own tax estimate (made with the plan, from the lots of that moment),
never block, and pass with "not checked" on an IRA (`[tax] account = "ira"`).
"""

from __future__ import annotations

from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Severity, Unit, check
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO, dollars, fmt, money
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.targets import shortened
from alchemiser_cli.core.tax.records import Hold, WashSaleView

OFF = 'not checked: [tax] account = "ira" (no lots, gains or wash sales)'


@check("tax.wash_sale", "no planned trade makes a wash sale", level=Severity.WARN, unit=Unit.USD)
def check_wash_sale(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding:
    """Warn for each wash sale the plan would make, naming the lots, dates and amount."""
    tax = plan.tax
    if tax is None:
        return this.finding(Severity.PASS, OFF)
    if not tax.wash_sales:
        held = "; ".join(_held(h) for h in tax.holds)
        text = "no planned trade makes a wash sale"
        return this.finding(Severity.PASS, text + (f" (held back: {held})" if held else ""))
    washes = sorted(tax.wash_sales, key=lambda w: w.disallowed, reverse=True)
    total = sum((w.disallowed for w in washes), ZERO)
    worst = washes[0]
    message = "; ".join(describe(w) for w in washes[:3])
    if len(washes) > 3:
        message += f"; and {len(washes) - 3} more"
    return this.warn(
        f"{len(washes)} wash sale{'s' if len(washes) > 1 else ''}, {dollars(total)} of losses "
        f"disallowed: {message}",
        "set [tax] avoid_wash_sales = true to keep these positions off target instead "
        "(estimates, not tax advice)",
        symbol=worst.symbol,
        value=money(total),
    )


def describe(wash: WashSaleView) -> str:
    """One wash sale in words: the loss sale, its lot, the replacement and the amount."""
    sale = (
        f"the planned sell (leg {wash.sale_leg})"
        if wash.sale_leg is not None
        else f"the sale of {wash.sold.isoformat()}"
    )
    replacement = (
        f"the planned buy (leg {wash.replacement_leg}) of {fmt(wash.replacement_qty)} shares"
        if wash.replacement_leg is not None
        else f"{fmt(wash.replacement_qty)} shares bought {wash.replacement_acquired.isoformat()}"
    )
    return (
        f"{wash.symbol}: {sale} of {fmt(wash.sold_qty)} shares bought "
        f"{wash.lot_acquired.isoformat()} at a {dollars(wash.loss)} loss, replaced by "
        f"{replacement}: {dollars(wash.disallowed)} disallowed"
    )


def _held(hold: Hold) -> str:
    where = f", {hold.substitute} instead" if hold.substitute else ""
    return f"{hold.symbol} until {hold.until.isoformat()}{where}"


@check("tax.lots", "lots match the broker's positions", level=Severity.WARN, unit=Unit.SHARES)
def check_lots(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding:
    """Warn when the lots rebuilt from the fills do not match the broker's positions."""
    tax = plan.tax
    if tax is None:
        return this.finding(Severity.PASS, OFF)
    if not tax.mismatches:
        if tax.status == "incomplete":
            return this.warn(
                "a sale in the history has no lot to close: the tax figures are incomplete",
                "shares may have come in by transfer; the broker's 1099-B is authoritative",
            )
        return this.finding(Severity.PASS, "lots match every position (qty, avg price)")
    names = [m.symbol for m in tax.mismatches]
    first = tax.mismatches[0]
    lots_avg = "-" if first.lots_avg_price is None else f"${fmt(first.lots_avg_price)}"
    broker_avg = "-" if first.position_avg_price is None else f"${fmt(first.position_avg_price)}"
    return this.warn(
        f"lots do not match the broker's positions for {shortened(names)}: {first.symbol} "
        f"lots {fmt(first.lots_qty)} shares at {lots_avg}, broker {fmt(first.position_qty)} "
        f"at {broker_avg}; the tax figures are incomplete",
        "shares moved without a fill (a transfer, a merger) are not in the history",
        symbol=first.symbol,
        value=first.lots_qty,
        limit=first.position_qty,
    )
