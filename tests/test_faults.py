"""The fake Alpaca server's fault modes, and the adapter's waits and limits under them."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.brokers.alpaca.transport import AFTER_DEADLINE_S
from alchemiser_cli.brokers.resilience import RateLimiter, Waits, state_file
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.errors import BrokerUnavailable, WaitRefused
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, REPO, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca, parse_fault
from tests.openapi_check import validate

NOW = datetime.fromisoformat(OPEN_NOW)
THREE_FUND = REPO / "examples" / "targets" / "three-fund.toml"
# Few tries, short backoffs; a generous timeout (no test here waits on it: a loaded machine
# could answer a loopback request slower than a short one, and add a retry to the counts).
FAST = AlpacaPolicy(timeout_s=10, read_attempts=3, max_backoff_s=2, breaker_fail_max=4)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server
        for exchange in server.log:  # every answer still matches Alpaca's schemas
            validate(exchange.method, exchange.path, exchange.status, exchange.body)


def get(fake: FakeAlpaca, path: str, timeout: float = 5, **kw: Any) -> requests.Response:
    key, secret = fake.keys
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    return requests.get(fake.url + path, headers=headers, timeout=timeout, **kw)


def post_order(fake: FakeAlpaca, cid: str, timeout: float = 5) -> requests.Response:
    key, secret = fake.keys
    headers = {"APCA-API-KEY-ID": key, "APCA-API-SECRET-KEY": secret}
    body = {"symbol": "KO", "qty": "1", "side": "buy", "type": "limit",
            "time_in_force": "day", "limit_price": "71", "client_order_id": cid}  # fmt: skip
    return requests.post(fake.url + "/v2/orders", json=body, headers=headers, timeout=timeout)


def make_broker(fake: FakeAlpaca, tmp: Path, policy: AlpacaPolicy = FAST) -> AlpacaBroker:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]), api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url, api_data_url=fake.url,
    )  # fmt: skip
    return AlpacaBroker(creds, policy, FixedClock(NOW), tmp / "home" / "cache")


def count_requests(fake: FakeAlpaca) -> int:
    return len(fake.requests)


# -- the fake's fault modes ------------------------------------------------------------


def test_sliding_window_limit_answers_429_beyond_it_with_alpacas_headers(
    fake: FakeAlpaca,
) -> None:
    clock = FixedClock(NOW)
    fake.rate_limit(3, now=lambda: clock.now().timestamp())
    start = int(NOW.timestamp())
    answers = [get(fake, "/v2/account") for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    assert {a.headers["X-RateLimit-Reset"] for a in answers} == {str(start + 60)}
    refused = get(fake, "/v2/account")
    assert refused.status_code == 429
    assert refused.json() == {"code": 42910000, "message": "rate limit exceeded"}
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Reset"] == str(start + 60)
    clock.advance(59.9)  # a sliding window: still full
    assert get(fake, "/v2/account").status_code == 429
    clock.advance(0.1)
    assert get(fake, "/v2/account").status_code == 200
    assert fake.window is not None
    assert fake.window.refused == 2


def test_drop_after_processing_creates_the_order_then_closes(fake: FakeAlpaca) -> None:
    fake.fault("POST", "/v2/orders", "drop_after")
    with pytest.raises(requests.ConnectionError):
        post_order(fake, "dropped-1")
    assert fake.sim.submissions() == ["dropped-1"]


def test_hang_never_answers_until_the_client_gives_up(fake: FakeAlpaca) -> None:
    fake.fault("GET", "/v2/account", "hang")
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        get(fake, "/v2/account", timeout=0.3)
    assert 0.3 <= time.monotonic() - started < 30  # not its 600 s (generous: a loaded machine)
    assert get(fake, "/v2/account").status_code == 200  # one request only


def test_trickle_sends_the_answer_one_byte_at_a_time(fake: FakeAlpaca) -> None:
    fake.fault("GET", "/v2/clock", "trickle", seconds=0.002)
    answer = get(fake, "/v2/clock", timeout=30)  # each byte well inside the read timeout
    assert answer.json()["is_open"] is True
    assert answer.headers["Connection"] == "close"


def test_echo_puts_the_secret_key_in_the_error_message(fake: FakeAlpaca) -> None:
    fake.fault("GET", "/v2/positions", "echo", status=403)
    answer = get(fake, "/v2/positions")
    assert answer.status_code == 403
    assert answer.json() == {
        "code": 40300000,
        "message": f"internal error handling request with key {fake.keys[1]}",
    }


def test_closed_clock_on_a_trading_day(fake: FakeAlpaca) -> None:
    fake.fault("GET", "/v2/clock", "closed")
    closed = get(fake, "/v2/clock").json()
    assert (closed["is_open"], closed["next_close"]) == (False, "2026-11-24T21:00:00+00:00")
    assert get(fake, "/v2/clock").json()["is_open"] is True  # count=1: then the truth


def test_429_fault_carries_the_given_headers(fake: FakeAlpaca) -> None:
    fake.fault("POST", "/v2/orders", "status", status=429, headers={"Retry-After": "100"})
    answer = post_order(fake, "limited-1")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "100")
    assert answer.json()["message"] == "rate limit exceeded"
    assert fake.sim.submissions() == []


def test_unknown_fault_kind_is_refused(fake: FakeAlpaca) -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'slow'"):
        fake.fault("GET", "/v2/clock", "slow")


def test_fault_flags_parse() -> None:
    assert parse_fault("post /v2/orders status status=429 count=2 Retry-After=100") == (
        "POST",
        "/v2/orders",
        "status",
        {"status": 429, "count": 2, "headers": {"Retry-After": "100"}},
    )
    assert parse_fault("GET /v2/ trickle seconds=0.5") == (
        "GET",
        "/v2/",
        "trickle",
        {"seconds": 0.5},
    )
    with pytest.raises(ValueError, match="needs METHOD PATH KIND"):
        parse_fault("GET /v2/")


# -- the shared sliding-window limiter ---------------------------------------------------


def max_in_window(stamps: list[float], window_s: float = 60.0) -> int:
    """The most requests any sliding window of `window_s` seconds holds."""
    stamps = sorted(stamps)
    best, first = 0, 0
    for last, stamp in enumerate(stamps):
        while stamps[first] <= stamp - window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def limiter(clock: FixedClock, state: Path | None, per_minute: int = 200) -> RateLimiter:
    return RateLimiter(per_minute, Waits(clock, cap_s=65), state)


def test_400_acquisitions_never_put_more_than_200_in_any_minute(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    limit = limiter(clock, tmp_path / "limit.sqlite")
    stamps = []
    for _ in range(400):
        limit.acquire()
        stamps.append(clock.now().timestamp())
        clock.advance(0.01)  # as fast as requests go
    assert max_in_window(stamps) == 200
    assert stamps[200] - stamps[0] >= 61  # the 201st waited for the first to leave the window
    assert max(clock.slept) <= 61.001


def test_two_limiters_on_one_state_file_share_the_budget(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    state = state_file(tmp_path / "ratelimit", "PKSOMEKEY")
    assert state.name == "a2349267edc1d0dc.sqlite"  # a hash: never the key itself
    first, second = limiter(clock, state), limiter(clock, state)
    for _ in range(150):
        first.acquire()
    for _ in range(50):
        second.acquire()
    assert clock.slept == []
    second.acquire()  # the 201st request of the minute, from the other process
    assert clock.slept == [pytest.approx(61.001)]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    first.hold(clock.now().timestamp() + 5, "Alpaca's X-RateLimit-Reset")
    second.acquire()  # the hold one instance learnt stops the other too
    assert clock.slept[-1] == pytest.approx(5)


def test_an_unwritable_state_dir_limits_this_process_only(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    clock = FixedClock(NOW)
    limit = limiter(clock, blocker / "limit.sqlite", per_minute=2)
    for _ in range(3):
        limit.acquire()
    assert clock.slept == [pytest.approx(61.001)]


def test_remaining_zero_holds_until_reset_and_no_429(fake: FakeAlpaca, tmp_path: Path) -> None:
    broker = make_broker(fake, tmp_path)
    clock = broker._clock
    assert isinstance(clock, FixedClock)
    window = fake.rate_limit(3, now=lambda: clock.now().timestamp())  # someone else's budget
    for _ in range(3):
        broker.account()
    assert clock.slept == []
    broker.account()  # the last answer said Remaining 0, Reset in 60 s: wait, don't get a 429
    assert window.refused == 0
    assert clock.slept == [pytest.approx(60)]


def test_a_reset_beyond_one_window_holds_one_window_at_most(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    limit = limiter(clock, tmp_path / "limit.sqlite")
    far = str(int(NOW.timestamp()) + 3600)  # a server clock an hour ahead
    limit.observe(200, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": far})
    limit.observe(200, {"X-RateLimit-Remaining": "5", "X-RateLimit-Reset": far})  # no change
    limit.acquire()
    assert clock.slept == [61.0]


def test_alpaca_limit_is_kept_through_the_broker(fake: FakeAlpaca, tmp_path: Path) -> None:
    broker = make_broker(fake, tmp_path)
    clock = broker._clock
    assert isinstance(clock, FixedClock)
    window = fake.rate_limit(200, now=lambda: clock.now().timestamp())
    for _ in range(260):
        broker.account()
        clock.advance(0.05)
    assert window.refused == 0
    assert count_requests(fake) == 260


# -- waits: capped, and never past the run deadline -------------------------------------


def test_a_wait_past_the_deadline_fails_at_once_naming_both() -> None:
    clock = FixedClock(NOW)
    waits = Waits(clock, cap_s=300, deadline=Deadline.after(NOW, 20))
    with pytest.raises(WaitRefused) as caught:
        waits.wait(100, "Alpaca's Retry-After")
    assert str(caught.value) == (
        "not waiting 100 s for Alpaca's Retry-After: the run deadline (15:00:20 UTC) is 20 s "
        "away; nothing more is sent (run again later, or give a longer --deadline)"
    )
    with pytest.raises(WaitRefused, match=r"^not waiting 301 s for backoff: longer than "):
        waits.wait(301, "backoff")
    assert clock.slept == []
    waits.wait(19.5, "backoff")
    assert clock.slept == [19.5]


def test_a_retry_backoff_past_the_deadline_is_refused(fake: FakeAlpaca, tmp_path: Path) -> None:
    fake.fault("GET", "/v2/account", "status", status=503, count=3)
    broker = make_broker(fake, tmp_path)
    broker.set_deadline(Deadline.after(NOW, 1))
    with pytest.raises(WaitRefused, match=r"retry backoff \(after: Alpaca unavailable \(503\)\)"):
        broker.account()
    clock = broker._clock
    assert isinstance(clock, FixedClock)
    assert len(clock.slept) == 1  # the first backoff (about 0.5 s) fitted; the second not
    assert count_requests(fake) == 2


def test_a_trickling_server_cannot_hold_a_request_past_its_timeout(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    fake.fault("GET", "/v2/account", "trickle", seconds=0.05)  # ~1 kB: 50 s in all
    broker = make_broker(fake, tmp_path, AlpacaPolicy(timeout_s=1, read_attempts=1))
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=r"^Alpaca timed out$"):
        broker.account()
    assert 0.9 <= time.monotonic() - started < 20  # not the trickle's 50 s (generous: load)
    assert broker.account().cash == Decimal(12000)  # the next request is not disturbed
    fake.log.clear()


def test_cli_429_retry_after_100_with_a_20s_deadline_stops_at_once(
    fake: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_alpaca(fake, monkeypatch)
    monkeypatch.setenv("ALCH_ALPACA__MAX_WAIT_S", "300")  # the deadline, not the cap, refuses
    fake.fault("POST", "/v2/orders", "status", status=429, count=100,
               headers={"Retry-After": "100"})  # fmt: skip
    started = time.monotonic()
    run = cli("execute", "--yes", "--json", "--deadline", "20s", "--targets", str(THREE_FUND))
    assert time.monotonic() - started < 15  # no 100 s wait, nor 20 s
    # Refused (429) and never accepted: nothing reached the broker, the run failed (exit 3).
    assert run.exit_code == 3, run.stderr
    assert fake.sim.orders() == []  # no order, before or after the deadline
    assert sum(1 for m, p, _ in fake.requests if (m, p) == ("POST", "/v2/orders")) == 1
    assert run.json()["outcome"] == "failed"
    assert re.match(
        r"stopped after a broker error; nothing reached the broker: order "
        r"alch-\w+-001-01-01 \(sell AAPL\) not sent: "
        r"not waiting (100|99\.\d) s for Alpaca's Retry-After: "
        r"the run deadline \(\d\d:\d\d:\d\d UTC\) is (20|1\d(\.\d)?) s away; ",
        run.json()["message"],
    )
    assert (
        "nothing more is sent (run again later, or give a longer --deadline)"
        in (run.json()["message"])
    )


# -- must-show 3: a 300-position account under Alpaca's 200 requests a minute -----------


def three_hundred_positions(tmp: Path) -> tuple[Path, Path]:
    """A seed with 300 positions, half over and half under an equal-weight target."""
    symbols = [f"S{i:03d}" for i in range(1, 301)]
    seed = ['account_id = "SIM-300"', 'type = "cash"', 'cash = "1000.00"', "", "[positions]"]
    seed += [f'{s} = "{12 if i % 2 else 8}"' for i, s in enumerate(symbols)]
    for s in symbols:
        seed += [f"[quotes.{s}]", 'bid = "100.00"', 'ask = "100.02"']
    targets = ["[targets]"] + [f'{s} = "0.33%"' for s in symbols]
    (tmp / "seed.toml").write_text("\n".join(seed) + "\n", encoding="utf-8")
    (tmp / "targets.toml").write_text("\n".join(targets) + "\n", encoding="utf-8")
    return tmp / "seed.toml", tmp / "targets.toml"


@pytest.mark.slow
def test_300_positions_plan_and_execute_under_200_requests_a_minute(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed, targets = three_hundred_positions(tmp_path)
    with FakeAlpaca(tmp_path / "fake", NOW, seed=seed) as fake:
        window = fake.rate_limit(200)  # real time, as Alpaca's
        use_fake_alpaca(fake, monkeypatch)
        monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", "300")  # default 200 a run
        started = time.monotonic()
        plan = cli("plan", "--json", "--targets", str(targets))
        planned = time.monotonic()
        assert plan.exit_code == 0, plan.stderr
        assert len(plan.json()["orders"]) == 300
        plan_requests = len(fake.requests)
        run = cli("execute", "--yes", "--json", "--targets", str(targets))
        done = time.monotonic()
        assert run.exit_code == 0, run.stderr
        assert run.json()["outcome"] == "completed"
        assert len(fake.sim.orders()) == 300
        assert window.refused == 0  # no 429, ever
        assert max_in_window(window.history) <= 200
        executed = len(fake.requests) - plan_requests
        allowed_s = executed * 60 / 200  # what 200 requests a minute allow for them
        print(
            f"\n300 positions: plan {planned - started:.0f} s / {plan_requests} requests, "
            f"execute {done - planned:.0f} s / {executed} requests "
            f"(200/min allows {allowed_s:.0f} s: ratio {(done - planned) / allowed_s:.2f})"
        )
        # Issue 16, target 3: a cold plan 5 + N/200 requests (see tests/test_requests.py),
        # execute at most 1.1 N + 10, and within 15% of the time the rate limit allows.
        assert plan_requests <= 5 + math.ceil(300 / 200)
        assert executed <= 1.1 * 300 + 10
        assert done - planned <= 1.15 * allowed_s


def test_cli_the_deadline_counts_from_the_start_so_planning_waits_are_inside_it(
    fake: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Retry-After while reading the account (before any plan) is refused when it would
    end after the deadline: the deadline starts with the command, not after the checks."""
    use_fake_alpaca(fake, monkeypatch)
    fake.fault("GET", "/v2/account", "status", status=429, count=1,
               headers={"Retry-After": "30"})  # fmt: skip
    started = time.monotonic()
    run = cli("execute", "--yes", "--deadline", "20s", "--targets", str(THREE_FUND))
    assert time.monotonic() - started < 15  # refused at once: no 30 s wait, nor 20 s
    assert run.exit_code == 3, run.stderr
    assert re.fullmatch(
        r"alch: error: not waiting 3\d(\.\d)? s for Alpaca's Retry-After \(after: Alpaca rate "
        r"limit \(429\)\): the run deadline \(\d\d:\d\d:\d\d UTC\) is (20|1\d(\.\d)?) s away; "
        r"nothing more is sent \(run again later, or give a longer --deadline\)\n",
        run.stderr,
    )
    assert fake.sim.orders() == []


