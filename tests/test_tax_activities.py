"""Alpaca's account activities for the tax lots (issue 27, must show 3): FILLs paged 100 at
a time by page_token and cached under ALCH_HOME so that a run asks only for new pages;
SPLITs read in both of Alpaca's forms; the fake server answers as the OpenAPI files say."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.activities import ActivityCache, _split_event
from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.tax.ledger import Kind, rebuild
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW
from tests.fake_alpaca import FakeAlpaca
from tests.openapi_check import validate

D = Decimal
NOW = datetime.fromisoformat(OPEN_NOW)
ACTIVITIES = "/v2/account/activities"


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server
        for exchange in server.log:  # every answer matches Alpaca's documented schema
            validate(exchange.method, exchange.path, exchange.status, exchange.body)


def broker_for(fake: FakeAlpaca, home: Path, clock: FixedClock | None = None) -> AlpacaBroker:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]),
        api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url,
        api_data_url=fake.url,
    )
    return AlpacaBroker(creds, AlpacaPolicy(), clock or FixedClock(NOW), home / "cache")


def book(fake: FakeAlpaca, count: int, symbol: str = "KO") -> None:
    """`count` fills at the fake broker, made outside alch, one a minute: buys, and every
    third a sell of one share."""
    for i in range(count):
        fake.clock.advance(60)
        side = Side.SELL if i % 3 == 2 else Side.BUY
        fake.sim.book_fill(symbol, side, D(1), D(70) + D(i) / 100)


def queries(fake: FakeAlpaca) -> list[dict[str, str]]:
    return [e.query for e in fake.log if e.path == ACTIVITIES]


def test_fills_come_100_a_page_and_a_later_run_asks_only_for_new_pages(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    book(fake, 247)  # + the seed's 3 positions (reported bought when seeded): 250 FILLs
    broker = broker_for(fake, tmp_path)
    events = broker.trade_history()
    assert sum(1 for e in events if e.kind is not Kind.SPLIT) == 250
    fills = [q for q in queries(fake) if q["activity_types"] == "FILL"]
    assert [q.get("page_token") is None for q in fills] == [True, False, False]  # 100+100+50
    assert {q["page_size"] for q in fills} == {"100"}
    assert {q["direction"] for q in fills} == {"asc"}
    assert [q["activity_types"] for q in queries(fake)].count("SPLIT") == 1
    fake.log.clear()
    again = broker_for(fake, tmp_path).trade_history()
    assert again == events
    # nothing new: one request, from the last id cached; splits are a day old at most
    (asked,) = queries(fake)
    assert asked["page_token"] == max(e.ref for e in events)
    fake.log.clear()
    book(fake, 130)  # two new pages: 100 and 30
    third = broker_for(fake, tmp_path).trade_history()
    assert len(third) == 380
    assert len(queries(fake)) == 2
    assert rebuild(third).held("KO") == fake.sim.positions()["KO"].qty


def test_the_cache_is_private_and_per_key(fake: FakeAlpaca, tmp_path: Path) -> None:
    broker_for(fake, tmp_path).trade_history()
    (path,) = (tmp_path / "cache").glob("activities-paper-*.sqlite")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert fake.keys[0] not in path.name


def test_an_interrupted_download_keeps_the_pages_it_got(fake: FakeAlpaca, tmp_path: Path) -> None:
    book(fake, 250)
    fake.fault("GET", ACTIVITIES, "delay", seconds=0)  # the first page comes through
    fake.fault("GET", ACTIVITIES, "status", status=500, count=20)  # then every try fails
    with pytest.raises(BrokerError):
        broker_for(fake, tmp_path).trade_history()
    fake.faults.clear()
    fake.log.clear()
    broker_for(fake, tmp_path).trade_history()
    fills = [q for q in queries(fake) if q["activity_types"] == "FILL"]
    assert len(fills) == 2  # the first 100 were kept: 153 left, two pages
    assert fills[0]["page_token"]


def test_a_split_is_read_from_the_fake_as_a_pair_and_lots_follow(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    fake.clock.advance(60)
    fake.sim.book_fill("NVDA", Side.BUY, D(3), D(900))
    fake.clock.advance(86_400)
    fake.sim.split("NVDA", D(10))
    events = broker_for(fake, tmp_path).trade_history()
    (split,) = [e for e in events if e.kind is Kind.SPLIT]
    assert (split.symbol, split.ratio) == ("NVDA", D(10))
    assert rebuild(events).held("NVDA") == D(30) == fake.sim.positions()["NVDA"].qty
    pair = [
        e.body for e in fake.log if e.path == ACTIVITIES and e.query["activity_types"] == "SPLIT"
    ]
    assert [a["qty"] for a in pair[0]] == ["-3", "30"]


def test_a_split_reported_as_net_shares_added_takes_the_ratio_from_the_lots() -> None:
    event = _split_event([("2026010200000000::a", "AAPL", D(12), "2026-01-02")])
    assert (event.ratio, event.qty) == (None, D(12))
    paired = _split_event(
        [("1::a", "AAPL", D(-4), "2026-01-02"), ("1::b", "AAPL", D(16), "2026-01-02")]
    )
    assert paired.ratio == D(4)


def test_page_size_over_100_is_refused_by_the_fake(fake: FakeAlpaca, tmp_path: Path) -> None:
    import requests

    answer = requests.get(
        fake.url + ACTIVITIES,
        params={"page_size": "101"},
        headers={"APCA-API-KEY-ID": fake.keys[0], "APCA-API-SECRET-KEY": fake.keys[1]},
        timeout=5,
    )
    assert answer.status_code == 422


def test_a_damaged_cache_is_a_one_line_broker_error(tmp_path: Path) -> None:
    path = tmp_path / "activities.sqlite"
    path.write_bytes(b"not a database at all, just text" * 100)
    with pytest.raises(BrokerError, match="delete the file: it is only a cache"):
        ActivityCache(path).last_fill()


def test_splits_are_read_again_after_a_day(fake: FakeAlpaca, tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    broker_for(fake, tmp_path, clock).trade_history()
    fake.log.clear()
    clock.advance(timedelta(hours=25).total_seconds())
    broker_for(fake, tmp_path, clock).trade_history()
    assert sorted(q["activity_types"] for q in queries(fake)) == ["FILL", "SPLIT"]


def test_open_lots_resume_from_the_cache_and_equal_a_full_rebuild(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    from alchemiser_cli.core.tax import state

    def same() -> AlpacaBroker:  # on the fake's clock: a day later, splits are read again
        broker = broker_for(fake, tmp_path, FixedClock(fake.clock.now()))
        full = rebuild(broker.trade_history())
        assert state.dump(broker.open_lots()) == state.dump(full)
        return broker

    book(fake, 130)
    same()
    fake.clock.advance(86_400)
    fake.sim.book_fill("KO", Side.SELL, D(30), D(60))  # a loss; replaced across the resume
    same()
    fake.clock.advance(86_400)
    fake.sim.book_fill("KO", Side.BUY, D(5), D(61))
    fake.log.clear()
    same()
    # resumed: only the new FILL page was read, and the ledger state came from the cache
    assert len([q for q in queries(fake) if q["activity_types"] == "FILL"]) == 2
    fake.clock.advance(86_400)
    fake.sim.split("KO", D(3))  # a split after the checkpoint, then one more fill
    fake.clock.advance(60)
    fake.sim.book_fill("KO", Side.BUY, D(1), D(21))
    fake.clock.advance(86_400)
    resumed = same().open_lots()
    assert resumed.held("KO") == fake.sim.positions()["KO"].qty
