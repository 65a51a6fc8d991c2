"""Request hygiene for the broker adapter: waits, rate limit, circuit breaker, retry policy.

Every wait goes through `Waits`, on the injected clock: it is capped and never crosses the
run's deadline; a wait that would is refused at once with `WaitRefused` (nothing sleeps
past the deadline, and tests never sleep). The breaker is a small state machine on the same
clock. The retry loop is tenacity's; the sliding-window limiter keeps its log in
pyrate-limiter's SQLite bucket.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import random
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TypeVar

import tenacity
from pyrate_limiter import Rate, RateItem, SQLiteBucket

from alchemiser_cli.clock import Clock
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.errors import (
    BrokerError,
    BrokerUnavailable,
    CircuitOpen,
    ConfigError,
    WaitRefused,
)
from alchemiser_cli.files import open_private, prepare_sqlite, private_dir, state_error

T = TypeVar("T")
log = logging.getLogger(__name__)

WINDOW_MS = 61_000  # Alpaca counts per minute; one second of slack for the trip there
LEAK_EVERY = 100  # acquisitions between clean-ups of the shared log


def _seconds(value: float) -> str:
    return f"{round(value, 1):g}"


@dataclass(slots=True)
class Waits:
    """Every wait of the adapter: at most `cap_s`, never past the run's `deadline`."""

    clock: Clock
    cap_s: float
    deadline: Deadline | None = None

    def left(self) -> float | None:
        """Seconds to the run's deadline by the clock, None without one."""
        return None if self.deadline is None else self.deadline.left(self.clock.now())

    def wait(self, seconds: float, what: str) -> None:
        """Sleep `seconds` on the clock, or raise `WaitRefused` without sleeping."""
        if seconds <= 0:
            return
        if seconds > self.cap_s:
            raise WaitRefused(
                f"not waiting {_seconds(seconds)} s for {what}: longer than "
                f"alpaca.max_wait_s ({self.cap_s:g} s); try again later"
            )
        left = self.left()
        if self.deadline is not None and left is not None and seconds > left:
            at = self.deadline.at.astimezone(UTC)
            raise WaitRefused(
                f"not waiting {_seconds(seconds)} s for {what}: the run deadline "
                f"({at:%H:%M:%S} UTC) is {_seconds(max(0.0, left))} s away; "
                "nothing more is sent (run again later, or give a longer --deadline)"
            )
        if seconds > 1:  # a long silence looks like a hang: say what is awaited (-v)
            log.info("waiting %s s for %s", _seconds(seconds), what)
        if not self.clock.sleep(seconds):
            raise BrokerError(f"interrupted while waiting for {what}")


