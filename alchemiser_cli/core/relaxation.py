"""The relaxation of the planner's decision, its exact solution and a plan rounded from it.

Each whole-share position becomes the convex hull of its whole-share points and the
minimum trade is dropped: what is left is a one-constraint linear programme, solved
exactly by the greedy of ``core/allocation.py``. Its optimum is a lower bound on the
deviation of every plan the rules allow; rounding its answer (whole-share buys down to
what is funded in full, sells up) and solving the fractional positions again gives a
feasible plan, usually within cents of the bound.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

from alchemiser_cli.core.allocation import Fractional, fill
from alchemiser_cli.core.items import STEP, ZERO, Item

Segment = tuple[Decimal, Decimal, Decimal]  # (deviation per dollar, dollars, deviation)


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
    for item, shares in zip(items, free, strict=True):  # the free sells' cash taken back out
        given += shares * (item.buy_limit if shares > ZERO else item.sell_net)  # Item.cash
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
    """The relaxation's segments of the fractional positions alone, and their greedy in
    the relaxation's own order (a stable sort's order, kept by dropping the others)."""
    sinks: list[Segment] = []
    sources: list[Segment] = []
    owners: list[int] = []
    moves: list[Decimal] = []
    n_sinks = len(relaxed.sinks)
    index: dict[int, int] = {}  # the relaxation's segment -> its place here
    for k, owner in enumerate(relaxed.owners):
        if items[owner].whole:
            continue
        if k < n_sinks:
            index[k] = len(sinks)
            sinks.append(relaxed.sinks[k])
        else:
            index[k] = len(sources)
            sources.append(relaxed.sources[k - n_sinks])
        owners.append(owner)
        moves.append(relaxed.moves[k])
    frac = relaxed.frac
    sink_order = [index[k] for k in frac.sink_order if k in index]
    source_order = [index[k + n_sinks] for k in frac.source_order if k + n_sinks in index]
    return (
        Fractional.ordered(sinks, sources, sink_order, source_order),
        sinks,
        sources,
        owners,
        moves,
    )


def multiplier(relaxed: Relaxation) -> Decimal:
    """The relaxation's price of a dollar: the deviation per dollar of the buy it funds
    last (or of the sell it draws last to cover a deficit); 0 when cash is left over."""
    frac = relaxed.frac
    drawn = frac.source_draw(relaxed.budget, [])
    if drawn is None:
        return ZERO
    spent = relaxed.budget + drawn
    cum = frac.sink_dollars
    if spent < cum[-1]:
        return -frac.sink_keys[max(0, bisect_right(cum, spent) - 1)]
    if drawn > ZERO:
        rates = frac.source_loss_rate
        return rates[min(len(rates) - 1, max(0, bisect_right(frac.source_dollars, drawn) - 1))]
    return ZERO


Range = tuple[Decimal, Decimal]


def ranges(
    items: Sequence[Item], relaxed: Relaxation, incumbent: Decimal
) -> tuple[list[Range], Decimal]:
    """Where each item's trade must lie in any plan better than ``incumbent``, and the
    Lagrangian bound that shows it. With ``lam`` the relaxation's price of a dollar, every
    plan within the budget has deviation >= sum_i min L_i - lam * budget, where
    ``L_i(t) = dev_i(t) + lam * cash_i(t)``; so in a plan better than the incumbent no item
    can be further above its own minimum of L_i than the incumbent is above that bound.
    L_i is convex and piecewise linear (kinks where the trade changes side and at the
    goal), so each range is an interval found from those kinks."""
    lam = multiplier(relaxed)
    total = -lam * relaxed.given
    found = []
    for item in items:
        want = item.goal / item.ref - item.held
        marks = {-item.sell_max, item.buy_max, ZERO}
        if -item.sell_max < want < item.buy_max:
            marks |= (
                {want.to_integral_value(ROUND_FLOOR), want.to_integral_value(ROUND_CEILING)}
                if item.whole
                else {want}
            )
        points = sorted(marks)
        values = [item.dev(t) + lam * item.cash(t) for t in points]
        least = min(values)
        total += least
        found.append((item, points, values, least))
    gap = incumbent - total
    out = []
    for item, points, values, least in found:
        k = values.index(least)
        out.append((_edge(item, points, values, k, -1, least + gap),
                    _edge(item, points, values, k, 1, least + gap)))  # fmt: skip
    return out, total


def _edge(
    item: Item, points: list[Decimal], values: list[Decimal], k: int, way: int, top: Decimal
) -> Decimal:
    """The furthest trade from ``points[k]`` in direction ``way`` whose L stays below
    ``top`` (whole shares: the furthest whole number)."""
    j = k
    while 0 <= j + way < len(points):
        p, q = points[j], points[j + way]
        if values[j + way] >= top:
            if values[j + way] == values[j]:
                return p
            t = p + (q - p) * (top - values[j]) / (values[j + way] - values[j])
            if item.whole:
                return t.to_integral_value(ROUND_FLOOR if way > 0 else ROUND_CEILING)
            return t
        j += way
    return points[j]
