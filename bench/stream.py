"""Fill-to-journal delay with Alpaca's trade_updates stream vs polling (issue 16, target 4).

The fake Alpaca server (tests/fake_alpaca.py, HTTP + its trade_updates websocket) rests
N buy orders (scripted holds); `execute`'s Executor runs on the system clock against it
through the real Alpaca adapter. Once the orders rest, the bench fills them one by one at
the fake, every GAP_S, noting time.perf_counter() at each fill; a journal wrapper notes
the moment alch records each order as filled. Same run twice: with the stream, and with
it turned off (polling with the default policy: 0.5 s doubling to 5 s).
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock, SystemClock
from alchemiser_cli.core.models import BrokerOrder, OrderStatus
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import ExecutionPolicy, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.executor import Executor
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy

N = 15
GAP_S = 0.15  # between fills at the fake
TARGET_MS = 100.0
NOW = datetime.fromisoformat("2026-11-24T15:00:00+00:00")


class _Timed(Journal):
    """The journal, noting when each order is first recorded as filled."""

    recorded: dict[str, float]

    def record_broker_state(self, order: BrokerOrder, at: datetime) -> None:
        super().record_broker_state(order, at)
        if order.status is OrderStatus.FILLED:
            self.recorded.setdefault(order.client_order_id, time.perf_counter())


def _seed(path: Path) -> Path:
    lines = ['account_id = "B-1"', 'cash = "100000"']
    for i in range(N):
        lines += [f"[quotes.S{i:02d}]", 'bid = "10"', 'ask = "10"']
    path.write_text("\n".join(lines) + "\n")
    return path


def _plan(broker: object) -> Plan:
    from alchemiser_cli.app.inputs import take_snapshot
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.brokers.sim import SimBroker
    from alchemiser_cli.settings import Settings

    assert isinstance(broker, SimBroker)
    runtime = Runtime(Settings(), broker, Journal(Path(":memory:")), FixedClock(NOW))
    symbols = {f"S{i:02d}" for i in range(N)}
    snap = take_snapshot(runtime, symbols)
    weight = Decimal("0.9") / N
    targets = Targets(dict.fromkeys(symbols, weight), "bench")
    costs = PlannerPolicy(collar_bps=Decimal(0), sec_fee_rate=Decimal(0), finra_taf_per_share=0)
    return build_plan(snap, targets, costs, NOW)


def measure(stream: bool) -> list[float]:
    """Delays (ms) from each fill at the fake to alch journaling it."""
    from tests.fake_alpaca import FakeAlpaca

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeAlpaca(Path(tmp) / "fake", NOW, seed=_seed(Path(tmp) / "seed.toml")) as fake,
    ):
        for i in range(N):
            fake.sim.script(f"S{i:02d}", "hold")
        plan = _plan(fake.sim)
        creds = AlpacaCredentials.model_validate(
            {"api_key_id": fake.keys[0], "api_secret_key": fake.keys[1],
             "api_base_url": fake.url, "api_data_url": fake.url,
             "api_stream_url": fake.stream_url}
        )  # fmt: skip
        broker = AlpacaBroker(
            creds, AlpacaPolicy(), SystemClock(), Path(tmp) / "cache", stream=stream
        )
        recorded: dict[str, float] = {}
        events: list[str] = []

        def run() -> None:
            journal = _Timed(Path(tmp) / "journal.sqlite")
            journal.recorded = recorded
            journal.start_run("run", "execute", "alpaca-paper", "B-1", None, None, NOW)
            policy = ExecutionPolicy(fill_timeout_s=60, deadline_s=120)
            Executor(broker, journal, SystemClock(), policy, events.append).run(
                plan, "run", reserve=Decimal(0)
            )

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        pause = threading.Event()
        while len(fake.sim.orders()) < N or (stream and not any("reconciled" in e for e in events)):
            pause.wait(0.01)
        filled: dict[str, float] = {}
        for order in fake.sim.orders():
            pause.wait(GAP_S)
            filled[order.client_order_id] = fake.fill(order.client_order_id)
        thread.join(60)
        return [(recorded[cid] - at) * 1000 for cid, at in filled.items() if cid in recorded]


def main() -> bool:
    """Print both figures and the verdict; True if the target is met."""
    streamed = measure(stream=True)
    polled = measure(stream=False)
    s_med, p_med = statistics.median(streamed), statistics.median(polled)
    met = len(streamed) == N and s_med < TARGET_MS
    print(f"stream: delay from a fill at the fake server to alch journaling it, {N} fills (ms)")
    print(
        f"  trade_updates stream  median {s_med:7.1f}  max {max(streamed):7.1f}  "
        f"({len(streamed)}/{N} seen)  target < {TARGET_MS:g} -> {'met' if met else 'MISSED'}"
    )
    print(
        f"  polling (0.5-5 s)     median {p_med:7.1f}  max {max(polled):7.1f}  "
        f"({len(polled)}/{N} seen)  ratio polling/stream {p_med / s_med:.0f}x"
    )
    return met


if __name__ == "__main__":
    import sys

    sys.exit(0 if main() else 1)
