"""Run `alch` with a crash injected at one step of execution (for test_crash.py).

Usage: python tests/crash_runner.py POINT MODE alch-args...

POINT is where the process dies:
  after_journal   an order's intent is committed to the journal, nothing sent yet
  after_submit    the broker accepted an order, its answer never reached the journal
  after_partial   the journal recorded a partial fill
  during_wait     the first wait for fills
MODE is `exit` (os._exit(137): no cleanup, no finally, like SIGKILL or a power cut) or
`raise` (an unexpected exception unwinds through the code as a bug would).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli.app import main
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import BrokerOrder, OrderStatus
from alchemiser_cli.journal import Journal

KILLED = 137


class InjectedCrash(RuntimeError):
    """The `raise` mode's failure."""


def crash(mode: str) -> None:
    """Die now, the way MODE says."""
    if mode == "exit":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(KILLED)
    raise InjectedCrash("injected crash")


def after(method: Callable[..., Any], when: Callable[[Any], bool], mode: str) -> Any:
    """Wrap `method`: run it, then crash if `when(result)`."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = method(*args, **kwargs)
        if when(result):
            crash(mode)
        return result

    return wrapped


def install(point: str, mode: str, patch: Callable[[Any, str, Any], None] = setattr) -> None:
    """Patch the step named by `point` so the process dies right after it.

    `patch` is `setattr` in the subprocess, pytest's `monkeypatch.setattr` in-process.
    """
    always: Callable[[Any], bool] = lambda _result: True  # noqa: E731
    if point == "after_journal":
        patch(Journal, "record_intent", after(Journal.record_intent, always, mode))
    elif point == "after_submit":
        patch(SimBroker, "submit_order", after(SimBroker.submit_order, always, mode))
    elif point == "after_partial":
        original = Journal.record_broker_state

        def record(self: Journal, order: BrokerOrder, now: Any) -> None:
            original(self, order, now)
            if order.status is OrderStatus.PARTIALLY_FILLED:
                crash(mode)

        patch(Journal, "record_broker_state", record)
    elif point == "during_wait":

        def sleep(self: FixedClock, seconds: float) -> bool:
            crash(mode)
            return True

        patch(FixedClock, "sleep", sleep)
    else:
        raise SystemExit(f"unknown crash point {point!r}")


if __name__ == "__main__":
    install(sys.argv[1], sys.argv[2])
    sys.argv = ["alch", *sys.argv[3:]]
    main()
