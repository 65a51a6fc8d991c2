"""The four `--json` documents by name: their one serialisation and their JSON Schemas."""

from __future__ import annotations

import functools
from typing import Any, Final

from pydantic import TypeAdapter

from alchemiser_cli.documents.plan import dumps

# The documents by name. Their adapters (pydantic's schema build takes tens of ms each)
# are built on first use, so a command builds only the one it prints.
SCHEMAS: Final = ("plan", "check", "execute", "status", "targets", "backtest", "replay")


@functools.cache
def adapter(name: str) -> TypeAdapter[Any]:
    """The TypeAdapter of one document, built once per process."""
    if name == "plan":
        from alchemiser_cli.documents.plan import PLAN_ADAPTER

        return PLAN_ADAPTER
    if name == "targets":
        from alchemiser_cli.documents.targets import TARGETS_ADAPTER

        return TARGETS_ADAPTER
    if name in ("backtest", "replay"):
        from alchemiser_cli.documents.backtest import BACKTEST_ADAPTER, REPLAY_ADAPTER

        return BACKTEST_ADAPTER if name == "backtest" else REPLAY_ADAPTER
    from alchemiser_cli.documents import reports

    kinds: dict[str, Any] = {
        "check": reports.CheckDocument,
        "execute": reports.ExecutionReport,
        "status": reports.StatusReport,
    }
    if name not in kinds:
        raise KeyError(name)
    return TypeAdapter(kinds[name])


def document_json(name: str, document: object) -> str:
    """Serialise one of the documents."""
    return dumps(adapter(name).dump_python(document, mode="json"))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of a document, as it is serialised."""
    schema: dict[str, Any] = adapter(name).json_schema(mode="serialization")
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
