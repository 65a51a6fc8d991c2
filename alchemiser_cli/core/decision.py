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
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

from alchemiser_cli.core.allocation import Fractional, fill

ZERO = Decimal(0)
ONE = Decimal(1)
STEP = Decimal("0.000000001")

Segment = tuple[Decimal, Decimal, Decimal]  # (deviation per dollar, dollars, deviation)
# trades -> (dollars over the budget with every fee rounded to the cent, what the rounding
# costs over the fees' proportional rate)
Check = Callable[[Sequence[Decimal]], tuple[Decimal, Decimal]]


@dataclass(slots=True)
class Item:
    """One position the plan may trade (see the module docstring). ``buy_max`` and
    ``sell_max`` are the most shares a trade may have; 0 means that side is closed."""

    held: Decimal
    ref: Decimal
    goal: Decimal
    whole: bool
    buy_limit: Decimal
    sell_net: Decimal
    buy_min: Decimal
    sell_min: Decimal
    buy_max: Decimal
    sell_max: Decimal

    def dev(self, trade: Decimal) -> Decimal:
        return abs((self.held + trade) * self.ref - self.goal)

    def cash(self, trade: Decimal) -> Decimal:
        """Dollars the trade spends (negative: frees)."""
        return trade * (self.buy_limit if trade > ZERO else self.sell_net)


def make_item(
    held: Decimal,
    ref: Decimal,
    goal: Decimal,
    *,
    whole: bool,
    prices: tuple[Decimal, Decimal, Decimal, Decimal],
    minimum: Decimal,
) -> Item:
    """The item of a position; ``prices`` = (ask, buy limit, bid, cash per share sold)."""
    ask, buy_limit, bid, sell_net = prices
    want = goal / ref - held  # shares to the goal (negative: over it)
    if whole:
        buy_max = max(ZERO, want.to_integral_value(ROUND_CEILING))
        sell_max = held.to_integral_value(ROUND_FLOOR)
        buy_min = max(ONE, (minimum / ask).to_integral_value(ROUND_CEILING))
        sell_min = max(ONE, (minimum / bid).to_integral_value(ROUND_CEILING))
    else:
        buy_max, sell_max = max(ZERO, want), held
        buy_min = (minimum / ask).quantize(STEP, ROUND_CEILING)  # on the 9-decimal grid
        sell_min = (minimum / bid).quantize(STEP, ROUND_CEILING)
    if buy_max < buy_min:
        buy_max = ZERO
    if sell_max < sell_min or sell_net <= ZERO:
        sell_max = ZERO
    return Item(held, ref, goal, whole, buy_limit, sell_net, buy_min, sell_min, buy_max, sell_max)


def _lower_hull(points: list[tuple[Decimal, Decimal]]) -> list[tuple[Decimal, Decimal]]:
    """The lower convex hull of (cash, deviation) points sorted by cash."""
    hull: list[tuple[Decimal, Decimal]] = []
    for p in points:
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (y2 - y1) * (p[0] - x1) >= (p[1] - y1) * (x2 - x1):
                hull.pop()  # the middle point is on or above the line: not on the hull
            else:
                break
        hull.append(p)
    return hull


def _side(item: Item, sign: int) -> list[tuple[Decimal, Decimal]]:
    """The hull points of one side (buys: sign 1, sells: -1), from no trade outward."""
    top = item.buy_max if sign > 0 else item.sell_max
    if top <= ZERO:
        return [(ZERO, item.dev(ZERO))]
    to_goal = (item.goal / item.ref - item.held) * sign  # shares toward the goal this way
    marks = {ZERO, top}
    if ZERO < to_goal < top:
        if item.whole:
            marks.add(to_goal.to_integral_value(ROUND_FLOOR))
            marks.add(to_goal.to_integral_value(ROUND_CEILING))
        else:
            marks.add(to_goal)
    points = []
    for n in sorted(marks):
        trade = n * sign
        points.append((abs(item.cash(trade)), item.dev(trade)))
    return _lower_hull(points)


