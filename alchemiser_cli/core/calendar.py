"""NYSE sessions, holidays and early closes, over a table of sessions taken as data.

`NyseCalendar.state(now)` turns an instant into a `MarketState` value that the pure checks
read; nothing here reads the clock or a file or imports a calendar library. The table
(`SessionTable`) it is given is computed outside the core, from exchange-calendars (XNYS),
by `calendar_table.xnys_table`; the commands read it from a small file under ALCH_HOME
(`calendar_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
REGULAR_CLOSE_HOUR = 16
UNSCHEDULED = "unscheduled_closure"  # the broker's clock says closed in a calendar session


@dataclass(frozen=True, slots=True)
class Session:
    """One trading session (times are UTC)."""

    day: date
    open: datetime
    close: datetime

    @property
    def early_close(self) -> bool:
        """Whether the session closes before 16:00 New York time."""
        return self.close.astimezone(NEW_YORK).hour < REGULAR_CLOSE_HOUR

    def describe(self) -> str:
        """`2026-11-27 09:30-13:00 ET (early close)`."""
        local_open = self.open.astimezone(NEW_YORK)
        local_close = self.close.astimezone(NEW_YORK)
        early = " (early close)" if self.early_close else ""
        return f"{self.day} {local_open:%H:%M}-{local_close:%H:%M} ET{early}"


@dataclass(frozen=True, slots=True)
class MarketState:
    """Where `now` falls in the NYSE calendar."""

    now: datetime
    is_open: bool
    reason: str  # open | weekend | holiday | before_open | after_close | unscheduled_closure
    holiday: str | None
    session: Session | None  # today's session, if today is a trading day
    next_session: Session  # the session now is in, or the next one to open

    @property
    def minutes_since_open(self) -> float | None:
        """Minutes since today's open, while open."""
        if not self.is_open or self.session is None:
            return None
        return (self.now - self.session.open).total_seconds() / 60

    @property
    def minutes_to_close(self) -> float | None:
        """Minutes until today's close, while open."""
        if not self.is_open or self.session is None:
            return None
        return (self.session.close - self.now).total_seconds() / 60

    def outside_close_window(self, window_s: float) -> str | None:
        """Why now is not within the last `window_s` seconds before a close (early closes
        count), or None when it is."""
        to_close = self.minutes_to_close
        if to_close is not None and to_close * 60 <= window_s:
            return None
        session = self.session if self.is_open and self.session else self.next_session
        close = session.close.astimezone(NEW_YORK)
        return (
            f"outside the close window (the last {window_s / 60:g} min before the close at "
            f"{close:%Y-%m-%d %H:%M} ET)"
        )

    def why_closed(self) -> str:
        """Why the market is closed, naming the day's real open or close and the time now."""
        local = self.now.astimezone(NEW_YORK)
        if self.reason == "weekend":
            return f"{local:%A} {local:%Y-%m-%d}"
        if self.reason == "holiday":
            return f"{self.holiday} ({local:%Y-%m-%d})"
        if self.session is not None and self.reason == "before_open":
            opens = self.session.open.astimezone(NEW_YORK)
            return f"before the open at {opens:%H:%M} ET (now {local:%H:%M} ET)"
        if self.session is not None and self.reason == "after_close":
            closes = self.session.close.astimezone(NEW_YORK)
            early = "early " if self.session.early_close else ""
            return f"after the {early}close at {closes:%H:%M} ET (now {local:%H:%M} ET)"
        if self.reason == UNSCHEDULED:
            return (
                f"the broker's clock says closed although the NYSE calendar says open "
                f"(now {local:%H:%M} ET): an unscheduled closure?"
            )
        return self.reason.replace("_", " ")

    def closed_by_broker(self, following: Session) -> MarketState:
        """The calendar says open but the broker's own clock says closed: closed, and the
        next session is `following` (the calendar's next after today's)."""
        return replace(self, is_open=False, reason=UNSCHEDULED, next_session=following)

    def describe_closed(self) -> str:
        """Why the market is closed and when it opens next."""
        return f"market closed: {self.why_closed()}; next session {self.next_session.describe()}"


@dataclass(frozen=True, slots=True)
class Closure:
    """A weekday the exchange does not trade."""

    day: date
    name: str


