"""What a strategy decided: the decision trace, one strategy's result and a blend's."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

ZERO = Decimal(0)
ONE = Decimal(1)


@dataclass(slots=True)
class Trace:
    """One node of the decision trace: what it is, where, its share of the whole and why."""

    kind: str
    label: str
    pos: str
    weight: Decimal
    taken: bool
    detail: str = ""
    fragile: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    children: list[Trace] = field(default_factory=list)
    hidden: int = 0  # nodes under a branch that was not taken (not evaluated)


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """What one symphony decided as of one session."""

    name: str
    file: str
    as_of: date
    weights: dict[str, Decimal]
    trace: Trace
    fragile: tuple[str, ...]
    rebalance_threshold: Decimal | None
    rebalance_frequency: str | None
    stale: dict[str, date]
    synthetic: bool
    live_prices: bool = False  # current-price was the latest trade, not the close
    # RSI/EMA read with fewer closes than a full warm-up (10n + 1 / 10n): "pos: what"
    short_warmup: tuple[str, ...] = ()

    @property
    def cash(self) -> Decimal:
        return ONE - sum(self.weights.values(), ZERO)


@dataclass(frozen=True, slots=True)
class Blend:
    """Several strategies blended by weight: the targets and every strategy's result."""

    weights: dict[str, Decimal]
    results: tuple[tuple[StrategyResult, Decimal], ...]
    rebalance_threshold: Decimal | None  # the tightest of the strategies' own, or None
