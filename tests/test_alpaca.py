"""The Alpaca adapter against the fake Alpaca server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers import alpaca
from alchemiser_cli.brokers.alpaca import assets as asset_cache
from alchemiser_cli.brokers.alpaca import parse
from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Side
from alchemiser_cli.errors import (
    AlpacaAuthError,
    BrokerError,
    BrokerUnavailable,
    CircuitOpen,
    ConfigError,
    OrderDisputed,
    OrderRejected,
)
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.openapi_check import validate

NOW = datetime.fromisoformat(OPEN_NOW)
# Few tries, short backoffs; a generous timeout (no test here waits on it: a loaded machine
# could answer a loopback request slower than a short one, and add a retry to the counts).
FAST = AlpacaPolicy(timeout_s=10, read_attempts=3, max_backoff_s=2, breaker_fail_max=4)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server
        # Every answer the fake gave in the test matches Alpaca's documented schema.
        for exchange in server.log:
            validate(exchange.method, exchange.path, exchange.status, exchange.body)


def credentials(fake: FakeAlpaca, secret: str | None = None) -> AlpacaCredentials:
    return AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]),
        api_secret_key=SecretStr(secret or fake.keys[1]),
        api_base_url=fake.url,
        api_data_url=fake.url,
    )


BrokerMaker = Callable[..., AlpacaBroker]


@pytest.fixture
def make_broker(fake: FakeAlpaca, tmp_path: Path) -> BrokerMaker:
    def make(policy: AlpacaPolicy = FAST, secret: str | None = None) -> AlpacaBroker:
        return AlpacaBroker(credentials(fake, secret), policy, FixedClock(NOW), tmp_path / "cache")

    return make


def count(fake: FakeAlpaca, method: str, path: str) -> int:
    return sum(1 for m, p, _ in fake.requests if m == method and p == path)


def fake_home(fake: FakeAlpaca) -> Path:
    return Path(fake.sim._db_path).parent / "cache"


def test_reads_map_alpaca_json_to_alch_values(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    broker = make_broker()
    assert broker.name == "alpaca-paper"
    account = broker.account()
    assert (account.account_id, account.cash, account.account_type) == (
        "SIM-DEMO-0001",
        Decimal("12000"),
        "cash",
    )
    assert account.daytrade_count is None  # removed by Alpaca in 2026; not required
    assert broker.positions()["VTI"].qty == Decimal(150)
    assert broker.now() == NOW
    quote = broker.quotes(["VTI", "NOPE"])
    assert set(quote) == {"VTI"}
    assert (quote["VTI"].bid, quote["VTI"].ask) == (Decimal("330.1"), Decimal("330.14"))
    assert quote["VTI"].as_of == datetime.fromisoformat("2026-11-24T15:00:00.123456+00:00")
    assets = broker.assets(["BRK.A", "VTI", "NOPE"])
    assert set(assets) == {"BRK.A", "VTI"}
    assert assets["BRK.A"].fractionable is False


@pytest.mark.parametrize("status", [429, 504])
def test_alpaca_pys_own_retry_never_runs(
    fake: FakeAlpaca, make_broker: BrokerMaker, status: int
) -> None:
    """alpaca-py retries 429 and 504 three times, 3 s apart (order submits too): the
    transport raises those answers before it sees them, so one try is one request."""
    fake.fault("GET", "/v2/account", "status", status=status, count=5,
               headers={"Retry-After": "0"})  # fmt: skip
    broker = make_broker(AlpacaPolicy(timeout_s=5, read_attempts=1))
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable):
        broker.account()
    assert time.monotonic() - started < 2
    assert count(fake, "GET", "/v2/account") == 1


def broker_at(fake: FakeAlpaca, tmp_path: Path, later: timedelta) -> AlpacaBroker:
    """A new process (fresh broker, same ALCH_HOME cache) `later` after NOW."""
    return AlpacaBroker(credentials(fake), FAST, FixedClock(NOW + later), tmp_path / "cache")


def asset_requests(fake: FakeAlpaca) -> list[str]:
    return [p for m, p, _ in fake.requests if m == "GET" and p.startswith("/v2/assets")]


def test_assets_come_from_one_listing_cached_across_days(fake: FakeAlpaca, tmp_path: Path) -> None:
    first = broker_at(fake, tmp_path, timedelta(0)).assets(["VTI", "BND", "BRK.A"])
    assert (first["BRK.A"].fractionable, first["VTI"].shortable, first["VTI"].exchange) == (
        False,
        False,
        "ARCA",
    )
    assert asset_requests(fake) == ["/v2/assets"]  # one listing, no per-symbol look-ups
    assert broker_at(fake, tmp_path, timedelta(0)).assets([]) == {}
    assert fake.listings == [{"status": "active", "asset_class": "us_equity"}]
    # Two days and 23 hours later, a new process: the listing is still fresh.
    again = broker_at(fake, tmp_path, timedelta(days=2, hours=23)).assets(["VTI", "KO"])
    assert set(again) == {"VTI", "KO"}
    assert asset_requests(fake) == ["/v2/assets"]
    # Three days old: fetched again, once.
    broker_at(fake, tmp_path, timedelta(days=3)).assets(["VTI"])
    assert asset_requests(fake) == ["/v2/assets"] * 2


def test_a_symbol_missing_from_the_listing_refreshes_it_then_is_looked_up_alone_once(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    broker_at(fake, tmp_path, timedelta(0)).assets(["VTI"])
    # After the listing was cached: a new listing (NEWCO), a delisted holding (OLD, absent
    # from the active listing but still described by Alpaca), and a typo (NOPE).
    fake.sim.set_quote("NEWCO", Decimal("10"), Decimal("10.02"))
    fake.sim._conn.execute("INSERT INTO assets VALUES ('OLD', 0, 0, 'inactive')")
    assets = broker_at(fake, tmp_path, timedelta(hours=1)).assets(["VTI", "NEWCO", "OLD", "NOPE"])
    assert set(assets) == {"VTI", "NEWCO", "OLD"}  # NOPE: no record, the planner says so
    assert (assets["OLD"].status, assets["OLD"].tradable) == ("inactive", False)
    assert asset_requests(fake) == [
        "/v2/assets",
        "/v2/assets",  # refreshed: NEWCO and OLD were not in the cached one
        "/v2/assets/NOPE",  # absent from the fresh listing: looked up alone, once
        "/v2/assets/OLD",
    ]
    # Within the day, OLD's look-up is reused: the same call costs nothing for it.
    broker_at(fake, tmp_path, timedelta(hours=2)).assets(["VTI", "NEWCO", "OLD"])
    assert len(asset_requests(fake)) == 4


def test_a_listing_entry_without_its_flags_is_a_broker_error(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    fake.fault("GET", "/v2/assets", "status", status=200, body=[{"symbol": "VTI"}])
    with pytest.raises(
        BrokerError,
        match=r"^unexpected assets listing from Alpaca: entry 'VTI' lacks tradable, "
        r"fractionable or status$",
    ):
        make_broker().assets(["VTI"])
    fake.log.clear()  # this answer breaks Alpaca's schema on purpose


def test_one_clock_read_serves_a_commands_time_and_open_flag(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    clock = FixedClock(NOW)
    broker = AlpacaBroker(credentials(fake), FAST, clock, fake_home(fake))
    assert broker.now() == NOW
    assert broker.clock_is_open() is True
    clock.advance(30)
    assert broker.now() == NOW + timedelta(seconds=30)  # moved on by the local clock
    assert count(fake, "GET", "/v2/clock") == 1
    clock.advance(1)  # past CLOCK_REUSE: the open flag is asked for again
    fake.clock.advance(31)
    assert broker.clock_is_open() is True
    assert broker.now() == NOW + timedelta(seconds=31)
    assert count(fake, "GET", "/v2/clock") == 2


@pytest.fixture
def sip_broker(fake: FakeAlpaca, tmp_path: Path) -> Callable[[], AlpacaBroker]:
    def make() -> AlpacaBroker:
        return AlpacaBroker(credentials(fake), FAST, FixedClock(NOW), tmp_path / "cache", "sip")

    return make


def test_average_daily_volume_comes_from_sip_daily_bars_and_is_cached(
    fake: FakeAlpaca, sip_broker: Callable[[], AlpacaBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    queries: list[dict[str, str]] = []
    real_bars = FakeAlpaca._bars

    def recording(self: FakeAlpaca, query: dict[str, str]) -> dict[str, Any]:
        queries.append(query)
        return real_bars(self, query)

    monkeypatch.setattr(FakeAlpaca, "_bars", recording)
    fake.sim.set_adv("VTI", Decimal(3_500_000))
    assets = sip_broker().assets(["VTI", "BND"])
    # 20 sessions alternating 10% above and below: the mean is the ADV itself.
    assert assets["VTI"].avg_daily_volume == Decimal(3_500_000)
    assert assets["BND"].avg_daily_volume is None  # no bars: not sliced by volume
    (query,) = queries
    assert (query["feed"], query["timeframe"], query["adjustment"]) == ("sip", "1Day", "split")
    again = sip_broker().assets(["VTI", "BND"])
    assert again["VTI"].avg_daily_volume == Decimal(3_500_000)
    assert count(fake, "GET", "/v2/stocks/bars") == 1  # ADV is cached for the day


def test_daily_bars_are_read_across_pages(
    fake: FakeAlpaca, sip_broker: Callable[[], AlpacaBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asset_cache, "BARS_PAGE", 7)
    fake.sim.set_adv("VTI", Decimal(1_000_000))
    fake.sim.set_adv("BND", Decimal(2_000_000))
    assets = sip_broker().assets(["VTI", "BND"])
    assert assets["VTI"].avg_daily_volume == Decimal(1_000_000)
    assert assets["BND"].avg_daily_volume == Decimal(2_000_000)
    assert count(fake, "GET", "/v2/stocks/bars") > 2


def test_no_volume_from_the_iex_feed(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    """IEX sees a few percent of the market's volume: using it would over-slice."""
    fake.sim.set_adv("VTI", Decimal(3_500_000))
    assert make_broker().assets(["VTI"])["VTI"].avg_daily_volume is None
    assert count(fake, "GET", "/v2/stocks/bars") == 0


