"""Fills as Alpaca pushes them: the `trade_updates` websocket, through alpaca-py's TradingStream.

TradingStream connects, authenticates (`{"action": "authenticate", "data": {"key_id",
"secret_key"}}`, answered `{"stream": "authorization", "data": {"status": "authorized"}}`),
listens (`{"action": "listen", "data": {"streams": ["trade_updates"]}}`) and, after a dropped
connection, reconnects by itself with backoff. It runs its own asyncio loop: here that loop
runs in a daemon thread and feeds a thread-safe queue the executor drains (`OrderUpdates`).

What TradingStream does not say, a subclass adds: when a connection is (re)established
(anything pushed while it was away is lost, so the executor then reconciles by polling
once) and when it drops (the executor polls as without a stream until it is back).
The auth message carries the keys: alpaca-py does not log it and nothing here does; its
logger gets a NullHandler so its warnings never reach the terminal through Python's
last-resort handler.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from alpaca.trading.stream import TradingStream

from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.errors import BrokerError

log = logging.getLogger(__name__)
logging.getLogger("alpaca.trading.stream").addHandler(logging.NullHandler())

RECONNECT_MIN_S = 1.0  # alpaca-py's own first reconnect backoff (it doubles, jittered, to 30 s)
CLOSE_WAIT_S = 2.0  # how long `close` waits for the reader thread before leaving it (daemon)


class _Stream(TradingStream):
    """TradingStream telling its owner when it connects and when the connection drops."""

    def __init__(self, owner: AlpacaUpdates, key: str, secret: str, url: str) -> None:
        super().__init__(key, secret, raw_data=True, url_override=url)
        self._owner = owner
        self._reconnect_min_backoff = RECONNECT_MIN_S

    async def _start_ws(self) -> None:
        self._owner._before_connect()  # the key's rate limit: a refused wait fails this try
        await super()._start_ws()  # type: ignore[no-untyped-call]
        self._owner._connected()

    async def close(self) -> None:
        self._owner._dropped()
        await super().close()


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
        self._parse = parse  # raw Alpaca order dict -> BrokerOrder (the adapter's parser)
        self._before = before_connect  # each (re)connection takes one request's budget
        self.connects = 0  # connections tried (each counted against the rate limit)
        self._queue: queue.SimpleQueue[BrokerOrder] = queue.SimpleQueue()
        self._arrived = threading.Event()
        self._lock = threading.Lock()
        self._live = False
        self._closing = False
        self._connects = 0  # connections made and not yet reported by `take`
        self._stream = _Stream(self, key, secret, url)
        self._stream.subscribe_trade_updates(self._on_update)
        self._thread = threading.Thread(target=self._run, name="alch-trade-updates", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._stream.run()
        except (OSError, RuntimeError, ValueError) as exc:  # the reader ends; polling goes on
            log.warning("trade_updates stream ended (%s); polling instead", exc)
        finally:
            self._dropped()

    # -- called on the reader thread ----------------------------------------------------

    def _before_connect(self) -> None:
        self.connects += 1
        if self._before is not None:
            self._before()

    def _connected(self) -> None:
        with self._lock:
            self._live = True
            self._connects += 1
        log.info("trade_updates stream connected")
        self._arrived.set()  # the owner reconciles by polling once

    def _dropped(self) -> None:
        with self._lock:
            was, self._live = self._live, False
        if was and not self._closing:
            log.warning("trade_updates stream dropped; polling until it reconnects")

    async def _on_update(self, message: Any) -> None:
        data = message.get("data") if isinstance(message, dict) else None
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
        """Ask the reader to stop and close its socket; wait for it a bounded moment."""
        self._closing = True
        for _ in range(int(CLOSE_WAIT_S / 0.01)):  # its loop may not be running quite yet
            loop = self._stream._loop
            if (loop is not None and loop.is_running()) or not self._thread.is_alive():
                break
            self._thread.join(0.01)
        loop = self._stream._loop
        if loop is not None and loop.is_running():

            async def stop() -> None:
                await self._stream.stop_ws()
                await self._stream.close()  # wakes the pending recv: the loop sees the stop

            future = asyncio.run_coroutine_threadsafe(stop(), loop)
            try:
                future.result(CLOSE_WAIT_S)
            except (TimeoutError, RuntimeError, OSError) as exc:
                log.warning("trade_updates stream did not close cleanly (%s)", exc)
        self._thread.join(CLOSE_WAIT_S)
