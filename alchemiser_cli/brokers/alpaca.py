"""Alpaca through alpaca-py: the `Broker` protocol over the Trading and Market Data APIs.

What alpaca-py does not do, this adapter does (README "Brokers" says it for users):
- a total timeout on every request, whole answer included (requests' own timeout is per
  socket read: a server trickling one byte a second would hold a request for minutes), by
  an adapter mounted on one pooled session shared by the trading and data clients;
- its own retries: alpaca-py's built-in retry (3 tries, fixed 3 s, on every method,
  order submits included) is switched off. Reads retry with backoff and jitter on 429,
  5xx, timeouts and resets. An order submit is never blindly re-sent: after a lost answer
  the order is looked up by its client_order_id, and only an order the broker never got is
  sent again, under the same id;
- a client-side sliding-window rate limit shared by every alch process on the same keys,
  following Alpaca's X-RateLimit-Remaining/-Reset, and a circuit breaker;
- every wait (Retry-After, X-RateLimit-Reset, backoff, the limiter) capped by
  `max_wait_s`/`max_backoff_s` and refused at once if it would end after the run deadline
  (`set_deadline`);
- exact decimals: orders are posted with decimal strings, not the SDK's floats;
- raw JSON (`raw_data=True`) parsed here, so an unknown enum value is a clear error rather
  than a model validation failure.
alpaca-py (and pandas) are imported only when an Alpaca broker is built.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from alchemiser_cli.brokers.alpaca_history import PATH as HISTORY_PATH
from alchemiser_cli.brokers.alpaca_history import history_params, parse_history
from alchemiser_cli.brokers.base import OrderUpdates
from alchemiser_cli.brokers.resilience import (
    CircuitBreaker,
    RateLimiter,
    Waits,
    guarded,
    retrying,
    state_file,
)
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.models import (
    Account,
    Asset,
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderStatus,
    Position,
    Quote,
    Side,
)
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.tax.ledger import Ledger, TaxEvent
from alchemiser_cli.errors import (
    AlpacaAuthError,
    BrokerError,
    BrokerUnavailable,
    CircuitOpen,
    ConfigError,
    DuplicateOrder,
    OrderNotAccepted,
    OrderRejected,
    WaitRefused,
)
from alchemiser_cli.files import private_dir, read_private, write_private
from alchemiser_cli.masking import redact, register_secret
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection

log = logging.getLogger(__name__)
T = TypeVar("T")

PAPER_URL = "https://paper-api.alpaca.markets"
LIVE_HOST = "api.alpaca.markets"
# Symbols per latest-quotes request. Alpaca documents no maximum for stock symbols (its
# OpenAPI caps only option contracts, at 100): 200 keeps the URL near 1.5 KB and the answer
# small, and makes 300 positions two requests.
QUOTE_BATCH = 200
BARS_BATCH = 100  # symbols per daily-bars request (ADV)
LISTING_TTL = timedelta(days=3)  # the assets listing is fetched again after this (see assets)
LOOKUP_TTL = timedelta(days=1)  # a single-symbol look-up (a symbol the listing lacks)
ADV_TTL = timedelta(days=1)  # average daily volume from SIP bars
CACHE_VERSION = 2  # the asset cache's layout; any other file is fetched again
CLOCK_REUSE = timedelta(seconds=30)  # how long one GET /v2/clock answers now() and is_open
ADV_SESSIONS = 20  # average daily volume over the last 20 daily bars
ADV_LOOKBACK = timedelta(days=40)  # calendar days that hold 20 sessions, holidays included
BARS_PAGE = 10_000  # bars per page (Alpaca's maximum)


class _Watchdog:
    """Cuts a request's connection when its total time is up (a timer thread shuts the
    socket down, which wakes the blocked read at once)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._conn: BaseHTTPConnection | None = None
        self._lock = threading.Lock()
        # The one clock here not injected: threading.Timer waits on the monotonic clock. It
        # times a socket (how long one request may take), not a moment: tests pass short
        # limits, and a FixedClock that only moves when something waits could never fire it.
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def attach(self, conn: BaseHTTPConnection) -> None:
        with self._lock:
            self._conn = conn

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = getattr(self._conn, "sock", None)
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):  # already closed: nothing to cut
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)


_WATCHED = threading.local()  # the watchdog of the request this thread is making


def _attach(conn: BaseHTTPConnection) -> None:
    dog = getattr(_WATCHED, "dog", None)
    if isinstance(dog, _Watchdog):
        dog.attach(conn)


class _WatchedHTTPPool(HTTPConnectionPool):
    """Shows each connection it hands out to the watchdog of the request that uses it
    (connection classes are left alone: vcrpy's cassettes replace them)."""

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        conn = super()._get_conn(timeout)
        _attach(conn)
        return conn


