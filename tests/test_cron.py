"""The cron contract (issue #7): a doubled `alch execute --yes --targets T` the same trading
day sends nothing the second time, says why and exits 0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import EXAMPLES, Run

CliFn = Callable[..., Run]
TARGETS = str(EXAMPLES / "targets" / "three-fund.toml")
CRON = ("execute", "--yes", "--json", "--targets", TARGETS)


def test_a_doubled_cron_run_does_nothing_the_second_time(cli: CliFn, sim: SimBroker) -> None:
    first = cli(*CRON)
    assert first.exit_code == 0
    assert first.json()["outcome"] == "completed"
    sent = list(sim.submissions())
    second = cli(*CRON)
    assert second.exit_code == 0
    report = second.json()
    assert report["outcome"] == "nothing_to_do"
    assert report["message"] == (
        f"nothing to do: already ran today (run {first.json()['run_id']}, completed); "
        "--force runs again"
    )
    assert report["orders"] == []
    assert sim.submissions() == sent
    status = cli("status", "--json").json()
    assert [r["outcome"] for r in status["runs"]] == ["nothing_to_do", "completed"]


def test_the_next_trading_day_runs_again(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(*CRON).exit_code == 0
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-25T15:00:00+00:00")  # Wednesday
    again = cli(*CRON)
    assert again.exit_code == 0
    assert "already ran today" not in again.json()["message"]


def test_an_incomplete_run_is_retried_by_the_next_cron_run(cli: CliFn, sim: SimBroker) -> None:
    sim.script("BND", "reject")
    first = cli(*CRON)
    assert first.exit_code == 4
    second = cli(*CRON)
    assert second.exit_code == 0
    assert second.json()["outcome"] == "completed"
    bnd = next(o for o in second.json()["orders"] if o["symbol"] == "BND")
    assert bnd["side"] == "buy"
    assert bnd["status"] == "filled"


def test_orders_at_the_broker_unknown_to_the_journal_count_as_done(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    assert cli(*CRON).exit_code == 0
    (isolated_state / "journal.sqlite").unlink()  # a lost state directory, another machine
    sent = list(sim.submissions())
    again = cli(*CRON)
    assert again.exit_code == 0
    message = again.json()["message"]
    assert message.startswith(
        "nothing to do: 4 order(s) with alch client order ids were sent today but are not "
        "in this journal (e.g. alch-"
    )
    assert sim.submissions() == sent


def test_force_runs_again_the_same_day(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.01")  # so the re-plan is not dust
    assert cli(*CRON).exit_code == 0
    forced = cli(*CRON, "--force")
    assert forced.exit_code == 0
    assert forced.json()["message"] == "nothing to do: the account is at its targets"
