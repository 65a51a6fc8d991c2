"""An Alpaca-compatible HTTP server on 127.0.0.1, backed by the simulator engine.

It speaks the subset of Trading API v2 and Market Data v2 that alch uses, with Alpaca's
field names and types (decimals as strings in trading answers, numbers in market data).
Every JSON answer it sends is recorded, so a test can validate all of them against
Alpaca's OpenAPI schemas.

Faults. `fake.fault(METHOD, PATH_PREFIX, KIND, count=1, ...)` scripts what happens to the
next `count` requests matching the method and path prefix (first matching fault wins):
- `status`: answer `status` (default 503) with `body` and `headers` instead of the real
  answer, e.g. `status=429, headers={"Retry-After": "100"}` or
  `headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "<epoch s>"}`;
- `delay`: wait `seconds`, then answer normally (a slow server);
- `drop`: close the connection before processing (the request never took effect);
- `lost` (alias `drop_after`): process the request (e.g. the order is created), then
  close the connection with no answer; with `seconds`, answer only after that long;
- `hang`: never answer, never close (until the server stops or `seconds`, default 600);
- `trickle`: process, then send the whole answer (status line included) one byte every
  `seconds` (default 1.0);
- `trickle_body`: process, send the status line and headers at once (`Connection: close`,
  so `http.client` lets go of the socket), then the body one byte every `seconds`;
- `garbage`: answer `status` (default 200) with a body that is not JSON (not processed);
- `http10`: process, answer as an HTTP/1.0 server (no Content-Length: the body ends when
  the connection closes), the body one byte every `seconds`;
- `echo`: answer `status` (default 503) with an error message that echoes the request's
  APCA-API-SECRET-KEY header, as a careless proxy or broker might;
- `closed`: on GET /v2/clock, answer `is_open: false` (a closure on a scheduled trading
  day: the exchange calendar says open, the broker says closed; `fake.clock_override`
  does the same for every request);
- `late`: an order submit gets no answer (the connection is closed) and the order appears
  at the server only `seconds` later on the fake's clock (late acceptance).
Views (tests/fake_views.py): `fake.lag_positions(reads=N, seconds=S)` makes /v2/account and
/v2/positions show the account as before each fill for N reads or S seconds;
`fake.fill_factor(k)` fills every buy k x the quantity asked (the answer still says the
quantity asked); `fake.hold_crypto("BTCUSD", qty, price)` adds a crypto position.
`fake.after("POST", "/v2/orders", action, count)` calls `action` after matching answers
(a quote that moves a cent once the orders are out).
`fake.rate_limit(per_minute, window_s=60)` enforces a sliding window over all authorised
requests: beyond the limit a 429 (not counted); every answer carries Alpaca's
X-RateLimit-Limit, -Remaining and -Reset (Unix epoch second when Remaining next grows).

Stream. `fake.stream` (FakeStream) speaks Alpaca's trade_updates websocket on its own port
(`fake.stream_url`, for APCA_API_STREAM_URL): authenticate, listen, then one `trade_update`
event (new, fill, partial_fill, canceled, ...) for every order change the HTTP side makes;
`fake.fill(client_order_id)` fills a resting order at the quote (a fill at the exchange),
`fake.stream.drop()` closes every connection's socket, `fake.stream.down = True` refuses
every connection (the stream unavailable), `fake.stream.mute = True` pushes nothing (a
silent stream). The HTTP server answers nothing on /stream.

Run it by hand for an end-to-end session (faults by flag, see --help):
    python -m tests.fake_alpaca --port 8765 --now 2026-11-24T15:00:00Z --rate-limit 200 \
        --fault "POST /v2/orders status status=429 count=2 Retry-After=100" --closed
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import websockets.sync.server as ws_server
from websockets.exceptions import ConnectionClosed

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.calendar_table import calendar_around
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.core.money import fmt
from alchemiser_cli.errors import DuplicateOrder, OrderRejected
from tests import fake_alpaca_activities as activities
from tests.fake_views import Crypto, FillFactor, Lag

DEMO_ACCOUNT = (
    Path(__file__).resolve().parent.parent / "alchemiser_cli" / "data" / "demo-account.toml"
)
CANARY_KEY_ID = "PKCANARYKEY0001"
CANARY_SECRET = "canary-secret-9f3d1c7a"
NAMESPACE = uuid.UUID("6f1c4d8e-2b1a-4c7e-9f0a-1a2b3c4d5e6f")


@dataclass
class Fault:
    """What to do to the next `count` requests matching `method` and `path` (a prefix)."""

    method: str
    path: str
    kind: str  # one of FAULT_KINDS (see the module docstring)
    count: int = 1
    status: int = 503
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


FAULT_KINDS = frozenset(
    {
        "status",
        "delay",
        "drop",
        "lost",
        "drop_after",
        "hang",
        "trickle",
        "echo",
        "closed",
        "late",
        "trickle_body",
        "http10",
        "garbage",
    }
)


@dataclass
class SlidingWindow:
    """At most `limit` requests in any `window_s` seconds, on `now` (epoch seconds)."""

    limit: int
    window_s: float = 60.0
    now: Callable[[], float] = time.time
    admitted: deque[float] = field(default_factory=deque)  # inside the current window
    history: list[float] = field(default_factory=list)  # every admitted request
    refused: int = 0

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Count one request if it fits; the X-RateLimit-* headers for its answer."""
        now = self.now()
        while self.admitted and self.admitted[0] <= now - self.window_s:
            self.admitted.popleft()
        allowed = len(self.admitted) < self.limit
        if allowed:
            self.admitted.append(now)
            self.history.append(now)
        else:
            self.refused += 1
        reset = self.admitted[0] + self.window_s if self.admitted else now
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.limit - len(self.admitted)),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }
        return allowed, headers


