"""How the Alpaca adapter's requests travel: one pooled session, a hard total time limit.

A request's total time (status line to last body byte) is bounded by where the CALLER
waits, not by the socket: each call runs on a short-lived daemon thread and the caller
waits for it at most the limit: `timeout_s`, cut at the run deadline; the requests made
after the deadline (to cancel what is open, or look it up) share `AFTER_DEADLINE_S` after
it, and once that is spent a request fails without being sent. Whatever the
server does (trickles a body after `Connection: close`, answers as HTTP/1.0 until it
closes, never answers at all) the caller gets `requests.ReadTimeout` at the limit. The
worker is abandoned: its socket keeps the same limit per read, so it ends by itself soon
after, and the session's idle pooled connections are closed (a cut connection is never
reused). Socket-level watchdogs cannot do this: once `http.client` has read the headers of
a closing answer it detaches the socket from the connection, and nothing can cut it.

An order submit cut this way is an unanswered submit like a dropped connection: the
adapter looks it up by client_order_id before anything else, and the executor journals it
`unconfirmed` if the broker does not have it.

Only public APIs of requests: a `requests.Session` with one `HTTPAdapter` mounted, whose
`send` gives every read the limit, shows each answer's status and headers to the rate
limiter (Alpaca's X-RateLimit-*), and raises `RetryableAnswer` for a 429 or a 504 (the
statuses alpaca-py's clients would retry by themselves, 3 s apart, order submits included):
alch's rules (`answers`, brokers/resilience.py) decide what is retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

T = TypeVar("T")

# How long the requests made after the run deadline (the executor's cancels of what is
# still open, and their look-ups) may take, all together: the run ends by then.
AFTER_DEADLINE_S = 2.0
# The least time a request made before the deadline gets (one started a moment before it).
LEAST_S = 1.0

_CALL = threading.local()  # the limit of the call this (worker) thread is making
RETRYABLE = frozenset({429, 504})  # answered "try again": alch decides whether to


class RetryableAnswer(requests.HTTPError):
    """A 429 or 504 answer, raised as soon as it arrives (`.response` holds it)."""


class _ObservingAdapter(HTTPAdapter):
    """Gives each socket read the call's limit (the caller passes no timeout) and shows
    every answer's status and headers to `observe`."""

    def __init__(self, observe: Callable[[int, Mapping[str, str]], None] | None) -> None:
        super().__init__(pool_connections=4, pool_maxsize=8, max_retries=0)
        self._observe = observe

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        limit = getattr(_CALL, "limit", None)
        response = super().send(
            request,
            stream=stream,
            timeout=limit if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )
        if self._observe is not None:
            self._observe(response.status_code, response.headers)
        if response.status_code in RETRYABLE:
            raise RetryableAnswer(f"HTTP {response.status_code}", response=response)
        return response


class Transport:
    """One session for the trading and data clients, and calls cut at their limit."""

    def __init__(
        self,
        timeout_s: float,
        observe: Callable[[int, Mapping[str, str]], None] | None = None,
        left: Callable[[], float | None] | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        self._left = left  # seconds to the run deadline (None: no deadline)
        self.session = requests.Session()
        adapter = _ObservingAdapter(observe)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.abandoned = 0  # calls cut at their limit (their workers were left to end)

    def limit(self) -> float:
        """This call's total limit: `timeout_s`, cut at the run deadline (at least `LEAST_S`)
        or, once it has passed, at the end of `AFTER_DEADLINE_S` after it (0 or less: no
        time is left)."""
        left = None if self._left is None else self._left()
        if left is None:
            return self.timeout_s
        if left > 0:
            return min(self.timeout_s, max(left, LEAST_S))
        return min(self.timeout_s, left + AFTER_DEADLINE_S)

    def call(self, fn: Callable[[], T]) -> T:
        """`fn()` (one HTTP request through the session), or `requests.ReadTimeout` when
        it has not returned within the limit; its own exceptions are raised here."""
        limit = self.limit()
        if limit <= 0:
            raise requests.ReadTimeout("not sent: the run deadline and its grace have passed")
        outcome: list[tuple[bool, Any]] = []
        done = threading.Event()

        def work() -> None:
            _CALL.limit = limit
            try:
                outcome.append((True, fn()))
            except Exception as exc:  # noqa: BLE001 - re-raised on the caller's thread
                outcome.append((False, exc))
            finally:
                done.set()

        worker = threading.Thread(target=work, name="alch-request", daemon=True)
        worker.start()
        if not done.wait(limit):
            self.abandoned += 1
            self.session.close()  # idle pooled connections go; the cut one is never reused
            raise requests.ReadTimeout(f"no complete answer within {limit:g} s")
        ok, value = outcome[0]
        if ok:
            return value  # type: ignore[no-any-return]
        raise value
