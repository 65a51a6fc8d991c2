"""The account lock, and settling with the broker what earlier runs left unfinished:
runs that never ended (a crash, a kill) and orders whose answer never came."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import filelock

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.core.results import Outcome
from alchemiser_cli.errors import (
    AlpacaAuthError,
    BrokerError,
    LockHeld,
    OrderDisputed,
    OrderUnsettled,
)
from alchemiser_cli.files import PRIVATE_FILE, private_dir, state_error
from alchemiser_cli.journal.records import UNSETTLED, OrderRecord

log = logging.getLogger(__name__)

# Journal order statuses that need no look-up at the broker.
SETTLED_STATUSES = LegStatus.settled()  # nothing left to look up at the broker
# How long an unanswered order not found at Alpaca may still arrive (see ExecutionPolicy).
ALPACA_SETTLE_S = 300.0


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def account_lock_path(state_dir: Path, broker: str, account_id: str) -> Path:
    """The lock file a run holds on one account for a whole `execute`."""
    return state_dir / "locks" / f"{broker}-{_safe(account_id)}.lock"


@contextmanager
def account_lock(rt: Runtime, account_id: str) -> Iterator[None]:
    """Hold the per-account lock for a whole run; a second run exits at once."""
    private_dir(rt.settings.state_dir / "locks", "lock directory")
    path = account_lock_path(rt.settings.state_dir, rt.broker.name, account_id)
    lock = filelock.FileLock(path, timeout=0, mode=PRIVATE_FILE)  # opened O_NOFOLLOW
    try:
        lock.acquire()
    except filelock.Timeout:
        raise LockHeld(
            f"another alch run holds account {account_id} ({path}); nothing sent"
        ) from None
    except OSError as exc:  # a directory or a link where the lock file belongs
        raise state_error(path, exc, "account lock") from None
    try:
        yield
    finally:
        lock.release()


def reconcile(rt: Runtime, account_id: str) -> list[str]:
    """Settle runs the journal shows as unfinished (a crash, a kill) with the broker.

    Each of their orders is looked up by client_order_id: one that reached the broker
    is recorded as it stands (cancelled first if still open: its plan is stale), one
    that did not is marked never sent. The run is then marked interrupted. Nothing is
    ever re-sent from here; the next plan starts from the account as it now is.
    """
    journal, broker, clock = rt.journal, rt.broker, rt.clock
    messages = []
    for run in journal.runs_with_outcome(Outcome.RUNNING, account_id, broker.name):
        reached = never = cancelled = 0
        journaled = journal.orders_for_run(run.run_id)
        for order in journaled:
            if order.status in SETTLED_STATUSES:
                reached += LegStatus(order.status).reached_broker
                continue
            try:
                found = broker.get_order_by_client_id(order.client_order_id)
            except OrderDisputed as exc:
                reached += 1
                messages.append(_disputed(rt, exc))
                continue
            if found is None and order.status in UNSETTLED and not settled(rt, order):
                continue  # may still arrive: settled below and by later runs
            if found is None:
                journal.record_send_failure(
                    order.client_order_id, "never reached the broker (run stopped)",
                    clock.now(), status=LegStatus.NOT_SENT,
                )  # fmt: skip
                never += 1
                continue
            reached += 1
            if not found.status.is_terminal:
                found = broker.cancel_order(found.id)
                cancelled += 1
            journal.record_broker_state(found, clock.now())
        message = (
            f"recovered unfinished run {run.run_id}: {reached} order(s) had reached the "
            f"broker ({cancelled} still open, now cancelled), {never} never sent"
        )
        unstarted = _never_journaled(journal.last_plan(account_id), run.plan_id, journaled)
        if unstarted:  # the run stopped before it journaled (so before it sent) these
            message += (
                f"; {len(unstarted)} planned order(s) never started (not journaled, not "
                f"sent): {', '.join(unstarted)}"
            )
        journal.finish_run(run.run_id, Outcome.INTERRUPTED.value, message, run.report, clock.now())
        log.warning(message)
        rt.notices.append(message)
        messages.append(message)
    return messages + _settle_unknown(rt, account_id)


def _never_journaled(
    plan: dict[str, Any] | None, plan_id: str | None, journaled: list[OrderRecord]
) -> list[str]:
    """The planned orders of a crashed run with no journaled leg (`buy VXUS, buy BND`),
    read from the run's plan (the account's newest); empty when unknown or none."""
    if plan is None or plan_id is None or plan.get("plan_id") != plan_id:
        return []
    orders = plan.get("orders")
    started = {o.symbol for o in journaled}
    return [
        f"{o.get('side')} {o.get('symbol')}"
        for o in (orders if isinstance(orders, list) else [])
        if isinstance(o, dict) and o.get("symbol") not in started
    ]


def _settle_unknown(rt: Runtime, account_id: str) -> list[str]:
    """Look up every journaled order whose fate is unknown (no answer came), whatever its
    run's outcome: one found is recorded as it stands (cancelled first if still open: its
    plan is stale); one still absent after the settle time counts as never sent."""
    messages = []
    for order in rt.journal.unsettled_orders(account_id, rt.broker.name):
        cid = order.client_order_id
        try:
            found = rt.broker.get_order_by_client_id(cid)
        except OrderDisputed as exc:  # settled as disputed: a way out, not a lock
            messages.append(_disputed(rt, exc))
            continue
        except AlpacaAuthError:
            raise
        except BrokerError as exc:
            raise BrokerError(
                f"could not look up order {cid} ({order.side} {order.qty} {order.symbol}, run "
                f"{order.run_id}), sent earlier without a clear answer: {exc}; nothing sent: "
                "run again when the broker answers"
            ) from None
        if found is None:
            if settled(rt, order):
                why = f"never reached the broker: not there {settle_s(rt):g}s after it was sent"
                rt.journal.record_send_failure(cid, why, rt.clock.now(), LegStatus.NOT_SENT)
            continue
        cancelled = not found.status.is_terminal
        if cancelled:
            found = rt.broker.cancel_order(found.id)
        rt.journal.record_broker_state(found, rt.clock.now())
        message = (
            f"order {cid} of run {order.run_id} reached the broker after all: "
            f"{found.status.value}, {found.filled_qty} of {found.qty} {order.symbol} filled"
            + (" (it was open: cancelled, as its plan is stale)" if cancelled else "")
        )
        log.warning(message)
        rt.notices.append(message)
        messages.append(message)
    return messages


def note_dispute(rt: Runtime, exc: OrderDisputed) -> str:
    """Journal an impossible answer met while settling an order (app/disputes.py says
    the rest); the message to show."""
    order = exc.order
    assert isinstance(order, BrokerOrder)
    rt.journal.record_dispute(order, f"{exc}; see `alch reconcile`", rt.clock.now())
    message = f"order {order.client_order_id} is disputed: {exc}"
    log.warning(message)
    return message


def _disputed(rt: Runtime, exc: OrderDisputed) -> str:
    message = note_dispute(rt, exc)
    rt.notices.append(message)
    return message


def settle_s(rt: Runtime) -> float:
    """How long an unanswered order may still arrive at this broker."""
    wait = rt.settings.execution.unconfirmed_settle_s
    if wait is not None:
        return wait
    return 0.0 if isinstance(rt.broker, SimBroker) else ALPACA_SETTLE_S


def settled(rt: Runtime, order: OrderRecord) -> bool:
    """Whether an order absent at the broker can no longer arrive (the settle time since
    it was sent has passed)."""
    try:
        sent = datetime.fromisoformat(order.updated_at)
    except ValueError:
        return True
    return (rt.clock.now() - sent).total_seconds() >= settle_s(rt)


def refuse_unsettled(rt: Runtime, account_id: str) -> None:
    """Send nothing while an earlier order may still arrive (it would be doubled)."""
    waiting = [
        o for o in rt.journal.unsettled_orders(account_id, rt.broker.name) if not settled(rt, o)
    ]
    if not waiting:
        return
    first = waiting[0]
    until = datetime.fromisoformat(first.updated_at) + timedelta(seconds=settle_s(rt))
    more = f" (and {len(waiting) - 1} more)" if len(waiting) > 1 else ""
    raise OrderUnsettled(
        f"order {first.client_order_id} ({first.side} {first.qty} {first.symbol}, run "
        f"{first.run_id}){more} got no answer and is not at the broker yet; it may still "
        f"arrive: nothing sent; run again after {until.astimezone(UTC):%H:%M:%S} UTC "
        "(then it counts as never sent if it is still not there)"
    )
