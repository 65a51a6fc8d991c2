"""The Executor: the I/O loop that sends one plan's orders (see the package docstring).

It journals each order before sending it, sends sells then re-sized buys, polls, re-pegs
and cancels within the run deadline; the arithmetic it uses lives in `pure`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ONE, ZERO, dollars
from alchemiser_cli.core.plan import Plan, PlannedOrder
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import ExecutionResult, OrderResult, Outcome, SliceResult
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.executor.agreement import await_agreement
from alchemiser_cli.executor.pure import (
    MIN_WAIT_S,
    buys_needed,
    conclude,
    leg_result,
    never_sent,
    resize_buys,
    slice_count,
    split_qty,
)
from alchemiser_cli.executor.slices import Child, SliceDesk, State
from alchemiser_cli.executor.topup import RunKnowledge, capped_buys, known_after
from alchemiser_cli.journal import Journal

log = logging.getLogger("alchemiser_cli.executor")  # as before the package split

# The top-up round's planner, given by the caller: from the executed plan (its targets and
# policy) and what the run knows (positions and cash after its fills), a fresh plan
# checked against fresh state, or the one-line reason the round is skipped.
TopUp = Callable[[Plan, RunKnowledge], "Plan | str"]


class Executor(SliceDesk):
    """Runs one plan's orders against a broker, journaling each step."""

    def __init__(
        self,
        broker: Broker,
        journal: Journal,
        clock: Clock,
        policy: ExecutionPolicy,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(broker, journal, clock, policy, on_event)
        self._result = ExecutionResult()
        self._cut: dict[int, str] = {}  # leg -> why its buy was re-sized below plan
        self._topping = False  # sending the top-up round

    @property
    def progress(self) -> tuple[OrderResult, ...]:
        """The legs so far, as the live view shows them (sent, filled, re-pegged)."""
        return tuple(self._result.orders)

    def stop(self, reason: str) -> None:
        """Stop sending: called from a signal handler; the clock's waits are cut short too."""
        self._stop = reason
        if self._updates is not None:
            self._updates.interrupt()

    def run(
        self,
        plan: Plan,
        run_id: str,
        reserve: Decimal,
        attempt: int = 1,
        queue_for: Session | None = None,
        topup: TopUp | None = None,
        deadline: Deadline | None = None,
    ) -> ExecutionResult:
        """Run the plan (`_run`); the broker's update stream, if one was opened, is closed."""
        try:
            return self._run(plan, run_id, reserve, attempt, queue_for, topup, deadline)
        finally:
            self._close_updates()

    def _run(
        self,
        plan: Plan,
        run_id: str,
        reserve: Decimal,
        attempt: int,
        queue_for: Session | None,
        topup: TopUp | None,
        deadline: Deadline | None,
    ) -> ExecutionResult:
        """Send sells, wait for them, re-size and send buys, wait; report every order.

        `attempt` numbers the runs of one plan (a forced re-run gets fresh order ids).
        With `queue_for` (market closed), orders are sent whole as day orders for that
        session and not waited for; buys are limited to the cash on hand, as the sells'
        proceeds will only exist after the open. With `topup`, once every planned order
        has filled, the cash left is re-deployed in one top-up round (see `_top_up`).
        `deadline` is the run's, made at the command's start (the caller told the broker);
        without one, the executor's own: `deadline_s` from now (the broker is not told).
        """
        self._attempt, self._plan_id, self._run_id = attempt, plan.plan_id, run_id
        said = False  # the top-up round is worth a word in the run's message
        self._deadline = deadline or Deadline.after(self._clock.now(), self._policy.deadline_s)
        result = self._result = ExecutionResult()
        sells = [(o, o.qty) for o in plan.orders if o.side is Side.SELL]
        buys = [o for o in plan.orders if o.side is Side.BUY]
        wait = queue_for is None
        try:
            self._batch(plan, sells, result, wait=wait)
            if self._stop is None and not self._expired():
                minimum = plan.policy.min_trade_value
                sized = self._resize_buys(buys, reserve, minimum, result, queued=not wait)
                self._batch(plan, sized, result, wait=wait)
            if topup is not None and wait and not plan.liquidate:
                said = self._top_up(plan, topup, reserve, result)
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
                [r for r in result.orders if not r.topup],  # the plan's legs decide
                queue_for,
                result.buys_cut,
                deadline_passed=self._expired(),
                deadline_s=self._deadline.seconds,
            )
            if said:
                result.message += f"; {result.topup}"
        return result

    # -- the top-up round ---------------------------------------------------------------

    def _top_up(self, plan: Plan, topup: TopUp, reserve: Decimal, result: ExecutionResult) -> bool:
        """Once every planned order has filled, re-deploy the cash left in ONE round.

        Buys are sent at their collar limits and fill near the ask, so cash is left over.
        The round plans from what the run knows (executor/topup.py): the plan's positions
        plus this run's confirmed fills, and the cash those fills left. It waits (bounded
        by `topup_wait_s`, within the deadline) until the broker's positions agree, and is
        skipped with a note when they do not; `topup` then plans afresh on that knowledge
        (same targets and policy) and re-checks; its buys are cut at their targets and to
        that cash, sent as legs numbered after the plan's (ids ending `-t`). `result.topup`
        says what happened; True when the run's message should say it too.
        """
        if self._stop is not None or self._expired():
            return False  # the run's own message says why it stopped
        if not all(r.complete for r in result.orders):
            result.topup = "no top-up: not every planned order filled"
            return False
        known = known_after(plan, result.orders)
        left = known.cash - reserve
        if left < max(ONE, plan.policy.min_trade_value):
            result.topup = f"no top-up: {dollars(left)} left is below the minimum trade"
            return False  # nothing worth re-deploying
        end = min(self._end_by(), self._now() + self._policy.topup_wait_s)
        why = await_agreement(
            self._broker, self._clock, self._policy, known, end, lambda: self._stop is not None
        )
        fresh = topup(plan, known) if why is None else why
        if isinstance(fresh, str):
            result.topup = f"top-up skipped: {fresh}"
            log.info("top-up round skipped: %s", fresh)  # a normal outcome: no warning
            return True
        assets = self._broker.assets([o.symbol for o in fresh.orders if o.side is Side.BUY])
        capped, notes = capped_buys(fresh, known.positions, assets)
        for note in notes:
            log.info("top-up: %s", note)
        after = max((o.leg for o in plan.orders), default=0)
        buys = [replace(o, leg=after + i) for i, o in enumerate(capped, 1)]
        if not buys:
            result.topup = f"no top-up: a fresh plan buys nothing with the {dollars(left)} left"
            return False
        self._topping = True
        cut, planned = self._cut, result.buys_cut
        try:
            sized = self._resize_buys(buys, reserve, fresh.policy.min_trade_value, result, cap=left)
            # A top-up leg is what is sent: its planned quantity is the re-sized one.
            self._cut = {}
            legs = [(replace(o, qty=qty), qty) for o, qty in sized]
            self._batch(fresh, legs, result, wait=True)
        finally:
            self._topping, self._cut, result.buys_cut = False, cut, planned
        done = [r for r in result.orders if r.topup]
        filled = sum((r.filled_value for r in done), ZERO)
        result.topup = (
            f"top-up round: {len(done)} buy(s) for the {dollars(left)} left, "
            f"{sum(1 for r in done if r.complete)} filled, bought {dollars(filled)}"
        )
        self._on_event(result.topup)
        return True

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
        if wait:
            self._open_updates()  # connects in the background while the first orders go out
        last_due = max(c.due for c in children)
        bound = min(self._end_by(), last_due + self._policy.fill_timeout_s)
        interval = self._policy.poll_initial_s
        while True:
            if self._stop is not None:
                break
            self._send_due(children)
            if not wait:
                return  # queued for the open: nothing to wait for
            live = [c for c in children if c.state is not State.DONE]
            now = self._now()
            if not live or now >= bound:
                break
            wake = min(
                [bound, now + interval]
                + [c.due for c in live if c.state is State.PENDING]
                + [c.repeg_at for c in live if c.state is State.WORKING]
            )
            if not self._wait(max(MIN_WAIT_S, wake - now)) or self._stop is not None:
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
    ) -> list[Child]:
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
                None if market else order.limit_price, topup=self._topping,
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
                child = Child(leg, report, start + i * gap, edge, asset)
                children.append(child)
                self._children.setdefault(order.leg, []).append(child)
        return children

    def _send_due(self, children: list[Child]) -> None:
        due = [c for c in children if c.state is State.PENDING and c.due <= self._now()]
        if not due:
            return
        quotes = self._broker.quotes({c.leg.symbol for c in due})
        for child in due:
            if self._stop is not None or self._expired():
                return
            self._send(child, child.remaining, quotes.get(child.leg.symbol))

    def _finish(self, children: list[Child]) -> None:
        """At the bound, the deadline or a stop: cancel what is open, report what never went."""
        for child in children:
            if child.state is State.WORKING:
                self._cancel(child)
            elif child.state is State.PENDING:
                child.state = State.DONE
                child.report.status = LegStatus.NOT_SENT
                child.report.error = self._stop or "the run deadline passed before it was sent"
                self._summarise(child.leg)

    def _unsent(self, why: str) -> None:
        """Slices never sent because the run stopped: say so (they were never journaled)."""
        for children in self._children.values():
            for child in children:
                if child.state is State.PENDING:
                    child.state, child.report.status, child.report.error = (
                        State.DONE,
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
                except BrokerError as exc:  # kept after what the leg already says
                    leg.error = "; ".join(filter(None, [leg.error, f"cancel failed: {exc}"]))

    # -- buys -------------------------------------------------------------------------

    def _resize_buys(
        self,
        buys: list[PlannedOrder],
        reserve: Decimal,
        minimum: Decimal,
        result: ExecutionResult,
        *,
        queued: bool = False,
        cap: Decimal | None = None,
    ) -> list[tuple[PlannedOrder, Decimal]]:
        """Scale buys down to the cash actually available now (see `resize_buys`), and to
        `cap` (the top-up round: the cash this run's fills left). Each buy not sent gets
        its report line; `result.buys_cut` holds the sent and planned values."""
        if not buys:
            return []
        account = self._broker.account()
        budget = min(account.cash, account.buying_power) - reserve
        if cap is not None:
            budget = min(budget, cap)
        needed = buys_needed(buys)
        if needed <= budget:
            return [(o, o.qty) for o in buys]
        assets = self._broker.assets([o.symbol for o in buys])
        sizing = resize_buys(buys, budget, minimum, assets, queued=queued)
        self._cut.update(sizing.cut)
        for order, why in sizing.skipped:
            result.orders.append(
                never_sent(order, self._plan_id, self._attempt, why, topup=self._topping)
            )
        result.buys_cut = (sizing.sent, needed)
        log.log(
            logging.INFO if self._topping else logging.WARNING,  # a top-up always is
            "buys re-sized to %s of plan: cash available %s",
            f"{sizing.scale:.2%}",
            dollars(budget),
        )
        return sizing.sized
