"""Typed failures and the exit codes they map to.

Every failure `alch` can report is an `AlchError` subclass. The CLI turns them into a
one-line message and an exit code in exactly one place (`cli/errors.py`); nothing else
calls `sys.exit`. Messages say what went wrong and what to do next.
"""

from __future__ import annotations

from enum import IntEnum

from alchemiser_cli.masking import redact


class ExitCode(IntEnum):
    """Process exit statuses, documented in the README."""

    OK = 0
    CHECK_BLOCKED = 1
    USAGE = 2
    BROKER = 3
    INCOMPLETE = 4
    LOCKED = 5
    CHANGES = 6  # --detailed-exitcode: the plan has orders (nothing failed)
    OUTPUT = 74  # stdout could not be written (a full disk, an I/O error)
    INTERNAL = 70
    INTERRUPTED = 130
    TERMINATED = 143


class AlchError(Exception):
    """Base of every failure alch reports to the user."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, *args: object) -> None:
        # Messages often carry text from outside (a broker's answer): mask secrets at birth.
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))


class InputError(AlchError):
    """Bad input: a targets file, a saved plan, a flag or a setting."""

    exit_code = ExitCode.USAGE


class ConfigError(InputError):
    """Settings (config file or environment) are missing or invalid."""


class PriceError(InputError):
    """A price needed for planning is missing, zero or negative."""


class QuoteError(PriceError):
    """The broker's quote is there but unusable (crossed, or no price in it): the broker's
    data, not the user's input, so exit 3 like any other broker failure."""

    exit_code = ExitCode.BROKER


class PlanError(InputError):
    """A saved plan cannot be used (unreadable, wrong schema, other account)."""


class ConfirmationRequired(InputError):
    """Orders would be sent but nobody confirmed (no TTY and no --yes)."""


class ConfirmationAborted(AlchError):
    """The confirmation prompt was left (Ctrl-D, Ctrl-C, end of input): nothing is sent,
    and the run ends `aborted` (exit 1), not as a failure."""

    exit_code = ExitCode.CHECK_BLOCKED


class OutputError(AlchError):
    """The output could not be written to stdout (the work itself may have been done)."""

    exit_code = ExitCode.OUTPUT


class BrokerError(AlchError):
    """The broker or the network failed or answered something unusable."""

    exit_code = ExitCode.BROKER


class OrderRejected(BrokerError):
    """The broker refused an order (buying power, asset, price...)."""


class BrokerUnavailable(BrokerError):
    """The broker did not answer usefully (timeout, reset, 5xx, 429); worth retrying."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CircuitOpen(BrokerError):
    """Too many consecutive broker failures: fail fast instead of hammering the broker."""


class WaitRefused(BrokerError):
    """A wait (rate limit, Retry-After, backoff) too long or past the run deadline: not waited."""


class AlpacaAuthError(BrokerError):
    """Alpaca refused the credentials."""


class SimDamaged(BrokerError):
    """The simulator's database file is not a (sound) SQLite database."""


class JournalError(AlchError):
    """The local journal cannot be read or written; nothing further is sent."""

    exit_code = ExitCode.INTERNAL


class LockHeld(AlchError):
    """Another alch run holds this account's lock."""

    exit_code = ExitCode.LOCKED


class Interrupted(AlchError):
    """The run was stopped by a signal; open orders of this run were cancelled."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, *, signal_exit: ExitCode = ExitCode.INTERRUPTED) -> None:
        super().__init__(message)
        self.exit_code = signal_exit


class DuplicateOrder(BrokerError):
    """The broker already has an order with this client_order_id (it was sent before)."""


class OrderNotAccepted(BrokerError):
    """The broker answered every try to send an order and took none (429s): it is not there."""


class OrderDisputed(BrokerError):
    """The broker's answer about one of alch's orders cannot be true (more filled than
    ordered, a negative quantity, a price of zero): `order` holds its figures as sent
    (a `BrokerOrder`), to be journaled as `disputed` rather than retried forever."""

    def __init__(self, message: str, order: object) -> None:
        super().__init__(message)
        self.order = order


class OrderUnsettled(BrokerError):
    """An earlier order got no answer and is not at the broker yet; it may still arrive."""
