"""JSON documents alch reads and writes: plan, check, execute and status outputs.

Every document carries `schema_version`. Decimals are plain strings; times are ISO 8601.
The JSON Schemas published by `alch schema NAME` are generated from these same types.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError

from alchemiser_cli.core.planner import SCHEMA_VERSION, Plan
from alchemiser_cli.errors import PlanError

PLAN_ADAPTER: Final = TypeAdapter(Plan)


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
    if not isinstance(raw, dict):
        raise PlanError(f"{where}: not a plan (expected a JSON object from `alch plan --json`)")
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
    _check_orders(plan, where)
    return plan


def _check_orders(plan: Plan, where: str) -> None:
    """Reject a plan whose orders could not have come from the planner."""
    legs = [o.leg for o in plan.orders]
    if legs != list(range(1, len(legs) + 1)):
        raise PlanError(f"{where}: order legs must run 1..{len(legs)} in order, got {legs}")
    for order in plan.orders:
        if order.qty <= 0 or order.limit_price <= 0:
            raise PlanError(
                f"{where}: order {order.leg} ({order.symbol}): qty and limit_price must be positive"
            )
