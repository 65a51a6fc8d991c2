"""One slice's orders at the broker: send (journal first), look up a lost answer, poll,
re-peg, cancel, and fold what the broker says into the slice's report line."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.brokers.base import Broker, OrderUpdates
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Asset, BrokerOrder, OrderRequest, OrderStatus, Quote, Side
from alchemiser_cli.core.money import ONE, ZERO, whole_down
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import OrderResult, SliceResult
from alchemiser_cli.errors import (
    BrokerError,
    DuplicateOrder,
    OrderDisputed,
    OrderNotAccepted,
    OrderRejected,
)
from alchemiser_cli.executor.pure import client_order_id, peg_price, repeg_interval, summarise
from alchemiser_cli.journal import Journal

# The executor's one logger, named as before the package split (log files carry the name).
log = logging.getLogger("alchemiser_cli.executor")


class State(StrEnum):
    """Where a slice stands in the executor's loop."""

    PENDING = "pending"  # not sent yet
    WORKING = "working"  # an order is (or is being re-sent) at the broker
    DONE = "done"  # ended: filled, cancelled, refused or never sent


@dataclass(slots=True)
class Child:
    """Working state of one slice while the executor runs it."""

    leg: OrderResult
    report: SliceResult
    due: float  # epoch seconds: when to send
    edge: Decimal | None  # collar limit (None for market orders)
    asset: Asset | None
    peg: int = 0
    order: BrokerOrder | None = None
    repeg_at: float = math.inf
    state: State = State.PENDING
    heard: float = -math.inf  # epoch seconds: when the broker last told us the order's state

    @property
    def remaining(self) -> Decimal:
        return self.report.qty - self.report.filled_qty


