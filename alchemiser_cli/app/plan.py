"""`plan`: a fresh dry-run plan from the targets and one snapshot; nothing is sent."""

from __future__ import annotations

import logging

from alchemiser_cli.app.inputs import resolve_targets, take_snapshot
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import CENT
from alchemiser_cli.core.planner import Plan, build_plan
from alchemiser_cli.core.targets import Targets

log = logging.getLogger(__name__)


def make_plan(rt: Runtime, targets: Targets | None, *, liquidate: bool = False) -> Plan:
    """Compute a fresh dry-run plan; nothing is sent."""
    return planned(rt, targets, liquidate=liquidate)[0]


def planned(
    rt: Runtime, targets: Targets | None, *, liquidate: bool = False
) -> tuple[Plan, Snapshot]:
    """A fresh plan and the snapshot it was made from (the checks reuse it)."""
    chosen = resolve_targets(rt, targets, liquidate=liquidate)
    snap = take_snapshot(rt, set(chosen.weights))
    plan = build_plan(snap, chosen, rt.settings.planner, rt.broker.now())
    log.info(
        "plan %s for %s:%s: %d orders, turnover %s%%",
        plan.plan_id,
        plan.broker,
        plan.account_id,
        len(plan.orders),
        (plan.summary.turnover * 100).quantize(CENT),  # a percentage, not 28 digits
    )
    return plan, snap
