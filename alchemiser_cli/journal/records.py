"""What the journal's tables hold, as records: one run, one order, read from their rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.errors import JournalError

# The orders table stores LegStatus values: the broker's statuses plus alch's own
# (`intent` = committed, not yet sent; `send_failed` = the broker refused it at submit;
# `unconfirmed` = sent, no answer, not found when asked: it may still arrive, so it is
# looked up again before any later run sends; `not_sent` = never sent).
# Orders whose fate is unknown: they may exist at the broker, or appear there later.
UNSETTLED = LegStatus.unsettled()


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of the runs table."""

    run_id: str
    command: str
    broker: str
    account_id: str
    plan_id: str | None
    started_at: str
    finished_at: str | None
    outcome: str
    message: str | None
    report: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One row of the orders table."""

    client_order_id: str
    run_id: str
    leg: int
    symbol: str
    side: str
    qty: str
    limit_price: str | None
    broker_order_id: str | None
    status: LegStatus
    filled_qty: str
    filled_avg_price: str | None
    error: str | None
    updated_at: str = ""


def run_record(path: Path, row: tuple[Any, ...]) -> RunRecord:
    """A runs row (`SELECT *`); a report that does not parse is a JournalError."""
    try:
        report = None if row[10] is None else json.loads(row[10])
    except ValueError:
        raise JournalError(f"journal {path}: run {row[0]} has a damaged report") from None
    return RunRecord(
        run_id=row[0],
        command=row[1],
        broker=row[2],
        account_id=row[3],
        plan_id=row[4],
        started_at=row[5],
        finished_at=row[6],
        outcome=row[7],
        message=row[8],
        report=report,
    )


def order_record(path: Path, row: tuple[Any, ...]) -> OrderRecord:
    """An orders row; its status read back as a LegStatus (the strings never changed)."""
    try:
        status = LegStatus(row[8])
    except ValueError:
        raise JournalError(
            f"journal {path}: order {row[0]} has an unknown status {row[8]!r}: "
            "it was written by a newer alch; upgrade alch to read it"
        ) from None
    return OrderRecord(
        client_order_id=row[0],
        run_id=row[1],
        leg=row[2],
        symbol=row[3],
        side=row[4],
        qty=row[5],
        limit_price=row[6],
        broker_order_id=row[7],
        status=status,
        filled_qty=row[9],
        filled_avg_price=row[10],
        error=row[11],
        updated_at=row[12],
    )
