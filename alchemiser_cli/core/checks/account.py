"""`account.*`: the account may trade, the buys are covered, no good-faith violation."""

from __future__ import annotations

from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Needs, Unit, check
from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import ZERO, dollars
from alchemiser_cli.core.plan import Plan


@check("account.status", "account active and allowed to trade", needs=(Needs.ORDERS,))
def check_account_status(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block unless the account is active and allowed to trade."""
    acct = snap.account
    flags = [
        name
        for name, on in (
            ("account_blocked", acct.account_blocked),
            ("trading_blocked", acct.trading_blocked),
            ("trade_suspended_by_user", acct.trade_suspended_by_user),
        )
        if on
    ]
    if acct.status.upper() != "ACTIVE":
        flags.insert(0, f"status {acct.status}")
    if flags and plan.orders:
        return this.block(
            f"account {acct.account_id} cannot trade: {', '.join(flags)}",
            "resolve it with the broker; alch sends nothing meanwhile",
        )
    return None


@check(
    "account.buying_power",
    "buys covered by cash (margin only if allowed) and the sells",
    unit=Unit.USD,
)
def check_buying_power(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block buys beyond what may be spent: cash (margin buying power only when allowed),
    less open buy orders, plus the sells' proceeds.

    A cash account may reinvest sale proceeds before they settle (T+1), so today's and this
    plan's proceeds both count; what it must not do is sell those buys before the money
    settles, which `check_good_faith` guards.
    """
    buys = sum((o.max_value for o in plan.orders if o.side is Side.BUY), ZERO)
    if buys == ZERO:
        return None
    acct = snap.account
    if ctx.limits.allow_margin and acct.account_type == "margin":
        base, label = acct.buying_power, "buying power"
    else:
        base, label = min(acct.cash, acct.buying_power), "cash"
    reserved = sum(
        ((o.qty - o.filled_qty) * (o.limit_price or ZERO) for o in snap.open_orders
         if o.side is Side.BUY),
        ZERO,
    )  # fmt: skip
    proceeds = sum((o.max_value - o.fees for o in plan.orders if o.side is Side.SELL), ZERO)
    available = base - reserved + proceeds
    if buys > available:
        held = f" - open buys {dollars(reserved)}" if reserved else ""
        return this.block(
            f"buys need up to {dollars(buys)} at their limit prices; {label} {dollars(base)}"
            f"{held} + sells {dollars(proceeds)} = {dollars(available)}",
            "re-plan: cash or open orders changed since the plan was made",
            value=buys,
            limit=available,
        )
    return None


@check("account.good_faith", "no sale of unsettled buys (cash account, T+1)", unit=Unit.USD)
def check_good_faith(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Cash account, T+1: block selling what was bought today while sale proceeds are unsettled.

    Buying with unsettled proceeds is allowed; selling that purchase before the proceeds
    settle is a good-faith violation. Which dollars paid for which buy is not knowable from
    the account, so any unsettled proceeds today make such a sell block (fail closed).
    """
    acct = snap.account
    if acct.account_type != "cash":
        return None
    sold_today = sum((f.qty * f.price for f in snap.fills_today if f.side is Side.SELL), ZERO)
    settled_gap = ZERO if acct.settled_cash is None else max(ZERO, acct.cash - acct.settled_cash)
    unsettled = max(sold_today, settled_gap)
    if unsettled == ZERO:
        return None
    bought = {f.symbol for f in snap.fills_today if f.side is Side.BUY}
    risky = sorted({o.symbol for o in plan.orders if o.side is Side.SELL and o.symbol in bought})
    if not risky:
        return None
    return this.block(
        f"sells {', '.join(risky)} bought today while {dollars(unsettled)} of sale proceeds "
        "are unsettled (T+1): a good-faith violation in a cash account",
        "run again on the next session, when today's proceeds have settled",
        symbol=risky[0],
        value=unsettled,
    )
