"""Orders whose answer never came (issue 13 items 2 and 6): a late acceptance is looked up
before any later run sends, so the re-run never doubles it; refusals are journaled as such."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alchemiser_cli.app.execute import execute
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, Side
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import Outcome
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.errors import BrokerError, OrderUnsettled
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import Settings
from tests.conftest import DEMO_ACCOUNT, OPEN_NOW, Run
from tests.fake_alpaca import FakeAlpaca

NOW = datetime.fromisoformat(OPEN_NOW)
THREE_FUND = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
CliFn = Callable[..., Run]


class AcceptsLate(SimBroker):
    """Submits of `late` symbols get no answer; the order reaches the book at `land()`."""

    late: set[str]
    held: list[OrderRequest]

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        if request.symbol in self.late:
            self.held.append(request)
            raise BrokerError("Alpaca timed out")
        return super().submit_order(request)

    def land(self) -> None:
        for request in self.held:
            super().submit_order(request)
        self.held = []


Wired = tuple[Runtime, AcceptsLate, FixedClock]


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[Wired]:
    """A service on the simulator whose VXUS orders are accepted late (settle time 120 s)."""
    clock = FixedClock(NOW)
    broker = AcceptsLate(tmp_path / "late.sqlite", DEMO_ACCOUNT, clock)
    broker.late, broker.held = {"VXUS"}, []
    journal = Journal(tmp_path / "j.sqlite")
    settings = Settings(execution=ExecutionPolicy(unconfirmed_settle_s=120))
    yield Runtime(settings, broker, journal, clock), broker, clock
    journal.close()
    broker.close()


TARGETS = Targets({"VTI": Decimal("0.5"), "VXUS": Decimal("0.2"), "BND": Decimal("0.25")}, "t")


def test_a_late_acceptance_blocks_the_rerun_and_is_never_doubled_on_the_simulator(
    wired: Wired,
) -> None:
    service, broker, clock = wired
    first = execute(service, None, TARGETS, confirm=lambda _p, _r: True)
    assert first.outcome is Outcome.INCOMPLETE
    vxus = next(o for o in first.orders if o.symbol == "VXUS")
    assert vxus.status == "unconfirmed"
    cid = vxus.slices[0].client_order_ids[0]
    clock.advance(10)
    with pytest.raises(OrderUnsettled) as refused:
        execute(service, None, TARGETS, confirm=lambda _p, _r: True)
    assert str(refused.value) == (
        f"order {cid} (buy {vxus.sent_qty} VXUS, run {first.run_id}) got no answer and is not "
        "at the broker yet; it may still arrive: nothing sent; run again after 15:02:00 UTC "
        "(then it counts as never sent if it is still not there)"
    )
    broker.land()  # the broker accepts it 40 s late
    clock.advance(30)
    third = execute(service, None, TARGETS, confirm=lambda _p, _r: True)
    assert (
        f"order {cid} of run {first.run_id} reached the broker after all: filled, "
        in (service.notices[-1])
    )
    assert all(o.symbol != "VXUS" for o in third.orders)
    assert broker.positions()["VXUS"].qty == vxus.sent_qty  # once, not twice
    assert broker.submissions().count(cid) == 1


def test_an_unanswered_order_still_absent_after_the_settle_time_counts_as_never_sent(
    wired: Wired,
) -> None:
    service, broker, clock = wired
    first = execute(service, None, TARGETS, confirm=lambda _p, _r: True)
    vxus = next(o for o in first.orders if o.symbol == "VXUS")
    broker.held, broker.late = [], set()  # it never arrives
    clock.advance(121)
    execute(service, None, TARGETS, confirm=lambda _p, _r: True)
    (record,) = [o for o in service.journal.orders_for_run(first.run_id) if o.symbol == "VXUS"]
    assert (record.status, record.error) == (
        "not_sent",
        "never reached the broker: not there 120s after it was sent",
    )
    bought = broker.positions()["VXUS"].qty  # once, by the new run (prices moved a hair)
    assert abs(bought - vxus.sent_qty) < Decimal("0.01")


# -- through the fake Alpaca server ---------------------------------------------------------


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    server = FakeAlpaca(tmp_path / "fake", NOW)
    server.__enter__()
    monkeypatch.delenv("ALCH_SIM_NOW")
    for name, value in {
        "APCA_API_BASE_URL": server.url,
        "APCA_API_DATA_URL": server.url,
        "APCA_API_KEY_ID": server.keys[0],
        "APCA_API_SECRET_KEY": server.keys[1],
        "ALCH_ALPACA__TIMEOUT_S": "30",  # generous: no fault here waits on it
        "ALCH_ALPACA__SUBMIT_ATTEMPTS": "2",
        # alch runs on the real clock here: its retry waits and first poll are real sleeps
        # (8 s in one test), made short; what is tried, and in what order, is the same.
        "ALCH_ALPACA__MAX_BACKOFF_S": "0.01",
        "ALCH_EXECUTION__POLL_INITIAL_S": "0.01",
    }.items():
        monkeypatch.setenv(name, value)
    return server


def _posts(fake: FakeAlpaca) -> int:
    return sum(1 for m, p, _ in fake.requests if (m, p) == ("POST", "/v2/orders"))


def test_a_late_acceptance_at_alpaca_is_looked_up_before_the_rerun_sends(
    fake: FakeAlpaca, cli: CliFn
) -> None:
    try:
        fake.fault("POST", "/v2/orders", "late", count=2, seconds=50)
        first = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert first.exit_code == 4, first.stderr
        legs = first.json()["orders"]
        sell = legs[0]
        assert (sell["symbol"], sell["status"]) == ("AAPL", "unconfirmed")
        assert {o["status"] for o in legs[1:]} == {"not_sent"}
        cid = sell["slices"][0]["client_order_ids"][0]
        posts = _posts(fake)
        assert posts == 2  # two tries, the same id, no answer to either
        second = cli("execute", "--yes", "--targets", THREE_FUND)
        assert second.exit_code == 3
        assert second.stderr.splitlines()[-1].startswith(
            f"alch: error: order {cid} (sell 40 AAPL, run {first.json()['run_id']}) got no "
            "answer and is not at the broker yet; it may still arrive: nothing sent"
        )
        assert _posts(fake) == posts  # nothing sent
        status = cli("status", "--json")
        assert status.exit_code == 0
        assert (
            f"order {cid} (run {first.json()['run_id']}) got no answer and is not at the broker "
            "yet; it may still arrive"
        ) in status.stderr
        fake.clock.advance(60)  # Alpaca accepts it (once: the retry's copy is a duplicate)
        third = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert third.exit_code == 0, third.stderr
        assert f"order {cid} of run" in third.stderr
        assert all(o["symbol"] != "AAPL" for o in third.json()["orders"])
        assert [o.client_order_id for o in fake.sim.orders() if o.symbol == "AAPL"] == [cid]
        assert "AAPL" not in fake.sim.positions()
    finally:
        fake.__exit__(None, None, None)


def test_a_submit_refused_with_429_on_every_try_is_send_failed_exit_3_and_can_run_again(
    fake: FakeAlpaca, cli: CliFn
) -> None:
    try:
        fake.fault(
            "POST", "/v2/orders", "status", status=429, count=2, headers={"Retry-After": "0"}
        )
        first = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert first.exit_code == 3, first.stderr
        doc = first.json()
        refusal = "Alpaca did not accept it (Alpaca rate limit (429), 2 tries)"
        cid = doc["orders"][0]["slices"][0]["client_order_ids"][0]
        assert doc["outcome"] == "failed"
        assert doc["message"] == (
            "stopped after a broker error; nothing reached the broker: order "
            f"{cid} (sell AAPL) not sent: {refusal}"
        )
        stopped = (
            "not sent: the run stopped after a broker error "
            f"(order {cid} (sell AAPL) not sent: {refusal})"
        )
        assert [(o["symbol"], o["status"], o["error"]) for o in doc["orders"]] == [
            ("AAPL", "send_failed", refusal),
            ("VTI", "not_sent", stopped),
            ("BND", "not_sent", stopped),
            ("VXUS", "not_sent", stopped),
        ]
        second = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert second.exit_code == 0, second.stderr  # not plan.already_executed
        assert second.json()["outcome"] == "completed"
    finally:
        fake.__exit__(None, None, None)


def test_the_simulator_never_settles_an_alpaca_order_of_the_same_account_id(
    fake: FakeAlpaca, cli: CliFn, isolated_state: Path
) -> None:
    """The fake serves the sim demo's account id: an unanswered Alpaca order stays Alpaca's
    (a sim run neither marks it never sent nor is blocked by it)."""
    try:
        fake.fault("POST", "/v2/orders", "late", count=2, seconds=50)
        first = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert first.exit_code == 4, first.stderr
        cid = first.json()["orders"][0]["slices"][0]["client_order_ids"][0]
        on_sim = cli("--broker", "sim", "status")
        assert on_sim.exit_code == 0, on_sim.stderr
        assert cid not in on_sim.stderr
        journal = Journal(isolated_state / "journal.sqlite")
        try:
            (record,) = [o for o in journal.orders_for_run(first.json()["run_id"]) if o.leg == 1]
        finally:
            journal.close()
        assert (record.client_order_id, record.status) == (cid, "unconfirmed")
        second = cli("execute", "--yes", "--targets", THREE_FUND)
        assert second.exit_code == 3
        assert f"alch: error: order {cid} (sell 40 AAPL" in second.stderr
    finally:
        fake.__exit__(None, None, None)


def test_a_failed_look_up_is_never_reported_as_not_at_the_broker(
    fake: FakeAlpaca, cli: CliFn
) -> None:
    """The answer to the submit is lost and every look-up fails: the order may well be at
    Alpaca (here it is), so alch says the look-up failed, not that the order is absent."""
    try:
        fake.fault("POST", "/v2/orders", "lost", count=1)
        fake.fault("GET", "/v2/orders:by_client_order_id", "status", status=500, count=1000)
        first = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert first.exit_code == 4, first.stderr
        sell = first.json()["orders"][0]
        cid = sell["slices"][0]["client_order_ids"][0]
        assert sell["status"] == "unconfirmed"
        assert sell["error"].startswith("the send failed (")
        assert ") and looking it up failed too (" in sell["error"]
        assert (
            "): it may be at the broker; the next run looks it up before sending; cancel failed: "
            in sell["error"]
        )
        assert first.json()["message"] == (
            f"stopped after a broker error: order {cid}: the send failed and it could not be "
            "looked up; it may be at the broker"
        )
        assert "not found" not in first.stdout + first.stderr
        assert "not at the broker" not in first.stdout + first.stderr
        assert [o.client_order_id for o in fake.sim.orders()] == [cid]  # it is there
        again = cli("execute", "--yes", "--targets", THREE_FUND)
        assert again.exit_code == 3
        last = again.stderr.splitlines()[-1]
        assert last.startswith(
            f"alch: error: could not look up order {cid} (sell 40 AAPL, run "
            f"{first.json()['run_id']}), sent earlier without a clear answer: "
        )
        assert last.endswith("; nothing sent: run again when the broker answers")
        assert [o.client_order_id for o in fake.sim.orders()] == [cid]  # nothing doubled
    finally:
        fake.__exit__(None, None, None)


@pytest.mark.parametrize("status", ["held", "accepted_for_bidding", "stopped", "suspended"])
def test_every_order_status_alpaca_documents_is_read(
    fake: FakeAlpaca, cli: CliFn, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    """An open bracket leg (`held`) or an order in one of Alpaca's rarer states elsewhere in
    the account is an open order like any other, and a submit answered with one of them is
    followed like any other: no command stops on the status."""
    route = fake.route
    first_submit = [True]

    def rarer(method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        code, answer = route(method, path, query, body)
        ours = (method, path) == ("POST", "/v2/orders") and bool(first_submit)
        if ours:
            first_submit.clear()
        for order in answer if isinstance(answer, list) else [answer]:
            other = isinstance(order, dict) and order.get("client_order_id") == "bracket-leg-1"
            if other or ours:
                order["status"] = status
        return code, answer

    try:
        fake.sim.submit_order(
            OrderRequest("bracket-leg-1", "MSFT", Side.BUY, Decimal(1), Decimal(1))
        )
        monkeypatch.setattr(fake, "route", rarer)
        for args in (("plan", "--targets", THREE_FUND), ("check", "--targets", THREE_FUND)):
            result = cli(*args)
            assert result.exit_code == 0, (args, result.stderr)
            assert "unknown status" not in result.stderr
        status_run = cli("status")
        assert status_run.exit_code == 0, status_run.stderr
        run = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
        assert run.exit_code == 0, run.stderr
        assert run.json()["outcome"] == "completed"
        assert not first_submit  # the first submit was answered with the rarer status
        assert fake.sim.get_order_by_client_id("bracket-leg-1") is not None
    finally:
        fake.__exit__(None, None, None)
