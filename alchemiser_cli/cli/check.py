"""`alch check`: run every pre-trade check on a saved plan or a fresh one."""

from __future__ import annotations

import typer

from alchemiser_cli.cli.common import (
    AllowOpenOrdersOpt,
    BandOpt,
    CancelOpenOpt,
    DetailedExitOpt,
    ForceOpt,
    JsonOpt,
    LiquidateOpt,
    PlanArg,
    QueueOpt,
    ReinvestOpt,
    StrategyOpt,
    TargetsOpt,
    ToOpt,
    allow_open_orders,
    console,
    emit_json,
    fresh_plan_flags,
    load_plan,
    load_targets,
    runtime_for,
)
from alchemiser_cli.cli.errors import Finished


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
    strategy: StrategyOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
    detailed_exitcode: DetailedExitOpt = False,
) -> Finished:
    """Check a plan against limits, the account and the market; exit 1 if anything blocks."""
    from alchemiser_cli.app.check import RunOptions, check_plan  # here: start-up stays light
    from alchemiser_cli.cli.plan import planner_overrides
    from alchemiser_cli.documents.reports import check_document
    from alchemiser_cli.render.tables import render_checks

    fresh_plan_flags(plan, band, to, reinvest)
    with runtime_for(ctx, lambda: planner_overrides(band, to, reinvest)) as rt:
        outcome = check_plan(
            rt,
            load_plan(plan, targets, strategy),
            load_targets(targets),
            RunOptions(
                force=force,
                cancel_open=allow_open_orders(ctx, allow_open, cancel_open),
                queue_for_open=queue_for_open,
                liquidate=liquidate,
                strategies=tuple(strategy or ()),
            ),
        )
        if json_out:
            emit_json("check", check_document(outcome.plan, outcome.report, outcome.market))
        else:
            render_checks(console(), outcome.report, outcome.market)
    orders = detailed_exitcode and bool(outcome.plan.orders)
    return Finished(blocked=outcome.report.blocked, changes=orders)
