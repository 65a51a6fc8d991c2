"""Crash injection: kill `alch execute` at each step, re-run it, and prove nothing is
sent twice and the account still reaches its targets (issue #6, must-show 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import filelock
import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.journal import Journal
from tests.conftest import D, Run, warm_nyse_table
from tests.crash_runner import KILLED, InjectedCrash, install

CliFn = Callable[..., Run]
RUNNER = Path(__file__).with_name("crash_runner.py")

# What the simulator does to the first AAPL order so that the step is reached.
SETUP: dict[str, tuple[str, str | None] | None] = {
    "after_journal": None,
    "after_submit": None,
    "after_partial": ("partial", "10"),
    "during_wait": ("hold", None),
}


def _prepare(sim: SimBroker, point: str) -> None:
    step = SETUP[point]
    if step is not None:
        action, qty = step
        sim.script("AAPL", action, None if qty is None else D(qty))


def _kill(point: str) -> None:
    warm_nyse_table(Path(os.environ["ALCH_HOME"]))  # not what these tests are about
    killed = subprocess.run(
        [sys.executable, str(RUNNER), point, "exit", "execute", "--yes", "--json"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert killed.returncode == KILLED, killed.stderr
    assert killed.stdout == "", "a killed run printed no report claiming anything"


def _runs(home: Path) -> list[tuple[str, str]]:
    journal = Journal(home / "journal.sqlite")
    try:
        return [(r.run_id, r.outcome) for r in journal.recent_runs(10)]
    finally:
        journal.close()


def _assert_recovered(cli: CliFn, sim: SimBroker, home: Path, crashed_run: str) -> None:
    """Re-run execute: it reconciles the crashed run, finishes the job, never re-sends."""
    again = cli("execute", "--yes", "--json")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert f"recovered unfinished run {crashed_run}" in again.stderr
    assert again.json()["outcome"] == "completed"
    sent = sim.submissions()
    assert sent, "the re-run sent the rest of the plan"
    assert len(sent) == len(set(sent)), f"a client_order_id reached the broker twice: {sent}"
    assert dict(_runs(home))[crashed_run] == "interrupted"
    # The account is at its targets: every holding within 0.1% of its weight (what is left
    # is fill-versus-mid cost, a few dollars), and nothing held outside the targets.
    plan = cli("plan", "--json").json()
    weights = {
        p["symbol"]: (D(p["current_weight"]), D(p["target_weight"])) for p in plan["positions"]
    }
    assert set(weights) == set(plan["targets"])
    for symbol, (now, target) in weights.items():
        assert abs(now - target) <= D("0.001"), (symbol, now, target)
    assert all(D(o["est_value"]) < 5 for o in plan["orders"])


def _only_run(home: Path) -> str:
    runs = _runs(home)
    assert len(runs) == 1
    run_id, outcome = runs[0]
    assert outcome == "running", "the crash left the run unfinished in the journal"
    return run_id


@pytest.mark.parametrize("point", list(SETUP))
def test_killed_at_each_step_then_a_rerun_completes_without_duplicates(
    point: str, cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    _prepare(sim, point)
    _kill(point)
    _assert_recovered(cli, sim, isolated_state, _only_run(isolated_state))


@pytest.mark.parametrize("point", list(SETUP))
def test_an_unexpected_exception_at_each_step_exits_70_then_a_rerun_completes(
    point: str,
    cli: CliFn,
    sim: SimBroker,
    isolated_state: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _prepare(sim, point)
    with monkeypatch.context() as patched:
        install(point, "raise", patched.setattr)
        failed = cli("execute", "--yes", "--json")
    assert failed.exit_code == 70
    assert failed.stdout == ""
    assert f"internal error: {InjectedCrash.__name__}: injected crash" in failed.stderr
    _assert_recovered(cli, sim, isolated_state, _only_run(isolated_state))


def test_status_reconciles_a_killed_run_before_showing_it(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    sim.script("AAPL", "hold")
    _kill("during_wait")
    crashed = _only_run(isolated_state)
    assert [o.symbol for o in sim.open_orders()] == ["AAPL"]  # left resting by the kill
    # While another process holds the account, status shows the run as it stands.
    with filelock.FileLock(isolated_state / "locks" / "sim-SIM-DEMO-0001.lock"):
        busy = cli("status", "--json")
    assert busy.exit_code == 0
    assert "a run is in progress: its orders are shown as they stand" in busy.stderr
    assert busy.json()["runs"][0]["outcome"] == "running"
    assert len(busy.json()["open_orders"]) == 1
    # Then status itself settles it: the stale order is cancelled, the run interrupted.
    status = cli("status", "--json")
    assert status.exit_code == 0
    assert f"recovered unfinished run {crashed}: 2 order(s) had reached the broker" in (
        status.stderr
    )
    report = status.json()
    assert report["runs"][0]["run_id"] == crashed
    assert report["runs"][0]["outcome"] == "interrupted"
    assert report["open_orders"] == []
    assert sim.open_orders() == []
    assert len(sim.submissions()) == 2  # reconciling never sends


def test_status_shows_a_recovered_run_s_orders_from_the_journal(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    """A run killed after its first send has no report; status shows its orders as the
    journal (refreshed from the broker) has them, not 0 orders (issue 13 item 10)."""
    _kill("after_submit")
    crashed = _only_run(isolated_state)
    status = cli("status", "--json", "--run", crashed)
    assert status.exit_code == 0, status.stderr
    (run,) = status.json()["runs"]
    assert (run["outcome"], run["orders"], run["filled_value"]) == ("interrupted", 1, "10616")
    (leg,) = run["details"]["orders"]
    assert {k: leg[k] for k in ("leg", "side", "symbol", "status", "filled_qty", "avg_price")} == {
        "leg": 1,
        "side": "sell",
        "symbol": "AAPL",
        "status": "filled",
        "filled_qty": "40",
        "avg_price": "265.4",
    }


def test_a_recovered_run_names_the_planned_orders_it_never_started(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    """Killed after its first send: the other legs were never journaled; the recovery
    says so rather than "0 never sent" alone (attack item 12)."""
    _kill("after_submit")
    crashed = _only_run(isolated_state)
    status = cli("status")
    assert status.exit_code == 0
    assert (
        f"recovered unfinished run {crashed}: 1 order(s) had reached the broker (0 still "
        "open, now cancelled), 0 never sent; 3 planned order(s) never started (not "
        "journaled, not sent): sell VTI, buy BND, buy VXUS"
    ) in " ".join(status.stderr.split())
