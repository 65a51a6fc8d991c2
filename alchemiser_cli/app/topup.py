"""The top-up round's planner (issue 21): a fresh plan on what the run knows, checked.

The executor (executor/run.py) calls it once the broker's positions agree with the
run's own fills. The plan is made with the executed plan's targets (whatever their
source: a file, strategies, the config) and policy, on a fresh snapshot whose positions
are the run's known ones and whose cash is at most what the run's fills left; every
pre-trade check then runs on it, as for any plan.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from alchemiser_cli.app.check import RunOptions, checked
from alchemiser_cli.app.inputs import take_snapshot
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.models import Position, Side, Snapshot
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import AlchError
from alchemiser_cli.executor import RunKnowledge, TopUp
from alchemiser_cli.executor.pure import buys_needed, resize_buys
from alchemiser_cli.executor.topup import resized


def top_up_planner(rt: Runtime, options: RunOptions) -> TopUp:
    """The executor's top-up planner; the reason instead when a check blocks or the plan
    cannot be made (the round is then skipped, with that reason)."""
    opts = replace(options, strategies=(), liquidate=False)  # the targets are the plan's

    def plan_top_up(done: Plan, known: RunKnowledge) -> Plan | str:
        targets = Targets(dict(done.targets), done.targets_source)
        try:
            snap = known_snapshot(rt, targets, known)
            planned = build_plan(snap, targets, done.policy, rt.broker.now())
            fresh = buys_only(planned, snap, done.summary.reserve)
            outcome = checked(rt, fresh, snap, opts, saved=False)
        except AlchError as exc:
            return f"could not plan it: {exc}"
        if outcome.report.blocked:
            blocking = (f.check_id for f in outcome.report.findings if f.severity == "block")
            return f"blocked by {', '.join(blocking)}"
        return outcome.plan

    return plan_top_up


def buys_only(plan: Plan, snap: Snapshot, reserve: Decimal) -> Plan:
    """The plan as the round sends it: its buys alone, sized to the cash (what the
    executor sends; it cuts them at their targets too). Its sells (a few dollars a symbol:
    the spread the run paid leaves each position that much over its target share of the
    smaller equity) are never sent, so no check may judge the round by them: good faith
    blocked every round that followed a sell of a symbol bought today, and buying power
    every round whose buys the plan funded from those sells."""
    buys = [o for o in plan.orders if o.side is Side.BUY]
    budget = min(snap.account.cash, snap.account.buying_power) - reserve
    if buys_needed(buys) > budget:
        sizing = resize_buys(buys, budget, plan.policy.min_trade_value, snap.assets, queued=False)
        buys = [resized(o, qty) for o, qty in sizing.sized]
    return replace(plan, orders=tuple(buys))


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
