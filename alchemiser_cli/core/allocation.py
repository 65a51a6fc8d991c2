"""The exact linear programme under the planner's decision: fractional items and a budget.

Pure and exact: ``Decimal`` throughout, no float solver. Items are (ratio, dollars,
deviation) segments, all valued at their order's limit price (cash) and reference price
(deviation):

* "sinks" (buys): any share of ``dollars`` may be spent; each dollar removes ``ratio`` of
  deviation;
* "sources" (sells): any share of ``dollars`` may be freed; each dollar adds ``ratio`` of
  deviation.

The problem: minimise total deviation subject to ``cash spent <= budget`` (a negative
budget must be covered by sources). Proof that the greedy below is optimal: take any
feasible solution. If a dollar is spent on a buy of ratio ``r1`` while a buy of ratio
``r2 > r1`` is not full, moving the dollar raises the gain by ``r2 - r1 > 0``; if a source
of loss ``l2`` is used while one of ``l1 < l2`` has room, swapping lowers the loss; if a
dollar is freed by a source of loss ``l`` and spent on a buy of ratio ``r <= l``, dropping
both does not worsen the objective. So some optimum funds buys best ratio first, draws
sources cheapest first, and draws a source dollar exactly while the next buy's ratio beats
that source's loss, or to cover a deficit. That is what :meth:`Fractional.solve` computes
(prefix sums and bisection, O(log n) per call); :func:`fill` gives each item's share, a
tie class at the margin sharing what is left in proportion (to keep plans even).
``core/decision.py`` builds the segments: whole-share positions as the convex hull of their
whole-share points, which makes this the relaxation that bounds every plan.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate

ZERO = Decimal(0)
ONE = Decimal(1)


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
        return cls.ordered(
            sinks,
            sources,
            sorted(range(len(sinks)), key=lambda i: -sinks[i][0]),
            sorted(range(len(sources)), key=lambda i: sources[i][0]),
        )

    @classmethod
    def ordered(
        cls,
        sinks: list[tuple[Decimal, Decimal, Decimal]],
        sources: list[tuple[Decimal, Decimal, Decimal]],
        sink_order: list[int],
        source_order: list[int],
    ) -> Fractional:
        """As :meth:`build`, given each side's order (sinks best ratio first, sources
        cheapest first, ties in input order)."""
        sorted_sinks = [sinks[i] for i in sink_order]
        sorted_sources = [sources[i] for i in source_order]
        return cls(
            sink_keys=[-ratio for ratio, _, _ in sorted_sinks],
            sink_dollars=list(accumulate((d for _, d, _ in sorted_sinks), initial=ZERO)),
            sink_gain=list(accumulate((g for _, _, g in sorted_sinks), initial=ZERO)),
            source_loss_rate=[rate for rate, _, _ in sorted_sources],
            source_dollars=list(accumulate((d for _, d, _ in sorted_sources), initial=ZERO)),
            source_loss=list(accumulate((g for _, _, g in sorted_sources), initial=ZERO)),
            sink_order=sink_order,
            source_order=source_order,
        )

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
