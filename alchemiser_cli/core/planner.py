"""The rebalancing planner: targets + account snapshot -> an explained list of orders.

Pure: no I/O, no clock (``now`` is an argument), ``Decimal`` throughout.

What it guarantees (checked by property tests in ``tests/test_planner_properties.py``):

* Buys never plan to spend more than cash + worst-case sell proceeds - reserve, where every
  price is the order's limit (the collar edge) and sell fees are deducted. So if cash starts
  at or above the reserve, it stays there whatever the fills inside the collar.
* Fractionable assets trade in quantities truncated to 9 decimals; other assets in whole
  shares; limit prices sit on the venue's grid and stay marketable (``core/ticks.py``).
  Every position that may trade is decided together (``core/decision.py``): the plan
  minimises the total deviation, the sum of |post-trade value - goal| at reference prices,
  over every plan the rules allow (any buy toward a goal, any sell, whole-share counts,
  the minimum trade, the cash rule). ``summary.deviation_bound`` is a proven lower bound
  over all of them and ``summary.search`` says whether the plan is proven optimal
  (checked against an exhaustive search in ``tests/test_planner_optimal.py``). When cash
  covers every position's own best, each whole-share position ends at its nearest whole
  number of shares and each fractional one at its goal.
* No order is below ``min_trade_value``; such trades are listed in ``skipped``.
* Planning again on the state the plan produces (filled at the estimated prices) gives no
  orders when there are no costs, and only band/dust-sized ones otherwise.
* Value is conserved: post-trade holdings at reference prices + estimated cash after =
  equity - estimated costs (half the spread on every order, plus sell-side fees).

Weights are fractions of the *investable base*: equity - kept positions - cash reserve.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from alchemiser_cli.core.decision import Item, Outcome, deviation, improve, make_item, own_best
from alchemiser_cli.core.models import Asset, Quote, Side, Snapshot
from alchemiser_cli.core.money import (
    BPS,
    CENT,
    ONE,
    QTY_STEP,
    ZERO,
    cents_up,
    dollars,
    fmt,
    money,
    qty_down,
)
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.tax.records import PlanTax
from alchemiser_cli.core.ticks import buy_limit, sell_limit
from alchemiser_cli.core.types import Exact, Money, Weight
from alchemiser_cli.errors import PlanError, PriceError, QuoteError

SCHEMA_VERSION = 2  # 2: `tax` (issue 27)
HALF = Decimal("0.5")


class Rule(StrEnum):
    """Why a position trades or holds; shown per position in every plan."""

    TO_TARGET = "to_target"
    OUT_OF_BAND = "out_of_band"
    IN_BAND = "in_band"
    NOT_IN_TARGETS = "not_in_targets"
    UNLISTED_HELD = "unlisted_held"
    KEPT = "kept"
    DUST = "dust"
    WITHIN_ONE_SHARE = "within_one_share"
    NOT_TRADABLE = "not_tradable"
    NO_CASH = "no_cash"
    AT_TARGET = "at_target"
    WHOLE_SHARE_TRADEOFF = "whole_share_tradeoff"
    REINVEST = "reinvest"  # in band, under target: bought with the cash the band left idle


@dataclass(slots=True)
class PlannedOrder:
    """One order of the plan: a limit order for ``qty`` at ``limit_price``.

    Per-symbol records are built by the ten thousand, so they are slotted but not frozen
    (a frozen dataclass is several times slower to build); nothing mutates them.
    """

    leg: int
    symbol: str
    side: Side
    qty: Exact
    limit_price: Exact
    est_price: Exact
    est_value: Money
    max_value: Money
    est_cost: Money
    fees: Money
    fractional: bool
    notional: Money | None = None


@dataclass(slots=True)
class PositionLine:
    """One symbol's before/after picture and the rule that decided it."""

    symbol: str
    qty: Exact
    price: Exact
    value: Money
    current_weight: Weight
    target_weight: Weight
    drift: Weight
    band: Weight | None
    rule: Rule
    action: str
    trade_qty: Exact
    post_qty: Exact
    post_value: Money
    post_weight: Weight
    note: str = ""  # whole_share_tradeoff: what the decision took from whom


@dataclass(slots=True)
class Skipped:
    """A trade the planner chose not to make, and why."""

    symbol: str
    rule: Rule
    reason: str


