"""The executor against the real simulator, with faults injected around it."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock, SystemClock
from alchemiser_cli.core.calendar import Session
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import ExecutionPolicy, PlannerPolicy
from alchemiser_cli.core.results import ExecutionResult, Outcome
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import BrokerError, OrderNotAccepted
from alchemiser_cli.executor import MIN_WAIT_S, Executor, client_order_id
from alchemiser_cli.journal import Journal
from tests.conftest import D, FileMaker

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SEED = """account_id = "X-1"
cash = "1000"
[positions]
OLD = "10"
[quotes.OLD]
bid = "100"
ask = "100"
[quotes.NEW]
bid = "50"
ask = "50"
[quotes.WHOLE]
bid = "300"
ask = "300"
[assets.WHOLE]
fractionable = false
"""


class LosesAnswers(SimBroker):
    """Submits for real, then raises as if the connection dropped before the answer."""

    lose: set[str]
    refuse: set[str]
    vanish: set[str]
    not_accepted: set[str]

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if request.symbol in self.not_accepted:
            raise OrderNotAccepted("Alpaca did not accept it (Alpaca rate limit (429), 3 tries)")
        if request.symbol in self.refuse:
            raise BrokerError("connection reset before sending")
        placed = super().submit_order(request)
        if request.symbol in self.lose:
            raise BrokerError("read timed out")
        if request.symbol in self.vanish:
            self.vanish.add(request.client_order_id)
        return placed

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        if client_order_id in self.vanish:
            return None
        return super().get_order_by_client_id(client_order_id)


class BoundedClock(FixedClock):
    """A FixedClock that fails the test instead of letting a spinning loop hang it."""

    MAX_SLEEPS = 5_000

    def sleep(self, seconds: float) -> bool:
        if len(self.slept) >= self.MAX_SLEEPS:
            raise AssertionError(f"{self.MAX_SLEEPS} waits: the executor is spinning")
        return super().sleep(seconds)


@pytest.fixture
def broker(make_file: FileMaker, tmp_path: Path) -> LosesAnswers:
    sim = LosesAnswers(tmp_path / "x.sqlite", make_file("seed.toml", SEED), BoundedClock(NOW))
    sim.lose, sim.refuse, sim.vanish, sim.not_accepted = set(), set(), set(), set()
    return sim


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "j.sqlite")
    j.start_run("run", "execute", "sim", "X-1", None, None, NOW)
    return j


def plan_for(broker: SimBroker, collar: str = "0", **weights: str) -> Plan:
    from alchemiser_cli.app.inputs import take_snapshot
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.settings import Settings

    runtime = Runtime(Settings(), broker, Journal(Path(":memory:")), FixedClock(NOW))
    snap = take_snapshot(runtime, set(weights))
    targets = Targets({k: D(v) for k, v in weights.items()}, "t")
    no_costs = PlannerPolicy(collar_bps=D(collar), sec_fee_rate=D(0), finra_taf_per_share=D(0))
    return build_plan(snap, targets, no_costs, NOW)


def run(
    broker: SimBroker, journal: Journal, plan: Plan, reserve: str = "0", **policy: float
) -> tuple[ExecutionResult, list[str]]:
    events: list[str] = []
    executor = Executor(broker, journal, broker._clock, ExecutionPolicy(**policy), events.append)
    return executor.run(plan, "run", reserve=D(reserve)), events


def test_sells_then_buys_all_filled(broker: LosesAnswers, journal: Journal) -> None:
    plan = plan_for(broker, NEW="1")
    result, events = run(broker, journal, plan)
    assert result.outcome is Outcome.COMPLETED
    assert [(o.side, o.symbol, o.status) for o in result.orders] == [
        (Side.SELL, "OLD", "filled"),
        (Side.BUY, "NEW", "filled"),
    ]
    assert result.filled_sell_value == D(1000)
    assert result.filled_buy_value == D(2000)
    assert any(e.startswith("sent sell OLD 10") for e in events)
    assert [o.status for o in journal.orders_for_run("run")] == ["filled", "filled"]


def test_lost_answer_is_looked_up_not_resent(broker: LosesAnswers, journal: Journal) -> None:
    broker.lose = {"NEW"}
    plan = plan_for(broker, NEW="1")
    result, _ = run(broker, journal, plan)
    assert result.outcome is Outcome.COMPLETED
    assert broker.submissions().count(client_order_id(plan.plan_id, 2)) == 1


def test_refused_connection_with_no_order_stops_the_run_and_says_so(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.refuse = {"NEW"}
    plan = plan_for(broker, NEW="1")
    result, _ = run(broker, journal, plan)
    assert result.outcome is Outcome.INCOMPLETE
    assert result.message == (
        f"stopped after a broker error: order {client_order_id(plan.plan_id, 2)}: the send "
        "failed and the broker does not have it yet; it may still arrive"
    )
    why = (
        "the send failed (connection reset before sending) and the broker does not have it "
        "(yet): it may still arrive; the next run looks it up before sending"
    )
    assert [(o.status, o.error) for o in journal.orders_for_run("run")] == [
        ("filled", None),
        ("unconfirmed", why),
    ]
    assert [(o.status, o.error) for o in result.orders] == [("filled", None), ("unconfirmed", why)]


def test_a_submit_refused_before_acceptance_is_send_failed_and_the_run_failed(
    broker: LosesAnswers, journal: Journal
) -> None:
    """429 on every try: nothing reached the broker; the legs say so, truthfully."""
    broker.not_accepted = {"OLD"}
    plan = plan_for(broker, NEW="1")
    result, _ = run(broker, journal, plan)
    refusal = "Alpaca did not accept it (Alpaca rate limit (429), 3 tries)"
    sell = client_order_id(plan.plan_id, 1)
    assert result.outcome is Outcome.FAILED
    assert result.message == (
        "stopped after a broker error; nothing reached the broker: order "
        f"{sell} (sell OLD) not sent: {refusal}"
    )
    assert [(o.symbol, o.status, o.error) for o in result.orders] == [
        ("OLD", "send_failed", refusal),
        (
            "NEW",
            "not_sent",
            f"not sent: the run stopped after a broker error (order {sell} (sell OLD) not "
            f"sent: {refusal})",
        ),
    ]
    assert [(o.status, o.error) for o in journal.orders_for_run("run")] == [
        ("send_failed", refusal)
    ]
    assert journal.plan_executed(plan.plan_id) == []


def test_unfilled_orders_are_cancelled_at_the_timeout_without_real_sleep(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.script("OLD", "hold")
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    result, _ = run(broker, journal, plan, fill_timeout_s=10, poll_initial_s=1, poll_max_s=4)
    clock = broker._clock
    assert isinstance(clock, FixedClock)
    assert clock.slept == [1, 2, 4, 3]  # backoff, capped, and the last wait cut to the deadline
    assert result.outcome is Outcome.INCOMPLETE
    old = next(o for o in result.orders if o.symbol == "OLD")
    assert old.status == "canceled"


def test_buys_are_resized_when_sells_fill_short(broker: LosesAnswers, journal: Journal) -> None:
    broker.script("OLD", "partial", D(2))  # 200 instead of 1000 from the sale
    plan = plan_for(broker, NEW="1")
    result, _ = run(broker, journal, plan, fill_timeout_s=1)
    new = next(o for o in result.orders if o.symbol == "NEW")
    assert new.planned_qty == D(40)
    assert new.sent_qty == D(24)  # cash 1000 + 200 = 1200 at 50
    assert result.outcome is Outcome.INCOMPLETE


def test_a_buy_resized_below_the_minimum_trade_is_not_sent(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.script("OLD", "partial", D(2))  # as above: the buy shrinks from 40 to 24 shares
    plan = plan_for(broker, NEW="1")
    policy = plan.policy.model_copy(update={"min_trade_value": D(1500)})
    result, _ = run(broker, journal, replace(plan, policy=policy), fill_timeout_s=1)
    new = next(o for o in result.orders if o.symbol == "NEW")
    assert (new.status, new.sent_qty) == ("not_sent", D(0))
    assert new.error == "re-sized to $1,200.00, below the minimum trade $1,500.00"
    assert result.outcome is Outcome.INCOMPLETE


def test_a_buy_that_no_longer_fits_is_reported_not_sent(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.script("OLD", "reject")
    plan = plan_for(broker, WHOLE="1")  # 6 shares, funded by selling OLD
    result, _ = run(broker, journal, plan, reserve="900")  # 1000 cash - 900 reserve < 300
    statuses = {o.symbol: (o.status, o.error) for o in result.orders}
    assert statuses["OLD"] == ("rejected", None)
    assert statuses["WHOLE"] == ("not_sent", "not enough cash after the sells to buy any")
    assert result.outcome is Outcome.INCOMPLETE


def test_order_that_vanishes_while_waiting_is_a_broker_error(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.script("OLD", "hold")
    broker.vanish = {"OLD"}
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    result, _ = run(broker, journal, plan)
    assert result.outcome is Outcome.INCOMPLETE
    assert "disappeared at the broker" in result.message


def test_a_cancelled_wait_stops_polling_and_cancels(broker: LosesAnswers, journal: Journal) -> None:
    broker.script("OLD", "hold")
    clock = SystemClock()
    clock.cancel()
    assert clock.sleep(30) is False  # returns at once once cancelled
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    executor = Executor(broker, journal, clock, ExecutionPolicy())
    result = executor.run(plan, "run", reserve=D(0))
    assert next(o for o in result.orders if o.symbol == "OLD").status == "canceled"


def test_slippage_is_signed_against_the_arrival_mid(broker: LosesAnswers, journal: Journal) -> None:
    broker.set_quote("NEW", D("49.9"), D("50.1"))
    plan = plan_for(broker, NEW="1")
    result, _ = run(broker, journal, plan)
    new = next(o for o in result.orders if o.symbol == "NEW")
    assert new.arrival_mid == D(50)
    assert new.slippage_bps == Decimal("20.00")  # paid 50.10 against a 50.00 mid


# -- pricing, re-pegs, slices, deadline, order types --------------------------------------


def test_a_large_order_is_sliced_over_the_window(broker: LosesAnswers, journal: Journal) -> None:
    plan = plan_for(broker, NEW="1")  # buy 40 NEW = $2,000
    result, events = run(broker, journal, plan, slice_notional=500, slice_window_s=120)
    assert result.outcome is Outcome.COMPLETED
    new = next(o for o in result.orders if o.symbol == "NEW")
    assert [s.qty for s in new.slices] == [D(10)] * 4
    assert [s.status for s in new.slices] == ["filled"] * 4
    assert new.filled_qty == D(40)
    assert "buy NEW 40.000000000: 4 slices over 120s" in events
    sent_at = [
        o.submitted_at for o in broker.orders() if o.symbol == "NEW" and o.submitted_at is not None
    ]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]
    assert gaps == [30, 30, 30]  # evenly over the window, on the injected clock


def test_the_deadline_cancels_what_is_open_and_reports_the_rest(
    broker: LosesAnswers, journal: Journal
) -> None:
    broker.script("OLD", "hold")
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    result, _ = run(broker, journal, plan, deadline_s=30, fill_timeout_s=600, max_repegs=0)
    statuses = {o.symbol: (o.status, o.error) for o in result.orders}
    assert statuses["OLD"] == ("canceled", None)
    assert statuses["NEW"] == ("not_sent", "the run deadline passed before it was sent")
    assert result.outcome is Outcome.INCOMPLETE
    assert result.message.endswith("the run deadline (30s) passed and what was open was cancelled")
    assert broker.open_orders() == []
    assert sum(broker._clock.slept) <= 30  # type: ignore[attr-defined]


@pytest.mark.parametrize("interval", [1 / 3, 3.6302413940429688, 0.1, 7.77])
def test_awkward_repeg_intervals_still_move_time_and_end(
    broker: LosesAnswers, journal: Journal, interval: float
) -> None:
    """Due times are floats of epoch seconds; the clock ticks in microseconds. A wait
    shorter than a tick would not move time, so every wait is at least MIN_WAIT_S."""
    for _ in range(4):
        broker.script("OLD", "hold")
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    result, _ = run(broker, journal, plan, repeg_interval_s=interval, max_repegs=3)
    old = next(o for o in result.orders if o.symbol == "OLD")
    assert (old.repegs, old.status) == (3, "canceled")
    slept = broker._clock.slept  # type: ignore[attr-defined]
    assert min(slept) >= MIN_WAIT_S
    assert len(slept) < 200


def test_market_orders_carry_no_limit_and_are_never_repegged(
    broker: LosesAnswers, journal: Journal
) -> None:
    plan = plan_for(broker, NEW="1")
    result, events = run(broker, journal, plan, order_type="market")  # type: ignore[arg-type]
    assert result.outcome is Outcome.COMPLETED
    assert all(o.order_type == "market" and o.limit_price is None for o in broker.orders())
    assert "sent buy NEW 40.000000000 market: filled" in events


class StuckCancel(LosesAnswers):
    """A broker that acknowledges cancels but never confirms them."""

    def cancel_order(self, order_id: str) -> BrokerOrder:
        (order,) = [o for o in self.orders() if o.id == order_id]
        return replace(order, status=OrderStatus.PENDING_CANCEL)


def test_an_unconfirmed_cancel_is_never_repegged(make_file: FileMaker, tmp_path: Path) -> None:
    sim = StuckCancel(tmp_path / "s.sqlite", make_file("seed.toml", SEED), FixedClock(NOW))
    sim.lose, sim.refuse, sim.vanish, sim.not_accepted = set(), set(), set(), set()
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("run", "execute", "sim", "X-1", None, None, NOW)
    sim.script("OLD", "hold")
    plan = plan_for(sim, collar="50", NEW="0.5", OLD="0.25")
    result, events = run(sim, journal, plan, fill_timeout_s=100, cancel_wait_s=5)
    old = next(o for o in result.orders if o.symbol == "OLD")
    assert old.repegs == 0
    assert len(old.slices[0].client_order_ids) == 1  # never a second live order
    assert "OLD: cancel not confirmed; no more re-pegs" in events
    assert result.outcome is Outcome.INCOMPLETE


SESSION = Session(
    NOW.date(),
    datetime(2026, 11, 24, 14, 30, tzinfo=UTC),
    datetime(2026, 11, 24, 21, 0, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ("none", Outcome.COMPLETED),
        ("empty plan", Outcome.COMPLETED),
        ("lost answer", Outcome.INCOMPLETE),
        ("not accepted", Outcome.FAILED),
        ("stopped", Outcome.INTERRUPTED),
        ("deadline", Outcome.INCOMPLETE),
        ("queued", Outcome.QUEUED),
    ],
)
def test_every_run_returns_a_decided_outcome(
    broker: LosesAnswers, journal: Journal, fault: str, outcome: Outcome
) -> None:
    """A result is born `running`; every way a run can end replaces that with its outcome."""
    plan = plan_for(broker, NEW="0.5", OLD="0.25")
    policy = ExecutionPolicy(deadline_s=30, fill_timeout_s=600, max_repegs=0)
    executor = Executor(broker, journal, broker._clock, policy)
    queue_for = None
    if fault == "empty plan":
        plan = replace(plan, orders=())
    elif fault == "lost answer":
        broker.refuse = {"NEW"}
    elif fault == "not accepted":
        broker.not_accepted = {"OLD"}
    elif fault == "stopped":
        executor.stop("SIGTERM")
    elif fault == "deadline":
        broker.script("OLD", "hold")
    elif fault == "queued":
        queue_for = SESSION
    result = executor.run(plan, "run", reserve=D(0), queue_for=queue_for)
    assert result.outcome is outcome
    assert result.message != ""
