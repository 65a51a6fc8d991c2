"""The plan document: its one JSON form, loading a saved plan and refusing an edited one."""

from __future__ import annotations

import json
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import QTY_STEP, ZERO, dollars, fmt, money
from alchemiser_cli.core.plan import SCHEMA_VERSION, Plan
from alchemiser_cli.core.strategy.record import blended
from alchemiser_cli.core.tax.avoid import undo_holds
from alchemiser_cli.core.types import WEIGHT_STEP
from alchemiser_cli.errors import PlanError

PLAN_ADAPTER: Final = TypeAdapter(Plan)
HALF_CENT: Final = Decimal("0.005")
MAX_QTY: Final = Decimal(10) ** 12  # more shares than any US listing has outstanding


def to_jsonable(adapter: TypeAdapter[Any], document: object) -> Any:
    """A JSON-ready Python value (dicts, lists, strings) for `document`."""
    return adapter.dump_python(document, mode="json")


def dumps(value: Any) -> str:
    """Serialise a JSON-ready value the one way alch prints JSON."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """A plan as a JSON-ready dict."""
    result: dict[str, Any] = to_jsonable(PLAN_ADAPTER, plan)
    return result


def plan_from_text(text: str, *, where: str) -> Plan:
    """Load a saved plan; any problem is one `PlanError` naming the source and the field."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"{where}: not a JSON plan: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise PlanError(f"{where}: not a plan: nested too deeply") from None
    if not isinstance(raw, dict):
        raise PlanError(f"{where}: not a plan (expected a JSON object from `alch plan --json`)")
    if "plan_id" not in raw and "targets" in raw:
        made_by = " (from `alch signal --json`)" if "strategies" in raw else ""
        flag = "--targets -" if where == "<stdin>" else f"--targets {where}"
        raise PlanError(
            f"{where}: this is a targets document{made_by}, not a plan: give it as {flag}"
        )
    version = raw.get("schema_version")
    if version != SCHEMA_VERSION:
        raise PlanError(
            f"{where}: plan schema_version {version!r} is not supported "
            f"(this alch reads {SCHEMA_VERSION}); make a new plan"
        )
    try:
        plan = PLAN_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{where}: invalid plan field {field}: {first['msg']}") from None
    if plan.created_at.utcoffset() is None:  # compared with aware clocks by the checks
        raise PlanError(
            f"{where}: invalid plan field created_at: {raw.get('created_at')!r} has no time "
            "zone (`alch plan` writes one, e.g. 2026-11-24T15:00:00Z); make a fresh plan "
            "with `alch plan`"
        )
    _check_orders(plan, where)
    # No weight asked for is a liquidation, unless strategies decided it (cash is a decision).
    if plan.liquidate != (plan.signal is None and not any(w > 0 for w in asked(plan).values())):
        raise PlanError(
            f"{where}: liquidate {str(plan.liquidate).lower()} does not match the plan's "
            "targets: the plan was edited or damaged; make a fresh one with `alch plan`"
        )
    if plan.signal is not None:
        _check_signal(plan, where)
    try:
        _check_figures(plan, where)
    except ArithmeticError:  # a figure too large for exact arithmetic: not alch's output
        raise PlanError(
            f"{where}: a figure is out of range: the plan was edited or damaged; make a fresh "
            "one with `alch plan`"
        ) from None
    return plan


def asked(plan: Plan) -> dict[str, Decimal]:
    """The targets asked for: the plan's own, less what avoid_wash_sales changed (a
    position held back, its substitute's extra weight), which the plan's tax records."""
    return plan.targets if plan.tax is None else undo_holds(plan.targets, plan.tax.holds)


def _check_signal(plan: Plan, where: str) -> None:
    """Refuse a plan whose strategy trace does not give its targets. The trace is
    informational (the orders follow from the targets, which the plan id covers), but
    what it says the strategies decided must be what the plan trades."""
    assert plan.signal is not None
    made = blended(plan.signal.strategies)
    targets = {s: w for s, w in asked(plan).items() if w != ZERO}
    for symbol in sorted(set(made) | set(targets)):
        traced, planned = made.get(symbol, ZERO), targets.get(symbol, ZERO)
        if traced != planned:
            raise PlanError(
                f"{where}: signal: the strategies' trace gives {symbol} {fmt(traced)} but the "
                f"plan's target is {fmt(planned)}: the plan was edited or damaged; make a "
                "fresh one with `alch plan`"
            )


