"""The cron contract (issue #7): a doubled `alch execute --yes --targets T` the same trading
day sends nothing the second time, says why and exits 0."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
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


def test_a_guarded_run_shows_no_verdict_of_checks_it_did_not_act_on(
    cli: CliFn, sim: SimBroker
) -> None:
    """The second run's checks block (good faith), but the once-a-day guard is what stopped
    it: no "Verdict: BLOCKED" above "Outcome: nothing_to_do" (attack item 11)."""
    first = cli("execute", "--yes", "--json", "--targets", TARGETS)
    assert first.exit_code == 0
    second = cli("execute", "--yes", "--targets", TARGETS)
    assert second.exit_code == 0
    assert "Verdict" not in second.stdout
    assert " ".join(second.stdout.split()) == (
        f"Outcome: nothing_to_do - nothing to do: already ran today (run "
        f"{first.json()['run_id']}, completed); --force runs again"
    )
    blocked = cli("execute", "--yes", "--force", "--targets", TARGETS)  # the checks decide
    assert blocked.exit_code == 1
    assert "Verdict: BLOCKED" in blocked.stdout


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


def test_orders_at_the_broker_unknown_to_the_journal_refuse_the_run_exit_5(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    """Issue 21: another alch run's orders today (another install, a lost state directory)
    refuse the run with exit 5, naming one (they were "nothing to do", exit 0, before)."""
    first = cli(*CRON)
    assert first.exit_code == 0
    (isolated_state / "journal.sqlite").unlink()  # a lost state directory, another machine
    sent = list(sim.submissions())
    again = cli(*CRON)
    assert again.exit_code == 5, again.stderr
    assert again.stdout == ""
    assert again.stderr.startswith(
        "alch: error: another alch run on account SIM-DEMO-0001 sent orders today: alch-"
    ), again.stderr
    assert "and 3 more (not in this journal: another install's ALCH_HOME" in again.stderr
    assert sim.submissions() == sent


def test_force_runs_again_the_same_day(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.01")  # so the re-plan is not dust
    assert cli(*CRON).exit_code == 0
    forced = cli(*CRON, "--force")
    assert forced.exit_code == 0
    assert forced.json()["message"] == "nothing to do: the account is at its targets"
    # The bypass is loud (issue 14): the guard it overrode is named, as a warning and a note.
    assert re.search(
        r"alch: WARNING: bypassed by --force: the once-a-day guard says already ran today "
        r"\(run \w+-\w+, completed\)\n",
        forced.stderr,
    ), forced.stderr
    assert "alch: note: bypassed by --force: the once-a-day guard says" in forced.stderr


@pytest.mark.parametrize(
    ("now", "runs"),
    [
        ("2026-11-24T15:00:00+00:00", False),  # 10:00 ET: six hours before the close
        ("2026-11-24T20:40:00+00:00", True),  # 15:40 ET: 20 minutes before 16:00
        ("2026-11-27T17:40:00+00:00", True),  # 12:40 ET the day after Thanksgiving: 13:00 close
        ("2026-11-27T20:40:00+00:00", False),  # 15:40 ET that day: already closed
        ("2026-11-26T20:40:00+00:00", False),  # Thanksgiving
    ],
)
def test_close_window_trades_only_just_before_the_close(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch, now: str, runs: bool
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", now)
    result = cli(*CRON, "--close-window", "25m")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = result.json()
    if runs:
        assert report["outcome"] == "completed"
    else:
        assert report["outcome"] == "nothing_to_do"
        assert report["message"].startswith(
            "nothing to do: outside the close window (the last 25 min before the close at "
        )
        assert sim.submissions() == []


def test_the_example_cron_and_systemd_units_use_real_flags(cli: CliFn) -> None:
    """The shipped examples call `alch execute` with flags that exist."""
    help_text = cli("execute", "--help").stdout
    for name in ("crontab", "alch.service"):
        text = (EXAMPLES / "cron" / name).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if " execute " in line]
        assert lines, name
        for flag in re.findall(r"(--[a-z][a-z-]+)", " ".join(lines)):
            assert flag in help_text, f"{name} uses {flag}, which `alch execute` lacks"
    timer = (EXAMPLES / "cron" / "alch.timer").read_text(encoding="utf-8")
    assert "America/New_York" in timer


def test_queued_buys_cut_to_cash_say_so_and_the_next_run_the_same_day_completes_them(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the open, queued sells cannot fund the buys: the run says what was cut and is
    not `done` for the day, so the run after the open buys the rest (issue 13 item 9)."""
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-24T13:00:00+00:00")  # Tuesday 08:00 ET
    first = cli(*CRON, "--queue-for-open")
    assert first.exit_code == 4
    doc = first.json()
    assert doc["outcome"] == "incomplete"
    assert doc["message"] == (
        "4 of 4 orders queued for the session 2026-11-24 09:30-16:00 ET; check `alch status` "
        "after the open; buys cut to $12,000.00 of $27,710.77 planned: the sells' proceeds "
        "arrive after the open; run again once the sells have filled to buy the rest"
    )
    cuts = {o["symbol"]: o["error"] for o in doc["orders"] if o["side"] == "buy"}
    assert cuts == {
        "BND": "cut to 66.402316647 of 153.338280933 ($4,946.31 of $11,422.17): cash on hand "
        "only, the sells' proceeds arrive after the open",
        "VXUS": "cut to 97.051340574 of 224.113953809 ($7,053.69 of $16,288.60): cash on hand "
        "only, the sells' proceeds arrive after the open",
    }
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-24T15:00:00+00:00")  # the same day, open
    second = cli(*CRON)
    assert second.exit_code == 0, second.stderr
    assert second.json()["outcome"] == "completed"
    bought = {o["symbol"] for o in second.json()["orders"] if o["side"] == "buy"}
    assert bought == {"BND", "VXUS"}
    account = cli("status", "--json").json()["account"]
    assert Decimal(account["cash"]) / Decimal(account["equity"]) < Decimal("0.06")  # 5% target
