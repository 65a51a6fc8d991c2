"""The one place where failures become exit codes and one-line messages."""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from alchemiser_cli.errors import AlchError, ExitCode
from alchemiser_cli.logs import redact

log = logging.getLogger("alchemiser_cli.cli")


def exit_code_for(exc: BaseException) -> ExitCode:
    """The documented exit status for a failure."""
    if isinstance(exc, AlchError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.INTERNAL


@contextmanager
def reported_errors(show_traceback: bool) -> Iterator[None]:
    """Turn any failure into `alch: error: ...` on stderr and its exit code.

    With --traceback (or ALCH_TRACEBACK=1) the traceback is printed first, secrets masked;
    the message and the exit code stay the same.
    """
    try:
        yield
    except typer.Exit:
        raise
    except (AlchError, KeyboardInterrupt, Exception) as exc:
        if show_traceback or os.environ.get("ALCH_TRACEBACK") == "1":
            sys.stderr.write(redact("".join(traceback.format_exception(exc))))
        code = exit_code_for(exc)
        if isinstance(exc, AlchError):
            message = str(exc)
        elif isinstance(exc, KeyboardInterrupt):
            message = "interrupted"
        else:
            log.debug("internal error", exc_info=exc)
            message = f"internal error: {type(exc).__name__}: {exc} (rerun with --traceback)"
        sys.stderr.write(f"alch: error: {redact(message)}\n")
        raise typer.Exit(int(code)) from None