class _WatchedHTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        conn = super()._get_conn(timeout)
        _attach(conn)
        return conn


# How long a request made at or after the run deadline may take (the executor's cancels of
# what is still open, and their look-ups): short, so the run ends soon after its deadline.
AFTER_DEADLINE_S = 2.0


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request a TOTAL time limit, status line to last body byte (alpaca-py
    sets none, and requests' timeout is per socket read), and shows every answer's
    headers to `observe` (the rate limiter follows Alpaca's X-RateLimit-*)."""

    def __init__(
        self,
        timeout_s: float,
        observe: Callable[[int, Mapping[str, str]], None] | None = None,
        left: Callable[[], float | None] | None = None,
    ) -> None:
        super().__init__(pool_connections=4, pool_maxsize=8, max_retries=0)
        self._timeout_s = timeout_s
        self._observe = observe
        self._left = left  # seconds to the run deadline (None: no deadline)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedHTTPPool,
            "https": _WatchedHTTPSPool,
        }

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        limit = self._timeout_s
        left = None if self._left is None else self._left()
        if left is not None:  # no request runs past the run deadline, except the cancels
            limit = min(limit, max(left, AFTER_DEADLINE_S))  # of what is open, made after it
        dog = _Watchdog(limit)
        _WATCHED.dog = dog
        dog.start()
        try:
            response = super().send(
                request,
                stream=True,
                timeout=limit if timeout is None else timeout,
                verify=verify,
                cert=cert,
                proxies=proxies,
            )
            if not stream:
                _ = response.content  # the whole answer, inside the time limit
        except (requests.RequestException, OSError):
            if dog.fired:
                raise requests.ReadTimeout(
                    f"no complete answer within {limit:g} s", request=request
                ) from None
            raise
        finally:
            dog.cancel()
            _WATCHED.dog = None
        if dog.fired:  # cut mid-answer, and what came looked whole (e.g. headers cut short)
            response.close()
            raise requests.ReadTimeout(f"no complete answer within {limit:g} s", request=request)
        if self._observe is not None:
            self._observe(response.status_code, response.headers)
        return response


class AlpacaBroker:
    """A paper (or, with the double opt-in, live) Alpaca account."""

    def __init__(
        self,
        credentials: AlpacaCredentials,
        policy: AlpacaPolicy,
        clock: Clock,
        cache_dir: Path,
        feed: str = "iex",
        live: bool = False,
        stream: bool = False,
    ) -> None:
        if credentials.api_key_id is None or credentials.api_secret_key is None:
            raise ConfigError("set APCA_API_KEY_ID and APCA_API_SECRET_KEY, or pass --broker sim")
        base_url = (credentials.api_base_url or PAPER_URL).rstrip("/")
        is_live = LIVE_HOST in base_url and "paper" not in base_url
        if is_live and not live:
            raise ConfigError(
                f"{base_url} is Alpaca LIVE trading: set ALCH_LIVE=1 to use it "
                "(and --live to send orders)"
            )
        for credential in (credentials.api_key_id, credentials.api_secret_key):
            register_secret(credential)  # whatever Alpaca echoes back is masked at the boundary
        self._live = is_live
        # The trade_updates stream waits in real time: only the CLI (on the system clock)
        # turns it on; the adapter's tests on a FixedClock poll as before.
        self._stream_url = stream_url(credentials) if stream else None
        self._keys = (credentials.api_key_id, credentials.api_secret_key)
        self._clock = clock
        self._policy = policy
        self._feed = feed
        self._cache = cache_dir / f"alpaca-assets-{'live' if is_live else 'paper'}.json"
        self._memo: dict[str, Any] | None = None  # the asset cache, read once per process
        self._clock_read: tuple[datetime, datetime | None, Any] | None = None
        self._waits = Waits(clock, policy.max_wait_s)
        limiter_state = state_file(
            cache_dir.parent / "ratelimit", credentials.api_key_id.get_secret_value()
        )
        self._key_hash = limiter_state.stem  # names per-key caches without the key
        self._limiter = RateLimiter(policy.rate_limit_per_min, self._waits, limiter_state)
        self._breaker = CircuitBreaker(policy.breaker_fail_max, policy.breaker_reset_s, clock)

        from alpaca.data.historical import StockHistoricalDataClient
        from alpaca.trading.client import TradingClient

        key = credentials.api_key_id.get_secret_value()
        secret = credentials.api_secret_key.get_secret_value()
        self._trading = TradingClient(
            key, secret, paper=not is_live, raw_data=True, url_override=base_url
        )
        self._data = StockHistoricalDataClient(
            key, secret, raw_data=True, url_override=credentials.api_data_url
        )
        session = requests.Session()
        adapter = _TimeoutAdapter(policy.timeout_s, self._limiter.observe, self._deadline_left)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        for client in (self._trading, self._data):
            client._session = session  # one pooled session for both APIs
            client._retry = 0  # alch owns retries (see module docstring)

    @property
    def name(self) -> str:
        """Broker label."""
        return "alpaca-live" if self._live else "alpaca-paper"

    def set_deadline(self, at: datetime | None) -> None:
        """From now on, refuse any wait that would end after `at` (the run's deadline), and
        cut every request at it (one made after it gets AFTER_DEADLINE_S)."""
        self._waits.deadline = None if at is None else at.timestamp()

    def _deadline_left(self) -> float | None:
        """Seconds to the run deadline, None without one."""
        deadline = self._waits.deadline
        return None if deadline is None else deadline - self._clock.now().timestamp()

    def now(self) -> datetime:
        """Alpaca's clock (GET /v2/clock): market-hours checks follow the broker's time."""
        read_at, stamp, _ = self._broker_clock()
        if stamp is None:
            raise BrokerError("Alpaca's clock answered without a timestamp")
        return stamp + (self._clock.now() - read_at)

    def _broker_clock(self) -> tuple[datetime, datetime | None, Any]:
        """(local time of the read, Alpaca's timestamp, is_open) from one GET /v2/clock,
        reused for CLOCK_REUSE: a command asks for the time and the open flag several times,
        and one answer serves them all (the time moves on by the local clock meanwhile)."""
        seen = self._clock_read
        if seen is None or not timedelta(0) <= self._clock.now() - seen[0] <= CLOCK_REUSE:
            raw = self._get("/clock")
            if not isinstance(raw, dict):
                raise BrokerError("unexpected clock answer from Alpaca (expected an object)")
            seen = (self._clock.now(), _time(raw.get("timestamp")), raw.get("is_open"))
            self._clock_read = seen
        return seen

    # -- plumbing ------------------------------------------------------------------------

    def _once(self, fn: Callable[[], T]) -> T:
        """One request, with errors mapped to alch's types; a secret Alpaca echoes in any
        field of its answer is masked here, before the journal or a cache can store it."""
        return cast(T, _scrubbed(guarded(lambda: _mapped(fn), self._limiter, self._breaker)))

    def _read(self, fn: Callable[[], T]) -> T:
        """A read: retried with backoff on transient failures."""
        policy = retrying(self._waits, self._policy.read_attempts, self._policy.max_backoff_s)
        return cast(T, policy(self._once, fn))

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._read(lambda: self._trading.get(path, params))

    # -- reads ---------------------------------------------------------------------------

    def account(self) -> Account:
        """GET /v2/account."""
        raw = self._get("/account")
        try:
            count = raw.get("daytrade_count")  # legacy: removed by Alpaca in 2026
            return Account(
                account_id=str(raw.get("account_number") or raw["id"]),
                cash=_dec(raw, "cash"),
                buying_power=_dec(raw, "buying_power"),
                settled_cash=None,  # Alpaca does not report it; checks fall back to cash
                account_type="cash" if str(raw.get("multiplier", "1")) == "1" else "margin",
                status=str(raw["status"]),
                trading_blocked=bool(raw.get("trading_blocked", False)),
                account_blocked=bool(raw.get("account_blocked", False)),
                trade_suspended_by_user=bool(raw.get("trade_suspended_by_user", False)),
                daytrade_count=None if count is None else int(count),
                currency=str(raw.get("currency", "USD")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            why = f"no {exc.args[0]} field" if isinstance(exc, KeyError) else str(exc)
            raise BrokerError(
                f"unexpected account answer from Alpaca: {why}; try again, and check "
                "APCA_API_BASE_URL points at Alpaca"
            ) from None

    def portfolio_history(self, start: date, end: date) -> PortfolioHistory:
        """GET /v2/account/portfolio/history, daily, with its cash flows (alpaca_history)."""
        return parse_history(self._get(HISTORY_PATH, history_params(start, end)))

    def positions(self) -> dict[str, Position]:
        """GET /v2/positions (short positions come back negative)."""
        raw = self._get("/positions")
        result = {}
        for item in _list(raw, "positions"):
            qty = _dec(item, "qty")
            if str(item.get("side", "long")) == "short" and qty > ZERO:
                qty = -qty
            result[str(item["symbol"])] = Position(
                str(item["symbol"]), qty, _dec(item, "avg_entry_price")
            )
        return result

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Latest quotes, in batches; symbols Alpaca does not know are absent."""
        wanted = sorted(set(symbols))
        result: dict[str, Quote] = {}
        for start in range(0, len(wanted), QUOTE_BATCH):
            batch = wanted[start : start + QUOTE_BATCH]
            params = {"symbols": ",".join(batch), "feed": self._feed}

            def latest(query: dict[str, str] = params) -> Any:
                return self._data.get("/stocks/quotes/latest", query)

            raw = self._read(latest)
            quotes = raw.get("quotes", {}) if isinstance(raw, dict) else {}
            for symbol, q in quotes.items():
                if symbol in batch and isinstance(q, dict):
                    result[symbol] = Quote(
                        symbol, _num(q.get("bp")), _num(q.get("ap")), ZERO, _time(q.get("t"))
                    )
        return result

    def assets(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """Asset records from Alpaca's listing of active US equities, cached under ALCH_HOME
        across days (`LISTING_TTL`); average daily volume on the SIP feed (a day).

        The refresh rule: the listing (one request, every active US equity) is fetched
        again when it is older than LISTING_TTL, damaged, or lacks a symbol asked for (a
        new listing). A symbol absent from a listing fetched in this call is looked up
        alone, once (GET /v2/assets/{symbol}: an inactive or delisted holding is still
        described), and that answer is kept LOOKUP_TTL; one Alpaca does not know is
        absent from the result (the planner says "no asset record for it"). A stale flag
        cannot make a wrong trade: Alpaca validates every order it receives.

        ADV comes from daily bars and only from `sip`: the free `iex` feed counts IEX's
        own volume, a few percent of the market's, which would make every order look
        large and slice it needlessly. On `iex` ADV is absent and only the notional
        threshold slices orders.
        """
        wanted = sorted(set(symbols))
        if not wanted:
            return {}  # nothing asked: no listing fetched for it
        now = self._clock.now()
        cache = self._memo if self._memo is not None else self._load_cache()
        self._memo = cache
        listing = _fresh_listing(cache.get("listing"), now)
        lookups = _section(cache, "lookups")
        changed = fetched = False

        def unknown(among: list[str]) -> list[str]:
            return [
                s for s in among
                if _record(listing.get(s)) is None
                and _fresh_lookup(lookups.get(s), now) is None
            ]  # fmt: skip

        if listing and not unknown(wanted):
            pass  # everything asked for is in a fresh listing, or looked up recently
        else:
            listing = self._listing()
            cache["listing"] = {"at": now.isoformat(), "assets": listing}
            changed = fetched = True
        for symbol in unknown(wanted) if fetched else []:
            raw = self._asset(symbol)
            if raw is not None:
                lookups[symbol] = {"at": now.isoformat(), "asset": raw}
        records: dict[str, dict[str, Any]] = {}
        for symbol in wanted:
            record = _record(listing.get(symbol))
            if record is None:
                entry = _fresh_lookup(lookups.get(symbol), now)
                record = None if entry is None else entry["asset"]
            if record is not None:
                records[symbol] = record
        volumes = _section(cache, "adv")
        if self._feed == "sip":
            stale = [s for s in records if _fresh_adv(volumes.get(s), now) is None]
            if stale:
                measured = self._adv(stale, now)
                for symbol in stale:
                    adv = measured.get(symbol)
                    volumes[symbol] = {
                        "at": now.isoformat(),
                        "adv": None if adv is None else str(adv),
                    }
                changed = True
        if changed:
            self._save_cache(cache)
        result: dict[str, Asset] = {}
        for symbol, a in records.items():
            volume = _fresh_adv(volumes.get(symbol), now) if self._feed == "sip" else None
            adv_text = None if volume is None else volume["adv"]
            result[symbol] = Asset(
                symbol,
                a["tradable"],
                a["fractionable"],
                a["status"],
                None if adv_text is None else Decimal(adv_text),
                shortable=a.get("shortable"),
                exchange=a.get("exchange"),
            )
        return result

    def _listing(self) -> dict[str, dict[str, Any]]:
        """GET /v2/assets?status=active&asset_class=us_equity: one request for every active
        US equity, reduced to the attributes alch uses."""
        from alpaca.trading.enums import AssetClass, AssetStatus
        from alpaca.trading.requests import GetAssetsRequest

        query = GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY)
        raw = self._read(lambda: self._trading.get_all_assets(query))
        listing: dict[str, dict[str, Any]] = {}
        for item in _list(raw, "assets listing"):
            record = _record(_attributes(item))
            symbol = item.get("symbol")
            if record is None or not isinstance(symbol, str):
                raise BrokerError(
                    f"unexpected assets listing from Alpaca: entry {str(symbol)[:20]!r} lacks "
                    "tradable, fractionable or status"
                )
            listing[symbol] = record
        return listing

    def _adv(self, symbols: list[str], now: datetime) -> dict[str, Decimal]:
        """Mean volume of each symbol's last ADV_SESSIONS daily bars (all pages)."""
        volumes: dict[str, list[Decimal]] = {}
        start = (now - ADV_LOOKBACK).date().isoformat()
        for first in range(0, len(symbols), BARS_BATCH):
            batch = symbols[first : first + BARS_BATCH]
            token: str | None = None
            tokens: set[str] = set()  # a server that hands back a token twice loops forever
            while True:
                params = {
                    "symbols": ",".join(batch),
                    "timeframe": "1Day",
                    "start": start,
                    "limit": str(BARS_PAGE),
                    "feed": "sip",
                    "adjustment": "split",
                }
                if token:
                    params["page_token"] = token

                def bars(query: dict[str, str] = params) -> Any:
                    return self._data.get("/stocks/bars", query)

                raw = self._read(bars)
                page = raw.get("bars") or {} if isinstance(raw, dict) else {}
                for symbol, rows in page.items():
                    if symbol in batch and isinstance(rows, list):
                        volumes.setdefault(symbol, []).extend(_volume(r, symbol) for r in rows)
                token = raw.get("next_page_token") if isinstance(raw, dict) else None
                if not token:
                    break
                if token in tokens:
                    raise BrokerError(
                        f"Alpaca's daily bars repeated page token {token!r}: try again later"
                    )
                tokens.add(token)
        return {
            s: Decimal(sum(v[-ADV_SESSIONS:])) / len(v[-ADV_SESSIONS:])
            for s, v in volumes.items()
            if v
        }

    def _asset(self, symbol: str) -> dict[str, Any] | None:
        """GET /v2/assets/{symbol}: one symbol the listing lacks (None: Alpaca has none)."""
        try:
            raw = self._get(f"/assets/{symbol}")
        except _NotFound:
            return None
        record = _record(_attributes(raw))
        if record is None:
            raise BrokerError(f"unexpected asset answer from Alpaca for {symbol}")
        return record

    def open_orders(self) -> list[BrokerOrder]:
        """Every open order, all pages."""
        return [_order(o) for o in self._orders({"status": "open"})]

    def orders_since(self, since: datetime) -> list[BrokerOrder]:
        """Every order submitted since `since`, all pages."""
        return [_order(o) for o in self._orders({"status": "all", "after": since.isoformat()})]

    def fills_since(self, since: datetime) -> list[Fill]:
        """Executions since `since`, from orders with a filled quantity."""
        fills = []
        for raw in self._orders({"status": "all", "after": since.isoformat()}):
            order = _order(raw)
            if order.filled_qty > ZERO and order.filled_avg_price is not None:
                at = _time(raw.get("filled_at") or raw.get("updated_at")) or since
                fills.append(
                    Fill(order.symbol, order.side, order.filled_qty, order.filled_avg_price, at,
                         order.id)
                )  # fmt: skip
        return fills

    def _orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """GET /v2/orders for US equities, paging backwards with `until` until a short page.

        Option, multi-leg and crypto orders are left out: they cannot clash with the
        equities alch trades, and Alpaca's buying power already nets whatever they hold.
        """
        seen: dict[str, dict[str, Any]] = {}
        until: str | None = None
        while True:
            page_size = self._policy.order_page
            query = {
                **params,
                "limit": page_size,
                "direction": "desc",
                "nested": "false",
                "asset_class": "us_equity",
            }
            if until is not None:
                query["until"] = until
            page = _list(self._get("/orders", query), "orders")
            new = [o for o in page if str(o["id"]) not in seen]
            for o in new:
                seen[str(o["id"])] = o
            if len(page) < page_size or not new:
                return list(seen.values())
            # `until` one microsecond past the oldest seen: ties at the boundary come back
            # again and are de-duplicated rather than skipped.
            oldest = min(_time(o["submitted_at"]) or self._clock.now() for o in new)
            until = (oldest + timedelta(microseconds=1)).isoformat()

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """GET /v2/orders:by_client_order_id; None when Alpaca never got it."""
        try:
            raw = self._get("/orders:by_client_order_id", {"client_order_id": client_order_id})
        except _NotFound:
            return None
        return _order(raw)

    # -- writes --------------------------------------------------------------------------

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """POST /v2/orders; never two orders for one client_order_id."""
        body: dict[str, Any] = {
            "symbol": request.symbol,
            "qty": fmt(request.qty),
            "side": request.side.value,
            "type": request.order_type,
            "time_in_force": request.time_in_force,
            "client_order_id": request.client_order_id,
        }
        if request.limit_price is not None:
            body["limit_price"] = fmt(request.limit_price)
        tried: list[bool] = []  # per try: whether it may have reached Alpaca (no answer)
        try:
            return self._submit_tries(request, body, tried)
        except WaitRefused as exc:
            if any(tried):
                raise
            # Every try so far was answered with a refusal: no order exists. The wait for
            # the next try is what was refused, so the order was never accepted.
            raise OrderNotAccepted(str(exc)) from None

    def _submit_tries(
        self, request: OrderRequest, body: dict[str, Any], tried: list[bool]
    ) -> BrokerOrder:
        """The submit loop; `tried` records whether each try may have reached Alpaca."""
        for attempt in range(1, self._policy.submit_attempts + 1):
            try:
                return _order(self._once(lambda: self._trading.post("/orders", body)))
            except CircuitOpen as exc:
                if any(tried):
                    raise
                raise OrderNotAccepted(str(exc)) from None
            except BrokerUnavailable as exc:
                tried.append(not isinstance(exc, _Refused))
                # The answer may be lost while the order exists: look before re-sending.
                found = self.get_order_by_client_id(request.client_order_id)
                if found is not None:
                    log.warning(
                        "submit %s: answer lost, found it at the broker", body["client_order_id"]
                    )
                    return found
                if attempt == self._policy.submit_attempts:
                    if not any(tried):  # every try was answered with a refusal
                        raise OrderNotAccepted(
                            f"Alpaca did not accept it ({exc}, {attempt} tries)"
                        ) from None
                    raise
                log.warning(
                    "submit %s failed (%s); sending again, same id", request.client_order_id, exc
                )
                # A 429's Retry-After is a hold in the limiter: the lookup above waited it out.
                if exc.retry_after is None:
                    backoff = min(self._policy.max_backoff_s, 0.5 * attempt)
                    self._waits.wait(backoff, f"retry backoff (after: {exc})")
            except DuplicateOrder:
                found = self.get_order_by_client_id(request.client_order_id)
                if found is None:
                    raise
                return found
        raise BrokerError("unreachable")  # pragma: no cover - the loop returns or raises

    def cancel_order(self, order_id: str) -> BrokerOrder:
        """DELETE /v2/orders/{id}, then read the order back."""
        # 422 means no longer cancelable (filled, or already cancelled): read its state.
        with contextlib.suppress(OrderRejected):
            self._once(lambda: self._trading.delete(f"/orders/{order_id}"))
        return _order(self._get(f"/orders/{order_id}"))

    def clock_is_open(self) -> bool:
        """Alpaca's own open/closed flag (GET /v2/clock): it knows unscheduled closures."""
        flag = self._broker_clock()[2]
        if not isinstance(flag, bool):
            raise BrokerError(f"unexpected clock answer from Alpaca: is_open {flag!r}")
        return flag

    def updates(self) -> OrderUpdates | None:
        """Alpaca's trade_updates websocket for one run (brokers/alpaca_stream.py), or None
        when it is turned off (`[alpaca] stream = false`): the executor then polls."""
        if self._stream_url is None:
            return None
        from alchemiser_cli.brokers.alpaca_stream import AlpacaUpdates

        key, secret = (k.get_secret_value() for k in self._keys)
        return AlpacaUpdates(key, secret, self._stream_url, _order)

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Series]:
        """Adjusted daily closes (StockBarsRequest, paged), cached incrementally under
        ALCH_HOME: only days not fetched before are requested (see `alpaca_bars`)."""
        from alchemiser_cli.brokers import alpaca_bars

        def fetch(batch: list[str], first: date, last: date) -> Any:
            request = alpaca_bars.bars_request(batch, first, last, self._feed)
            raw = self._read(lambda: self._data.get_stock_bars(request))
            return alpaca_bars.parse_bars(raw, batch)

        kind = "live" if self._live else "paper"
        cache = alpaca_bars.BarCache(self._cache.parent / f"bars-{kind}.sqlite")
        try:
            return alpaca_bars.cached_daily_bars(fetch, cache, self._feed, symbols, start, end)
        finally:
            cache.close()

    def trade_history(self, *, refresh: bool = False) -> list[TaxEvent]:
        """Every FILL and SPLIT activity, paged and cached under ALCH_HOME: only pages newer
        than the cache are asked for (see `alpaca_activities`)."""
        from alchemiser_cli.brokers import alpaca_activities

        return alpaca_activities.trade_history(
            self._get, self._activities, self._clock.now(), refresh=refresh
        )

    def open_lots(self, *, refresh: bool = False) -> Ledger:
        """The open lots, resumed from the activity cache's ledger (see `alpaca_activities`)."""
        from alchemiser_cli.brokers import alpaca_activities

        return alpaca_activities.open_lots(
            self._get, self._activities, self._clock.now(), refresh=refresh
        )

    @property
    def _activities(self) -> Path:
        kind = "live" if self._live else "paper"
        return self._cache.parent / f"activities-{kind}-{self._key_hash}.sqlite"

    # -- cache ---------------------------------------------------------------------------

    def _load_cache(self) -> dict[str, Any]:
        """The asset cache; unreadable, a symlink, not JSON or another layout: empty (fetched
        again). Its parts are checked where they are used."""
        try:
            data = json.loads(read_private(self._cache))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {"version": CACHE_VERSION}
        return data

    def _save_cache(self, cache: dict[str, Any]) -> None:
        """Write the cache 0600 through a fresh temporary file, never through a symlink."""
        try:
            private_dir(self._cache.parent, "cache directory")
            write_private(self._cache, json.dumps(cache))
        except ConfigError as exc:  # a cache is an optimisation: say so, carry on
            log.warning("cannot write asset cache: %s", exc)
        except OSError as exc:
            log.warning("cannot write asset cache %s: %s", self._cache, exc.strerror)


def stream_url(credentials: AlpacaCredentials) -> str:
    """APCA_API_STREAM_URL, else the trading API's host with a websocket scheme + /stream
    (wss://paper-api.alpaca.markets/stream for paper, as alpaca-py's TradingStream)."""
    if credentials.api_stream_url:
        return credentials.api_stream_url
    base = (credentials.api_base_url or PAPER_URL).rstrip("/")
    scheme, sep, rest = base.partition("://")
    return ("wss" if scheme == "https" else "ws") + sep + rest.split("/", 1)[0] + "/stream"


def _attributes(raw: Any) -> dict[str, Any] | None:
    """The attributes alch keeps from one Alpaca asset object."""
    if not isinstance(raw, dict):
        return None
    return {k: raw.get(k) for k in ("tradable", "fractionable", "shortable", "exchange", "status")}


def _record(record: Any) -> dict[str, Any] | None:
    """A well-formed asset record (as cached), or None."""
    if not isinstance(record, dict):
        return None
    well_formed = (
        isinstance(record.get("tradable"), bool)
        and isinstance(record.get("fractionable"), bool)
        and isinstance(record.get("status"), str)
        and isinstance(record.get("shortable"), bool | None)
        and isinstance(record.get("exchange"), str | None)
    )
    return record if well_formed else None


def _age_ok(entry: Any, now: datetime, ttl: timedelta) -> bool:
    """Whether a cache entry's aware `at` is at most `ttl` old (and not in the future)."""
    try:
        at = datetime.fromisoformat(entry["at"])
        return timedelta(0) <= now - at < ttl
    except (KeyError, TypeError, ValueError):
        return False  # absent, malformed, or a naive time


def _section(cache: dict[str, Any], key: str) -> dict[str, Any]:
    """A dict-valued part of the cache, replaced by an empty one if damaged."""
    part = cache.get(key)
    if not isinstance(part, dict):
        part = cache[key] = {}
    return part


def _fresh_listing(entry: Any, now: datetime) -> dict[str, Any]:
    """The cached listing's records if it is younger than LISTING_TTL, else empty."""
    if not _age_ok(entry, now, LISTING_TTL) or not isinstance(entry.get("assets"), dict):
        return {}
    listing: dict[str, Any] = entry["assets"]
    return listing


def _fresh_lookup(entry: Any, now: datetime) -> dict[str, Any] | None:
    """A single-symbol look-up younger than LOOKUP_TTL with a well-formed record."""
    if not _age_ok(entry, now, LOOKUP_TTL) or _record(entry.get("asset")) is None:
        return None
    return cast(dict[str, Any], entry)


def _fresh_adv(entry: Any, now: datetime) -> dict[str, Any] | None:
    """An average-daily-volume entry younger than ADV_TTL (its `adv` None or a finite
    decimal string)."""
    if not _age_ok(entry, now, ADV_TTL):
        return None
    adv = entry.get("adv")
    try:
        valid = adv is None or (isinstance(adv, str) and Decimal(adv).is_finite())
    except ArithmeticError:
        valid = False
    return cast(dict[str, Any], entry) if valid else None


class _NotFound(BrokerError):
    """404 from Alpaca."""


class _Refused(BrokerUnavailable):
    """Alpaca answered and did not process the request (429): worth retrying, and an order
    refused this way does not exist there."""


def _scrubbed(value: object) -> object:
    """A parsed answer with every registered secret masked in every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {_scrubbed(k): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def _mapped(fn: Callable[[], T]) -> T:
    """Call alpaca-py; turn its and requests' exceptions into alch's typed errors."""
    from alpaca.common.exceptions import APIError

    try:
        return fn()
    except APIError as exc:
        raise _api_error(exc) from None
    except requests.Timeout:
        raise BrokerUnavailable("Alpaca timed out") from None
    except requests.ConnectionError as exc:
        raise BrokerUnavailable(f"cannot reach Alpaca: {type(exc).__name__}") from None
    except (ValueError, json.JSONDecodeError) as exc:
        raise BrokerError(f"unreadable answer from Alpaca: {exc}") from None


def _api_error(exc: Any) -> BrokerError:
    status = exc.status_code
    try:
        message = str(exc.message)
    except (KeyError, TypeError, ValueError):  # a body without a JSON "message"
        message = str(exc)
    text = message.lower()
    if status == 401 or (status == 403 and ("forbidden" in text or "auth" in text)):
        return AlpacaAuthError(
            f"Alpaca refused the credentials ({status}): check APCA_API_KEY_ID and "
            "APCA_API_SECRET_KEY, and that they are paper keys for the paper endpoint"
        )
    if status == 404:
        return _NotFound(f"not found at Alpaca: {message}")
    if status == 422 and "client_order_id must be unique" in text:
        return DuplicateOrder(f"Alpaca: {message}")
    if status == 429:
        response = getattr(exc, "response", None)
        return _Refused("Alpaca rate limit (429)", retry_after=_retry_after(response))
    if status is not None and status >= 500:
        return BrokerUnavailable(f"Alpaca unavailable ({status})")
    if status in (403, 422, 400):
        return OrderRejected(f"Alpaca refused ({status}): {message}")
    return BrokerError(f"Alpaca error ({status}): {message}")


def _retry_after(response: Any) -> float | None:
    """Retry-After in seconds. X-RateLimit-Reset (an epoch second) is followed by the
    limiter, which sees every answer's headers and reads time from the injected clock."""
    headers = getattr(response, "headers", None) or {}
    value = headers.get("Retry-After")
    if value is not None:
        try:
            return max(0.0, float(value))
        except ValueError:
            return None
    return None


def _list(raw: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise BrokerError(f"unexpected {what} answer from Alpaca (expected a list)")
    return raw


def _finite(value: Any, what: str) -> Decimal:
    """A finite Decimal from an Alpaca field; NaN, infinities and junk are broker errors."""
    try:
        number = Decimal(str(value))  # str() of a float is its shortest exact repr
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise BrokerError(f"unexpected {what} from Alpaca: {value!r}")
    return number


def _dec(raw: dict[str, Any], key: str) -> Decimal:
    return _finite(raw.get(key), key)


def _num(value: Any) -> Decimal:
    return ZERO if value is None else _finite(value, "price")


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if "." in text:  # Alpaca sends nanoseconds; Python keeps microseconds
        head, _, rest = text.partition(".")
        zone = rest.lstrip("0123456789")  # the zone's own digits stay in it
        digits = rest[: len(rest) - len(zone)]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:  # naive: astimezone would guess the host's
        raise BrokerError(f"unexpected time from Alpaca: {value!r}")
    return parsed.astimezone(UTC)


_STATUS = {s.value: s for s in OrderStatus}


def _order(raw: Any) -> BrokerOrder:
    try:
        status = _STATUS.get(str(raw["status"]))
        if status is None:
            raise BrokerError(
                f"order {raw.get('id')}: unknown status {raw['status']!r} from Alpaca"
            )
        order = BrokerOrder(
            id=str(raw["id"]),
            client_order_id=str(raw["client_order_id"]),
            symbol=str(raw["symbol"]),
            side=Side(str(raw["side"])),
            qty=_dec(raw, "qty") if raw.get("qty") is not None else ZERO,
            limit_price=None if raw.get("limit_price") is None else _dec(raw, "limit_price"),
            status=status,
            filled_qty=_dec(raw, "filled_qty") if raw.get("filled_qty") is not None else ZERO,
            filled_avg_price=(
                None if raw.get("filled_avg_price") is None else _dec(raw, "filled_avg_price")
            ),
            order_type=str(raw.get("type") or raw.get("order_type") or "limit"),
            time_in_force=str(raw.get("time_in_force", "day")),
            submitted_at=_time(raw.get("submitted_at")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrokerError(f"unexpected order answer from Alpaca: {exc}") from None
    return _possible(order)


def _possible(order: BrokerOrder) -> BrokerOrder:
    """An order whose figures can be true: nothing negative, no more filled than ordered
    (qty 0 is a notional order, placed by another tool). Anything else would corrupt the
    executor's arithmetic, so it stops the run as a broker error."""
    prices = [p for p in (order.limit_price, order.filled_avg_price) if p is not None]
    if (
        order.qty < ZERO
        or order.filled_qty < ZERO
        or (order.qty > ZERO and order.filled_qty > order.qty)
        or any(p <= ZERO for p in prices)
    ):
        raise BrokerError(
            f"Alpaca sent impossible figures for order {order.id} ({order.symbol}): qty "
            f"{order.qty}, filled {order.filled_qty}, limit {order.limit_price}, average "
            f"{order.filled_avg_price}"
        )
    return order


def _volume(bar: Any, symbol: str) -> Decimal:
    """A daily bar's volume; anything else is a broker error naming the symbol."""
    volume = bar.get("v") if isinstance(bar, dict) else None
    if isinstance(volume, bool) or not isinstance(volume, int | float) or volume < 0:
        raise BrokerError(f"Alpaca sent a malformed daily bar for {symbol}: volume {volume!r}")
    return Decimal(volume)
