"""The planner's sizing of every trade toward a goal together (``core/decision.py``), the
rules and notes it sets on each row, and ``--reinvest``.

Pure: no I/O, no clock, ``Decimal`` throughout.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from alchemiser_cli.core.decision import (
    Check,
    Item,
    Outcome,
    deviation,
    improve,
    make_item,
    own_best,
)
from alchemiser_cli.core.money import BPS, ONE, ZERO, dollars, fmt, qty_down
from alchemiser_cli.core.plan import Rule, Skipped
from alchemiser_cli.core.planner_value import Row, sell_fees
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.ticks import buy_limit, sell_limit


def exactly(
    rows: list[Row],
    policy: PlannerPolicy,
    money: tuple[Decimal, Decimal],
    skipped: list[Skipped],
) -> tuple[list[Row], list[Row], Decimal, Decimal, str]:
    """Size every trade toward a goal together (``core/decision.py``): each position at
    its own best when the cash covers that, else the least total deviation the budget
    allows (proven, or found by HiGHS). Returns the sells and buys, the decision's
    deviation and proven bound, and how the search ended."""
    collar, keep_rate = policy.collar_bps / BPS, ONE - policy.sec_fee_rate
    taf = policy.finra_taf_per_share
    cash_left, base = money  # cash above the reserve; the investable base
    decide, items, limits, best = [], [], [], []
    fixed = freed = ZERO  # cash the sells held by the rules free; the nearest sells'
    for row in rows:
        goal, price, asset = row.goal, row.price, row.asset
        if goal is None or goal <= ZERO or row.rule is Rule.NOT_TRADABLE:
            if row.trade < ZERO:
                fixed += -row.trade * row.limit - row.fees
            continue
        if not asset.tradable or asset.status.lower() != "active":
            continue  # left as is: the deviation counts, nothing can change it
        # A sell to its goal has its limit already (the same collar edge).
        sell = row.limit if row.trade < ZERO else sell_limit(price.bid, collar)
        net = sell * keep_rate - taf
        prices = (price.ask, buy_limit(price.ask, collar), price.bid, net)
        item = make_item(
            row.qty, price.ref, goal, whole=not asset.fractionable, prices=prices,
            minimum=policy.min_trade_value,
        )  # fmt: skip
        decide.append(row)
        items.append(item)
        limits.append(sell)
        best.append(own_best(item))
        if row.trade < ZERO:
            freed -= row.trade * net
    # Cash may fall to the reserve; from below it, no lower than the sells to the goals
    # (nothing bought) leave it.
    budget = max(cash_left + fixed, -freed)

    check = _checker(items, limits, budget, policy)
    if check(best)[0] <= ZERO:  # the cash covers every position's own best
        trades = best
        least = deviation(items, best)
        outcome = Outcome(best, least, "optimal", least)
    else:
        trades = [min(row.trade, ZERO) for row in decide]  # the sells alone: always fit
        outcome = improve(items, trades, budget, check, best)
    if outcome.trades is not None:
        trades = outcome.trades
    _adopt(decide, trades, best, (items, limits), policy, skipped)
    if policy.reinvest and policy.bands_on:
        _reinvest(rows, -check(trades)[0], base, policy)
    sells = [row for row in rows if row.trade < ZERO]
    buys = [row for row in rows if row.trade > ZERO]
    decided = deviation(items, trades) if outcome.deviation is None else outcome.deviation
    return sells, buys, decided, outcome.bound, outcome.status


def _checker(
    items: list[Item], limits: list[Decimal], budget: Decimal, policy: PlannerPolicy
) -> Check:
    """``check(trades)``: how far the trades overspend ``budget`` with every sell's fees
    rounded to the cent (0 or less: they fit), and what that rounding costs over the fees'
    proportional rate (``core/decision.py``)."""
    sec, taf = policy.sec_fee_rate, policy.finra_taf_per_share
    known: dict[tuple[int, Decimal], tuple[Decimal, Decimal]] = {}  # (item, sell) -> fees
    last: list[tuple[list[Decimal], tuple[Decimal, Decimal]]] = []  # the trades checked last

    def check(trades: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
        # The same trades come back to be checked (found, then weighed, then trimmed).
        if last and last[0][0] == trades:
            return last[0][1]
        over, slack = -budget, ZERO
        for i, trade in enumerate(trades):
            if trade > ZERO:
                over += trade * items[i].buy_limit
            elif trade < ZERO:
                cost = known.get((i, trade))
                if cost is None:  # the same sells come back from one pass to the next
                    limit = limits[i]
                    fees = sell_fees(-trade, limit, policy)
                    cost = known[i, trade] = (
                        trade * limit + fees,
                        fees + trade * (limit * sec + taf),
                    )
                over += cost[0]
                slack += cost[1]
        last[:] = [(list(trades), (over, slack))]
        return over, slack

    return check


def _reinvest(rows: list[Row], spare: Decimal, base: Decimal, policy: PlannerPolicy) -> None:
    """Spend ``spare`` (cash the plan leaves above its floor, at worst prices) on the listed
    positions inside their band and under target, each in proportion to its shortfall and
    never past its target (``--reinvest``)."""
    collar, minimum = policy.collar_bps / BPS, policy.min_trade_value
    under: list[tuple[Row, Decimal, Decimal]] = []  # row, shares to target, its limit
    cost = ZERO
    for row in rows:
        asset = row.asset
        if row.rule is not Rule.IN_BAND or not asset.tradable or asset.status.lower() != "active":
            continue
        short = row.target_weight * base - row.value
        if short > ZERO:
            limit = buy_limit(row.price.ask, collar)
            shares = short / row.price.ref
            under.append((row, shares, limit))
            cost += shares * limit
    if spare <= ZERO or cost <= ZERO:
        return
    share = min(ONE, spare / cost)
    for row, shares, limit in under:
        qty = shares * share
        qty = qty_down(qty) if row.asset.fractionable else qty.to_integral_value(ROUND_FLOOR)
        if qty > ZERO and qty * row.price.ask >= minimum:
            row.trade, row.limit, row.rule = qty, limit, Rule.REINVEST
            row.note = "buys with the cash the band leaves idle (--reinvest)"


def _adopt(
    decide: list[Row],
    trades: Sequence[Decimal],
    nearest: list[Decimal],
    prices: tuple[list[Item], list[Decimal]],
    policy: PlannerPolicy,
    skipped: list[Skipped],
) -> None:
    """Set the decided trades on the rows (``prices``: each row's item and sell limit),
    each with its rule and, where it gave up its own best for others, what it gave up for
    whom."""
    funded = [row.symbol for row, trade in zip(decide, trades, strict=True) if trade > ZERO]
    drop: set[str] = set()
    for row, trade, near, item, sell in zip(decide, trades, nearest, *prices, strict=True):
        if trade == row.trade and trade <= ZERO and trade == near:
            continue  # a sell to its goal (or none) as sized: rule, limit and fees stand
        row.trade, row.fees, row.note = trade, ZERO, ""
        if trade > ZERO:
            row.limit = item.buy_limit
        elif trade < ZERO:
            row.limit = sell
            row.fees = sell_fees(-trade, sell, policy)
        if trade != ZERO or trade != near:
            drop.add(row.symbol)  # a reason it would not trade no longer holds
            row.rule = Rule.OUT_OF_BAND if row.band is not None else Rule.TO_TARGET
        if trade == near:
            continue
        names = _names(funded, row.symbol if trade > ZERO else "")
        if trade < ZERO and trade < near:
            more = fmt(min(near, ZERO) - trade)
            where = "more than its goal" if near < ZERO else "though not over its goal"
            row.rule, row.note = Rule.WHOLE_SHARE_TRADEOFF, f"sells {more} {where} to fund {names}"
        elif trade < near and not row.asset.fractionable and len(funded) > (trade > ZERO):
            fewer = near - trade
            row.rule = Rule.WHOLE_SHARE_TRADEOFF
            row.note = (
                f"{fmt(fewer)} share{'s' if fewer > 1 else ''} fewer than the nearest whole "
                f"number ({fmt(near)}): the {dollars(fewer * item.buy_limit)} funds {names}"
            )
        elif trade == ZERO and near > ZERO:
            row.rule = Rule.NO_CASH
    if drop:
        skipped[:] = [s for s in skipped if s.symbol not in drop]
    for row, trade in zip(decide, trades, strict=True):
        if trade == ZERO and row.symbol in drop:
            if row.rule is Rule.NO_CASH:
                skipped.append(Skipped(row.symbol, Rule.NO_CASH, "no cash left for this buy"))
            elif row.rule is Rule.WHOLE_SHARE_TRADEOFF:
                skipped.append(Skipped(row.symbol, Rule.WHOLE_SHARE_TRADEOFF, row.note))


def _names(symbols: list[str], but: str = "") -> str:
    """Up to three of ``symbols`` other than ``but`` (which, when given, is one of them),
    and how many more."""
    shown = [s for s in symbols[:4] if s != but][:3]
    more = len(symbols) - (1 if but else 0) - len(shown)
    text = ", ".join(shown) if shown else "no other buy"
    return f"{text} and {more} more" if more > 0 else text
