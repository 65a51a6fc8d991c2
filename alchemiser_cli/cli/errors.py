"""The one place where failures and outcomes become exit codes and one-line messages.

`cli.app` enters `reported_errors` once around every command and maps what the command
returns (`Finished`) with `exit_code_for_result`; commands never exit by themselves.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from alchemiser_cli.errors import AlchError, ExitCode
from alchemiser_cli.masking import redact

if TYPE_CHECKING:  # the executor loads with the commands that run one, not at start-up
    from alchemiser_cli.core.results import Outcome

log = logging.getLogger("alchemiser_cli.cli")

# Outcome (by value) -> exit status. Declining at the prompt is not a failure: nothing
# was sent. Keyed by value so that start-up need not import the executor.
OUTCOME_EXIT = {
    "completed": ExitCode.OK,
    "queued": ExitCode.OK,
    "nothing_to_do": ExitCode.OK,
    "declined": ExitCode.OK,
    "aborted": ExitCode.CHECK_BLOCKED,  # Ctrl-D / Ctrl-C at the prompt: nothing sent
    "blocked": ExitCode.CHECK_BLOCKED,
    "incomplete": ExitCode.INCOMPLETE,
    "failed": ExitCode.BROKER,  # a broker error stopped it before any order got there
    "interrupted": ExitCode.INTERRUPTED,
    "running": ExitCode.INTERNAL,  # never returned by a finished run
}
# The signal that stopped a run -> exit status (128 + the signal's number).
SIGNAL_EXIT = {"SIGINT": ExitCode.INTERRUPTED, "SIGTERM": ExitCode.TERMINATED}


def exit_code_for_outcome(outcome: Outcome, stop_reason: str | None = None) -> ExitCode:
    """The documented exit status for how a run ended (a signal's own status if one
    stopped it)."""
    if outcome.value == "interrupted":
        return SIGNAL_EXIT.get(stop_reason or "", ExitCode.INTERRUPTED)
    return OUTCOME_EXIT[outcome.value]


@dataclass(frozen=True, slots=True)
class Finished:
    """How a command ended, for its exit code: a run's outcome, or a check's verdict."""

    outcome: Outcome | None = None  # `execute`
    stopped_by: str | None = None  # the signal that stopped the run, if one did
    blocked: bool = False  # `check`
    changes: bool = False  # `plan`/`check --detailed-exitcode`: the plan has orders


def exit_code_for_result(result: object) -> ExitCode:
    """The documented exit status for what a command returned (None: it succeeded)."""
    if not isinstance(result, Finished):
        return ExitCode.OK
    if result.outcome is not None:
        return exit_code_for_outcome(result.outcome, result.stopped_by)
    if result.blocked:
        return ExitCode.CHECK_BLOCKED
    return ExitCode.CHANGES if result.changes else ExitCode.OK


def exit_code_for(exc: BaseException) -> ExitCode:
    """The documented exit status for a failure."""
    if isinstance(exc, AlchError):
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    return ExitCode.INTERNAL


@contextmanager
def reported_errors(show_traceback: bool | Callable[[], bool]) -> Iterator[None]:
    """Turn any failure into `alch: error: ...` on stderr and its exit code.

    With --traceback (or ALCH_TRACEBACK=1) the traceback is printed first, secrets masked;
    the message and the exit code stay the same.
    """
    try:
        yield
    except (typer.Exit, typer.TyperException):  # typer's own ways out: usage errors, exits
        raise
    except (AlchError, KeyboardInterrupt, Exception) as exc:
        shown = show_traceback() if callable(show_traceback) else show_traceback
        if shown or os.environ.get("ALCH_TRACEBACK") == "1":
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