@dataclass(slots=True)
class PriceRef:
    """The prices a plan was computed from (kept so a saved plan can be judged stale)."""

    bid: Exact
    ask: Exact
    ref: Exact
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Account figures at planning time."""

    equity: Money
    cash: Money
    buying_power: Money


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Totals of the plan (turnover = (buys + sells) / equity)."""

    order_count: int
    buy_value: Money
    sell_value: Money
    turnover: Weight
    est_costs: Money
    est_cash_after: Money
    min_cash_after: Money
    investable: Money
    reserve: Money
    kept_value: Money
    # Sum over positions with a goal of |post-trade value - goal| at the reference price,
    # and a proven lower bound on the least this can be under the planner's rules.
    deviation: Money = ZERO
    deviation_bound: Money = ZERO
    # How the search for the least deviation ended (core/decision.py): "optimal" (no plan
    # within the rules is better by more than half a cent plus what rounding the sell
    # fees to the cent costs), "node_limit" or "time_limit" (HiGHS stopped), "too_large"
    # (over 200 positions to decide: not searched), "not_proven" (HiGHS's answer did not
    # fit on the share grid with every fee rounded). The bound holds in every case.
    search: str = "optimal"


@dataclass(frozen=True, slots=True)
class Plan:
    """A dry-run rebalance: what would be sent, computed from one snapshot."""

    plan_id: str
    created_at: datetime
    broker: str
    account_id: str
    account: AccountSummary
    targets: dict[str, Exact]
    targets_source: str
    policy: PlannerPolicy
    prices: dict[str, PriceRef]
    orders: tuple[PlannedOrder, ...]
    positions: tuple[PositionLine, ...]
    skipped: tuple[Skipped, ...]
    summary: PlanSummary
    schema_version: int = SCHEMA_VERSION
    # No target holds any weight: the plan sells every position (`--liquidate` only).
    liquidate: bool = False
    # Targets made by strategies: their decision trace (informational; the plan id covers
    # the targets it produced, not the trace).
    signal: SignalRecord | None = None
    # Symbols priced by the simulator's synthetic closes (no quote, no bars): not a market.
    synthetic_prices: tuple[str, ...] = ()
    # Realised gains per sell, wash sales and positions held back to avoid them (core/tax;
    # informational, outside the plan id); None for an IRA (`[tax] account = "ira"`).
    tax: PlanTax | None = None


def reference_price(quote: Quote | None, symbol: str) -> Decimal:
    """Mid of a two-sided quote, else the last trade; anything else is an error."""
    if quote is None:
        raise PriceError(f"no quote for {symbol}: cannot value or trade it")
    if quote.bid > ZERO and quote.ask > ZERO:
        if quote.bid > quote.ask:
            raise QuoteError(
                f"crossed quote for {symbol} from the broker: bid {quote.bid} > ask "
                f"{quote.ask}; try again in a moment"
            )
        return (quote.bid + quote.ask) / 2
    if quote.last > ZERO:
        return quote.last
    raise QuoteError(
        f"no usable price for {symbol} from the broker (bid {quote.bid}, ask {quote.ask}, "
        f"last {quote.last}); try again in a moment"
    )


def band_threshold(target_weight: Decimal, policy: PlannerPolicy) -> Decimal | None:
    """Allowed drift for a target weight: the narrower of the absolute and relative bands."""
    widths = []
    if policy.band_abs is not None:
        widths.append(policy.band_abs)
    if policy.band_rel is not None:
        widths.append(policy.band_rel * target_weight)
    return min(widths) if widths else None


def investable_base(
    equity: Decimal, kept_value: Decimal, policy: PlannerPolicy
) -> tuple[Decimal, Decimal]:
    """(cash reserve, investable base): target weights are fractions of the base, which is
    equity less kept positions and the reserve (the larger of its absolute and % forms)."""
    reserve = max(policy.cash_reserve, policy.cash_reserve_pct * max(equity, ZERO))
    return reserve, max(ZERO, equity - kept_value - reserve)


@dataclass(frozen=True, slots=True)
class Holding:
    """One symbol valued against its target: weights are of the investable base."""

    symbol: str
    qty: Decimal
    price: Decimal | None
    value: Decimal
    weight: Decimal
    target_weight: Decimal | None  # None: no targets, or a kept position
    drift: Decimal | None
    band: Decimal | None  # the allowed drift of a listed target, where bands are configured
    in_band: bool | None


@dataclass(frozen=True, slots=True)
class Valuation:
    """An account valued the way the planner values it (`alch status`)."""

    equity: Decimal
    base: Decimal
    holdings: tuple[Holding, ...]


