"""What a run reports: each slice, each planned order (leg), and the run's outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.types import Exact, Money

__all__ = ["ExecutionResult", "OrderResult", "Outcome", "SliceResult"]


class Outcome(StrEnum):
    """How a run ended."""

    COMPLETED = "completed"
    QUEUED = "queued"
    NOTHING_TO_DO = "nothing_to_do"
    BLOCKED = "blocked"
    DECLINED = "declined"
    ABORTED = "aborted"  # the prompt was left (Ctrl-D, Ctrl-C, end of input): not started
    INCOMPLETE = "incomplete"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    RUNNING = "running"  # started, not ended: in progress, or stopped by a crash


@dataclass(slots=True)
class SliceResult:
    """One child order of a leg: its ids (the re-peg lineage), size and fills."""

    slice_no: int
    qty: Exact
    client_order_ids: list[str] = field(default_factory=list)
    limit_prices: list[Exact] = field(default_factory=list)
    status: LegStatus = LegStatus.PENDING
    filled_qty: Exact = ZERO
    filled_value: Money = ZERO
    error: str | None = None


@dataclass(slots=True)
class OrderResult:
    """What happened to one planned order (all its slices and re-pegs)."""

    leg: int
    client_order_id: str
    symbol: str
    side: Side
    planned_qty: Exact
    sent_qty: Exact
    limit_price: Exact | None
    status: LegStatus
    filled_qty: Exact = ZERO
    avg_price: Exact | None = None
    arrival_mid: Exact | None = None
    slippage_bps: Exact | None = None
    error: str | None = None
    repegs: int = 0
    slices: list[SliceResult] = field(default_factory=list)
    topup: bool = False  # a leg of the top-up round, not of the plan

    @property
    def complete(self) -> bool:
        """Filled in full, at the planned quantity."""
        return self.status == LegStatus.FILLED and self.filled_qty == self.planned_qty

    @property
    def filled_value(self) -> Decimal:
        """Value of what filled."""
        return self.filled_qty * (self.avg_price or ZERO)


@dataclass(slots=True)
class ExecutionResult:
    """The orders' fates and the run's outcome.

    A result is born `running`: whoever ends the run decides the outcome (the executor's
    conclusion, or the service for a run that sends nothing), so a result can never claim
    `completed` for a run that was not concluded.
    """

    orders: list[OrderResult] = field(default_factory=list)
    outcome: Outcome = Outcome.RUNNING
    message: str = ""
    filled_buy_value: Money = ZERO
    filled_sell_value: Money = ZERO
    buys_cut: tuple[Money, Money] | None = None  # (sent, planned) value of re-sized buys
    topup: str | None = None  # what the top-up round did, or why there was none
