"""The Alpaca adapter replayed offline from cassettes/ (vcrpy, record mode none).

The assertions hold for cassettes recorded from the fake server and from Alpaca paper
trading alike; recordings from the fake server also pin exact values.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.history import time_weighted
from alchemiser_cli.core.models import OrderStatus
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.cassette_scenarios import BATCH, SCENARIOS, load_meta, recorder
from tests.conftest import OPEN_NOW
from tests.fake_alpaca import CANARY_KEY_ID, CANARY_SECRET

META = load_meta()
FAKE = META["source"] == "fake"


def replay(name: str, tmp_path: Path) -> tuple[dict[str, Any], Any]:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(CANARY_KEY_ID),
        api_secret_key=SecretStr(CANARY_SECRET),
        api_base_url=META["base_url"],
        api_data_url=META["data_url"],
    )
    broker = AlpacaBroker(
        creds, AlpacaPolicy(order_page=2), FixedClock(datetime.fromisoformat(OPEN_NOW)),
        tmp_path / "cache",
    )  # fmt: skip
    with recorder("none").use_cassette(f"{name}.yaml") as cassette:
        result = SCENARIOS[name](broker, META)
    assert cassette.all_played, f"{name}: not every recorded request was replayed"
    return result, cassette


def test_reads_replay(tmp_path: Path) -> None:
    result, _ = replay("reads", tmp_path)
    account = result["account"]
    assert account.account_id
    assert account.cash >= 0
    assert "NOPE" not in result["assets"]
    assert result["assets"]["BRK.A"].fractionable is False
    assert "NOPE" not in result["quotes"]
    vti = result["quotes"]["VTI"]
    assert 0 < vti.bid <= vti.ask
    if FAKE:
        assert (account.account_id, str(account.cash)) == ("SIM-DEMO-0001", "12000")
        assert str(result["positions"]["VTI"].qty) == "150"
        assert result["now"] == datetime.fromisoformat(OPEN_NOW)


def test_more_than_200_quotes_replay_in_two_batches(tmp_path: Path) -> None:
    result, cassette = replay("quotes_batch", tmp_path)
    assert cassette.play_count == 2  # 200 symbols a request
    assert all(q.bid <= q.ask for q in result["quotes"].values())
    if FAKE:
        assert sorted(result["quotes"]) == BATCH


def test_orders_replay_submit_page_look_up_and_cancel(tmp_path: Path) -> None:
    result, cassette = replay("orders", tmp_path)
    prefix = META["order_prefix"]
    placed = result["placed"]
    assert [o.client_order_id for o in placed] == [f"{prefix}-{i}" for i in range(3)]
    assert result["found"] == placed[1]
    assert result["missing"] is None
    assert {o.client_order_id for o in placed} <= {o.client_order_id for o in result["open"]}
    assert {o.status for o in result["cancelled"]} == {OrderStatus.CANCELED}
    paged = [r for r in cassette.requests if r.method == "GET" and r.path.endswith("/v2/orders")]
    assert len(paged) >= 2  # two per page: listing three orders took more than one request
    assert any(key == "until" for r in paged for key, _ in r.query)  # the second page


def test_portfolio_history_replays_with_its_deposit_and_withdrawal(tmp_path: Path) -> None:
    result, _ = replay("portfolio_history", tmp_path)
    history = result["history"]
    assert len(history.days) == len(history.equity) == len(history.flows) > 0
    assert all(e >= 0 for e in history.equity)
    assert list(history.days) == sorted(history.days)
    if FAKE:
        assert history.days == tuple(date(2026, 11, d) for d in (17, 18, 19, 20, 23, 24))
        assert history.flows == tuple(Decimal(f) for f in (0, 1000, 0, -1000, 0, 0))
        curve = time_weighted(history)
        # The deposit is not a return: the 18th's return is the equity's move less it.
        assert curve.returns[1] == (history.equity[1] - 1000) / history.equity[0] - 1


def test_cassettes_hold_no_credentials() -> None:
    for path in Path(__file__).resolve().parent.parent.joinpath("cassettes").glob("*.yaml"):
        text = path.read_text()
        assert CANARY_SECRET not in text
        assert CANARY_KEY_ID not in text
        assert "APCA-API-SECRET-KEY" not in text
        assert "APCA-API-KEY-ID" not in text


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_has_a_cassette(name: str) -> None:
    assert (Path(__file__).resolve().parent.parent / "cassettes" / f"{name}.yaml").is_file()


def test_activities_replay_paged_then_only_what_is_new(tmp_path: Path) -> None:
    from alchemiser_cli.core.tax.ledger import Kind, rebuild
    from tests.cassette_scenarios import ROUND_TRIPS

    result, cassette = replay("activities", tmp_path)
    assert result["again"] == result["first"]
    listed = [r for r in cassette.requests if r.path.endswith("/v2/account/activities")]
    fills = [dict(r.query) for r in listed if dict(r.query)["activity_types"] == "FILL"]
    assert all(q["page_size"] == "100" and q["direction"] == "asc" for q in fills)
    assert "page_token" not in fills[0]
    assert fills[-1]["page_token"] == max(
        e.ref for e in result["first"] if e.kind is not Kind.SPLIT
    )
    if FAKE:  # the demo's 3 seeded positions and 60 round trips of KO: 123 FILLs, 2 pages
        assert len(result["first"]) == 3 + 2 * ROUND_TRIPS
        assert len(fills) == 3  # two pages, then the second call's one request
        ledger = rebuild(result["first"])
        assert (ledger.held("VTI"), ledger.held("KO")) == (Decimal(150), Decimal(0))
