"""The status of one order alch sends: the broker's lifecycle plus alch's own steps.

One vocabulary for the executor's report lines, the journal's orders table and the
service's reconciliation, so no module keeps its own set of loose strings. The values are
the strings journals have always stored, so an old journal reads back unchanged.
"""

from __future__ import annotations

from enum import StrEnum

from alchemiser_cli.core.models import OrderStatus


class LegStatus(StrEnum):
    """Where one order (or one planned leg) stands."""

    # alch's own steps, before or instead of the broker's answer
    PENDING = "pending"  # planned, not yet journaled (report lines only)
    INTENT = "intent"  # committed to the journal, not yet sent
    SEND_FAILED = "send_failed"  # the broker refused it at submit (error says why)
    UNCONFIRMED = "unconfirmed"  # sent, no answer, not found when asked: may still arrive
    NOT_SENT = "not_sent"  # never sent (the run stopped, or a buy re-sized to nothing)
    # the broker's answer cannot be true (e.g. more filled than ordered): its figures are
    # journaled as they came, and `alch reconcile --accept` takes the broker's word
    DISPUTED = "disputed"
    # the broker's lifecycle (OrderStatus)
    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    DONE_FOR_DAY = "done_for_day"
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"

    @classmethod
    def of(cls, status: OrderStatus) -> LegStatus:
        """The leg status for a broker order status (the same string)."""
        return cls(status.value)

    @classmethod
    def settled(cls) -> frozenset[LegStatus]:
        """Final statuses: nothing to look up at the broker any more."""
        return _SETTLED

    @classmethod
    def unsettled(cls) -> frozenset[LegStatus]:
        """Statuses whose fate is unknown: the order may exist at the broker, or appear later."""
        return _UNSETTLED

    @classmethod
    def never_reached(cls) -> frozenset[LegStatus]:
        """Statuses of orders that never reached the broker."""
        return _NEVER_REACHED

    @classmethod
    def not_working(cls) -> frozenset[LegStatus]:
        """Statuses of orders that are not (or no longer) working at the broker."""
        return _NOT_WORKING

    @property
    def is_settled(self) -> bool:
        """Final: nothing to look up at the broker any more."""
        return self in _SETTLED

    @property
    def is_unsettled(self) -> bool:
        """Fate unknown: look it up at the broker before sending anything else."""
        return self in _UNSETTLED

    @property
    def reached_broker(self) -> bool:
        """Not known to have stayed away from the broker (`send_failed`, `not_sent`)."""
        return self not in _NEVER_REACHED


def is_settled(status: str) -> bool:
    """Whether a status string (as journaled) is final: nothing to look up at the broker."""
    return status in _SETTLED


_NEVER_REACHED = frozenset({LegStatus.SEND_FAILED, LegStatus.NOT_SENT})
_SETTLED = frozenset(
    {
        LegStatus.FILLED,
        LegStatus.CANCELED,
        LegStatus.EXPIRED,
        LegStatus.REJECTED,
        LegStatus.REPLACED,
        LegStatus.DISPUTED,
        *_NEVER_REACHED,
    }
)
_UNSETTLED = frozenset({LegStatus.INTENT, LegStatus.UNCONFIRMED})
_NOT_WORKING = frozenset(
    {LegStatus.REJECTED, LegStatus.CANCELED, LegStatus.EXPIRED, LegStatus.DISPUTED, *_NEVER_REACHED}
)
