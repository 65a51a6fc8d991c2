"""The top-up round's planner (issue 21): a fresh plan on what the run knows, checked.

The executor (executor/run.py) calls it once the broker's positions agree with the
run's own fills. The plan is made with the executed plan's targets (whatever their
source: a file, strategies, the config) and policy, on a fresh snapshot whose positions
are the run's known ones and whose cash is at most what the run's fills left; every
pre-trade check then runs on it, as for any plan.
"""

from __future__ import annotations

from dataclasses import replace

from alchemiser_cli.app.check import RunOptions, checked
from alchemiser_cli.app.inputs import take_snapshot
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.models import Position, Snapshot
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.planner import Plan, build_plan
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import AlchError
from alchemiser_cli.executor import RunKnowledge, TopUp


def top_up_planner(rt: Runtime, options: RunOptions) -> TopUp:
    """The executor's top-up planner; the reason instead when a check blocks or the plan
    cannot be made (the round is then skipped, with that reason)."""
    opts = replace(options, strategies=(), liquidate=False)  # the targets are the plan's

    def plan_top_up(done: Plan, known: RunKnowledge) -> Plan | str:
        targets = Targets(dict(done.targets), done.targets_source)
        try:
            snap = known_snapshot(rt, targets, known)
            fresh = build_plan(snap, targets, done.policy, rt.broker.now())
            outcome = checked(rt, fresh, snap, opts, saved=False)
        except AlchError as exc:
            return f"could not plan it: {exc}"
        if outcome.report.blocked:
            blocking = (f.check_id for f in outcome.report.findings if f.severity == "block")
            return f"blocked by {', '.join(blocking)}"
        return outcome.plan

    return plan_top_up


def known_snapshot(rt: Runtime, targets: Targets, known: RunKnowledge) -> Snapshot:
    """A fresh snapshot (quotes, assets, open orders, today's fills) holding the run's
    known positions and at most the cash its fills left."""
    snap = take_snapshot(rt, set(targets.weights) | set(known.positions))
    entry = {s: p.avg_entry_price for s, p in snap.positions.items()}
    positions = {s: Position(s, q, entry.get(s, ZERO)) for s, q in known.positions.items()}
    account = replace(
        snap.account,
        cash=min(snap.account.cash, known.cash),
        buying_power=min(snap.account.buying_power, known.cash),
    )
    return replace(snap, positions=positions, account=account)
