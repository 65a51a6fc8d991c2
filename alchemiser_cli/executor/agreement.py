"""Waiting for the broker's positions to show a run's fills (the top-up round's condition:
Alpaca's positions trail its order fills for seconds). Bounded, backing off, on the
injected clock; the reason to skip the round when they still differ."""

from __future__ import annotations

from collections.abc import Callable

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.models import EQUITY
from alchemiser_cli.core.policy import ExecutionPolicy
from alchemiser_cli.executor.pure import MIN_WAIT_S
from alchemiser_cli.executor.topup import RunKnowledge, disagreement


def await_agreement(
    broker: Broker,
    clock: Clock,
    policy: ExecutionPolicy,
    known: RunKnowledge,
    end: float,
    stopped: Callable[[], bool],
) -> str | None:
    """Read the broker's equity positions until they are what the run knows, or `end`
    (epoch seconds) passes, or a stop; None when they agree, else why the round is
    skipped. Waits back off from `poll_initial_s` to `poll_max_s`."""
    interval = policy.poll_initial_s
    while True:
        held = {s: p.qty for s, p in broker.positions().items() if p.asset_class == EQUITY}
        differ = disagreement(known.positions, held)
        if differ is None:
            return None
        now = clock.now().timestamp()
        if now >= end or stopped():
            return f"the broker's positions do not show this run's fills yet ({differ})"
        if not clock.sleep(max(MIN_WAIT_S, min(interval, end - now))):
            return "interrupted while waiting for the broker's positions"
        interval = min(interval * 2, policy.poll_max_s)
