"""The run's deadline: one value, made once at the command's start and handed down once.

Pure: it takes the clock's time as an argument. Everything that waits (the executor's
polls, re-pegs and top-up, the broker's retries, rate-limit holds and request limits) asks
the same value how long is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Deadline:
    """The moment a run must end by (`at`, aware) and the length it was given (`seconds`,
    as `--deadline` or `[execution] deadline_s` said: messages quote it)."""

    at: datetime
    seconds: float

    @classmethod
    def after(cls, now: datetime, seconds: float) -> Deadline:
        """The deadline `seconds` after `now`."""
        return cls(now + timedelta(seconds=seconds), seconds)

    def left(self, now: datetime) -> float:
        """Seconds from `now` to the deadline (negative once it has passed)."""
        return (self.at - now).total_seconds()

    def expired(self, now: datetime) -> bool:
        """Whether the deadline has come (at `now` or before)."""
        return now >= self.at

    def shifted(self, by: timedelta) -> Deadline:
        """The same deadline moved later by `by` (a pause that does not count)."""
        return Deadline(self.at + by, self.seconds)
