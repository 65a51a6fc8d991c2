"""Typed documents and their one JSON form: plan, check, execute, status, journaled reports.

Every document carries `schema_version`. Decimals are plain strings; times are ISO 8601.
The JSON Schemas published by `alch schema NAME` are generated from these same types.
"""

from alchemiser_cli.documents.plan import (
    PLAN_ADAPTER,
    dumps,
    plan_from_text,
    plan_to_json,
    to_jsonable,
)

__all__ = ["PLAN_ADAPTER", "dumps", "plan_from_text", "plan_to_json", "to_jsonable"]
