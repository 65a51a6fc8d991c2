"""A way out of every state (issue 21): an order answer that cannot be true (twice the
ordered quantity filled) is journaled `disputed` with the broker's figures; `status`
shows it and exits 0; the next `execute` plans from the broker's positions after saying
so; `alch reconcile --accept` takes the broker's word. No state needs a hand edit."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.journal import Journal
from tests.conftest import OPEN_NOW, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.invariants import cash_seed

NOW = datetime.fromisoformat(OPEN_NOW)
CliFn = Callable[..., Run]
ALL_CASH = cash_seed("PA-CASH-1")
HALF = "VTI,0.25\nBND,0.2\n"  # twice the buys still fit the cash


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    seed = tmp_path / "cash.toml"
    seed.write_text(ALL_CASH, encoding="utf-8")
    with FakeAlpaca(tmp_path / "fake", NOW, seed=seed) as server:
        use_fake_alpaca(server, monkeypatch)
        monkeypatch.setenv("ALCH_ALPACA__STREAM", "false")
        yield server


def test_an_impossible_fill_is_disputed_then_status_execute_and_reconcile_go_on(
    fake: FakeAlpaca, cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    targets = tmp_path / "half.csv"
    targets.write_text(HALF, encoding="utf-8")
    fake.fill_factor(Decimal(2))  # the broker fills twice what was asked, and says so
    first = cli("execute", "--yes", "--json", "--targets", str(targets))
    assert first.exit_code == 4, first.stderr
    doc = first.json()
    assert doc["outcome"] == "incomplete"
    legs = {o["symbol"]: o for o in doc["orders"]}
    assert {o["status"] for o in doc["orders"]} == {"disputed"}
    vti = legs["VTI"]
    asked = Decimal(vti["planned_qty"])
    assert vti["error"].startswith(
        f"Alpaca's answer cannot be true: {asked * 2} of {asked} VTI filled"
    ), vti["error"]
    assert "top-up" not in doc["message"]

    status = cli("status", "--json")
    assert status.exit_code == 0, status.stderr
    cid = vti["slices"][0]["client_order_ids"][0]
    assert f"order {cid} (buy {asked} VTI, run {doc['run_id']}) is disputed" in status.stderr

    fake.factor = None  # the broker behaves again
    second = cli("execute", "--yes", "--json", "--targets", str(targets))
    assert second.exit_code == 0, second.stderr
    assert "planning from the broker's positions" in second.stderr
    sold = {o["symbol"]: o["side"] for o in second.json()["orders"] if not o["topup"]}
    assert sold == {"VTI": "sell", "BND": "sell"}  # the broker's doubled holdings count
    held = fake.sim.positions()
    assert held["VTI"].qty * Decimal("250.05") < Decimal("0.26") * Decimal(100000)

    listed = cli("reconcile")
    assert listed.exit_code == 0, listed.stderr
    assert cid in listed.stdout
    assert "--accept" in listed.stdout
    accepted = cli("reconcile", "--accept")
    assert accepted.exit_code == 0, accepted.stderr
    assert f"accepted the broker's word for {cid}" in accepted.stdout
    quiet = cli("status")
    assert quiet.exit_code == 0
    assert "disputed" not in quiet.stderr
    journal = Journal(isolated_state / "journal.sqlite")
    (record,) = [o for o in journal.orders_for_run(doc["run_id"]) if o.client_order_id == cid]
    assert (record.status, Decimal(record.filled_qty)) == ("filled", asked * 2)
    journal.close()
