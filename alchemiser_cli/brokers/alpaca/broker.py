"""The `Broker` protocol over Alpaca's Trading and Market Data APIs (the package's
docstring says what this adapter does that alpaca-py does not)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

from alchemiser_cli.brokers.alpaca.answers import NotFound, Refused, mapped, scrubbed
from alchemiser_cli.brokers.alpaca.assets import Assets
from alchemiser_cli.brokers.alpaca.history import PATH as HISTORY_PATH
from alchemiser_cli.brokers.alpaca.history import history_params, parse_history
from alchemiser_cli.brokers.alpaca.parse import (
    order_pages,
    parse_account,
    parse_order,
    parse_positions,
    parse_quotes,
    parse_time,
)
from alchemiser_cli.brokers.alpaca.rest import DATA_URL, PAPER_URL, Rest, stream_url
from alchemiser_cli.brokers.alpaca.transport import Transport
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
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.models import (
    Account,
    Asset,
    BrokerOrder,
    Fill,
    OrderRequest,
    Position,
    Quote,
)
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.tax.ledger import Ledger, TaxEvent
from alchemiser_cli.errors import (
    BrokerError,
    BrokerUnavailable,
    CircuitOpen,
    ConfigError,
    DuplicateOrder,
    OrderNotAccepted,
    OrderRejected,
    WaitRefused,
)
from alchemiser_cli.masking import register_secret
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy

log = logging.getLogger(__name__)
T = TypeVar("T")

LIVE_HOST = "api.alpaca.markets"
# Symbols per latest-quotes request. Alpaca documents no maximum for stock symbols (its
# OpenAPI caps only option contracts, at 100): 200 keeps the URL near 1.5 KB and the answer
# small, and makes 300 positions two requests.
QUOTE_BATCH = 200
CLOCK_REUSE = timedelta(seconds=30)  # how long one GET /v2/clock answers now() and is_open


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
        limits_dir: Path | None = None,
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
        self._cache_dir = cache_dir
        self._clock_read: tuple[datetime, datetime | None, Any] | None = None
        self._waits = Waits(clock, policy.max_wait_s)
        limiter_state = state_file(
            limits_dir or cache_dir.parent / "ratelimit",
            credentials.api_key_id.get_secret_value(),
        )
        self._key_hash = limiter_state.stem  # names per-key caches without the key
        self._limiter = RateLimiter(
            policy.rate_limit_per_min, self._waits, limiter_state, max_hold_s=policy.max_hold_s
        )
        self._breaker = CircuitBreaker(policy.breaker_fail_max, policy.breaker_reset_s, clock)

        self._transport = Transport(policy.timeout_s, self._limiter.observe, self._waits.left)
        # One pooled session for both APIs, its answers' headers seen by the limiter.
        key = credentials.api_key_id.get_secret_value()
        secret = credentials.api_secret_key.get_secret_value()
        session = self._transport.session
        self._trading = Rest(session, base_url, key, secret)
        self._data = Rest(session, credentials.api_data_url or DATA_URL, key, secret)
        kind = "live" if is_live else "paper"
        self._assets = Assets(
            cache_dir / f"alpaca-assets-{kind}.json", feed, self._get, self._data_get
        )

    @property
    def name(self) -> str:
        """Broker label."""
        return "alpaca-live" if self._live else "alpaca-paper"

    def set_deadline(self, deadline: Deadline | None) -> None:
        """From now on, refuse any wait that would end after the run's `deadline`, and cut
        every request at it (one made after it gets AFTER_DEADLINE_S)."""
        self._waits.deadline = deadline

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
            seen = (self._clock.now(), parse_time(raw.get("timestamp")), raw.get("is_open"))
            self._clock_read = seen
        return seen

    # -- plumbing ------------------------------------------------------------------------

    def _once(self, fn: Callable[[], T]) -> T:
        """One request, with errors mapped to alch's types; a secret Alpaca echoes in any
        field of its answer is masked here, before the journal or a cache can store it."""
        call = self._transport.call
        return cast(
            T, scrubbed(guarded(lambda: mapped(lambda: call(fn)), self._limiter, self._breaker))
        )

    def _read(self, fn: Callable[[], T]) -> T:
        """A read: retried with backoff on transient failures."""
        policy = retrying(self._waits, self._policy.read_attempts, self._policy.max_backoff_s)
        return cast(T, policy(self._once, fn))

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._read(lambda: self._trading.get(path, params))

    def _data_get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._read(lambda: self._data.get(path, params))

    # -- reads ---------------------------------------------------------------------------

    def account(self) -> Account:
        """GET /v2/account."""
        return parse_account(self._get("/account"))

    def portfolio_history(self, start: date, end: date) -> PortfolioHistory:
        """GET /v2/account/portfolio/history, daily, with its cash flows (see `history`)."""
        return parse_history(self._get(HISTORY_PATH, history_params(start, end)))

    def positions(self) -> dict[str, Position]:
        """GET /v2/positions (see `parse_positions`)."""
        return parse_positions(self._get("/positions"))

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Latest quotes, in batches; symbols Alpaca does not know are absent."""
        wanted = sorted(set(symbols))
        result: dict[str, Quote] = {}
        for start in range(0, len(wanted), QUOTE_BATCH):
            batch = wanted[start : start + QUOTE_BATCH]
            params = {"symbols": ",".join(batch), "feed": self._feed}
            result.update(parse_quotes(self._data_get("/stocks/quotes/latest", params), batch))
        return result

    def assets(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """Asset records from Alpaca's listing of active US equities, cached under ALCH_HOME
        across days; average daily volume on the SIP feed (see `assets`)."""
        wanted = sorted(set(symbols))
        if not wanted:
            return {}  # nothing asked: no listing fetched for it
        return self._assets.records(wanted, self._clock.now())

    def open_orders(self) -> list[BrokerOrder]:
        """Every open order, all pages."""
        return [parse_order(o, listed=True) for o in self._orders({"status": "open"})]

    def orders_since(self, since: datetime) -> list[BrokerOrder]:
        """Every order submitted since `since`, all pages."""
        after = {"status": "all", "after": since.isoformat()}
        return [parse_order(o, listed=True) for o in self._orders(after)]

    def fills_since(self, since: datetime) -> list[Fill]:
        """Executions since `since`, from orders with a filled quantity."""
        fills = []
        for raw in self._orders({"status": "all", "after": since.isoformat()}):
            order = parse_order(raw, listed=True)
            if order.filled_qty > ZERO and order.filled_avg_price is not None:
                at = parse_time(raw.get("filled_at") or raw.get("updated_at")) or since
                fills.append(
                    Fill(order.symbol, order.side, order.filled_qty, order.filled_avg_price, at,
                         order.id)
                )  # fmt: skip
        return fills

    def _orders(self, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every page of GET /v2/orders for US equities (see `parse.order_pages`)."""
        return order_pages(self._get, params, self._policy.order_page, self._clock.now())

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """GET /v2/orders:by_client_order_id; None when Alpaca never got it."""
        try:
            raw = self._get("/orders:by_client_order_id", {"client_order_id": client_order_id})
        except NotFound:
            return None
        return parse_order(raw)

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
                return parse_order(self._once(lambda: self._trading.post("/orders", body)))
            except CircuitOpen as exc:
                if any(tried):
                    raise
                raise OrderNotAccepted(str(exc)) from None
            except BrokerUnavailable as exc:
                tried.append(not isinstance(exc, Refused))
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
        return parse_order(self._get(f"/orders/{order_id}"))

    def clock_is_open(self) -> bool:
        """Alpaca's own open/closed flag (GET /v2/clock): it knows unscheduled closures."""
        flag = self._broker_clock()[2]
        if not isinstance(flag, bool):
            raise BrokerError(f"unexpected clock answer from Alpaca: is_open {flag!r}")
        return flag

    def updates(self) -> OrderUpdates | None:
        """Alpaca's trade_updates websocket for one run (see `stream`), or None when it is
        turned off (`[alpaca] stream = false`): the executor then polls."""
        if self._stream_url is None:
            return None
        from alchemiser_cli.brokers.alpaca.stream import AlpacaUpdates

        key, secret = (k.get_secret_value() for k in self._keys)
        # Each (re)connection is a request against the key's budget: Alpaca counts them.
        return AlpacaUpdates(key, secret, self._stream_url, parse_order, self._limiter.acquire)

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Series]:
        """Adjusted daily closes (every page of GET /v2/stocks/bars), cached incrementally
        under ALCH_HOME: only days not fetched before are requested (see `bars`)."""
        from alchemiser_cli.brokers.alpaca import bars

        def fetch(batch: list[str], first: date, last: date) -> Any:
            params = bars.bars_params(batch, first, last, self._feed)
            return bars.parse_bars(self._read(lambda: self._data.bars(params)), batch)

        kind = "live" if self._live else "paper"
        cache = bars.BarCache(self._cache_dir / f"bars-{kind}.sqlite")
        try:
            return bars.cached_daily_bars(fetch, cache, self._feed, symbols, start, end)
        finally:
            cache.close()

    def trade_history(self, *, refresh: bool = False) -> list[TaxEvent]:
        """Every FILL and SPLIT activity, paged and cached under ALCH_HOME: only pages newer
        than the cache are asked for (see `activities`)."""
        from alchemiser_cli.brokers.alpaca import activities

        return activities.trade_history(
            self._get, self._activities, self._clock.now(), refresh=refresh
        )

    def open_lots(self, *, refresh: bool = False) -> Ledger:
        """The open lots, resumed from the activity cache's ledger (see `activities`)."""
        from alchemiser_cli.brokers.alpaca import activities

        return activities.open_lots(self._get, self._activities, self._clock.now(), refresh=refresh)

    @property
    def _activities(self) -> Path:
        kind = "live" if self._live else "paper"
        return self._cache_dir / f"activities-{kind}-{self._key_hash}.sqlite"

    # -- cache ---------------------------------------------------------------------------
