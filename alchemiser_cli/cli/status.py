"""`alch status`: the account, positions with drift, open orders and recent runs."""

from __future__ import annotations

from typing import Annotated

import typer

from alchemiser_cli.cli.common import (
    JsonOpt,
    TargetsOpt,
    console,
    emit_json,
    runtime_for,
)

RunsOpt = Annotated[int, typer.Option("--runs", min=1, max=1000, help="How many recent runs.")]
RunOpt = Annotated[
    str | None,
    typer.Option("--run", help="Show one run in full: its id, a unique prefix, or `last`."),
]


def status(
    ctx: typer.Context,
    json_out: JsonOpt = False,
    runs: RunsOpt = 5,
    run: RunOpt = None,
    targets: TargetsOpt = None,
) -> None:
    """Show the account, positions, open orders and the journal's recent runs.

    Drift is against --targets, else the targets of the last run that sent orders, else
    the configured ones.
    """
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.render.tables import render_status

    with runtime_for(ctx) as rt:
        report = api.status(runs=runs, run=run, targets=targets, runtime=rt)
        if json_out:
            emit_json("status", report)
        else:
            render_status(console(), report)
