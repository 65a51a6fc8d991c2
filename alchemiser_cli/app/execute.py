"""`execute`: live opt-in, account lock, cron guard, checks, confirmation, a journaled run
through the executor, and the [notify] channels told how it ended."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from alchemiser_cli.app.check import CheckOutcome, RunOptions, check_plan
from alchemiser_cli.app.disputes import dispute_notices
from alchemiser_cli.app.guards import live_opt_in, other_runs, outside_close_window, ran_today
from alchemiser_cli.app.reconcile import account_lock, reconcile, refuse_unsettled
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.signal import schedule_guard
from alchemiser_cli.app.topup import top_up_planner
from alchemiser_cli.core.checks.record import CheckReport
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.results import ExecutionResult, Outcome
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents import plan_to_json
from alchemiser_cli.documents.journaled import journal_form
from alchemiser_cli.documents.reports import ExecutionReport
from alchemiser_cli.errors import AlchError, ConfirmationAborted, Interrupted, LockHeld
from alchemiser_cli.executor import Executor
from alchemiser_cli.logs import RUN_ID
from alchemiser_cli.notify import Notifier, notice_for

log = logging.getLogger(__name__)

Confirm = Callable[[Plan, CheckReport], bool]
_GOOD = (
    Outcome.COMPLETED, Outcome.QUEUED, Outcome.NOTHING_TO_DO, Outcome.DECLINED, Outcome.ABORTED,
)  # fmt: skip


def execute(
    rt: Runtime,
    plan: Plan | None,
    targets: Targets | None,
    confirm: Confirm,
    options: RunOptions | None = None,
) -> ExecutionReport:
    """Check, confirm, then send; one run per account at a time."""
    opts = options or RunOptions()
    live_opt_in(rt, opts.live)
    account_id = "unknown"
    # The run deadline counts from here: the broker learns it before its first request, so
    # no wait or request of the planning and checks runs past it either.
    deadline = Deadline.after(rt.clock.now(), rt.settings.execution.deadline_s)
    rt.broker.set_deadline(deadline)
    try:
        account_id = rt.broker.account().account_id
        with account_lock(rt, account_id):
            reconcile(rt, account_id)
            refuse_unsettled(rt, account_id)
            other_runs(rt, account_id, force=opts.force)  # and again right before sending
            rt.notices.extend(dispute_notices(rt, account_id, planning=True))
            # The cron contract: a fresh plan runs once a trading day (a saved plan has
            # its own guard, plan.already_executed). --force runs again.
            done = outside_close_window(rt, opts.close_window_s)
            if done is None and plan is None:
                done = ran_today(rt, account_id)
                if done is not None and opts.force:  # a bypass is loud, never silent
                    why = done.removeprefix("nothing to do: ").removesuffix("; --force runs again")
                    bypass = f"bypassed by --force: the once-a-day guard says {why}"
                    log.warning(bypass)
                    rt.notices.append(bypass)
                    done = None
            checked = check_plan(rt, plan, targets, options)
            if done is None and plan is None:  # strategies trade on their schedule only
                done = schedule_guard(rt, checked.plan.signal, opts.force)
            run_id = new_run_id(rt.clock.now())
            token = RUN_ID.set(run_id)
            try:
                report = _run(
                    rt, run_id, checked, confirm, already_done=done, options=opts, deadline=deadline
                )
            finally:
                RUN_ID.reset(token)
    except LockHeld:
        raise  # the run holding the account reports for itself
    except Exception as exc:
        _notify_failure(rt, exc, account_id)
        raise
    _notify(rt, report.outcome.value, report.message, account_id, report.run_id)
    return report


@contextmanager
def run_inputs(rt: Runtime) -> Iterator[None]:
    """Wrap reading a run's saved plan or targets file: a run whose inputs cannot be
    read has failed, and the [notify] channels hear of it like any other failed run."""
    try:
        yield
    except Exception as exc:
        _notify_failure(rt, exc, "unknown")
        raise


def _notify_failure(rt: Runtime, exc: Exception, account_id: str) -> None:
    """Report a run that ended in an exception; the caller re-raises it. A bug must not
    end an unattended run silently either: it is reported as an internal error."""
    if isinstance(exc, AlchError):
        outcome = Outcome.INTERRUPTED if isinstance(exc, Interrupted) else Outcome.FAILED
        message = str(exc)
    else:
        outcome, message = Outcome.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    _notify(rt, outcome.value, message, account_id, None)


def _notify(rt: Runtime, outcome: str, message: str, account_id: str, run_id: str | None) -> None:
    """Tell the configured channels how the run ended (bounded; never fails the run)."""
    config = rt.settings.notify
    if not config.configured or not config.wants(outcome):
        return
    Notifier(config).send(notice_for(outcome, message, account_id, rt.broker.name, run_id))


def _decide(
    rt: Runtime, checked: CheckOutcome, confirm: Confirm, done: str | None
) -> ExecutionResult | None:
    """The outcome of a run that sends nothing, or None to send."""
    chosen, report = checked.plan, checked.report
    result = ExecutionResult()
    if done is not None:
        result.outcome, result.message = Outcome.NOTHING_TO_DO, done
    elif report.blocked:
        blocking = ", ".join(f.check_id for f in report.findings if f.severity == "block")
        result.outcome, result.message = Outcome.BLOCKED, f"blocked by {blocking}; nothing sent"
    elif not chosen.orders:
        result.outcome = Outcome.NOTHING_TO_DO
        result.message = "nothing to do: the account is at its targets"
    elif not _confirmed(confirm, checked, result):
        pass  # declined or aborted: `result` says which
    elif rt.stop.reason is not None:
        result.outcome = Outcome.INTERRUPTED
        result.message = f"interrupted by {rt.stop.reason} before sending; nothing sent"
    else:
        return None
    return result


def _confirmed(confirm: Confirm, checked: CheckOutcome, result: ExecutionResult) -> bool:
    """Ask; a "no" ends the run `declined`, a prompt left (Ctrl-D, Ctrl-C) `aborted`."""
    try:
        if confirm(checked.plan, checked.report):
            return True
    except ConfirmationAborted as exc:
        result.outcome, result.message = Outcome.ABORTED, str(exc)
        return False
    result.outcome, result.message = Outcome.DECLINED, "not confirmed; nothing sent"
    return False


def _send(
    rt: Runtime,
    run_id: str,
    checked: CheckOutcome,
    options: RunOptions,
    deadline: Deadline | None = None,
) -> ExecutionResult:
    """Hand the plan to the executor (reachable by a stop request while it runs)."""
    chosen, market = checked.plan, checked.market
    executor = Executor(rt.broker, rt.journal, rt.clock, rt.settings.execution, rt.events)
    rt.stop.executor = executor
    try:
        attempt = 1 + rt.journal.plan_attempts(chosen.plan_id)
        queue = market is not None and (not market.is_open or checked.broker_open is False)
        return executor.run(
            chosen,
            run_id,
            chosen.summary.reserve,
            attempt,
            queue_for=market.next_session if queue and market else None,
            topup=None if queue else top_up_planner(rt, options),
            deadline=deadline,
        )
    finally:
        rt.stop.executor = None


def _run(
    rt: Runtime,
    run_id: str,
    checked: CheckOutcome,
    confirm: Confirm,
    already_done: str | None = None,
    options: RunOptions | None = None,
    deadline: Deadline | None = None,
) -> ExecutionReport:
    """One journaled run: every path out of here records how the run ended."""
    chosen, report = checked.plan, checked.report
    started = rt.clock.now()
    log.info("run %s started: plan %s", run_id, chosen.plan_id)
    rt.journal.start_run(
        run_id,
        "execute",
        chosen.broker,
        chosen.account_id,
        chosen.plan_id,
        plan_to_json(chosen),
        started,
    )
    try:
        asked = rt.clock.now()
        result = _decide(rt, checked, confirm, already_done)
        if result is None:
            if deadline is not None and rt.clock.now() > asked:
                # The time a person took to confirm does not count: the deadline moves on.
                deadline = deadline.shifted(rt.clock.now() - asked)
                rt.broker.set_deadline(deadline)
            opts = options or RunOptions()
            other_runs(rt, checked.plan.account_id, force=opts.force)  # right before sending
            result = _send(rt, run_id, checked, opts, deadline)
    except AlchError as exc:
        # Record the failure (best effort: the journal itself may be what failed).
        outcome = Outcome.INTERRUPTED if isinstance(exc, Interrupted) else Outcome.FAILED
        log.error("run %s %s: %s", run_id, outcome.value, exc)
        with contextlib.suppress(AlchError):
            rt.journal.finish_run(run_id, outcome.value, str(exc), None, rt.clock.now())
        raise
    finished = rt.clock.now()
    execution = ExecutionReport(
        run_id=run_id,
        plan_id=chosen.plan_id,
        broker=chosen.broker,
        account_id=chosen.account_id,
        outcome=result.outcome,
        message=result.message,
        started_at=started,
        finished_at=finished,
        checks=report,
        orders=tuple(result.orders),
        filled_buy_value=result.filled_buy_value,
        filled_sell_value=result.filled_sell_value,
        topup=result.topup,
    )
    rt.journal.finish_run(
        run_id, result.outcome.value, result.message, journal_form(execution), finished
    )
    level = (
        logging.INFO
        if result.outcome in _GOOD
        else logging.WARNING
        if result.outcome is Outcome.BLOCKED
        else logging.ERROR
    )
    log.log(level, "run %s %s: %s", run_id, result.outcome.value, result.message)
    return execution


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
