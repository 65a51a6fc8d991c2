"""Checks through the CLI: bypasses are loud, figures are fields, the open-orders flag."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.models import OrderRequest, Side
from tests.conftest import Run

CliFn = Callable[..., Run]
OPEN_CONFLICT_WARNING = "bypassed by --allow-open-orders: open orders already exist for VXUS"
LOUD = f"alch: WARNING: check orders.open_conflict: warn: {OPEN_CONFLICT_WARNING}"
DEMO_NOTE = (
    "alch: note: no targets given: using the demo targets (examples/targets/three-fund.toml); "
    "pass --targets FILE to use your own"
)
DEPRECATED = (
    "alch: note: --cancel-open is deprecated and cancels nothing: it is "
    "--allow-open-orders (open orders stay open); use that name"
)


def finding(doc: dict[str, Any], check_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in doc["findings"] if f["check_id"] == check_id)
    return found


def rest_a_buy(sim: SimBroker) -> None:
    """An order placed by hand on VXUS, which the demo plan buys: far below the market,
    so it stays open."""
    sim.submit_order(OrderRequest("by-hand-1", "VXUS", Side.BUY, Decimal(1), Decimal(1)))
    assert [o.symbol for o in sim.open_orders()] == ["VXUS"]


def test_open_orders_block_and_allow_open_orders_warns_naming_the_flag(
    cli: CliFn, sim: SimBroker
) -> None:
    rest_a_buy(sim)
    blocked = cli("check", "--json")
    assert blocked.exit_code == 1
    conflict = finding(blocked.json(), "orders.open_conflict")
    assert (conflict["severity"], conflict["symbol"], conflict["bypassed_by"]) == (
        "block",
        "VXUS",
        None,
    )
    allowed = cli("check", "--json", "--allow-open-orders")
    assert allowed.exit_code == 0, allowed.stdout
    doc = allowed.json()
    assert doc["blocked"] is False
    assert finding(doc, "orders.open_conflict") == {
        "check_id": "orders.open_conflict",
        "severity": "warn",
        "message": OPEN_CONFLICT_WARNING,
        "hint": "those orders stay open and may fill beside this plan's; alch cancels nothing",
        "symbol": "VXUS",
        "value": None,
        "limit": None,
        "unit": None,
        "bypassed_by": "--allow-open-orders",
    }
    assert allowed.stderr.splitlines() == [LOUD, DEMO_NOTE]  # the bypass, out loud
    human = cli("check", "--allow-open-orders")
    assert human.exit_code == 0
    assert "bypassed by --allow-open-orders" in human.stdout
    assert "Verdict: OK to execute" in human.stdout


def test_cancel_open_is_a_deprecated_alias_that_says_it_cancels_nothing(
    cli: CliFn, sim: SimBroker
) -> None:
    rest_a_buy(sim)
    old = cli("check", "--json", "--cancel-open")
    assert old.exit_code == 0
    assert finding(old.json(), "orders.open_conflict")["message"] == OPEN_CONFLICT_WARNING
    assert old.stderr.splitlines() == [DEPRECATED, LOUD, DEMO_NOTE]
    assert [o.symbol for o in sim.open_orders()] == ["VXUS"]  # still open: nothing cancelled
    quiet = cli("--quiet", "check", "--json", "--cancel-open")
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    for command in ("check", "execute"):
        shown = cli(command, "--help").stdout
        assert "--allow-open-orders" in shown
        assert "--cancel-open" not in shown


def test_execute_with_allow_open_orders_warns_on_stderr_and_in_the_report(
    cli: CliFn, sim: SimBroker
) -> None:
    rest_a_buy(sim)
    result = cli("execute", "--yes", "--json", "--allow-open-orders")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "completed"
    assert finding(report["checks"], "orders.open_conflict")["severity"] == "warn"
    assert LOUD in result.stderr.splitlines()


def test_a_forced_saved_plan_runs_with_a_warning_naming_force_and_the_earlier_run(
    cli: CliFn, sim: SimBroker
) -> None:
    saved = cli("plan", "--json").stdout
    first = cli("execute", "-", "--yes", "--json", input=saved)
    assert first.exit_code == 0, first.stderr
    run = first.json()["run_id"]
    check = cli("check", "-", "--json", "--force", input=saved)
    already = finding(check.json(), "plan.already_executed")
    message = f"bypassed by --force: the journal shows this plan ran in run {run}"
    assert (already["severity"], already["message"], already["bypassed_by"]) == (
        "warn",
        message,
        "--force",
    )
    # The holdings moved since, so the saved plan blocks on its own merits all the same.
    assert check.exit_code == 1
    assert finding(check.json(), "plan.positions")["severity"] == "block"


def test_a_blocking_limit_carries_its_figures_in_the_json(cli: CliFn, monkeypatch: Any) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "2")
    doc = cli("check", "--json").json()
    assert {k: v for k, v in finding(doc, "limits.max_orders").items() if k != "hint"} == {
        "check_id": "limits.max_orders",
        "severity": "block",
        "message": "plan has 4 orders, above max_orders 2",
        "symbol": None,
        "value": "4",
        "limit": "2",
        "unit": "count",
        "bypassed_by": None,
    }
