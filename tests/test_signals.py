"""SIGINT/SIGTERM during `alch execute`: stop sending, cancel what is open, journal the run
as interrupted and exit 130/143 (issue #6). The signal is delivered for real, to this
process, from inside the (simulated) wait, so nothing sleeps."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli.app import execute as execute_app
from alchemiser_cli.app.check import check_plan
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.journal import Journal
from tests.conftest import Run

CliFn = Callable[..., Run]


def _signal_in_first_wait(monkeypatch: pytest.MonkeyPatch, signum: int) -> list[float]:
    """Deliver `signum` to this process the first time the engine waits."""
    real_sleep = FixedClock.sleep
    waits: list[float] = []

    def sleep(self: FixedClock, seconds: float) -> bool:
        waits.append(seconds)
        if len(waits) == 1:
            os.kill(os.getpid(), signum)
        return real_sleep(self, seconds)

    monkeypatch.setattr(FixedClock, "sleep", sleep)
    return waits


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_run_cancels_open_orders_sends_nothing_more_and_exits(
    signum: signal.Signals,
    code: int,
    cli: CliFn,
    sim: SimBroker,
    isolated_state: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim.script("AAPL", "hold")  # the AAPL sell rests, so the run waits for it
    waits = _signal_in_first_wait(monkeypatch, signum)
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    result = cli("execute", "--yes", "--json")
    assert waits, "the run waited"
    assert result.exit_code == code, result.stderr
    report = result.json()
    assert report["outcome"] == "interrupted"
    name = signal.Signals(signum).name
    assert report["message"].startswith(f"interrupted by {name}")
    by_symbol = {o["symbol"]: o for o in report["orders"]}
    assert by_symbol["AAPL"]["status"] == "canceled"
    assert by_symbol["VTI"]["status"] == "filled"  # went out with AAPL, before the signal
    for buy in ("BND", "VXUS"):  # the buys were never sent
        assert by_symbol[buy]["status"] == "not_sent"
        assert by_symbol[buy]["error"] == name
    assert sim.open_orders() == []
    sent = sim.submissions()
    assert sorted(sent) == sorted(
        cid for o in report["orders"] for s in o["slices"] for cid in s["client_order_ids"]
    )
    assert len(sent) == 2
    journal = Journal(isolated_state / "journal.sqlite")
    try:
        (run,) = journal.recent_runs(5)
        assert run.outcome == "interrupted"
        statuses = {o.symbol: o.status for o in journal.orders_for_run(run.run_id)}
    finally:
        journal.close()
    assert statuses == {"AAPL": "canceled", "VTI": "filled"}
    # The process's own handlers are back in place after the command.
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_a_signal_before_anything_is_sent_abandons_the_command(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_check = check_plan

    def check_then_signal(*args: object, **kwargs: object) -> object:
        outcome = real_check(*args, **kwargs)  # type: ignore[arg-type]
        os.kill(os.getpid(), signal.SIGTERM)
        return outcome

    monkeypatch.setattr(execute_app, "check_plan", check_then_signal)
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 143
    assert result.stdout == ""
    assert "stopped by SIGTERM; nothing sent" in result.stderr
    assert sim.submissions() == []
