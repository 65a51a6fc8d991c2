"""Alpaca's daily portfolio history (`GET /v2/account/portfolio/history`, timeframe 1D) as
a `PortfolioHistory`: the request's parameters and the answer's parsing, with its cash
flows (deposits, withdrawals, journals, transfers: the `cashflow_types` asked for)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.errors import BrokerError

PATH = "/account/portfolio/history"
# External cash flows (not returns): cash deposits and withdrawals, cash and stock
# journals, ACATS transfers of cash and of stock. Signed as Alpaca's activities are.
FLOW_TYPES = "CSD,CSW,JNLC,JNLS,ACATC,ACATS"
FLOWS = frozenset(FLOW_TYPES.split(","))


def history_params(start: date, end: date) -> dict[str, str]:
    """The query for the daily history of the sessions from `start` to `end`."""
    first = datetime.combine(start, time(), NEW_YORK)
    last = datetime.combine(end + timedelta(days=1), time(), NEW_YORK) - timedelta(seconds=1)
    return {
        "timeframe": "1D",
        "start": first.isoformat(),
        "end": last.isoformat(),
        "cashflow_types": FLOW_TYPES,
    }


def _number(value: Any, what: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise BrokerError(f"unexpected portfolio history from Alpaca: {what} {value!r}") from None
    if not number.is_finite():
        raise BrokerError(f"unexpected portfolio history from Alpaca: {what} {value!r}")
    return number


def _day(stamp: Any) -> date:
    """The session of a 1D point (labelled at the session's start, in Unix seconds)."""
    try:
        if isinstance(stamp, bool) or not isinstance(stamp, int | float | str):
            raise TypeError(stamp)
        return datetime.fromtimestamp(int(stamp), UTC).date()
    except (TypeError, ValueError, OverflowError, OSError):
        raise BrokerError(
            f"unexpected portfolio history from Alpaca: timestamp {stamp!r}"
        ) from None


def parse_history(raw: Any) -> PortfolioHistory:
    """The days, equity and net flows of Alpaca's answer (a null equity is a day before the
    account existed, left out); the days must rise."""
    if not isinstance(raw, dict):
        raise BrokerError("unexpected portfolio history from Alpaca (expected an object)")
    stamps, equity = raw.get("timestamp") or [], raw.get("equity") or []
    if not isinstance(stamps, list) or not isinstance(equity, list) or len(stamps) != len(equity):
        raise BrokerError("unexpected portfolio history from Alpaca: timestamps and equity differ")
    flows = [ZERO] * len(stamps)
    cashflow = raw.get("cashflow") or {}
    if not isinstance(cashflow, dict):
        raise BrokerError("unexpected portfolio history from Alpaca: cashflow is not an object")
    for kind, values in cashflow.items():
        if kind not in FLOWS:  # asked for only these; anything else (a dividend) is a return
            continue
        if not isinstance(values, list) or len(values) != len(stamps):
            raise BrokerError(f"unexpected portfolio history from Alpaca: cashflow {kind}")
        for i, value in enumerate(values):
            flows[i] += _number(value or 0, f"cashflow {kind}")
    days: list[date] = []
    values_out: list[Decimal] = []
    flows_out: list[Decimal] = []
    for stamp, value, flow in zip(stamps, equity, flows, strict=True):
        if value is None:
            continue
        day = _day(stamp)  # 1D points are labelled at the session's start
        if days and day <= days[-1]:
            raise BrokerError(
                f"unexpected portfolio history from Alpaca: {day} is not in time order"
            )
        days.append(day)
        values_out.append(_number(value, "equity"))
        flows_out.append(flow)
    return PortfolioHistory(tuple(days), tuple(values_out), tuple(flows_out))
