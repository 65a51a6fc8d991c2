"""`alch execute`: check, confirm, then send the plan's orders."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from alchemiser_cli.cli import common
from alchemiser_cli.cli.common import (
    CancelOpenOpt,
    ForceOpt,
    JsonOpt,
    PlanArg,
    QueueOpt,
    TargetsOpt,
    console,
    emit_json,
    load_plan,
    load_targets,
    service_for,
)
from alchemiser_cli.core.checks import CheckReport
from alchemiser_cli.core.planner import Plan
from alchemiser_cli.errors import ConfirmationRequired, ExitCode
from alchemiser_cli.executor import Outcome
from alchemiser_cli.render.tables import render_checks, render_execution, render_plan
from alchemiser_cli.service import RunOptions

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Send without asking (for cron).")]

# Outcome -> exit status. Declining at the prompt is not a failure: nothing was sent.
OUTCOME_EXIT = {
    Outcome.COMPLETED: ExitCode.OK,
    Outcome.QUEUED: ExitCode.OK,
    Outcome.NOTHING_TO_DO: ExitCode.OK,
    Outcome.DECLINED: ExitCode.OK,
    Outcome.BLOCKED: ExitCode.CHECK_BLOCKED,
    Outcome.INCOMPLETE: ExitCode.INCOMPLETE,
    Outcome.FAILED: ExitCode.INCOMPLETE,
    Outcome.INTERRUPTED: ExitCode.INTERRUPTED,
    Outcome.RUNNING: ExitCode.INTERNAL,  # never returned by a finished run
}


def _ask(plan: Plan, report: CheckReport) -> bool:
    """Show the plan and the checks on stderr, then ask (default No)."""
    err = Console(file=sys.stderr, highlight=False)
    render_plan(err, plan)
    render_checks(err, report)
    question = f"Send {len(plan.orders)} order(s) to {plan.broker} account {plan.account_id}?"
    return typer.confirm(question, default=False, err=True)


def execute(
    ctx: typer.Context,
    plan: PlanArg = None,
    targets: TargetsOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    cancel_open: CancelOpenOpt = False,
    queue_for_open: QueueOpt = False,
) -> None:
    """Send the plan's orders after the checks pass and you confirm (or --yes)."""
    with service_for(ctx) as service:
        if not yes and not common.stdin_is_tty():
            raise ConfirmationRequired(
                "execute needs confirmation: run it in a terminal, or pass --yes to send "
                "without asking (nothing was sent)"
            )
        report = service.execute(
            load_plan(plan, targets),
            load_targets(targets),
            confirm=(lambda _p, _r: True) if yes else _ask,
            options=RunOptions(force=force, cancel_open=cancel_open, queue_for_open=queue_for_open),
        )
        if json_out:
            emit_json("execute", report)
        else:
            if report.checks is not None and report.checks.blocked:
                render_checks(console(), report.checks)
            render_execution(console(), report)
    raise typer.Exit(int(OUTCOME_EXIT[report.outcome]))
