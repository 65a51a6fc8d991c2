"""Validate answers against Alpaca's official OpenAPI files (vendored in tests/openapi/)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

SPECS = Path(__file__).resolve().parent / "openapi"
TEMPLATES = [
    (re.compile(r"^/v2/assets/[^/]+$"), "/v2/assets/{symbol_or_asset_id}"),
    (re.compile(r"^/v2/orders/[^/:]+$"), "/v2/orders/{order_id}"),
    (re.compile(r"^/v2/account/activities/[^/]+$"), "/v2/account/activities/{activity_type}"),
]


@cache
def spec(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPECS / name).read_text())
    return data


def schema_for(method: str, path: str, status: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(schema, spec) for a response, or None when the spec gives no JSON body for it."""
    template = next((t for rx, t in TEMPLATES if rx.match(path)), path)
    for name in ("trading-api.json", "market-data-api.json"):
        paths = spec(name)["paths"]
        if template in paths and method.lower() in paths[template]:
            response = paths[template][method.lower()]["responses"].get(str(status))
            if response is None:
                return None
            content = response.get("content", {}).get("application/json")
            return (content["schema"], spec(name)) if content else None
    raise AssertionError(f"{method} {path} is not in Alpaca's API")


def validate(method: str, path: str, status: int, body: Any) -> None:
    """Raise if `body` does not match the documented schema (errors: the Error shape)."""
    found = schema_for(method, path, status)
    if found is None:
        if status >= 400:
            schema, root = {"$ref": "#/components/schemas/Error"}, spec("trading-api.json")
        else:
            assert body is None, f"{method} {path} {status} should have no body"
            return
    else:
        schema, root = found
    OAS30Validator({**schema, "components": root["components"]}).validate(body)
