"""Sending a plan's orders: journal first, sells before buys, every wait bounded.

Each order's intent is committed to the journal before it is sent, under a deterministic
client_order_id. If the broker's answer is lost, the order is looked up by that id before
anything else happens, so it is never sent twice. Buys are re-sized from the cash actually
available once the sells are done. Whatever happens, each order ends with a recorded status
and the run's outcome says whether everything completed as planned.

Vocabulary: a *leg* is one planned order; a large leg is cut into *slices* sent over a
window (TWAP); an unfilled slice is *re-pegged* (cancelled, confirmed, re-sent for what is
left at a price one step closer to the collar edge). The ids of one slice share a prefix:
`alch-<plan>-<leg>-<slice>-<attempt>` then `-p1`, `-p2`... for its re-pegs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.models import Asset, BrokerOrder, OrderRequest, OrderStatus, Quote, Side
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
from alchemiser_cli.core.planner import Plan, PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.types import Exact, Money
from alchemiser_cli.errors import BrokerError, DuplicateOrder, OrderNotAccepted, OrderRejected
from alchemiser_cli.journal import UNCONFIRMED, Journal

log = logging.getLogger(__name__)
_NOT_WORKING = frozenset({"send_failed", "not_sent", "rejected", "canceled", "expired"})
# Journal statuses of orders that never reached the broker.
_NEVER_REACHED = frozenset({"send_failed", "not_sent"})
# Spread (bps) at which the re-peg interval has doubled; it is capped at 4x.
_SPREAD_REF_BPS = Decimal(20)
_MAX_INTERVAL_FACTOR = Decimal(4)
# Every order alch sends has a client_order_id starting with this (see client_order_id).
CLIENT_ORDER_PREFIX = "alch-"
# The shortest wait: clocks tick in microseconds, so a wait of a few hundred nanoseconds
# (float rounding of a due time) would not move time and the loop would spin.
MIN_WAIT_S = 0.001


class Outcome(StrEnum):
    """How a run ended."""

    COMPLETED = "completed"
    QUEUED = "queued"
    NOTHING_TO_DO = "nothing_to_do"
    BLOCKED = "blocked"
    DECLINED = "declined"
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    RUNNING = "running"  # started, not ended: in progress, or stopped by a crash


def client_order_id(
    plan_id: str, leg: int, slice_no: int = 1, attempt: int = 1, peg: int = 0
) -> str:
    """The deterministic id of one order: the same plan, leg, slice, attempt and peg give the
    same id; re-pegs keep the slice's id as a prefix (the lineage)."""
    base = f"{CLIENT_ORDER_PREFIX}{plan_id}-{leg:03d}-{slice_no:02d}-{attempt:02d}"
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


@dataclass(slots=True)
class SliceResult:
    """One child order of a leg: its ids (the re-peg lineage), size and fills."""

    slice_no: int
    qty: Exact
    client_order_ids: list[str] = field(default_factory=list)
    limit_prices: list[Exact] = field(default_factory=list)
    status: str = "pending"
    filled_qty: Exact = ZERO
    filled_value: Money = ZERO
    error: str | None = None


