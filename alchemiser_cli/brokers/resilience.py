"""Request hygiene for the broker adapter: rate limit, circuit breaker, retry policy.

The limiter and the breaker are small state machines on the injected clock, so tests
exercise them without waiting (a library version would read the wall clock and sleep).
The retry loop itself is tenacity's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import tenacity

from alchemiser_cli.clock import Clock
from alchemiser_cli.errors import BrokerError

T = TypeVar("T")


class BrokerUnavailable(BrokerError):
    """The broker did not answer usefully (timeout, reset, 5xx, 429); worth retrying."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CircuitOpen(BrokerError):
    """Too many consecutive failures: fail fast instead of hammering the broker."""


@dataclass(slots=True)
class RateLimiter:
    """Token bucket: at most `per_minute` requests a minute; waits on the injected clock."""

    per_minute: int
    clock: Clock
    _tokens: float = -1.0
    _last: float = 0.0

    def acquire(self) -> None:
        """Take one token, waiting (boundedly) for it to refill if needed."""
        now = self.clock.now().timestamp()
        if self._tokens < 0:
            self._tokens, self._last = float(self.per_minute), now
        rate = self.per_minute / 60.0
        self._tokens = min(float(self.per_minute), self._tokens + (now - self._last) * rate)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / rate
            if not self.clock.sleep(wait):
                raise BrokerError("interrupted while waiting for the rate limiter")
            self._tokens, self._last = 1.0, self._last + wait
        self._tokens -= 1


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
    clock: Clock, attempts: int, max_wait_s: float, rng: random.Random | None = None
) -> tenacity.Retrying:
    """Retry `BrokerUnavailable` with exponential backoff and jitter, honouring Retry-After."""
    jitter = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        hinted = exc.retry_after if isinstance(exc, BrokerUnavailable) else None
        backoff = min(max_wait_s, 0.5 * 2 ** (state.attempt_number - 1))
        base = hinted if hinted is not None else backoff
        return min(max_wait_s, base + jitter.uniform(0, base / 4))

    def sleep(seconds: float) -> None:
        if not clock.sleep(seconds):
            raise BrokerError("interrupted while waiting to retry")

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
