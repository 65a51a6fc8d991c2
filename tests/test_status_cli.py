"""`alch status` from the command line: runs, weights and unknown runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Run

CliFn = Callable[..., Run]


def test_status_human_and_one_run(cli: CliFn) -> None:
    empty = cli("status")
    assert empty.exit_code == 0
    assert "No runs in the journal yet." in empty.stdout
    run_id = cli("execute", "--yes", "--json").json()["run_id"]
    one = cli("status", "--json", "--run", run_id[:18])
    assert one.exit_code == 0
    (run,) = one.json()["runs"]
    assert run["details"]["run_id"] == run_id
    assert run["slippage_bps"] is not None
    assert float(run["slippage_bps"]) > 0  # sim fills at the touch: a cost against the mid
    assert "completed" in cli("status").stdout
    detail = cli("status", "--run", run_id)
    assert f"Orders of run {run_id}" in detail.stdout
    assert "VXUS" in detail.stdout


def test_status_unknown_run_and_bad_runs_flag(cli: CliFn) -> None:
    unknown = cli("status", "--run", "nope")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "alch: error: no run 'nope' in the journal (see `alch status --runs 20`)\n",
    )
    assert cli("status", "--runs", "0").exit_code == 2


def test_status_weights_are_the_plans_weights_with_a_reserve_and_kept_positions(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__CASH_RESERVE_PCT", "0.1")
    monkeypatch.setenv("ALCH_PLANNER__KEEP", '["AAPL"]')
    planned = {p["symbol"]: p for p in cli("plan", "--json").json()["positions"]}
    shown = {p["symbol"]: p for p in cli("status", "--json").json()["positions"]}
    for symbol in ("VTI", "BND", "VXUS"):
        assert shown[symbol]["weight"] == planned[symbol]["current_weight"]
        assert shown[symbol]["target_weight"] == planned[symbol]["target_weight"]
    assert shown["AAPL"]["target_weight"] is None  # kept: outside the rebalanced base
