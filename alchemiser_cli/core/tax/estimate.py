"""A plan's tax estimate: its orders applied to the lots as if they filled at their limits.

Pure: the ledger of the history, the plan, the broker's positions and `now` are arguments.
Sells fill at their limit price less their estimated fees (the worst price the collar
allows: the estimate errs toward less gain), buys at their limit, all at `now`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import astuple
from datetime import datetime
from decimal import Decimal

from alchemiser_cli.core.models import Position, Side
from alchemiser_cli.core.money import CENT, ZERO
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.tax.ledger import Kind, Ledger, Realised, TaxEvent, Term
from alchemiser_cli.core.tax.records import (
    Hold,
    LotMismatch,
    PlanTax,
    SellEstimate,
    WashSaleView,
)

AVG_TOLERANCE = Decimal("0.0001")  # of the price: the broker rounds its average entry price
QTY_TOLERANCE = Decimal("0.000000001")  # Alpaca's quantity step


def planned_events(plan: Plan, now: datetime) -> list[TaxEvent]:
    """The plan's orders as fills at `now`, in leg order (sells first, as sent)."""
    return [
        TaxEvent(now, o.symbol, Kind.SELL if o.side is Side.SELL else Kind.BUY, o.qty,
                 o.limit_price, fees=o.fees if o.side is Side.SELL else ZERO,
                 ref=f"leg-{o.leg}", leg=o.leg)
        for o in plan.orders
    ]  # fmt: skip


def reconcile(ledger: Ledger, positions: Mapping[str, Position]) -> tuple[LotMismatch, ...]:
    """Every symbol whose lots do not add up to the broker's quantity, or whose average cost
    differs from the broker's average entry price (beyond its rounding)."""
    found = []
    for symbol in sorted(set(positions) | {s for s, lots in ledger.lots.items() if lots}):
        lots = ledger.lots.get(symbol, ())
        qty = sum((lot.qty for lot in lots), ZERO)
        cost = sum((lot.cost for lot in lots), ZERO)
        position = positions.get(symbol)
        held = ZERO if position is None else position.qty
        broker_avg = None if position is None or held == ZERO else position.avg_entry_price
        avg = cost / qty if qty > ZERO else None
        off = abs(qty - held) > QTY_TOLERANCE
        if not off and avg is not None and broker_avg is not None and broker_avg > ZERO:
            off = abs(avg - broker_avg) > max(CENT, broker_avg * AVG_TOLERANCE)
        if off:
            shown = None if avg is None else avg.quantize(Decimal("0.0001"))
            found.append(LotMismatch(symbol, qty, held, shown, broker_avg))
    return tuple(found)


def plan_tax(
    history: Ledger,
    plan: Plan,
    positions: Mapping[str, Position],
    now: datetime,
    *,
    avoid: bool = False,
    holds: Sequence[Hold] = (),
    mismatches: tuple[LotMismatch, ...] | None = None,
) -> PlanTax:
    """The plan's realised gains per sell and in total, the wash sales its orders make, and
    whether the lots are complete (they match the broker's positions, no sale lacks one;
    `mismatches` when already known)."""
    events = planned_events(plan, now)
    after = history.fork({e.symbol for e in events}).apply(events)
    sells = []
    by_leg: dict[int, list[Realised]] = {}
    for record in after.realised[len(history.realised) :]:
        if record.leg is not None:
            by_leg.setdefault(record.leg, []).append(record)
    short = long = ZERO
    for order in plan.orders:
        records = by_leg.get(order.leg)
        if order.side is not Side.SELL or records is None:
            continue
        s_gain = sum((r.gain for r in records if r.term is Term.SHORT), ZERO)
        l_gain = sum((r.gain for r in records if r.term is Term.LONG), ZERO)
        short, long = short + s_gain, long + l_gain
        sells.append(
            SellEstimate(order.leg, order.symbol, order.qty,
                         sum((r.proceeds for r in records), ZERO),
                         sum((r.basis for r in records), ZERO), s_gain, l_gain,
                         sum((r.disallowed for r in records), ZERO), len(records))
        )  # fmt: skip
    washes = tuple(WashSaleView(*astuple(w)) for w in after.washes[len(history.washes) :])
    if mismatches is None:
        mismatches = reconcile(history, positions)
    complete = not mismatches and not after.gaps
    return PlanTax(
        status="complete" if complete else "incomplete",
        short_term=short,
        long_term=long,
        disallowed=sum((w.disallowed for w in washes), ZERO),
        sells=tuple(sells),
        wash_sales=washes,
        holds=tuple(holds),
        mismatches=mismatches,
        avoid_wash_sales=avoid,
    )
