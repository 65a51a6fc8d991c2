"""The market calendar through the CLI: holidays block, queueing waits for the open."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import FileMaker, Run

CliFn = Callable[..., Run]
THANKSGIVING = "2026-11-26T15:00:00Z"


def test_thanksgiving_check_blocks_naming_the_holiday_and_next_session(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", THANKSGIVING)
    result = cli("check")
    assert result.exit_code == 1
    assert (
        "Market: closed: Thanksgiving (2026-11-26); next session 2026-11-27 09:30-13:00 ET "
        "(early close)"
    ) in result.stdout
    doc = cli("check", "--json").json()
    closed = next(f for f in doc["findings"] if f["check_id"] == "market.closed")
    assert closed["severity"] == "block"
    assert closed["message"] == (
        "market closed: Thanksgiving (2026-11-26); next session 2026-11-27 09:30-13:00 ET "
        "(early close)"
    )
    assert doc["market"]["holiday"] == "Thanksgiving"
    assert doc["market"]["next_session"]["close"] == "2026-11-27T18:00:00Z"


def test_thanksgiving_execute_refuses_to_send(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", THANKSGIVING)
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 1
    assert result.json()["outcome"] == "blocked"
    assert result.json()["message"] == "blocked by market.closed; nothing sent"
    assert sim.submissions() == []


def test_queue_for_open_sends_day_orders_that_fill_at_the_next_session(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, isolated_state: object
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", THANKSGIVING)
    result = cli("execute", "--yes", "--queue-for-open", "--json")
    assert result.exit_code == 4  # queued, but the buys were cut to the cash on hand
    report = result.json()
    assert report["outcome"] == "incomplete"
    assert report["message"].startswith(
        "4 of 4 orders queued for the session 2026-11-27 09:30-13:00 ET (early close)"
    )
    assert "; buys cut to $12,000.00 of $" in report["message"]
    assert {o["status"] for o in report["orders"]} == {"accepted"}
    warn = next(f for f in report["checks"]["findings"] if f["check_id"] == "market.closed")
    assert warn["severity"] == "warn"
    assert len(cli("status", "--json").json()["open_orders"]) == 4

    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-27T14:45:00Z")  # 09:45 ET next day
    status = cli("status", "--json").json()
    assert status["open_orders"] == []
    assert "AAPL" not in {p["symbol"] for p in status["positions"]}


def test_buys_queued_overnight_are_limited_to_cash_on_hand(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", THANKSGIVING)
    report = cli("execute", "--yes", "--queue-for-open", "--json").json()
    buys = [o for o in report["orders"] if o["side"] == "buy"]
    spent = sum(Decimal(o["sent_qty"]) * Decimal(o["limit_price"]) for o in buys)
    assert spent <= Decimal(12000)  # the demo account's cash: sells only settle later
    assert all(Decimal(o["sent_qty"]) < Decimal(o["planned_qty"]) for o in buys)


def test_sector_limit_from_a_sectors_file(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    sectors = make_file("sectors.toml", '[sectors]\nvti = "equity"\nVXUS = "equity"\n')
    monkeypatch.setenv("ALCH_SECTORS_FILE", str(sectors))
    monkeypatch.setenv("ALCH_LIMITS__MAX_SECTOR_WEIGHT", "0.6")
    result = cli("check", "--json")
    assert result.exit_code == 1
    finding = next(f for f in result.json()["findings"] if f["check_id"] == "limits.sector_weight")
    assert finding["message"] == "sector equity would be 70% of equity, above max_sector_weight 60%"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sectors\n", "not valid TOML"),
        ("[sectors]\nVTI = 3\n", 'expected a [sectors] table of SYMBOL = "sector"'),
    ],
)
def test_bad_sectors_file(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("ALCH_SECTORS_FILE", str(make_file("s.toml", text)))
    result = cli("check")
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_sectors_file(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCH_SECTORS_FILE", "nope.toml")
    result = cli("check")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2,
        "alch: error: nope.toml: sectors file not found",
    )


def test_check_json_carries_the_market_state(cli: CliFn) -> None:
    doc = cli("check", "--json").json()
    assert doc["market"]["is_open"] is True
    assert doc["market"]["reason"] == "open"
    assert doc["market"]["session"]["close"] == "2026-11-24T21:00:00Z"
