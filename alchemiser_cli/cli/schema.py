"""`alch schema NAME`: print the JSON Schema of a command's --json output."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alchemiser_cli.errors import InputError


def schema(
    name: Annotated[
        str, typer.Argument(help="plan, check, execute, status, targets, backtest or replay")
    ],
) -> None:
    """Print the JSON Schema of `alch NAME --json`."""
    from alchemiser_cli.documents import dumps  # imported here: start-up stays light
    from alchemiser_cli.documents.schemas import SCHEMAS, json_schema

    if name not in SCHEMAS:
        raise InputError(f"no schema {name!r}: choose one of {', '.join(SCHEMAS)}")
    sys.stdout.write(dumps(json_schema(name)) + "\n")
