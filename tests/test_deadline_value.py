"""The run's `Deadline` (issue 25): one pure value, made once at the command's start, told
to the broker once, asked by everything that waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.deadline import Deadline
from tests.conftest import OPEN_NOW, Run

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_a_deadline_answers_from_the_time_it_is_given() -> None:
    deadline = Deadline.after(NOW, 90)
    assert deadline == Deadline(NOW + timedelta(seconds=90), 90)
    assert deadline.left(NOW) == 90
    assert deadline.left(NOW + timedelta(seconds=100)) == -10
    assert not deadline.expired(NOW + timedelta(seconds=89.999))
    assert deadline.expired(NOW + timedelta(seconds=90))
    moved = deadline.shifted(timedelta(seconds=30))
    assert (moved.at, moved.seconds) == (NOW + timedelta(seconds=120), 90)
    assert deadline.at == NOW + timedelta(seconds=90)  # a value: shifting made a new one


def test_execute_tells_the_broker_the_deadline_once_as_the_command_said(
    cli: Callable[..., Run], sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[Deadline | None] = []
    monkeypatch.setattr(SimBroker, "set_deadline", lambda self, deadline: told.append(deadline))
    run = cli("execute", "--yes", "--deadline", "90s")
    assert run.exit_code == 0, run.stderr
    start = datetime.fromisoformat(OPEN_NOW)
    assert told == [Deadline(start + timedelta(seconds=90), 90)]