def _check_orders(plan: Plan, where: str) -> None:
    """Reject a plan whose orders could not have come from the planner."""
    legs = [o.leg for o in plan.orders]
    if legs != list(range(1, len(legs) + 1)):
        raise PlanError(f"{where}: order legs must run 1..{len(legs)} in order, got {legs}")
    for order in plan.orders:
        name = f"{where}: order {order.leg} ({order.symbol})"
        if order.qty <= 0 or order.limit_price <= 0:
            raise PlanError(f"{name}: qty and limit_price must be positive")
        if order.qty > MAX_QTY or order.qty != order.qty.quantize(QTY_STEP, ROUND_DOWN):
            raise PlanError(
                f"{name}: qty {fmt(order.qty)} is not an order quantity (at most 9 decimals "
                f"and {fmt(MAX_QTY)} shares)"
            )


def _check_figures(plan: Plan, where: str) -> None:
    """Refuse a plan whose figures do not follow from its orders, holdings and prices.

    The checks judge a saved plan by its order values, post-trade values, equity and
    turnover; in an edited file those could say one thing while the orders say another.
    Each figure is compared as `alch plan` writes it: money to the cent (sums within half
    a cent per term), weights to six decimals.
    """

    def edited(what: str) -> PlanError:
        return PlanError(
            f"{where}: {what}: the plan was edited or damaged; make a fresh one with `alch plan`"
        )

    net: dict[str, Decimal] = {}
    buys = sells = ZERO
    for o in plan.orders:
        name = f"order {o.leg} ({o.symbol})"
        price = plan.prices.get(o.symbol)
        quoted = None if price is None else price.ask if o.side is Side.BUY else price.bid
        if o.est_price != quoted:
            raise edited(f"{name}: est_price {fmt(o.est_price)} is not the plan's quote")
        for field, value, expected in (
            ("max_value", o.max_value, money(o.qty * o.limit_price)),
            ("est_value", o.est_value, money(o.qty * o.est_price)),
        ):
            if value != expected:
                raise edited(f"{name}: {field} {_usd(value)} is not {_usd(expected)}")
        if o.fractional != (o.qty != o.qty.to_integral_value()):
            raise edited(f"{name}: fractional {o.fractional} does not match qty {fmt(o.qty)}")
        signed = o.qty if o.side is Side.BUY else -o.qty
        net[o.symbol] = net.get(o.symbol, ZERO) + signed
        if o.side is Side.BUY:
            buys += o.est_value
        else:
            sells += o.est_value
    equity = plan.account.cash
    for line in plan.positions:
        price = plan.prices.get(line.symbol)
        if price is None or line.price != price.ref:
            raise edited(f"{line.symbol}: price {fmt(line.price)} is not the plan's quote")
        traded = net.pop(line.symbol, ZERO)
        if line.trade_qty != traded or line.post_qty != line.qty + traded:
            raise edited(
                f"{line.symbol}: trade_qty {fmt(line.trade_qty)} and post_qty "
                f"{fmt(line.post_qty)} do not follow from qty {fmt(line.qty)} and its orders "
                f"({fmt(traded)})"
            )
        for field, value, expected in (
            ("value", line.value, money(line.qty * line.price)),
            ("post_value", line.post_value, money(line.post_qty * line.price)),
        ):
            if value != expected:
                raise edited(f"{line.symbol}: {field} {_usd(value)} is not {_usd(expected)}")
        equity += line.value
    if net:
        raise edited(f"orders for {', '.join(sorted(net))} have no position line")
    summary, terms = plan.summary, len(plan.orders) + len(plan.positions) + 1
    slack = HALF_CENT * terms
    if summary.order_count != len(plan.orders):
        raise edited(f"summary.order_count {summary.order_count} is not {len(plan.orders)}")
    for field, value, expected in (
        ("account.equity", plan.account.equity, equity),
        ("summary.buy_value", summary.buy_value, buys),
        ("summary.sell_value", summary.sell_value, sells),
    ):
        if abs(value - expected) > slack:
            raise edited(f"{field} {_usd(value)} is not {_usd(expected)}")
    if plan.account.equity > ZERO:
        turnover = (buys + sells) / plan.account.equity
        if abs(summary.turnover - turnover) > WEIGHT_STEP + 2 * slack / plan.account.equity:
            shown, due = _percent(summary.turnover), _percent(turnover)
            raise edited(f"summary.turnover {shown} is not {due}")


def _usd(value: Decimal) -> str:
    """Money as $1,234.56, or with every digit when an edit left it between cents."""
    return dollars(value) if value == money(value) else f"${value:,f}"


def _percent(weight: Decimal) -> str:
    """A weight as a percentage to the precision the plan stores (six decimals)."""
    return f"{fmt((weight * 100).quantize(Decimal('0.0001')))}%"
