"""Files the user asks alch to write (`--report FILE.html`, `--csv DIR`): every one goes
through `write_output`, so one rule decides how alch writes a user's file (a temporary file
beside it, renamed over it when complete: a reader never sees half a page)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from alchemiser_cli.errors import InputError


def write_output(path: Path, text: str, what: str) -> None:
    """Write `text` to `path` whole or not at all; a failure is one line naming the file."""
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the {what}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temp, 0o644 & ~_umask())
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise InputError(f"{path}: cannot write the {what}: {exc.strerror}") from None


def output_dir(path: Path, what: str) -> Path:
    """A directory for output files (`--csv DIR`), created with its parents when missing."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{path}: cannot create the {what} directory: {exc.strerror}") from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
