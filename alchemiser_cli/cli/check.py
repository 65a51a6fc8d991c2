"""`alch check`: run every pre-trade check on a saved plan or a fresh one."""

from __future__ import annotations

import typer

from alchemiser_cli.cli.common import (
    AllowOpenOrdersOpt,
    CancelOpenOpt,
    ForceOpt,
    JsonOpt,
    LiquidateOpt,
    PlanArg,
    QueueOpt,
    TargetsOpt,
    allow_open_orders,
    console,
    emit_json,
    load_plan,
    load_targets,
    service_for,
)
from alchemiser_cli.errors import ExitCode
from alchemiser_cli.render.json_out import check_document
from alchemiser_cli.render.tables import render_checks
from alchemiser_cli.service import RunOptions


def check(
    ctx: typer.Context,
    plan: PlanArg = None,
    targets: TargetsOpt = None,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    allow_open: AllowOpenOrdersOpt = False,
    cancel_open: CancelOpenOpt = False,
    queue_for_open: QueueOpt = False,
    liquidate: LiquidateOpt = False,
) -> None:
    """Check a plan against limits, the account and the market; exit 1 if anything blocks."""
    with service_for(ctx) as service:
        outcome = service.check(
            load_plan(plan, targets),
            load_targets(targets),
            RunOptions(
                force=force,
                cancel_open=allow_open_orders(ctx, allow_open, cancel_open),
                queue_for_open=queue_for_open,
                liquidate=liquidate,
            ),
        )
        if json_out:
            emit_json("check", check_document(outcome))
        else:
            render_checks(console(), outcome.report, outcome.market)
    if outcome.report.blocked:
        raise typer.Exit(int(ExitCode.CHECK_BLOCKED))
