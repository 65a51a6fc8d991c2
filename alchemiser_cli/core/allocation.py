"""The planner's allocation: how much of each buy (and of extra sells) a limited budget funds.

Pure and exact: ``Decimal`` throughout, no float solver. The planner hands over three kinds
of items, all valued at their order's limit price (cash) and reference price (deviation):

* fractional buys ("sinks"): any quantity ``y`` in ``[0, want]``; deviation ``(want - y) * ref``,
  cash ``y * limit``;
* extra fractional sells beyond a sell's goal ("sources"): any quantity ``x`` in ``[0, cap]``;
  deviation ``x * ref``, cash ``-x * limit`` (fees are settled by the caller);
* whole-share buys: an integer ``n`` in ``{0} u [n_min, ceil(want)]``; deviation
  ``|want - n| * ref``, cash ``n * limit``.

The problem: minimise total deviation subject to ``cash spent <= budget``.

**Fractional part, for fixed whole-share counts.** With ``R`` dollars left (negative when the
whole shares overspend), the rest is a linear programme with one constraint: a fractional
buy removes ``ref/limit`` of deviation per dollar, an extra sell adds ``ref/limit`` of
deviation per dollar it frees. Proof that the greedy below is optimal: take any feasible
``(y, x)``. If a dollar is spent on a buy of ratio ``r1`` while a buy of ratio ``r2 > r1`` is
not full, moving the dollar raises the gain by ``r2 - r1 > 0``; if a source of loss ``l2``
is used while one of ``l1 < l2`` has room, swapping lowers the loss; if a dollar is freed by a
source of loss ``l`` and spent on a buy of ratio ``r <= l``, dropping both does not worsen
the objective. So some optimum funds buys best ratio first, draws sources cheapest first,
and draws a source dollar exactly while the next buy's ratio beats that source's loss, or to
cover a deficit. That is what :meth:`Fractional.solve` computes (with prefix sums and
bisection, O(log n) per call). Equal ratios are interchangeable, so the caller may share the
marginal dollars of a tie class in proportion (as the planner does, to keep plans even).

**Whole shares.** Up to :data:`EXACT_LIMIT` symbols: branch and bound over the counts. The
bound of a node is its exact LP relaxation: fixed counts as they are, undecided whole-share
symbols as fractional buys capped at ``want`` (a count above ``want`` only adds deviation and
spends more, so the cap loses nothing). The bound is convex in the count being branched on,
so counts are tried from ``ceil(want)`` down and the walk stops once a bound is both past
its minimum and no better than the best plan found. The result is a proven optimum of this
model to well below a cent (``Decimal`` division is exact to 28 digits). Above the limit, or
if the search exceeds :data:`NODE_LIMIT` nodes: a greedy solution, and the relaxation's value
as the proven lower bound.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
EXACT_LIMIT = 20
NODE_LIMIT = 50_000


@dataclass(slots=True)
class Whole:
    """A whole-share buy: ``want`` shares would reach its goal; ``n_min`` is the fewest
    shares a buy may have (the minimum trade value)."""

    ref: Decimal
    limit: Decimal
    want: Decimal
    n_min: int = 1
    ratio: Decimal = ZERO
    top: int = 0

    def __post_init__(self) -> None:
        self.ratio = self.ref / self.limit
        self.top = int(self.want.to_integral_value(ROUND_CEILING))

    def dev(self, n: int) -> Decimal:
        return abs(self.want - n) * self.ref

    def nearest(self) -> int:
        """The count that alone is closest to the goal (ties: fewer shares)."""
        low = int(self.want.to_integral_value(ROUND_FLOOR))
        return low + 1 if (self.want - low) * 2 > ONE else low


@dataclass(slots=True)
class Result:
    """Counts per whole-share item, dollars per sink and per source, and the figures."""

    counts: list[int]
    budget_left: Decimal  # R: the budget after the whole shares (may be negative)
    deviation: Decimal  # the model's objective at this solution
    bound: Decimal  # a proven lower bound on the model's optimum
    exact: bool
    nodes: int = 0
    sink_scale: list[Decimal] = field(default_factory=list)
    source_scale: list[Decimal] = field(default_factory=list)
    alone: list[int] = field(default_factory=list)  # each count's best with cash to spare


@dataclass(slots=True)
class Fractional:
    """Sinks sorted best ratio first and sources cheapest first, with prefix sums."""

    sink_keys: list[Decimal] = field(default_factory=list)  # -ratio, ascending
    sink_dollars: list[Decimal] = field(default_factory=lambda: [ZERO])  # prefix sums
    sink_gain: list[Decimal] = field(default_factory=lambda: [ZERO])
    source_loss_rate: list[Decimal] = field(default_factory=list)  # ascending
    source_dollars: list[Decimal] = field(default_factory=lambda: [ZERO])
    source_loss: list[Decimal] = field(default_factory=lambda: [ZERO])
    sink_order: list[int] = field(default_factory=list)  # input indices, best ratio first
    source_order: list[int] = field(default_factory=list)  # input indices, cheapest first

    @classmethod
    def build(
        cls,
        sinks: list[tuple[Decimal, Decimal, Decimal]],
        sources: list[tuple[Decimal, Decimal, Decimal]],
    ) -> Fractional:
        """``sinks``/``sources``: (ratio, dollars, deviation) per item, any order."""
        self = cls()
        total_d = total_g = ZERO
        self.sink_order = sorted(range(len(sinks)), key=lambda i: -sinks[i][0])
        for i in self.sink_order:
            ratio, dollars, gain = sinks[i]
            self.sink_keys.append(-ratio)
            total_d += dollars
            total_g += gain
            self.sink_dollars.append(total_d)
            self.sink_gain.append(total_g)
        total_d = total_g = ZERO
        self.source_order = sorted(range(len(sources)), key=lambda i: sources[i][0])
        for i in self.source_order:
            rate, dollars, loss = sources[i]
            self.source_loss_rate.append(rate)
            total_d += dollars
            total_g += loss
            self.source_dollars.append(total_d)
            self.source_loss.append(total_g)
        return self

    @property
    def sink_total(self) -> Decimal:
        return self.sink_gain[-1]

    def _dollars_above(
        self, rate: Decimal, extra: Sequence[tuple[Decimal, Decimal, Decimal]]
    ) -> Decimal:
        """Dollars the buys with a ratio strictly above ``rate`` can take."""
        total = self.sink_dollars[bisect_left(self.sink_keys, -rate)]
        for ratio, dollars, _ in extra:
            if ratio > rate:
                total += dollars
        return total

    def _gain(self, budget: Decimal, extra: Sequence[tuple[Decimal, Decimal, Decimal]]) -> Decimal:
        """Deviation removed by ``budget`` dollars over the sinks and the ``extra`` ones
        (sorted best ratio first), best ratio first."""
        if budget <= ZERO:
            return ZERO
        keys, cum_d, cum_g = self.sink_keys, self.sink_dollars, self.sink_gain
        pos, used, gain = 0, ZERO, ZERO
        for ratio, dollars, value in extra:
            end = bisect_left(keys, -ratio)  # sinks with a better ratio go first
            if end > pos:
                take = cum_d[end] - cum_d[pos]
                if used + take >= budget:
                    return gain + self._partial(pos, budget - used)
                used += take
                gain += cum_g[end] - cum_g[pos]
                pos = end
            if used + dollars >= budget:
                return gain + (budget - used) * ratio
            used += dollars
            gain += value
        return gain + self._partial(pos, budget - used)

    def _partial(self, pos: int, budget: Decimal) -> Decimal:
        """Gain of ``budget`` dollars over sinks from index ``pos`` on."""
        cum_d, cum_g = self.sink_dollars, self.sink_gain
        target = cum_d[pos] + budget
        end = bisect_right(cum_d, target) - 1
        if end >= len(self.sink_keys):
            return cum_g[-1] - cum_g[pos]
        return cum_g[end] - cum_g[pos] + (target - cum_d[end]) * -self.sink_keys[end]

    def _loss(self, dollars: Decimal) -> Decimal:
        cum_d, cum_l = self.source_dollars, self.source_loss
        end = bisect_right(cum_d, dollars) - 1
        if end >= len(self.source_loss_rate):
            return cum_l[-1]
        return cum_l[end] + (dollars - cum_d[end]) * self.source_loss_rate[end]

    def source_draw(
        self, budget: Decimal, extra: Sequence[tuple[Decimal, Decimal, Decimal]]
    ) -> Decimal | None:
        """Optimal dollars drawn from the sources with ``budget`` left; None: infeasible."""
        low = max(ZERO, -budget)
        cum_d, rates = self.source_dollars, self.source_loss_rate
        if low > cum_d[-1]:
            return None
        if not rates:
            return ZERO
        j = max(0, bisect_right(cum_d, low) - 1)
        for k in range(j, len(rates)):
            start = max(cum_d[k], low)
            want = self._dollars_above(rates[k], extra) - budget
            if want <= start:
                return start
            if want <= cum_d[k + 1]:
                return want
        return cum_d[-1]

    def solve(
        self,
        budget: Decimal,
        extra: Sequence[tuple[Decimal, Decimal, Decimal]] = (),
        extra_dev: Decimal = ZERO,
    ) -> Decimal | None:
        """Least deviation of the sinks (and ``extra`` ones, whose deviation with nothing
        spent is ``extra_dev``) and sources with ``budget`` dollars; None when even every
        source cannot cover a negative budget."""
        drawn = self.source_draw(budget, extra)
        if drawn is None:
            return None
        total = self.sink_gain[-1] + extra_dev
        loss = self._loss(drawn) if drawn > ZERO else ZERO
        return total - self._gain(budget + drawn, extra) + loss


def allocate(
    budget: Decimal,
    sinks: list[tuple[Decimal, Decimal, Decimal]],
    sources: list[tuple[Decimal, Decimal, Decimal]],
    wholes: list[Whole],
) -> Result:
    """Choose whole-share counts minimising total deviation (see the module docstring).

    ``sinks`` and ``sources`` are (ratio, dollars, deviation) per fractional item: ratio is
    deviation per dollar, dollars the most the item can take or free. ``budget`` >= 0.
    The result's ``sink_scale``/``source_scale`` say what share of each item to fund.
    """
    alone = [_alone(w) for w in wholes]
    counts = list(alone)
    spend = ZERO
    value = ZERO
    for w, n in zip(wholes, counts, strict=True):
        spend += n * w.limit
        value += w.dev(n)
    sink_total = ZERO
    for _, dollars, _ in sinks:
        sink_total += dollars
    if budget - spend >= sink_total:
        # Every term at its own minimum: every buy full, each count its nearest.
        full = Result(counts, budget - spend, value, value, True)
        full.sink_scale = [ONE] * len(sinks)
        full.alone = alone
        full.source_scale = [ZERO] * len(sources)
        return full
    frac = Fractional.build(sinks, sources)
    relaxed = sorted((seg for w in wholes for seg in _hull(w)), key=_by_ratio)
    root = frac.solve(budget, relaxed, sum((w.dev(0) for w in wholes), ZERO))
    assert root is not None  # budget >= 0: buying nothing is feasible
    counts, left, value = _rounded(frac, budget, wholes, relaxed)
    if len(wholes) <= EXACT_LIMIT and value > root:
        counts, left, value = min(
            (counts, left, value), _greedy(frac, budget, wholes, relaxed), key=lambda r: r[2]
        )
    if not wholes or value <= root:
        result = Result(counts, left, value, min(root, value), True)
    elif len(wholes) > EXACT_LIMIT:
        result = Result(counts, left, value, root, False)
    else:
        result = _branch_and_bound(frac, budget, wholes, counts, left, value, root)
    result.sink_scale, result.source_scale = fill(frac, result.budget_left, sinks, sources)
    result.alone = alone
    return result


def _alone(w: Whole) -> int:
    """The best count for ``w`` with cash to spare: the nearest allowed whole number."""
    n = w.nearest()
    if 0 < n < w.n_min:
        return w.n_min if w.n_min <= w.top and w.dev(w.n_min) < w.dev(0) else 0
    return n


def _by_ratio(item: tuple[Decimal, Decimal, Decimal]) -> Decimal:
    return -item[0]


def fill(
    frac: Fractional,
    left: Decimal,
    sinks: list[tuple[Decimal, Decimal, Decimal]],
    sources: list[tuple[Decimal, Decimal, Decimal]],
) -> tuple[list[Decimal], list[Decimal]]:
    """Share of each sink funded and of each source drawn with ``left`` dollars: best
    ratio first; a tie class at the margin shares what is left in proportion."""
    drawn = frac.source_draw(left, [])
    assert drawn is not None
    return (
        _classes(sinks, frac.sink_order, left + drawn),
        _classes(sources, frac.source_order, drawn),
    )


def _classes(
    items: list[tuple[Decimal, Decimal, Decimal]], order: list[int], dollars: Decimal
) -> list[Decimal]:
    scale = [ZERO] * len(items)
    if dollars <= ZERO:
        return scale
    start = 0
    while start < len(order) and dollars > ZERO:
        ratio = items[order[start]][0]
        end = start
        total = ZERO
        while end < len(order) and items[order[end]][0] == ratio:
            total += items[order[end]][1]
            end += 1
        share = ONE if dollars >= total else dollars / total
        for k in range(start, end):
            scale[order[k]] = share
        dollars -= total
        start = end
    return scale


def _rounded(
    frac: Fractional,
    budget: Decimal,
    wholes: list[Whole],
    relaxed: list[tuple[Decimal, Decimal, Decimal]],
) -> tuple[list[int], Decimal, Decimal]:
    """The hull relaxation's solution with each count rounded down to what it funds in
    full: feasible (it spends no more than the relaxation) and off the optimum by at most
    the one count the relaxation funds in part. The fast method above 20 symbols."""
    drawn = frac.source_draw(budget, relaxed)
    assert drawn is not None
    funded = _whole_funding(frac, budget + drawn, wholes)
    counts = [0] * len(wholes)
    left = budget
    fixed = ZERO
    for i, w in enumerate(wholes):
        n = min(w.top, int((funded[i] / w.limit).to_integral_value(ROUND_FLOOR)))
        if n < w.n_min:
            n = 0
        counts[i] = n
        left -= n * w.limit
        fixed += w.dev(n)
    rest = frac.solve(left)
    assert rest is not None  # the relaxation's own funding fits
    return counts, left, fixed + rest


def _greedy(
    frac: Fractional,
    budget: Decimal,
    wholes: list[Whole],
    relaxed: list[tuple[Decimal, Decimal, Decimal]],
) -> tuple[list[int], Decimal, Decimal]:
    """A good feasible solution fast: the whole shares the relaxation funds in full, then
    single shares added, largest cut first, while a share cuts its position's deviation by
    more than the cash it takes costs the fractional part (its exact LP)."""
    drawn = frac.source_draw(budget, relaxed)
    assert drawn is not None
    funded = _whole_funding(frac, budget + drawn, wholes)
    counts = [0] * len(wholes)
    left = budget
    fixed = ZERO
    for i, w in enumerate(wholes):
        n = int((funded[i] / w.limit).to_integral_value(ROUND_FLOOR))
        if n < w.n_min:
            n = 0
        counts[i] = n
        left -= n * w.limit
        fixed += w.dev(n)
    current = frac.solve(left)
    if current is None:  # defensive: the relaxation's own funding always fits
        counts = [0] * len(wholes)
        left = budget
        fixed = sum((w.dev(0) for w in wholes), ZERO)
        current = frac.solve(left)
        assert current is not None
    heap = []
    for i, w in enumerate(wholes):
        n = counts[i]
        step = w.n_min if n == 0 else 1
        if n + step <= w.top:
            heap.append((w.dev(n + step) - w.dev(n), i))
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        w = wholes[i]
        n = counts[i]
        step = w.n_min if n == 0 else 1
        cut = w.dev(n) - w.dev(n + step)
        if cut <= ZERO:
            continue
        after = frac.solve(left - step * w.limit)
        if after is None or cut <= after - current:
            continue  # the fractional cost only grows as the budget shrinks
        counts[i] = n + step
        left -= step * w.limit
        fixed -= cut
        current = after
        if counts[i] < w.top:
            heapq.heappush(heap, (w.dev(counts[i] + 1) - w.dev(counts[i]), i))
    return counts, left, fixed + current


def _whole_funding(frac: Fractional, budget: Decimal, wholes: list[Whole]) -> list[Decimal]:
    """Dollars the hull relaxation gives each whole-share item with ``budget`` (ties:
    wholes first, as in :meth:`Fractional._gain`)."""
    funded = [ZERO] * len(wholes)
    segments = [(seg[0], seg[1], i) for i, w in enumerate(wholes) for seg in _hull(w)]
    segments.sort(key=lambda seg: -seg[0])
    keys, cum_d = frac.sink_keys, frac.sink_dollars
    pos, used = 0, ZERO
    for ratio, dollars, i in segments:
        end = bisect_left(keys, -ratio)
        if end > pos:
            used += cum_d[end] - cum_d[pos]
            pos = end
        if used >= budget:
            break
        funded[i] += min(dollars, budget - used)
        used += dollars
    return funded


def _hull(w: Whole) -> list[tuple[Decimal, Decimal, Decimal]]:
    """The item's relaxation as (ratio, dollars, deviation removed) segments: the convex
    hull of its whole-share points (count, deviation), so rounding is counted. Up to
    ``floor(want)`` every share removes ``ref``; the last share removes what rounding up
    gains over rounding down, ``(2 * frac - 1) * ref``, where that is positive."""
    low = w.want.to_integral_value(ROUND_FLOOR)
    out = []
    if low > ZERO:
        out.append((w.ratio, low * w.limit, low * w.ref))
    frac = w.want - low
    if frac + frac > ONE:
        gain = (frac + frac - ONE) * w.ref
        out.append((gain / w.limit, w.limit, gain))
    return out


def _branch_and_bound(
    frac: Fractional,
    budget: Decimal,
    wholes: list[Whole],
    counts: list[int],
    left: Decimal,
    value: Decimal,
    root: Decimal,
) -> Result:
    """Depth first over the counts, biggest positions first; at each node the count is
    searched from the relaxation's best outward, each side stopped by convexity."""
    order = sorted(range(len(wholes)), key=lambda i: (-(wholes[i].want * wholes[i].ref), i))
    hulls = [_hull(w) for w in wholes]
    best = Result(list(counts), left, value, root, True)
    chosen = [0] * len(wholes)
    decided = [False] * len(wholes)
    nodes = 0

    def relaxed() -> tuple[list[tuple[Decimal, Decimal, Decimal]], Decimal]:
        out = [seg for i, hull in enumerate(hulls) if not decided[i] for seg in hull]
        out.sort(key=_by_ratio)
        return out, sum((wholes[i].dev(0) for i in order if not decided[i]), ZERO)

    def visit(depth: int, fixed: Decimal, left: Decimal) -> bool:
        """Search below a node; False when the node limit stopped it."""
        nonlocal nodes
        i = order[depth]
        w = wholes[i]
        decided[i] = True
        last = depth + 1 == len(order)
        extra, extra_dev = ([], ZERO) if last else relaxed()
        seen: dict[int, Decimal | None] = {}

        def bound(n: int) -> Decimal | None:
            nonlocal nodes
            if n not in seen:
                nodes += 1
                rest = frac.solve(left - n * w.limit, extra, extra_dev)
                seen[n] = None if rest is None else fixed + w.dev(n) + rest
            return seen[n]

        # The largest affordable count (fewer shares always fit if more do), then the
        # count where the convex bound is least.
        low, high = 0, w.top
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if bound(mid) is not None else (low, mid - 1)
        top = low
        low, high = 0, top
        while low < high:
            mid = (low + high) // 2
            here, there = bound(mid), bound(mid + 1)
            assert here is not None
            assert there is not None
            low, high = (mid + 1, high) if there < here else (low, mid)
        # Best count first, then outward; a side ends at the first count whose bound is
        # no better than the best plan found (convex: those further out are no better).
        down, up = low, low + 1
        while down >= 0 or up <= top:
            if nodes > NODE_LIMIT:
                decided[i] = False
                return False
            for side in (0, 1):
                n = down if side == 0 else up
                if n < 0 or n > top:
                    continue
                value = bound(n)
                if side == 0:
                    down = -1 if value is None or value >= best.deviation else n - 1
                else:
                    up = top + 1 if value is None or value >= best.deviation else n + 1
                if value is None or value >= best.deviation or 0 < n < w.n_min:
                    continue  # no better, or below the minimum trade value
                chosen[i] = n
                if last:
                    spend = left - n * w.limit
                    best.counts, best.budget_left, best.deviation = list(chosen), spend, value
                elif not visit(depth + 1, fixed + w.dev(n), left - n * w.limit):
                    decided[i] = False
                    return False
        chosen[i] = 0
        decided[i] = False
        return True

    finished = visit(0, ZERO, budget)
    best.bound = best.deviation if finished else min(root, best.deviation)
    best.exact = finished
    best.nodes = nodes
    return best
