"""Fills from Alpaca's trade_updates stream: the executor against the fake's websocket.

These run the executor on the system clock in a thread (the stream waits in real time)
while the test thread acts as the exchange; each wait is bounded (a few seconds at most)
and ends as soon as what it waits for happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca import stream as alpaca_stream
from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.brokers.alpaca.rest import stream_url
from alchemiser_cli.clock import SystemClock
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import OrderStatus
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.core.results import ExecutionResult, Outcome
from alchemiser_cli.executor import Executor
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, FileMaker
from tests.conftest import Run as CliRun
from tests.fake_alpaca import CANARY_SECRET, FakeAlpaca
from tests.test_executor import plan_for

NOW = datetime.fromisoformat(OPEN_NOW)
SEED = """account_id = "S-1"
cash = "2000"
[quotes.AAA]
bid = "10"
ask = "10"
[quotes.BBB]
bid = "20"
ask = "20"
"""
# Slow polling (the first read after 30 s of silence): a fill seen sooner came by the stream.
# Each bound is far beyond what a step takes (milliseconds), so that a loaded machine cannot
# reach one: a test's outcome never depends on how fast it runs.
POLICY = ExecutionPolicy(
    poll_initial_s=30, poll_max_s=30, repeg_interval_s=600, fill_timeout_s=120, deadline_s=300
)
BOUND_S = 60.0  # the longest any step of these tests waits in real time


@pytest.fixture
def fake(make_file: FileMaker, tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW, seed=make_file("seed.toml", SEED)) as server:
        yield server


@pytest.fixture(autouse=True)
def quick_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alpaca_stream, "RECONNECT_MIN_S", 0.05)


def broker_for(fake: FakeAlpaca, tmp_path: Path, *, stream: bool = True) -> AlpacaBroker:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]),
        api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url,
        api_data_url=fake.url,
        api_stream_url=fake.stream_url,
    )
    policy = AlpacaPolicy(timeout_s=30)  # generous: no step waits on it
    return AlpacaBroker(creds, policy, SystemClock(), tmp_path / "cache", stream=stream)


def until(check: Callable[[], bool], what: str) -> None:
    """Wait (bounded, in short steps) until `check()` holds."""
    step = threading.Event()
    for _ in range(int(BOUND_S / 0.01)):
        if check():
            return
        step.wait(0.01)
    raise AssertionError(f"not within {BOUND_S}s: {what}")


class Run:
    """The executor in a thread, with its events."""

    def __init__(
        self, broker: AlpacaBroker, path: Path, plan: Plan, policy: ExecutionPolicy = POLICY
    ) -> None:
        self.events: list[str] = []
        self.result: ExecutionResult | None = None
        self.executor: Executor | None = None
        self._broker, self._path, self._policy = broker, path, policy
        self._thread = threading.Thread(target=self._go, args=(plan,), daemon=True)
        self._thread.start()

    def _go(self, plan: Plan) -> None:
        journal = Journal(self._path)  # sqlite: opened on the thread that uses it
        journal.start_run("run", "execute", "alpaca-paper", "S-1", None, None, NOW)
        executor = Executor(self._broker, journal, SystemClock(), self._policy, self.events.append)
        self.executor = executor
        self.result = executor.run(plan, "run", reserve=Decimal(0))

    def done(self) -> ExecutionResult:
        self._thread.join(BOUND_S)
        assert self.result is not None, "the run did not end"
        return self.result


def held_buys(fake: FakeAlpaca) -> Plan:
    """Two buys the fake rests (scripted holds) until the test fills them."""
    fake.sim.script("AAA", "hold")
    fake.sim.script("BBB", "hold")
    return plan_for(fake.sim, AAA="0.5", BBB="0.5")


def reads(fake: FakeAlpaca, path: str = "/v2/orders:by_client_order_id") -> int:
    return sum(1 for m, p, _ in fake.requests if m == "GET" and p == path)


def journaled(path: Path, cid: str) -> LegStatus:
    (order,) = [o for o in Journal(path).orders_for_run("run") if o.client_order_id == cid]
    return order.status


def test_a_fill_at_the_fake_reaches_the_journal_by_the_stream(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    journal = tmp_path / "j.sqlite"
    run = Run(broker_for(fake, tmp_path), journal, held_buys(fake))
    until(lambda: fake.stream.connections == 1 and len(fake.sim.orders()) == 2, "orders resting")
    until(lambda: any("reconciled" in e for e in run.events), "the first reconciliation")
    polled = reads(fake)
    (aaa, bbb) = sorted(fake.sim.orders(), key=lambda o: o.symbol)
    fake.fill(aaa.client_order_id)
    fake.fill(bbb.client_order_id)
    result = run.done()
    assert result.outcome is Outcome.COMPLETED
    assert [(o.symbol, o.filled_qty) for o in result.orders] == [
        ("AAA", Decimal(100)),
        ("BBB", Decimal(50)),
    ]
    assert journaled(journal, aaa.client_order_id) is LegStatus.FILLED
    assert journaled(journal, bbb.client_order_id) is LegStatus.FILLED
    # Learned from the stream, not by reading the orders: no read after the reconciliation.
    assert reads(fake) == polled
    assert [m["data"]["event"] for m in fake.stream.sent[-2:]] == ["fill", "fill"]
    assert fake.stream.auth == ["authenticate"]  # alpaca-py's auth message, keys inside


def test_a_dropped_stream_reconnects_and_reconciles_once_nothing_lost_nothing_doubled(
    fake: FakeAlpaca, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = tmp_path / "j.sqlite"
    run = Run(broker_for(fake, tmp_path), journal, held_buys(fake))
    until(lambda: fake.stream.connections == 1 and len(fake.sim.orders()) == 2, "orders resting")
    until(lambda: any("reconciled" in e for e in run.events), "the first reconciliation")
    (aaa, bbb) = sorted(fake.sim.orders(), key=lambda o: o.symbol)
    pushed = len(fake.stream.sent)
    fake.stream.drop()
    fake.fill(aaa.client_order_id)  # while nobody listens: this update is never pushed
    assert len(fake.stream.sent) == pushed
    until(lambda: fake.stream.connections == 2, "the reconnection")
    until(lambda: sum("reconciled" in e for e in run.events) == 2, "the second reconciliation")
    polled = reads(fake)
    fake.fill(bbb.client_order_id)  # pushed on the new connection
    result = run.done()
    assert result.outcome is Outcome.COMPLETED
    assert [(o.symbol, o.filled_qty, o.status) for o in result.orders] == [
        ("AAA", Decimal(100), "filled"),
        ("BBB", Decimal(50), "filled"),
    ]
    assert len(fake.sim.orders()) == 2  # no order sent twice
    assert sum(1 for m, p, _ in fake.requests if m == "POST" and p == "/v2/orders") == 2
    assert journaled(journal, aaa.client_order_id) is LegStatus.FILLED
    assert journaled(journal, bbb.client_order_id) is LegStatus.FILLED
    assert reads(fake) == polled  # BBB's fill came by the stream
    assert "trade_updates stream dropped; polling until it reconnects" in caplog.text
    assert CANARY_SECRET not in caplog.text


def test_stream_unavailable_falls_back_to_polling(fake: FakeAlpaca, tmp_path: Path) -> None:
    fake.stream.down = True
    journal = tmp_path / "j.sqlite"
    fast = ExecutionPolicy(
        poll_initial_s=0.05,
        poll_max_s=0.1,
        repeg_interval_s=600,
        fill_timeout_s=120,
        deadline_s=300,
    )
    run = Run(broker_for(fake, tmp_path), journal, held_buys(fake), fast)
    until(lambda: len(fake.sim.orders()) == 2, "orders resting")
    for order in fake.sim.orders():
        fake.fill(order.client_order_id)
    result = run.done()
    assert result.outcome is Outcome.COMPLETED
    assert [o.filled_qty for o in result.orders] == [Decimal(100), Decimal(50)]
    assert fake.stream.connections == 0
    assert fake.stream.sent == []
    assert not any("reconciled" in e for e in run.events)
    assert reads(fake) >= 2  # learned by polling


def test_a_silent_stream_falls_back_to_polling_the_silent_orders(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    quiet = ExecutionPolicy(
        poll_initial_s=0.1, poll_max_s=0.2, repeg_interval_s=600, fill_timeout_s=120, deadline_s=300
    )
    journal = tmp_path / "j.sqlite"
    run = Run(broker_for(fake, tmp_path), journal, held_buys(fake), quiet)
    until(lambda: fake.stream.connections == 1 and len(fake.sim.orders()) == 2, "orders resting")
    until(lambda: any("reconciled" in e for e in run.events), "the first reconciliation")
    fake.stream.mute = True
    polled = reads(fake)
    for order in fake.sim.orders():
        fake.fill(order.client_order_id)
    result = run.done()
    assert result.outcome is Outcome.COMPLETED
    assert [o.filled_qty for o in result.orders] == [Decimal(100), Decimal(50)]
    assert not [m for m in fake.stream.sent if m["data"]["event"] == "fill"]
    assert reads(fake) >= polled + 2  # each silent order read after poll_max_s


def test_a_stop_wakes_a_wait_on_the_stream_at_once(fake: FakeAlpaca, tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    run = Run(broker_for(fake, tmp_path), journal, held_buys(fake))  # waits of 30 s
    until(lambda: any("reconciled" in e for e in run.events), "the first reconciliation")
    assert run.executor is not None
    started = time.monotonic()
    run.executor.stop("SIGTERM")
    result = run.done()
    assert time.monotonic() - started < 15  # not the 30 s wait, nor the 120 s bound
    assert result.outcome is Outcome.INTERRUPTED
    assert sorted(o.status for o in fake.sim.orders()) == ["canceled", "canceled"]


def test_the_stream_url_follows_the_trading_url() -> None:
    def url(base: str | None, stream: str | None = None) -> str:
        return stream_url(AlpacaCredentials(api_base_url=base, api_stream_url=stream))

    assert url(None) == "wss://paper-api.alpaca.markets/stream"
    assert url("https://api.alpaca.markets") == "wss://api.alpaca.markets/stream"
    assert url("http://127.0.0.1:8765/") == "ws://127.0.0.1:8765/stream"
    assert url("http://127.0.0.1:8765", "ws://127.0.0.1:9/stream") == "ws://127.0.0.1:9/stream"


def test_the_simulator_and_a_stream_turned_off_push_nothing(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    assert fake.sim.updates() is None
    assert broker_for(fake, tmp_path, stream=False).updates() is None


@pytest.fixture
def demo_fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "demo", NOW) as server:
        yield server


def test_cli_execute_learns_a_fill_from_the_stream(
    demo_fake: FakeAlpaca, cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = demo_fake
    monkeypatch.delenv("ALCH_SIM_NOW")
    for name, value in {
        "APCA_API_BASE_URL": fake.url,
        "APCA_API_DATA_URL": fake.url,
        "APCA_API_STREAM_URL": fake.stream_url,
        "APCA_API_KEY_ID": fake.keys[0],
        "APCA_API_SECRET_KEY": fake.keys[1],
        "ALCH_EXECUTION__POLL_INITIAL_S": "30",  # polling alone would need 30 s to see it
    }.items():
        monkeypatch.setenv(name, value)
    fake.sim.script("VXUS", "hold")
    after: list[int] = []  # how many requests the fake had seen when it filled VXUS

    def exchange() -> None:  # fills VXUS 0.3 s after it rests and the stream listens
        pause = threading.Event()
        for _ in range(int(BOUND_S / 0.01)):
            with fake._lock:
                resting = [o for o in fake.sim.orders() if o.symbol == "VXUS"]
            if resting and fake.stream.connections == 1:
                pause.wait(0.3)
                after.append(len(fake.requests))
                fake.fill(resting[0].client_order_id)
                return
            pause.wait(0.01)

    filler = threading.Thread(target=exchange, daemon=True)
    filler.start()
    targets = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
    run = cli("execute", "--yes", "--json", "--targets", targets)
    filler.join(BOUND_S)
    assert run.exit_code == 0, run.stderr
    assert run.json()["outcome"] == "completed"
    (vxus,) = [o for o in fake.sim.orders() if o.symbol == "VXUS"]
    assert vxus.status is OrderStatus.FILLED
    fills = [m for m in fake.stream.sent if m["data"]["event"] == "fill"]
    assert fills[-1]["data"]["order"]["symbol"] == "VXUS"  # pushed 0.3 s after it rested
    later = fake.requests[after[0] :]
    assert not [p for m, p, _ in later if p == "/v2/orders:by_client_order_id"]  # not polled
    assert CANARY_SECRET not in run.stdout + run.stderr


def test_closing_a_stream_that_never_connected_ends_its_reader() -> None:
    for _ in range(3):  # closed at once: its asyncio loop may not be running yet
        updates = alpaca_stream.AlpacaUpdates("k", "s", "ws://127.0.0.1:9/stream", dict)
        assert not updates.live
        updates.close()
        assert not updates._thread.is_alive()  # no reconnect loop left behind
