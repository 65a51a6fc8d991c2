"""`alch check` from the command line: pipes, saved plans, limits and tampering."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.conftest import Run, plan_json

CliFn = Callable[..., Run]


def test_plan_piped_into_check_passes(cli: CliFn) -> None:
    result = cli("check", "-", input=plan_json(cli))
    assert result.exit_code == 0
    assert "OK to execute" in result.stdout


def test_check_json_lists_every_check(cli: CliFn) -> None:
    result = cli("check", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["blocked"] is False
    assert {f["severity"] for f in doc["findings"]} == {"pass"}
    assert "limits.order_notional" in [f["check_id"] for f in doc["findings"]]
    assert doc["plan"]["plan_id"] == doc["plan_id"]


def test_order_above_the_notional_limit_blocks_with_the_figures(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDER_NOTIONAL", "10000")
    result = cli("check", "--json")
    assert result.exit_code == 1
    finding = next(
        f for f in json.loads(result.stdout)["findings"] if f["check_id"] == "limits.order_notional"
    )
    assert finding["severity"] == "block"
    assert finding["message"] == (
        "3 order(s) above max_order_notional $10,000.00: largest buy VXUS $16,288.60"
    )


def test_plan_and_targets_together_are_refused(cli: CliFn) -> None:
    result = cli("check", "-", "--targets", "x.toml", input="{}")
    assert (result.exit_code, result.stderr) == (
        2,
        "alch: error: give either a saved PLAN or --targets, not both\n",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "<stdin>: not a JSON plan: Expecting value at line 1"),
        ("[]", "<stdin>: not a plan (expected a JSON object from `alch plan --json`)"),
        ('{"schema_version": 99}', "<stdin>: plan schema_version 99 is not supported"),
        ('{"schema_version": 2}', "<stdin>: invalid plan field plan_id: Field required"),
        ('{"schema_version": 1}', "<stdin>: plan schema_version 1 is not supported"),
    ],
)
def test_bad_saved_plans_exit_2(cli: CliFn, text: str, message: str) -> None:
    result = cli("check", "-", input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"alch: error: {message}")
    assert len(result.stderr.splitlines()) == 1


def test_tampered_plan_orders_are_refused(cli: CliFn) -> None:
    doc = json.loads(plan_json(cli))
    doc["orders"][0]["qty"] = "-5"
    result = cli("execute", "-", "--yes", input=json.dumps(doc))
    assert result.exit_code == 2
    assert "order 1 (AAPL): qty and limit_price must be positive" in result.stderr
    doc["orders"][0]["leg"] = 7
    result = cli("execute", "-", "--yes", input=json.dumps(doc))
    assert "order legs must run 1..4 in order, got [7, 2, 3, 4]" in result.stderr


def test_plan_for_another_account_is_blocked(cli: CliFn) -> None:
    doc = json.loads(plan_json(cli))
    doc["account_id"] = "SOMEONE-ELSE"
    result = cli("check", "-", "--json", input=json.dumps(doc))
    assert result.exit_code == 1
    finding = next(
        f for f in json.loads(result.stdout)["findings"] if f["check_id"] == "plan.account"
    )
    assert finding["message"] == "plan was made for sim:SOMEONE-ELSE, this is sim:SIM-DEMO-0001"


@pytest.mark.parametrize("created", ["2026-11-24T16:00:00", "2026-11-24"])
@pytest.mark.parametrize("command", ["check", "execute"])
def test_a_saved_plan_dated_without_a_time_zone_exits_2_naming_the_field(
    cli: CliFn, created: str, command: str
) -> None:
    doc = json.loads(plan_json(cli))
    doc["created_at"] = created
    args = ("execute", "-", "--yes") if command == "execute" else ("check", "-")
    result = cli(*args, input=json.dumps(doc))
    assert result.exit_code == 2
    assert result.stderr == (
        f"alch: error: <stdin>: invalid plan field created_at: {created!r} has no time zone "
        "(`alch plan` writes one, e.g. 2026-11-24T15:00:00Z); make a fresh plan with "
        "`alch plan`\n"
    )
