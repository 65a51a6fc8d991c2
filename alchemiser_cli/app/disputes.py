"""Disputed orders: the broker's answer about one of alch's orders cannot be true (issue
21). They are journaled with the broker's figures (executor, reconciliation), said on
every later `status` and `execute` (which plans from the broker's positions: they are
what the account holds), and closed by `alch reconcile --accept`, which takes the
broker's word. No state needs a hand edit of a file."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from alchemiser_cli.app.reconcile import account_lock, reconcile
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.journal.disputes import Dispute

log = logging.getLogger(__name__)


def describe(d: Dispute) -> str:
    """One line naming a disputed order and what the broker says."""
    return f"order {d.client_order_id} ({d.side} {d.qty} {d.symbol}, run {d.run_id}) is disputed"


def dispute_notices(rt: Runtime, account_id: str, *, planning: bool) -> list[str]:
    """A notice per open dispute; `planning`: this run plans from the broker's positions."""
    notes = []
    for d in rt.journal.open_disputes(account_id, rt.broker.name):
        text = f"{describe(d)}: {d.error or 'the broker answered figures that cannot be true'}"
        if planning:
            text += (
                f"; planning from the broker's positions ({d.broker_filled_qty} {d.symbol} "
                "filled, as the broker says)"
            )
        text += "; `alch reconcile --accept` takes the broker's word"
        notes.append(text)
    return notes


@dataclass(slots=True)
class ReconcileReport:
    """What `alch reconcile` found and did."""

    settled: list[str] = field(default_factory=list)  # unfinished runs and late orders
    disputes: list[Dispute] = field(default_factory=list)  # open before this command
    accepted: list[str] = field(default_factory=list)  # client order ids accepted now


def reconcile_account(rt: Runtime, accept: bool) -> ReconcileReport:
    """Settle what earlier runs left unfinished (as `status` does), list the disputed
    orders and, with `accept`, take the broker's word for every one of them."""
    account_id = rt.broker.account().account_id
    report = ReconcileReport()
    with account_lock(rt, account_id):
        report.settled = reconcile(rt, account_id)
        report.disputes = rt.journal.open_disputes(account_id, rt.broker.name)
        if accept:
            for d in report.disputes:
                rt.journal.accept_dispute(d.client_order_id, rt.clock.now())
                report.accepted.append(d.client_order_id)
                log.info("accepted the broker's word for disputed order %s", d.client_order_id)
    return report
