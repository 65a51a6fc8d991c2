"""The executor's arithmetic: order ids, peg prices, re-peg waits, slicing, buy re-sizing,
leg summaries and a run's conclusion. No I/O and no clock: every input is an argument."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Asset, BrokerOrder, Quote, Side
from alchemiser_cli.core.money import (
    ONE,
    ZERO,
    bps_of,
    dollars,
    price_down,
    price_up,
    qty_down,
    whole_down,
)
from alchemiser_cli.core.plan import PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import OrderResult, Outcome
from alchemiser_cli.core.types import Money

# The shortest wait: clocks tick in microseconds, so a wait of a few hundred nanoseconds
# (float rounding of a due time) would not move time and the loop would spin.
MIN_WAIT_S = 0.001
# Every order alch sends has a client_order_id starting with this (see client_order_id).
CLIENT_ORDER_PREFIX = "alch-"
# Spread (bps) at which the re-peg interval has doubled; it is capped at 4x.
_SPREAD_REF_BPS = Decimal(20)
_MAX_INTERVAL_FACTOR = Decimal(4)
# A leg of several slices shows the first of these its slices hold (most telling first).
_LEG_FAILURES = (
    LegStatus.REJECTED,
    LegStatus.SEND_FAILED,
    LegStatus.CANCELED,
    LegStatus.NOT_SENT,
)


def client_order_id(
    plan_id: str,
    leg: int,
    slice_no: int = 1,
    attempt: int = 1,
    peg: int = 0,
    *,
    topup: bool = False,
) -> str:
    """The deterministic id of one order: the same plan, leg, slice, attempt and peg give the
    same id; re-pegs keep the slice's id as a prefix (the lineage). A top-up leg's ids end
    in `-t` (before any `-p1`), which no id of the plan's own legs contains."""
    base = f"{CLIENT_ORDER_PREFIX}{plan_id}-{leg:03d}-{slice_no:02d}-{attempt:02d}"
    if topup:
        base += "-t"
    return base if peg == 0 else f"{base}-p{peg}"


def peg_price(side: Side, touch: Decimal, edge: Decimal, step: int, steps: int) -> Decimal:
    """The limit for send number `step` (0-based) of `steps + 1`: from just past the touch to
    the collar edge, in equal steps, never beyond the edge, on a valid tick.

    `touch` is the ask for a buy, the bid for a sell (0 when unknown); `edge` is the plan's
    collar limit. A touch already past the edge (the price ran away) gives the edge.
    """
    start = touch if touch > ZERO else edge
    if side is Side.BUY:
        start = min(start, edge)
        return min(edge, price_down(start + (edge - start) * (step + 1) / (steps + 1)))
    start = max(start, edge)
    return max(edge, price_up(start - (start - edge) * (step + 1) / (steps + 1)))


def repeg_interval(base_s: float, quote: Quote | None) -> float:
    """Wait before re-pegging: longer in wide markets, where passive fills take longer."""
    if quote is None or quote.bid <= ZERO or quote.ask <= quote.bid:
        return base_s
    mid = (quote.bid + quote.ask) / 2
    factor = min(_MAX_INTERVAL_FACTOR, ONE + bps_of(quote.ask - quote.bid, mid) / _SPREAD_REF_BPS)
    return base_s * float(factor)


def slice_count(qty: Decimal, price: Decimal, asset: Asset | None, policy: ExecutionPolicy) -> int:
    """How many child orders a leg becomes: enough that each stays under the notional and
    ADV thresholds, at most `max_slices`; 1 when no threshold is crossed."""
    needed = 1
    if policy.slice_notional is not None and qty * price > policy.slice_notional:
        needed = max(needed, math.ceil(qty * price / policy.slice_notional))
    adv = asset.avg_daily_volume if asset is not None else None
    if policy.slice_adv_pct is not None and adv is not None and adv > ZERO:
        cap = adv * policy.slice_adv_pct
        if qty > cap:
            needed = max(needed, math.ceil(qty / cap))
    return min(needed, policy.max_slices)


def split_qty(qty: Decimal, parts: int, whole: bool) -> list[Decimal]:
    """Split `qty` into `parts` near-equal quantities that sum to it exactly."""
    if parts <= 1:
        return [qty]
    each = whole_down(qty / parts) if whole else qty_down(qty / parts)
    if each <= ZERO:
        return [qty]
    sizes = [each] * parts
    sizes[-1] = qty - each * (parts - 1)
    return sizes


def leg_result(
    order: PlannedOrder,
    plan_id: str,
    attempt: int,
    status: LegStatus,
    limit_price: Decimal | None,
    *,
    topup: bool = False,
) -> OrderResult:
    """A fresh report line for one planned order (nothing sent yet)."""
    return OrderResult(
        leg=order.leg,
        client_order_id=client_order_id(plan_id, order.leg, attempt=attempt, topup=topup),
        symbol=order.symbol,
        side=order.side,
        planned_qty=order.qty,
        sent_qty=ZERO,
        limit_price=limit_price,
        status=status,
        topup=topup,
    )


def never_sent(
    order: PlannedOrder, plan_id: str, attempt: int, why: str, *, topup: bool = False
) -> OrderResult:
    """The report line of a planned order that was not sent, and why."""
    leg = leg_result(order, plan_id, attempt, LegStatus.NOT_SENT, order.limit_price, topup=topup)
    leg.error = why
    return leg


# -- buys -----------------------------------------------------------------------------