def value_account(
    qtys: Mapping[str, Decimal],
    prices: Mapping[str, Decimal | None],
    cash: Decimal,
    weights: Mapping[str, Decimal] | None,
    policy: PlannerPolicy,
) -> Valuation:
    """Weights, drift and band of every holding and every unheld target (`prices` has
    each symbol shown; an unpriced one is valued at zero), against the plan's base."""
    values = {s: q * (prices.get(s) or ZERO) for s, q in qtys.items()}
    equity = cash + sum(values.values(), ZERO)
    kept_value = sum((v for s, v in values.items() if s in policy.keep), ZERO)
    _, base = investable_base(equity, kept_value, policy)  # the plan's denominator
    holdings = []
    for symbol in sorted(set(qtys) | set(prices)):
        value = values.get(symbol, ZERO)
        weight = value / base if base > ZERO else ZERO
        target = None
        if weights is not None and symbol not in policy.keep:
            target = weights.get(symbol, ZERO)
        band = None
        if target is not None and weights is not None and symbol in weights and policy.bands_on:
            band = band_threshold(target, policy)  # as the planner: only a listed target
        drift = None if target is None else weight - target
        holdings.append(
            Holding(
                symbol=symbol,
                qty=qtys.get(symbol, ZERO),
                price=prices.get(symbol),
                value=value,
                weight=weight,
                target_weight=target,
                drift=drift,
                band=band,
                in_band=None if band is None or drift is None else abs(drift) <= band,
            )
        )
    return Valuation(equity=equity, base=base, holdings=tuple(holdings))


def sell_fees(qty: Decimal, price: Decimal, policy: PlannerPolicy) -> Decimal:
    """SEC and FINRA fees on a sale, rounded up to the cent each."""
    sec = cents_up(qty * price * policy.sec_fee_rate)
    taf = min(cents_up(qty * policy.finra_taf_per_share), policy.finra_taf_max)
    return sec + taf


@dataclass(slots=True)
class _Row:
    """One symbol while planning: its price, the rule that decided it and its trade."""

    symbol: str
    asset: Asset
    qty: Decimal
    price: PriceRef
    value: Decimal
    target_weight: Decimal = ZERO
    current_weight: Decimal = ZERO
    band: Decimal | None = None
    rule: Rule = Rule.TO_TARGET
    limit: Decimal = ZERO  # the order's limit price: the collar edge, on a valid tick
    fees: Decimal = ZERO  # sells: SEC + FINRA fees at the limit price
    trade: Decimal = ZERO  # signed quantity: + buy, - sell
    want: Decimal = ZERO  # buys: the real-valued quantity that would reach the goal
    goal: Decimal | None = None  # the value aimed at; None: not aimed (kept, in band, ...)
    note: str = ""


def build_plan(snapshot: Snapshot, targets: Targets, policy: PlannerPolicy, now: datetime) -> Plan:
    """Compute the rebalance plan for ``snapshot`` toward ``targets`` under ``policy``.

    Each phase is one pass over the symbols (10,000 holdings must plan in milliseconds):
    value every symbol, decide each one's goal and size its sell, size the buys from the
    cash the sells free, then write orders, position lines and totals.
    """
    account = snapshot.account
    rows, prices = _value(snapshot, targets)
    equity = account.cash
    kept_value = ZERO
    keep = frozenset(policy.keep)
    for row in rows:
        equity += row.value
        if row.symbol in keep:
            kept_value += row.value
    reserve, base = investable_base(equity, kept_value, policy)

    skipped: list[Skipped] = []
    _decide(rows, targets, base, policy, keep, skipped)
    sells, bought, decided, bound, search = _exactly(
        rows, policy, (account.cash - reserve, base), skipped
    )

    orders, totals = _orders(sells, bought)
    lines, deviation = _lines(rows, base)
    # The bound: the terms the rules hold fixed plus the decision's proven bound.
    bound += deviation - decided
    buy_value, sell_value, fees, worst_proceeds, worst_spend, costs = totals
    summary = PlanSummary(
        order_count=len(orders),
        buy_value=buy_value,
        sell_value=sell_value,
        turnover=(buy_value + sell_value) / equity if equity > ZERO else ZERO,
        est_costs=costs,
        est_cash_after=account.cash + sell_value - fees - buy_value,
        min_cash_after=account.cash + worst_proceeds - fees - worst_spend,
        investable=base,
        reserve=reserve,
        kept_value=kept_value,
        deviation=deviation,
        deviation_bound=min(deviation, bound).quantize(CENT, ROUND_FLOOR),
        search=search,
    )
    return Plan(
        plan_id=_plan_id(snapshot, targets, policy, prices),
        created_at=now,
        broker=snapshot.broker,
        account_id=account.account_id,
        account=AccountSummary(
            equity=money(equity), cash=money(account.cash), buying_power=account.buying_power
        ),
        targets=dict(targets.weights),
        targets_source=targets.source,
        policy=policy,
        prices=prices,
        orders=orders,
        positions=lines,
        skipped=tuple(sorted(skipped, key=lambda s: s.symbol)),
        summary=summary,
        liquidate=liquidating(targets),
    )


