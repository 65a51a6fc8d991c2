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
    # The shell is the one named, whatever runs the test (make, sh, cron: no shell Typer's
    # own option could guess from the parent process).
    result = cli("--show-completion", "bash")
    assert result.exit_code == 0
    assert "_alch_completion()" in result.stdout
    assert "complete " in result.stdout
    zsh = cli("--show-completion", "zsh")
    assert (zsh.exit_code, zsh.stdout.splitlines()[0]) == (0, "#compdef alch")


def test_shell_completion_installs_for_the_named_shell(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = cli("--install-completion", "bash")
    assert result.exit_code == 0
    script = tmp_path / ".bash_completions" / "alch.sh"
    assert result.stdout == (
        f"bash completion installed in {script}; it takes effect in a new terminal\n"
    )
    assert "_alch_completion()" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


def test_shell_completion_needs_a_shell_it_knows(cli: CliFn) -> None:
    for args in (["--show-completion"], ["--show-completion", "ksh"]):
        result = cli(*args)
        assert (result.exit_code, result.stdout) == (2, ""), args
        assert "--show-completion" in result.stderr


def test_a_completion_request_answers_with_the_commands(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the installed script asks: the words that complete `alch st`.
    for name, value in {"_ALCH_COMPLETE": "complete_bash", "COMP_WORDS": "alch st",
                        "COMP_CWORD": "1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    result = cli()
    assert (result.exit_code, result.stdout.split()) == (0, ["status"])


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
