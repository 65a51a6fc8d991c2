"""Run every check in the report's order; a pass that looked at nothing says why."""

from __future__ import annotations

from alchemiser_cli.core.checks import (
    account,
    assets,
    daytrade,
    limits,
    market,
    orders,
    prices,
    signal,
    tax,
)
from alchemiser_cli.core.checks import plan as plan_checks
from alchemiser_cli.core.checks.common import trading
from alchemiser_cli.core.checks.record import (
    Check,
    CheckContext,
    CheckReport,
    Finding,
    Needs,
    Severity,
)
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.plan import Plan

# The order is the order of the report.
CHECKS: tuple[Check, ...] = (
    market.check_market_open,
    market.check_session_edges,
    plan_checks.check_plan_account,
    plan_checks.check_plan_age,
    plan_checks.check_positions_unchanged,
    prices.check_price_moves,
    prices.check_spreads,
    prices.check_collar,
    prices.check_quote_age,
    account.check_account_status,
    account.check_buying_power,
    account.check_good_faith,
    limits.check_order_notional,
    limits.check_order_pct,
    limits.check_max_orders,
    limits.check_turnover,
    limits.check_daily_notional,
    limits.check_position_weight,
    limits.check_sector_weight,
    daytrade.check_day_trades,
    assets.check_assets,
    orders.check_open_orders,
    orders.check_no_short,
    plan_checks.check_already_executed,
    plan_checks.check_unreachable_targets,
    signal.check_signal_tradable,
    signal.check_signal_fragile,
    signal.check_signal_stale,
    signal.check_signal_warmup,
    tax.check_wash_sale,
    tax.check_lots,
)


def not_checked(check: Check, plan: Plan, ctx: CheckContext) -> str | None:
    """Why a check that found nothing did not look: its pass text would claim too much
    ("market open now" on a closed day when nothing is sent)."""
    if Needs.SAVED_PLAN in check.needs and not ctx.saved_plan:
        return Needs.SAVED_PLAN.value
    if check.setting is not None and getattr(ctx.limits, check.setting) is None:
        return f"not checked: [limits] {check.setting} is off"
    lacking = {
        Needs.SIGNAL: plan.signal is None,
        Needs.SECTORS: not ctx.sectors,
        Needs.ORDERS: not plan.orders,
        Needs.CLOCK: ctx.market is None,
        Needs.OPEN: not trading(ctx),
    }
    return next((n.value for n, lacks in lacking.items() if lacks and n in check.needs), None)


def run_checks(plan: Plan, snap: Snapshot, ctx: CheckContext) -> CheckReport:
    """Run every check and report each one, passes included; a pass that looked at
    nothing says why instead of claiming what it checks."""
    findings = []
    for check in CHECKS:
        finding = check(plan, snap, ctx)
        if finding is None:
            text = not_checked(check, plan, ctx) or check.passes
            finding = Finding(check.check_id, Severity.PASS, text)
        findings.append(finding)
    return CheckReport(plan_id=plan.plan_id, checked_at=ctx.now, findings=tuple(findings))
