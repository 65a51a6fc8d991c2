"""Fills as Alpaca pushes them: the `trade_updates` websocket, on `websockets`' public client.

Alpaca's protocol (/work/shared/ALPACA.md; tests/fake_alpaca.py's FakeStream answers it):
connect, authenticate (`{"action": "authenticate", "data": {"key_id", "secret_key"}}`,
answered `{"stream": "authorization", "data": {"status": "authorized"}}`), listen
(`{"action": "listen", "data": {"streams": ["trade_updates"]}}`), then read
`{"stream": "trade_updates", "data": {"event", "order", ...}}` until the connection drops;
then connect again after a backoff (RECONNECT_MIN_S, doubling to RECONNECT_MAX_S, equal
jitter, as alpaca-py's TradingStream). alpaca-py's TradingStream offers no public way to
hear when a connection is made or lost, nor to set its backoff, so alch owns this small
loop (its reader runs on a daemon thread and feeds a thread-safe queue the executor drains,
`OrderUpdates`): when a connection is (re)established anything pushed while it was away is
lost, so the executor then reconciles by polling once; while it is down the executor polls.
The auth message carries the keys: nothing here logs it, and the websockets library is
given a logger that goes nowhere, so its debug log of frames never holds them.
"""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
from collections.abc import Callable
from typing import Any

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.errors import AlchError, BrokerError

log = logging.getLogger(__name__)
_QUIET = logging.getLogger("alch.websockets")  # the library's frames (keys): nowhere
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False

RECONNECT_MIN_S = 1.0  # the first reconnect backoff (it doubles, jittered, to RECONNECT_MAX_S)
RECONNECT_MAX_S = 30.0
CLOSE_WAIT_S = 2.0  # how long `close` waits for the reader thread before leaving it (daemon)
OPEN_TIMEOUT_S = 10.0  # connecting and the handshake
AUTH_WAIT_S = 10.0  # the answer to the authentication message


def reconnect_delay(failures: int) -> float:
    """Seconds before the next try after `failures` (>= 1) failed ones in a row."""
    capped = RECONNECT_MIN_S
    for _ in range(max(0, failures - 1)):
        if capped >= RECONNECT_MAX_S / 2:
            capped = RECONNECT_MAX_S
            break
        capped *= 2
    capped = min(RECONNECT_MAX_S, capped)
    return capped / 2 + random.uniform(0, capped / 2)  # noqa: S311 - jitter, not a secret


class AlpacaUpdates:
    """One run's trade_updates stream (the `OrderUpdates` seam of brokers/base.py)."""

    def __init__(
        self,
        key: str,
        secret: str,
        url: str,
        parse: Any,
        before_connect: Callable[[], None] | None = None,
    ) -> None:
        self._keys = (key, secret)
        self._url = url
        self._parse = parse  # raw Alpaca order dict -> BrokerOrder (the adapter's parser)
        self._before = before_connect  # each (re)connection takes one request's budget
        self.connects = 0  # connections tried (each counted against the rate limit)
        self._queue: queue.SimpleQueue[BrokerOrder] = queue.SimpleQueue()
        self._arrived = threading.Event()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._live = False
        self._connects = 0  # connections made and not yet reported by `take`
        self._socket: ClientConnection | None = None
        self._thread = threading.Thread(target=self._run, name="alch-trade-updates", daemon=True)
        self._thread.start()

    # -- the reader thread ---------------------------------------------------------------

    def _run(self) -> None:
        """Connect, listen until the connection drops, wait, again; until `close`."""
        failures = 0
        while not self._stopping.is_set():
            heard = False
            try:
                heard = self._listen()
            except (OSError, RuntimeError, WebSocketException, AlchError, ValueError) as exc:
                log.info("trade_updates stream: %s", type(exc).__name__)
            finally:
                self._dropped()
            failures = 1 if heard else failures + 1
            self._stopping.wait(reconnect_delay(failures))

    def _listen(self) -> bool:
        """One connection: authenticate, listen, read until it ends; True once an update
        arrived on it (the backoff starts over)."""
        self.connects += 1
        if self._before is not None:
            self._before()  # the key's rate limit: a refused wait fails this try
        heard = False
        with connect(
            self._url,
            open_timeout=OPEN_TIMEOUT_S,
            ping_interval=10,
            ping_timeout=180,
            max_queue=1024,
            close_timeout=CLOSE_WAIT_S,
            proxy=None,
            logger=_QUIET,
        ) as socket:
            with self._lock:
                self._socket = socket
            if self._stopping.is_set():
                return False
            key, secret = self._keys
            auth = {"action": "authenticate", "data": {"key_id": key, "secret_key": secret}}
            socket.send(json.dumps(auth))
            answer = json.loads(socket.recv(timeout=AUTH_WAIT_S))
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict) or data.get("status") != "authorized":
                raise ValueError("failed to authenticate")
            socket.send(json.dumps({"action": "listen", "data": {"streams": ["trade_updates"]}}))
            self._connected()
            for frame in socket:
                message = json.loads(frame)
                if isinstance(message, dict) and message.get("stream") == "trade_updates":
                    heard = True
                    self._on_update(message)
        return heard

    def _connected(self) -> None:
        with self._lock:
            self._live = True
            self._connects += 1
        log.info("trade_updates stream connected")
        self._arrived.set()  # the owner reconciles by polling once

    def _dropped(self) -> None:
        with self._lock:
            was, self._live = self._live, False
            self._socket = None
        if was and not self._stopping.is_set():
            log.warning("trade_updates stream dropped; polling until it reconnects")

    def _on_update(self, message: dict[str, Any]) -> None:
        data = message.get("data")
        raw = data.get("order") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            log.warning("trade_updates message without an order: ignored")
            return
        try:
            order = self._parse(raw)
        except BrokerError as exc:
            log.warning("trade_updates: %s; the order is polled instead", exc)
            with self._lock:
                self._connects += 1  # treat it as a gap: reconcile by polling once
        else:
            self._queue.put(order)
        self._arrived.set()

    # -- the OrderUpdates seam (executor thread) -----------------------------------------

    @property
    def live(self) -> bool:
        """Connected and listening."""
        with self._lock:
            return self._live

    def wait(self, seconds: float) -> bool:
        """Wait up to `seconds` (real time) for an update; True if one arrived."""
        woke = self._arrived.wait(max(0.0, seconds))
        self._arrived.clear()
        return woke

    def take(self) -> tuple[list[BrokerOrder], bool]:
        """Updates since the last call and whether a (re)connection happened since."""
        orders: list[BrokerOrder] = []
        while True:
            try:
                orders.append(self._queue.get_nowait())
            except queue.Empty:
                break
        with self._lock:
            reconnected, self._connects = self._connects > 0, 0
        return orders, reconnected

    def interrupt(self) -> None:
        """Wake a waiting executor at once."""
        self._arrived.set()

    def close(self) -> None:
        """Stop the reader and close its socket; wait for it a bounded moment."""
        self._stopping.set()
        with self._lock:
            socket = self._socket
        if socket is not None:
            socket.close()  # thread-safe: the reader's pending read ends
        self._thread.join(CLOSE_WAIT_S)
        if self._thread.is_alive():
            log.warning("trade_updates stream did not close within %g s", CLOSE_WAIT_S)
