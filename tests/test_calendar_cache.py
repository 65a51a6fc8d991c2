"""The NYSE session table under ALCH_HOME (issue 16): built once, read in milliseconds,
rebuilt when the library version changes, the horizon no longer covers today, or the file
is damaged; its answers are exchange-calendars' own."""

from __future__ import annotations

import functools
import json
import os
import stat
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from alchemiser_cli import calendar_cache
from alchemiser_cli.calendar_cache import (
    FILE_NAME,
    DamagedTable,
    dump_table,
    library_version,
    load_table,
    nyse_calendar,
)
from alchemiser_cli.calendar_table import xnys_table
from alchemiser_cli.core.calendar import NyseCalendar, SessionTable, horizon

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TABLE = xnys_table(*horizon(date(2026, 11, 24)))  # 2025-01-01 .. 2029-12-31
VERSION = library_version()


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[date, date]]]:
    """Each horizon the table is computed for (the computation itself is TABLE's)."""
    calls: list[tuple[date, date]] = []

    def build(start: date, end: date) -> SessionTable:
        calls.append((start, end))
        return TABLE if (start, end) == (TABLE.start, TABLE.end) else xnys_table(start, end)

    monkeypatch.setattr(calendar_cache, "xnys_table", build)
    calendar_cache._loaded.clear()  # a fresh process each time
    yield calls
    calendar_cache._loaded.clear()


def _fresh(cache: Path) -> None:
    calendar_cache._loaded.clear()
    assert cache.is_dir()


def test_built_once_then_read(tmp_path: Path, builds: list[tuple[date, date]]) -> None:
    cache = tmp_path / "cache"
    first = nyse_calendar(cache, NOW)
    assert builds == [(date(2025, 1, 1), date(2029, 12, 31))]
    path = cache / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    head = json.loads(path.read_text(encoding="utf-8"))
    assert (head["library"], head["start"], head["end"]) == (
        f"exchange-calendars {VERSION}",
        "2025-01-01",
        "2029-12-31",
    )
    _fresh(cache)
    second = nyse_calendar(cache, NOW)
    assert builds == [(date(2025, 1, 1), date(2029, 12, 31))]  # read, not rebuilt
    assert second is not first
    assert second.table == TABLE
    assert second.outlook(NOW) == first.outlook(NOW)


def test_rebuilt_when_the_library_version_changes(
    tmp_path: Path, builds: list[tuple[date, date]]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / FILE_NAME).write_text(dump_table(TABLE, "4.0.0"), encoding="utf-8")
    nyse_calendar(cache, NOW)
    assert len(builds) == 1
    assert load_table((cache / FILE_NAME).read_text(encoding="utf-8"))[1] == VERSION


def test_rebuilt_when_the_horizon_no_longer_covers_today(
    tmp_path: Path, builds: list[tuple[date, date]]
) -> None:
    cache = tmp_path / "cache"
    nyse_calendar(cache, NOW)
    _fresh(cache)
    later = datetime(2029, 12, 10, 15, 0, tzinfo=UTC)  # 21 days before the table ends
    calendar = nyse_calendar(cache, later)
    assert builds[1] == (date(2028, 1, 1), date(2032, 12, 31))
    assert calendar.state(later).is_open
    assert json.loads((cache / FILE_NAME).read_text(encoding="utf-8"))["end"] == "2032-12-31"


