"""The one seam for wall-clock time and waiting, so tests never sleep."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the time and waits; every wait is bounded and can be cut short."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def sleep(self, seconds: float) -> bool:
        """Wait up to `seconds`; return False if the wait was cancelled."""
        ...


class SystemClock:
    """Real time; `cancel()` (from a signal handler) wakes any wait at once."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> bool:
        """Wait on an event rather than time.sleep, so a signal can cut it short."""
        return not self._cancelled.wait(max(0.0, seconds))

    def cancel(self) -> None:
        """Wake every current and future wait."""
        self._cancelled.set()


class FixedClock:
    """A clock that starts at a given instant and only moves when something waits."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self.slept: list[float] = []

    def now(self) -> datetime:
        """The simulated current time."""
        return self._now

    def sleep(self, seconds: float) -> bool:
        """Advance simulated time instead of waiting."""
        self.slept.append(seconds)
        self._now += timedelta(seconds=seconds)
        return True

    def advance(self, seconds: float) -> None:
        """Move time forward (tests)."""
        self._now += timedelta(seconds=seconds)


class RunningClock(SystemClock):
    """Starts at a given instant and runs in real time (the simulator's ALCH_SIM_REALTIME=1)."""

    def __init__(self, start: datetime) -> None:
        super().__init__()
        if start.tzinfo is None:
            raise ValueError("RunningClock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        """The start time plus the real time elapsed since."""
        return self._start + timedelta(seconds=time.monotonic() - self._t0)