@dataclass(frozen=True, slots=True)
class MarketOutlook:
    """The market now and over the coming sessions (for `alch status`)."""

    state: MarketState
    next_open: datetime  # the next opening bell after now
    next_close: datetime  # the close of the session in progress, else of the next one
    sessions: tuple[Session, ...]  # the coming sessions, today's first if not over
    early_closes: tuple[Session, ...]  # those of `sessions` that close early
    holidays: tuple[Closure, ...]  # weekday closures up to the last of `sessions`

    def closed_by_broker(self) -> MarketOutlook:
        """The outlook when the broker's clock says closed during a calendar session:
        today's session is dropped and the next open is the following session's."""
        if not self.state.is_open or len(self.sessions) < 2:  # today's, then the next
            return self
        following = self.sessions[1]
        return replace(
            self,
            state=self.state.closed_by_broker(following),
            next_open=following.open,
            next_close=following.close,
            sessions=self.sessions[1:],
            early_closes=tuple(s for s in self.early_closes if s != self.sessions[0]),
        )


@dataclass(frozen=True, slots=True)
class SessionTable:
    """The NYSE sessions and weekday closures from `start` to `end` (inclusive), as data:
    computed once from exchange-calendars (`calendar_table.xnys_table`) and kept as a small
    file under ALCH_HOME by `calendar_cache`."""

    start: date
    end: date
    sessions: tuple[Session, ...]  # in day order
    holidays: tuple[Closure, ...]  # weekday closures with their names, in day order

    def covers(self, day: date, ahead_days: int = 31) -> bool:
        """Whether `day` and the month after it lie inside the table."""
        return self.start <= day and day + timedelta(days=ahead_days) <= self.end


def horizon(around: date, years_back: int = 1, years_ahead: int = 3) -> tuple[date, date]:
    """The window a table is built for: January 1st `years_back` years before `around`'s
    year to December 31st `years_ahead` years after it."""
    return date(around.year - years_back, 1, 1), date(around.year + years_ahead, 12, 31)


class NyseCalendar:
    """The XNYS calendar over a session table (pure: the sessions are data)."""

    def __init__(self, table: SessionTable) -> None:
        self.table = table
        self._start = table.start
        self._end = table.end
        self._sessions = {s.day: s for s in table.sessions}
        self._holidays: dict[date, str] = {c.day: c.name for c in table.holidays}

    def holiday_name(self, day: date) -> str | None:
        """The holiday's name if the exchange is closed on a weekday `day`."""
        return self._holidays.get(day)

    def session(self, day: date) -> Session | None:
        """The session on `day`, or None if the exchange does not trade that day."""
        if not self._start <= day <= self._end:
            raise ValueError(f"{day} is outside the calendar's horizon {self._start}..{self._end}")
        return self._sessions.get(day)

    def sessions(self, first: date, count: int) -> list[Session]:
        """`count` sessions starting on or after `first`."""
        found: list[Session] = []
        day = first
        while len(found) < count:
            session = self.session(day)
            if session is not None:
                found.append(session)
            day += timedelta(days=1)
        return found

    def last_closed(self, now: datetime) -> date:
        """The day of the last session that closed at or before `now` (early closes count)."""
        day = now.astimezone(NEW_YORK).date()
        while True:
            session = self.session(day)
            if session is not None and session.close <= now:
                return day
            day -= timedelta(days=1)

    def outlook(self, now: datetime, count: int = 10) -> MarketOutlook:
        """The state at `now`, the next open and close, and the next `count` sessions with
        their early closes and the holidays among them."""
        state = self.state(now)
        local_day = now.astimezone(NEW_YORK).date()
        coming = [s for s in self.sessions(local_day, count + 1) if s.close > now][:count]
        next_open = next(s.open for s in coming if s.open > now)
        holidays = tuple(
            Closure(day, name)
            for day, name in sorted(self._holidays.items())
            if local_day <= day <= coming[-1].day and day.weekday() < 5
        )
        return MarketOutlook(
            state=state,
            next_open=next_open,
            next_close=coming[0].close,
            sessions=tuple(coming),
            early_closes=tuple(s for s in coming if s.early_close),
            holidays=holidays,
        )

    def state(self, now: datetime) -> MarketState:
        """Open or closed at `now`, why, and the next session."""
        if now.tzinfo is None:
            raise ValueError("MarketState needs a timezone-aware time")
        local_day = now.astimezone(NEW_YORK).date()
        today = self.session(local_day)
        if today is not None and today.open <= now < today.close:
            return MarketState(now, True, "open", None, today, today)
        if today is not None and now < today.open:
            return MarketState(now, False, "before_open", None, today, today)
        (upcoming,) = self.sessions(local_day + timedelta(days=1), 1)
        if today is not None:
            return MarketState(now, False, "after_close", None, today, upcoming)
        holiday = self.holiday_name(local_day)
        reason = "weekend" if local_day.weekday() >= 5 and holiday is None else "holiday"
        return MarketState(now, False, reason, holiday, None, upcoming)
