"""`alch plan`: compute and show a dry-run rebalance plan. Sends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alchemiser_cli.cli.common import (
    BandOpt,
    DetailedExitOpt,
    JsonOpt,
    LiquidateOpt,
    OverwriteOpt,
    ReinvestOpt,
    StrategyOpt,
    TargetsOpt,
    ToOpt,
    console,
    emit_json,
    output_for,
    output_guard,
    runtime_for,
    save_output,
)
from alchemiser_cli.cli.errors import Finished

OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Also write the plan JSON to this file.")
]


def plan(
    ctx: typer.Context,
    targets: TargetsOpt = None,
    json_out: JsonOpt = False,
    out: OutOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
    liquidate: LiquidateOpt = False,
    strategy: StrategyOpt = None,
    overwrite: OverwriteOpt = False,
    detailed_exitcode: DetailedExitOpt = False,
) -> Finished:
    """Show what it would take to reach the targets. Nothing is sent."""
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.api.flags import planner_overrides
    from alchemiser_cli.app.outputs import refuse_foreign
    from alchemiser_cli.documents import dumps, plan_to_json
    from alchemiser_cli.render.tables import render_plan

    saved = output_for(out, "--out", "plan", overwrite)
    guard = output_guard([saved], targets, strategy)
    with runtime_for(ctx, lambda: planner_overrides(band, to, reinvest), before=guard) as rt:
        if saved is not None:
            refuse_foreign(rt, saved)
        result = api.plan(targets, liquidate=liquidate, strategy=strategy or (), runtime=rt)
        if saved is not None:
            save_output(ctx, rt, saved, dumps(plan_to_json(result)) + "\n")
        if json_out:
            emit_json("plan", result)
        else:
            render_plan(console(), result)
    return Finished(changes=detailed_exitcode and bool(result.orders))
