"""`check`: every pre-trade check on a saved plan or a fresh one, against one snapshot."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from alchemiser_cli.app.inputs import sectors, take_snapshot, traded_today
from alchemiser_cli.app.plan import planned
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.calendar import MarketState
from alchemiser_cli.core.checks.record import CheckContext, CheckReport
from alchemiser_cli.core.checks.run import run_checks
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import InputError

log = logging.getLogger(__name__)
_BROKER_NAMES = {"alpaca-paper": "Alpaca", "alpaca-live": "Alpaca"}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Switches that relax a check, each one explicit on the command line."""

    force: bool = False  # run a plan again although the journal says it ran
    cancel_open: bool = False  # trade symbols that have open orders
    queue_for_open: bool = False  # market closed: queue day orders for the next session
    live: bool = False  # --live: the second half of the live-trading opt-in
    close_window_s: float | None = None  # --close-window: trade only this close to the close
    liquidate: bool = False  # --liquidate: no targets, sell every position
    strategies: tuple[str, ...] = ()  # --strategy FILE[=weight]: targets from strategies


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The plan that was checked, what the checks said, and the market at that moment."""

    plan: Plan
    report: CheckReport
    market: MarketState | None = None
    broker_open: bool | None = None  # the broker's own open/closed flag, where it has one


def _executed_since(rt: Runtime, plan_id: str) -> tuple[str, ...]:
    """The runs that sent this plan's orders to this account (not those of a simulated
    account `alch sim reset` replaced)."""
    return tuple(r.run_id for r in rt.journal.plan_executed(plan_id) if rt.sent_here(r.run_id))


def check_plan(
    rt: Runtime,
    plan: Plan | None,
    targets: Targets | None,
    options: RunOptions | None = None,
    *,
    policy: PlannerPolicy | None = None,
) -> CheckOutcome:
    """Check a saved plan (or a fresh one) against a fresh snapshot and the limits; a fresh
    plan is checked against the very snapshot it was made from (made under `policy`, by
    default the configured one)."""
    opts = options or RunOptions()
    saved = plan is not None
    if plan is not None and plan.liquidate != opts.liquidate:
        raise InputError(
            "this saved plan sells every position: pass --liquidate to check or run it"
            if plan.liquidate
            else "--liquidate plans afresh with no targets; it does not apply to a saved plan"
        )
    if plan is None:
        chosen, snap = planned(
            rt, targets, liquidate=opts.liquidate, strategies=opts.strategies, policy=policy
        )
    else:
        chosen = plan
        held = () if plan.signal is None else plan.signal.symbols
        snap = take_snapshot(
            rt, set(chosen.targets) | {o.symbol for o in chosen.orders}, assets_of=held
        )
    return checked(rt, chosen, snap, opts, saved=saved)


def checked(
    rt: Runtime, chosen: Plan, snap: Snapshot, opts: RunOptions, *, saved: bool
) -> CheckOutcome:
    """Every pre-trade check of `chosen` against `snap` and the limits, now."""
    now = rt.broker.now()
    market = rt.market(now)
    broker_open = rt.broker.clock_is_open()
    ctx = CheckContext(
        limits=rt.settings.limits,
        now=now,
        market=market,
        broker_open=broker_open,
        broker_clock=f"{_BROKER_NAMES.get(rt.broker.name, 'the broker')}'s clock",
        saved_plan=saved,
        traded_today=traded_today(snap),
        force=opts.force,
        cancel_open=opts.cancel_open,
        queue_for_open=opts.queue_for_open,
        sectors=sectors(rt),
        already_executed=_executed_since(rt, chosen.plan_id),
        last_session=None if chosen.signal is None else rt.last_session(now),
    )
    report = run_checks(chosen, snap, ctx)  # the tax checks included
    for finding in report.findings:
        if finding.severity != "pass":
            level = logging.WARNING if finding.bypassed_by else logging.INFO  # a bypass is loud
            log.log(level, "check %s: %s: %s", finding.check_id, finding.severity, finding.message)
    log.info("checks for plan %s: %s", chosen.plan_id, "blocked" if report.blocked else "ok")
    if market.is_open and broker_open is False:  # the broker's clock overrules the calendar
        market = rt.outlook(now).closed_by_broker().state
    return CheckOutcome(chosen, report, market, broker_open)