def buys_needed(buys: Iterable[PlannedOrder]) -> Money:
    """What the planned buys cost at their limits."""
    return sum((o.qty * o.limit_price for o in buys), ZERO)


@dataclass(slots=True)
class BuySizing:
    """Buys scaled down to the cash available: what to send, what not and why."""

    sized: list[tuple[PlannedOrder, Decimal]] = field(default_factory=list)
    skipped: list[tuple[PlannedOrder, str]] = field(default_factory=list)  # not sent: why
    cut: dict[int, str] = field(default_factory=dict)  # leg -> why it was sent below plan
    sent: Money = ZERO  # value sent, at the limits
    scale: Decimal = ONE


def resize_buys(
    buys: list[PlannedOrder],
    budget: Money,
    minimum: Money,
    assets: Mapping[str, Asset],
    *,
    queued: bool,
) -> BuySizing:
    """Scale buys that cost more than `budget` down to it (never using margin); a buy scaled
    below the plan's minimum trade value (and $1) is not sent, as the planner would skip it.
    Queued for the open, the sells' proceeds are not cash yet: each reason says so."""
    needed = buys_needed(buys)
    scale = max(ZERO, budget / needed)
    sizing = BuySizing(scale=scale)
    floor = max(ONE, minimum)
    for order in buys:
        asset = assets.get(order.symbol)
        raw = order.qty * scale
        qty = qty_down(raw) if asset is not None and asset.fractionable else whole_down(raw)
        if qty <= ZERO:
            why = "not enough cash after the sells to buy any"
        elif qty * order.limit_price < floor:
            why = (
                f"re-sized to {dollars(qty * order.limit_price)}, below the minimum trade "
                f"{dollars(floor)}"
            )
        else:
            sizing.sized.append((order, qty))
            sizing.cut[order.leg] = (
                f"cut to {qty} of {order.qty} ({dollars(qty * order.limit_price)} of "
                f"{dollars(order.qty * order.limit_price)}): "
                + (
                    "cash on hand only, the sells' proceeds arrive after the open"
                    if queued
                    else "the cash available after the sells"
                )
            )
            continue
        if queued:
            why += ": the sells' proceeds arrive after the open"
        sizing.skipped.append((order, why))
    sizing.sent = sum((qty * o.limit_price for o, qty in sizing.sized), ZERO)
    return sizing


# -- summaries --------------------------------------------------------------------------


def summarise(leg: OrderResult, working: Iterable[BrokerOrder]) -> None:
    """Set a leg's totals from its slices, counting the fills of its orders still working."""
    filled = sum((s.filled_qty for s in leg.slices), ZERO)
    value = sum((s.filled_value for s in leg.slices), ZERO)
    for order in working:
        filled += order.filled_qty
        value += order.filled_qty * (order.filled_avg_price or ZERO)
    leg.filled_qty = filled
    leg.avg_price = value / filled if filled > ZERO else None
    statuses = {s.status for s in leg.slices}
    if LegStatus.DISPUTED in statuses:  # the broker's figures cannot be true: say so first
        leg.status = LegStatus.DISPUTED
    elif statuses == {LegStatus.FILLED}:
        leg.status = LegStatus.FILLED
    elif filled > ZERO:
        leg.status = LegStatus.PARTIALLY_FILLED
    elif len(statuses) == 1:
        leg.status = statuses.pop()
    else:
        leg.status = next((s for s in _LEG_FAILURES if s in statuses), leg.slices[-1].status)
    leg.error = next((s.error for s in leg.slices if s.error), leg.error)
    if leg.avg_price is not None and leg.arrival_mid:
        diff = leg.avg_price - leg.arrival_mid
        signed = diff if leg.side is Side.BUY else -diff
        leg.slippage_bps = bps_of(signed, leg.arrival_mid).quantize(Decimal("0.01"))


def conclude(
    orders: list[OrderResult],
    queue_for: Session | None,
    buys_cut: tuple[Money, Money] | None,
    *,
    deadline_passed: bool,
    deadline_s: float,
) -> tuple[Outcome, str]:
    """A finished run's outcome and message, from its orders (never `running`)."""
    if queue_for is not None:
        working = [r for r in orders if r.status not in LegStatus.not_working()]
        outcome = Outcome.QUEUED if len(working) == len(orders) else Outcome.INCOMPLETE
        message = (
            f"{len(working)} of {len(orders)} orders queued for the session "
            f"{queue_for.describe()}; check `alch status` after the open"
        )
        if buys_cut is not None:
            # Not done: the next run (once the sells have filled) buys the rest.
            sent, planned = buys_cut
            outcome = Outcome.INCOMPLETE
            message += (
                f"; buys cut to {dollars(sent)} of {dollars(planned)} planned: the sells' "
                "proceeds arrive after the open; run again once the sells have filled to "
                "buy the rest"
            )
        return outcome, message
    bad = [r for r in orders if not r.complete]
    if not bad:
        return Outcome.COMPLETED, f"all {len(orders)} orders filled"
    message = f"{len(bad)} of {len(orders)} orders did not complete as planned"
    disputed = sum(1 for r in bad if r.status == LegStatus.DISPUTED)
    if disputed:
        message += (
            f"; {disputed} disputed: the broker's answer cannot be true (see `alch reconcile`)"
        )
    if deadline_passed:
        message += f"; the run deadline ({deadline_s:g}s) passed and what was open was cancelled"
    return Outcome.INCOMPLETE, message
