"""Runs last: no canary secret in any output, log, journal, cache or cassette.

The fake Alpaca server's secret is the canary, and the CLI tests set more "canary-..."
secrets in the environment. After the suite, none may appear anywhere alch wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import CLI_OUTPUTS, OPEN_NOW, REPO, Run
from tests.fake_alpaca import CANARY_SECRET, FakeAlpaca

CANARY = b"canary"


def _exercise(cli: Callable[..., Run], state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full Alpaca round trip and an auth failure, for when this test runs alone."""
    with FakeAlpaca(state, datetime.fromisoformat(OPEN_NOW)) as fake:
        monkeypatch.delenv("ALCH_SIM_NOW")
        for key, value in {
            "APCA_API_BASE_URL": fake.url,
            "APCA_API_DATA_URL": fake.url,
            "APCA_API_KEY_ID": fake.keys[0],
            "APCA_API_SECRET_KEY": fake.keys[1],
        }.items():
            monkeypatch.setenv(key, value)
        targets = str(REPO / "examples/targets/sixty-forty.toml")
        assert cli("-vv", "execute", "--yes", "--targets", targets).exit_code == 0
        assert cli("-vv", "status", "--json").exit_code == 0
        monkeypatch.setenv("APCA_API_SECRET_KEY", "canary-wrong-secret")
        assert cli("-vv", "status").exit_code == 3


def test_no_canary_secret_anywhere(
    cli: Callable[..., Run], tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    if not any("alpaca-paper" in out for out in CLI_OUTPUTS):
        _exercise(cli, tmp_path_factory.mktemp("canary"), monkeypatch)
    assert CANARY_SECRET.encode().startswith(CANARY)
    written = [p for p in tmp_path_factory.getbasetemp().rglob("*") if p.is_file()]
    cassettes = [p for p in (REPO / "cassettes").iterdir() if p.suffix in (".yaml", ".json")]
    logs = [p for p in written if p.name.startswith("alch.log")]
    journals = [p for p in written if p.name == "journal.sqlite"]
    assert logs, "no log file was written: nothing to scan"
    assert journals, "no journal was written: nothing to scan"
    assert cassettes, "no cassettes: nothing to scan"
    for path in written + cassettes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a SQLite -wal/-shm removed as its connection closed
            continue
        assert CANARY not in data.lower(), f"canary found in {path}"
    assert len(CLI_OUTPUTS) >= 3
    for output in CLI_OUTPUTS:
        assert "canary" not in output.lower()


def test_every_command_json_was_validated_in_this_session() -> None:
    """The suite printed --json documents for every command, each schema-validated."""
    from tests.conftest import VALIDATED

    if sum(VALIDATED.values()) < 10:
        pytest.skip("only a part of the suite ran")
    assert all(VALIDATED.values()), VALIDATED
