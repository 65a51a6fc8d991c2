"""`plan.*`: a saved plan is this account's, fresh, made from today's holdings, not run
before; and every target is reachable in whole shares."""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.checks.common import Offender, pct, seconds, worst_offender
from alchemiser_cli.core.checks.record import (
    Check,
    CheckContext,
    Finding,
    Needs,
    Severity,
    Unit,
    bypassed,
    check,
)
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO, dollars, fmt
from alchemiser_cli.core.plan import Plan, Rule

# How far in the future a saved plan's created_at may be (clocks of two machines differ).
PLAN_CLOCK_SKEW_S = 60
_DAY_S = 86_400


@check("plan.account", "plan belongs to this account")
def check_plan_account(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block a saved plan made for another account or broker."""
    if plan.account_id != snap.account.account_id or plan.broker != snap.broker:
        return this.block(
            f"plan was made for {plan.broker}:{plan.account_id}, "
            f"this is {snap.broker}:{snap.account.account_id}",
            "make a new plan for this account with `alch plan`",
        )
    return None


def _ahead(seconds: float) -> str:
    """`90 s`, or whole days beyond two days (a date decades ahead is read at a glance)."""
    return f"{seconds / _DAY_S:,.0f} days" if seconds > 2 * _DAY_S else f"{seconds:.0f} s"


@check("plan.age", "saved plan fresh enough", unit=Unit.SECONDS, needs=(Needs.SAVED_PLAN,))
def check_plan_age(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan older than max_plan_age_s, or dated in the future (beyond a small
    clock skew: such a plan's age says nothing, and the file may have been edited)."""
    if not ctx.saved_plan or not plan.orders:
        return None
    age = (ctx.now - plan.created_at).total_seconds()
    if age < -PLAN_CLOCK_SKEW_S:
        return this.block(
            f"plan is dated {plan.created_at:%Y-%m-%d %H:%M:%S %Z}, {_ahead(-age)} in the future "
            f"(more than {PLAN_CLOCK_SKEW_S} s of clock skew)",
            "make a fresh plan with `alch plan`, and check this machine's clock",
            value=seconds(-age),
            limit=PLAN_CLOCK_SKEW_S,
        )
    limit = ctx.limits.max_plan_age_s
    if limit is not None and age > limit:
        return this.block(
            f"plan is {age / 60:.0f} min old, above max_plan_age_s {limit} s",
            "make a fresh plan with `alch plan`",
            value=seconds(age),
            limit=limit,
        )
    return None


@check(
    "plan.positions",
    "holdings as the saved plan found them",
    unit=Unit.SHARES,
    needs=(Needs.SAVED_PLAN,),
)
def check_positions_unchanged(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block a saved plan when the holdings it was made from are not the holdings now: its
    orders would trade from the wrong starting point (a second rebalance on top of one
    already done, or around a trade made by hand)."""
    if not ctx.saved_plan or not plan.orders:
        return None
    now = {s: p.qty for s, p in snap.positions.items() if p.qty != ZERO}
    changed: list[Offender] = []  # value: held now, limit: held then
    for line in plan.positions:
        held = now.pop(line.symbol, ZERO)
        if held != line.qty:
            changed.append(_changed(line.symbol, line.qty, held))
    changed.extend(_changed(symbol, ZERO, qty) for symbol, qty in sorted(now.items()))
    return worst_offender(
        this,
        changed,
        lambda _: "holdings changed since the plan: " + ", ".join(c.listed for c in changed),
        "the plan is stale: make a fresh one with `alch plan`",
    )


def _changed(symbol: str, then: Decimal, held: Decimal) -> Offender:
    return Offender(symbol, held, then, f"{symbol} {fmt(then)} -> {fmt(held)}")


@check("plan.already_executed", "plan not executed before", needs=(Needs.ORDERS,))
def check_already_executed(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block re-executing a plan that already sent orders; warn when --force lets it run."""
    if not ctx.already_executed or not plan.orders:
        return None
    run = ctx.already_executed[-1]
    if ctx.force:
        return bypassed(
            this.block(f"the journal shows this plan ran in run {run}"),
            "--force",
            "its orders are sent again; check `alch status` for what the first run did",
        )
    return this.block(
        f"plan {plan.plan_id} already sent orders in run {run}",
        "check `alch status`; re-plan, or pass --force to run it again",
    )


@check(
    "plan.unreachable",
    "every target reachable in whole shares",
    level=Severity.WARN,
    unit=Unit.USD,
)
def check_unreachable_targets(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Warn about targets no whole number of shares can approach: a non-fractionable
    symbol whose target is under half of one share stays at none (rule within_one_share)."""
    base = plan.summary.investable
    lines = [
        line
        for line in plan.positions
        if line.rule is Rule.WITHIN_ONE_SHARE and line.post_qty == ZERO and line.target_weight > 0
    ]
    if not lines:
        return None
    problems = [
        f"{line.symbol}: its {pct(line.target_weight)} target "
        f"({dollars(line.target_weight * base)}) is under half of one share "
        f"({dollars(line.price)}), so it stays at 0 shares"
        for line in lines
    ]
    first = lines[0]
    return this.warn(
        "; ".join(problems),
        "lower or drop its weight, add cash, or hold a fractionable fund instead",
        symbol=first.symbol,
        value=first.target_weight * base,
        limit=first.price / 2,
    )
