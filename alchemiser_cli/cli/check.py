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
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.api.flags import fresh_plan_flags, planner_overrides
    from alchemiser_cli.core.checks.record import CheckReport
    from alchemiser_cli.render.tables import render_checks

    fresh_plan_flags(plan, band, to, reinvest)
    with runtime_for(ctx, lambda: planner_overrides(band, to, reinvest)) as rt:
        doc = api.check(
            plan,
            targets,
            strategy=strategy or (),
            liquidate=liquidate,
            force=force,
            allow_open_orders=allow_open_orders(ctx, allow_open, cancel_open),
            queue_for_open=queue_for_open,
            runtime=rt,
        )
        if json_out:
            emit_json("check", doc)
        else:
            report = CheckReport(doc.plan_id, doc.checked_at, doc.findings)
            render_checks(console(), report, doc.market)
    return Finished(blocked=doc.blocked, changes=detailed_exitcode and bool(doc.plan.orders))
