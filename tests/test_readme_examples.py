"""Every example in the README runs as written: each `sh` block, command by command, in one
sandbox (a fresh ALCH_HOME, a working directory beside `../shared` as in a clone), each
exiting as its comment says ("exit 1"), else 0, with no error from alch anywhere in a
pipe. The `make` block is what CI itself runs,
so it is the one block left out; the fake-Alpaca recipe runs on free ports instead of
8765/8766 (another run may hold those), its server awaited before the next line.
The two strategy backtests of years run with `make test-slow`; the targets blocks (TOML,
JSON, CSV) are read as targets files."""

from __future__ import annotations

import os
import pty
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alchemiser_cli.core.targets import parse_targets
from tests.conftest import OPEN_NOW, REPO, SHARED
from tests.terminal import read_terminal

README = (REPO / "README.md").read_text(encoding="utf-8")
BIN = REPO / ".venv" / "bin"
pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not (BIN / "alch").exists(), reason="needs `make install`"),
]


def blocks(language: str) -> list[str]:
    """The README's fenced blocks in `language`, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def commands(block: str) -> Iterator[str]:
    """Logical commands: a line ending in `\\` or followed by a `|` line continues."""
    current: list[str] = []
    for line in block.splitlines():
        if not line.strip() or (line.lstrip().startswith("#") and not current):
            continue
        if current and not (current[-1].rstrip().endswith("\\") or line.lstrip().startswith("|")):
            yield "\n".join(current)
            current = []
        current.append(line)
    if current:
        yield "\n".join(current)


def expected_exit(command: str) -> int:
    found = re.search(r"#[^'\n]*\bexit (\d+)", command)
    return int(found.group(1)) if found else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answered(command: str, env: dict[str, str], cwd: Path, answer: bytes) -> tuple[int, str]:
    """Run a command that asks on a terminal, and answer it."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        os.execve("/bin/bash", ["bash", "-c", command], env)
    out, _ = read_terminal(fd, until=b"[y/N]", silence_s=120)
    os.write(fd, answer)
    rest, closed = read_terminal(fd, until=None, silence_s=120)
    if not closed:  # every read is bounded: a hung command fails, it never holds the suite
        os.kill(pid, signal.SIGKILL)
    out += rest
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out.decode(errors="replace")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A working directory as in a clone: examples/, .venv/ and tests/ there, ../shared."""
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("examples", ".venv", "tests"):
        (work / name).symlink_to(REPO / name)
    (tmp_path / "shared").symlink_to(SHARED)
    return work


def slow(command: str) -> bool:
    """A strategy backtest of years: tens of seconds each (run by `make test-slow`)."""
    return "backtest --strategy" in command


def run_examples(clone: Path, tmp_path: Path, wanted: Callable[[str], bool]) -> int:
    """Run the README's sh examples that `wanted` selects, in order; how many ran."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALCH_", "APCA_"))}
    env |= {
        "ALCH_HOME": str(tmp_path / "home"),
        "ALCH_SIM_NOW": OPEN_NOW,  # a Tuesday, the market open
        "COLUMNS": "100",
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
    }
    ran, servers = 0, list[subprocess.Popen[str]]()
    try:
        for block in blocks("sh"):
            if block.lstrip().startswith("make "):
                continue  # `make demo`/`make test`: what CI runs; a test cannot run itself
            ports = {"8765": str(free_port()), "8766": str(free_port())}
            for command in commands(block):
                if not wanted(command):
                    continue
                line = command
                for old, new in ports.items():
                    line = line.replace(old, new)
                words = shlex.split(line, comments=True)
                if words and words[0] == "export":
                    env |= dict(w.split("=", 1) for w in words[1:])
                    continue
                if words[-1:] == ["%1"] and words[0] == "kill":
                    servers.pop().send_signal(signal.SIGTERM)
                    continue
                if words and words[-1] == "&":
                    server = subprocess.Popen(
                        words[:-1], cwd=clone, env=env, stderr=subprocess.PIPE, text=True
                    )
                    servers.append(server)
                    assert server.stderr is not None
                    assert "fake Alpaca on" in server.stderr.readline()
                    continue
                if "asks" in command.split("#", 1)[-1]:
                    code, out = answered(line, env, clone, b"n\n")
                else:
                    done = subprocess.run(
                        ["bash", "-c", line], cwd=clone, env=env,
                        capture_output=True, text=True, timeout=600, check=False,
                    )  # fmt: skip
                    code, out = done.returncode, done.stdout + done.stderr
                assert code == expected_exit(command), f"{command}\n-> exit {code}\n{out[-600:]}"
                # In a pipe the last command's status is the line's, as in the user's shell:
                # alch itself must not have failed anywhere in it (unless the line says so).
                if expected_exit(command) == 0:
                    assert "alch: error" not in out, f"{command}\n{out}"
                assert "Traceback" not in out, f"{command}\n{out}"
                ran += 1
    finally:
        for server in servers:
            server.kill()
            server.wait()
    return ran


def test_every_sh_example_runs_as_written(clone: Path, tmp_path: Path) -> None:
    assert run_examples(clone, tmp_path, lambda c: not slow(c)) >= 35
    assert not (clone / ".fake-alpaca").exists()  # the recipe leaves nothing in the checkout


@pytest.mark.slow
def test_the_strategy_backtests_of_the_readme_run_as_written(clone: Path, tmp_path: Path) -> None:
    assert run_examples(clone, tmp_path, slow) == 2
    assert (clone / "report.html").is_file()


@pytest.mark.parametrize(("language", "name"), [("toml", "t.toml"), ("json", "t.json"),
                                                ("csv", "t.csv")])  # fmt: skip
def test_every_targets_example_reads_as_targets(language: str, name: str) -> None:
    found = [b for b in blocks(language) if "targets" in b or language == "csv"]
    assert found
    for block in found:
        if "[targets]" in block or language != "toml":
            targets = parse_targets(block, where=name, fmt=language)
            assert sum(targets.weights.values()) == 1
