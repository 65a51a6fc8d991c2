"""Pre-trade checks: each returns a reason to warn or block, or None to pass.

Pure: a check reads the plan, a fresh snapshot, the limits and `now`, and returns a
`Finding`. The engine runs every check and reports them all (passes included), so the
user sees what was checked, not only what failed. Exceptions are for bugs only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import ZERO, fmt, money
from alchemiser_cli.core.planner import Plan
from alchemiser_cli.core.policy import Limits


class Severity(StrEnum):
    """How a check came out."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of one check: a stable id, a severity, a one-line message and a hint."""

    check_id: str
    severity: Severity
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checks know besides the plan and the snapshot."""

    limits: Limits
    now: datetime
    saved_plan: bool = False
    traded_today: Decimal = ZERO
    already_executed: tuple[str, ...] = ()
    force: bool = False
    cancel_open: bool = False


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every check's finding for one plan."""

    plan_id: str
    checked_at: datetime
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def blocked(self) -> bool:
        """Whether any check blocks the plan."""
        return any(f.severity is Severity.BLOCK for f in self.findings)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that warn."""
        return tuple(f for f in self.findings if f.severity is Severity.WARN)


CheckFn = Callable[[Plan, Snapshot, CheckContext], Finding | None]


def _block(check_id: str, message: str, hint: str = "") -> Finding:
    return Finding(check_id, Severity.BLOCK, message, hint)


def check_account_status(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
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
        return _block(
            "account.status",
            f"account {acct.account_id} cannot trade: {', '.join(flags)}",
            "resolve it with the broker; alch sends nothing meanwhile",
        )
    return None


def check_plan_account(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan made for another account or broker."""
    if plan.account_id != snap.account.account_id or plan.broker != snap.broker:
        return _block(
            "plan.account",
            f"plan was made for {plan.broker}:{plan.account_id}, "
            f"this is {snap.broker}:{snap.account.account_id}",
            "make a new plan for this account with `alch plan`",
        )
    return None


