"""`alch schema NAME`: print the JSON Schema of a command's --json output."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alchemiser_cli.cli.common import globals_of
from alchemiser_cli.cli.errors import reported_errors
from alchemiser_cli.documents import dumps
from alchemiser_cli.errors import InputError
from alchemiser_cli.render.json_out import SCHEMAS, json_schema


def schema(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="plan, check, execute, status or targets")],
) -> None:
    """Print the JSON Schema of `alch NAME --json`."""
    with reported_errors(globals_of(ctx).traceback):
        if name not in SCHEMAS:
            raise InputError(f"no schema {name!r}: choose one of {', '.join(SCHEMAS)}")
        sys.stdout.write(dumps(json_schema(name)) + "\n")