def test_a_malformed_daily_bar_is_a_broker_error(
    fake: FakeAlpaca, sip_broker: Callable[[], AlpacaBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.sim.set_adv("VTI", Decimal(1_000))
    real_bars = FakeAlpaca._bars

    def broken(self: FakeAlpaca, query: dict[str, str]) -> dict[str, Any]:
        answer = real_bars(self, query)
        answer["bars"]["VTI"][0]["v"] = "lots"
        return answer

    monkeypatch.setattr(FakeAlpaca, "_bars", broken)
    with pytest.raises(
        BrokerError, match=r"^Alpaca sent a malformed daily bar for VTI: volume 'lots'$"
    ):
        sip_broker().assets(["VTI"])
    fake.log.clear()  # this answer breaks Alpaca's schema on purpose


def test_a_daily_bars_page_token_seen_before_is_a_broker_error_not_a_loop(
    fake: FakeAlpaca, sip_broker: Callable[[], AlpacaBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.sim.set_adv("VTI", Decimal(1_000))
    real_bars = FakeAlpaca._bars
    answers = iter(["1", "2", "1", "2", "1", None])  # None: the page a loop would end on

    def cycling(self: FakeAlpaca, query: dict[str, str]) -> dict[str, Any]:
        answer = real_bars(self, query)
        answer["next_page_token"] = next(answers)
        return answer

    monkeypatch.setattr(FakeAlpaca, "_bars", cycling)
    with pytest.raises(
        BrokerError, match=r"^Alpaca's daily bars repeated page token '1': try again later$"
    ):
        sip_broker().assets(["VTI"])
    assert count(fake, "GET", "/v2/stocks/bars") == 3
    fake.log.clear()  # the answers break Alpaca's paging on purpose


@pytest.fixture
def host_in_new_york() -> Iterator[None]:
    """The machine's local zone is New York (a naive time would be read as 5 h off UTC)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    try:
        yield
    finally:  # restored here: the process's zone must not leak into later tests
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.mark.usefixtures("host_in_new_york")
def test_alpaca_times_keep_their_zone_on_a_host_outside_utc() -> None:
    # Alpaca's nanoseconds used to swallow the zone's digits: the time came out naive and
    # was read in the host's zone (20:00 UTC here for a fill at 15:00 UTC).
    assert parse.parse_time("2026-11-24T15:00:00.123456789Z") == datetime(
        2026, 11, 24, 15, 0, 0, 123456, tzinfo=UTC
    )
    for text in ("2026-11-24T10:00:00.5-05:00", "2026-11-25T00:00:00.500+09:00"):
        assert parse.parse_time(text) == datetime(2026, 11, 24, 15, 0, 0, 500000, tzinfo=UTC)
    with pytest.raises(BrokerError, match=r"^unexpected time from Alpaca: '2026-11-24T15:00:00'$"):
        parse.parse_time("2026-11-24T15:00:00")


def test_quotes_for_more_than_200_symbols_go_in_batches(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    symbols = [f"Q{i:03d}" for i in range(250)]
    for symbol in symbols:
        fake.sim.set_quote(symbol, Decimal("10"), Decimal("10.01"))
    quotes = make_broker().quotes(symbols)
    assert len(quotes) == 250
    assert count(fake, "GET", "/v2/stocks/quotes/latest") == 2  # 200, then 50


def test_submit_lookup_and_cancel(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    broker = make_broker()
    resting = broker.submit_order(
        OrderRequest("alch-t-1", "KO", Side.BUY, Decimal("0.5"), Decimal("60"))
    )
    assert (resting.status, resting.qty, resting.limit_price) == (
        OrderStatus.NEW,
        Decimal("0.5"),
        Decimal("60"),
    )
    assert broker.get_order_by_client_id("alch-t-1") == resting
    assert broker.get_order_by_client_id("never-sent") is None
    assert [o.client_order_id for o in broker.open_orders()] == ["alch-t-1"]
    cancelled = broker.cancel_order(resting.id)
    assert cancelled.status is OrderStatus.CANCELED
    assert broker.cancel_order(resting.id).status is OrderStatus.CANCELED  # 422, read back
    filled = broker.submit_order(OrderRequest("alch-t-2", "KO", Side.BUY, Decimal(2), Decimal(71)))
    assert (filled.status, filled.filled_avg_price) == (OrderStatus.FILLED, Decimal("70.12"))
    fills = broker.fills_since(NOW)
    assert [(f.symbol, f.qty, f.price) for f in fills] == [("KO", Decimal(2), Decimal("70.12"))]


def test_orders_are_posted_as_exact_decimal_strings(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    make_broker().submit_order(
        OrderRequest("alch-t-3", "KO", Side.BUY, Decimal("0.123456789"), Decimal("60.1"))
    )
    post = next(e for e in fake.log if e.method == "POST")
    assert post.body["qty"] == "0.123456789"
    assert post.body["limit_price"] == "60.1"


def test_open_orders_follow_every_page(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    broker = make_broker(FAST.model_copy(update={"order_page": 50}))
    for i in range(120):  # resting orders: limit below the ask
        fake.sim.submit_order(
            OrderRequest(f"r-{i}", "KO", Side.BUY, Decimal("0.02"), Decimal("60"))
        )
        fake.clock.advance(0.001)
    orders = broker.open_orders()
    assert len(orders) == 120
    assert len({o.id for o in orders}) == 120
    assert count(fake, "GET", "/v2/orders") == 3  # 50 + 50 + 20


def test_broker_refusals_are_typed(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    broker = make_broker()
    with pytest.raises(OrderRejected, match=r"Alpaca refused \(403\): insufficient buying power"):
        broker.submit_order(OrderRequest("big", "VTI", Side.BUY, Decimal(1000), Decimal(331)))
    with pytest.raises(OrderRejected, match="requested asset is not fractionable"):
        broker.submit_order(OrderRequest("frac", "BRK.A", Side.BUY, Decimal("0.5"), Decimal(1)))


def test_duplicate_client_order_id_is_treated_as_already_sent(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    first = broker.submit_order(OrderRequest("dup", "KO", Side.BUY, Decimal(1), Decimal(60)))
    again = broker.submit_order(OrderRequest("dup", "KO", Side.BUY, Decimal(1), Decimal(60)))
    assert again.id == first.id
    assert len(fake.sim.orders()) == 1


# -- faults ------------------------------------------------------------------------------


def test_429_then_success_waits_as_told(fake: FakeAlpaca, make_broker: BrokerMaker) -> None:
    fake.fault("GET", "/v2/account", "status", status=429, headers={"Retry-After": "1.5"},
               body={"code": 42910000, "message": "rate limit exceeded"})  # fmt: skip
    broker = make_broker()
    assert broker.account().cash == Decimal(12000)
    assert count(fake, "GET", "/v2/account") == 2
    clock = broker._clock
    assert isinstance(clock, FixedClock)
    assert len(clock.slept) == 1
    assert 1.5 <= clock.slept[0] <= 1.5 * 1.25  # Retry-After, plus at most 25% jitter


def test_503_storm_opens_the_circuit_and_fails_fast(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    fake.fault("GET", "/v2/", "status", status=503, count=100)
    broker = make_broker()
    with pytest.raises(BrokerUnavailable, match=r"Alpaca unavailable \(503\)"):
        broker.account()  # three tries
    with pytest.raises(CircuitOpen, match="broker unavailable: 4 consecutive failures"):
        broker.positions()  # the fourth failure opens the circuit, then it fails fast
    sent = len(fake.requests)
    with pytest.raises(CircuitOpen):
        broker.quotes(["VTI"])
    assert len(fake.requests) == sent  # nothing sent while open


def test_dropped_connections_on_reads_are_retried(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    fake.fault("GET", "/v2/positions", "drop", count=2)
    assert "VTI" in make_broker().positions()
    assert count(fake, "GET", "/v2/positions") == 3


def test_a_lost_submit_answer_is_looked_up_not_resent(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    fake.fault("POST", "/v2/orders", "lost")  # processed, then the connection drops
    order = make_broker().submit_order(
        OrderRequest("lost-1", "KO", Side.BUY, Decimal(1), Decimal(71))
    )
    assert order.status is OrderStatus.FILLED
    assert count(fake, "POST", "/v2/orders") == 1
    assert len(fake.sim.orders()) == 1


def test_a_submit_timeout_is_looked_up_not_duplicated(
    fake: FakeAlpaca, make_broker: BrokerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The order is created; its answer comes only when the server stops: the client's
    # timeout always cuts it.
    fake.fault("POST", "/v2/orders", "lost", seconds=600)
    broker = make_broker(AlpacaPolicy(timeout_s=0.3, read_attempts=2))
    # What is slow here is the answer, not the request: the look-up waits (on an event) until
    # the server has created the order. Without that, a loaded machine could start the
    # server's thread after the client gave up: the look-up finds nothing, the order is sent
    # again and refused as a duplicate (safe, but not the case this test is about).
    created = threading.Event()
    route = fake.route

    def routed(method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        answer = route(method, path, query, body)
        if method == "POST":
            created.set()
        return answer

    lookup = broker.get_order_by_client_id

    def looked_up(client_order_id: str) -> Any:
        assert created.wait(60), "the server never created the order"
        return lookup(client_order_id)

    monkeypatch.setattr(fake, "route", routed)
    monkeypatch.setattr(broker, "get_order_by_client_id", looked_up)
    order = broker.submit_order(OrderRequest("slow-1", "KO", Side.BUY, Decimal(1), Decimal(71)))
    assert order.client_order_id == "slow-1"
    assert count(fake, "GET", "/v2/orders:by_client_order_id") == 1
    assert fake.sim.submissions() == ["slow-1"]


def test_a_submit_that_never_arrived_is_sent_again_with_the_same_id(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    fake.fault("POST", "/v2/orders", "drop")  # dropped before processing
    order = make_broker().submit_order(
        OrderRequest("retry-1", "KO", Side.BUY, Decimal(1), Decimal(71))
    )
    assert order.status is OrderStatus.FILLED
    assert count(fake, "POST", "/v2/orders") == 2
    assert fake.sim.submissions() == ["retry-1"]


def test_bad_credentials_fail_without_echoing_the_secret(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    with pytest.raises(AlpacaAuthError) as info:
        make_broker(secret="canary-wrong-secret").account()
    assert "canary" not in str(info.value)
    assert "APCA_API_SECRET_KEY" in str(info.value)


def test_live_endpoint_needs_the_opt_in(tmp_path: Path) -> None:
    creds = AlpacaCredentials(
        api_key_id=SecretStr("AK"), api_secret_key=SecretStr("s"),
        api_base_url="https://api.alpaca.markets",
    )  # fmt: skip
    with pytest.raises(ConfigError, match="Alpaca LIVE trading: set ALCH_LIVE=1"):
        AlpacaBroker(creds, FAST, FixedClock(NOW), tmp_path)
    with pytest.raises(ConfigError, match="set APCA_API_KEY_ID and APCA_API_SECRET_KEY"):
        AlpacaBroker(AlpacaCredentials(), FAST, FixedClock(NOW), tmp_path)


# -- the CLI end to end ------------------------------------------------------------------


@pytest.fixture
def alpaca_env(fake: FakeAlpaca, monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    use_fake_alpaca(fake, monkeypatch, timeout_s="30")
    return fake


def test_cli_plans_and_trades_against_the_fake_server(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run]
) -> None:
    targets = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
    plan = cli("plan", "--json", "--targets", targets)
    assert plan.exit_code == 0, plan.stderr
    assert plan.json()["broker"] == "alpaca-paper"
    assert len(plan.json()["orders"]) == 4
    run = cli("execute", "--yes", "--json", "--targets", targets)
    assert run.exit_code == 0, run.stderr
    assert run.json()["outcome"] == "completed"
    assert len(alpaca_env.sim.orders()) == 4
    status = cli("status", "--json").json()
    assert status["broker"] == "alpaca-paper"
    assert status["runs"][0]["outcome"] == "completed"


def test_cli_on_the_sip_feed_slices_by_average_daily_volume(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The VXUS buy (~224 shares) is over 1% of a 10,000-share ADV: three slices of 100."""
    monkeypatch.setenv("ALCH_FEED", "sip")
    monkeypatch.setenv("ALCH_EXECUTION__SLICE_WINDOW_S", "0.3")  # real clock here: keep it short
    alpaca_env.sim.set_adv("VXUS", Decimal(10_000))
    targets = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
    run = cli("execute", "--yes", "--json", "--targets", targets)
    assert run.exit_code == 0, run.stderr
    by_symbol = {o["symbol"]: o for o in run.json()["orders"]}
    assert len(by_symbol["VXUS"]["slices"]) == 3
    assert [len(o["slices"]) for s, o in sorted(by_symbol.items()) if s != "VXUS"] == [1, 1, 1]
    assert by_symbol["VXUS"]["status"] == "filled"


def test_cli_without_targets_on_a_real_broker_is_an_error(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run]
) -> None:
    result = cli("plan")
    assert result.exit_code == 2
    assert "no targets: pass --targets FILE" in result.stderr


def test_cli_503_storm_opens_the_circuit_and_exits_3(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_ALPACA__MAX_BACKOFF_S", "0.01")
    monkeypatch.setenv("ALCH_ALPACA__BREAKER_FAIL_MAX", "3")
    alpaca_env.fault("GET", "/v2/", "status", status=503, count=100)
    result = cli("status")
    assert result.exit_code == 3
    assert result.stderr.splitlines()[-1] == (
        "alch: error: broker unavailable: 3 consecutive failures "
        "(last: Alpaca unavailable (503)); not retrying for 30 s"
    )
    assert len(alpaca_env.requests) == 3  # the fourth try never left: the circuit was open


def test_cli_auth_failure_exits_3_without_the_secret(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_SECRET_KEY", "canary-bad-secret-7f3a")
    result = cli("status")
    assert result.exit_code == 3
    assert "Alpaca refused the credentials (401)" in result.stderr
    assert "canary" not in result.stderr + result.stdout


def test_live_trading_needs_alch_live_then_live_then_the_account_number(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    from alchemiser_cli.brokers.alpaca import broker as adapter
    from alchemiser_cli.cli import common

    monkeypatch.setattr(adapter, "LIVE_HOST", "127.0.0.1")  # the fake stands in for live
    targets = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
    refused = cli("status")
    assert refused.exit_code == 2
    assert "Alpaca LIVE trading: set ALCH_LIVE=1" in refused.stderr

    monkeypatch.setenv("ALCH_LIVE", "1")
    status = cli("status", "--json")
    assert status.exit_code == 0
    assert status.json()["broker"] == "alpaca-live"
    account = status.json()["account"]["account_id"]

    half = cli("execute", "--yes", "--targets", targets)
    assert half.exit_code == 2
    assert "LIVE Alpaca account: sending real orders needs --live" in half.stderr

    monkeypatch.setattr(common, "stdin_is_tty", lambda: True)
    wrong = cli("execute", "--live", "--targets", targets, input="y\nPA-NOT-IT\n")
    assert wrong.exit_code == 0
    assert "the account number did not match; nothing sent" in wrong.stderr
    assert f"type the account number ({account})" in wrong.stderr
    assert alpaca_env.sim.orders() == []

    right = cli("execute", "--live", "--targets", targets, input=f"y\n{account}\n")
    assert right.exit_code == 0, right.stderr
    assert "Outcome: completed" in right.stdout
    assert len(alpaca_env.sim.orders()) == 4


def test_live_flag_without_a_live_account_is_refused(
    alpaca_env: FakeAlpaca, cli: Callable[..., Run]
) -> None:
    targets = str(Path(__file__).resolve().parent.parent / "examples/targets/three-fund.toml")
    paper = cli("execute", "--yes", "--live", "--targets", targets)
    assert paper.exit_code == 2
    assert "--live given but the broker is alpaca-paper" in paper.stderr
    sim = cli("--broker", "sim", "execute", "--yes", "--live")
    assert sim.exit_code == 2
    assert "--live given but the broker is sim" in sim.stderr
    assert alpaca_env.sim.orders() == []


def test_non_finite_numbers_from_alpaca_are_broker_errors(
    fake: FakeAlpaca, make_broker: BrokerMaker
) -> None:
    broker = make_broker()
    account = fake._account() | {"cash": "NaN"}
    fake.fault("GET", "/v2/account", "status", status=200, body=account)
    with pytest.raises(BrokerError, match=r"^unexpected cash from Alpaca: 'NaN'$"):
        broker.account()
    fake.fault(
        "GET",
        "/v2/stocks/quotes/latest",
        "status",
        status=200,
        body={"quotes": {"VTI": {"bp": "Infinity", "ap": 330.14, "t": "2026-11-24T15:00:00Z"}}},
    )
    with pytest.raises(BrokerError, match=r"^unexpected price from Alpaca: 'Infinity'$"):
        broker.quotes(["VTI"])
    fake.log.clear()  # these answers break Alpaca's schema on purpose


@pytest.mark.parametrize(
    "change",
    [
        {"filled_qty": "3"},  # more filled than ordered
        {"qty": "-2"},
        {"filled_avg_price": "0", "filled_qty": "1"},
        {"limit_price": "-1"},
    ],
)
def test_an_order_with_impossible_figures_is_disputed_with_its_figures(
    fake: FakeAlpaca, make_broker: BrokerMaker, change: dict[str, str]
) -> None:
    broker = make_broker()
    placed = broker.submit_order(
        OrderRequest("alch-t-odd", "KO", Side.BUY, Decimal("2"), Decimal("60"))
    )
    raw = next(o for o in fake._list_orders({"status": "all"}) if o["id"] == placed.id)
    fake.fault("GET", "/v2/orders:by_client_order_id", "status", status=200, body=raw | change)
    with pytest.raises(OrderDisputed) as caught:
        broker.get_order_by_client_id("alch-t-odd")
    assert str(caught.value).startswith("Alpaca's answer cannot be true: ")
    assert f"KO filled (order {placed.id}, " in str(caught.value)
    disputed = caught.value.order
    assert isinstance(disputed, BrokerOrder)
    assert disputed.client_order_id == "alch-t-odd"  # the figures as Alpaca sent them
    assert broker.get_order_by_client_id("alch-t-odd") == placed  # the true answer passes
    fake.log.clear()


MULTI_LEG = {  # an open multi-leg option order, as Alpaca's OpenAPI example shows one
    "id": "83f37e9f-6b1f-49ed-8fc6-3e6af716323f",
    "client_order_id": "646b1fe6-b212-4f54-94c6-429e7bcdee04",
    "asset_class": "",
    "symbol": "",
    "side": "",
    "order_class": "mleg",
    "qty": "1",
    "filled_qty": "0",
    "limit_price": "10",
    "status": "new",
    "submitted_at": "2026-11-24T14:59:00Z",
}


def test_option_and_multi_leg_orders_are_left_out(
    fake: FakeAlpaca, make_broker: BrokerMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FakeAlpaca._list_orders

    def with_options(self: FakeAlpaca, query: dict[str, str]) -> list[dict[str, Any]]:
        orders = real(self, query)
        if query.get("asset_class") != "us_equity":  # Alpaca lists every class unless asked
            orders.append(MULTI_LEG)
        return orders

    monkeypatch.setattr(FakeAlpaca, "_list_orders", with_options)
    broker = make_broker()
    broker.submit_order(OrderRequest("alch-t-eq", "KO", Side.BUY, Decimal("1"), Decimal("60")))
    assert [o.client_order_id for o in broker.open_orders()] == ["alch-t-eq"]
    assert [o.client_order_id for o in broker.orders_since(NOW - timedelta(hours=1))] == [
        "alch-t-eq"
    ]
    # Read, such an order would stop every run: alch cannot tell its side.
    with pytest.raises(BrokerError, match="unexpected order answer from Alpaca"):
        parse.parse_order(MULTI_LEG)


def test_the_broker_adapters_read_time_only_from_the_injected_clock() -> None:
    # X-RateLimit-Reset once was compared with datetime.now(): under a FixedClock (tests, the
    # simulator's ALCH_SIM_NOW) the wait came out wrong. Request timeouts are durations on
    # threading.Timer, which uses the monotonic clock without naming it.
    package = Path(alpaca.__file__).resolve().parent
    reads = re.compile(r"datetime\.now\(|datetime\.utcnow\(|time\.time\(|time\.monotonic\(")
    found = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert found == []
