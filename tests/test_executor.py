"""The executor against the real simulator, with faults injected around it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock, SystemClock
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, Side
from alchemiser_cli.core.planner import Plan, build_plan
from alchemiser_cli.core.policy import ExecutionPolicy, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.executor import ExecutionResult, Executor, Outcome, client_order_id
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

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
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


@pytest.fixture
def broker(make_file: FileMaker, tmp_path: Path) -> LosesAnswers:
    sim = LosesAnswers(tmp_path / "x.sqlite", make_file("seed.toml", SEED), FixedClock(NOW))
    sim.lose, sim.refuse, sim.vanish = set(), set(), set()
    return sim


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "j.sqlite")
    j.start_run("run", "execute", "sim", "X-1", None, None, NOW)
    return j


def plan_for(broker: SimBroker, **weights: str) -> Plan:
    from alchemiser_cli.service import Service
    from alchemiser_cli.settings import Settings

    service = Service(Settings(), broker, Journal(Path(":memory:")), FixedClock(NOW))
    snap = service.snapshot(set(weights))
    targets = Targets({k: D(v) for k, v in weights.items()}, "t")
    no_costs = PlannerPolicy(collar_bps=D(0), sec_fee_rate=D(0), finra_taf_per_share=D(0))
    return build_plan(snap, targets, no_costs, NOW)


def run(
    broker: SimBroker, journal: Journal, plan: Plan, reserve: str = "0", **policy: float
) -> tuple[ExecutionResult, list[str]]:
    events: list[str] = []
    executor = Executor(broker, journal, broker._clock, ExecutionPolicy(**policy), events.append)
    return executor.run(plan, "run", reserve=D(reserve)), events


def test_client_order_ids_are_deterministic_and_short() -> None:
    cid = client_order_id("0123456789abcdef", 12, 3, 4)
    assert cid == "alch-0123456789abcdef-012-03-04"
    assert len(cid) <= 48


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
        f"stopped after a broker error: order {client_order_id(plan.plan_id, 2)} was not "
        "accepted and could not be confirmed"
    )
    assert [o.status for o in journal.orders_for_run("run")] == ["filled", "intent"]


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
