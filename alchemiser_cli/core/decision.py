"""The planner's whole decision over every position it may trade, and its proven bound.

Pure and exact (``Decimal``). The planner hands over one :class:`Item` per position it may
trade toward a goal (listed, not kept, not inside its band, tradable, goal above zero):

* its post-trade quantity is ``held + t``: ``t`` a whole number of shares for a whole-share
  asset, any quantity (9 decimals) for a fractionable one; a buy never goes past the goal
  (rounded up to a share), a sell never past what is held (whole shares: its whole part);
* a trade is none, or at least the minimum trade value (at the ask for a buy, the bid for a
  sell);
* buys spend ``t * buy_limit``; sells free ``|t| * sell_net`` (the limit less the fees at
  their proportional rate); everything together may spend at most the budget;
* the deviation is ``sum |(held + t) * ref - goal|``.

Every plan these rules allow is a point of this model: any sell of any position with a goal
(past its nearest share, or one that is not itself over target), any buy, any count. The
planner's fast method gives one plan; :func:`relaxation` gives a proven lower bound on every
plan (each item's convex hull of its whole-share points, the minimum trade dropped, solved
exactly as a one-constraint linear programme); where the two differ, ``core/milp.py`` solves
the model exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from alchemiser_cli.core.items import STEP, ZERO, Item, deviation, make_item, own_best, spend
from alchemiser_cli.core.relaxation import Relaxation, complete, ranges, relaxation, rounded

__all__ = ["Item", "Outcome", "deviation", "improve", "make_item", "own_best", "spend"]

# trades -> (dollars over the budget with every fee rounded to the cent, what the rounding
# costs over the fees' proportional rate)
Check = Callable[[Sequence[Decimal]], tuple[Decimal, Decimal]]

PROVEN = Decimal("0.005")  # a plan within half a cent of the bound is proven optimal
MILP_ITEMS = 200  # more items than this: the rounded plan and the relaxation's bound


@dataclass(frozen=True, slots=True)
class Outcome:
    """The trades to make (None: keep the ones given), a proven lower bound on every plan's
    deviation, and how the search ended: ``optimal`` (proven), ``node_limit`` or
    ``time_limit`` (HiGHS stopped), ``too_large`` (not searched), ``not_proven`` (HiGHS's
    answer did not fit once put on the share grid with every fee rounded)."""

    trades: list[Decimal] | None
    bound: Decimal
    status: str
    deviation: Decimal | None = None  # of the trades decided (None: not computed)


def _fitted(
    items: Sequence[Item], relaxed: Relaxation, budget: Decimal, check: Check, aside: Decimal
) -> tuple[list[Decimal], Decimal] | None:
    """The relaxation's answer rounded (:func:`rounded`); where the fees' rounding to the
    cent leaves it short, rounded again from a budget that much smaller. Returns the trades
    and the cash set aside for the rounding."""
    room = budget - aside  # room for the fees' rounding, as the trades given needed
    relaxed = relaxed.at(room)
    for _ in range(3):
        fast = rounded(items, relaxed)
        if fast is None:
            return None
        over, _ = check(fast)
        if over <= ZERO:
            return fast, budget - room
        room -= over if room == budget else over + Decimal("0.01")
        relaxed = relaxed.at(room)
    return None


def _trim(
    items: Sequence[Item], trades: list[Decimal], check: Check, best: Sequence[Decimal]
) -> list[Decimal]:
    """Spend what a plan leaves over once its fees are rounded (it was sized with room to
    spare for them): fractional sells past their own best sell less, most costly first,
    while the plan still fits."""
    spare = -check(trades)[0]
    if spare <= ZERO:
        return trades
    past = []
    for i, item in enumerate(items):
        if not item.whole and trades[i] < ZERO:
            # Toward its own best, and never under the minimum trade.
            most = min(best[i], ZERO, -item.sell_min) - trades[i]
            if most > ZERO:
                past.append((-item.ref / item.sell_net, i, most))
    for _, i, most in sorted(past):
        back = min((spare / items[i].sell_net).quantize(STEP, ROUND_FLOOR), most)
        if back <= ZERO:
            continue
        trial = list(trades)
        trial[i] += back
        over = check(trial)[0]
        if over <= ZERO:
            trades, spare = trial, -over
    return trades


def improve(
    items: Sequence[Item],
    trades: Sequence[Decimal],
    budget: Decimal,
    check: Check,
    best: Sequence[Decimal],
) -> Outcome:
    """Prove ``trades`` (every position's nearest sell, nothing bought) optimal, or find
    better ones: the relaxation's answer rounded, else the model solved exactly (HiGHS).
    ``check(trades)`` gives how far trades overspend the budget once every fee is rounded
    to the cent (0 or less: they fit), and what that rounding costs over the proportional
    rate the model counts (a plan within it of the bound is optimal to the cent but for
    the fees' rounding)."""
    current = deviation(items, trades)
    slack = check(trades)[1]
    floor = deviation(items, best)  # each position at its own best (``own_best``)
    if current - floor <= PROVEN:  # every position as close as it can be on its own
        return Outcome(None, min(floor, current), "optimal", current)
    relaxed = relaxation(items, budget)
    bound = max(floor, relaxed.bound)
    if current - bound <= PROVEN + slack:
        return Outcome(None, min(bound, current), "optimal", current)
    chosen: list[Decimal] | None = None  # better trades than the ones given
    # Room for the fees' rounding as the trades given needed it, and a little more.
    fitted = _fitted(items, relaxed, budget, check, slack + slack / 100)
    if fitted is not None:
        fast, aside = fitted
        value = deviation(items, fast)
        if value < current:
            # The cash set aside for the fees' rounding counts as their cost; more than
            # that (a sell dropped under the minimum) is left to the search to settle.
            fees = check(fast)[1]
            chosen, current, slack = fast, value, min(aside, fees + fees / 100 + Decimal("0.01"))
    if chosen is not None and current - bound <= PROVEN + slack:
        status = "optimal"
    elif len(items) > MILP_ITEMS:
        status = "too_large"
    else:
        found = _search(items, trades, chosen, relaxed.at(budget), check, bound)
        chosen, current, bound, status = found
    if chosen is not None:
        trimmed = _trim(items, chosen, check, best)
        if trimmed is not chosen:
            chosen, current = trimmed, deviation(items, trimmed)
    return Outcome(chosen, min(bound, current), status, current)


def _search(
    items: Sequence[Item],
    trades: Sequence[Decimal],
    chosen: list[Decimal] | None,
    relaxed: Relaxation,
    check: Check,
    bound: Decimal,
) -> tuple[list[Decimal] | None, Decimal, Decimal, str]:
    """HiGHS on the whole model, from the best plan so far; an answer the fees' rounding
    leaves short is searched again with that much less budget. Returns the better trades
    (or ``chosen``), their deviation, the bound and how the search ended."""
    from alchemiser_cli.core import milp  # HiGHS and numpy: only when needed

    current = deviation(items, trades if chosen is None else chosen)
    budget = relaxed.given
    spans, lagrange = ranges(items, relaxed, current)
    bound = max(bound, min(lagrange, current))
    if any(lo > hi for lo, hi in spans):
        return chosen, current, current, "optimal"  # no plan is better than this one
    room, status = budget, "node_limit"
    for _ in range(3):
        found = milp.solve(items, room, spans)
        if found is None:
            break
        status = found.status
        if room == budget:  # a bound with less budget would not hold for this one
            bound = max(bound, min(found.bound, current))
        # HiGHS's fractional quantities carry float noise: solve them again exactly for
        # its whole-share counts, and keep whichever of the two is better and fits.
        polished = complete(items, relaxed.at(room), found.trades)
        aim = deviation(items, found.trades) + PROVEN  # what HiGHS's answer reaches
        fits = False
        for answer in (polished, found.trades):
            if answer is not None and check(answer)[0] <= ZERO:
                better = deviation(items, answer)
                fits = fits or better <= aim
                if better < current:
                    chosen, current = answer, better
        if fits:
            return chosen, current, bound, status
        room -= check(found.trades)[0] + (ZERO if room == budget else Decimal("0.01"))
    # No answer fitted once on the share grid with every fee rounded: the plan stands.
    return chosen, current, bound, "not_proven" if status == "optimal" else status