@dataclass(slots=True)
class OrderResult:
    """What happened to one planned order (all its slices and re-pegs)."""

    leg: int
    client_order_id: str
    symbol: str
    side: Side
    planned_qty: Exact
    sent_qty: Exact
    limit_price: Exact | None
    status: str
    filled_qty: Exact = ZERO
    avg_price: Exact | None = None
    arrival_mid: Exact | None = None
    slippage_bps: Exact | None = None
    error: str | None = None
    repegs: int = 0
    slices: list[SliceResult] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Filled in full, at the planned quantity."""
        return self.status == OrderStatus.FILLED.value and self.filled_qty == self.planned_qty

    @property
    def filled_value(self) -> Decimal:
        """Value of what filled."""
        return self.filled_qty * (self.avg_price or ZERO)


@dataclass(slots=True)
class ExecutionResult:
    """The orders' fates and the run's outcome."""

    orders: list[OrderResult] = field(default_factory=list)
    outcome: Outcome = Outcome.COMPLETED
    message: str = ""
    filled_buy_value: Money = ZERO
    filled_sell_value: Money = ZERO
    buys_cut: tuple[Money, Money] | None = None  # (sent, planned) value of re-sized buys


@dataclass(slots=True)
class _Child:
    """Working state of one slice while the executor runs it."""

    leg: OrderResult
    report: SliceResult
    due: float  # epoch seconds: when to send
    edge: Decimal | None  # collar limit (None for market orders)
    asset: Asset | None
    peg: int = 0
    order: BrokerOrder | None = None
    repeg_at: float = math.inf
    state: str = "pending"  # pending | working | done

    @property
    def remaining(self) -> Decimal:
        return self.report.qty - self.report.filled_qty


class Executor:
    """Runs one plan's orders against a broker, journaling each step."""

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        clock: Clock,
        policy: ExecutionPolicy,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self._broker = broker
        self._journal = journal
        self._clock = clock
        self._policy = policy
        self._listener = on_event
        self._attempt = 1
        self._plan_id = ""
        self._run_id = ""
        self._deadline = math.inf
        self._children: dict[int, list[_Child]] = {}
        self._stop: str | None = None  # set by a signal: send nothing more
        self._result = ExecutionResult()
        self._cut: dict[int, str] = {}  # leg -> why its buy was re-sized below plan

    @property
    def progress(self) -> tuple[OrderResult, ...]:
        """The legs so far, as the live view shows them (sent, filled, re-pegged)."""
        return tuple(self._result.orders)

    def stop(self, reason: str) -> None:
        """Stop sending: called from a signal handler; the clock's waits are cut short too."""
        self._stop = reason

    def run(
        self,
        plan: Plan,
        run_id: str,
        reserve: Decimal,
        attempt: int = 1,
        queue_for: Session | None = None,
    ) -> ExecutionResult:
        """Send sells, wait for them, re-size and send buys, wait; report every order.

        `attempt` numbers the runs of one plan (a forced re-run gets fresh order ids).
        With `queue_for` (market closed), orders are sent whole as day orders for that
        session and not waited for; buys are limited to the cash on hand, as the sells'
        proceeds will only exist after the open.
        """
        self._attempt, self._plan_id, self._run_id = attempt, plan.plan_id, run_id
        self._deadline = self._now() + self._policy.deadline_s
        self._broker.set_deadline(datetime.fromtimestamp(self._deadline, UTC))
        result = self._result = ExecutionResult()
        sells = [(o, o.qty) for o in plan.orders if o.side is Side.SELL]
        buys = [o for o in plan.orders if o.side is Side.BUY]
        wait = queue_for is None
        try:
            self._batch(plan, sells, result, wait=wait)
            if self._stop is None and self._now() < self._deadline:
                minimum = plan.policy.min_trade_value
                sized = self._resize_buys(buys, reserve, minimum, result, queued=not wait)
                self._batch(plan, sized, result, wait=wait)
        except BrokerError as exc:
            stopped = f"not sent: the run stopped after a broker error ({exc})"
            self._unsent(stopped)
            reached = [
                o for o in self._journal.orders_for_run(run_id) if o.status not in _NEVER_REACHED
            ]
            if reached:
                result.outcome = Outcome.INCOMPLETE
                result.message = f"stopped after a broker error: {exc}"
                self._cancel_open(result)
            else:
                result.outcome = Outcome.FAILED
                result.message = f"stopped after a broker error; nothing reached the broker: {exc}"
        else:
            stopped = "the run deadline passed before it was sent"
        why_unsent = self._stop or stopped
        sent = {r.leg for r in result.orders}
        for order in plan.orders:
            if order.leg not in sent:
                result.orders.append(self._never_sent(order, why_unsent))
        result.orders.sort(key=lambda r: r.leg)
        result.filled_buy_value = sum(
            (r.filled_value for r in result.orders if r.side is Side.BUY), ZERO
        )
        result.filled_sell_value = sum(
            (r.filled_value for r in result.orders if r.side is Side.SELL), ZERO
        )
        if self._stop is not None:
            result.outcome = Outcome.INTERRUPTED
            result.message = (
                f"interrupted by {self._stop}: sent nothing more, cancelled this run's open orders"
            )
        if result.outcome is not Outcome.COMPLETED:
            return result
        self._conclude(result, queue_for)
        return result

    def _conclude(self, result: ExecutionResult, queue_for: Session | None) -> None:
        """Set a finished run's outcome and message from its orders."""
        if queue_for is not None:
            working = [r for r in result.orders if r.status not in _NOT_WORKING]
            queued = len(working) == len(result.orders)
            result.outcome = Outcome.QUEUED if queued else Outcome.INCOMPLETE
            result.message = (
                f"{len(working)} of {len(result.orders)} orders queued for the session "
                f"{queue_for.describe()}; check `alch status` after the open"
            )
            if result.buys_cut is not None:
                # Not done: the next run (once the sells have filled) buys the rest.
                sent, planned = result.buys_cut
                result.outcome = Outcome.INCOMPLETE
                result.message += (
                    f"; buys cut to {dollars(sent)} of {dollars(planned)} planned: the sells' "
                    "proceeds arrive after the open; run again once the sells have filled to "
                    "buy the rest"
                )
            return
        bad = [r for r in result.orders if not r.complete]
        if not bad:
            result.message = f"all {len(result.orders)} orders filled"
            return
        result.outcome = Outcome.INCOMPLETE
        result.message = f"{len(bad)} of {len(result.orders)} orders did not complete as planned"
        if self._now() >= self._deadline:
            result.message += (
                f"; the run deadline ({self._policy.deadline_s:g}s) passed and what was "
                "open was cancelled"
            )

    def _on_event(self, message: str) -> None:
        """Every order event goes to the log; a listener (the live view) may echo it."""
        log.info(message)
        if self._listener is not None:
            self._listener(message)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    # -- one batch: slices sent on schedule, polled, re-pegged, cancelled at the bound -----

    def _batch(
        self,
        plan: Plan,
        legs: list[tuple[PlannedOrder, Decimal]],
        result: ExecutionResult,
        *,
        wait: bool,
    ) -> None:
        children = self._schedule(plan, legs, result, sliced=wait)
        if not children:
            return
        last_due = max(c.due for c in children)
        bound = min(self._deadline, last_due + self._policy.fill_timeout_s)
        interval = self._policy.poll_initial_s
        while True:
            if self._stop is not None:
                break
            self._send_due(children)
            if not wait:
                return  # queued for the open: nothing to wait for
            live = [c for c in children if c.state != "done"]
            now = self._now()
            if not live or now >= bound:
                break
            wake = min(
                [bound, now + interval]
                + [c.due for c in live if c.state == "pending"]
                + [c.repeg_at for c in live if c.state == "working"]
            )
            if not self._clock.sleep(max(MIN_WAIT_S, wake - now)) or self._stop is not None:
                break  # cancelled: fall through to cancelling what is open
            interval = min(interval * 2, self._policy.poll_max_s)
            self._poll(children, bound)
        self._finish(children)

    def _schedule(
        self,
        plan: Plan,
        legs: list[tuple[PlannedOrder, Decimal]],
        result: ExecutionResult,
        *,
        sliced: bool,
    ) -> list[_Child]:
        """One child per slice, due evenly over the slice window (one slice if queued)."""
        if not legs:
            return []
        assets = self._broker.assets([o.symbol for o, _ in legs])
        market = self._policy.order_type == "market"
        start = self._now()
        children = []
        for order, qty in legs:
            asset = assets.get(order.symbol)
            price = plan.prices.get(order.symbol)
            leg = self._leg_result(order, "pending", None if market else order.limit_price)
            leg.arrival_mid = price.ref if price else None
            leg.error = self._cut.get(order.leg)
            result.orders.append(leg)
            count = slice_count(qty, order.limit_price, asset, self._policy) if sliced else 1
            whole = asset is not None and not asset.fractionable
            sizes = split_qty(qty, count, whole)
            gap = self._policy.slice_window_s / len(sizes) if len(sizes) > 1 else 0.0
            if len(sizes) > 1:
                self._on_event(
                    f"{order.side} {order.symbol} {qty}: {len(sizes)} slices over "
                    f"{self._policy.slice_window_s:g}s"
                )
            for i, size in enumerate(sizes):
                report = SliceResult(slice_no=i + 1, qty=size)
                leg.slices.append(report)
                edge = None if market else order.limit_price
                child = _Child(leg, report, start + i * gap, edge, asset)
                children.append(child)
                self._children.setdefault(order.leg, []).append(child)
        return children

    def _send_due(self, children: list[_Child]) -> None:
        due = [c for c in children if c.state == "pending" and c.due <= self._now()]
        if not due:
            return
        quotes = self._broker.quotes({c.leg.symbol for c in due})
        for child in due:
            if self._stop is not None or self._now() >= self._deadline:
                return
            self._send(child, child.remaining, quotes.get(child.leg.symbol))

    def _send(self, child: _Child, qty: Decimal, quote: Quote | None) -> None:
        """Journal, then send one order for `child`; record whatever the broker answers."""
        leg = child.leg
        cid = client_order_id(
            self._plan_id, leg.leg, child.report.slice_no, self._attempt, child.peg
        )
        price = None
        if child.edge is not None:
            touch = ZERO if quote is None else (quote.ask if leg.side is Side.BUY else quote.bid)
            price = peg_price(leg.side, touch, child.edge, child.peg, self._policy.max_repegs)
        request = OrderRequest(
            client_order_id=cid,
            symbol=leg.symbol,
            side=leg.side,
            qty=qty,
            limit_price=price,
            order_type="limit" if price is not None else "market",
        )
        self._journal.record_intent(
            self._run_id, self._plan_id, leg.leg, request, self._clock.now()
        )
        child.report.client_order_ids.append(cid)
        if price is not None:
            child.report.limit_prices.append(price)
        if child.peg == 0:
            leg.sent_qty += qty
        try:
            placed = self._broker.submit_order(request)
        except OrderNotAccepted as exc:
            # Refused before acceptance (e.g. 429 on every try): it is not at the broker,
            # and the broker is refusing: stop the run.
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            child.state, child.report.status, child.report.error = "done", "send_failed", str(exc)
            self._summarise(leg)
            raise BrokerError(f"order {cid} ({leg.side} {leg.symbol}) not sent: {exc}") from None
        except OrderRejected as exc:
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            child.state, child.report.status, child.report.error = "done", "send_failed", str(exc)
            self._on_event(f"rejected {leg.side} {leg.symbol}: {exc}")
            self._summarise(leg)
            return
        except (DuplicateOrder, BrokerError) as exc:
            # The answer may be lost while the order exists: look before anything else.
            placed = self._lookup_or_unconfirmed(child, cid, exc)
        child.order = placed
        child.state = "working"
        base = self._policy.repeg_interval_s
        can_repeg = price is not None and child.peg < self._policy.max_repegs
        child.repeg_at = self._now() + repeg_interval(base, quote) if can_repeg else math.inf
        self._track(child, placed)
        at = "market" if price is None else f"@ {price}"
        peg = f" (re-peg {child.peg})" if child.peg else ""
        self._on_event(f"sent {leg.side} {leg.symbol} {qty} {at}{peg}: {placed.status}")

    def _lookup_or_unconfirmed(self, child: _Child, cid: str, exc: BrokerError) -> BrokerOrder:
        """The order as the broker has it; if it is not there, it may still arrive (a late
        acceptance): journal it `unconfirmed` so later runs look it up first, and stop."""
        try:
            found = self._broker.get_order_by_client_id(cid)
        except BrokerError as lookup:
            found, exc = None, lookup
        if found is not None:
            return found
        why = (
            f"no answer from the broker ({exc}) and not found there: it may still arrive; "
            "the next run looks it up before sending anything"
        )
        self._journal.record_send_failure(cid, why, self._clock.now(), status=UNCONFIRMED)
        child.state, child.report.status, child.report.error = "done", UNCONFIRMED, why
        self._summarise(child.leg)
        raise BrokerError(
            f"order {cid} got no answer and is not at the broker; it may still arrive"
        )

    def _poll(self, children: list[_Child], bound: float) -> None:
        """Read every working order; re-peg those whose time has come before the bound."""
        due_repeg = []
        for child in children:
            if child.state != "working" or child.order is None:
                continue
            found = self._broker.get_order_by_client_id(child.order.client_order_id)
            if found is None:
                raise BrokerError(f"order {child.order.client_order_id} disappeared at the broker")
            self._track(child, found)
            if child.state == "working" and self._now() >= child.repeg_at:
                due_repeg.append(child)
        if due_repeg and self._stop is None and self._now() < min(bound, self._deadline):
            quotes = self._broker.quotes({c.leg.symbol for c in due_repeg})
            for child in due_repeg:
                self._repeg(child, quotes.get(child.leg.symbol))

    def _repeg(self, child: _Child, quote: Quote | None) -> None:
        """Cancel, wait (bounded) for the cancel to be confirmed, re-send what is left."""
        if not self._cancel_confirmed(child):
            child.repeg_at = math.inf  # not confirmed: never two live orders for one slice
            self._on_event(f"{child.leg.symbol}: cancel not confirmed; no more re-pegs")
            return
        if child.state == "done":
            return  # it filled (or ended) while being cancelled
        remaining = child.remaining
        if not self._sendable(child, remaining, quote):
            child.state, child.report.status = "done", OrderStatus.CANCELED.value
            child.report.error = f"{remaining} left is below the broker's minimum order"
            self._summarise(child.leg)
            return
        child.peg += 1
        child.leg.repegs += 1
        self._send(child, remaining, quote)

    def _cancel_confirmed(self, child: _Child) -> bool:
        """Cancel the child's order and wait until the broker says it is final."""
        assert child.order is not None
        order = self._broker.cancel_order(child.order.id)
        end = self._now() + self._policy.cancel_wait_s
        wait = self._policy.poll_initial_s
        while not order.status.is_terminal:
            if self._now() >= end or not self._clock.sleep(wait):
                self._track(child, order)
                return False
            wait = min(wait * 2, self._policy.poll_max_s)
            found = self._broker.get_order_by_client_id(order.client_order_id)
            if found is None:
                raise BrokerError(f"order {order.client_order_id} disappeared at the broker")
            order = found
        self._track(child, order, repegging=True)
        return True

    def _sendable(self, child: _Child, qty: Decimal, quote: Quote | None) -> bool:
        """Whether a remainder can be sent (whole shares where needed, at least $1)."""
        whole = child.asset is not None and not child.asset.fractionable
        if qty <= ZERO or (whole and qty != whole_down(qty)):
            return False
        price = child.edge or (quote.ask if quote is not None else ZERO)
        return qty == whole_down(qty) or qty * price >= ONE

    def _track(self, child: _Child, order: BrokerOrder, *, repegging: bool = False) -> None:
        """Record the broker's view of the child's current order; fold in final fills.

        With `repegging`, a cancelled order leaves the child working (order None) for the
        caller to re-send the rest; anything else terminal ends the child.
        """
        self._journal.record_broker_state(order, self._clock.now())
        if not order.status.is_terminal:
            child.order = order
            child.report.status = order.status.value
            self._summarise(child.leg)
            return
        child.report.filled_qty += order.filled_qty
        child.report.filled_value += order.filled_qty * (order.filled_avg_price or ZERO)
        child.order = None
        child.report.status = order.status.value
        child.state = "done"
        if child.report.filled_qty >= child.report.qty:
            child.report.status = OrderStatus.FILLED.value
        elif repegging and order.status is OrderStatus.CANCELED:
            child.state = "working"
        self._summarise(child.leg)

    def _finish(self, children: list[_Child]) -> None:
        """At the bound, the deadline or a stop: cancel what is open, report what never went."""
        for child in children:
            if child.state == "working":
                self._cancel(child)
            elif child.state == "pending":
                child.state = "done"
                child.report.status = "not_sent"
                child.report.error = self._stop or "the run deadline passed before it was sent"
                self._summarise(child.leg)

    def _cancel(self, child: _Child) -> None:
        if child.order is None:
            child.state = "done"
            return
        found = self._broker.get_order_by_client_id(child.order.client_order_id)
        if found is not None and not found.status.is_terminal:
            found = self._broker.cancel_order(found.id)
            self._on_event(f"cancelled unfilled {child.leg.side} {child.leg.symbol}")
        if found is not None:
            self._track(child, found)
        child.state = "done"

    def _unsent(self, why: str) -> None:
        """Slices never sent because the run stopped: say so (they were never journaled)."""
        for children in self._children.values():
            for child in children:
                if child.state == "pending":
                    child.state, child.report.status, child.report.error = "done", "not_sent", why
                    self._summarise(child.leg)

    def _cancel_open(self, result: ExecutionResult) -> None:
        """After a broker error: best-effort cancel of every order this run still has open."""
        for leg in result.orders:
            for cid in [s.client_order_ids[-1] for s in leg.slices if s.client_order_ids]:
                try:
                    found = self._broker.get_order_by_client_id(cid)
                    if found is not None and not found.status.is_terminal:
                        self._journal.record_broker_state(
                            self._broker.cancel_order(found.id), self._clock.now()
                        )
                except BrokerError as exc:
                    leg.error = f"cancel failed: {exc}"

    def _summarise(self, leg: OrderResult) -> None:
        """Leg totals from its slices, counting the fills of orders still working."""
        filled = sum((s.filled_qty for s in leg.slices), ZERO)
        value = sum((s.filled_value for s in leg.slices), ZERO)
        for child in self._children.get(leg.leg, ()):
            if child.order is not None:
                filled += child.order.filled_qty
                value += child.order.filled_qty * (child.order.filled_avg_price or ZERO)
        leg.filled_qty = filled
        leg.avg_price = value / filled if filled > ZERO else None
        statuses = {s.status for s in leg.slices}
        if statuses == {OrderStatus.FILLED.value}:
            leg.status = OrderStatus.FILLED.value
        elif filled > ZERO:
            leg.status = OrderStatus.PARTIALLY_FILLED.value
        elif len(statuses) == 1:
            leg.status = statuses.pop()
        else:
            leg.status = next(
                (s for s in ("rejected", "send_failed", "canceled", "not_sent") if s in statuses),
                leg.slices[-1].status,
            )
        leg.error = next((s.error for s in leg.slices if s.error), leg.error)
        if leg.avg_price is not None and leg.arrival_mid:
            diff = leg.avg_price - leg.arrival_mid
            signed = diff if leg.side is Side.BUY else -diff
            leg.slippage_bps = bps_of(signed, leg.arrival_mid).quantize(Decimal("0.01"))

    # -- buys -------------------------------------------------------------------------

    def _resize_buys(
        self,
        buys: list[PlannedOrder],
        reserve: Decimal,
        minimum: Decimal,
        result: ExecutionResult,
        *,
        queued: bool = False,
    ) -> list[tuple[PlannedOrder, Decimal]]:
        """Scale buys down to the cash actually available now (never using margin); a buy
        scaled below the plan's minimum trade value is not sent, as the planner would skip it.
        Each buy cut below plan says so, and `result.buys_cut` holds the sent and planned
        values (queued for the open, the sells' proceeds are not cash yet)."""
        if not buys:
            return []
        account = self._broker.account()
        budget = min(account.cash, account.buying_power) - reserve
        needed = sum((o.qty * o.limit_price for o in buys), ZERO)
        if needed <= budget:
            return [(o, o.qty) for o in buys]
        scale = max(ZERO, budget / needed)
        assets = self._broker.assets([o.symbol for o in buys])
        sized: list[tuple[PlannedOrder, Decimal]] = []
        for order in buys:
            asset = assets.get(order.symbol)
            raw = order.qty * scale
            qty = qty_down(raw) if asset is not None and asset.fractionable else whole_down(raw)
            if qty <= ZERO:
                why = "not enough cash after the sells to buy any"
            elif qty * order.limit_price < max(ONE, minimum):
                why = (
                    f"re-sized to {dollars(qty * order.limit_price)}, below the minimum trade "
                    f"{dollars(max(ONE, minimum))}"
                )
            else:
                sized.append((order, qty))
                self._cut[order.leg] = (
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
            result.orders.append(self._never_sent(order, why))
        sent = sum((qty * o.limit_price for o, qty in sized), ZERO)
        result.buys_cut = (sent, needed)
        log.warning(
            "buys re-sized to %s of plan: cash available %s", f"{scale:.2%}", dollars(budget)
        )
        return sized

    def _never_sent(self, order: PlannedOrder, why: str) -> OrderResult:
        """The report line of a planned order that was not sent, and why."""
        leg = self._leg_result(order, "not_sent", order.limit_price)
        leg.error = why
        return leg

    def _leg_result(
        self, order: PlannedOrder, status: str, limit_price: Decimal | None
    ) -> OrderResult:
        """A fresh report line for one planned order (nothing sent yet)."""
        return OrderResult(
            leg=order.leg,
            client_order_id=client_order_id(self._plan_id, order.leg, attempt=self._attempt),
            symbol=order.symbol,
            side=order.side,
            planned_qty=order.qty,
            sent_qty=ZERO,
            limit_price=limit_price,
            status=status,
        )
