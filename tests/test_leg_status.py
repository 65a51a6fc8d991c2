"""LegStatus: one vocabulary for the executor, the journal and reconciliation."""

from __future__ import annotations

import pytest

from alchemiser_cli.core.legs import LegStatus, is_settled
from alchemiser_cli.core.models import OrderStatus


def test_the_status_sets_are_the_strings_they_replace() -> None:
    """Each set equals the loose string set it replaced (service, executor, journal)."""
    assert LegStatus.settled() == {
        "filled", "canceled", "expired", "rejected", "replaced", "send_failed", "not_sent",
        "disputed",  # issue 21: an answer that cannot be true, settled as the broker's word
    }  # fmt: skip
    assert LegStatus.not_working() == {
        "send_failed", "not_sent", "rejected", "canceled", "expired", "disputed"
    }  # fmt: skip
    assert LegStatus.unsettled() == {"intent", "unconfirmed"}
    assert LegStatus.never_reached() == {"send_failed", "not_sent"}
    assert not LegStatus.settled() & LegStatus.unsettled()


@pytest.mark.parametrize("status", list(OrderStatus))
def test_every_broker_status_is_a_leg_status_of_the_same_string(status: OrderStatus) -> None:
    leg = LegStatus.of(status)
    assert leg.value == status.value
    assert leg.is_settled is status.is_terminal
    assert leg.reached_broker


def test_a_journaled_string_is_asked_as_it_is_stored() -> None:
    assert (is_settled("filled"), is_settled("intent"), is_settled("partially_filled")) == (
        True,
        False,
        False,
    )
    assert LegStatus("unconfirmed").is_unsettled
    assert not LegStatus.NOT_SENT.reached_broker
