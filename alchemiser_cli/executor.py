"""Sending a plan's orders: journal first, sells before buys, every wait bounded.

Each order's intent is committed to the journal before it is sent, under a deterministic
client_order_id. If the broker's answer is lost, the order is looked up by that id before
anything else happens, so it is never sent twice. Buys are re-sized from the cash actually
available once the sells are done. Whatever happens, each order ends with a recorded status
and the run's outcome says whether everything completed as planned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.core.money import ONE, ZERO, bps_of, qty_down, whole_down
from alchemiser_cli.core.planner import Plan, PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.types import Exact, Money
from alchemiser_cli.errors import BrokerError, DuplicateOrder, OrderRejected
from alchemiser_cli.journal import Journal

log = logging.getLogger(__name__)
_NOT_WORKING = frozenset({"send_failed", "not_sent", "rejected", "canceled", "expired"})


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


def client_order_id(plan_id: str, leg: int, slice_no: int = 1, attempt: int = 1) -> str:
    """The deterministic id of one order: the same plan, leg, slice and attempt give the same id."""
    return f"alch-{plan_id}-{leg:03d}-{slice_no:02d}-{attempt:02d}"


@dataclass(slots=True)
class OrderResult:
    """What happened to one planned order."""

    leg: int
    client_order_id: str
    symbol: str
    side: Side
    planned_qty: Exact
    sent_qty: Exact
    limit_price: Exact
    status: str
    filled_qty: Exact = ZERO
    avg_price: Exact | None = None
    arrival_mid: Exact | None = None
    slippage_bps: Exact | None = None
    error: str | None = None

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
        self._stop: str | None = None  # set by a signal: send nothing more

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
        With `queue_for` (market closed), orders are sent as day orders for that session
        and not waited for; buys are limited to the cash on hand, as the sells' proceeds
        will only exist after the open.
        """
        self._attempt = attempt
        result = ExecutionResult()
        sells = [o for o in plan.orders if o.side is Side.SELL]
        buys = [o for o in plan.orders if o.side is Side.BUY]
        try:
            self._batch(plan, run_id, sells, result, wait=queue_for is None)
            if self._stop is None:
                sized = self._resize_buys(plan.plan_id, buys, reserve, result)
                self._batch(plan, run_id, sized, result, wait=queue_for is None)
        except BrokerError as exc:
            result.outcome = Outcome.INCOMPLETE
            result.message = f"stopped after a broker error: {exc}"
            self._cancel_open(result)
        if self._stop is not None:
            self._cancel_open(result)
            sent = {r.leg for r in result.orders}
            for order in plan.orders:
                if order.leg not in sent:
                    result.orders.append(self._never_sent(plan.plan_id, order, self._stop))
            result.outcome = Outcome.INTERRUPTED
            result.message = (
                f"interrupted by {self._stop}: sent nothing more, cancelled this run's open orders"
            )
        result.orders.sort(key=lambda r: r.leg)
        result.filled_buy_value = sum(
            (r.filled_value for r in result.orders if r.side is Side.BUY), ZERO
        )
        result.filled_sell_value = sum(
            (r.filled_value for r in result.orders if r.side is Side.SELL), ZERO
        )
        if result.outcome is not Outcome.COMPLETED:
            return result
        if queue_for is not None:
            working = [r for r in result.orders if r.status not in _NOT_WORKING]
            result.outcome = (
                Outcome.QUEUED if len(working) == len(result.orders) else (Outcome.INCOMPLETE)
            )
            result.message = (
                f"{len(working)} of {len(result.orders)} orders queued for the session "
                f"{queue_for.describe()}; check `alch status` after the open"
            )
        elif not all(r.complete for r in result.orders):
            result.outcome = Outcome.INCOMPLETE
            bad = [r for r in result.orders if not r.complete]
            result.message = (
                f"{len(bad)} of {len(result.orders)} orders did not complete as planned"
            )
        else:
            result.message = f"all {len(result.orders)} orders filled"
        return result

    def _on_event(self, message: str) -> None:
        """Every order event goes to the log; a listener (the live view) may echo it."""
        log.info(message)
        if self._listener is not None:
            self._listener(message)

    # -- steps ---------------------------------------------------------------------------

    def _batch(
        self,
        plan: Plan,
        run_id: str,
        orders: list[tuple[PlannedOrder, Decimal]] | list[PlannedOrder],
        result: ExecutionResult,
        *,
        wait: bool,
    ) -> None:
        pending: list[OrderResult] = []
        for item in orders:
            order, qty = item if isinstance(item, tuple) else (item, item.qty)
            if self._stop is not None:
                return  # the caller reports the orders never sent
            outcome = self._send(plan, run_id, order, qty)
            result.orders.append(outcome)
            if outcome.status not in (OrderStatus.FILLED.value, "send_failed") and not (
                OrderStatus(outcome.status).is_terminal
            ):
                pending.append(outcome)
        if wait:
            self._await(pending)

    def _send(self, plan: Plan, run_id: str, order: PlannedOrder, qty: Decimal) -> OrderResult:
        cid = client_order_id(plan.plan_id, order.leg, attempt=self._attempt)
        price = plan.prices.get(order.symbol)
        outcome = OrderResult(
            leg=order.leg,
            client_order_id=cid,
            symbol=order.symbol,
            side=order.side,
            planned_qty=order.qty,
            sent_qty=qty,
            limit_price=order.limit_price,
            status="intent",
            arrival_mid=price.ref if price else None,
        )
        request = OrderRequest(
            client_order_id=cid,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            limit_price=order.limit_price,
        )
        self._journal.record_intent(run_id, plan.plan_id, order.leg, request, self._clock.now())
        try:
            placed = self._broker.submit_order(request)
        except OrderRejected as exc:
            self._journal.record_send_failure(cid, str(exc), self._clock.now())
            outcome.status, outcome.error = "send_failed", str(exc)
            self._on_event(f"rejected {order.side} {order.symbol}: {exc}")
            return outcome
        except DuplicateOrder:
            placed = self._lookup_or_raise(cid)
        except BrokerError:
            # The answer may be lost while the order exists: look before anything else.
            placed = self._lookup_or_raise(cid)
        self._update(outcome, placed)
        self._on_event(
            f"sent {order.side} {order.symbol} {qty} @ {order.limit_price}: {placed.status}"
        )
        return outcome

    def _lookup_or_raise(self, cid: str) -> BrokerOrder:
        found = self._broker.get_order_by_client_id(cid)
        if found is None:
            raise BrokerError(f"order {cid} was not accepted and could not be confirmed")
        return found

    def _await(self, pending: list[OrderResult]) -> None:
        """Poll until every order is terminal or the fill timeout passes; cancel leftovers."""
        deadline = self._clock.now().timestamp() + self._policy.fill_timeout_s
        interval = self._policy.poll_initial_s
        while pending:
            remaining = deadline - self._clock.now().timestamp()
            if remaining <= 0:
                break
            if not self._clock.sleep(min(interval, remaining)) or self._stop is not None:
                break  # cancelled: fall through to cancelling what is open
            interval = min(interval * 2, self._policy.poll_max_s)
            for outcome in list(pending):
                found = self._broker.get_order_by_client_id(outcome.client_order_id)
                if found is None:
                    raise BrokerError(f"order {outcome.client_order_id} disappeared at the broker")
                self._update(outcome, found)
                if found.status.is_terminal:
                    pending.remove(outcome)
        for outcome in pending:
            self._cancel(outcome)

    def _cancel(self, outcome: OrderResult) -> None:
        found = self._broker.get_order_by_client_id(outcome.client_order_id)
        if found is None or found.status.is_terminal:
            if found is not None:
                self._update(outcome, found)
            return
        self._update(outcome, self._broker.cancel_order(found.id))
        self._on_event(f"cancelled unfilled {outcome.side} {outcome.symbol}")

    def _cancel_open(self, result: ExecutionResult) -> None:
        for outcome in result.orders:
            if outcome.status not in ("intent", "send_failed") and not (
                OrderStatus(outcome.status).is_terminal
            ):
                try:
                    self._cancel(outcome)
                except BrokerError as exc:
                    outcome.error = f"cancel failed: {exc}"

    def _resize_buys(
        self, plan_id: str, buys: list[PlannedOrder], reserve: Decimal, result: ExecutionResult
    ) -> list[tuple[PlannedOrder, Decimal]]:
        """Scale buys down to the cash actually available now (never using margin)."""
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
            if qty <= ZERO or qty * order.limit_price < ONE:
                why = "not enough cash after the sells to buy any"
                result.orders.append(self._never_sent(plan_id, order, why))
                continue
            sized.append((order, qty))
        log.warning("buys re-sized to %s of plan: cash available %s", scale, budget)
        return sized

    def _never_sent(self, plan_id: str, order: PlannedOrder, why: str) -> OrderResult:
        """The report line of a planned order that was not sent, and why."""
        return OrderResult(
            leg=order.leg,
            client_order_id=client_order_id(plan_id, order.leg, attempt=self._attempt),
            symbol=order.symbol,
            side=order.side,
            planned_qty=order.qty,
            sent_qty=ZERO,
            limit_price=order.limit_price,
            status="not_sent",
            error=why,
        )

    def _update(self, outcome: OrderResult, order: BrokerOrder) -> None:
        outcome.status = order.status.value
        outcome.filled_qty = order.filled_qty
        outcome.avg_price = order.filled_avg_price
        if order.filled_avg_price is not None and outcome.arrival_mid:
            diff = order.filled_avg_price - outcome.arrival_mid
            signed = diff if outcome.side is Side.BUY else -diff
            outcome.slippage_bps = bps_of(signed, outcome.arrival_mid).quantize(Decimal("0.01"))
        self._journal.record_broker_state(order, self._clock.now())
