"""Issue 13, after a hostile re-test (item 11): messages a person can read, no Python
internals, the right exit code for the broker's bad data, and no silent long waits."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.brokers.resilience import Waits
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.checks.plan import check_plan_age
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import Run
from tests.fake_alpaca import FakeAlpaca
from tests.test_checks import NOW, ctx, world

CliFn = Callable[..., Run]


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server


def test_an_account_answer_missing_a_field_names_the_field(
    fake: FakeAlpaca, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = FakeAlpaca._account

    def no_ids(self: FakeAlpaca) -> dict[str, object]:
        doc = account(self)
        del doc["id"], doc["account_number"]
        return doc

    monkeypatch.setattr(FakeAlpaca, "_account", no_ids)
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]),
        api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url,
        api_data_url=fake.url,
    )
    broker = AlpacaBroker(creds, AlpacaPolicy(), FixedClock(NOW), tmp_path / "cache")
    with pytest.raises(BrokerError) as info:
        broker.account()
    assert str(info.value) == (
        "unexpected account answer from Alpaca: no id field; try again, and check "
        "APCA_API_BASE_URL points at Alpaca"
    )


def test_a_plan_dated_decades_ahead_says_days_not_seconds() -> None:
    plan, snap = world()
    ahead = check_plan_age(plan, snap, ctx(saved_plan=True, now=NOW - timedelta(days=30)))
    assert ahead is not None
    assert ahead.message.endswith(", 30 days in the future (more than 60 s of clock skew)")


def test_a_wait_longer_than_a_second_is_logged_before_it(caplog: pytest.LogCaptureFixture) -> None:
    clock = FixedClock(NOW)
    waits = Waits(clock, cap_s=65)
    with caplog.at_level(logging.INFO, logger="alchemiser_cli.brokers.resilience"):
        waits.wait(0.5, "a short pause")
        waits.wait(42, "Alpaca's Retry-After")
    assert [r.getMessage() for r in caplog.records] == ["waiting 42 s for Alpaca's Retry-After"]
    assert clock.slept == [0.5, 42]


def test_verbose_turnover_is_a_percentage(cli: CliFn) -> None:
    result = cli("-v", "plan")
    assert result.exit_code == 0
    assert "4 orders, turnover 58.24%\n" in result.stderr
