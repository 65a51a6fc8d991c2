"""`alch` as a library: the commands as typed functions that return the documents
`--json` prints.

    from alchemiser_cli import api

    plan = api.plan(targets="targets.toml")       # a Plan: nothing is sent
    report = api.check(plan)                       # a CheckDocument
    run = api.execute(plan, confirm=True)          # an ExecutionReport: orders go out

Keyword arguments mirror the command-line flags (`band=["25%"]` is `--band 25%`); the
settings come from the environment and alch.toml as for the command line (`config=`,
`broker=` are `--config`, `--broker`). A failure raises the typed error of
`alchemiser_cli.errors` the command line turns into its exit code (`exc.exit_code`:
`InputError` 2, `BrokerError` 3, `LockHeld` 5, ...); a blocked check or an incomplete run
is a value in the document (`blocked`, `outcome`), not an exception. `execute` sends
nothing unless `confirm=True` or a function that approves the checked plan. The command
line calls these same functions with its own open runtime (`runtime=`), so both faces run
one code path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from alchemiser_cli.api.backtest import BacktestRun, backtest, backtest_run
from alchemiser_cli.api.flags import execution_overrides, fresh_plan_flags
from alchemiser_cli.api.session import opened, planner_flags, session, targets_of
from alchemiser_cli.errors import ConfirmationRequired, InputError

if TYPE_CHECKING:  # `import alchemiser_cli.api` stays light: these load when a call runs
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.core.checks.record import CheckReport
    from alchemiser_cli.core.plan import Plan
    from alchemiser_cli.core.strategy.evaluate import Blend
    from alchemiser_cli.core.targets import Targets
    from alchemiser_cli.documents.reports import CheckDocument, ExecutionReport, StatusReport
    from alchemiser_cli.documents.targets import TargetsDocument

Confirm = Callable[["Plan", "CheckReport"], bool]
Sending = Callable[["Runtime"], AbstractContextManager["Runtime"]]

__all__ = [
    "BacktestRun",
    "SignalRun",
    "backtest",
    "backtest_run",
    "check",
    "execute",
    "plan",
    "session",
    "signal",
    "signal_run",
    "status",
]


def _saved_plan(
    plan: str | Path | Plan | None, targets: object | None, strategies: Sequence[str]
) -> Plan | None:
    """A saved plan (a Plan, a file, or `-` for stdin), or None to plan afresh; a saved plan
    excludes targets and strategies."""
    if plan is not None and targets is not None:
        raise InputError("give either a saved PLAN or --targets, not both")
    if plan is not None and strategies:
        raise InputError("give either a saved PLAN or --strategy, not both")
    if plan is None or not isinstance(plan, str | Path):
        return plan
    from alchemiser_cli.app.inputs import read_plan_file

    return read_plan_file(plan)


def plan(
    targets: str | Path | Targets | None = None,
    *,
    strategy: Sequence[str] = (),
    liquidate: bool = False,
    band: Sequence[str] = (),
    to: str | None = None,
    reinvest: bool = False,
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> Plan:
    """`alch plan`: the dry-run plan to the targets (a file, `-`, `Targets`, else the
    configured ones); nothing is sent."""
    from alchemiser_cli.app.plan import make_plan

    with opened(runtime, config, broker, planner_flags(band, to, reinvest)) as rt:
        chosen = targets_of(targets)
        return make_plan(rt, chosen, liquidate=liquidate, strategies=tuple(strategy))


def check(
    plan: str | Path | Plan | None = None,
    targets: str | Path | Targets | None = None,
    *,
    strategy: Sequence[str] = (),
    liquidate: bool = False,
    force: bool = False,
    allow_open_orders: bool = False,
    queue_for_open: bool = False,
    band: Sequence[str] = (),
    to: str | None = None,
    reinvest: bool = False,
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> CheckDocument:
    """`alch check`: every pre-trade check on a saved plan or a fresh one (`blocked` says
    whether anything blocks)."""
    from alchemiser_cli.app.check import RunOptions, check_plan
    from alchemiser_cli.documents.reports import check_document

    fresh_plan_flags(plan, band, to, reinvest)
    with opened(runtime, config, broker, planner_flags(band, to, reinvest)) as rt:
        outcome = check_plan(
            rt,
            _saved_plan(plan, targets, strategy),
            targets_of(targets),
            RunOptions(
                force=force,
                cancel_open=allow_open_orders,
                queue_for_open=queue_for_open,
                liquidate=liquidate,
                strategies=tuple(strategy),
            ),
        )
        return check_document(outcome.plan, outcome.report, outcome.market)


def execute(
    plan: str | Path | Plan | None = None,
    targets: str | Path | Targets | None = None,
    *,
    confirm: bool | Confirm = False,
    strategy: Sequence[str] = (),
    liquidate: bool = False,
    force: bool = False,
    allow_open_orders: bool = False,
    queue_for_open: bool = False,
    live: bool = False,
    deadline: str | None = None,
    order_type: str | None = None,
    close_window: str | None = None,
    band: Sequence[str] = (),
    to: str | None = None,
    reinvest: bool = False,
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
    sending: Sending | None = None,
) -> ExecutionReport:
    """`alch execute`: check, confirm, then send. `confirm=True` sends a plan the checks
    pass (as `--yes`); a function `confirm(plan, report) -> bool` decides; anything else
    raises `ConfirmationRequired` before a byte goes out. `sending(runtime)`, once the
    inputs are read, gives the runtime the run goes on with (the command line's signal
    handlers and progress view)."""
    from alchemiser_cli.api.flags import parse_duration
    from alchemiser_cli.app.check import RunOptions
    from alchemiser_cli.app.execute import execute as execute_run
    from alchemiser_cli.app.execute import run_inputs

    approve = _approval(confirm)
    fresh_plan_flags(plan, band, to, reinvest)
    shape = planner_flags(band, to, reinvest)
    flags = (lambda: execution_overrides(deadline, order_type)) if deadline or order_type else None
    with opened(runtime, config, broker, shape, flags) as rt:
        with run_inputs(rt):
            window = (
                None if close_window is None else parse_duration(close_window, "--close-window")
            )
            options = RunOptions(
                force=force,
                cancel_open=allow_open_orders,
                queue_for_open=queue_for_open,
                live=live,
                close_window_s=window,
                liquidate=liquidate,
                strategies=tuple(strategy),
            )
            saved, chosen = _saved_plan(plan, targets, strategy), targets_of(targets)
        with (sending or nullcontext)(rt) as running:
            return execute_run(running, saved, chosen, confirm=approve, options=options)


def _approval(confirm: bool | Confirm) -> Confirm:
    """The confirmation `execute` asks for: True, or a function; never a default yes."""
    if confirm is True:
        return lambda _plan, _report: True
    if callable(confirm):
        return confirm
    raise ConfirmationRequired(
        "execute needs confirmation: pass confirm=True, or a function that approves the "
        "checked plan (nothing was sent)"
    )


def status(
    *,
    runs: int = 5,
    run: str | None = None,
    targets: str | Path | Targets | None = None,
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> StatusReport:
    """`alch status`: the account, positions with drift, open orders and recent runs."""
    from alchemiser_cli.app.status import status as status_of

    with opened(runtime, config, broker) as rt:
        return status_of(rt, runs=runs, run_id=run, targets=targets_of(targets))


@dataclass(frozen=True, slots=True)
class SignalRun:
    """A signal's document and the blend it was made from (the tree a terminal shows)."""

    document: TargetsDocument
    blend: Blend


def signal_run(
    files: Sequence[str],
    *,
    as_of: date | str | None = None,
    fragile_margin: str = "2%",
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> SignalRun:
    """`signal`, with the blend kept for rendering."""
    from alchemiser_cli.api.flags import day_of, parse_margin
    from alchemiser_cli.app.signal import signal as signal_of
    from alchemiser_cli.documents.targets import targets_document

    with opened(runtime, config, broker) as rt:
        day = None if as_of is None else day_of(as_of, "--as-of")
        margin = parse_margin(fragile_margin)
        blend, symbols = signal_of(rt, list(files), day, margin)
        return SignalRun(targets_document(blend, margin, symbols), blend)


def signal(
    files: Sequence[str],
    *,
    as_of: date | str | None = None,
    fragile_margin: str = "2%",
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> TargetsDocument:
    """`alch signal`: evaluate strategy files (`FILE` or `FILE=0.6`) on daily bars; the
    target weights and the decision trace."""
    return signal_run(
        files,
        as_of=as_of,
        fragile_margin=fragile_margin,
        config=config,
        broker=broker,
        runtime=runtime,
    ).document