@dataclass(slots=True)
class Relaxation:
    """The model with whole shares relaxed to their convex hull and no minimum trade: a
    one-constraint LP. ``bound`` is its exact optimum, a lower bound on every plan.
    ``sinks``/``sources`` are its segments, ``owners`` the item of each (sinks first),
    ``moves`` the segments' trades in shares (signed), ``free`` the trades always taken
    (sells that cut deviation and free cash) and ``budget`` the budget after them."""

    bound: Decimal
    frac: Fractional
    sinks: list[Segment]
    sources: list[Segment]
    owners: list[int]
    moves: list[Decimal]
    free: list[Decimal]
    budget: Decimal
    given: Decimal  # the budget asked for (``budget`` less the free sells' cash)
    parts: tuple[Fractional, list[Segment], list[Segment], list[int], list[Decimal]] | None = (
        None  # the fractional positions' own segments, built on first use
    )

    def at(self, budget: Decimal) -> Relaxation:
        """The same relaxation with another budget (its ``bound`` is not recomputed)."""
        return replace(self, budget=self.budget - self.given + budget, given=budget)


def relaxation(items: Sequence[Item], budget: Decimal) -> Relaxation:
    """Solve the relaxation exactly: the moves that cut deviation and free cash are taken,
    the rest is the greedy of ``core/allocation.py`` over buys (sinks) and sells (sources)."""
    sinks: list[Segment] = []
    sources: list[Segment] = []
    sink_of: list[tuple[int, Decimal]] = []
    source_of: list[tuple[int, Decimal]] = []
    free = [ZERO] * len(items)
    base = ZERO
    for i, item in enumerate(items):
        held, ref = item.held, item.ref
        at = held * ref - item.goal
        base += abs(at)
        if not item.whole:  # one straight piece each way: no hull needed
            if item.buy_max > ZERO:  # up to the goal
                dollars = item.buy_max * item.buy_limit
                sinks.append((ref / item.buy_limit, dollars, item.buy_max * ref))
                sink_of.append((i, item.buy_max))
            if item.sell_max > ZERO:
                over = min(max(at / ref, ZERO), held)  # shares above the goal: free to sell
                if over > ZERO:
                    budget += over * item.sell_net
                    base -= over * ref
                    free[i] = -over
                if held > over:
                    rest = held - over
                    sources.append((ref / item.sell_net, rest * item.sell_net, rest * ref))
                    source_of.append((i, -rest))
            continue
        points = _side(item, 1)
        for (c0, d0), (c1, d1) in pairwise(points):
            if d1 >= d0:
                break  # further buys only add deviation
            sinks.append(((d0 - d1) / (c1 - c0), c1 - c0, d0 - d1))
            sink_of.append((i, (c1 - c0) / item.buy_limit))
        points = _side(item, -1)
        for (c0, d0), (c1, d1) in pairwise(points):
            shares = -(c1 - c0) / item.sell_net
            if d1 < d0:  # a sell that cuts deviation and frees cash: always taken
                budget += c1 - c0
                base -= d0 - d1
                free[i] += shares
            else:
                sources.append(((d1 - d0) / (c1 - c0), c1 - c0, d1 - d0))
                source_of.append((i, shares))
    frac = Fractional.build(sinks, sources)
    least = frac.solve(budget)
    bound = ZERO if least is None else max(ZERO, base - frac.sink_total + least)
    owners = [i for i, _ in sink_of] + [i for i, _ in source_of]
    moves = [m for _, m in sink_of] + [m for _, m in source_of]
    given = budget
    for item, shares in zip(items, free, strict=True):
        given += item.cash(shares)  # the free sells' cash taken back out
    return Relaxation(bound, frac, sinks, sources, owners, moves, free, budget, given)


