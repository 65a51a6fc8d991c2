"""Tax figures for `plan`, `status` and `alch tax`: the broker's trade history rebuilt into
lots by the core (`core/tax`). Off for an IRA (`[tax] account = "ira"`): nothing is read.

`[tax] avoid_wash_sales` is a transform of the targets before the planner: the plan is
made, its wash sales name the positions to hold back (`core/tax/avoid.py`), and it is
made again from the transformed targets, at most `PASSES` times.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import Position
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.tax.avoid import apply_holds, holds_for, keep_unlisted, widened
from alchemiser_cli.core.tax.estimate import plan_tax, reconcile
from alchemiser_cli.core.tax.ledger import Ledger, rebuild
from alchemiser_cli.core.tax.records import (
    Completeness,
    Hold,
    LotMismatch,
    RealisedLot,
    YearToDate,
)
from alchemiser_cli.core.tax.report import realised_lots, sold_in, year_totals
from alchemiser_cli.errors import InputError

if TYPE_CHECKING:  # the backtest's modules load with `backtest`, not with every plan
    from alchemiser_cli.core.backtest import Backtest
    from alchemiser_cli.core.tax.backtest import BacktestTax

log = logging.getLogger(__name__)
PASSES = 3  # plans made at most to hold back every wash sale (a substitute may need one)


def lots(
    rt: Runtime, positions: Mapping[str, Position], *, full: bool = True
) -> tuple[Ledger, tuple[LotMismatch, ...]]:
    """The ledger of the account's history, and where its lots differ from the broker's
    positions. `full=False` (a plan): the open lots only, which a broker may resume from
    its cache. On a mismatch the history is asked for once more, afresh (Alpaca's splits
    are cached a day, and a split since would explain it)."""

    def read(refresh: bool) -> Ledger:
        if full:
            return rebuild(rt.broker.trade_history(refresh=refresh))
        return rt.broker.open_lots(refresh=refresh)

    ledger = read(False)
    mismatches = reconcile(ledger, positions)
    if mismatches:
        ledger = read(True)
        mismatches = reconcile(ledger, positions)
    return ledger, mismatches


def _status(ledger: Ledger, mismatches: tuple[LotMismatch, ...]) -> Completeness:
    return "incomplete" if mismatches or ledger.gaps else "complete"


def substitutes_for(rt: Runtime, symbols: Iterable[str]) -> set[str]:
    """The substitutes avoid_wash_sales may buy instead of `symbols` (priced with them)."""
    policy = rt.settings.tax
    if not (policy.on and policy.avoid_wash_sales):
        return set()
    return {policy.substitutes[s] for s in symbols if s in policy.substitutes}


def taxed_plan(
    rt: Runtime,
    positions: Mapping[str, Position],
    targets: Targets,
    build: Callable[[Targets], Plan],
    now: datetime,
) -> Plan:
    """The plan `build` makes from `targets`, with its tax estimate; with avoid_wash_sales,
    made again from targets that hold back the positions whose trades are wash sales."""
    policy = rt.settings.tax
    plan = build(targets)
    if not policy.on:
        return plan
    ledger, mismatches = lots(rt, positions, full=False)
    avoid = policy.avoid_wash_sales and not plan.liquidate
    estimate = plan_tax(ledger, plan, positions, now, avoid=avoid, mismatches=mismatches)
    holds: list[Hold] = []
    asked = plan
    for _ in range(PASSES):
        if not (avoid and estimate.wash_sales):
            break
        holds = holds_for(estimate.wash_sales, plan, targets.weights, policy.substitutes, holds)
        holds = widened(holds, ledger, now.astimezone(NEW_YORK).date())
        holds = keep_unlisted(asked, holds, targets.weights)
        weights = apply_holds(targets.weights, holds)
        plan = replace(build(Targets(weights, targets.source)), liquidate=plan.liquidate)
        estimate = plan_tax(
            ledger, plan, positions, now, avoid=True, holds=holds, mismatches=mismatches
        )
    for hold in holds:
        log.info("tax: %s held off target until %s (%s)", hold.symbol, hold.until, hold.reason)
    return replace(plan, tax=estimate)


def backtest_taxes(rt: Runtime, result: Backtest) -> BacktestTax:
    """`backtest --tax`: the backtest's trades through the lots (not for an IRA)."""
    from alchemiser_cli.core.tax.backtest import backtest_tax  # loads with the backtest

    if not rt.settings.tax.on:
        raise InputError('--tax: [tax] account = "ira" has no taxable gains')
    return backtest_tax(result.trades)


def year_to_date(
    rt: Runtime, positions: Mapping[str, Position], now: datetime
) -> YearToDate | None:
    """This year's realised gains (short, long) and disallowed losses; None for an IRA."""
    if not rt.settings.tax.on:
        return None
    ledger, mismatches = lots(rt, positions)
    year = now.astimezone(NEW_YORK).year
    return year_totals(sold_in(ledger, year), year, _status(ledger, mismatches))


def year_lots(rt: Runtime, year: int) -> tuple[tuple[RealisedLot, ...], YearToDate]:
    """Every lot sold in `year` (`alch tax`), and the year's totals."""
    ledger, mismatches = lots(rt, rt.broker.positions())
    records = sold_in(ledger, year)
    return realised_lots(records), year_totals(records, year, _status(ledger, mismatches))
