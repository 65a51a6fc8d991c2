"""The four `--json` documents by name: their one serialisation and their JSON Schemas."""

from __future__ import annotations

from typing import Any, Final

from pydantic import TypeAdapter

from alchemiser_cli.documents.backtest import BACKTEST_ADAPTER, REPLAY_ADAPTER
from alchemiser_cli.documents.plan import PLAN_ADAPTER, dumps
from alchemiser_cli.documents.reports import CheckDocument, ExecutionReport, StatusReport
from alchemiser_cli.documents.targets import TARGETS_ADAPTER

EXECUTION_ADAPTER: Final = TypeAdapter(ExecutionReport)
STATUS_ADAPTER: Final = TypeAdapter(StatusReport)
CHECK_ADAPTER: Final = TypeAdapter(CheckDocument)

SCHEMAS: Final[dict[str, TypeAdapter[Any]]] = {
    "plan": PLAN_ADAPTER,
    "check": CHECK_ADAPTER,
    "execute": EXECUTION_ADAPTER,
    "status": STATUS_ADAPTER,
    "targets": TARGETS_ADAPTER,
    "backtest": BACKTEST_ADAPTER,
    "replay": REPLAY_ADAPTER,
}


def document_json(name: str, document: object) -> str:
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
