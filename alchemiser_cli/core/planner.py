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
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import BPS, CENT, ONE, QTY_STEP, ZERO, dollars, fmt, money
from alchemiser_cli.core.plan import AccountSummary, Plan, PlanSummary, PriceRef, Rule, Skipped
from alchemiser_cli.core.planner_exact import exactly
from alchemiser_cli.core.planner_output import plan_orders, position_lines
from alchemiser_cli.core.planner_value import (
    Row,
    band_threshold,
    investable_base,
    reference_price,
    sell_fees,
)
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.core.ticks import sell_limit
from alchemiser_cli.errors import PlanError

HALF = Decimal("0.5")


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
    sells, bought, decided, bound, search = exactly(
        rows, policy, (account.cash - reserve, base), skipped
    )

    orders, totals = plan_orders(sells, bought)
    lines, deviation = position_lines(rows, base)
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


def _value(snapshot: Snapshot, targets: Targets) -> tuple[list[Row], dict[str, PriceRef]]:
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
    rows: list[Row] = []
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
        rows.append(Row(symbol, asset, qty, price, qty * price.ref))
    return rows, prices


def _decide(
    rows: list[Row],
    targets: Targets,
    base: Decimal,
    policy: PlannerPolicy,
    keep: frozenset[str],
    skipped: list[Skipped],
) -> None:
    """Give every row its rule and goal value and size its trade toward the goal as if
    cash were no object: sells (and positions no target lists) to their nearest share,
    buys noted for ``exactly``, which sizes them."""
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
    row: Row,
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


def _add_buy(row: Row, gap: Decimal, policy: PlannerPolicy, skipped: list[Skipped]) -> None:
    """Note a buy of ``gap`` in value (``exactly`` sizes it, once the cash is known)."""
    price = row.price
    if not row.asset.fractionable and gap + gap <= price.ref:
        row.rule = Rule.WITHIN_ONE_SHARE  # the nearest whole number of shares is none
        return
    if _blocked_by_asset(row, skipped):
        return
    value = gap / price.ref * price.ask
    if row.asset.fractionable and value < policy.min_trade_value:
        _dust(row, value, policy, skipped)  # even in full: below the minimum


def _blocked_by_asset(row: Row, skipped: list[Skipped]) -> bool:
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


def _dust(row: Row, value: Decimal, policy: PlannerPolicy, skipped: list[Skipped]) -> None:
    row.rule = Rule.DUST
    skipped.append(
        Skipped(
            row.symbol,
            Rule.DUST,
            f"trade of {dollars(value)} is below the minimum {dollars(policy.min_trade_value)}",
        )
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
    # the parts (and str() rather than format()) keeps 10,000 holdings cheap.
    positions = snapshot.positions
    digest.update("\n".join(f"P{s}={positions[s].qty!s}" for s in sorted(positions)).encode())
    digest.update("\n".join(f"Q{s}={p.bid!s}/{p.ask!s}" for s, p in prices.items()).encode())
    digest.update("\n".join(f"T{s}={w!s}" for s, w in targets.weights.items()).encode())
    return digest.hexdigest()[:16]
