"""`status` drift is measured against the targets of the last run that sent orders (or the
configured ones), and says which: a blocked or same-day "nothing to do" run changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import EXAMPLES, FileMaker, Run

CliFn = Callable[..., Run]
THREE_FUND = str(EXAMPLES / "targets" / "three-fund.toml")


def drift(status: Run) -> dict[str, str | None]:
    return {p["symbol"]: p["drift"] for p in status.json()["positions"]}


def test_a_blocked_forced_run_does_not_move_the_drift(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = cli("execute", "--yes", "--targets", THREE_FUND, "--json")
    assert done.json()["outcome"] == "completed", done.stderr
    other = make_file("other.toml", "[targets]\nKO = 0.5\nPEP = 0.5\n")
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "1")
    blocked = cli("execute", "--yes", "--force", "--targets", str(other), "--json")
    assert (blocked.exit_code, blocked.json()["outcome"]) == (1, "blocked")
    status = cli("status", "--json")
    assert status.json()["targets_source"] == (
        f"the last run that sent orders, {done.json()['run_id']} (plan "
        f"{done.json()['plan_id']}: {THREE_FUND})"
    )
    assert all(abs(float(d or 0)) < 0.01 for d in drift(status).values()), drift(status)
    text = " ".join(cli("status").stdout.split())
    assert f"targets: the last run that sent orders, {done.json()['run_id']}" in text


def test_a_same_day_nothing_to_do_run_does_not_move_the_drift(
    cli: CliFn, make_file: FileMaker
) -> None:
    done = cli("execute", "--yes", "--targets", THREE_FUND, "--json")
    assert done.json()["outcome"] == "completed", done.stderr
    other = make_file("other.toml", "[targets]\nKO = 1\n")
    again = cli("execute", "--yes", "--targets", str(other), "--json")
    assert again.json()["outcome"] == "nothing_to_do"
    status = cli("status", "--json")
    assert done.json()["run_id"] in status.json()["targets_source"]
    assert all(abs(float(d or 0)) < 0.01 for d in drift(status).values()), drift(status)


def test_without_a_run_that_sent_orders_the_configured_targets_are_used(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "1")
    blocked = cli("execute", "--yes", "--targets", THREE_FUND, "--json")
    assert blocked.json()["outcome"] == "blocked"
    assert cli("status", "--json").json()["targets_source"] == "demo targets"
