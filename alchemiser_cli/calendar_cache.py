"""The NYSE session table kept under ALCH_HOME, so a command reads the calendar in
milliseconds instead of importing exchange-calendars and pandas and building it.

The table is computed once with exchange-calendars over the horizon around today (see
`core.calendar.horizon`) and written as `cache/nyse-sessions.json` (0600, atomically,
never through a symbolic link). It is keyed by the library's version and the horizon, and
carries a digest of its data; it is rebuilt when the version changes, when the horizon no
longer covers today and the month after it, or when the file is damaged (not JSON,
truncated, the wrong shape, or data that does not match its digest). A table that cannot
be written is still used for this run, with a warning in the log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date, datetime
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

from alchemiser_cli.calendar_table import xnys_table
from alchemiser_cli.core.calendar import (
    NEW_YORK,
    Closure,
    NyseCalendar,
    Session,
    SessionTable,
    horizon,
)
from alchemiser_cli.errors import AlchError
from alchemiser_cli.files import private_dir, read_private, write_private

FILE_NAME: Final = "nyse-sessions.json"
FORMAT: Final = 1
LIBRARY: Final = "exchange-calendars"
log = logging.getLogger(__name__)
_loaded: dict[Path, NyseCalendar] = {}  # one read per file and process


class DamagedTable(ValueError):
    """The file is not a session table this version of alch wrote (rebuilt, not shown)."""


def library_version() -> str:
    """exchange-calendars' version, from its installed metadata directory's name (reading
    it through importlib.metadata costs ~35 ms; this costs one directory listing)."""
    spec = find_spec("exchange_calendars")
    if spec is not None and spec.origin is not None:
        site = Path(spec.origin).parent.parent
        prefix = "exchange_calendars-"
        for entry in os.scandir(site):
            if entry.name.startswith(prefix) and entry.name.endswith(".dist-info"):
                return entry.name.removeprefix(prefix).removesuffix(".dist-info")
    from importlib.metadata import version  # an unusual layout: the slow, sure way

    return version(LIBRARY)


def nyse_calendar(cache_dir: Path, now: datetime) -> NyseCalendar:
    """The NYSE calendar covering `now`: from the table in `cache_dir` when it is current,
    else computed with exchange-calendars and written there for the next command."""
    path = cache_dir / FILE_NAME
    today = now.astimezone(NEW_YORK).date()
    known = _loaded.get(path)
    if known is not None and known.table.covers(today):
        return known
    version = library_version()
    table = read_table(path, version, today)
    if table is None:
        table = xnys_table(*horizon(today))
        try:
            private_dir(cache_dir, "cache directory in ALCH_HOME")
            write_private(path, dump_table(table, version))
        except (OSError, AlchError) as exc:
            log.warning("cannot keep the NYSE session table in %s (%s): rebuilt per run", path, exc)
    calendar = NyseCalendar(table)
    _loaded[path] = calendar
    return calendar


def read_table(path: Path, version: str, today: date) -> SessionTable | None:
    """The table in `path` if it is whole, of this library version and covers `today`;
    None when it must be (re)built (missing, stale, damaged: the reason is logged)."""
    try:
        text = read_private(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a link, a directory, unreadable: replaced by a fresh file
        log.info("NYSE session table %s unusable (%s): rebuilding", path, exc.strerror)
        return None
    try:
        table, built_with = load_table(text)
    except DamagedTable as exc:
        log.info("NYSE session table %s damaged (%s): rebuilding", path, exc)
        return None
    if built_with != version:
        log.info(
            "NYSE session table built with %s %s, now %s: rebuilding", LIBRARY, built_with, version
        )
        return None
    if not table.covers(today):
        log.info(
            "NYSE session table %s..%s does not cover %s: rebuilding", table.start, table.end, today
        )
        return None
    return table


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, separators=(",", ":")).encode()).hexdigest()


def dump_table(table: SessionTable, version: str) -> str:
    """The file's text: the key (format, library version, horizon), the data, its digest."""
    data = {
        "sessions": [
            [s.day.isoformat(), s.open.isoformat(), s.close.isoformat()] for s in table.sessions
        ],
        "holidays": [[c.day.isoformat(), c.name] for c in table.holidays],
    }
    head = {
        "format": FORMAT,
        "calendar": "XNYS",
        "library": f"{LIBRARY} {version}",
        "start": table.start.isoformat(),
        "end": table.end.isoformat(),
        "digest": _digest(data),
    }
    return json.dumps({**head, **data}, separators=(",", ":")) + "\n"


def load_table(text: str) -> tuple[SessionTable, str]:
    """The table in `text` and the library version it was built with; `DamagedTable` for
    anything else (garbage, truncation, a wrong shape, data that fails its digest)."""
    try:
        raw = json.loads(text)
        if (
            not isinstance(raw, dict)
            or raw.get("format") != FORMAT
            or raw.get("calendar") != "XNYS"
        ):
            raise DamagedTable("not a session table of this format")
        library = str(raw["library"])
        if not library.startswith(f"{LIBRARY} "):
            raise DamagedTable("no library version")
        data = {"sessions": raw["sessions"], "holidays": raw["holidays"]}
        if raw["digest"] != _digest(data):
            raise DamagedTable("data does not match its digest")
        start, end = date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"])
        sessions = tuple(
            Session(
                date.fromisoformat(day),
                datetime.fromisoformat(opens),
                datetime.fromisoformat(closes),
            )
            for day, opens, closes in data["sessions"]
        )
        holidays = tuple(
            Closure(date.fromisoformat(day), str(name)) for day, name in data["holidays"]
        )
    except DamagedTable:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
        raise DamagedTable(f"{type(exc).__name__}: {exc}") from None
    _check_shape(start, end, sessions)
    return SessionTable(start, end, sessions, holidays), library.removeprefix(f"{LIBRARY} ")


def _check_shape(start: date, end: date, sessions: tuple[Session, ...]) -> None:
    """Sessions in order, inside the horizon, each opening before it closes, with no gap
    longer than a week (the longest NYSE closure since 1933 is 4 weekdays)."""
    if not sessions or start > end:
        raise DamagedTable("no sessions")
    previous = date.fromordinal(start.toordinal() - 1)
    for session in sessions:
        if session.open.tzinfo is None or not session.open < session.close:
            raise DamagedTable(f"session {session.day}: open not before close")
        if session.open.astimezone(NEW_YORK).date() != session.day:
            raise DamagedTable(f"session {session.day}: opens on another day")
        if not previous < session.day <= end or (session.day - previous).days > 7:
            raise DamagedTable(f"session {session.day}: out of order or after a gap")
        previous = session.day
    if (end - previous).days > 7:
        raise DamagedTable("sessions end before the horizon")
