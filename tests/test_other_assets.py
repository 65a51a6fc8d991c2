"""Crypto and other non-equity positions (issue 21): an account that holds BTCUSD or
ETH/USD (Alpaca's `asset_class: crypto`) is usable. They are listed and left alone: not
in the equity the targets share unless a target names them, never ordered, with a note;
`status` shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, OPEN_NOW, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca

NOW = datetime.fromisoformat(OPEN_NOW)
CliFn = Callable[..., Run]
THREE_FUND = str(EXAMPLES / "targets" / "three-fund.toml")
LEFT_ALONE = "left alone (alch trades US equities only): BTCUSD 0.5 (crypto, $30,000.00), "


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        use_fake_alpaca(server, monkeypatch)
        monkeypatch.setenv("ALCH_ALPACA__STREAM", "false")
        server.hold_crypto("BTCUSD", Decimal("0.5"), Decimal(60000))  # as Alpaca lists it
        server.hold_crypto("ETH/USD", Decimal(2), Decimal(3000))
        yield server


def test_plan_leaves_crypto_alone_and_out_of_the_targets_equity(
    fake: FakeAlpaca, cli: CliFn
) -> None:
    run = cli("plan", "--json", "--targets", THREE_FUND)
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert {o["symbol"] for o in doc["orders"]} <= {"AAPL", "VTI", "BND", "VXUS"}
    assert {p["symbol"] for p in doc["positions"]}.isdisjoint({"BTCUSD", "ETH/USD"})
    held = sum((Decimal(p["value"]) for p in doc["positions"]), Decimal(0))
    assert Decimal(doc["account"]["equity"]) == held + Decimal(doc["account"]["cash"])
    assert LEFT_ALONE + "ETH/USD 2 (crypto, $6,000.00)" in run.stderr, run.stderr
    assert "name them in the targets to count them in the equity" in run.stderr


def test_a_target_that_names_a_crypto_position_counts_it_and_never_orders_it(
    fake: FakeAlpaca, cli: CliFn, tmp_path: Path
) -> None:
    alone = Decimal(cli("plan", "--json", "--targets", THREE_FUND).json()["account"]["equity"])
    targets = tmp_path / "with-btc.csv"
    targets.write_text("VTI,0.5\nBND,0.2\nBTCUSD,0.3\n", encoding="utf-8")
    run = cli("plan", "--json", "--targets", str(targets))
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert Decimal(doc["account"]["equity"]) == alone + Decimal(30000)
    assert "BTCUSD" not in {o["symbol"] for o in doc["orders"]}
    (btc,) = [p for p in doc["positions"] if p["symbol"] == "BTCUSD"]
    assert (btc["qty"], btc["rule"]) == ("0.5", "not_tradable")


def test_execute_and_status_work_on_an_account_holding_crypto(fake: FakeAlpaca, cli: CliFn) -> None:
    run = cli("execute", "--yes", "--json", "--targets", THREE_FUND)
    assert run.exit_code == 0, run.stderr
    assert run.json()["outcome"] == "completed"
    assert {o["symbol"] for o in run.json()["orders"]}.isdisjoint({"BTCUSD", "ETH/USD"})
    status = cli("status", "--json")
    assert status.exit_code == 0, status.stderr
    others = {o["symbol"]: (o["asset_class"], o["qty"]) for o in status.json()["other_holdings"]}
    assert others == {"BTCUSD": ("crypto", "0.5"), "ETH/USD": ("crypto", "2")}
    human = cli("status")
    assert human.exit_code == 0
    assert "Left alone (not US equities): BTCUSD 0.5 crypto $30,000.00" in human.stdout
