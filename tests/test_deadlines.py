"""Hard deadlines (issue 21): every request is cut at its total time limit whatever the
server does (a body trickled after `Connection: close`, an HTTP/1.0 answer that ends
only when the connection closes, a trickle from the first byte, a hang), by the caller
no longer waiting rather than by a socket that may already be detached; an order submit
cut this way is looked up and journaled `unconfirmed`, never sent twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.errors import BrokerUnavailable
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, REPO, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca

NOW = datetime.fromisoformat(OPEN_NOW)
THREE_FUND = str(REPO / "examples" / "targets" / "three-fund.toml")
ONE_TRY = AlpacaPolicy(timeout_s=1, read_attempts=1)
CUTS = ("trickle_body", "http10", "trickle", "hang")


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server


def make_broker(fake: FakeAlpaca, tmp: Path, policy: AlpacaPolicy = ONE_TRY) -> AlpacaBroker:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]), api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url, api_data_url=fake.url,
    )  # fmt: skip
    return AlpacaBroker(creds, policy, FixedClock(NOW), tmp / "home" / "cache")


def posts(fake: FakeAlpaca) -> int:
    return sum(1 for m, p, _ in fake.requests if (m, p) == ("POST", "/v2/orders"))


@pytest.mark.parametrize("kind", CUTS)
def test_a_read_is_cut_at_its_total_timeout_whatever_the_server_does(
    fake: FakeAlpaca, tmp_path: Path, kind: str
) -> None:
    # ~1 kB at 20 ms a byte: 20 s for the whole account answer without a hard cut.
    fake.fault("GET", "/v2/account", kind, seconds=0.02 if kind != "hang" else 60)
    broker = make_broker(fake, tmp_path)
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=r"^Alpaca timed out$"):
        broker.account()
    assert 0.9 <= time.monotonic() - started < 1.8
    assert broker.account().cash == Decimal(12000)  # the next request is not disturbed


def test_the_fakes_closing_trickle_and_http10_answers_are_whole_when_waited_for(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    fake.fault("GET", "/v2/clock", "trickle_body", seconds=0.001)
    fake.fault("GET", "/v2/account", "http10", seconds=0.001)
    broker = make_broker(fake, tmp_path, AlpacaPolicy(timeout_s=20, read_attempts=1))
    assert broker.clock_is_open() is True
    assert broker.account().cash == Decimal(12000)


def test_a_submit_cut_at_its_timeout_is_looked_up_and_never_sent_twice(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    """The order reached the fake; its answer trickles after `Connection: close`: the
    submit is cut at 1 s, looked up by its client_order_id (found), not sent again."""
    fake.fault("POST", "/v2/orders", "trickle_body", seconds=0.05, count=3)
    broker = make_broker(fake, tmp_path, AlpacaPolicy(timeout_s=1, read_attempts=2))
    from alchemiser_cli.core.models import OrderRequest, Side

    request = OrderRequest("alch-cut-001-01-01", "KO", Side.BUY, Decimal(1), Decimal(71))
    started = time.monotonic()
    placed = broker.submit_order(request)
    assert time.monotonic() - started < 2
    assert placed.client_order_id == "alch-cut-001-01-01"
    assert posts(fake) == 1
    assert fake.sim.submissions() == ["alch-cut-001-01-01"]


@pytest.mark.parametrize("kind", ["trickle_body", "http10"])
def test_cli_execute_under_a_closing_trickle_ends_within_its_deadline_and_never_doubles(
    fake: FakeAlpaca, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Every submit and every look-up trickles (the issue's case: one request 129 s and the
    run 132 s under --deadline 30s): the run ends by its deadline plus a few seconds, the
    first leg is `unconfirmed` (it may be at the broker), and nothing is sent twice."""
    use_fake_alpaca(fake, monkeypatch)
    fake.fault("POST", "/v2/orders", kind, seconds=0.05, count=50)
    fake.fault("GET", "/v2/orders:by_client_order_id", kind, seconds=0.05, count=50)
    started = time.monotonic()
    run = cli("execute", "--yes", "--json", "--deadline", "4s", "--targets", THREE_FUND)
    elapsed = time.monotonic() - started
    assert elapsed < 4 + 5, elapsed
    assert run.exit_code == 4, run.stderr
    first = run.json()["orders"][0]
    assert first["status"] == "unconfirmed"
    assert posts(fake) == 1
    assert len(fake.sim.submissions()) == 1  # the one order that reached the fake
