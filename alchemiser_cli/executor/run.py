"""The Executor: the I/O loop that sends one plan's orders (see the package docstring).

It journals each order before sending it, sends sells then re-sized buys, polls, re-pegs
and cancels within the run deadline; the arithmetic it uses lives in `pure`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Asset, BrokerOrder, OrderRequest, OrderStatus, Quote, Side
from alchemiser_cli.core.money import ONE, ZERO, dollars, whole_down
from alchemiser_cli.core.planner import Plan, PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.errors import BrokerError, DuplicateOrder, OrderNotAccepted, OrderRejected
from alchemiser_cli.executor.pure import (
    buys_needed,
    client_order_id,
    conclude,
    leg_result,
    never_sent,
    peg_price,
    repeg_interval,
    resize_buys,
    slice_count,
    split_qty,
    summarise,
)
from alchemiser_cli.executor.results import ExecutionResult, OrderResult, Outcome, SliceResult
from alchemiser_cli.journal import Journal

log = logging.getLogger(__name__)
# The shortest wait: clocks tick in microseconds, so a wait of a few hundred nanoseconds
# (float rounding of a due time) would not move time and the loop would spin.
MIN_WAIT_S = 0.001


class _State(StrEnum):
    """Where a slice stands in the executor's loop."""

    PENDING = "pending"  # not sent yet
    WORKING = "working"  # an order is (or is being re-sent) at the broker
    DONE = "done"  # ended: filled, cancelled, refused or never sent


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
    state: _State = _State.PENDING

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
            reached = [o for o in self._journal.orders_for_run(run_id) if o.status.reached_broker]
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
                result.orders.append(never_sent(order, self._plan_id, self._attempt, why_unsent))
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
        if result.outcome is Outcome.RUNNING:  # no error, no stop: the orders decide
            result.outcome, result.message = conclude(
                result.orders,
                queue_for,
                result.buys_cut,
                deadline_passed=self._now() >= self._deadline,
                deadline_s=self._policy.deadline_s,
            )
        return result

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
            live = [c for c in children if c.state is not _State.DONE]
            now = self._now()
            if not live or now >= bound:
                break
            wake = min(
                [bound, now + interval]
                + [c.due for c in live if c.state is _State.PENDING]
                + [c.repeg_at for c in live if c.state is _State.WORKING]
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
            leg = leg_result(
                order, self._plan_id, self._attempt, LegStatus.PENDING,
                None if market else order.limit_price,
            )  # fmt: skip
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
        due = [c for c in children if c.state is _State.PENDING and c.due <= self._now()]
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
            child.state, child.report.status, child.report.error = (
                _State.DONE,
                LegStatus.SEND_FAILED,
                str(exc),
            )
            self._summarise(leg)
            raise BrokerError(f"order {cid} ({leg.side} {leg.symbol}) not sent: {exc}") from None
        except OrderRejected as exc:
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            child.state, child.report.status, child.report.error = (
                _State.DONE,
                LegStatus.SEND_FAILED,
                str(exc),
            )
            self._on_event(f"rejected {leg.side} {leg.symbol}: {exc}")
            self._summarise(leg)
            return
        except (DuplicateOrder, BrokerError) as exc:
            # The answer may be lost while the order exists: look before anything else.
            placed = self._lookup_or_unconfirmed(child, cid, exc)
        child.order = placed
        child.state = _State.WORKING
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
        self._journal.record_send_failure(cid, why, self._clock.now(), status=LegStatus.UNCONFIRMED)
        child.state, child.report.status, child.report.error = (
            _State.DONE,
            LegStatus.UNCONFIRMED,
            why,
        )
        self._summarise(child.leg)
        raise BrokerError(
            f"order {cid} got no answer and is not at the broker; it may still arrive"
        )

    def _poll(self, children: list[_Child], bound: float) -> None:
        """Read every working order; re-peg those whose time has come before the bound."""
        due_repeg = []
        for child in children:
            if child.state is not _State.WORKING or child.order is None:
                continue
            found = self._broker.get_order_by_client_id(child.order.client_order_id)
            if found is None:
                raise BrokerError(f"order {child.order.client_order_id} disappeared at the broker")
            self._track(child, found)
            if child.state is _State.WORKING and self._now() >= child.repeg_at:
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
        if child.state is _State.DONE:
            return  # it filled (or ended) while being cancelled
        remaining = child.remaining
        if not self._sendable(child, remaining, quote):
            child.state, child.report.status = _State.DONE, LegStatus.CANCELED
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
            child.report.status = LegStatus.of(order.status)
            self._summarise(child.leg)
            return
        child.report.filled_qty += order.filled_qty
        child.report.filled_value += order.filled_qty * (order.filled_avg_price or ZERO)
        child.order = None
        child.report.status = LegStatus.of(order.status)
        child.state = _State.DONE
        if child.report.filled_qty >= child.report.qty:
            child.report.status = LegStatus.FILLED
        elif repegging and order.status is OrderStatus.CANCELED:
            child.state = _State.WORKING
        self._summarise(child.leg)

    def _finish(self, children: list[_Child]) -> None:
        """At the bound, the deadline or a stop: cancel what is open, report what never went."""
        for child in children:
            if child.state is _State.WORKING:
                self._cancel(child)
            elif child.state is _State.PENDING:
                child.state = _State.DONE
                child.report.status = LegStatus.NOT_SENT
                child.report.error = self._stop or "the run deadline passed before it was sent"
                self._summarise(child.leg)

    def _cancel(self, child: _Child) -> None:
        if child.order is None:
            child.state = _State.DONE
            return
        found = self._broker.get_order_by_client_id(child.order.client_order_id)
        if found is not None and not found.status.is_terminal:
            found = self._broker.cancel_order(found.id)
            self._on_event(f"cancelled unfilled {child.leg.side} {child.leg.symbol}")
        if found is not None:
            self._track(child, found)
        child.state = _State.DONE

    def _unsent(self, why: str) -> None:
        """Slices never sent because the run stopped: say so (they were never journaled)."""
        for children in self._children.values():
            for child in children:
                if child.state is _State.PENDING:
                    child.state, child.report.status, child.report.error = (
                        _State.DONE,
                        LegStatus.NOT_SENT,
                        why,
                    )
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
        children = self._children.get(leg.leg, ())
        summarise(leg, [c.order for c in children if c.order is not None])

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
        """Scale buys down to the cash actually available now (see `resize_buys`). Each buy
        not sent gets its report line; `result.buys_cut` holds the sent and planned values."""
        if not buys:
            return []
        account = self._broker.account()
        budget = min(account.cash, account.buying_power) - reserve
        needed = buys_needed(buys)
        if needed <= budget:
            return [(o, o.qty) for o in buys]
        assets = self._broker.assets([o.symbol for o in buys])
        sizing = resize_buys(buys, budget, minimum, assets, queued=queued)
        self._cut.update(sizing.cut)
        for order, why in sizing.skipped:
            result.orders.append(never_sent(order, self._plan_id, self._attempt, why))
        result.buys_cut = (sizing.sent, needed)
        log.warning(
            "buys re-sized to %s of plan: cash available %s", f"{sizing.scale:.2%}", dollars(budget)
        )
        return sizing.sized
