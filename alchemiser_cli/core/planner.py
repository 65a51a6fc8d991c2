"""The rebalancing planner: targets + account snapshot -> an explained list of orders.

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
class _Work:
    """Mutable per-symbol state while planning."""

    symbol: str
    asset: Asset
    qty: Decimal
    ref: Decimal
    bid: Decimal
    ask: Decimal
    value: Decimal
    target_weight: Decimal
    rule: Rule
    band: Decimal | None
    desired: Decimal
    current_weight: Decimal = ZERO
    buy_limit: Decimal = ZERO
    sell_limit: Decimal = ZERO
    fees: Decimal = ZERO  # sells: SEC + FINRA fees at the limit price
    trade: Decimal = ZERO  # signed quantity: + buy, - sell
    want: Decimal = ZERO  # buys: the real-valued quantity that would reach `desired`


def build_plan(snapshot: Snapshot, targets: Targets, policy: PlannerPolicy, now: datetime) -> Plan:
    """Compute the rebalance plan for ``snapshot`` toward ``targets`` under ``policy``."""
    account = snapshot.account
    held = {s: p for s, p in snapshot.positions.items() if p.qty != ZERO}
    for symbol, position in held.items():
        if position.qty < ZERO:
            raise PlanError(f"{symbol}: short positions are not supported; close it first")
    symbols = sorted(set(held) | set(targets.weights))
    quotes = snapshot.quotes
    prices: dict[str, PriceRef] = {}
    for symbol in symbols:
        quote = quotes.get(symbol)
        if quote is not None and quote.bid > ZERO and quote.ask >= quote.bid:
            # The common case, kept inline: 10,000 holdings must plan in milliseconds.
            prices[symbol] = PriceRef(
                quote.bid, quote.ask, (quote.bid + quote.ask) / 2, quote.as_of
            )
            continue
        ref = reference_price(quote, symbol)  # raises for a missing, zero or crossed price
        assert quote is not None
        bid = quote.bid if quote.bid > ZERO else ref
        ask = quote.ask if quote.ask > ZERO else ref
        prices[symbol] = PriceRef(bid, ask, ref, quote.as_of)

    equity = account.cash + sum((p.qty * prices[s].ref for s, p in held.items()), ZERO)
    kept = {s for s in held if s in policy.keep}
    kept_value = sum((held[s].qty * prices[s].ref for s in kept), ZERO)
    reserve, base = investable_base(equity, kept_value, policy)

    work: list[_Work] = []
    skipped: list[Skipped] = []
    collar = policy.collar_bps / BPS
    limits = (ONE + collar, ONE - collar)
    keep = frozenset(policy.keep)
    for symbol in symbols:
        asset = snapshot.assets.get(symbol)
        if asset is None:
            raise PlanError(f"{symbol}: the broker has no asset record for it (check the symbol)")
        qty = held[symbol].qty if symbol in held else ZERO
        target = targets.weights.get(symbol)
        w = _decide(symbol, qty, asset, prices[symbol], target, base, policy, limits, keep)
        work.append(w)

    sells = _size_sells(work, policy, skipped)
    budget = account.cash - reserve + sum((-w.trade * w.sell_limit - w.fees for w in sells), ZERO)
    buys = _size_buys(work, policy, budget, skipped)

    orders = _orders(sells, buys, policy)
    lines = tuple(_line(w, base) for w in work)
    summary = _summary(orders, account.cash, equity, base, reserve, kept_value, prices, policy)
    plan_id = _plan_id(snapshot, targets, policy, prices)
    return Plan(
        plan_id=plan_id,
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


def _decide(
    symbol: str,
    qty: Decimal,
    asset: Asset,
    price: PriceRef,
    target_weight: Decimal | None,
    base: Decimal,
    policy: PlannerPolicy,
    limits: tuple[Decimal, Decimal],
    keep: frozenset[str],
) -> _Work:
    """Pick the rule and the desired value for one symbol (None: not in the targets)."""
    value = qty * price.ref
    current_weight = value / base if base > ZERO else ZERO
    band = None
    if target_weight is not None and (policy.band_abs is not None or policy.band_rel is not None):
        band = band_threshold(target_weight, policy)
    w = _Work(
        symbol, asset, qty, price.ref, price.bid, price.ask, value,
        ZERO if target_weight is None else target_weight, Rule.TO_TARGET, band, value,
        current_weight, price_down(price.ask * limits[0]), price_up(price.bid * limits[1]),
    )  # fmt: skip
    if symbol in keep:
        w.rule = Rule.KEPT
    elif target_weight is None:
        w.rule = Rule.NOT_IN_TARGETS if policy.sell_unlisted else Rule.UNLISTED_HELD
        w.desired = ZERO if policy.sell_unlisted else value
    elif band is not None:
        drift = current_weight - target_weight
        if abs(drift) <= band:
            w.rule = Rule.IN_BAND
        else:
            w.rule = Rule.OUT_OF_BAND
            edge = target_weight + (band if drift > ZERO else -band)
            goal = target_weight if policy.rebalance_to == "target" else edge
            w.desired = goal * base
    else:
        w.desired = target_weight * base
    return w


def _blocked_by_asset(w: _Work, skipped: list[Skipped]) -> bool:
    if w.asset.tradable and w.asset.status.lower() == "active":
        return False
    skipped.append(
        Skipped(
            w.symbol,
            Rule.NOT_TRADABLE,
            f"{w.symbol} is not tradable at the broker (status {w.asset.status}); left as is",
        )
    )
    w.rule = Rule.NOT_TRADABLE
    return True


def _size_sells(work: list[_Work], policy: PlannerPolicy, skipped: list[Skipped]) -> list[_Work]:
    sells: list[_Work] = []
    for w in work:
        gap = w.value - w.desired
        if w.rule in (Rule.KEPT, Rule.IN_BAND) or gap <= ZERO:
            continue
        if w.desired == ZERO:
            qty = w.qty  # liquidation sells everything held, fractional remainder included
        elif w.asset.fractionable:
            qty = min(w.qty, (gap / w.ref).quantize(QTY_STEP, rounding=ROUND_CEILING))
        else:
            qty = min(w.qty, (gap / w.ref).quantize(ONE, rounding=ROUND_HALF_EVEN))
            if qty == ZERO:
                w.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
                continue
        if _blocked_by_asset(w, skipped):
            continue
        if qty * w.bid < policy.min_trade_value:
            _dust(w, qty * w.bid, policy, skipped)
            continue
        w.trade = -qty
        w.fees = sell_fees(qty, w.sell_limit, policy)
        sells.append(w)
    return sells


def _dust(w: _Work, value: Decimal, policy: PlannerPolicy, skipped: list[Skipped]) -> None:
    w.rule = Rule.DUST
    skipped.append(
        Skipped(
            w.symbol,
            Rule.DUST,
            f"trade of ${money(value)} is below the minimum ${money(policy.min_trade_value)}",
        )
    )


def _size_buys(
    work: list[_Work], policy: PlannerPolicy, budget: Decimal, skipped: list[Skipped]
) -> list[_Work]:
    """Size buys within ``budget`` (valued at limit prices), minimising total deviation.

    Everything is first scaled to fit the budget (whole-share buys rounded down). Then
    single whole shares are added, largest deviation cut first, while the cut beats what
    the share takes from the fractional buys; the fractional buys get the rest.
    """
    wanted: list[_Work] = []
    for w in work:
        gap = w.desired - w.value
        if w.rule in (Rule.KEPT, Rule.IN_BAND) or gap <= ZERO:
            continue
        if not w.asset.fractionable and 2 * gap <= w.ref:
            w.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
            continue
        if _blocked_by_asset(w, skipped):
            continue
        w.want = gap / w.ref
        wanted.append(w)
    fractional = [w for w in wanted if w.asset.fractionable]
    whole = [w for w in wanted if not w.asset.fractionable]
    frac_full = sum((w.want * w.buy_limit for w in fractional), ZERO)
    total = frac_full + sum((w.want * w.buy_limit for w in whole), ZERO)
    if total == ZERO:
        return []
    scale = ONE if total <= budget else max(ZERO, budget / total)
    for w in whole:
        w.trade = whole_down(w.want * scale)
    frac_spend = frac_full * scale
    slack = max(ZERO, budget - frac_spend - sum((w.trade * w.buy_limit for w in whole), ZERO))
    frac_spend, slack = _add_whole_shares(whole, frac_spend, slack)
    frac_spend = min(frac_full, frac_spend + slack)
    frac_scale = frac_spend / frac_full if frac_full > ZERO else ZERO
    for w in fractional:
        w.trade = qty_down(w.want * frac_scale)

    buys: list[_Work] = []
    for w in wanted:
        if w.trade <= ZERO:
            w.rule = Rule.NO_CASH
            skipped.append(Skipped(w.symbol, Rule.NO_CASH, "no cash left for this buy"))
        elif w.trade * w.ask < policy.min_trade_value:
            _dust(w, w.trade * w.ask, policy, skipped)
            w.trade = ZERO
        else:
            buys.append(w)
    return buys


def _share_gain(w: _Work) -> Decimal:
    """How much one more share cuts this position's deviation from target (in value)."""
    return w.ref * min(ONE, 2 * (w.want - w.trade) - ONE)


