"""One logging setup: JSON lines to a rotating file, short human lines on stderr.

Every record carries the current run id. Secrets cannot reach a log by construction
(they are `SecretStr` until the broker adapter unwraps them); as a second wall, values
registered with `register_secret` (alchemiser_cli.masking) are masked in every record
before it is written.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path
from typing import TextIO

from alchemiser_cli.files import open_private, private_dir
from alchemiser_cli.masking import MASK, redact, register_secret

__all__ = ["MASK", "RUN_ID", "configure", "redact", "register_secret"]

ROOT = "alchemiser_cli"
RUN_ID: ContextVar[str] = ContextVar("alch_run_id", default="-")


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = RUN_ID.get()
        record.msg = redact(record.getMessage())
        record.args = None
        return True


class _Redacting(logging.Formatter):
    """Masks secrets in the whole formatted record, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the moment of writing (it may be swapped)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream or sys.stderr)
        self._fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self._fixed or sys.stderr
        super().emit(record)


class _PrivateRotatingFile(logging.handlers.RotatingFileHandler):
    """A rotating log file created 0600 whatever the umask, never through a symlink."""

    def _open(self) -> TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND, "log file")
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class JsonLines(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", "-"),
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(doc))


def configure(state_dir: Path, verbosity: int, stderr: TextIO | None = None) -> Path:
    """(Re)configure alch's loggers; verbosity -1 quiet, 0 warnings, 1 info, 2 debug.

    Human lines go to `stderr` if given, else to the current `sys.stderr` at each write.
    """
    logger = logging.getLogger(ROOT)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    context = _Context()

    human = _CurrentStderr(stderr)
    human.setLevel(
        {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    )
    human.setFormatter(_Redacting("alch: %(levelname)s: %(message)s"))
    human.addFilter(context)
    logger.addHandler(human)

    path = private_dir(state_dir / "logs", "log directory") / "alch.log"
    to_file = _PrivateRotatingFile(path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    to_file.setLevel(logging.DEBUG)
    to_file.setFormatter(JsonLines())
    to_file.addFilter(context)
    logger.addHandler(to_file)
    return path
