"""Files the user asks alch to write (`--out`, `--report FILE.html`, `--csv DIR`, `alch tax
--csv FILE`): how alch writes a user's file (a temporary file beside it, renamed over it
when complete: a reader never sees half a file). Where it may write, and over what, is
decided once, in `app/outputs.py`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from alchemiser_cli.errors import InputError


def write_output(path: Path, text: str, what: str, *, private: bool = False) -> None:
    """Write `text` to `path` whole or not at all (`private`: 0600, for the user's eyes
    only, as tax records are); a failure is one line naming the file. Which paths may be
    written is `app/outputs.py`'s rule."""
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