def rounded(items: Sequence[Item], relaxed: Relaxation) -> list[Decimal] | None:
    """A plan from the relaxation's answer: whole shares rounded to what is funded in
    full (buys down, sells up), then the fractional positions solved exactly with what is
    left. None when the rounding leaves no feasible plan."""
    sink_scale, source_scale = fill(relaxed.frac, relaxed.budget, relaxed.sinks, relaxed.sources)
    trades = list(relaxed.free)
    for i, share, move in zip(
        relaxed.owners, sink_scale + source_scale, relaxed.moves, strict=True
    ):
        trades[i] += move * share
    wholes = [i for i, item in enumerate(items) if item.whole]
    for i in wholes:
        item, t = items[i], trades[i]
        # Buys down to what is funded in full; sells up to a whole share (more cash).
        t = max(t.to_integral_value(ROUND_FLOOR), -item.sell_max)
        if ZERO < t < item.buy_min:
            t = ZERO
        elif ZERO < -t < item.sell_min:
            t = -item.sell_min if item.sell_min <= item.sell_max else ZERO
        trades[i] = t
    return complete(items, relaxed, trades)


def complete(
    items: Sequence[Item], relaxed: Relaxation, trades: list[Decimal]
) -> list[Decimal] | None:
    """The whole-share ``trades`` kept, the fractional positions' trades solved exactly
    (the relaxation's greedy over their own segments) with the cash the whole shares
    leave. None when that cash cannot be found."""
    trades = list(trades)
    left = relaxed.budget  # the whole shares' free sells are in it: count the rest
    parts = []
    for i, item in enumerate(items):
        if item.whole:
            left -= item.cash(trades[i]) - item.cash(relaxed.free[i])
        else:
            parts.append(i)
    return _fractional(items, parts, trades, relaxed, left)


def _fractional(
    items: Sequence[Item],
    parts: list[int],
    trades: list[Decimal],
    relaxed: Relaxation,
    left: Decimal,
) -> list[Decimal] | None:
    """Set the fractional positions' trades: the relaxation's greedy over their own
    segments with ``left`` dollars, each quantity on the 9-decimal grid."""
    if relaxed.parts is None:
        if len(parts) == len(items):  # no whole shares: the relaxation's own segments
            relaxed.parts = (relaxed.frac, relaxed.sinks, relaxed.sources, relaxed.owners,
                             relaxed.moves)  # fmt: skip
        else:
            relaxed.parts = _own_segments(items, relaxed)
    frac, sinks, sources, owners, moves = relaxed.parts
    if frac.source_draw(left, []) is None:
        return None
    sink_scale, source_scale = fill(frac, left, sinks, sources)
    for i in parts:
        trades[i] = relaxed.free[i]
    for i, share, move in zip(owners, sink_scale + source_scale, moves, strict=True):
        trades[i] += move * share
    for i in parts:
        item, t = items[i], trades[i]
        t = max(t.quantize(STEP, ROUND_FLOOR), -item.sell_max)  # buys less, sells more
        if ZERO < t < item.buy_min or ZERO < -t < item.sell_min:
            t = ZERO
        trades[i] = t
    return trades


def _own_segments(
    items: Sequence[Item], relaxed: Relaxation
) -> tuple[Fractional, list[Segment], list[Segment], list[int], list[Decimal]]:
    """The relaxation's segments of the fractional positions alone."""
    sinks: list[Segment] = []
    sources: list[Segment] = []
    owners: list[int] = []
    moves: list[Decimal] = []
    n_sinks = len(relaxed.sinks)
    for k, owner in enumerate(relaxed.owners):
        if items[owner].whole:
            continue
        if k < n_sinks:
            sinks.append(relaxed.sinks[k])
        else:
            sources.append(relaxed.sources[k - n_sinks])
        owners.append(owner)
        moves.append(relaxed.moves[k])
    return Fractional.build(sinks, sources), sinks, sources, owners, moves


def own_best(item: Item) -> Decimal:
    """The trade that alone brings the item closest to its goal within the minimum trade
    (the least deviation it can have whatever the others do). The deviation is convex in
    the trade, so the best lies at the goal clipped into each side's allowed range."""
    want = item.goal / item.ref - item.held
    if want > ZERO:
        if item.buy_max <= ZERO:
            return ZERO
        if not item.whole:
            return want.quantize(STEP, ROUND_FLOOR)  # buy_max is the goal itself
        candidates = [want.to_integral_value(ROUND_FLOOR), item.buy_max]
        low, high = item.buy_min, item.buy_max
    elif want < ZERO and item.sell_max > ZERO:
        low, high = -item.sell_max, -item.sell_min
        candidates = (
            [want]
            if not item.whole
            else [want.to_integral_value(ROUND_FLOOR), want.to_integral_value(ROUND_CEILING)]
        )
    else:
        return ZERO
    best, least = ZERO, abs(want)
    for t in candidates:
        t = min(max(t, low), high)
        off = abs(want - t)
        if off < least:
            best, least = t, off
    # A sell on the 9-decimal grid: up to it, as a sell to the goal is (never short of it).
    return best if item.whole else max(best.quantize(STEP, ROUND_FLOOR), -item.sell_max)


