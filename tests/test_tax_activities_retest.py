"""Alpaca's activities answered wrongly, and the activity cache damaged (issue 27, hostile
re-test): every case is one `BrokerError` line, never a loop without end, a traceback or a
cache poisoned for every later run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from alchemiser_cli.errors import BrokerError
from tests.fake_alpaca import FakeAlpaca
from tests.test_tax_activities import ACTIVITIES, NOW, book, broker_for, queries


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    """The fake server, its answers not validated: these tests make them wrong on purpose."""
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server


def fill(n: int, **changes: Any) -> dict[str, Any]:
    """One FILL activity as Alpaca sends it (ids in time order), with `changes`."""
    item = {
        "activity_type": "FILL", "id": f"20261102150000{n:03d}::0000-{n:04d}",
        "transaction_time": "2026-11-02T15:00:00Z", "type": "fill", "price": "70",
        "qty": "1", "side": "buy", "symbol": "KO", "leaves_qty": "0", "order_id": "o",
        "cum_qty": "1", "order_status": "filled",
    }  # fmt: skip
    item.update(changes)
    return item


def test_a_server_that_ignores_the_page_token_is_an_error_not_an_endless_loop(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    same = [fill(n) for n in range(100)]  # a full page, every time, whatever the token
    fake.fault("GET", ACTIVITIES, "status", status=200, body=same, count=1000)
    with pytest.raises(BrokerError, match="did not move past"):
        broker_for(fake, tmp_path).trade_history()
    assert len(queries(fake)) == 2  # the first page, and the one that did not move on


@pytest.mark.parametrize(
    "changes",
    [
        {"qty": "0"},
        {"qty": "-5"},
        {"price": "0"},
        {"price": "-1"},
        {"symbol": None},
        {"symbol": ""},
        {"id": None},
        {"id": ""},
    ],
)
def test_a_fill_with_an_impossible_field_is_refused_and_nothing_is_cached(
    fake: FakeAlpaca, tmp_path: Path, changes: dict[str, Any]
) -> None:
    fake.fault("GET", ACTIVITIES, "status", status=200, body=[fill(1, **changes)], count=1)
    with pytest.raises(BrokerError, match="unexpected FILL activity from Alpaca"):
        broker_for(fake, tmp_path).trade_history()
    (path,) = (tmp_path / "cache").glob("activities-*.sqlite")
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT count(*) FROM fills").fetchone() == (0,)
    # the next run, with a sound answer, reads from the start
    broker_for(fake, tmp_path).trade_history()
    assert "page_token" not in queries(fake)[-2]


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE fills SET qty = 'abc' WHERE rowid = 1",
        "UPDATE fills SET side = 'hold' WHERE rowid = 1",
        "UPDATE fills SET at = 'yesterday' WHERE rowid = 1",
        "UPDATE meta SET value = 'garbage' WHERE key = 'splits_at'",
        "UPDATE meta SET value = '2026-11-24T15:00:00' WHERE key = 'splits_at'",
        "INSERT INTO splits VALUES ('s1', 'KO', 'abc', '2026-11-01', 'g')",
        "INSERT INTO splits VALUES ('s1', 'KO', '5', 'not a day', 'g')",
    ],
)
@pytest.mark.parametrize("read", ["trade_history", "open_lots"])
def test_a_damaged_activity_cache_is_one_line_naming_the_file(
    fake: FakeAlpaca, tmp_path: Path, damage: str, read: str
) -> None:
    book(fake, 5)
    broker_for(fake, tmp_path).trade_history()
    (path,) = (tmp_path / "cache").glob("activities-*.sqlite")
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'checkpoint'")  # read the rows themselves
        conn.execute(damage)
        conn.commit()
    with pytest.raises(BrokerError, match=r"activity cache .*: damaged .*delete the file"):
        getattr(broker_for(fake, tmp_path), read)()
