"""Files alch writes for the user (`plan --out`, `backtest --report`): one rule for all.

- Never over an input of the run (the targets, strategy, config, `targets_file`,
  `sectors_file` or simulator seed file, a file under `ALCH_SIM_BARS`), never over or
  among alch's own state in `ALCH_HOME` (its journal and simulator databases with their
  SQLite side files, `cache/`, `logs/`, `locks/`, `ratelimit/`, or the folder itself), and
  never over a special file (a device such as /dev/null, a pipe, a socket: the temporary
  file renamed over it would replace the node), whatever `--overwrite` says: checked
  before the runtime opens, so a refused run leaves every byte of those files as it was.
  A new file of another name may sit beside that state (`$ALCH_HOME/report.html`).
- An existing file that alch did not write (the journal keeps the digest of every file it
  wrote) needs `--overwrite`; one alch wrote and nobody changed since is replaced.
- Written to a temporary file beside it and renamed into place: never half a file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alchemiser_cli.app.runtime import Runtime, sim_seed
from alchemiser_cli.errors import InputError
from alchemiser_cli.outputs import write_output as write_file
from alchemiser_cli.settings import Settings


@dataclass(frozen=True, slots=True)
class Output:
    """A file a command was asked to write: where, by which flag, holding what."""

    path: Path
    flag: str  # "--out", "--report", "--csv"
    what: str  # "plan", "report", "CSV file"
    overwrite: bool = False
    private: bool = False  # 0600: the user's own records (tax lots)

    def refused(self, why: str) -> InputError:
        return InputError(f"{self.flag} {self.path} {why}: write the {self.what} elsewhere")


def run_inputs(
    settings: Settings, targets: str | None, strategies: Sequence[str] = ()
) -> list[tuple[str, Path]]:
    """The files a run reads, each with what it is (stdin is none)."""
    files = [*strategies, *(settings.strategies or {})]
    found: list[tuple[str, Path | None]] = [
        *(("strategy file", Path(f.rsplit("=", 1)[0] if "=" in f else f)) for f in files),
        ("targets file", None if targets in (None, "-") else Path(str(targets))),
        ("config file", settings.config_path),
        ("targets_file", settings.targets_file),
        ("sectors_file", settings.sectors_file),
        ("simulator seed file", sim_seed(settings) if settings.broker != "alpaca" else None),
    ]
    return [(what, path) for what, path in found if path is not None]


# What alch keeps at the top of ALCH_HOME (SQLite's -wal, -shm and -journal files sit
# beside the databases): an output may go beside these, never over or among them.
STATE = ("journal.sqlite", "sim.sqlite", "cache", "logs", "locks", "ratelimit")


def refuse_inputs(output: Output, settings: Settings, inputs: list[tuple[str, Path]]) -> None:
    """Refuse an output over an input of the run, under ALCH_SIM_BARS, over or among alch's
    own state in ALCH_HOME, or over a special file."""
    path = output.path
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise output.refused("is not a regular file (a device, a pipe or a socket)")
    if _alchs_state(path, settings.state_dir):
        raise output.refused(f"is inside ALCH_HOME ({settings.state_dir}), alch's own state")
    bars = settings.sim_bars if settings.broker != "alpaca" else None
    if bars is not None and _inside(output.path, bars):
        raise output.refused(f"is inside ALCH_SIM_BARS ({bars}), the daily bars of this run")
    for what, path in inputs:
        if _same_file(output.path, path):
            raise output.refused(f"is the {what} of this run")


def refuse_foreign(rt: Runtime, output: Output) -> None:
    """Refuse to replace an existing file alch did not write, unless `--overwrite`."""
    path = output.path
    if path.is_dir():
        raise InputError(f"{output.flag} {path}: is a directory: give a file name")
    if output.overwrite or not (path.exists() or path.is_symlink()):
        return
    if path.is_symlink() or _digest_of(path) != rt.journal.output_digest(_key(path)):
        raise InputError(
            f"{output.flag} {path}: the file exists and alch did not write it: pass "
            "--overwrite to replace it"
        )


def write_output(rt: Runtime, output: Output, text: str) -> None:
    """Write the file (temporary file, then rename) and remember that alch wrote it."""
    write_file(output.path, text, output.what, private=output.private)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    rt.journal.record_output(_key(output.path), digest, rt.clock.now())


def _alchs_state(path: Path, home: Path) -> bool:
    """Whether `path` (links resolved) is ALCH_HOME itself or one of alch's own entries
    there, or inside one."""
    where, top = path.resolve(), home.resolve()
    if where == top:
        return True
    if top not in where.parents:
        return False
    first = where.relative_to(top).parts[0]
    return any(first == name or first.startswith(f"{name}-") for name in STATE)


def _inside(path: Path, directory: Path) -> bool:
    """Whether `path` is `directory` or under it, links resolved."""
    where, top = path.resolve(), directory.resolve()
    return where == top or top in where.parents


def _key(path: Path) -> str:
    """A file's name in the journal: absolute, its directory's links resolved."""
    return str(path.absolute().parent.resolve() / path.name)


def _digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()
