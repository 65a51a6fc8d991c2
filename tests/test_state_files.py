"""State files: private whatever the umask, symlinks refused, bad caches and locks handled."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.brokers.resilience import state_file
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.errors import ConfigError
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import AlpacaCredentials, AlpacaPolicy
from tests.conftest import OPEN_NOW, Run
from tests.fake_alpaca import FakeAlpaca

CliFn = Callable[..., Run]
NOW = datetime.fromisoformat(OPEN_NOW)
LOCK = "locks/sim-SIM-DEMO-0001.lock"


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask: alch's own modes must not depend on it."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_state_is_private_whatever_the_umask(
    cli: CliFn, isolated_state: Path, open_umask: None
) -> None:
    run = cli("execute", "--yes")
    assert run.exit_code == 0, run.stderr
    assert cli("status").exit_code == 0
    files = [p for p in isolated_state.rglob("*") if p.is_file()]
    dirs = [isolated_state, *(p for p in isolated_state.rglob("*") if p.is_dir())]
    names = {p.relative_to(isolated_state).as_posix() for p in files}
    assert {"journal.sqlite", "sim.sqlite", "logs/alch.log", LOCK} <= names
    assert {p.relative_to(isolated_state).as_posix(): mode(p) for p in files} == dict.fromkeys(
        names, 0o600
    )
    assert {str(d): mode(d) for d in dirs} == {str(d): 0o700 for d in dirs}


def test_journal_wal_and_shm_are_private_whatever_the_umask(
    tmp_path: Path, open_umask: None
) -> None:
    journal = Journal(tmp_path / "state" / "journal.sqlite")
    journal.start_run("r1", "execute", "sim", "A1", None, None, NOW)
    made = sorted(p.name for p in (tmp_path / "state").iterdir())
    assert made == ["journal.sqlite", "journal.sqlite-shm", "journal.sqlite-wal"]
    assert {n: mode(tmp_path / "state" / n) for n in made} == dict.fromkeys(made, 0o600)
    assert mode(tmp_path / "state") == 0o700
    journal.close()


def test_an_existing_world_readable_journal_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    path.chmod(0o644)  # as an older alch left it
    Journal(path).close()
    assert mode(path) == 0o600


def test_a_shared_alch_home_is_warned_about_once(cli: CliFn, isolated_state: Path) -> None:
    isolated_state.mkdir()
    isolated_state.chmod(0o777)
    first = cli("plan")
    assert first.exit_code == 0
    warning = (
        f"alch: WARNING: {isolated_state} (ALCH_HOME) is writable by others (mode 777): they "
        f"could tamper with the journal; run `chmod 700 {isolated_state}`"
    )
    assert first.stderr.splitlines().count(warning) == 1
    assert warning not in cli("plan").stderr  # once


def test_a_private_alch_home_gets_no_warning(cli: CliFn) -> None:
    assert "writable by others" not in cli("plan").stderr


def test_a_symlinked_log_file_is_refused_and_its_target_untouched(
    cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (isolated_state / "logs").mkdir(parents=True)
    (isolated_state / "logs" / "alch.log").symlink_to(victim)
    result = cli("plan")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"alch: error: {isolated_state}/logs/alch.log: is a symbolic link; alch does not "
        "follow links in its state directory (ALCH_HOME): remove it and run again"
    )
    assert victim.read_text() == "precious\n"


def test_a_symlinked_log_directory_is_refused(
    cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    isolated_state.mkdir()
    (isolated_state / "logs").symlink_to(elsewhere)
    result = cli("plan")
    assert result.exit_code == 2
    assert "logs: is a symbolic link" in result.stderr
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_journal_is_refused(cli: CliFn, isolated_state: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.db"
    victim.write_bytes(b"not yours")
    isolated_state.mkdir()
    (isolated_state / "journal.sqlite").symlink_to(victim)
    result = cli("plan")
    assert result.exit_code == 70
    assert result.stderr.splitlines()[-1] == (
        f"alch: error: {isolated_state}/journal.sqlite: is a symbolic link; alch does not "
        "follow links in its state directory (ALCH_HOME): remove it and run again"
    )
    assert victim.read_bytes() == b"not yours"


def test_a_directory_where_the_lock_file_belongs_is_one_line_exit_2(
    cli: CliFn, isolated_state: Path, sim: SimBroker
) -> None:
    (isolated_state / LOCK).mkdir(parents=True)
    for args in (("execute", "--yes"), ("status",)):
        result = cli(*args)
        assert (result.exit_code, result.stderr.splitlines()[-1]) == (
            2,
            f"alch: error: {isolated_state / LOCK}: is a directory where alch keeps its "
            "account lock: remove it",
        ), args
    assert sim.submissions() == []  # nothing sent


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(
    cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (isolated_state / "locks").mkdir(parents=True)
    (isolated_state / LOCK).symlink_to(victim)
    result = cli("execute", "--yes")
    assert result.exit_code == 2
    assert "is a symbolic link" in result.stderr.splitlines()[-1]
    assert victim.read_text() == "precious\n"


# -- the Alpaca asset cache ----------------------------------------------------------------


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeAlpaca]:
    with FakeAlpaca(tmp_path / "fake", NOW) as server:
        yield server


def broker(fake: FakeAlpaca, cache: Path) -> AlpacaBroker:
    creds = AlpacaCredentials(
        api_key_id=SecretStr(fake.keys[0]),
        api_secret_key=SecretStr(fake.keys[1]),
        api_base_url=fake.url,
        api_data_url=fake.url,
    )
    return AlpacaBroker(creds, AlpacaPolicy(), FixedClock(NOW), cache)


def asset_gets(fake: FakeAlpaca) -> int:
    """Asset requests: the listing, or a look-up of VTI alone."""
    return sum(
        1 for m, p, _ in fake.requests if m == "GET" and p in ("/v2/assets", "/v2/assets/VTI")
    )


def test_planted_symlinks_in_the_cache_are_never_followed(
    fake: FakeAlpaca, tmp_path: Path, open_umask: None
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    victims = {name: tmp_path / f"victim-{name}" for name in ("cache", "tmp")}
    for victim in victims.values():
        victim.write_text("precious\n")
    (cache / "alpaca-assets-paper.json").symlink_to(victims["cache"])
    (cache / "alpaca-assets-paper.tmp").symlink_to(victims["tmp"])  # the old temporary name
    assets = broker(fake, cache).assets(["VTI"])
    assert assets["VTI"].tradable is True
    assert {n: v.read_text() for n, v in victims.items()} == dict.fromkeys(victims, "precious\n")
    written = cache / "alpaca-assets-paper.json"
    assert not written.is_symlink()
    listing = json.loads(written.read_text())["listing"]["assets"]
    assert listing["VTI"]["fractionable"] is True
    assert mode(written) == 0o600
    assert sorted(p.name for p in cache.iterdir()) == [  # no temporary file left behind
        "alpaca-assets-paper.json",
        "alpaca-assets-paper.tmp",
    ]


VTI = {"tradable": True, "fractionable": True, "status": "active"}


def layout(listing: Any, at: str = "2026-11-24T14:00:00+00:00", version: Any = 2) -> str:
    return json.dumps({"version": version, "listing": {"at": at, "assets": listing}})


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '["a list"]',
        '{"VTI": {"at": "2026-11-24T14:00:00+00:00", "asset": '  # the layout before issue 16
        '{"tradable": false, "fractionable": true, "status": "active"}}}',
        layout({"VTI": VTI | {"tradable": False}}, version=1),
        layout({"VTI": "junk"}),
        layout("junk"),
        layout({"VTI": VTI | {"tradable": False}}, at="yesterday"),
        layout({"VTI": VTI | {"tradable": False}}, at="2026-11-24T14:00:00"),  # a naive time
        layout({"VTI": VTI | {"tradable": "yes"}}),  # a field of the wrong type
        layout({"VTI": VTI | {"exchange": 7}}),
        layout({"VTI": VTI | {"tradable": False}}, at="2026-11-25T14:00:00+00:00"),  # future
        layout({"VTI": VTI | {"tradable": False}}, at="2026-11-21T15:00:00+00:00"),  # 3 days
    ],
)
def test_a_cache_that_fails_validation_is_ignored_and_fetched_again(
    fake: FakeAlpaca, tmp_path: Path, content: str
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "alpaca-assets-paper.json").write_text(content)
    assets = broker(fake, cache).assets(["VTI"])
    assert (assets["VTI"].tradable, assets["VTI"].fractionable) == (True, True)
    assert asset_gets(fake) == 1
    assert broker(fake, cache).assets(["VTI"])["VTI"].tradable is True  # now cached, valid
    assert asset_gets(fake) == 1


def test_a_valid_cache_is_still_used(fake: FakeAlpaca, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    entry = VTI | {"tradable": False, "fractionable": False}
    # Two days and 23 hours old: still within the listing's three days.
    content = layout({"VTI": entry}, at="2026-11-21T16:00:00+00:00")
    (cache / "alpaca-assets-paper.json").write_text(content)
    assert broker(fake, cache).assets(["VTI"])["VTI"].tradable is False  # from the cache
    assert asset_gets(fake) == 0


# -- the shared rate-limit state (attack item 4) -------------------------------------------

LINK_REFUSED = (
    "is a symbolic link; alch does not follow links in its state directory (ALCH_HOME): "
    "remove it and run again"
)


def test_a_symlinked_ratelimit_directory_is_refused_and_nothing_lands_there(
    fake: FakeAlpaca, tmp_path: Path
) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / "ratelimit").symlink_to(elsewhere)
    with pytest.raises(ConfigError) as refused:
        broker(fake, home / "cache")
    assert str(refused.value) == f"{home / 'ratelimit'}: {LINK_REFUSED}"
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("suffix", ["", ".lock", "-wal"])
def test_a_symlinked_ratelimit_file_is_refused_and_its_target_untouched(
    fake: FakeAlpaca, tmp_path: Path, suffix: str
) -> None:
    home = tmp_path / "home"
    state = state_file(home / "ratelimit", fake.keys[0])
    state.parent.mkdir(parents=True)
    foreign = tmp_path / "other.sqlite"
    foreign.write_bytes(b"someone else's database")
    planted = state.with_name(state.name + suffix)
    planted.symlink_to(foreign)
    with pytest.raises(ConfigError) as refused:
        broker(fake, home / "cache")
    assert str(refused.value) == f"{planted}: {LINK_REFUSED}"
    assert foreign.read_bytes() == b"someone else's database"


def test_existing_open_subdirectories_are_tightened(cli: CliFn, isolated_state: Path) -> None:
    for name in ("logs", "cache", "locks"):
        (isolated_state / name).mkdir(parents=True)
        (isolated_state / name).chmod(0o777)
    assert cli("execute", "--yes").exit_code == 0
    assert {n: mode(isolated_state / n) for n in ("logs", "locks")} == dict.fromkeys(
        ("logs", "locks"), 0o700
    )


def test_the_ratelimit_directory_is_made_private_and_an_open_one_tightened(
    fake: FakeAlpaca, tmp_path: Path, open_umask: None
) -> None:
    home = tmp_path / "home"
    (home / "ratelimit").mkdir(parents=True)
    (home / "ratelimit").chmod(0o777)
    broker(fake, home / "cache")
    state = state_file(home / "ratelimit", fake.keys[0])
    assert mode(home / "ratelimit") == 0o700
    assert (mode(state), mode(state.with_name(state.name + ".lock"))) == (0o600, 0o600)
