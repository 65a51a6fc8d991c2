"""Shared fixtures: every test gets its own state directory and a fixed simulator clock."""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from typer.testing import CliRunner

from alchemiser_cli import calendar_cache, calendar_table
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli.app import app
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import Account, Asset, Position, Quote, Snapshot

if TYPE_CHECKING:  # the fake server loads with the tests that start it
    from tests.fake_alpaca import FakeAlpaca

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"  # real closes and symphonies, beside the clone (CI has it)
EXAMPLES = REPO / "examples"
DEMO_ACCOUNT = REPO / "alchemiser_cli" / "data" / "demo-account.toml"
# A Tuesday, 10:00 New York time: the market is open.
OPEN_NOW = "2026-11-24T15:00:00+00:00"
# Every stdout and stderr the CLI produced in this session (scanned by test_zz_canary).
CLI_OUTPUTS: list[str] = []


@pytest.fixture(autouse=True)
def isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ALCH_HOME at a temp dir, clear credentials and config, fix the sim clock."""
    for key in list(os.environ):
        if key.startswith(("ALCH_", "APCA_")):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("ALCH_HOME", str(home))
    # State every home of the user shares (the per-key rate limit): never the real one.
    monkeypatch.setenv("ALCH_SHARED_DIR", str(tmp_path / "shared-state"))
    monkeypatch.setenv("ALCH_SIM_NOW", OPEN_NOW)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # so no ./alch.toml from the developer's checkout is read
    return home


def use_fake_alpaca(
    fake: FakeAlpaca, monkeypatch: pytest.MonkeyPatch, *, timeout_s: str | None = None
) -> None:
    """Point the CLI at the fake Alpaca server with its canary keys (real clock: the
    fake's /v2/clock sets the time)."""
    monkeypatch.delenv("ALCH_SIM_NOW")
    monkeypatch.setenv("APCA_API_BASE_URL", fake.url)
    monkeypatch.setenv("APCA_API_DATA_URL", fake.url)
    monkeypatch.setenv("APCA_API_KEY_ID", fake.keys[0])
    monkeypatch.setenv("APCA_API_SECRET_KEY", fake.keys[1])
    if timeout_s is not None:
        monkeypatch.setenv("ALCH_ALPACA__TIMEOUT_S", timeout_s)


@dataclass
class Run:
    """One CLI invocation's result."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


SCHEMA_DIR = REPO / "schemas"
DOCUMENT_COMMANDS = ("plan", "check", "execute", "status", "backtest", "replay")
# How many --json documents each command produced in this session, all schema-validated
# (test_zz_canary asserts every command was covered).
VALIDATED: dict[str, int] = dict.fromkeys(DOCUMENT_COMMANDS, 0)


@functools.cache
def schema_validator(name: str) -> jsonschema.Draft202012Validator:
    """The validator for `schemas/NAME.schema.json` (the published contract)."""
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_document(args: Sequence[str], stdout: str) -> None:
    """Every --json document a command prints must validate against its schema file."""
    command = next((a for a in args if a in DOCUMENT_COMMANDS), None)
    if command is None or "--json" not in args or not stdout.strip():
        return
    if command == "backtest" and "--replay-journal" in args:
        command = "replay"
    schema_validator(command).validate(json.loads(stdout))
    VALIDATED[command] += 1


@pytest.fixture
def cli() -> Callable[..., Run]:
    """Invoke `alch` in-process; exceptions propagate so a bug is never an exit code.

    Every --json document is validated against its schema in `schemas/`.
    """
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Run:
        result = runner.invoke(app, list(args), input=input, catch_exceptions=False)
        CLI_OUTPUTS.append(result.stdout + result.stderr)
        validate_document(args, result.stdout)
        return Run(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def sim(isolated_state: Path) -> Iterator[SimBroker]:
    """The simulator the CLI uses in this test (same SQLite file)."""
    broker = SimBroker(
        isolated_state / "sim.sqlite", DEMO_ACCOUNT, FixedClock(datetime.fromisoformat(OPEN_NOW))
    )
    yield broker
    broker.close()


def D(text: str | int) -> Decimal:
    """Decimal shorthand for tests."""
    return Decimal(str(text))


def make_snapshot(
    cash: str,
    positions: dict[str, str] | None = None,
    quotes: dict[str, tuple[str, str]] | None = None,
    non_fractionable: tuple[str, ...] = (),
    not_tradable: tuple[str, ...] = (),
    buying_power: str | None = None,
    **account: Any,
) -> Snapshot:
    """A snapshot built from short literals."""
    quotes = quotes or {}
    return Snapshot(
        account=Account(
            account_id="T-1", cash=D(cash), buying_power=D(buying_power or cash), **account
        ),
        positions={s: Position(s, D(q)) for s, q in (positions or {}).items()},
        quotes={s: Quote(s, D(b), D(a)) for s, (b, a) in quotes.items()},
        assets={
            s: Asset(s, tradable=s not in not_tradable, fractionable=s not in non_fractionable)
            for s in quotes
        },
        as_of=datetime.fromisoformat(OPEN_NOW).astimezone(UTC),
        broker="sim",
    )


def write(path: Path, text: str) -> Path:
    """Write a file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


FileMaker = Callable[[str, str], Path]


@pytest.fixture
def make_file(tmp_path: Path) -> FileMaker:
    """Write a named file under tmp_path."""

    def make(name: str, text: str) -> Path:
        return write(tmp_path / name, text)

    return make


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the network: any connection outside loopback fails the test."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(address, tuple) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """Logging is process-global: drop alch's handlers after each test."""
    yield
    logger = logging.getLogger("alchemiser_cli")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


@pytest.fixture(autouse=True, scope="session")
def one_nyse_table_per_horizon() -> Iterator[None]:
    """exchange-calendars takes ~0.3 s (seconds on a loaded machine) to compute the NYSE
    session table, and each test's fresh ALCH_HOME (and each fake Alpaca) computed it again.
    The computation is a pure function of the horizon, so the session does it once per
    horizon; every home still writes and reads its own table file, as a real run does."""
    once = functools.cache(calendar_table.xnys_table)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(calendar_table, "xnys_table", once)
        patch.setattr(calendar_cache, "xnys_table", once)
        yield


def warm_nyse_table(home: Path) -> None:
    """Write the NYSE session table into `home` (ALCH_HOME) as any installation's first
    command does, so that a command run in a subprocess there reads it in milliseconds
    instead of importing exchange-calendars and pandas to build it (~2.5 s of CPU)."""
    calendar_cache.nyse_calendar(home / "cache", datetime.fromisoformat(OPEN_NOW))


@pytest.fixture(autouse=True)
def no_spinning(monkeypatch: pytest.MonkeyPatch) -> None:
    """A loop that waits without end fails its test instead of hanging the suite."""
    real_sleep = FixedClock.sleep
    count = 0

    def sleep(self: FixedClock, seconds: float) -> bool:
        nonlocal count
        count += 1
        if count > 20_000:
            raise AssertionError("20,000 waits in one test: a loop is spinning")
        return real_sleep(self, seconds)

    monkeypatch.setattr(FixedClock, "sleep", sleep)


def plan_json(cli: Callable[..., Run], *args: str) -> str:
    """`alch plan --json ARGS` that must succeed: its stdout."""
    result = cli("plan", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked `shared` needs ../shared beside the clone: skipped where it is absent
    (a clone elsewhere), failed instead where it must be there (CI sets
    ALCH_TEST_REQUIRE_SHARED=1, so a missing copy can never pass silently)."""
    if item.get_closest_marker("shared") is None or SHARED.is_dir():
        return
    why = f"{SHARED} is not beside the clone"
    if os.environ.get("ALCH_TEST_REQUIRE_SHARED") == "1":
        pytest.fail(f"{why} (ALCH_TEST_REQUIRE_SHARED=1)")
    pytest.skip(why)
