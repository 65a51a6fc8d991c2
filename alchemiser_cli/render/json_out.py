"""JSON renderers: one document on stdout, nothing else there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import TypeAdapter

from alchemiser_cli.core.calendar import MarketState
from alchemiser_cli.core.checks import CheckReport, Finding
from alchemiser_cli.core.planner import Plan
from alchemiser_cli.documents import PLAN_ADAPTER, dumps
from alchemiser_cli.render.signal import TARGETS_ADAPTER
from alchemiser_cli.service import CheckOutcome, ExecutionReport, StatusReport


@dataclass(frozen=True, slots=True)
class CheckDocument:
    """`alch check --json`: every finding, and whether anything blocks."""

    plan_id: str
    checked_at: datetime
    blocked: bool
    findings: tuple[Finding, ...]
    plan: Plan
    market: MarketState | None = None
    schema_version: int = 1


EXECUTION_ADAPTER: Final = TypeAdapter(ExecutionReport)
STATUS_ADAPTER: Final = TypeAdapter(StatusReport)
CHECK_ADAPTER: Final = TypeAdapter(CheckDocument)

SCHEMAS: Final[dict[str, TypeAdapter[Any]]] = {
    "plan": PLAN_ADAPTER,
    "check": CHECK_ADAPTER,
    "execute": EXECUTION_ADAPTER,
    "status": STATUS_ADAPTER,
    "targets": TARGETS_ADAPTER,
}


def check_document(outcome: CheckOutcome) -> CheckDocument:
    """The JSON shape of a check outcome."""
    report: CheckReport = outcome.report
    return CheckDocument(
        plan_id=report.plan_id,
        checked_at=report.checked_at,
        blocked=report.blocked,
        findings=report.findings,
        plan=outcome.plan,
        market=outcome.market,
    )


def render_json(name: str, document: object) -> str:
    """Serialise one of the four documents."""
    return dumps(SCHEMAS[name].dump_python(document, mode="json"))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a document, as it is serialised."""
    schema: dict[str, Any] = SCHEMAS[name].json_schema(mode="serialization")
    _require_every_property(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"alch {name} output"
    return schema


def _require_every_property(node: Any) -> None:
    """Every field is always written (None as null), so the contract requires them all;
    pydantic would leave fields with defaults, such as schema_version, optional."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            node["required"] = list(node["properties"])
        for value in node.values():
            _require_every_property(value)
    elif isinstance(node, list):
        for item in node:
            _require_every_property(item)