def test_cli_a_hanging_broker_cannot_hold_the_run_past_its_deadline(
    fake: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests are cut at the run deadline (timeout_s is 60 s here): a submit that never
    answers ends the run soon after a 4 s deadline, not after 60 s or more. (The deadline
    leaves a loaded machine ample time to reach the submit; the bound on the whole run is
    generous and still far below the 60 s an uncut request would take.)"""
    use_fake_alpaca(fake, monkeypatch, timeout_s="60")
    fake.fault("POST", "/v2/orders", "hang", count=5)
    started = time.monotonic()
    run = cli("execute", "--yes", "--json", "--deadline", "4s", "--targets", str(THREE_FUND))
    elapsed = time.monotonic() - started
    assert run.exit_code == 4, run.stderr
    assert run.json()["orders"][0]["status"] == "unconfirmed"
    assert sum(1 for m, p, _ in fake.requests if (m, p) == ("POST", "/v2/orders")) == 1
    assert elapsed >= 4  # the hanging submit held the run until the deadline cut it
    assert elapsed < 4 + AFTER_DEADLINE_S + 20  # the look-ups after it answer at once here
    assert fake.sim.orders() == []


# -- the fake's views (issue 21): lagging positions, fill factors, crypto -----------------


def test_lagging_positions_show_the_account_before_a_fill_for_n_reads(fake: FakeAlpaca) -> None:
    lag = fake.lag_positions(reads=2)
    before = get(fake, "/v2/positions").json()  # the view the lag will keep
    assert post_order(fake, "lag-1").json()["status"] == "filled"  # KO bought at once
    assert get(fake, "/v2/positions").json() == before  # read 1 of 2: still before the fill
    assert get(fake, "/v2/account").json()["cash"] == "12000"  # read 2 of 2
    after = get(fake, "/v2/positions").json()
    assert {p["symbol"] for p in after} - {p["symbol"] for p in before} == {"KO"}
    assert lag.served == 2
    lag.lagging = frozenset({"account"})  # only the account lags now
    cash = get(fake, "/v2/account").json()["cash"]
    post_order(fake, "lag-2")
    held = {p["symbol"]: p["qty"] for p in get(fake, "/v2/positions").json()}
    assert held["KO"] == "2"  # the positions show the second fill
    assert get(fake, "/v2/account").json()["cash"] == cash  # the account does not yet


def test_a_fill_factor_fills_k_times_the_buy_and_answers_the_quantity_asked(
    fake: FakeAlpaca,
) -> None:
    fake.fill_factor(Decimal(2))
    answer = post_order(fake, "twice-1").json()
    assert (answer["qty"], answer["filled_qty"], answer["status"]) == ("1", "2", "filled")
    held = {p["symbol"]: p["qty"] for p in get(fake, "/v2/positions").json()}
    assert held["KO"] == "2"


def test_crypto_positions_are_listed_as_alpaca_lists_them(fake: FakeAlpaca) -> None:
    fake.hold_crypto("BTCUSD", Decimal("0.5"), Decimal(60000))
    fake.hold_crypto("ETH/USD", Decimal(2), Decimal(3000))
    listed = {p["symbol"]: p for p in get(fake, "/v2/positions").json()}
    assert {s: (p["asset_class"], p["market_value"]) for s, p in listed.items()
            if p["asset_class"] != "us_equity"} == {
        "BTCUSD": ("crypto", "30000"), "ETH/USD": ("crypto", "6000")}  # fmt: skip
    equity = Decimal(get(fake, "/v2/account").json()["equity"])
    assert equity - Decimal(get(fake, "/v2/account").json()["cash"]) > Decimal(36000)
