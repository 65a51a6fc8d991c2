"""One symbol's daily closes: what a bars source returns and the evaluator reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Series:
    """Daily closes of one symbol, oldest first, adjusted for splits and dividends."""

    dates: tuple[date, ...]
    closes: tuple[Decimal, ...]
    synthetic: bool = False
