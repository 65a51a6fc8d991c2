"""The plan's orders, position lines and totals, written from the planner's decided rows.

Pure: no I/O, no clock, ``Decimal`` throughout.
"""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.plan import PlannedOrder, PositionLine, Rule
from alchemiser_cli.core.planner_value import Row

_Totals = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


def plan_orders(sells: list[Row], buys: list[Row]) -> tuple[tuple[PlannedOrder, ...], _Totals]:
    """Sells then buys, each in symbol order, and the plan's totals: (buy value, sell value,
    fees, sells at their limits, buys at their limits, estimated costs)."""
    orders: list[PlannedOrder] = []
    sell_value = sell_max = fees = costs = ZERO
    for row in sells:
        qty, price = -row.trade, row.price
        value, worst, cost = qty * price.bid, qty * row.limit, qty * (price.ref - price.bid)
        sell_value += value
        sell_max += worst
        fees += row.fees
        costs += cost + row.fees
        orders.append(
            PlannedOrder(
                len(orders) + 1, row.symbol, Side.SELL, qty, row.limit, price.bid, value,
                worst, cost + row.fees, row.fees, qty != qty.to_integral_value(),
            )
        )  # fmt: skip
    buy_value = buy_max = ZERO
    for row in buys:
        qty, price = row.trade, row.price
        value, worst, cost = qty * price.ask, qty * row.limit, qty * (price.ask - price.ref)
        buy_value += value
        buy_max += worst
        costs += cost
        orders.append(
            PlannedOrder(
                len(orders) + 1, row.symbol, Side.BUY, qty, row.limit, price.ask, value,
                worst, cost, ZERO, qty != qty.to_integral_value(),
            )
        )  # fmt: skip
    return tuple(orders), (buy_value, sell_value, fees, sell_max, buy_max, costs)


def position_lines(rows: list[Row], base: Decimal) -> tuple[tuple[PositionLine, ...], Decimal]:
    """Every symbol's before/after picture (untouched ones keep their figures) and the
    total deviation from the goals."""
    lines: list[PositionLine] = []
    deviation = ZERO
    for row in rows:
        trade, rule = row.trade, row.rule
        if trade == ZERO:
            if rule is Rule.TO_TARGET or rule is Rule.OUT_OF_BAND:
                rule = row.rule = Rule.AT_TARGET
            action, post_qty, post_value = "hold", row.qty, row.value
            post_weight = row.current_weight
        else:
            action = "buy" if trade > ZERO else "sell"
            post_qty = row.qty + trade
            post_value = post_qty * row.price.ref
            post_weight = post_value / base if base > ZERO else ZERO
        lines.append(
            PositionLine(
                row.symbol, row.qty, row.price.ref, row.value, row.current_weight,
                row.target_weight, row.current_weight - row.target_weight, row.band, rule,
                action, trade, post_qty, post_value, post_weight, row.note,
            )
        )  # fmt: skip
        if row.goal is not None:
            deviation += abs(post_value - row.goal)
    return tuple(lines), deviation
