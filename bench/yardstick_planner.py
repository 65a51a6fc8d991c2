"""FROZEN YARDSTICK: a verbatim copy of alch's planner before issue 15 (do not edit).

Duplicated on purpose: `make bench` times the current planner against this copy in the
same run (issue 15 asks for the new planner's median at 10,000 holdings as a ratio to it),
so the yardstick must not change when `alchemiser_cli/core/planner.py` does. Used only by
the benchmark; nothing in the package imports it.

The original module docstring follows.

The rebalancing planner: targets + account snapshot -> an explained list of orders.

Pure: no I/O, no clock (``now`` is an argument), ``Decimal`` throughout.

What it guarantees (checked by property tests in ``tests/test_planner_properties.py``):

* Buys never plan to spend more than cash + worst-case sell proceeds - reserve, where every
  price is the order's limit (the collar edge) and sell fees are deducted. So if cash starts
  at or above the reserve, it stays there whatever the fills inside the collar.
* Fractionable assets trade in quantities truncated to 9 decimals; other assets in whole
  shares. Whole shares are allocated to cut the total deviation from target value: each
  position is first rounded down, then single shares are added where the cut in that
  position's deviation beats what the share takes from the fractional buys. When cash
  covers every buy, each whole-share position ends within one share of its target value
  (or its band edge), and the fractional buys together fall short of target by at most one
  share's price per whole-share position that was topped up.
* No order is below ``min_trade_value``; such trades are listed in ``skipped``.
* Planning again on the state the plan produces (filled at the estimated prices) gives no
  orders when there are no costs, and only band/dust-sized ones otherwise.
* Value is conserved: post-trade holdings at reference prices + estimated cash after =
  equity - estimated costs (half the spread on every order, plus sell-side fees).

Weights are fractions of the *investable base*: equity - kept positions - cash reserve.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from alchemiser_cli.core.models import Asset, Quote, Side, Snapshot
from alchemiser_cli.core.money import (
    BPS,
    ONE,
    QTY_STEP,
    ZERO,
    cents_up,
    dollars,
    fmt,
    money,
    price_down,
    price_up,
    qty_down,
    whole_down,
)
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.types import Exact, Money, Weight
from alchemiser_cli.errors import PlanError, PriceError

SCHEMA_VERSION = 1
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


def reference_price(quote: Quote | None, symbol: str) -> Decimal:
    """Mid of a two-sided quote, else the last trade; anything else is an error."""
    if quote is None:
        raise PriceError(f"no quote for {symbol}: cannot value or trade it")
    if quote.bid > ZERO and quote.ask > ZERO:
        if quote.bid > quote.ask:
            raise PriceError(f"crossed quote for {symbol}: bid {quote.bid} > ask {quote.ask}")
        return (quote.bid + quote.ask) / 2
    if quote.last > ZERO:
        return quote.last
    raise PriceError(
        f"no usable price for {symbol} (bid {quote.bid}, ask {quote.ask}, last {quote.last})"
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


@dataclass(slots=True)
class _Buys:
    """Buy candidates and what buying all of them at their limit prices would cost."""

    fractional: list[_Row]
    whole: list[_Row]
    fractional_cost: Decimal = ZERO
    whole_cost: Decimal = ZERO


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
    sells, buys = _decide(rows, targets.weights, base, policy, keep, skipped)
    proceeds = ZERO
    for row in sells:
        proceeds -= row.trade * row.limit + row.fees
    bought = _size_buys(buys, policy, account.cash - reserve + proceeds, skipped)

    orders, totals = _orders(sells, bought)
    lines = _lines(rows, base)
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
    )


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
    weights: dict[str, Decimal],
    base: Decimal,
    policy: PlannerPolicy,
    keep: frozenset[str],
    skipped: list[Skipped],
) -> tuple[list[_Row], _Buys]:
    """Give every row its rule and goal value; size the sells, collect the buys.

    Returns the sells (sized, in symbol order) and the buy candidates with their full cost.
    """
    collar = policy.collar_bps / BPS
    up, down = ONE + collar, ONE - collar
    to_target = policy.rebalance_to == "target"
    sells: list[_Row] = []
    buys = _Buys([], [])
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
            if not policy.sell_unlisted:
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
        gap = goal - value
        if gap < ZERO:
            if _size_sell(row, goal, -gap, down, policy, skipped):
                sells.append(row)
        elif gap > ZERO:
            _add_buy(row, gap, up, buys, skipped)
    return sells, buys


def _size_sell(
    row: _Row,
    goal: Decimal,
    gap: Decimal,
    down: Decimal,
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
    row.limit = price_up(row.price.bid * down)
    row.fees = sell_fees(qty, row.limit, policy)
    return True


def _add_buy(row: _Row, gap: Decimal, up: Decimal, buys: _Buys, skipped: list[Skipped]) -> None:
    """Record a buy of ``gap`` in value (sized later, once the cash is known)."""
    ref = row.price.ref
    if not row.asset.fractionable and gap + gap <= ref:
        row.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
        return
    if _blocked_by_asset(row, skipped):
        return
    row.want = gap / ref
    row.limit = price_down(row.price.ask * up)
    if row.asset.fractionable:
        buys.fractional.append(row)
        buys.fractional_cost += row.want * row.limit
    else:
        buys.whole.append(row)
        buys.whole_cost += row.want * row.limit


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


def _size_buys(
    buys: _Buys, policy: PlannerPolicy, budget: Decimal, skipped: list[Skipped]
) -> list[_Row]:
    """Size buys within ``budget`` (valued at limit prices), minimising total deviation.

    Everything is first scaled to fit the budget (whole-share buys rounded down). Then
    single whole shares are added, largest deviation cut first, while the cut beats what
    the share takes from the fractional buys; the fractional buys get the rest.
    Returns the buys to send, in symbol order.
    """
    frac_full = buys.fractional_cost
    total = frac_full + buys.whole_cost
    if total == ZERO:
        return []
    scale = ONE if total <= budget else max(ZERO, budget / total)
    whole_spend = ZERO
    for row in buys.whole:
        row.trade = whole_down(row.want * scale)
        whole_spend += row.trade * row.limit
    frac_spend = frac_full * scale
    slack = max(ZERO, budget - frac_spend - whole_spend)
    frac_spend, slack = _add_whole_shares(buys.whole, frac_spend, slack)
    frac_spend = min(frac_full, frac_spend + slack)
    frac_scale = frac_spend / frac_full if frac_full > ZERO else ZERO
    for row in buys.fractional:
        row.trade = qty_down(row.want * frac_scale)

    sized: list[_Row] = []
    minimum = policy.min_trade_value
    for row in sorted(buys.fractional + buys.whole, key=lambda r: r.symbol):
        if row.trade <= ZERO:
            row.rule = Rule.NO_CASH
            skipped.append(Skipped(row.symbol, Rule.NO_CASH, "no cash left for this buy"))
        elif row.trade * row.price.ask < minimum:
            _dust(row, row.trade * row.price.ask, policy, skipped)
            row.trade = ZERO
        else:
            sized.append(row)
    return sized


def _share_gain(row: _Row) -> Decimal:
    """How much one more share cuts this position's deviation from target (in value)."""
    return row.price.ref * min(ONE, 2 * (row.want - row.trade) - ONE)


def _add_whole_shares(
    whole: list[_Row], frac_spend: Decimal, slack: Decimal
) -> tuple[Decimal, Decimal]:
    """Greedy single-share top-up; returns the fractional spend and slack left."""
    heap = [(-_share_gain(r), r.symbol, i) for i, r in enumerate(whole) if r.want - r.trade > HALF]
    heapq.heapify(heap)
    while heap:
        neg_gain, _, index = heapq.heappop(heap)
        row = whole[index]
        from_fractional = max(ZERO, row.limit - slack)
        # Slack and fractional spend only shrink, so a share rejected now never fits later.
        if from_fractional > frac_spend or -neg_gain <= from_fractional:
            continue
        row.trade += ONE
        slack -= row.limit - from_fractional
        frac_spend -= from_fractional
        if row.want - row.trade > HALF:
            heapq.heappush(heap, (-_share_gain(row), row.symbol, index))
    return frac_spend, slack


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


def _lines(rows: list[_Row], base: Decimal) -> tuple[PositionLine, ...]:
    """Every symbol's before/after picture; untouched ones keep their figures."""
    lines: list[PositionLine] = []
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
                action, trade, post_qty, post_value, post_weight,
            )
        )  # fmt: skip
    return tuple(lines)


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
