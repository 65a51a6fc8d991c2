"""What the CLI documents about itself: --help, --version, schemas, completion, the README."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli import __version__
from alchemiser_cli.errors import ExitCode
from tests.conftest import Run

CliFn = Callable[..., Run]


@pytest.mark.parametrize("name", ["plan", "check", "execute", "status"])
def test_schema_is_published_for_every_command(cli: CliFn, name: str) -> None:
    result = cli("schema", name)
    assert result.exit_code == 0
    schema = result.json()
    assert schema["title"] == f"alch {name} output"
    assert "schema_version" in schema["properties"]


def test_unknown_schema_name(cli: CliFn) -> None:
    result = cli("schema", "nope")
    assert (result.exit_code, result.stderr) == (
        2,
        "alch: error: no schema 'nope': choose one of plan, check, execute, status, targets, "
        "backtest, replay\n",
    )


def test_version_and_help(cli: CliFn) -> None:
    assert cli("--version").stdout == f"alch {__version__}\n"
    help_text = cli("--help").stdout
    for command in ("plan", "check", "execute", "status", "schema", "sim"):
        assert command in help_text


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for command in (
        "alch plan",
        "alch check",
        "alch execute",
        "alch status",
        "alch schema",
        "alch sim reset",
        "alch backtest",
        "alch report",
    ):
        assert command in readme


def test_the_readme_exit_code_table_lists_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+)", table, re.MULTILINE)}
    documented |= {int(code) for code in re.findall(r"^\| \d+ / (\d+)", table, re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}


def test_shell_completion_script_is_available(cli: CliFn) -> None:
    result = cli("--show-completion", "bash")
    assert result.exit_code == 0
    assert "_alch_completion()" in result.stdout
    assert "complete " in result.stdout


def test_the_readme_names_exactly_the_commands_that_take_json(cli: CliFn) -> None:
    """The README once said every command takes --json; schema and sim reset do not."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sentence = re.search(r"^(.*) take `--json`:", readme, re.MULTILINE)
    assert sentence is not None
    named = re.findall(r"`(\w+)`", sentence.group(1))
    commands = ["plan", "check", "execute", "status", "signal", "schema", "sim reset"]
    option = re.compile(r"^\W*--json\b", re.MULTILINE)  # an option row, not prose
    takes = [c for c in commands if option.search(cli(*c.split(), "--help").stdout)]
    assert named == takes == ["plan", "check", "execute", "status", "signal"]