class RateLimiter:
    """At most `per_minute` requests in every sliding window, shared by every process that
    opens the same state file, and held back while the broker says the budget is spent.

    Why pyrate-limiter (v4): its `SQLiteBucket` keeps a sliding-window log in one SQLite
    file and, with `use_file_lock`, does each count-and-insert under a filelock, so several
    `alch` processes on the same keys share one budget; its algorithm also says how long to
    wait, computed under the same lock. `limits` has a moving window too, but only in
    memory, Redis, Memcached or MongoDB: nothing a CLI can share through a file. The bucket
    is used without pyrate's `Limiter`, whose waits read the wall clock and sleep: alch
    stamps each request with the injected clock and waits through `Waits` (capped, within
    the run deadline). The hold from X-RateLimit-Remaining: 0 lives in the same file.
    """

    def __init__(
        self,
        per_minute: int,
        waits: Waits,
        state: Path | None = None,
        max_hold_s: float = WINDOW_MS / 1000,
    ) -> None:
        self.per_minute = per_minute
        self.max_hold_s = max_hold_s
        self._waits = waits
        self.taken = 0  # requests this process took from the budget
        rates = [Rate(per_minute, WINDOW_MS)]
        self._bucket = self._open(rates, state)
        with self._bucket.lock:
            self._bucket.conn.execute(
                "CREATE TABLE IF NOT EXISTS alch_hold (id INTEGER PRIMARY KEY, until_ms "
                "INTEGER NOT NULL, why TEXT NOT NULL)"
            )
            self._bucket.conn.commit()

    @staticmethod
    def _open(rates: list[Rate], state: Path | None) -> SQLiteBucket:
        if state is not None:
            what = "rate-limit state"
            lock = state.with_name(state.name + ".lock")
            companions = [state.with_name(state.name + x) for x in ("-wal", "-shm", "-journal")]
            for path in (state.parent, state, lock, *companions):  # a link is refused
                if path.is_symlink():
                    raise state_error(path, OSError(errno.ELOOP, "symbolic link"), what)
            try:
                private_dir(state.parent, "rate-limit directory")
                prepare_sqlite(state, what)  # 0600, no link for it or its -wal/-shm/-journal
                os.close(open_private(lock, os.O_RDWR, what))
                return SQLiteBucket.init_from_file(
                    rates, table="requests", db_path=str(state), use_file_lock=True
                )
            except (OSError, sqlite3.Error, ConfigError) as exc:
                log.warning(
                    "cannot share the rate limit through %s (%s): limiting this process only",
                    state,
                    exc,
                )
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.execute("CREATE TABLE requests (name VARCHAR, item_timestamp INTEGER)")
        return SQLiteBucket(rates, conn, "requests")

    def _now_ms(self) -> int:
        return int(self._waits.clock.now().timestamp() * 1000)

    def acquire(self) -> None:
        """Take one request from the budget, waiting (capped, within the deadline) if needed."""
        while True:
            now = self._now_ms()
            with self._bucket.lock:
                row = self._bucket.conn.execute(
                    "SELECT until_ms, why FROM alch_hold WHERE id = 1"
                ).fetchone()
                if row is not None and int(row[0]) > now:
                    wait_ms, what = int(row[0]) - now, str(row[1])
                else:
                    decision = self._bucket.put_decision(RateItem("alpaca", now))
                    assert not isinstance(decision, Awaitable)
                    if decision.allowed:
                        self.taken += 1
                        if self.taken % LEAK_EVERY == 1:
                            self._bucket.leak(now)
                        return
                    wait_ms = max(1, decision.retry_after_ms or 1)
                    what = f"the client-side rate limit ({self.per_minute} requests a minute)"
            self._waits.wait(wait_ms / 1000, what)

    def hold(self, until: float, why: str) -> None:
        """Send nothing before `until` (epoch seconds), in every process sharing the state;
        at most `max_hold_s` from now: a later request asks the broker again."""
        until = min(until, self._waits.clock.now().timestamp() + self.max_hold_s)
        until_ms = int(until * 1000)
        with self._bucket.lock:
            self._bucket.conn.execute(
                "INSERT INTO alch_hold (id, until_ms, why) VALUES (1, ?, ?) ON CONFLICT (id) "
                "DO UPDATE SET until_ms = MAX(until_ms, excluded.until_ms), why = "
                "CASE WHEN excluded.until_ms > until_ms THEN excluded.why ELSE why END",
                (until_ms, why),
            )
            self._bucket.conn.commit()

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Follow the broker's own count: Remaining 0 (or a 429) holds until its Reset (an
        epoch second; at most a window away, in case the two clocks disagree), a 429's
        Retry-After for as long as it says; every hold at most `max_hold_s`."""
        now = self._waits.clock.now().timestamp()
        retry = _number(headers.get("Retry-After"))
        reset = _number(headers.get("X-RateLimit-Reset"))
        remaining = _number(headers.get("X-RateLimit-Remaining"))
        if status == 429 and retry is not None:
            self.hold(now + retry, "Alpaca's Retry-After")
        elif (status == 429 or remaining == 0) and reset is not None and reset > now:
            until = min(reset, now + WINDOW_MS / 1000)
            self.hold(until, "Alpaca's X-RateLimit-Reset (no requests remaining)")

    def close(self) -> None:
        """Release the state file."""
        with contextlib.suppress(sqlite3.Error):
            self._bucket.conn.close()


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


def state_file(directory: Path, key_id: str) -> Path:
    """The shared limiter state for one API key: named by a hash, never the key itself."""
    digest = hashlib.sha256(key_id.encode()).hexdigest()[:16]
    return directory / f"{digest}.sqlite"


@dataclass(slots=True)
class CircuitBreaker:
    """Opens after `fail_max` consecutive failures; lets one trial through after `reset_s`."""

    fail_max: int
    reset_s: float
    clock: Clock
    failures: int = 0
    opened_at: float | None = None
    last_error: str = ""

    def before(self) -> None:
        """Raise `CircuitOpen` while open; after the reset time, allow a trial call."""
        if self.opened_at is None:
            return
        waited = self.clock.now().timestamp() - self.opened_at
        if waited < self.reset_s:
            raise CircuitOpen(
                f"broker unavailable: {self.failures} consecutive failures "
                f"(last: {self.last_error}); not retrying for {self.reset_s - waited:.0f} s"
            )

    def success(self) -> None:
        """Close the circuit."""
        self.failures, self.opened_at = 0, None

    def failure(self, error: str) -> None:
        """Count a failure; open the circuit at `fail_max`."""
        self.failures += 1
        self.last_error = error
        if self.failures >= self.fail_max:
            self.opened_at = self.clock.now().timestamp()


def retrying(
    waits: Waits, attempts: int, max_backoff_s: float, rng: random.Random | None = None
) -> tenacity.Retrying:
    """Retry `BrokerUnavailable` with exponential backoff and jitter, honouring Retry-After;
    every wait through `waits` (capped, within the run deadline)."""
    jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    why = ["retry backoff"]

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hinted = exc.retry_after if isinstance(exc, BrokerUnavailable) else None
        if hinted is not None:
            why[0] = f"Alpaca's Retry-After (after: {exc})"
            return float(hinted) + jitter.uniform(0, min(hinted, max_backoff_s) / 4)
        why[0] = f"retry backoff (after: {exc})"
        base = min(max_backoff_s, 0.5 * 2.0 ** (state.attempt_number - 1))
        return min(max_backoff_s, base + jitter.uniform(0, base / 4))

    def sleep(seconds: float) -> None:
        waits.wait(seconds, why[0])

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(BrokerUnavailable),
        stop=tenacity.stop_after_attempt(attempts),
        wait=wait,
        sleep=sleep,
        reraise=True,
    )


def guarded(call: Callable[[], T], limiter: RateLimiter, breaker: CircuitBreaker) -> T:
    """One attempt through the limiter and the breaker."""
    breaker.before()
    limiter.acquire()
    try:
        result = call()
    except BrokerUnavailable as exc:
        breaker.failure(str(exc))
        raise
    breaker.success()
    return result
