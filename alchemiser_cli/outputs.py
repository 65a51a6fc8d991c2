"""Files alch writes for the user (`alch tax --csv FILE`): one rule, in one helper.

Never over an input of the run, never inside ALCH_HOME (alch's own state), never over an
existing file without `--overwrite`; written to a fresh temporary file in the same
directory and renamed over the target, so a reader never sees half a file. The file is
the user's own financial record: 0600, whatever the umask.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from alchemiser_cli.errors import InputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def write_user_file(
    path: Path,
    text: str,
    *,
    overwrite: bool,
    state_dir: Path,
    inputs: Sequence[tuple[str, Path | None]] = (),
) -> None:
    """Write `text` to `path` under the rule above; every refusal is one `InputError`."""
    target = path.resolve()
    home = state_dir.resolve()
    if target == home or home in target.parents:
        raise InputError(
            f"{path} is inside ALCH_HOME ({state_dir}), alch's own state: write it elsewhere"
        )
    for what, source in inputs:
        if source is not None and _same(path, source):
            raise InputError(f"{path} is the {what} of this run: write it elsewhere")
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
