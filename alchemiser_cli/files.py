"""Reading the user's files: one place that turns every I/O failure into a one-line error."""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

from alchemiser_cli.errors import ConfigError, InputError


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
    """Create a directory alch writes to (and its parents); errors name it and why."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the {what}: {exc.strerror}") from None
    return path


def read_toml(path: Path, what: str, error: type[InputError] = ConfigError) -> dict[str, Any]:
    """A TOML file as a dict, floats read as exact Decimals."""
    text = read_text(path, what, error)
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


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
