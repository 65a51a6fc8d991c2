"""The rate limit per key, not per ALCH_HOME (issue 21): its state lives where every home
of the same user finds it (the user state directory, keyed by a hash of the key id), and
the trade_updates stream's (re)connections count against it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from alchemiser_cli.brokers.alpaca.stream import AlpacaUpdates
from alchemiser_cli.brokers.resilience import state_file
from tests.conftest import EXAMPLES, OPEN_NOW, FileMaker, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.test_stream import SEED, broker_for, until

NOW = datetime.fromisoformat(OPEN_NOW)
CliFn = Callable[..., Run]
TARGETS = str(EXAMPLES / "targets" / "three-fund.toml")


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        use_fake_alpaca(server, monkeypatch)
        monkeypatch.setenv("ALCH_ALPACA__STREAM", "false")
        yield server


def test_two_homes_on_one_key_share_one_budget(
    fake: FakeAlpaca, cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_HOME", str(tmp_path / "laptop"))
    assert cli("plan", "--targets", TARGETS).exit_code == 0
    used = len(fake.requests)
    # A budget the laptop's plan just fits: the server's plan, a moment later on the same
    # key, must wait for the minute to pass (here: longer than it may wait, so it says so).
    monkeypatch.setenv("ALCH_ALPACA__RATE_LIMIT_PER_MIN", str(used + 1))
    monkeypatch.setenv("ALCH_ALPACA__MAX_WAIT_S", "1")
    monkeypatch.setenv("ALCH_HOME", str(tmp_path / "server"))
    run = cli("plan", "--targets", TARGETS)
    assert run.exit_code == 3, run.stderr
    assert "for the client-side rate limit" in run.stderr, run.stderr
    shared = Path(str(tmp_path / "shared-state")) / "ratelimit"
    assert state_file(shared, fake.keys[0]).is_file()
    assert not (tmp_path / "laptop" / "ratelimit").exists()


def test_every_stream_connection_is_taken_from_the_keys_budget(
    tmp_path: Path, make_file: FileMaker
) -> None:
    with FakeAlpaca(tmp_path / "fake", NOW, seed=make_file("seed.toml", SEED)) as fake:
        broker = broker_for(fake, tmp_path)
        updates = broker.updates()
        assert updates is not None
        try:
            until(lambda: updates.live, "the stream connects")
            fake.stream.drop()  # twice dropped: two reconnections
            until(lambda: fake.stream.connections == 2, "it reconnects")
            fake.stream.drop()
            until(lambda: fake.stream.connections == 3, "it reconnects again")
        finally:
            updates.close()
        assert fake.stream.connections == 3
        assert isinstance(updates, AlpacaUpdates)
        assert updates.connects >= 3
        assert broker._limiter.taken == len(fake.requests) + updates.connects
