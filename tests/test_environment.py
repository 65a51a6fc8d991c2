"""Issue 13 item 11: the environment alch runs in, not just its files.

Closed or full standard streams and early-closing readers need the real entry point in a
subprocess (kept to a few runs: each costs about half a second); the rest uses CliRunner.
"""

from __future__ import annotations

import builtins
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import filelock
import pytest

from alchemiser_cli.cli import app as app_module
from tests.conftest import Run, warm_nyse_table

CliFn = Callable[..., Run]
ALCH = str(Path(sys.executable).with_name("alch"))
DEMO_NOTE = (
    "alch: note: no targets given: using the demo targets "
    "(examples/targets/three-fund.toml); pass --targets FILE to use your own\n"
)
FULL = (
    "alch: error: cannot write the output to stdout: No space left on device; free the "
    "space or redirect it elsewhere\n"
)


def alch(
    args: Sequence[str], *, close: Sequence[int] = (), stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    """Run the installed `alch` script with some standard descriptors closed."""

    def closing() -> None:
        for fd in close:
            os.close(fd)

    warm_nyse_table(Path(os.environ["ALCH_HOME"]))  # read, not built: ~2.5 s of CPU less
    return subprocess.run(
        [ALCH, *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        preexec_fn=closing if close else None,
        check=False,
    )


def test_closed_stdin_is_no_tty_and_no_input() -> None:
    confirm = alch(["execute"], close=[0])
    assert (confirm.returncode, confirm.stdout) == (2, "")
    assert confirm.stderr == (
        "alch: error: execute needs confirmation: run it in a terminal, or pass --yes to send "
        "without asking (nothing was sent)\n"
    )


def test_closed_stdout_is_one_line_and_exit_2() -> None:
    result = alch(["plan"], close=[1], stdout=None)
    assert result.returncode == 2
    assert result.stderr == (
        "alch: error: stdout is closed: give alch somewhere to write (redirect it to a file, "
        "or to /dev/null to discard the output)\n"
    )


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["plan"], ["plan", "--json"]])
def test_full_stdout_is_one_line_and_exit_74(args: list[str]) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        result = alch(args, stdout=full)
    assert result.returncode == 74
    assert result.stderr == DEMO_NOTE + FULL