@dataclass
class Exchange:
    """One request the server answered (for schema validation and assertions)."""

    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    """A connection the client dropped (a cut request, a timeout) is expected here: it is
    logged, not printed to `sys.stderr`, where a later test's captured output would read it
    (socketserver's handler threads outlive the request that started them)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        logging.getLogger(__name__).debug("fake server: request from %s failed", client_address)


class FakeAlpaca:
    """The server; `with FakeAlpaca(...) as fake:` runs it on a free port."""

    def __init__(
        self,
        state: Path,
        now: datetime,
        seed: Path = DEMO_ACCOUNT,
        port: int = 0,
        stream_port: int = 0,
    ) -> None:
        self.clock = FixedClock(now)
        self.sim = SimBroker(state / "fake-alpaca.sqlite", seed, self.clock)
        self.faults: list[Fault] = []
        self.late: list[tuple[datetime, Any]] = []  # (when it appears, submit body)
        self.window: SlidingWindow | None = None
        self.closing = threading.Event()  # set when the server stops: hangs and trickles end
        self.log: list[Exchange] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.clock_override: bool | None = None  # /v2/clock's is_open, whatever the calendar
        self.listings: list[dict[str, str]] = []  # the query of each GET /v2/assets
        self.lag: Lag | None = None  # account and positions trailing the fills
        self.factor: FillFactor | None = None  # orders fill k x the quantity asked
        self.crypto = Crypto()  # positions outside US equities
        self.hooks: list[list[Any]] = []  # [method, path, action, count left] (see `after`)
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", port), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._calendar = calendar_around(now.astimezone(NEW_YORK).date())
        self.stream = FakeStream(self, stream_port)
        # The secret doubles as the test suite's canary: it must never appear in any output.
        self.keys = (CANARY_KEY_ID, CANARY_SECRET)

    @property
    def url(self) -> str:
        """Base URL for both APIs (APCA_API_BASE_URL and APCA_API_DATA_URL)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def stream_url(self) -> str:
        """The trade_updates websocket (APCA_API_STREAM_URL)."""
        return self.stream.url

    def __enter__(self) -> FakeAlpaca:
        self._thread.start()
        self.stream.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.stream.stop()
        self._server.shutdown()
        self._server.server_close()
        self.sim.close()

    def fault(self, method: str, path: str, kind: str, **kw: Any) -> None:
        """Script a fault for matching requests (kinds: see the module docstring)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}: one of {sorted(FAULT_KINDS)}")
        self.faults.append(Fault(method, path, kind, **kw))

    def rate_limit(
        self, per_minute: int, window_s: float = 60.0, now: Callable[[], float] = time.time
    ) -> SlidingWindow:
        """Enforce `per_minute` requests per sliding `window_s`, as Alpaca does (429 beyond)."""
        self.window = SlidingWindow(per_minute, window_s, now)
        return self.window

    def lag_positions(self, reads: int = 0, seconds: float = 0.0) -> Lag:
        """Show /v2/account and /v2/positions as before each change for `reads` reads (of
        either) or `seconds` (real time), whichever lasts longer."""
        self.lag = Lag(reads=reads, seconds=seconds)
        return self.lag

    def fill_factor(self, k: Decimal) -> FillFactor:
        """Fill every buy `k` x the quantity asked (answers still say the quantity asked)."""
        self.factor = FillFactor(Decimal(k))
        return self.factor

    def hold_crypto(self, symbol: str, qty: Decimal, price: Decimal) -> None:
        """A crypto position (`BTCUSD`, `ETH/USD`), listed by /v2/positions and in equity."""
        self.crypto.held[symbol] = (Decimal(qty), Decimal(price))

    def after(self, method: str, path: str, action: Callable[[], None], count: int = 1) -> None:
        """Call `action` (under the fake's lock) after each of the next `count` requests
        matching `method` and `path` (a prefix) are answered: e.g. move a quote a cent
        once the run's orders have gone out."""
        self.hooks.append([method, path, action, count])

    def run_hooks(self, method: str, path: str) -> None:
        for hook in self.hooks:
            if hook[0] == method and path.startswith(hook[1]) and hook[3] > 0:
                hook[3] -= 1
                hook[2]()

    def order_doc(self, order: BrokerOrder) -> dict[str, Any]:
        """An order as Alpaca answers it (with the quantity asked, under a fill factor)."""
        doc = _order(order, self.clock.now())
        return doc if self.factor is None else self.factor.shown(doc)

    def _views(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The account and positions answers, as the lag (if any) shows them now."""
        truth = (self._account(), self._positions())
        if self.lag is None:
            return truth
        held = tuple(sorted((s, fmt(p.qty)) for s, p in self.sim.positions().items()))
        state = (fmt(self.sim.account().cash), held)
        return self.lag.answer(state, truth)

    def _positions(self) -> list[dict[str, Any]]:
        listed = [self._position(p.symbol) for p in self.sim.positions().values()]
        return listed + self.crypto.positions()

    # -- request handling (called under the lock) -----------------------------------------

    def land_late(self) -> None:
        """Accept the late submits whose time has come (as a broker that was slow to answer);
        a second copy of one client_order_id is refused as at Alpaca."""
        due = [body for when, body in self.late if when <= self.clock.now()]
        self.late = [(when, body) for when, body in self.late if when > self.clock.now()]
        for body in due:
            self._submit(body)

    def fill(self, client_order_id: str, qty: Decimal | None = None) -> float:
        """Fill a resting order at the quote now (all that is left, or `qty`), as an
        exchange would; the stream pushes it. Returns time.perf_counter() at the fill."""
        with self._lock:
            order = self.sim.get_order_by_client_id(client_order_id)
            if order is None or order.status.is_terminal:
                raise ValueError(f"no resting order {client_order_id}")
            quote = self.sim.quotes([order.symbol])[order.symbol]
            price = quote.ask if order.side is Side.BUY else quote.bid
            self.sim._fill(order, qty or order.qty - order.filled_qty, price)
            at = time.perf_counter()
            self.stream.publish()
        return at

    def take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.method == method and path.startswith(fault.path) and fault.count > 0:
                fault.count -= 1
                return fault
        return None

    def route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        sim = self.sim
        if path == "/v2/account":
            return 200, self._views()[0]
        if path == "/v2/positions":
            return 200, self._views()[1]
        if path == "/v2/account/portfolio/history":
            return self._portfolio_history(query)
        if path == "/v2/clock":
            return 200, self._clock()
        if path == "/v2/calendar":
            return 200, self._sessions(query)
        if path == "/v2/assets":  # the listing: every asset, filtered as Alpaca does
            self.listings.append(dict(query))
            status, kind = query.get("status"), query.get("asset_class", "us_equity")
            return 200, [
                _asset(a.symbol, a.tradable, a.fractionable, a.status)
                for a in sorted(sim.listing().values(), key=lambda a: a.symbol)
                if kind == "us_equity" and (status is None or a.status == status)
            ]
        if path.startswith("/v2/assets/"):
            symbol = path.removeprefix("/v2/assets/")
            asset = sim.assets([symbol]).get(symbol)
            if asset is None:
                return 404, {"code": 40410000, "message": "asset not found"}
            return 200, _asset(symbol, asset.tradable, asset.fractionable, asset.status)
        if path == "/v2/stocks/quotes/latest":
            symbols = [s for s in query.get("symbols", "").split(",") if s]
            return 200, {
                "quotes": {s: self._quote(s) for s in sim.quotes(symbols)},
                "currency": "USD",
            }
        if path == "/v2/stocks/bars":
            return 200, self._bars(query)
        if path == "/v2/account/activities" or path.startswith("/v2/account/activities/"):
            named = path.removeprefix("/v2/account/activities").strip("/") or None
            return activities.answer(sim, query, named)
        if path == "/v2/orders" and method == "GET":
            return 200, self._list_orders(query)
        if path == "/v2/orders" and method == "POST":
            return self._submit(body)
        if path == "/v2/orders:by_client_order_id":
            order = sim.get_order_by_client_id(query.get("client_order_id", ""))
            if order is None:
                return 404, {"code": 40410000, "message": "order not found"}
            return 200, self.order_doc(order)
        if path.startswith("/v2/orders/"):
            order_id = path.removeprefix("/v2/orders/")
            found = [o for o in sim.orders() if o.id == order_id]
            if not found:
                return 404, {"code": 40410000, "message": "order not found"}
            if method == "PATCH":
                return self._replace(found[0], body)
            if method == "DELETE":
                if found[0].status.is_terminal:
                    return 422, {"code": 42210000, "message": "order is not cancelable"}
                sim.cancel_order(order_id)
                return 204, None
            return 200, self.order_doc(found[0])
        return 404, {"code": 40410000, "message": f"no route {method} {path}"}

    def _portfolio_history(self, query: dict[str, str]) -> tuple[int, Any]:
        """Daily history (timeframe 1D) from the simulator's, shaped as Alpaca's
        PortfolioHistory: points labelled at the session's midnight in New York, profit and
        loss against the first point, and the cash flows of the types asked for."""
        if query.get("timeframe") != "1D":
            return 422, {"code": 42210000, "message": "the fake answers timeframe=1D only"}
        try:
            start = datetime.fromisoformat(query["start"]).astimezone(NEW_YORK).date()
            end = datetime.fromisoformat(query["end"]).astimezone(NEW_YORK).date()
        except (KeyError, ValueError):
            return 400, {"code": 40010000, "message": "start and end must be RFC3339 times"}
        history = self.sim.portfolio_history(start, end)
        base = float(history.equity[0]) if history.equity else 0.0
        doc: dict[str, Any] = {
            "timestamp": [
                int(datetime.combine(d, dt_time(), NEW_YORK).timestamp()) for d in history.days
            ],
            "equity": [float(e) for e in history.equity],
            "profit_loss": [round(float(e) - base, 4) for e in history.equity],
            "profit_loss_pct": [
                round(float(e) / base - 1, 6) if base else 0 for e in history.equity
            ],
            "base_value": base,
            "timeframe": "1D",
        }
        kinds = set(query.get("cashflow_types", "NONE").split(","))
        if kinds != {"NONE"} and any(history.flows):
            deposits = [float(f) if f > 0 else 0.0 for f in history.flows]
            withdrawals = [float(f) if f < 0 else 0.0 for f in history.flows]
            doc["cashflow"] = {
                kind: values
                for kind, values in (("CSD", deposits), ("CSW", withdrawals))
                if (kind in kinds or "ALL" in kinds) and any(values)
            }
        return 200, doc

    def _submit(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"code": 40010000, "message": "request body must be JSON"}
        if "qty" in body and "notional" in body:
            return 400, {"code": 40010000, "message": "qty and notional are mutually exclusive"}
        try:
            request = OrderRequest(
                client_order_id=str(body["client_order_id"]),
                symbol=str(body["symbol"]),
                side=Side(body["side"]),
                qty=Decimal(str(body["qty"])),
                limit_price=None
                if body.get("limit_price") is None
                else Decimal(str(body["limit_price"])),
                order_type=str(body["type"]),
                time_in_force=str(body["time_in_force"]),
            )
        except (KeyError, ValueError, ArithmeticError) as exc:
            return 422, {"code": 42210000, "message": f"invalid order: {exc}"}
        self.clock.advance(0.001)  # time passes between orders, as at a real broker
        asked = request.qty
        if self.factor is not None and request.side is Side.BUY:
            request = replace(request, qty=self.factor.scaled(asked))
        try:
            order = self.sim.submit_order(request)
            if self.factor is not None and request.side is Side.BUY:
                self.factor.ordered[order.id] = asked
        except DuplicateOrder:
            return 422, {"code": 42210000, "message": "client_order_id must be unique"}
        except OrderRejected as exc:
            text = str(exc)
            if text.startswith("insufficient buying power"):
                return 403, {
                    "code": 40310000,
                    "message": "insufficient buying power",
                    "buying_power": fmt(self.sim.account().buying_power),
                    "cost_basis": fmt(request.qty * (request.limit_price or Decimal(0))),
                }
            if "minimal amount" in text:
                return 403, {
                    "code": 40310000,
                    "message": "cost basis must be >= minimal amount of order 1",
                }
            return 422, {"code": 42210000, "message": text.split(": ", 1)[-1]}
        return 200, self.order_doc(order)

    def _replace(self, old: BrokerOrder, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, {"code": 40010000, "message": "request body must be JSON"}
        try:
            qty = Decimal(str(body.get("qty", old.qty)))
            limit = Decimal(str(body["limit_price"]))
            cid = str(body.get("client_order_id") or uuid.uuid4())
            new = self.sim.replace_order(old.id, qty, limit, cid)
        except (KeyError, ArithmeticError) as exc:
            return 422, {"code": 42210000, "message": f"invalid replace: {exc}"}
        except DuplicateOrder:
            return 422, {"code": 42210000, "message": "client_order_id must be unique"}
        except OrderRejected as exc:
            return 422, {"code": 42210000, "message": str(exc)}
        answer = self.order_doc(new)
        answer["replaces"] = old.id
        return 200, answer

    def _list_orders(self, query: dict[str, str]) -> list[dict[str, Any]]:
        status = query.get("status", "open")
        orders = self.sim.orders()  # the simulator holds US equities only
        if "us_equity" not in query.get("asset_class", "us_equity").split(","):
            orders = []
        if status == "open":
            orders = [o for o in orders if not o.status.is_terminal]
        elif status == "closed":
            orders = [o for o in orders if o.status.is_terminal]
        if "after" in query:
            after = _parse(query["after"])
            orders = [o for o in orders if o.submitted_at is not None and o.submitted_at > after]
        if "until" in query:
            until = _parse(query["until"])
            orders = [o for o in orders if o.submitted_at is not None and o.submitted_at < until]
        orders.sort(
            key=lambda o: o.submitted_at or self.clock.now(),
            reverse=query.get("direction", "desc") == "desc",
        )
        limit = min(int(query.get("limit", "50")), 500)
        return [self.order_doc(o) for o in orders[:limit]]

    def _account(self) -> dict[str, Any]:
        acct = self.sim.account()
        positions = self.sim.positions()
        quotes = self.sim.quotes(positions)
        market_value = sum(
            (
                p.qty * (quotes[s].bid + quotes[s].ask) / 2
                for s, p in positions.items()
                if s in quotes
            ),
            Decimal(0),
        )
        market_value += self.crypto.value()  # Alpaca's equity counts every asset class
        equity = acct.cash + market_value
        doc: dict[str, Any] = {
            "id": str(uuid.uuid5(NAMESPACE, acct.account_id)),
            "account_number": acct.account_id,
            "status": "ACTIVE",
            "crypto_status": "INACTIVE",
            "currency": "USD",
            "buying_power": fmt(acct.buying_power),
            "regt_buying_power": fmt(acct.buying_power),
            "non_marginable_buying_power": fmt(acct.buying_power),
            "options_buying_power": fmt(acct.buying_power),
            "cash": fmt(acct.cash),
            "accrued_fees": "0",
            "portfolio_value": fmt(equity),
            "equity": fmt(equity),
            "last_equity": fmt(equity),
            "long_market_value": fmt(market_value),
            "short_market_value": "0",
            "initial_margin": "0",
            "maintenance_margin": "0",
            "last_maintenance_margin": "0",
            "sma": "0",
            "multiplier": "1" if acct.account_type == "cash" else "2",
            "shorting_enabled": False,
            "trading_blocked": False,
            "transfers_blocked": False,
            "account_blocked": False,
            "trade_suspended_by_user": False,
            "created_at": "2026-01-05T14:00:00Z",
            "balance_asof": self.clock.now().astimezone(NEW_YORK).date().isoformat(),
        }
        if acct.daytrade_count is not None:  # legacy field: only where the seed keeps it
            doc["daytrade_count"] = acct.daytrade_count
        return doc

    def _position(self, symbol: str) -> dict[str, Any]:
        pos = self.sim.positions()[symbol]
        quote = self.sim.quotes([symbol]).get(symbol)
        price = (quote.bid + quote.ask) / 2 if quote else pos.avg_entry_price
        value, cost = pos.qty * price, pos.qty * pos.avg_entry_price
        return {
            "asset_id": str(uuid.uuid5(NAMESPACE, symbol)),
            "symbol": symbol,
            "exchange": "ARCA",
            "asset_class": "us_equity",
            "asset_marginable": True,
            "avg_entry_price": fmt(pos.avg_entry_price),
            "qty": fmt(pos.qty),
            "qty_available": fmt(pos.qty),
            "side": "long",
            "market_value": fmt(value),
            "cost_basis": fmt(cost),
            "unrealized_pl": fmt(value - cost),
            "unrealized_plpc": fmt((value - cost) / cost) if cost else "0",
            "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0",
            "current_price": fmt(price),
            "lastday_price": fmt(price),
            "change_today": "0",
        }

    def _quote(self, symbol: str) -> dict[str, Any]:
        q = self.sim.quotes([symbol])[symbol]
        stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%S.") + "123456789Z"
        return {
            "t": stamp,
            "ax": "V",
            "ap": float(q.ask),
            "as": 3,
            "bx": "V",
            "bp": float(q.bid),
            "bs": 2,
            "c": ["R"],
            "z": "B",
        }

    def _bars(self, query: dict[str, str]) -> dict[str, Any]:
        """Daily bars from `start` to `end` (at most yesterday) for symbols whose simulated
        asset has an ADV: volume swings +-10% around it. Sorted by symbol then time; `limit`
        counts bars."""
        symbols = sorted(s for s in query.get("symbols", "").split(",") if s)
        assets = self.sim.assets(symbols)
        start = datetime.fromisoformat(query["start"]).date()
        today = self.clock.now().astimezone(NEW_YORK).date()
        end = (
            min(today, datetime.fromisoformat(query["end"]).date() + timedelta(days=1))
            if (query.get("end"))
            else today
        )
        # the fake's history begins with its calendar's first session
        start = max(start, self._calendar.table.sessions[0].day)
        span = (start + timedelta(days=i) for i in range(max(0, (end - start).days)))
        days = [s for s in (self._calendar.session(d) for d in span) if s is not None]
        rows: list[tuple[str, dict[str, Any]]] = []
        for symbol in symbols:
            adv = assets[symbol].avg_daily_volume if symbol in assets else None
            if adv is None:
                continue
            mid = float(self.sim.quotes([symbol])[symbol].ask)
            for i, session in enumerate(d for d in days if d.day < end):
                volume = int(adv * Decimal(100 + (10 if i % 2 else -10)) / 100)
                stamp = f"{session.day.isoformat()}T05:00:00Z"
                bar = {"t": stamp, "o": mid, "h": mid, "l": mid, "c": mid, "v": volume,
                       "n": volume // 100 + 1, "vw": mid}  # fmt: skip
                rows.append((symbol, bar))
        offset = int(query.get("page_token") or 0)
        limit = int(query.get("limit", "1000"))
        page = rows[offset : offset + limit]
        bars: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in page:
            bars.setdefault(symbol, []).append(bar)
        more = offset + limit < len(rows)
        return {"bars": bars, "next_page_token": str(offset + limit) if more else None,
                "currency": "USD"}  # fmt: skip

    def _sessions(self, query: dict[str, str]) -> list[dict[str, Any]]:
        start = datetime.fromisoformat(query["start"]).date()
        end = datetime.fromisoformat(query["end"]).date()
        days = []
        for session in self._calendar.sessions(start, (end - start).days + 1):
            if session.day > end:
                break
            local_open = session.open.astimezone(NEW_YORK)
            local_close = session.close.astimezone(NEW_YORK)
            (settles,) = self._calendar.sessions(session.day + timedelta(days=1), 1)
            days.append({
                "date": session.day.isoformat(),
                "open": f"{local_open:%H:%M}",
                "close": f"{local_close:%H:%M}",
                "session_open": "0400",
                "session_close": "2000",
                "settlement_date": settles.day.isoformat(),
            })  # fmt: skip
        return days

    def _clock(self, closed: bool = False) -> dict[str, Any]:
        state = self._calendar.state(self.clock.now())
        nxt = state.next_session
        upcoming_open = (
            nxt.open
            if not state.is_open
            else self._calendar.sessions(nxt.day + timedelta(days=1), 1)[0].open
        )
        return {
            "timestamp": self.clock.now().isoformat(),
            "is_open": (state.is_open and not closed)
            if self.clock_override is None
            else self.clock_override,
            "next_open": upcoming_open.isoformat(),
            "next_close": nxt.close.isoformat(),
        }


def _asset(symbol: str, tradable: bool, fractionable: bool, status: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(NAMESPACE, symbol)),
        "class": "us_equity",
        "exchange": "ARCA",
        "symbol": symbol,
        "name": f"{symbol} (fake)",
        "status": status,
        "tradable": tradable,
        "marginable": True,
        "shortable": False,
        "easy_to_borrow": False,
        "fractionable": fractionable,
        "attributes": ["fractional_eh_enabled"] if fractionable else [],
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _order(order: BrokerOrder, now: datetime) -> dict[str, Any]:
    done = order.status is OrderStatus.FILLED
    cancelled = order.status is OrderStatus.CANCELED
    return {
        "id": order.id,
        "client_order_id": order.client_order_id,
        "created_at": _iso(order.submitted_at),
        "updated_at": _iso(now),
        "submitted_at": _iso(order.submitted_at),
        "filled_at": _iso(now) if done else None,
        "expired_at": None,
        "canceled_at": _iso(now) if cancelled else None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(uuid.uuid5(NAMESPACE, order.symbol)),
        "symbol": order.symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": fmt(order.qty),
        "filled_qty": fmt(order.filled_qty),
        "filled_avg_price": None if order.filled_avg_price is None else fmt(order.filled_avg_price),
        "order_class": "simple",
        "order_type": order.order_type,
        "type": order.order_type,
        "side": order.side.value,
        "position_intent": "buy_to_open" if order.side is Side.BUY else "sell_to_close",
        "time_in_force": order.time_in_force,
        "limit_price": None if order.limit_price is None else fmt(order.limit_price),
        "stop_price": None,
        "status": order.status.value,
        "extended_hours": False,
        "legs": None,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _handler(fake: FakeAlpaca) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as from a real server

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def _serve(self, method: str) -> None:
            parsed = urlparse(self.path)
            if parsed.path == "/stream":  # the websocket lives on its own port (FakeStream)
                self.close_connection = True
                self.connection.close()
                return
            query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
            self.query = query  # logged with the answer
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items()}
            path = parsed.path
            with fake._lock:
                fake.requests.append((method, path, headers))
                if headers.get("APCA-API-KEY-ID") != fake.keys[0] or (
                    headers.get("APCA-API-SECRET-KEY") != fake.keys[1]
                ):
                    self._send(
                        method,
                        path,
                        401,
                        {"code": 40110000, "message": "request is not authorized"},
                    )
                    return
                limits: dict[str, str] = {}
                if fake.window is not None:
                    allowed, limits = fake.window.admit()
                    if not allowed:
                        refused = {"code": 42910000, "message": "rate limit exceeded"}
                        self._send(method, path, 429, refused, limits)
                        return
                fake.land_late()
                fault = fake.take_fault(method, path)
                if fault is not None and fault.kind == "late":
                    when = fake.clock.now() + timedelta(seconds=fault.seconds)
                    fake.late.append((when, json.loads(raw) if raw else None))
            kind = fault.kind if fault is not None else None
            if kind == "garbage":  # a 200 whose body is not JSON (a proxy's page, cut short)
                assert fault is not None
                self._raw(fault.status if fault.status != 503 else 200, b'{"id": "6f1c", "clie')
                return
            if fault is not None and kind in ("drop", "delay", "status", "hang", "echo", "late"):
                if kind in ("drop", "late"):
                    self.close_connection = True
                    self.connection.close()
                    return
                if kind == "hang":  # never answers: only the client's own timeout ends it
                    fake.closing.wait(fault.seconds or 600)
                    self.close_connection = True
                    return
                if kind == "delay":
                    fake.closing.wait(fault.seconds)  # slow server: the client's timeout cuts it
                elif kind == "echo":
                    secret = headers.get("APCA-API-SECRET-KEY", "")
                    status = fault.status
                    message = f"internal error handling request with key {secret}"
                    echoed = {"code": status * 100000, "message": message}
                    self._send(method, path, status, echoed, {**limits, **fault.headers})
                    return
                else:
                    default = {"code": fault.status * 100000, "message": "fault"}
                    if fault.status == 429:
                        default["message"] = "rate limit exceeded"
                    extra = {**limits, **fault.headers}
                    shown = default if fault.body is None else fault.body
                    self._send(method, path, fault.status, shown, extra)
                    return
            body: Any
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = None
            with fake._lock:
                if kind == "closed" and path == "/v2/clock":
                    status, answer = 200, fake._clock(closed=True)
                else:
                    status, answer = fake.route(method, path, query, body)
                fake.run_hooks(method, path)
                fake.stream.publish()
            if kind in ("lost", "drop_after"):
                assert fault is not None
                if fault.seconds:
                    fake.closing.wait(fault.seconds)  # processed; the answer arrives too late
                else:
                    self.close_connection = True
                    self.connection.close()
                    return
            if kind in ("trickle", "trickle_body", "http10"):
                assert fault is not None
                self._trickle(method, path, status, answer, limits, fault.seconds or 1.0, kind)
                return
            self._send(method, path, status, answer, limits)

        def _send(
            self,
            method: str,
            path: str,
            status: int,
            body: Any,
            headers: dict[str, str] | None = None,
        ) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            fake.log.append(
                Exchange(
                    method, path, status, body, dict(headers or {}), getattr(self, "query", {})
                )
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _raw(self, status: int, data: bytes) -> None:
            """An answer whose body is `data` as it is (not JSON)."""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(
            self,
            method: str,
            path: str,
            status: int,
            body: Any,
            headers: dict[str, str],
            every_s: float,
            kind: str = "trickle",
        ) -> None:
            """The answer one byte every `every_s` seconds: all of it (`trickle`), or the
            body after headers sent at once (`trickle_body`, `http10`: an HTTP/1.0 answer
            without Content-Length, which ends when the connection closes)."""
            data = b"" if body is None else json.dumps(body).encode()
            fake.log.append(Exchange(method, path, status, body, dict(headers)))
            version = "HTTP/1.0" if kind == "http10" else "HTTP/1.1"
            length = [] if kind == "http10" else [f"Content-Length: {len(data)}"]
            lines = [f"{version} {status} {self.responses[status][0]}",
                     "Content-Type: application/json", *length,
                     "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]  # fmt: skip
            head = ("\r\n".join(lines) + "\r\n\r\n").encode()
            answer = head + data
            self.close_connection = True
            start = 0
            if kind != "trickle":
                with contextlib.suppress(OSError):
                    self.wfile.write(head)
                    self.wfile.flush()
                start = len(head)
            for i in range(start, len(answer)):
                try:
                    self.wfile.write(answer[i : i + 1])
                except OSError:
                    return  # the client gave up: what it should do
                if fake.closing.wait(every_s):
                    return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_PATCH(self) -> None:
            self._serve("PATCH")

    return Handler


class FakeStream:
    """Alpaca's trade_updates websocket (wss://paper-api.alpaca.markets/stream) for the fake.

    Kept apart from the HTTP routes: it watches the simulator's orders and pushes one
    `trade_update` per change. Under the fake's lock, `publish` compares every order with
    what it last pushed; it only looks while a client listens.
    """

    def __init__(self, fake: FakeAlpaca, port: int = 0) -> None:
        self._fake = fake
        self._server = ws_server.serve(self._handle, "127.0.0.1", port, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.listeners: list[ws_server.ServerConnection] = []
        self.connections = 0  # authorised connections so far
        self.sent: list[dict[str, Any]] = []  # every trade_update pushed
        self.auth: list[str] = []  # the action of each first message (never the keys)
        self.down = False  # refuse every connection: the stream is unavailable
        self.mute = False  # connected and listening, but nothing is pushed (a silent stream)
        self._seen: dict[str, tuple[str, str]] = {}  # order id -> (status, filled_qty) pushed
        self._guard = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/stream"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()

    def drop(self) -> None:
        """Close every listening connection's socket (the client sees a dropped connection)."""
        with self._guard:
            dropped, self.listeners = self.listeners, []
        for conn in dropped:
            with contextlib.suppress(OSError):
                conn.socket.shutdown(2)  # SHUT_RDWR

    def _handle(self, conn: ws_server.ServerConnection) -> None:
        if self.down:
            return  # handshake done, then closed at once: the client cannot listen
        try:
            first = json.loads(conn.recv(timeout=5))
            self.auth.append(str(first.get("action")))
            data = first.get("data") or {}
            key = data.get("key_id", first.get("key"))
            secret = data.get("secret_key", first.get("secret"))
            ok = (
                first.get("action") in ("authenticate", "auth") and (key, secret) == self._fake.keys
            )
            status = "authorized" if ok else "unauthorized"
            answer = {"action": "authenticate", "status": status}
            conn.send(json.dumps({"stream": "authorization", "data": answer}))
            if not ok:
                return
            listen = json.loads(conn.recv(timeout=5))
            streams = (listen.get("data") or {}).get("streams", [])
            conn.send(json.dumps({"stream": "listening", "data": {"streams": streams}}))
            if "trade_updates" not in streams:
                return
            with self._fake._lock:
                self._snapshot()
                with self._guard:
                    self.listeners.append(conn)
                    self.connections += 1
            for _ in conn:  # hold the connection until the client or drop() closes it
                pass
        except (ConnectionClosed, TimeoutError, json.JSONDecodeError, OSError):
            return
        finally:
            with self._guard:
                if conn in self.listeners:
                    self.listeners.remove(conn)

    def _snapshot(self) -> None:
        """What each order looks like now: only later changes are pushed."""
        self._seen = {o.id: (o.status.value, fmt(o.filled_qty)) for o in self._fake.sim.orders()}

    def publish(self) -> None:
        """Push one trade_update per order changed since the last look (caller holds the
        fake's lock)."""
        with self._guard:
            listeners = list(self.listeners)
        if not listeners or self.mute:
            return
        now = self._fake.clock.now()
        for order in self._fake.sim.orders():
            state = (order.status.value, fmt(order.filled_qty))
            before = self._seen.get(order.id)
            if before == state:
                continue
            self._seen[order.id] = state
            event = _EVENTS.get(order.status, order.status.value)
            data: dict[str, Any] = {"event": event, "timestamp": _iso(now)}
            data["order"] = self._fake.order_doc(order)
            if event in ("fill", "partial_fill"):
                was = Decimal(before[1] if before else "0")
                data["execution_id"] = str(uuid.uuid4())
                data["price"] = fmt(order.filled_avg_price or Decimal(0))
                data["qty"] = fmt(order.filled_qty - was)
            message = {"stream": "trade_updates", "data": data}
            self.sent.append(message)
            text = json.dumps(message)
            for conn in listeners:
                with contextlib.suppress(ConnectionClosed, OSError):
                    conn.send(text)


_EVENTS = {
    OrderStatus.NEW: "new",
    OrderStatus.ACCEPTED: "new",
    OrderStatus.PARTIALLY_FILLED: "partial_fill",
    OrderStatus.FILLED: "fill",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.REJECTED: "rejected",
}


@contextmanager
def running(state: Path, now: datetime) -> Iterator[FakeAlpaca]:
    """Start a fake server for the duration of a block."""
    with FakeAlpaca(state, now) as fake:
        yield fake


def parse_fault(text: str) -> tuple[str, str, str, dict[str, Any]]:
    """`METHOD PATH KIND [count=N] [status=N] [seconds=S] [Header-Name=value ...]`."""
    words = text.split()
    if len(words) < 3:
        raise ValueError(f"--fault needs METHOD PATH KIND, got {text!r}")
    method, path, kind, *extra = words
    options: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--fault option {item!r} is not key=value")
        if key in ("count", "status"):
            options[key] = int(value)
        elif key == "seconds":
            options[key] = float(value)
        else:
            headers[key] = value
    if headers:
        options["headers"] = headers
    return method.upper(), path, kind, options


def main() -> None:
    """Run the fake server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description="Alpaca-compatible fake server on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--stream-port", type=int, default=0, help="trade_updates websocket")
    parser.add_argument("--now", default="2026-11-24T15:00:00Z")
    parser.add_argument(
        "--state", type=Path, help="keep the account here (default: a temporary directory)"
    )
    parser.add_argument("--seed", type=Path, default=DEMO_ACCOUNT, help="simulator seed TOML")
    parser.add_argument(
        "--rate-limit", type=int, metavar="N", help="at most N requests per sliding minute (429)"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help='"METHOD PATH KIND [count=N] [status=N] [seconds=S] [Header=value]" '
        f"(kinds: {', '.join(sorted(FAULT_KINDS))}); repeatable",
    )
    parser.add_argument("--closed", action="store_true", help="GET /v2/clock says is_open: false")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.state is None:  # nothing left behind in the checkout
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fake-alpaca-")))
        else:
            state = args.state
            state.mkdir(exist_ok=True)
        _serve(args, state, parser)


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # `kill %1` ends it as Ctrl-C does: its temporary state removed


def _serve(args: argparse.Namespace, state: Path, parser: argparse.ArgumentParser) -> None:
    signal.signal(signal.SIGTERM, _stop)
    fake_server = FakeAlpaca(
        state, _parse(args.now), seed=args.seed, port=args.port, stream_port=args.stream_port
    )
    with fake_server as fake:
        try:
            for spec in args.fault:
                method, path, kind, options = parse_fault(spec)
                fake.fault(method, path, kind, **options)
        except ValueError as exc:
            parser.error(str(exc))
        if args.closed:
            fake.fault("GET", "/v2/clock", "closed", count=10**9)
        if args.rate_limit:
            fake.rate_limit(args.rate_limit)
        key, secret = fake.keys
        sys.stderr.write(
            f"fake Alpaca on {fake.url}: APCA_API_BASE_URL={fake.url} "
            f"APCA_API_DATA_URL={fake.url} APCA_API_STREAM_URL={fake.stream_url} "
            f"APCA_API_KEY_ID={key} APCA_API_SECRET_KEY={secret}\n"
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