def liquidating(targets: Targets) -> bool:
    """No target holds any weight and no strategy decided that: `--liquidate` (strategies
    that hold cash are followed, not a liquidation)."""
    return targets.signal is None and not any(w > ZERO for w in targets.weights.values())


def _value(snapshot: Snapshot, targets: Targets) -> tuple[list[_Row], dict[str, PriceRef]]:
    """One row per held or targeted symbol, in symbol order, valued at its reference price."""
    held: dict[str, Decimal] = {}
    for symbol, position in snapshot.positions.items():
        if position.qty < ZERO:
            raise PlanError(f"{symbol}: short positions are not supported; close it first")
        if position.qty != ZERO:
            held[symbol] = position.qty
    symbols = list(held)
    symbols.extend(s for s in targets.weights if s not in held)
    symbols.sort()  # near-linear when the broker lists positions in symbol order
    quotes, assets = snapshot.quotes, snapshot.assets
    rows: list[_Row] = []
    prices: dict[str, PriceRef] = {}
    for symbol in symbols:
        quote = quotes.get(symbol)
        if quote is not None and quote.bid > ZERO and quote.ask >= quote.bid:
            # A two-sided quote, the common case, kept inline.
            price = PriceRef(quote.bid, quote.ask, (quote.bid + quote.ask) * HALF, quote.as_of)
        else:
            ref = reference_price(quote, symbol)  # raises for a missing, zero or crossed price
            assert quote is not None
            bid = quote.bid if quote.bid > ZERO else ref
            price = PriceRef(bid, quote.ask if quote.ask > ZERO else ref, ref, quote.as_of)
        asset = assets.get(symbol)
        if asset is None:
            raise PlanError(f"{symbol}: the broker has no asset record for it (check the symbol)")
        qty = held.get(symbol, ZERO)
        prices[symbol] = price
        rows.append(_Row(symbol, asset, qty, price, qty * price.ref))
    return rows, prices


def _decide(
    rows: list[_Row],
    targets: Targets,
    base: Decimal,
    policy: PlannerPolicy,
    keep: frozenset[str],
    skipped: list[Skipped],
) -> None:
    """Give every row its rule and goal value and size its trade toward the goal as if
    cash were no object: sells (and positions no target lists) to their nearest share,
    buys noted for ``_exactly``, which sizes them."""
    collar = policy.collar_bps / BPS
    to_target = policy.rebalance_to == "target"
    weights = targets.weights
    # --liquidate sells every position, listed or not; a symbol strategies can hold is
    # theirs to sell (a switch, or cash), whatever sell_unlisted says.
    keeps_unlisted = not policy.sell_unlisted and not liquidating(targets)
    decided = frozenset(targets.signal.symbols if targets.signal is not None else ())
    for row in rows:
        value = row.value
        current = row.current_weight = value / base if base > ZERO else ZERO
        target = weights.get(row.symbol)
        band = None
        if target is not None:
            row.target_weight = target
            if policy.bands_on:
                band = row.band = band_threshold(target, policy)
        if row.symbol in keep:
            row.rule = Rule.KEPT
            continue
        if target is None:
            if keeps_unlisted and row.symbol not in decided:
                row.rule = Rule.UNLISTED_HELD
                continue
            row.rule = Rule.NOT_IN_TARGETS
            goal = ZERO
        else:
            goal = target * base
            if band is not None:
                drift = current - target
                if abs(drift) <= band:
                    row.rule = Rule.IN_BAND
                    continue
                row.rule = Rule.OUT_OF_BAND
                if not to_target:
                    goal = (target + (band if drift > ZERO else -band)) * base
        row.goal = goal
        gap = goal - value
        if gap < ZERO:
            _size_sell(row, goal, -gap, collar, policy, skipped)
        elif gap > ZERO:
            _add_buy(row, gap, policy, skipped)


def _size_sell(
    row: _Row,
    goal: Decimal,
    gap: Decimal,
    collar: Decimal,
    policy: PlannerPolicy,
    skipped: list[Skipped],
) -> bool:
    """Size a sell of ``gap`` in value; False (and the reason recorded) when there is none."""
    if goal == ZERO:
        qty = row.qty  # liquidation sells everything held, fractional remainder included
    elif row.asset.fractionable:
        qty = min(row.qty, (gap / row.price.ref).quantize(QTY_STEP, ROUND_CEILING))
    else:
        qty = min(row.qty, (gap / row.price.ref).quantize(ONE, ROUND_HALF_EVEN))
        if qty == ZERO:
            row.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
            return False
    if _blocked_by_asset(row, skipped):
        return False
    if qty * row.price.bid < policy.min_trade_value:
        _dust(row, qty * row.price.bid, policy, skipped)
        return False
    row.trade = -qty
    row.limit = sell_limit(row.price.bid, collar)
    row.fees = sell_fees(qty, row.limit, policy)
    return True