@pytest.mark.parametrize("args", [["status"], ["plan", "--json"]])
def test_a_reader_that_goes_away_ends_the_output_quietly_with_the_commands_code(
    args: list[str],
) -> None:
    # `alch status | head -1`: the reader may close before or after alch writes; either
    # way the command exits as it would have (0 here), with no traceback.
    warm_nyse_table(Path(os.environ["ALCH_HOME"]))
    proc = subprocess.Popen(
        [ALCH, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader is gone before the first write: EPIPE every time
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0
    assert err in ("", DEMO_NOTE)


# A real SIGINT, delivered while the application is being imported (deterministically:
# a finder raises it when the import starts), through the real entry point.
SIGINT_IN_IMPORT = """
import signal, sys
class Finder:
    def find_spec(self, name, path=None, target=None):
        if name == "alchemiser_cli.cli.app":
            signal.raise_signal(signal.SIGINT)
        return None
sys.meta_path.insert(0, Finder())
sys.argv = ["alch", "plan"]
from alchemiser_cli.cli.entry import main
main()
"""


def _default_sigint() -> None:
    # As from a terminal. A parent started in the background by a non-interactive shell
    # (`make test &`, two suites at once) passes SIGINT down ignored; Python then installs
    # no handler for it and the raised SIGINT would do nothing (the run goes on to exit 0).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_during_start_up_is_one_line_not_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SIGINT_IN_IMPORT],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_default_sigint,
        check=False,
    )
    assert (result.returncode, result.stdout) == (130, "")
    assert result.stderr == "alch: error: interrupted\n"


def test_ctrl_c_while_importing_is_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = builtins.__import__

    def interrupted(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "alchemiser_cli.cli.app":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    from alchemiser_cli.cli import entry

    monkeypatch.setattr(builtins, "__import__", interrupted)
    with pytest.raises(SystemExit) as info:
        entry.main()
    assert info.value.code == 130
    assert capsys.readouterr().err == "alch: error: interrupted\n"


def test_ctrl_c_while_parsing_the_command_line_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(**_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(app_module, "GlobalOptions", interrupted)
    monkeypatch.setattr(sys, "argv", ["alch", "plan"])
    with pytest.raises(SystemExit) as info:
        app_module.main()
    assert info.value.code == 130
    assert capsys.readouterr().err == "alch: error: interrupted\n"


def test_empty_alch_home_is_a_setting_error(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCH_HOME", "")
    result = cli("plan")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "alch: error: invalid setting home (ALCH_HOME): is empty: unset it to use the default "
        'place, or name a directory (got "")\n'
    )
    assert not Path("journal.sqlite").exists()  # nothing written to the working directory


@pytest.mark.parametrize(
    ("part", "what"),
    [
        ("", "state directory (ALCH_HOME)"),
        ("logs", "logs directory in ALCH_HOME"),
        ("locks", "locks directory in ALCH_HOME"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "status", "execute"])
def test_file_shaped_state_paths_are_one_line_and_exit_2(
    cli: CliFn, isolated_state: Path, part: str, what: str, command: str
) -> None:
    target = isolated_state / part if part else isolated_state
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("not a directory", encoding="utf-8")
    result = cli(command, "--yes") if command == "execute" else cli(command)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"alch: error: {target}: the {what} is a file, not a directory: move it away\n"
    )


def test_a_state_directory_alch_cannot_write_is_one_line(
    cli: CliFn, isolated_state: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, where permissions do not stop a write: fake the answer.
    monkeypatch.setattr("alchemiser_cli.files.os.access", lambda *_a, **_k: False)
    result = cli("plan")
    assert result.exit_code == 2
    assert result.stderr == (
        f"alch: error: {isolated_state}: the state directory (ALCH_HOME) is not writable: fix "
        "its permissions or set ALCH_HOME to a directory you own\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_state_directory_for_real(tmp_path: Path) -> None:
    from alchemiser_cli.files import usable_dir

    home = tmp_path / "ro"
    home.mkdir(mode=0o500)
    with pytest.raises(Exception, match="is not writable"):
        usable_dir(home, "state directory (ALCH_HOME)")


def test_traceback_flag_keeps_the_exit_code_and_the_line(cli: CliFn) -> None:
    plain = cli("plan", "--targets", "nope.toml")
    traced = cli("--traceback", "plan", "--targets", "nope.toml")
    assert plain.exit_code == traced.exit_code == 2
    assert plain.stderr == "alch: error: nope.toml: targets file not found\n"
    assert traced.stderr.startswith("Traceback (most recent call last):\n")
    assert traced.stderr.endswith(plain.stderr)


# -- item 12: the simulator's own file --------------------------------------------------


def test_sim_reset_takes_the_account_lock(cli: CliFn, isolated_state: Path) -> None:
    assert cli("execute", "--yes").exit_code == 0
    traded = cli("status", "--json").json()["positions"]
    lock = isolated_state / "locks" / "sim-SIM-DEMO-0001.lock"
    with filelock.FileLock(lock):
        result = cli("sim", "reset")
    assert result.exit_code == 5
    assert result.stderr == (
        f"alch: error: another alch run holds simulated account SIM-DEMO-0001 ({lock}); "
        "nothing was reset: try again when it has finished\n"
    )
    assert cli("status", "--json").json()["positions"] == traded  # nothing reset
    assert cli("sim", "reset").exit_code == 0
    assert cli("status", "--json").json()["positions"] != traded


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_simulator_file_points_to_reset_which_repairs_it(
    cli: CliFn, isolated_state: Path, damage: str
) -> None:
    assert cli("execute", "--yes").exit_code == 0  # a sim.sqlite with orders and fills
    db = isolated_state / "sim.sqlite"
    if damage == "garbage":
        db.write_bytes(b"\x00garbage, not SQLite\xff" * 64)
        reason = "file is not a database"
    else:
        db.write_bytes(db.read_bytes()[:5000])
        reason = "database disk image is malformed"
    for command in ("plan", "status"):
        result = cli(command)
        assert (result.exit_code, result.stdout) == (3, ""), command
        assert result.stderr.endswith(
            f"alch: error: simulator database {db} is damaged ({reason}): run `alch sim "
            "reset` to recreate it from the seed\n"
        )
    reset = cli("sim", "reset")
    assert reset.exit_code == 0
    assert reset.stderr.startswith("alch: simulator database was damaged: recreated it from ")
    assert reset.stderr.endswith("demo-account.toml\n")
    status = cli("status", "--json")
    assert status.exit_code == 0
    assert {p["symbol"] for p in status.json()["positions"]} >= {"AAPL"}  # the seed again
    again = cli("sim", "reset")
    assert again.stderr.startswith("alch: simulator reset from ")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            b"\xef\xbb\xbf",
            "alch: error: <stdin> has no targets: that would sell every position; add entries "
            "such as `VTI = 0.6`, or pass --liquidate to sell everything on purpose\n",
        ),
        (b"VTI,0.5\n\xff\n", "alch: error: <stdin>: not UTF-8 text (the targets must be)\n"),
    ],
)
def test_stdin_is_read_as_utf8_whatever_the_locale(data: bytes, error: str) -> None:
    """In the C locale Python decodes stdin as ASCII: a byte-order mark alone showed as
    "got ['\\udcef\\udcbb\\udcbf']" (attack item 11); stdin is UTF-8 like every file."""
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0"}  # fmt: skip
    result = subprocess.run(
        [ALCH, "plan", "--targets", "-"], input=data, capture_output=True, env=env,
        timeout=300, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr.decode()) == (2, b"", error)
