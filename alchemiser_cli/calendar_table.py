"""The NYSE session table computed with exchange-calendars (XNYS): the adapter that feeds
the pure `core.calendar` its data. exchange-calendars and pandas load only here, lazily
(importing them takes most of a second); the commands read the table from a small file
under ALCH_HOME instead (`calendar_cache`)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date
from typing import Any

from alchemiser_cli.core.calendar import Closure, NyseCalendar, Session, SessionTable, horizon


@contextmanager
def _quiet_pandas() -> Iterator[None]:
    """exchange-calendars trips pandas 3.1 deprecation warnings; they are not ours to show."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def xnys_table(start: date, end: date) -> SessionTable:
    """The XNYS sessions and holidays from `start` to `end`, always with an explicit horizon
    (exchange-calendars' default one ends a year from today and then raises)."""
    import exchange_calendars

    with _quiet_pandas():
        cal: Any = exchange_calendars.get_calendar(
            "XNYS", start=start.isoformat(), end=end.isoformat()
        )
        names = cal.regular_holidays.holidays(start.isoformat(), end.isoformat(), return_name=True)
        sessions = tuple(
            Session(
                day=day.date(),
                open=opens.to_pydatetime().astimezone(UTC),
                close=closes.to_pydatetime().astimezone(UTC),
            )
            for day, opens, closes in zip(cal.sessions, cal.opens, cal.closes, strict=True)
        )
    holidays: dict[date, str] = {ts.date(): str(name) for ts, name in names.items()}
    for ts in cal.adhoc_holidays:
        if start <= ts.date() <= end:
            holidays.setdefault(ts.date(), "special closure")
    return SessionTable(
        start=start,
        end=end,
        sessions=sessions,
        holidays=tuple(Closure(day, holidays[day]) for day in sorted(holidays)),
    )


def calendar_around(day: date, years_back: int = 1, years_ahead: int = 3) -> NyseCalendar:
    """The calendar over the horizon around `day`, computed now with exchange-calendars
    (the commands read it from the cached table instead: `calendar_cache`)."""
    return NyseCalendar(xnys_table(*horizon(day, years_back, years_ahead)))
