"""NYSE calendar facts (checked against NYSE's published 2026-2028 holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alchemiser_cli.core.calendar import NyseCalendar

CAL = NyseCalendar(date(2026, 11, 23))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 11, 26), None),  # Thanksgiving
        (date(2026, 11, 27), "09:30-13:00 ET (early close)"),
        (date(2026, 12, 24), "09:30-13:00 ET (early close)"),
        (date(2026, 12, 25), None),
        (date(2026, 7, 3), None),  # July 4 observed
        (date(2027, 1, 1), None),
        (date(2027, 12, 24), None),  # Christmas observed
        (date(2027, 12, 31), "09:30-16:00 ET"),
        (date(2028, 7, 3), "09:30-13:00 ET (early close)"),
        (date(2026, 11, 24), "09:30-16:00 ET"),  # a normal Tuesday
        (date(2026, 11, 28), None),  # Saturday
    ],
)
def test_sessions_match_the_published_calendar(day: date, expected: str | None) -> None:
    session = CAL.session(day)
    if expected is None:
        assert session is None
    else:
        assert session is not None
        assert session.describe() == f"{day} {expected}"


def test_holiday_names() -> None:
    assert CAL.holiday_name(date(2026, 11, 26)) == "Thanksgiving"
    assert CAL.holiday_name(date(2026, 11, 24)) is None


def test_the_next_ten_sessions_skip_thanksgiving() -> None:
    days = [s.day.isoformat() for s in CAL.sessions(date(2026, 11, 24), 10)]
    assert days[:4] == ["2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    assert len(days) == 10


def test_the_close_minute_itself_is_closed() -> None:
    assert CAL.state(datetime(2026, 11, 27, 17, 59, tzinfo=UTC)).is_open
    assert not CAL.state(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)).is_open


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.state(datetime(2026, 11, 24, 15, 0))  # noqa: DTZ001 - the point of the test


def test_the_horizon_reaches_years_ahead() -> None:
    assert CAL.session(date(2029, 12, 31)) is not None
