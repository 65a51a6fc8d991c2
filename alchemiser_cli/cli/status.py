"""`alch status`: the account, positions with drift, open orders and recent runs."""

from __future__ import annotations

from typing import Annotated

import typer

from alchemiser_cli.cli.common import JsonOpt, console, emit_json, service_for
from alchemiser_cli.render.tables import render_status

RunsOpt = Annotated[int, typer.Option("--runs", min=1, max=1000, help="How many recent runs.")]
RunOpt = Annotated[str | None, typer.Option("--run", help="Show one run in full (id or prefix).")]


def status(
    ctx: typer.Context, json_out: JsonOpt = False, runs: RunsOpt = 5, run: RunOpt = None
) -> None:
    """Show the account, positions, open orders and the journal's recent runs."""
    with service_for(ctx) as service:
        report = service.status(runs=runs, run_id=run)
        if json_out:
            emit_json("status", report)
        else:
            render_status(console(), report)
