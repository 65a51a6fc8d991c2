"""`plan`: a fresh dry-run plan from the targets and one snapshot; nothing is sent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from alchemiser_cli.app.inputs import resolve_inputs, take_snapshot
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.tax import substitutes_for, taxed_plan
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import CENT, fmt
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.band import strategy_band
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.targets import Targets

log = logging.getLogger(__name__)


def make_plan(
    rt: Runtime,
    targets: Targets | None,
    *,
    liquidate: bool = False,
    strategies: Sequence[str] = (),
) -> Plan:
    """Compute a fresh dry-run plan; nothing is sent (nor are the orders read: the planner
    does not use them, the checks do)."""
    return planned(rt, targets, liquidate=liquidate, strategies=strategies, orders=False)[0]


def planned(
    rt: Runtime,
    targets: Targets | None,
    *,
    liquidate: bool = False,
    strategies: Sequence[str] = (),
    policy: PlannerPolicy | None = None,
    orders: bool = True,
) -> tuple[Plan, Snapshot]:
    """A fresh plan and the snapshot it was made from (the checks reuse it). Targets made
    by strategies come with their trace, which the plan carries (`Plan.signal`). `policy`
    overrides the planner policy (the top-up round plans with the executed plan's);
    `orders=False` leaves the open orders and today's fills out of the snapshot."""
    chosen, signal = resolve_inputs(rt, targets, strategies, liquidate=liquidate)
    held = () if signal is None else signal.symbols
    wanted = set(chosen.weights) | substitutes_for(rt, chosen.weights)
    snap = take_snapshot(rt, wanted, assets_of=held, orders=orders)
    now, used = rt.broker.now(), policy or strategy_policy(rt, signal)
    plan = taxed_plan(rt, snap.positions, chosen, lambda t: build_plan(snap, t, used, now), now)
    if signal is not None:
        plan = replace(plan, signal=signal)
    synthetic = tuple(s for s in plan.prices if snap.quotes[s].synthetic)
    if synthetic:
        plan = replace(plan, synthetic_prices=synthetic)
    log.info(
        "plan %s for %s:%s: %d orders, turnover %s%%",
        plan.plan_id,
        plan.broker,
        plan.account_id,
        len(plan.orders),
        (plan.summary.turnover * 100).quantize(CENT),  # a percentage, not 28 digits
    )
    return plan, snap


def strategy_policy(rt: Runtime, signal: SignalRecord | None) -> PlannerPolicy:
    """The planner policy; with no band configured, a strategy's `:rebalance-threshold`
    (the tightest in a blend) is the absolute band, and a notice says so."""
    policy = rt.settings.planner
    threshold = None if signal is None else signal.rebalance_threshold
    banded = strategy_band(policy, threshold)
    if banded is not policy and threshold is not None:
        rt.notices.append(
            f"no drift band configured: using the strategy's :rebalance-threshold "
            f"{fmt(threshold)} as the absolute band (band_abs); set [planner] "
            "band_abs or --band to override"
        )
    return banded