def spend(items: Sequence[Item], trades: Sequence[Decimal]) -> Decimal:
    """Dollars the trades spend at the model's prices (fees at their proportional rate)."""
    return sum((item.cash(t) for item, t in zip(items, trades, strict=True)), ZERO)


def deviation(items: Sequence[Item], trades: Sequence[Decimal]) -> Decimal:
    return sum((item.dev(t) for item, t in zip(items, trades, strict=True)), ZERO)


PROVEN = Decimal("0.005")  # a plan within half a cent of the bound is proven optimal
MILP_ITEMS = 600  # more items than this: the fast method's plan and the relaxation's bound


@dataclass(frozen=True, slots=True)
class Outcome:
    """The trades to make (None: keep the ones given), a proven lower bound on every plan's
    deviation, and how the search ended: ``optimal`` (proven), ``node_limit`` or
    ``time_limit`` (HiGHS stopped), ``too_large`` (not searched), ``not_proven`` (HiGHS's
    answer did not fit once put on the share grid with every fee rounded)."""

    trades: list[Decimal] | None
    bound: Decimal
    status: str


def _fitted(
    items: Sequence[Item], relaxed: Relaxation, budget: Decimal, check: Check
) -> tuple[list[Decimal], Decimal] | None:
    """The relaxation's answer rounded (:func:`rounded`); where the fees' rounding to the
    cent leaves it short, rounded again from a budget that much smaller. Returns the trades
    and the cash set aside for the rounding."""
    room = budget
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
        return Outcome(None, min(floor, current), "optimal")
    relaxed = relaxation(items, budget)
    bound = max(floor, relaxed.bound)
    if current - bound <= PROVEN + slack:
        return Outcome(None, min(bound, current), "optimal")
    chosen: list[Decimal] | None = None  # better trades than the ones given
    fitted = _fitted(items, relaxed, budget, check)
    if fitted is not None:
        fast, aside = fitted
        value = deviation(items, fast)
        if value < current:
            # The cash set aside for the fees' rounding counts as their cost; more than
            # that (a sell dropped under the minimum) is left to the search to settle.
            fees = check(fast)[1]
            chosen, current, slack = fast, value, fees + min(aside, fees + Decimal("0.03"))
    if chosen is not None and current - bound <= PROVEN + slack:
        status = "optimal"
    elif len(items) > MILP_ITEMS:
        status = "too_large"
    else:
        found = _search(items, trades, chosen, relaxed.at(budget), check, bound)
        chosen, current, bound, status = found
    if chosen is not None:
        chosen = _trim(items, chosen, check, best)
        current = deviation(items, chosen)
    return Outcome(chosen, min(bound, current), status)


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
    room, status = budget, "node_limit"
    for _ in range(3):
        found = milp.solve(items, room, trades if chosen is None else chosen)
        if found is None:
            break
        status = found.status
        if room == budget:  # a bound with less budget would not hold for this one
            bound = max(bound, min(found.bound, current))
        # HiGHS's fractional quantities carry float noise: solve them again exactly for
        # its whole-share counts, and keep whichever of the two is better and fits.
        polished = complete(items, relaxed.at(room), found.trades)
        fits = False
        for answer in (polished, found.trades):
            if answer is not None and check(answer)[0] <= ZERO:
                fits = True
                better = deviation(items, answer)
                if better < current:
                    chosen, current = answer, better
        if fits:
            return chosen, current, bound, status
        room -= check(found.trades)[0] + (ZERO if room == budget else Decimal("0.01"))
    # No answer fitted once on the share grid with every fee rounded: the plan stands.
    return chosen, current, bound, "not_proven" if status == "optimal" else status
