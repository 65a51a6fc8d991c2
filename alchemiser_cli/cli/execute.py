"""`alch execute`: check, confirm, then send the plan's orders."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from alchemiser_cli.cli import common
from alchemiser_cli.cli.common import (
    AllowOpenOrdersOpt,
    BandOpt,
    CancelOpenOpt,
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
    globals_of,
    masked,
    runtime_for,
)
from alchemiser_cli.cli.errors import SIGNAL_EXIT, Finished
from alchemiser_cli.errors import ConfirmationAborted, ConfirmationRequired, Interrupted

if TYPE_CHECKING:  # start-up imports none of these; `execute` does, when it runs
    from alchemiser_cli.app.runtime import Runtime, StopToken
    from alchemiser_cli.core.checks.record import CheckReport
    from alchemiser_cli.core.plan import Plan
    from alchemiser_cli.render.progress import Listener

YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Send without asking (for cron).")]
LiveOpt = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Send to a LIVE Alpaca account (also needs ALCH_LIVE=1; asks for the "
        "account number unless --yes).",
    ),
]
DeadlineOpt = Annotated[
    str | None,
    typer.Option(
        "--deadline", help="Stop the run after this long: 90s, 15m, 1h (default: config, 15m)."
    ),
]
OrderTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--order-type",
        help="limit (default: marketable limits inside the collar) or market (size limits "
        "still apply).",
    ),
]
CloseWindowOpt = Annotated[
    str | None,
    typer.Option(
        "--close-window",
        help="Trade only in this last stretch before today's close, e.g. 25m (early closes "
        "count); outside it: nothing to do, exit 0. For cron.",
    ),
]


@contextmanager
def abortable() -> Iterator[None]:
    """A prompt left by Ctrl-D (end of input), Ctrl-C or a signal is an abort: the run
    does not start and nothing is sent (exit 1), never an internal error."""
    try:
        yield
    except (typer.Abort, EOFError, KeyboardInterrupt, Interrupted):
        sys.stderr.write("\n")  # the prompt's line was left open
        raise ConfirmationAborted(
            "aborted at the prompt: the run did not start; nothing sent"
        ) from None


def _ask(plan: Plan, report: CheckReport) -> bool:
    """Show the plan and the checks on stderr, then ask (default No)."""
    from rich.console import Console

    from alchemiser_cli.render.tables import render_checks, render_plan

    err = Console(file=masked(sys.stderr), highlight=False)
    render_plan(err, plan)
    render_checks(err, report)
    question = f"Send {len(plan.orders)} order(s) to {plan.broker} account {plan.account_id}?"
    with abortable():
        return typer.confirm(question, default=False, err=True)


def _why_no_question(plan: str | None, targets: str | None) -> str:
    """Why execute cannot ask, and what to do: stdin is not a terminal (or is closed)."""
    if plan == "-":
        return (
            "execute needs confirmation, but the plan came on stdin, so no answer can be read "
            "from it: pass --yes, or save the plan (alch plan --out plan.json) and run "
            "`alch execute plan.json` (nothing was sent)"
        )
    if targets == "-":
        return (
            "execute needs confirmation, but the targets came on stdin, so no answer can be "
            "read from it: pass --yes, or give the targets as a file (nothing was sent)"
        )
    return (
        "execute needs confirmation: run it in a terminal, or pass --yes to send without "
        "asking (nothing was sent)"
    )


def _confirm_live(plan: Plan, report: CheckReport) -> bool:
    """Live and interactive: the usual question, then the account number typed out."""
    if not _ask(plan, report):
        return False
    with abortable():
        typed = typer.prompt(
            f"LIVE trading with real money: type the account number ({plan.account_id}) to send",
            default="",
            show_default=False,
            err=True,
        )
    if typed.strip() != plan.account_id:
        sys.stderr.write("alch: the account number did not match; nothing sent\n")
        return False
    return True


def progress_for(ctx: typer.Context, stop: StopToken) -> AbstractContextManager[Listener | None]:
    """A live view on a terminal, plain event lines elsewhere, nothing with --quiet."""
    from alchemiser_cli.render.progress import live_view, plain_events

    if globals_of(ctx).verbosity < 0:
        return nullcontext(None)
    if sys.stderr.isatty():
        return live_view(masked(sys.stderr), stop.progress)
    return plain_events(masked(sys.stderr))


@contextmanager
def stop_on_signals(rt: Runtime) -> Iterator[None]:
    """SIGINT/SIGTERM: once orders are going out, stop sending, cancel this run's open
    orders and let the run end `interrupted`; before that, abandon the command at once."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not rt.request_stop(name):
            raise Interrupted(f"stopped by {name}; nothing sent", signal_exit=SIGNAL_EXIT[name])
        # A second signal, if the orderly stop hangs, takes the default (hard) action.
        signal.signal(signum, signal.SIG_DFL)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def _sending(ctx: typer.Context, rt: Runtime) -> Iterator[Runtime]:
    """While orders may go out: signals stop the run in order, progress is shown."""
    with stop_on_signals(rt), progress_for(ctx, rt.stop) as listener:
        yield replace(rt, events=listener)  # the same runtime, with its listener


def execute(
    ctx: typer.Context,
    plan: PlanArg = None,
    targets: TargetsOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    allow_open: AllowOpenOrdersOpt = False,
    cancel_open: CancelOpenOpt = False,
    queue_for_open: QueueOpt = False,
    liquidate: LiquidateOpt = False,
    live: LiveOpt = False,
    deadline: DeadlineOpt = None,
    order_type: OrderTypeOpt = None,
    close_window: CloseWindowOpt = None,
    strategy: StrategyOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
) -> Finished:
    """Send the plan's orders after the checks pass and you confirm (or --yes)."""
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.api.flags import execution_overrides, fresh_plan_flags, planner_overrides
    from alchemiser_cli.core.results import Outcome
    from alchemiser_cli.render.tables import render_checks, render_execution

    fresh_plan_flags(plan, band, to, reinvest)
    flags = lambda: execution_overrides(deadline, order_type)  # noqa: E731
    shape = lambda: planner_overrides(band, to, reinvest)  # noqa: E731
    with runtime_for(ctx, shape, execution_flags=flags) as rt:
        if not yes and not common.stdin_is_tty():
            raise ConfirmationRequired(_why_no_question(plan, targets))
        report = api.execute(
            plan,
            targets,
            confirm=True if yes else (_confirm_live if live else _ask),
            strategy=strategy or (),
            liquidate=liquidate,
            force=force,
            allow_open_orders=allow_open_orders(ctx, allow_open, cancel_open),
            queue_for_open=queue_for_open,
            live=live,
            close_window=close_window,
            runtime=rt,
            sending=lambda opened: _sending(ctx, opened),
        )
        if json_out:
            emit_json("execute", report)
        else:
            # The checks' verdict only for a run they stopped: a run the once-a-day guard
            # (or the close window) stopped did nothing, and says so in its outcome alone.
            if report.outcome is Outcome.BLOCKED and report.checks is not None:
                render_checks(console(), report.checks)
            render_execution(console(), report)
    return Finished(outcome=report.outcome, stopped_by=rt.stop.reason)
