"""One position of the planner's decision (``core/decision.py``): what it may trade,
at what prices, and the deviation it ends with. Pure and exact (``Decimal``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
STEP = Decimal("0.000000001")


@dataclass(slots=True)
class Item:
    """One position the plan may trade (see ``core/decision.py``). ``buy_max`` and
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
        if abs(want) * ref < minimum:
            # Within the minimum trade of its goal: left as is (dust), never sold across
            # its goal just to reach the minimum (a position bought today would be sold).
            buy_max = sell_max = ZERO
    if buy_max < buy_min:
        buy_max = ZERO
    if sell_max < sell_min or sell_net <= ZERO:
        sell_max = ZERO
    return Item(held, ref, goal, whole, buy_limit, sell_net, buy_min, sell_min, buy_max, sell_max)


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
    # ``Item.dev`` written out: this runs over every position several times a plan.
    return sum(
        (abs((i.held + t) * i.ref - i.goal) for i, t in zip(items, trades, strict=True)), ZERO
    )
