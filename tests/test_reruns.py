"""A run that filled nothing did not execute its plan (issue 21): the same plan runs
again without --force; a run that filled anything still counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.journal import Journal
from tests.conftest import EXAMPLES, OPEN_NOW, Run

CliFn = Callable[..., Run]
TARGETS = str(EXAMPLES / "targets" / "three-fund.toml")
CRON = ("execute", "--yes", "--json", "--targets", TARGETS)
NOW = datetime.fromisoformat(OPEN_NOW)


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCH_EXECUTION__FILL_TIMEOUT_S", "5")
    monkeypatch.setenv("ALCH_EXECUTION__MAX_REPEGS", "0")


def test_a_run_that_filled_nothing_does_not_block_the_same_plan(cli: CliFn, sim: SimBroker) -> None:
    for symbol in ("AAPL", "VTI", "BND", "VXUS"):
        sim.script(symbol, "hold")  # nothing fills: every order is cancelled at the bound
    first = cli(*CRON)
    assert first.exit_code == 4, first.stderr
    assert {o["filled_qty"] for o in first.json()["orders"]} == {"0"}
    second = cli(*CRON)  # the same account, the same quotes: the same plan id
    assert second.json()["plan_id"] == first.json()["plan_id"]
    assert second.exit_code == 0, second.stderr
    assert second.json()["outcome"] == "completed"
    findings = {f["check_id"]: f["severity"] for f in second.json()["checks"]["findings"]}
    assert findings["plan.already_executed"] == "pass"


def journal_with(tmp_path: Path, **statuses: tuple[str, str]) -> Journal:
    """A journal holding one run of plan P with one order per leg: status, filled."""
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("R", "execute", "sim", "A", "P", None, NOW)
    for leg, (cid, (status, filled)) in enumerate(statuses.items(), 1):
        request = OrderRequest(cid, "VTI", Side.BUY, Decimal(1), Decimal(100))
        journal.record_intent("R", "P", leg, request, NOW)
        broker = status in {s.value for s in OrderStatus}
        order = BrokerOrder(f"b{leg}", cid, "VTI", Side.BUY, Decimal(1), Decimal(100),
                            OrderStatus(status) if broker else OrderStatus.NEW,
                            filled_qty=Decimal(filled))  # fmt: skip
        if broker:
            journal.record_broker_state(order, NOW)
        elif status != "intent":
            journal.record_send_failure(cid, "why", NOW, LegStatus(status))
    return journal


@pytest.mark.parametrize(
    ("legs", "counts"),
    [
        ({"a": ("canceled", "0"), "b": ("canceled", "0")}, False),  # nothing filled
        ({"a": ("canceled", "0"), "b": ("not_sent", "0")}, False),
        ({"a": ("canceled", "0.5"), "b": ("canceled", "0")}, True),  # something filled
        ({"a": ("filled", "1")}, True),
        ({"a": ("new", "0")}, True),  # still working: it may fill
        ({"a": ("unconfirmed", "0")}, True),  # fate unknown: it may be there
        ({"a": ("intent", "0")}, True),
    ],
)
def test_a_run_counts_as_executing_its_plan_when_anything_filled_or_may_have(
    tmp_path: Path, legs: dict[str, tuple[str, str]], counts: bool
) -> None:
    journal = journal_with(tmp_path, **legs)
    assert [r.run_id for r in journal.plan_executed("P")] == (["R"] if counts else [])
    assert journal.plan_attempts("P") == 1  # fresh client order ids either way