def _add_buy(row: _Row, gap: Decimal, policy: PlannerPolicy, skipped: list[Skipped]) -> None:
    """Note a buy of ``gap`` in value (``_exactly`` sizes it, once the cash is known)."""
    price = row.price
    if not row.asset.fractionable and gap + gap <= price.ref:
        row.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
        return
    if _blocked_by_asset(row, skipped):
        return
    value = gap / price.ref * price.ask
    if row.asset.fractionable and value < policy.min_trade_value:
        _dust(row, value, policy, skipped)  # even in full: below the minimum


def _blocked_by_asset(row: _Row, skipped: list[Skipped]) -> bool:
    asset = row.asset
    if asset.tradable and asset.status.lower() == "active":
        return False
    skipped.append(
        Skipped(
            row.symbol,
            Rule.NOT_TRADABLE,
            f"{row.symbol} is not tradable at the broker (status {asset.status}); left as is",
        )
    )
    row.rule = Rule.NOT_TRADABLE
    return True


def _dust(row: _Row, value: Decimal, policy: PlannerPolicy, skipped: list[Skipped]) -> None:
    row.rule = Rule.DUST
    skipped.append(
        Skipped(
            row.symbol,
            Rule.DUST,
            f"trade of {dollars(value)} is below the minimum {dollars(policy.min_trade_value)}",
        )
    )


def _exactly(
    rows: list[_Row],
    policy: PlannerPolicy,
    money: tuple[Decimal, Decimal],
    skipped: list[Skipped],
) -> tuple[list[_Row], list[_Row], Decimal, Decimal, str]:
    """Size every trade toward a goal together (``core/decision.py``): each position at
    its own best when the cash covers that, else the least total deviation the budget
    allows (proven, or found by HiGHS). Returns the sells and buys, the decision's
    deviation and proven bound, and how the search ended."""
    collar, keep_rate = policy.collar_bps / BPS, ONE - policy.sec_fee_rate
    sec, taf = policy.sec_fee_rate, policy.finra_taf_per_share
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
        sell = sell_limit(price.bid, collar)
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

    known: dict[tuple[int, Decimal], tuple[Decimal, Decimal]] = {}  # (item, sell) -> fees

    def check(trades: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
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
        return over, slack

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


def _reinvest(rows: list[_Row], spare: Decimal, base: Decimal, policy: PlannerPolicy) -> None:
    """Spend ``spare`` (cash the plan leaves above its floor, at worst prices) on the listed
    positions inside their band and under target, each in proportion to its shortfall and
    never past its target (``--reinvest``)."""
    collar, minimum = policy.collar_bps / BPS, policy.min_trade_value
    under: list[tuple[_Row, Decimal, Decimal]] = []  # row, shares to target, its limit
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
    decide: list[_Row],
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


_Totals = tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


def _orders(sells: list[_Row], buys: list[_Row]) -> tuple[tuple[PlannedOrder, ...], _Totals]:
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


def _lines(rows: list[_Row], base: Decimal) -> tuple[tuple[PositionLine, ...], Decimal]:
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


def _plan_id(
    snapshot: Snapshot, targets: Targets, policy: PlannerPolicy, prices: dict[str, PriceRef]
) -> str:
    """A hash of every input: the same state, prices, targets and policy give the same id."""
    digest = hashlib.sha256()
    head = [snapshot.broker, snapshot.account.account_id, fmt(snapshot.account.cash)]
    digest.update("|".join(head).encode())
    digest.update(json.dumps(policy.model_dump(mode="json"), sort_keys=True).encode())
    # str(Decimal) is exact and canonical for a given value's representation; streaming
    # the parts (and str() rather than format()) keeps 10,000 holdings cheap.
    positions = snapshot.positions
    digest.update("\n".join(f"P{s}={positions[s].qty!s}" for s in sorted(positions)).encode())
    digest.update("\n".join(f"Q{s}={p.bid!s}/{p.ask!s}" for s, p in prices.items()).encode())
    digest.update("\n".join(f"T{s}={w!s}" for s, w in targets.weights.items()).encode())
    return digest.hexdigest()[:16]