def _add_whole_shares(
    whole: list[_Work], frac_spend: Decimal, slack: Decimal
) -> tuple[Decimal, Decimal]:
    """Greedy single-share top-up; returns the fractional spend and slack left."""
    heap = [(-_share_gain(w), w.symbol, i) for i, w in enumerate(whole) if w.want - w.trade > HALF]
    heapq.heapify(heap)
    while heap:
        neg_gain, _, index = heapq.heappop(heap)
        w = whole[index]
        from_fractional = max(ZERO, w.buy_limit - slack)
        # Slack and fractional spend only shrink, so a share rejected now never fits later.
        if from_fractional > frac_spend or -neg_gain <= from_fractional:
            continue
        w.trade += ONE
        slack -= w.buy_limit - from_fractional
        frac_spend -= from_fractional
        if w.want - w.trade > HALF:
            heapq.heappush(heap, (-_share_gain(w), w.symbol, index))
    return frac_spend, slack


def _orders(
    sells: list[_Work], buys: list[_Work], policy: PlannerPolicy
) -> tuple[PlannedOrder, ...]:
    orders: list[PlannedOrder] = []
    leg = 0
    for w in sorted(sells, key=lambda x: x.symbol):
        qty = -w.trade
        leg += 1
        orders.append(
            PlannedOrder(
                leg, w.symbol, Side.SELL, qty, w.sell_limit, w.bid, qty * w.bid,
                qty * w.sell_limit, qty * (w.ref - w.bid) + w.fees, w.fees,
                qty != qty.to_integral_value(),
            )
        )  # fmt: skip
    for w in sorted(buys, key=lambda x: x.symbol):
        qty = w.trade
        leg += 1
        orders.append(
            PlannedOrder(
                leg, w.symbol, Side.BUY, qty, w.buy_limit, w.ask, qty * w.ask,
                qty * w.buy_limit, qty * (w.ask - w.ref), ZERO, qty != qty.to_integral_value(),
            )
        )  # fmt: skip
    return tuple(orders)


