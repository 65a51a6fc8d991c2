"""The fake Alpaca server's fault modes, and the adapter's waits and limits under them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from alchemiser_cli.clock import FixedClock
from tests.conftest import OPEN_NOW
from tests.fake_alpaca import FakeAlpaca, parse_fault
from tests.openapi_check import validate

NOW = datetime.fromisoformat(OPEN_NOW)


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
    assert 0.3 <= time.monotonic() - started < 2
    assert get(fake, "/v2/account").status_code == 200  # one request only


def test_trickle_sends_the_answer_one_byte_at_a_time(fake: FakeAlpaca) -> None:
    fake.fault("GET", "/v2/clock", "trickle", seconds=0.002)
    answer = get(fake, "/v2/clock", timeout=0.5)  # each byte well inside the read timeout
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