def check_buying_power(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when buys at their limit prices exceed buying power plus sell proceeds."""
    buys = sum((o.max_value for o in plan.orders if o.side is Side.BUY), ZERO)
    if buys == ZERO:
        return None
    proceeds = sum((o.max_value for o in plan.orders if o.side is Side.SELL), ZERO)
    available = snap.account.buying_power + proceeds
    if buys > available:
        return _block(
            "account.buying_power",
            f"buys need up to ${money(buys)} at their limit prices; buying power "
            f"${money(snap.account.buying_power)} + sells ${money(proceeds)} = "
            f"${money(available)}",
            "re-plan: cash or open orders changed since the plan was made",
        )
    return None


def check_order_notional(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block any order whose value at its limit exceeds max_order_notional."""
    limit = ctx.limits.max_order_notional
    if limit is None:
        return None
    over = [o for o in plan.orders if o.max_value > limit]
    if over:
        worst = max(over, key=lambda o: o.max_value)
        return _block(
            "limits.order_notional",
            f"{len(over)} order(s) above max_order_notional ${money(limit)}: largest "
            f"{worst.side} {worst.symbol} ${money(worst.max_value)}",
            "raise [limits] max_order_notional if this is intended",
        )
    return None


def check_order_pct(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block any order larger than max_order_pct of equity."""
    limit = ctx.limits.max_order_pct
    equity = plan.account.equity
    if limit is None or equity <= ZERO:
        return None
    over = [o for o in plan.orders if o.max_value / equity > limit]
    if over:
        worst = max(over, key=lambda o: o.max_value)
        return _block(
            "limits.order_pct",
            f"{worst.side} {worst.symbol} ${money(worst.max_value)} is "
            f"{fmt((worst.max_value / equity * 100).quantize(Decimal('0.1')))}% of equity, "
            f"above max_order_pct {fmt(limit * 100)}%",
            "raise [limits] max_order_pct if this is intended",
        )
    return None


def check_max_orders(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run with more orders than max_orders."""
    limit = ctx.limits.max_orders
    if limit is not None and len(plan.orders) > limit:
        return _block(
            "limits.max_orders",
            f"plan has {len(plan.orders)} orders, above max_orders {limit}",
            "raise [limits] max_orders or trade in smaller steps",
        )
    return None


def check_turnover(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run whose turnover exceeds max_turnover_pct."""
    limit = ctx.limits.max_turnover_pct
    if limit is not None and plan.summary.turnover > limit:
        return _block(
            "limits.turnover",
            f"turnover {fmt((plan.summary.turnover * 100).quantize(Decimal('0.1')))}% is above "
            f"max_turnover_pct {fmt(limit * 100)}%",
            "raise [limits] max_turnover_pct if this is intended",
        )
    return None


def check_daily_notional(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when today's traded value plus this plan exceeds max_daily_notional."""
    limit = ctx.limits.max_daily_notional
    planned = sum((o.max_value for o in plan.orders), ZERO)
    if limit is not None and ctx.traded_today + planned > limit:
        return _block(
            "limits.daily_notional",
            f"today ${money(ctx.traded_today)} + this plan ${money(planned)} is above "
            f"max_daily_notional ${money(limit)}",
            "wait for the next day or raise [limits] max_daily_notional",
        )
    return None


def check_assets(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block orders in assets that are not tradable, or fractional in non-fractionable ones."""
    problems = []
    for order in plan.orders:
        asset = snap.assets.get(order.symbol)
        if asset is None or not asset.tradable or asset.status.lower() != "active":
            problems.append(f"{order.symbol} not tradable")
        elif order.fractional and not asset.fractionable:
            problems.append(f"{order.symbol} not fractionable (qty {fmt(order.qty)})")
    if problems:
        return _block("assets.tradable", "; ".join(problems), "re-plan with `alch plan`")
    return None


def check_already_executed(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block re-executing a plan that already sent orders, unless forced."""
    if ctx.already_executed and plan.orders and not ctx.force:
        return _block(
            "plan.already_executed",
            f"plan {plan.plan_id} already sent orders in run {ctx.already_executed[-1]}",
            "check `alch status`; re-plan, or pass --force to run it again",
        )
    return None


def check_open_orders(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when open orders exist on a symbol the plan trades (unless --cancel-open)."""
    planned = {o.symbol for o in plan.orders}
    clash = sorted({o.symbol for o in snap.open_orders if o.symbol in planned})
    if clash and not ctx.cancel_open:
        return _block(
            "orders.open_conflict",
            f"open orders already exist for {', '.join(clash)}",
            "wait for them, cancel them, or pass --cancel-open",
        )
    return None


# The order is the order of the report. (id, description, function)
CHECKS: tuple[tuple[str, str, CheckFn], ...] = (
    ("plan.account", "plan belongs to this account", check_plan_account),
    ("account.status", "account active and allowed to trade", check_account_status),
    ("account.buying_power", "buys covered by buying power", check_buying_power),
    ("limits.order_notional", "each order within max_order_notional", check_order_notional),
    ("limits.order_pct", "each order within max_order_pct of equity", check_order_pct),
    ("limits.max_orders", "order count within max_orders", check_max_orders),
    ("limits.turnover", "turnover within max_turnover_pct", check_turnover),
    ("limits.daily_notional", "today's total within max_daily_notional", check_daily_notional),
    ("assets.tradable", "every asset tradable (and fractionable where needed)", check_assets),
    ("orders.open_conflict", "no open orders on planned symbols", check_open_orders),
    ("plan.already_executed", "plan not executed before", check_already_executed),
)


def run_checks(plan: Plan, snap: Snapshot, ctx: CheckContext) -> CheckReport:
    """Run every check and report each one, passes included."""
    findings = []
    for check_id, description, fn in CHECKS:
        finding = fn(plan, snap, ctx)
        findings.append(finding or Finding(check_id, Severity.PASS, description))
    return CheckReport(plan_id=plan.plan_id, checked_at=ctx.now, findings=tuple(findings))
