"""Broker-asked waits held with a cap, and answers that cannot be used (issue 21): one
`Retry-After: 86400` does not block the account for a day, an empty quotes answer is the
broker's failure (exit 3), and an order look-up answered with garbage is asked again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.models import OrderRequest, Side
from alchemiser_cli.errors import BrokerUnavailable, WaitRefused
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, REPO, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca

NOW = datetime.fromisoformat(OPEN_NOW)
THREE_FUND = str(REPO / "examples" / "targets" / "three-fund.toml")
POLICY = AlpacaPolicy(timeout_s=2, read_attempts=3, max_backoff_s=1)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server


def broker_at(
    fake: FakeAlpaca, tmp: Path, at: datetime, policy: AlpacaPolicy = POLICY
) -> AlpacaBroker:
    """A process at `at` (its own clock), on the same ALCH_HOME as every other here."""
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]), api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url, api_data_url=fake.url,
    )  # fmt: skip
    return AlpacaBroker(creds, policy, FixedClock(at), tmp / "home" / "cache")


def test_a_day_long_retry_after_is_held_a_few_minutes_then_the_broker_is_asked_again(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    fake.fault("GET", "/v2/account", "status", status=429, headers={"Retry-After": "86400"})
    first = broker_at(fake, tmp_path, NOW)
    with pytest.raises(WaitRefused, match=r"^not waiting 86400(\.\d)? s for Alpaca's Retry-After"):
        first.account()
    assert POLICY.max_hold_s == 120  # the default: a few minutes
    soon = broker_at(fake, tmp_path, NOW + timedelta(seconds=30))
    with pytest.raises(WaitRefused, match=r"^not waiting 90 s for Alpaca's Retry-After"):
        soon.account()  # the hold is shared, but capped: 90 s left of 120, not a day
    later = broker_at(fake, tmp_path, NOW + timedelta(seconds=121))
    assert later.account().cash == Decimal(12000)  # asked the broker again: it is fine
    clock = later._clock
    assert isinstance(clock, FixedClock)
    assert clock.slept == []


def test_the_hold_cap_is_a_setting(fake: FakeAlpaca, tmp_path: Path) -> None:
    fake.fault("GET", "/v2/account", "status", status=429, headers={"Retry-After": "3600"})
    policy = AlpacaPolicy(timeout_s=2, read_attempts=1, max_hold_s=10)
    with pytest.raises(BrokerUnavailable, match=r"^Alpaca rate limit \(429\)$"):
        broker_at(fake, tmp_path, NOW, policy).account()
    waiting = broker_at(fake, tmp_path, NOW + timedelta(seconds=4), policy)
    assert waiting.account().cash == Decimal(12000)
    clock = waiting._clock
    assert isinstance(clock, FixedClock)
    assert clock.slept == [pytest.approx(6)]  # the rest of the 10 s hold, then asked again


def test_cli_an_empty_quotes_answer_is_a_broker_error_exit_3(
    fake: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_fake_alpaca(fake, monkeypatch)
    fake.fault("GET", "/v2/stocks/quotes/latest", "status", status=200, body={}, count=20)
    run = cli("plan", "--targets", THREE_FUND)
    assert run.exit_code == 3, run.stderr
    assert run.stderr.startswith("alch: error: unexpected quotes answer from Alpaca"), run.stderr


def test_a_garbled_order_look_up_is_asked_again_within_the_deadline(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    broker = broker_at(fake, tmp_path, NOW)
    request = OrderRequest("alch-garble-001-01-01", "KO", Side.BUY, Decimal(1), Decimal(71))
    broker.submit_order(request)
    fake.fault("GET", "/v2/orders:by_client_order_id", "garbage", count=2)
    found = broker.get_order_by_client_id("alch-garble-001-01-01")
    assert found is not None
    assert found.client_order_id == "alch-garble-001-01-01"
    looks = [p for m, p, _ in fake.requests if p == "/v2/orders:by_client_order_id"]
    assert len(looks) == 3
    fake.fault("GET", "/v2/orders:by_client_order_id", "garbage", count=5)
    broker.set_deadline(Deadline.after(NOW, 0.2))  # no time for a retry's backoff
    with pytest.raises(WaitRefused, match=r"unreadable answer from Alpaca"):
        broker.get_order_by_client_id("alch-garble-001-01-01")
