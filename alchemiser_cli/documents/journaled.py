"""The execute report as the journal stores it, and its typed reader.

A run's report is journaled in its JSON form (`journal_form`). Reading it back goes
through `read_report`: named, typed fields for what `status` uses, tolerant of reports
written by older versions of alch (missing fields are None, unknown ones are kept, a
report that does not parse at all reads as empty).
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from alchemiser_cli.documents.reports import ExecutionReport
from alchemiser_cli.documents.schemas import adapter

log = logging.getLogger(__name__)


def _as_text(value: object) -> object:
    """A figure as the JSON form writes it (a string); an older int or float as its text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Figure = Annotated[str | None, BeforeValidator(_as_text)]


def figure(text: str | None) -> Decimal:
    """A journaled figure as a Decimal; missing or unreadable is zero."""
    try:
        return Decimal(text) if text else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


class JournaledLeg(BaseModel):
    """One leg of a journaled report (`OrderResult` in its JSON form)."""

    model_config = ConfigDict(extra="allow")

    leg: int | None = None
    client_order_id: str | None = None
    symbol: str | None = None
    side: str | None = None
    planned_qty: Figure = None
    sent_qty: Figure = None
    filled_qty: Figure = None
    avg_price: Figure = None
    limit_price: Figure = None
    arrival_mid: Figure = None
    slippage_bps: Figure = None
    repegs: int | None = None
    status: str | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The leg as it was journaled, with any field set since."""
        return self.model_dump(mode="json", exclude_unset=True)


class JournaledReport(BaseModel):
    """A journaled `ExecutionReport`, read back."""

    model_config = ConfigDict(extra="allow")

    run_id: str | None = None
    plan_id: str | None = None
    outcome: str | None = None
    message: str | None = None
    filled_buy_value: Figure = None
    filled_sell_value: Figure = None
    orders: list[JournaledLeg] = []

    def as_json(self, legs: list[JournaledLeg]) -> dict[str, Any]:
        """The report as it was journaled, its legs replaced by `legs`."""
        data = self.model_dump(mode="json", exclude_unset=True)
        data["orders"] = [leg.as_json() for leg in legs]
        return data


def journal_form(report: ExecutionReport) -> dict[str, Any]:
    """The JSON form of a report, as the journal stores it."""
    data: dict[str, Any] = adapter("execute").dump_python(report, mode="json")
    return data


def read_report(stored: dict[str, Any] | None) -> JournaledReport:
    """Read a journaled report back (None, from a run that never finished, reads as empty)."""
    if not stored:
        return JournaledReport()
    try:
        return JournaledReport.model_validate(stored)
    except ValidationError as exc:
        log.warning("a journaled report does not parse; shown without it: %s", exc)
        return JournaledReport()
