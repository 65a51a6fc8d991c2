"""The top-up round's arithmetic (issue 21): what the run knows, whether the broker agrees,
and buys capped at the targets. No I/O, no clock: every input is an argument.

The round plans from what the run knows, never from a snapshot that may lag: the
positions the plan started from plus the fills this run confirmed, and the cash the
plan started with plus the sells' proceeds less the buys' cost (as filled) and the sells'
estimated fees. It runs only once the broker's positions agree with that (Alpaca's
positions are known to trail its fills for seconds); it never spends more than that cash;
and no buy takes a symbol past its target.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from alchemiser_cli.core.models import Asset, Side
from alchemiser_cli.core.money import ZERO, fmt, qty_down, whole_down
from alchemiser_cli.core.plan import Plan, PlannedOrder
from alchemiser_cli.core.results import OrderResult


@dataclass(frozen=True, slots=True)
class RunKnowledge:
    """The account as this run knows it once its planned orders are done."""

    positions: dict[str, Decimal]  # symbol -> quantity (zero quantities left out)
    cash: Decimal  # cash the run's own fills left (sells' fees estimated, before reserve)


def known_after(plan: Plan, orders: Iterable[OrderResult]) -> RunKnowledge:
    """The plan's starting positions and cash, moved by every fill this run confirmed."""
    held = {line.symbol: line.qty for line in plan.positions}
    cash = plan.account.cash
    fees = {o.leg: (o.fees, o.qty) for o in plan.orders if o.side is Side.SELL}
    for leg in orders:
        value = leg.filled_qty * (leg.avg_price or ZERO)
        if leg.side is Side.BUY:
            held[leg.symbol] = held.get(leg.symbol, ZERO) + leg.filled_qty
            cash -= value
        else:
            held[leg.symbol] = held.get(leg.symbol, ZERO) - leg.filled_qty
            cash += value
            planned_fees, planned_qty = fees.get(leg.leg, (ZERO, ZERO))
            if planned_qty > ZERO and leg.filled_qty > ZERO:  # never less than planned
                cash -= planned_fees * max(Decimal(1), leg.filled_qty / planned_qty)
    return RunKnowledge({s: q for s, q in held.items() if q != ZERO}, cash)


def disagreement(known: Mapping[str, Decimal], broker: Mapping[str, Decimal]) -> str | None:
    """How the broker's positions differ from what the run knows (the first symbols, by
    name), or None when they agree exactly."""
    differ = [
        f"{s}: {fmt(broker.get(s, ZERO))} at the broker, {fmt(known.get(s, ZERO))} after "
        "this run's fills"
        for s in sorted(set(known) | set(broker))
        if broker.get(s, ZERO) != known.get(s, ZERO)
    ]
    if not differ:
        return None
    more = f" and {len(differ) - 2} more" if len(differ) > 2 else ""
    return "; ".join(differ[:2]) + more


def capped_buys(
    fresh: Plan, held: Mapping[str, Decimal], assets: Mapping[str, Asset]
) -> tuple[list[PlannedOrder], list[str]]:
    """The fresh plan's buys, each cut so that what the run holds plus the buy, valued at
    the plan's reference price, stays within the symbol's target share of the plan's
    investable base; and a note for each buy cut or dropped."""
    lines = {line.symbol: line for line in fresh.positions}
    base = fresh.summary.investable
    kept: list[PlannedOrder] = []
    notes: list[str] = []
    for order in (o for o in fresh.orders if o.side is Side.BUY):
        line = lines.get(order.symbol)
        weight = fresh.targets.get(order.symbol, ZERO)
        if line is None or line.price <= ZERO:
            notes.append(f"{order.symbol}: no reference price to check it against its target")
            continue
        room = (weight * base - held.get(order.symbol, ZERO) * line.price) / line.price
        asset = assets.get(order.symbol)
        room = qty_down(room) if asset is None or asset.fractionable else whole_down(room)
        qty = min(order.qty, room)
        if qty <= ZERO:
            notes.append(f"{order.symbol}: already at its target")
            continue
        if qty < order.qty:
            notes.append(f"{order.symbol}: cut to {fmt(qty)} to stay within its target")
            order = resized(order, qty)
        kept.append(order)
    return kept, notes


def resized(order: PlannedOrder, qty: Decimal) -> PlannedOrder:
    """A buy of `qty` instead: its values and estimated cost scaled with it."""
    share = qty / order.qty if order.qty > ZERO else ZERO
    return replace(
        order,
        qty=qty,
        est_value=qty * order.est_price,
        max_value=qty * order.limit_price,
        est_cost=order.est_cost * share,
    )