class SliceDesk:
    """The broker and journal side of one run's slices: the Executor drives it."""

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
        # The run's (given to `Executor.run`, else `deadline_s` from when the run starts).
        self._deadline = Deadline.after(clock.now(), policy.deadline_s)
        self._children: dict[int, list[Child]] = {}
        self._stop: str | None = None  # set by a signal: send nothing more
        self._updates: OrderUpdates | None = None  # the broker's pushed order states
        self._updates_opened = False

    def _on_event(self, message: str) -> None:
        """Every order event goes to the log; a listener (the live view) may echo it."""
        log.info(message)
        if self._listener is not None:
            self._listener(message)

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _expired(self) -> bool:
        """Whether the run's deadline has come (asked of the deadline, on the clock)."""
        return self._deadline.expired(self._clock.now())

    def _end_by(self) -> float:
        """The run's deadline on the executor's timeline (epoch seconds)."""
        now = self._clock.now()
        return now.timestamp() + self._deadline.left(now)

    def _send(self, child: Child, qty: Decimal, quote: Quote | None) -> None:
        """Journal, then send one order for `child`; record whatever the broker answers."""
        leg = child.leg
        cid = client_order_id(
            self._plan_id, leg.leg, child.report.slice_no, self._attempt, child.peg, topup=leg.topup
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
        except OrderDisputed as exc:
            self._dispute(child, exc)
            return
        except OrderNotAccepted as exc:
            # Refused before acceptance (e.g. 429 on every try): it is not at the broker,
            # and the broker is refusing: stop the run.
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            child.state, child.report.status, child.report.error = (
                State.DONE,
                LegStatus.SEND_FAILED,
                str(exc),
            )
            self._summarise(leg)
            raise BrokerError(f"order {cid} ({leg.side} {leg.symbol}) not sent: {exc}") from None
        except OrderRejected as exc:
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            child.state, child.report.status, child.report.error = (
                State.DONE,
                LegStatus.SEND_FAILED,
                str(exc),
            )
            self._on_event(f"rejected {leg.side} {leg.symbol}: {exc}")
            self._summarise(leg)
            return
        except (DuplicateOrder, BrokerError) as exc:
            # The answer may be lost while the order exists: look before anything else.
            try:
                placed = self._lookup_or_unconfirmed(child, cid, exc)
            except OrderDisputed as disputed:
                self._dispute(child, disputed)
                return
        child.order = placed
        child.state = State.WORKING
        base = self._policy.repeg_interval_s
        can_repeg = price is not None and child.peg < self._policy.max_repegs
        child.repeg_at = self._now() + repeg_interval(base, quote) if can_repeg else math.inf
        self._track(child, placed)
        at = "market" if price is None else f"@ {price}"
        peg = f" (re-peg {child.peg})" if child.peg else ""
        self._on_event(f"sent {leg.side} {leg.symbol} {qty} {at}{peg}: {placed.status}")

    def _lookup_or_unconfirmed(self, child: Child, cid: str, exc: BrokerError) -> BrokerOrder:
        """The order as the broker has it; if it is not there, it may still arrive (a late
        acceptance): journal it `unconfirmed` so later runs look it up first, and stop."""
        failed: BrokerError | None = None
        try:
            found = self._broker.get_order_by_client_id(cid)
        except OrderDisputed:
            raise
        except BrokerError as lookup:
            found, failed = None, lookup
        if found is not None:
            return found
        if failed is None:
            where = "the broker does not have it (yet): it may still arrive"
            short = "the broker does not have it yet; it may still arrive"
        else:  # not known to be absent: the look-up itself failed
            where = f"looking it up failed too ({failed}): it may be at the broker"
            short = "it could not be looked up; it may be at the broker"
        why = f"the send failed ({exc}) and {where}; the next run looks it up before sending"
        self._journal.record_send_failure(cid, why, self._clock.now(), status=LegStatus.UNCONFIRMED)
        child.state, child.report.status, child.report.error = (
            State.DONE,
            LegStatus.UNCONFIRMED,
            why,
        )
        self._summarise(child.leg)
        raise BrokerError(f"order {cid}: the send failed and {short}")

    def _open_updates(self) -> None:
        """Start the broker's update stream once per run (None on the simulator)."""
        if not self._updates_opened:
            self._updates_opened = True
            self._updates = self._broker.updates()

    def _close_updates(self) -> None:
        if self._updates is not None:
            self._updates.close()
            self._updates = None

    def _wait(self, seconds: float) -> bool:
        """Wait on the clock; False if cancelled. With a live update stream, wake as soon as
        the broker pushes something (the stream waits in real time; the clock covers what
        is left of `seconds`, so it still moves and a cancelled clock still says so)."""
        updates = self._updates
        if updates is None or not updates.live:
            return self._clock.sleep(seconds)
        start = self._now()
        if updates.wait(seconds):
            return self._clock.sleep(0.0)
        return self._clock.sleep(max(0.0, seconds - (self._now() - start)))

    def _pushed(self) -> tuple[dict[str, BrokerOrder], bool, bool]:
        """Order states the stream pushed (latest per client_order_id), whether every
        working order must be read (no live stream, or it (re)connected and may have missed
        updates) and whether that read is a reconciliation after a (re)connection."""
        if self._updates is None:
            return {}, True, False
        orders, reconnected = self._updates.take()
        pushed = {o.client_order_id: o for o in orders}
        return pushed, reconnected or not self._updates.live, reconnected

    def _poll(self, children: list[Child], bound: float) -> None:
        """Read every working order (from the stream where it spoke, else from the broker:
        orders it has been silent about for `poll_max_s`); re-peg those due before the bound."""
        pushed, read_all, reconciling = self._pushed()
        silent = self._policy.poll_max_s
        due_repeg = []
        for child in children:
            if child.state is not State.WORKING or child.order is None:
                continue
            cid = child.order.client_order_id
            found = pushed.get(cid)
            if found is not None and found.filled_qty < child.order.filled_qty:
                found = None  # older than what we know (pushed before a poll answered)
            if found is None:
                if not read_all and self._now() - child.heard < silent:
                    continue  # the stream is live and what we know is recent: no request
                try:
                    found = self._broker.get_order_by_client_id(cid)
                except OrderDisputed as exc:
                    self._dispute(child, exc)
                    continue
            if found is None:
                raise BrokerError(f"order {cid} disappeared at the broker")
            self._track(child, found)
            if child.state is State.WORKING and self._now() >= child.repeg_at:
                due_repeg.append(child)
        if reconciling:
            self._on_event("order update stream connected: reconciled by polling once")
        if due_repeg and self._stop is None and self._now() < bound and not self._expired():
            quotes = self._broker.quotes({c.leg.symbol for c in due_repeg})
            for child in due_repeg:
                self._repeg(child, quotes.get(child.leg.symbol))

    def _repeg(self, child: Child, quote: Quote | None) -> None:
        """Cancel, wait (bounded) for the cancel to be confirmed, re-send what is left."""
        try:
            confirmed = self._cancel_confirmed(child)
        except OrderDisputed as exc:
            self._dispute(child, exc)
            return
        if not confirmed:
            child.repeg_at = math.inf  # not confirmed: never two live orders for one slice
            self._on_event(f"{child.leg.symbol}: cancel not confirmed; no more re-pegs")
            return
        if child.state is State.DONE:
            return  # it filled (or ended) while being cancelled
        remaining = child.remaining
        if not self._sendable(child, remaining, quote):
            child.state, child.report.status = State.DONE, LegStatus.CANCELED
            child.report.error = f"{remaining} left is below the broker's minimum order"
            self._summarise(child.leg)
            return
        child.peg += 1
        child.leg.repegs += 1
        self._send(child, remaining, quote)

    def _cancel_confirmed(self, child: Child) -> bool:
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

    def _sendable(self, child: Child, qty: Decimal, quote: Quote | None) -> bool:
        """Whether a remainder can be sent (whole shares where needed, at least $1)."""
        whole = child.asset is not None and not child.asset.fractionable
        if qty <= ZERO or (whole and qty != whole_down(qty)):
            return False
        price = child.edge or (quote.ask if quote is not None else ZERO)
        return qty == whole_down(qty) or qty * price >= ONE

    def _track(self, child: Child, order: BrokerOrder, *, repegging: bool = False) -> None:
        """Record the broker's view of the child's current order; fold in final fills.

        With `repegging`, a cancelled order leaves the child working (order None) for the
        caller to re-send the rest; anything else terminal ends the child.
        """
        self._journal.record_broker_state(order, self._clock.now())
        child.heard = self._now()
        if not order.status.is_terminal:
            child.order = order
            child.report.status = LegStatus.of(order.status)
            self._summarise(child.leg)
            return
        child.report.filled_qty += order.filled_qty
        child.report.filled_value += order.filled_qty * (order.filled_avg_price or ZERO)
        child.order = None
        child.report.status = LegStatus.of(order.status)
        child.state = State.DONE
        if child.report.filled_qty >= child.report.qty:
            child.report.status = LegStatus.FILLED
        elif repegging and order.status is OrderStatus.CANCELED:
            child.state = State.WORKING
        self._summarise(child.leg)

    def _cancel(self, child: Child) -> None:
        if child.order is None:
            child.state = State.DONE
            return
        try:
            found = self._broker.get_order_by_client_id(child.order.client_order_id)
            if found is not None and not found.status.is_terminal:
                found = self._broker.cancel_order(found.id)
                self._on_event(f"cancelled unfilled {child.leg.side} {child.leg.symbol}")
        except OrderDisputed as exc:
            self._dispute(child, exc)
            return
        if found is not None:
            self._track(child, found)
        child.state = State.DONE

    def _dispute(self, child: Child, exc: OrderDisputed) -> None:
        """The broker's answer about the child's order cannot be true: journal its figures
        as `disputed` (they are the broker's word, shown as such), end the slice, and cancel
        the order if it is still open (best effort). The run goes on with its other slices
        and ends incomplete; `alch reconcile --accept` takes the broker's word later."""
        order = exc.order
        assert isinstance(order, BrokerOrder)
        why = f"{exc}; see `alch reconcile`"
        self._journal.record_dispute(order, why, self._clock.now())
        child.report.filled_qty += order.filled_qty
        child.report.filled_value += order.filled_qty * (order.filled_avg_price or ZERO)
        child.order, child.state = None, State.DONE
        child.report.status, child.report.error = LegStatus.DISPUTED, why
        self._summarise(child.leg)
        self._on_event(f"disputed {child.leg.side} {child.leg.symbol}: {exc}")
        if not order.status.is_terminal:
            try:
                self._broker.cancel_order(order.id)
            except BrokerError as failed:  # the dispute stands either way
                log.warning("cancelling disputed order %s failed: %s", order.id, failed)

    def _summarise(self, leg: OrderResult) -> None:
        """Leg totals from its slices, counting the fills of orders still working."""
        children = self._children.get(leg.leg, ())
        summarise(leg, [c.order for c in children if c.order is not None])