def _line(w: _Work, base: Decimal) -> PositionLine:
    post_qty = w.qty + w.trade
    post_value = post_qty * w.ref
    if w.trade == ZERO and w.rule in (Rule.TO_TARGET, Rule.OUT_OF_BAND):
        w.rule = Rule.AT_TARGET
    action = "buy" if w.trade > ZERO else "sell" if w.trade < ZERO else "hold"
    post_weight = post_value / base if base > ZERO else ZERO
    return PositionLine(
        w.symbol, w.qty, w.ref, w.value, w.current_weight, w.target_weight,
        w.current_weight - w.target_weight, w.band, w.rule, action, w.trade, post_qty,
        post_value, post_weight,
    )  # fmt: skip


def _summary(
    orders: tuple[PlannedOrder, ...],
    cash: Decimal,
    equity: Decimal,
    base: Decimal,
    reserve: Decimal,
    kept_value: Decimal,
    prices: dict[str, PriceRef],
    policy: PlannerPolicy,
) -> PlanSummary:
    buys = [o for o in orders if o.side is Side.BUY]
    sells = [o for o in orders if o.side is Side.SELL]
    buy_value = sum((o.est_value for o in buys), ZERO)
    sell_value = sum((o.est_value for o in sells), ZERO)
    est_fees = sum((o.fees for o in sells), ZERO)
    worst_proceeds = sum((o.max_value for o in sells), ZERO) - est_fees
    return PlanSummary(
        order_count=len(orders),
        buy_value=buy_value,
        sell_value=sell_value,
        turnover=(buy_value + sell_value) / equity if equity > ZERO else ZERO,
        est_costs=sum((o.est_cost for o in orders), ZERO),
        est_cash_after=cash + sell_value - est_fees - buy_value,
        min_cash_after=cash + worst_proceeds - sum((o.max_value for o in buys), ZERO),
        investable=base,
        reserve=reserve,
        kept_value=kept_value,
    )


def _plan_id(
    snapshot: Snapshot, targets: Targets, policy: PlannerPolicy, prices: dict[str, PriceRef]
) -> str:
    """A hash of every input: the same state, prices, targets and policy give the same id."""
    digest = hashlib.sha256()
    head = [snapshot.broker, snapshot.account.account_id, fmt(snapshot.account.cash)]
    digest.update("|".join(head).encode())
    digest.update(json.dumps(policy.model_dump(mode="json"), sort_keys=True).encode())
    # str(Decimal) is exact and canonical for a given value's representation; streaming
    # the parts keeps 10,000 holdings cheap.
    positions = snapshot.positions
    digest.update("\n".join(f"P{s}={positions[s].qty}" for s in sorted(positions)).encode())
    digest.update("\n".join(f"Q{s}={p.bid}/{p.ask}" for s, p in prices.items()).encode())
    digest.update("\n".join(f"T{s}={w}" for s, w in targets.weights.items()).encode())
    return digest.hexdigest()[:16]
