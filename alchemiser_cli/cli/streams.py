"""The process's standard streams: closed descriptors, readers that go away, full disks.

`alch` may be started with a descriptor closed (`<&-`, `>&-`), with stdout on a full
device (`> /dev/full`) or piped into a reader that stops early (`| head -1`). Each of
these ends in one line on stderr and a documented exit code, never a traceback.
"""

from __future__ import annotations

import io
import os
import sys
from typing import TextIO

from alchemiser_cli.errors import OutputError

STDOUT_CLOSED = (
    "stdout is closed: give alch somewhere to write (redirect it to a file, or to /dev/null "
    "to discard the output)"
)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


class _GuardedStdout(io.RawIOBase):
    """Descriptor 1 for the text layer: a reader that went away (EPIPE) means the rest of
    the output is not wanted, so it is dropped and the command ends as it would have; any
    other write failure is an `OutputError` (once: later writes are dropped)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._dropped = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        size = memoryview(data).nbytes
        if self._dropped:
            return size
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            self._dropped = True
            return size
        except OSError as exc:
            self._dropped = True
            raise OutputError(
                f"cannot write the output to stdout: {exc.strerror}; free the space or "
                "redirect it elsewhere"
            ) from None


def prepare() -> str | None:
    """Make the standard streams safe to use; return an error message if stdout is closed.

    A closed descriptor 0, 1 or 2 is reopened on /dev/null first, so no file alch opens
    later (the journal, a log) can take its number and receive stray output.
    """
    closed = [fd for fd in (0, 1, 2) if not _is_open(fd)]
    for fd in closed:
        spare = os.open(os.devnull, os.O_RDWR)
        if spare != fd:
            os.dup2(spare, fd)
            os.close(spare)
    if 2 in closed or sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process
    if 1 in closed or sys.stdout is None:
        return STDOUT_CLOSED
    original: TextIO = sys.stdout
    try:
        fd = original.fileno()
    except (OSError, ValueError):  # not a real descriptor (an embedding, a test capture)
        return None
    original.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_GuardedStdout(fd)),
        encoding=original.encoding,
        errors=original.errors,
        line_buffering=bool(original.line_buffering),
    )
    return None


def finish() -> str | None:
    """Flush stdout at the end of the command; return the error if the output was lost."""
    try:
        sys.stdout.flush()
    except OutputError as exc:
        return str(exc)
    return None
