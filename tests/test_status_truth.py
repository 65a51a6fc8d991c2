"""`status` tells the truth about old runs (issue 13 item 10): orders as the journal has them
now (refreshed from the broker), and drift against the targets the account was run with."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import EXAMPLES, FileMaker, Run

CliFn = Callable[..., Run]
TARGETS = str(EXAMPLES / "targets" / "three-fund.toml")


def test_queued_orders_that_filled_at_the_open_show_as_filled(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-23T22:00:00+00:00")  # Monday after the close
    queued = cli("execute", "--yes", "--json", "--queue-for-open", "--targets", TARGETS)
    assert {o["status"] for o in queued.json()["orders"]} == {"accepted"}
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-24T15:00:00+00:00")  # they fill at the open
    status = cli("status", "--json", "--run", queued.json()["run_id"])
    assert status.exit_code == 0, status.stderr
    (run,) = status.json()["runs"]
    legs = run["details"]["orders"]
    assert [(o["symbol"], o["status"]) for o in legs] == [
        ("AAPL", "filled"),
        ("VTI", "filled"),
        ("BND", "filled"),
        ("VXUS", "filled"),
    ]
    assert all(o["filled_qty"] == o["sent_qty"] for o in legs)
    assert run["orders"] == 4
    assert run["filled_value"] == "31559.75"
    assert sim.open_orders() == []


def test_status_uses_the_last_run_s_targets_or_the_flag_never_the_demo_on_another_account(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = make_file(
        "acct.toml",
        'account_id = "MINE"\ncash = "1000"\n[positions]\nKO = "10"\n'
        '[quotes.KO]\nbid = "70"\nask = "70"\n[quotes.VTI]\nbid = "100"\nask = "100"\n',
    )
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    plain = cli("status", "--json").json()
    assert plain["targets_source"] is None  # not the demo targets: not the demo account
    assert [(p["symbol"], p["target_weight"]) for p in plain["positions"]] == [("KO", None)]
    flagged = cli("status", "--json", "--targets", "-", input="VTI,1\n")
    assert flagged.exit_code == 0, flagged.stderr
    assert flagged.json()["targets_source"] == "<stdin>"
    assert [(p["symbol"], p["target_weight"]) for p in flagged.json()["positions"]] == [
        ("KO", "0"),
        ("VTI", "1"),
    ]
    targets = make_file("mine.csv", "KO,0.5\nVTI,0.5\n")
    run = cli("execute", "--yes", "--json", "--targets", str(targets))
    assert run.exit_code == 0, run.stderr
    after = cli("status", "--json").json()
    assert after["targets_source"] == (
        f"the last run that sent orders, {run.json()['run_id']} (plan "
        f"{run.json()['plan_id']}: {targets})"
    )
    assert {p["symbol"]: p["target_weight"] for p in after["positions"]} == {
        "KO": "0.5",
        "VTI": "0.5",
    }
    text = cli("status")
    assert f"(targets: the last run that sent orders, {run.json()['run_id']}" in " ".join(
        text.stdout.split()
    )


def test_status_on_the_demo_account_without_runs_says_it_uses_the_demo_targets(
    cli: CliFn,
) -> None:
    doc = cli("status", "--json").json()
    assert doc["targets_source"] == "demo targets"
