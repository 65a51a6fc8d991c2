"""Files the user asks alch to write (`--report FILE.html`, `--csv DIR`, `alch tax --csv
FILE`): one module decides how alch writes a user's file (a temporary file beside it,
renamed over it when complete: a reader never sees half a file)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path

from alchemiser_cli.errors import InputError

Inputs = Sequence[tuple[str, Path | None]]


def write_output(
    path: Path,
    text: str,
    what: str,
    *,
    state_dir: Path | None = None,
    inputs: Inputs = (),
    private: bool = False,
) -> None:
    """Write `text` to `path` whole or not at all; a failure is one line naming the file.
    Never over or among alch's own state in `state_dir` (ALCH_HOME), nor over one of the
    run's `inputs`; `private` (the live account's figures) makes it 0600, as `alch tax
    --csv`."""
    refuse_overwrite(path, state_dir, inputs, beside_state=True)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the {what}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temp, 0o600 if private else 0o644 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise InputError(f"{path}: cannot write the {what}: {exc.strerror}") from None


def output_dir(path: Path, what: str, *, state_dir: Path | None = None) -> Path:
    """A directory for output files (`--csv DIR`), created with its parents when missing
    (never among alch's own state in `state_dir`, ALCH_HOME)."""
    refuse_overwrite(path, state_dir, beside_state=True)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the {what} directory: {exc.strerror}") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


# What alch keeps at the top of ALCH_HOME (SQLite's -wal, -shm and -journal files beside
# the databases): the tearsheet's files may go beside them, never over or among them.
STATE = ("journal.sqlite", "sim.sqlite", "cache", "logs", "locks")


def _state(target: Path, home: Path) -> bool:
    """Whether `target` (resolved) is, or is inside, one of alch's own entries in `home`."""
    if home not in target.parents:
        return False
    top = target.relative_to(home).parts[0]
    return any(top == name or top.startswith(f"{name}-") for name in STATE)


def refuse_overwrite(
    path: Path, state_dir: Path | None, inputs: Inputs = (), *, beside_state: bool = False
) -> None:
    """Refuse (one `InputError`) a path inside ALCH_HOME (with `beside_state`, only alch's
    own entries there: its journal, simulator, caches, logs and locks), one that is a file
    this run reads (config, seed, targets), or a special file (a device such as /dev/null,
    a pipe, a socket): the temporary file renamed over it would replace the node itself."""
    if path.exists() and not (path.is_file() or path.is_dir()):
        raise InputError(f"{path} is not a regular file: name a file")
    if state_dir is not None:
        target = path.resolve()
        home = state_dir.resolve()
        inside = target == home or home in target.parents
        if _state(target, home) if beside_state else inside:
            raise InputError(
                f"{path} is inside ALCH_HOME ({state_dir}), alch's own state: write it elsewhere"
            )
    for what, source in inputs:
        if source is not None and _same(path, source):
            raise InputError(f"{path} is the {what} of this run: write it elsewhere")


def write_user_file(
    path: Path,
    text: str,
    *,
    overwrite: bool,
    state_dir: Path,
    inputs: Inputs = (),
) -> None:
    """Write `text` to `path` under the rule above; every refusal is one `InputError`."""
    refuse_overwrite(path, state_dir, inputs)
    if path.is_dir():
        raise InputError(f"{path} is a directory: name a file")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise InputError(f"{path} exists: pass --overwrite to replace it")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InputError(f"{path}: cannot write it: {exc.strerror}") from None
