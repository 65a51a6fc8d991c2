"""NYSE calendar facts (checked against NYSE's published 2026-2028 holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alchemiser_cli.calendar_table import calendar_around

CAL = calendar_around(date(2026, 11, 23))


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


def test_outlook_lists_the_next_ten_sessions_with_early_closes_and_holidays() -> None:
    # Tuesday 2026-11-24, 10:00 New York: open; Thanksgiving and two early closes ahead.
    outlook = CAL.outlook(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
    assert outlook.state.is_open
    assert outlook.next_close == datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
    assert outlook.next_open == datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    days = [s.day for s in outlook.sessions]
    assert len(days) == 10
    assert days[:3] == [date(2026, 11, 24), date(2026, 11, 25), date(2026, 11, 27)]
    assert days[-1] == date(2026, 12, 8)
    assert [s.day for s in outlook.early_closes] == [date(2026, 11, 27)]
    assert [(h.day, h.name) for h in outlook.holidays] == [(date(2026, 11, 26), "Thanksgiving")]


def test_outlook_after_the_close_starts_with_the_next_session() -> None:
    # Wednesday 2026-12-23 after the close: the early close on the 24th, Christmas, ...
    outlook = CAL.outlook(datetime(2026, 12, 23, 22, 0, tzinfo=UTC))
    assert not outlook.state.is_open
    first = outlook.sessions[0]
    assert first.day == date(2026, 12, 24)
    assert outlook.next_open == first.open
    assert outlook.next_close == datetime(2026, 12, 24, 18, 0, tzinfo=UTC)  # 13:00 ET
    assert outlook.early_closes[0].day == date(2026, 12, 24)
    assert [h.day for h in outlook.holidays] == [date(2026, 12, 25), date(2027, 1, 1)]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-24T20:40:00+00:00", None),  # 15:40 ET, 20 min before 16:00
        ("2026-11-27T17:40:00+00:00", None),  # 12:40 ET on an early-close day
        ("2026-11-24T15:00:00+00:00", "2026-11-24 16:00"),  # six hours early
        ("2026-11-27T20:40:00+00:00", "2026-11-30 16:00"),  # after the 13:00 close
        ("2026-11-26T20:40:00+00:00", "2026-11-27 13:00"),  # Thanksgiving: next close early
    ],
)
def test_close_window(now: str, expected: str | None) -> None:
    why = CAL.state(datetime.fromisoformat(now)).outside_close_window(25 * 60)
    if expected is None:
        assert why is None
    else:
        assert (
            why == f"outside the close window (the last 25 min before the close at {expected} ET)"
        )


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # a regular Tuesday, half an hour after the 16:00 close
        ("2026-11-24T21:30:00Z", "after the close at 16:00 ET (now 16:30 ET); "
         "next session 2026-11-25 09:30-16:00 ET"),
        # the day after Thanksgiving closes at 13:00
        ("2026-11-27T18:30:00Z", "after the early close at 13:00 ET (now 13:30 ET); "
         "next session 2026-11-30 09:30-16:00 ET"),
        ("2026-11-26T15:00:00Z", "Thanksgiving (2026-11-26); "
         "next session 2026-11-27 09:30-13:00 ET (early close)"),
        ("2026-11-29T15:00:00Z", "Sunday 2026-11-29; next session 2026-11-30 09:30-16:00 ET"),
        ("2026-11-24T12:15:00Z", "before the open at 09:30 ET (now 07:15 ET); "
         "next session 2026-11-24 09:30-16:00 ET"),
    ],
)  # fmt: skip
def test_closed_message_names_the_real_open_or_close(when: str, expected: str) -> None:
    state = CAL.state(datetime.fromisoformat(when))
    assert state.describe_closed() == f"market closed: {expected}"
