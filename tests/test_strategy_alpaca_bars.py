"""Daily bars: Alpaca (the recorded query, the incremental cache), CSV files, synthetic."""

from __future__ import annotations

import stat
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from alchemiser_cli.brokers.alpaca.bars import (
    BarCache,
    cached_daily_bars,
    missing_ranges,
    parse_bars,
)
from alchemiser_cli.brokers.bars import BarsError, daily_bars, read_csv_series
from alchemiser_cli.errors import BrokerError
from tests.test_alpaca_cassettes import replay


def test_bars_replay_adjusted_from_the_feed_and_only_missing_days_the_second_time(
    tmp_path: Path,
) -> None:
    result, cassette = replay("bars", tmp_path)
    assert cassette.play_count == 3  # first, the missing days, BND; the third call: none
    queries = [parse_qs(urlparse(r.uri).query) for r in cassette.requests]
    assert [(q["adjustment"], q["feed"], q["timeframe"]) for q in queries] == [
        (["all"], ["iex"], ["1Day"])
    ] * 3
    assert [q["start"][0][:10] for q in queries] == ["2026-09-01", "2026-11-19", "2026-11-02"]
    assert [q["end"][0][:10] for q in queries] == ["2026-11-18", "2026-11-23", "2026-11-23"]
    first, more, again = (result[k]["SPY"] for k in ("first", "more", "again"))
    assert (first.dates[0], first.dates[-1]) == (date(2026, 9, 1), date(2026, 11, 18))
    assert more.dates[-1] == date(2026, 11, 23)
    assert more.dates[: len(first.dates)] == first.dates
    assert len(more.dates) == len(first.dates) + 3  # Nov 19, 20 and 23
    assert again == more
    assert set(more.closes) == {Decimal("661.14")}
    assert result["missing"] == (
        "Alpaca has no daily bars for BND from 2026-11-02 to 2026-11-23 (feed iex): "
        "check the symbols"
    )
    cache = tmp_path / "cache" / "bars-paper.sqlite"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_missing_ranges_before_and_after_what_was_fetched() -> None:
    known = (date(2026, 3, 1), date(2026, 3, 31))
    assert missing_ranges(None, date(2026, 1, 1), date(2026, 2, 1)) == [
        (date(2026, 1, 1), date(2026, 2, 1))
    ]
    assert missing_ranges(known, date(2026, 3, 5), date(2026, 3, 20)) == []
    assert missing_ranges(known, date(2026, 2, 1), date(2026, 4, 2)) == [
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 4, 1), date(2026, 4, 2)),
    ]


def test_the_cache_asks_only_for_what_it_lacks(tmp_path: Path) -> None:
    asked: list[tuple[list[str], date, date]] = []

    def fetch(batch: list[str], first: date, last: date) -> dict[str, list[tuple[date, Decimal]]]:
        asked.append((batch, first, last))
        days = [date(2026, 3, d) for d in range(first.day, last.day + 1) if first.month == 3]
        return {s: [(d, Decimal(d.day)) for d in days] for s in batch}

    cache = BarCache(tmp_path / "bars.sqlite")
    try:
        one = cached_daily_bars(fetch, cache, "iex", ["B", "A"], date(2026, 3, 2), date(2026, 3, 6))
        two = cached_daily_bars(fetch, cache, "iex", ["A"], date(2026, 3, 2), date(2026, 3, 9))
        three = cached_daily_bars(fetch, cache, "sip", ["A"], date(2026, 3, 2), date(2026, 3, 3))
    finally:
        cache.close()
    assert asked == [
        (["A", "B"], date(2026, 3, 2), date(2026, 3, 6)),
        (["A"], date(2026, 3, 7), date(2026, 3, 9)),
        (["A"], date(2026, 3, 2), date(2026, 3, 3)),  # another feed: its own cache
    ]
    assert one["B"].closes == tuple(Decimal(d) for d in range(2, 7))
    assert two["A"].dates[-1] == date(2026, 3, 9)
    assert len(three["A"].dates) == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "unexpected bars answer from Alpaca: list"),
        ({"X": [{"t": "2026-01-02T05:00:00Z"}]}, "unexpected daily bar for X from Alpaca: "),
        ({"X": [{"t": "2026-01-02T05:00:00Z", "c": 0}]}, "Alpaca sent a daily close of 0 for X"),
        (
            {"X": [{"t": "2026-01-02T05:00:00", "c": 5}]},  # no zone: the host's would be guessed
            "unexpected daily bar for X from Alpaca: {'t': '2026-01-02T05:00:00', 'c': 5}",
        ),
    ],
)
def test_unusable_bars_are_broker_errors(raw: object, message: str) -> None:
    with pytest.raises(BrokerError) as caught:
        parse_bars(raw, ["X"])
    assert str(caught.value).startswith(message)


def test_bar_times_are_new_york_dates() -> None:
    got = parse_bars({"X": [{"t": "2026-07-02T04:00:00Z", "c": 5.5}]}, ["X", "Y"])
    assert got == {"X": [(date(2026, 7, 2), Decimal("5.5"))], "Y": []}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "day,price\n2024-01-02,1\n",
            "{p}:1: expected a header with date and close, found day,price",
        ),
        (
            "date,close\n2024-01-02,abc\n",
            "{p}:2: expected an ISO date and a close, found 2024-01-02,abc",
        ),
        ("date,close\n2024-01-02,0\n", "{p}:2: close 0 is not a positive number"),
        (
            "date,close\n2024-01-03,1\n2024-01-02,1\n",
            "{p}:3: 2024-01-02 is not after 2024-01-03 (oldest first)",
        ),
    ],
)
def test_a_bad_bars_csv_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "X.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BarsError) as caught:
        read_csv_series(path, "X")
    assert str(caught.value) == message.format(p=path)


def test_ohlcv_csv_and_range_selection(tmp_path: Path) -> None:
    (tmp_path / "X.csv").write_text(
        "date,open,high,low,close,volume\n2024-01-02,1,2,1,1.5,10\n2024-01-03,1,2,1,1.7,10\n"
        "2024-01-04,1,2,1,1.9,10\n",
        encoding="utf-8",
    )
    got = daily_bars(["X"], date(2024, 1, 3), date(2024, 1, 4), tmp_path)["X"]
    assert got.dates == (date(2024, 1, 3), date(2024, 1, 4))
    assert got.closes == (Decimal("1.7"), Decimal("1.9"))
    assert not got.synthetic


def test_synthetic_bars_are_deterministic_and_flagged() -> None:
    one = daily_bars(["SPY"], date(2024, 1, 1), date(2024, 3, 1), None)["SPY"]
    two = daily_bars(["SPY"], date(2024, 1, 1), date(2024, 3, 1), None)["SPY"]
    assert one == two
    assert one.synthetic
    assert all(d.weekday() < 5 for d in one.dates)
    assert one.closes != daily_bars(["QQQ"], date(2024, 1, 1), date(2024, 3, 1), None)["QQQ"].closes