def _damaged(text: str) -> dict[str, str]:
    raw = json.loads(text)
    swapped = dict(
        raw, sessions=[*raw["sessions"][1:2], *raw["sessions"][:1], *raw["sessions"][2:]]
    )
    edited = json.loads(text)
    edited["sessions"][500][2] = edited["sessions"][500][2].replace("21:00", "20:00")
    return {
        "garbage": "\x00\x17 not json at all",
        "empty": "",
        "truncated": text[: len(text) // 2],
        "a list": "[]",
        "no sessions": json.dumps({k: v for k, v in raw.items() if k != "sessions"}),
        "sessions out of order": json.dumps(swapped),
        "a close changed": json.dumps(edited),
        "sessions as text": json.dumps(dict(raw, sessions="2026-11-27")),
    }


@pytest.mark.parametrize("damage", list(_damaged(dump_table(TABLE, VERSION))))
def test_rebuilt_when_the_file_is_damaged(
    tmp_path: Path, builds: list[tuple[date, date]], damage: str
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    good = dump_table(TABLE, VERSION)
    (cache / FILE_NAME).write_text(_damaged(good)[damage], encoding="utf-8")
    calendar = nyse_calendar(cache, NOW)
    assert len(builds) == 1
    assert calendar.table == TABLE
    assert (cache / FILE_NAME).read_text(encoding="utf-8") == good


def test_the_digest_catches_an_edited_close_that_still_parses() -> None:
    text = dump_table(TABLE, VERSION)
    with pytest.raises(DamagedTable, match="digest"):
        load_table(_damaged(text)["a close changed"])


def test_a_planted_link_is_replaced_not_followed(
    tmp_path: Path, builds: list[tuple[date, date]]
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    (cache / FILE_NAME).symlink_to(victim)
    nyse_calendar(cache, NOW)
    assert victim.read_text(encoding="utf-8") == "keep me"
    assert not (cache / FILE_NAME).is_symlink()
    assert len(builds) == 1


def test_an_unwritable_cache_still_answers(
    tmp_path: Path, builds: list[tuple[date, date]], caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory goes", encoding="utf-8")
    calendar = nyse_calendar(blocker, NOW)
    assert calendar.state(NOW).is_open
    assert "cannot keep the NYSE session table" in caplog.text


@functools.cache
def _xnys() -> Any:
    import exchange_calendars

    with warnings.catch_warnings():  # pandas 3.1 deprecations inside exchange-calendars
        warnings.simplefilter("ignore")
        return exchange_calendars.get_calendar("XNYS", start="2025-01-01", end="2029-12-31")


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 11, 26),  # Thanksgiving
        date(2026, 11, 27),  # early close
        date(2026, 3, 6),  # the Friday before DST begins (14:30-21:00 UTC)
        date(2026, 3, 9),  # the Monday after (13:30-20:00 UTC)
        date(2026, 11, 2),  # the Monday after DST ends
        date(2027, 12, 24),  # Christmas observed on a Friday
        date(2028, 7, 3),  # early close before Independence Day
    ],
)
def test_the_cached_calendar_answers_as_exchange_calendars(
    tmp_path: Path, builds: list[tuple[date, date]], day: date
) -> None:
    cache = tmp_path / "cache"
    nyse_calendar(cache, NOW)
    _fresh(cache)
    calendar = nyse_calendar(cache, NOW)  # read back from the file
    assert len(builds) == 1
    xnys = _xnys()
    session = calendar.session(day)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opens = xnys.session_open(day.isoformat()) if xnys.is_session(day.isoformat()) else None
        closes = xnys.session_close(day.isoformat()) if opens is not None else None
    if opens is None:
        assert session is None
        assert calendar.holiday_name(day) is not None
        return
    assert session is not None
    assert closes is not None
    assert session.open == opens.to_pydatetime()
    assert session.close == closes.to_pydatetime()


def test_dst_moves_the_utc_open() -> None:
    calendar = NyseCalendar(TABLE)
    before, after = calendar.session(date(2026, 3, 6)), calendar.session(date(2026, 3, 9))
    assert before is not None
    assert after is not None
    assert (before.open.hour, before.open.minute) == (14, 30)
    assert (after.open.hour, after.open.minute) == (13, 30)


def test_a_warm_table_needs_neither_exchange_calendars_nor_pandas(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / FILE_NAME).write_text(dump_table(TABLE, VERSION), encoding="utf-8")
    os.chmod(cache / FILE_NAME, 0o600)
    code = (
        "import sys; from datetime import datetime; "
        "from alchemiser_cli.calendar_cache import nyse_calendar; "
        f"cal = nyse_calendar(__import__('pathlib').Path({str(cache)!r}), "
        "datetime.fromisoformat('2026-11-27T17:00:00+00:00')); "
        "print(cal.state(datetime.fromisoformat('2026-11-27T17:00:00+00:00')).is_open, "
        "'exchange_calendars' in sys.modules, 'pandas' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.stdout == "True False False\n"
