"""The values the commands and the Python API take as text (`--band 25%`, `--deadline 15m`,
`--cash 100000`), read into numbers once: one reading, one message, whichever face asked."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from alchemiser_cli.errors import InputError

FIRST_DAY = date(1900, 1, 1)  # dates a command accepts: far enough from date's own limits
LAST_DAY = date(2199, 12, 31)  # that five years of history before one never overflow
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def planner_overrides(
    bands: Sequence[str] | None, to: str | None, reinvest: bool = False
) -> dict[str, Any]:
    """Settings overrides for the planner flags (`planner__...` keys)."""
    changes: dict[str, Any] = {"reinvest": True} if reinvest else {}
    seen: dict[str, str] = {}
    for band in bands or []:
        text = band.strip()
        usage = f"--band {band!r}: give 0.05 (absolute, in weight) or 25% (relative)"
        try:
            value = Decimal(text[:-1] if text.endswith("%") else text)
        except InvalidOperation:
            raise InputError(usage) from None
        if not value.is_finite() or value <= 0:
            raise InputError(f"{usage}; it must be above zero")
        kind = "band_rel" if text.endswith("%") else "band_abs"
        if kind in changes:
            name = "a relative" if kind == "band_rel" else "an absolute"
            raise InputError(
                f"--band given twice as {name} band ({seen[kind]!r} and {band!r}): give at "
                "most one absolute (0.05) and one relative (25%) band"
            )
        seen[kind] = band
        if kind == "band_rel":
            changes["band_rel"] = value / 100
        elif value >= 1:
            raise InputError(f"{usage}; an absolute band is below 1 (write {value}% if relative)")
        else:
            changes["band_abs"] = value
    if to is not None:
        if to not in ("target", "edge"):
            raise InputError(f"--to {to!r}: choose target or edge")
        mode: Literal["target", "edge"] = "target" if to == "target" else "edge"
        changes["rebalance_to"] = mode
    return changes


def fresh_plan_flags(
    plan: object | None, band: Sequence[str] | None, to: str | None, reinvest: bool = False
) -> None:
    """--band, --to and --reinvest shape a fresh plan; a saved one keeps the policy it was
    made with."""
    if plan is not None and (band or to is not None or reinvest):
        raise InputError(
            "--band, --to and --reinvest make a fresh plan; a saved plan keeps its own "
            "policy: drop them or plan afresh"
        )


def parse_duration(text: str, flag: str) -> float:
    """`90`, `90s`, `15m` or `1h` -> seconds."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise InputError(f"{flag} {text!r}: give a positive duration such as 90s, 15m or 1h")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def execution_overrides(deadline: str | None, order_type: str | None) -> dict[str, Any]:
    """Command-line flags that change the execution policy (validated with the settings)."""
    changes: dict[str, Any] = {}
    if deadline is not None:
        changes["deadline_s"] = parse_duration(deadline, "--deadline")
    if order_type is not None:
        changes["order_type"] = order_type.strip().lower()
    return changes


def parse_day(raw: str, flag: str) -> date:
    """A `YYYY-MM-DD` flag, between 1900-01-01 and 2199-12-31 (one line, exit 2, if not)."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: give a date as YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(
            f"{flag} {raw!r}: give a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        )
    return day


def day_of(value: date | str, flag: str) -> date:
    """A date given as a date, or as text read by `parse_day`."""
    return value if isinstance(value, date) else parse_day(value, flag)


def decimal_flag(raw: str, flag: str, example: str, below: str) -> Decimal:
    """A number from 0 up to (not including) `below`, or one line naming the flag."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0:
        raise InputError(f"{flag} {raw!r}: give a number of at least 0, such as {example}")
    if value >= Decimal(below):
        raise InputError(f"{flag} {raw!r}: give a number below {below}, such as {example}")
    return value


def parse_margin(raw: str) -> Decimal:
    """`--fragile-margin`: a fraction such as 0.02 or 2%."""
    text = raw.strip()
    try:
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value < 1:
        raise InputError(f"--fragile-margin {raw!r}: give a fraction such as 0.02 or 2%")
    return value
