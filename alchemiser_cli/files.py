"""Reading the user's files and writing alch's own: every I/O failure is a one-line error."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
import stat
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from alchemiser_cli.errors import AlchError, ConfigError, InputError


def read_text(path: Path, what: str, error: type[InputError] = InputError) -> str:
    """A UTF-8 text file's content; errors name the file and what it was meant to be."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a directory, not a {what} file") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not a text file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror}") from None


def make_dir(path: Path, what: str) -> Path:
    """Create a directory alch writes to (and its missing parents) 0700 whatever the umask;
    errors name it and why. A directory that exists keeps its mode."""
    missing = []
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            break
        missing.append(parent)
    try:
        for new in reversed(missing):
            with contextlib.suppress(FileExistsError):  # another alch made it just now
                new.mkdir(mode=PRIVATE_DIR)
                os.chmod(new, PRIVATE_DIR)  # mkdir's mode passes through the umask
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a directory")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the {what}: {exc.strerror}") from None
    return path


# -- private state files ------------------------------------------------------------------
# Everything alch writes in ALCH_HOME is its owner's alone (files 0600, directories 0700,
# whatever the umask), and a symbolic link planted there is refused, never followed.

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_warned: set[Path] = set()


def state_error(
    path: Path, exc: OSError, what: str, error: type[AlchError] = ConfigError
) -> AlchError:
    """A one-line error for a state file alch cannot use safely, saying what to do."""
    if exc.errno == errno.ELOOP or path.is_symlink():
        return error(
            f"{path}: is a symbolic link; alch does not follow links in its state directory "
            f"(ALCH_HOME): remove it and run again"
        )
    if exc.errno == errno.EISDIR or path.is_dir():
        return error(f"{path}: is a directory where alch keeps its {what}: remove it")
    return error(f"{path}: cannot use the {what}: {exc.strerror}")


def private_dir(path: Path, what: str) -> Path:
    """A directory inside ALCH_HOME (logs, locks, cache): made 0700, never a symlink; one
    that exists open to others (an older alch's, or a chmod) is tightened to 0700."""
    if path.is_symlink():
        raise state_error(path, OSError(errno.ELOOP, "symbolic link"), what)
    make_dir(path, what)
    with contextlib.suppress(OSError):  # not ours to change (another owner): leave it
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, PRIVATE_DIR)
    return path


def open_private(path: Path, flags: int, what: str, error: type[AlchError] = ConfigError) -> int:
    """Open (creating 0600) a file in ALCH_HOME without following a symlink; a file that
    exists is tightened to 0600 too. Returns the descriptor; errors are one line."""
    try:
        fd = os.open(path, flags | os.O_CREAT | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        raise state_error(path, exc, what, error) from None
    with contextlib.suppress(OSError):  # not ours to change (another owner): leave it
        os.fchmod(fd, PRIVATE_FILE)
    return fd


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Cursor]:
    """One write transaction on an autocommit connection (BEGIN IMMEDIATE: the write lock
    is taken first, so a second process waits, then sees what the first wrote); committed
    when the block ends, rolled back (and the failure re-raised) on any error or signal."""
    cur = conn.cursor()
    cur.execute("BEGIN IMMEDIATE")
    try:
        yield cur
        cur.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            cur.execute("ROLLBACK")
        raise


def prepare_sqlite(path: Path, what: str, error: type[AlchError] = ConfigError) -> None:
    """Create a SQLite file 0600 before SQLite opens it (its -wal, -shm and -journal files
    then take the same mode), refusing symlinks for it and for those companions."""
    if str(path) == ":memory:":  # SQLite's in-memory database: no file, none to create
        return
    try:
        make_dir(path.parent, f"directory of the {what}")
    except ConfigError as exc:
        raise error(str(exc)) from None
    os.close(open_private(path, os.O_RDWR, what, error))
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.is_symlink():
            raise state_error(companion, OSError(errno.ELOOP, "symbolic link"), what, error)
        with contextlib.suppress(OSError):  # absent, or not ours: SQLite will say
            os.chmod(companion, PRIVATE_FILE)


def read_private(path: Path) -> str:
    """A state file's text, never through a symlink (OSError if it is one, or absent)."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _CLOEXEC)
    with os.fdopen(fd, encoding="utf-8") as handle:
        return handle.read()


def write_private(path: Path, text: str) -> None:
    """Replace a state file atomically: a fresh 0600 temporary file (O_EXCL, so never a
    planted one or its link), then rename over the target (a link there is replaced, not
    followed). Raises OSError; the temporary file never outlives a failure."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), PRIVATE_FILE)
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def loose_permissions(path: Path) -> str | None:
    """A one-time warning when ALCH_HOME is group- or world-writable (anyone who can write
    there could plant files or links); None when it is not, or was already warned about."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & (stat.S_IWGRP | stat.S_IWOTH) or path in _warned:
        return None
    _warned.add(path)
    return (
        f"{path} (ALCH_HOME) is writable by others (mode {mode:o}): they could tamper with "
        f"the journal; run `chmod 700 {path}`"
    )


def read_toml(path: Path, what: str, error: type[InputError] = ConfigError) -> dict[str, Any]:
    """A TOML file as a dict, floats read as exact Decimals."""
    text = read_text(path, what, error)
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise error(f"{path}: not a {what} file: nested too deeply") from None


def usable_dir(path: Path, what: str) -> Path:
    """A directory alch can write to, created if missing; else a one-line `ConfigError`."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: the {what} is a file, not a directory: move it away")
    make_dir(path, what)
    if not os.access(path, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{path}: the {what} is not writable: fix its permissions or set ALCH_HOME to "
            "a directory you own"
        )
    return path
