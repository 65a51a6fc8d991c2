"""`alch signal --json`: the targets document (weights `alch plan --targets -` reads) and
the decision trace of every strategy that made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from pydantic import TypeAdapter

from alchemiser_cli.core.strategy.evaluate import Blend
from alchemiser_cli.core.strategy.record import (
    StrategyDocument,
    TraceDocument,
    strategy_documents,
    unallocated,
)


@dataclass(frozen=True, slots=True)
class TargetsDocument:
    """`alch signal --json`: target weights `alch plan --targets -` reads, and the trace."""

    as_of: date
    synthetic_bars: bool
    current_price_live: bool
    targets: dict[str, Decimal]
    cash: Decimal
    rebalance_threshold: Decimal | None
    strategies: tuple[StrategyDocument, ...]
    schema_version: int = 1


TARGETS_ADAPTER: Final = TypeAdapter(TargetsDocument)


def targets_document(blend: Blend) -> TargetsDocument:
    """The JSON document of a blend."""
    results = [r for r, _ in blend.results]
    return TargetsDocument(
        as_of=max(r.as_of for r in results),
        synthetic_bars=any(r.synthetic for r in results),
        current_price_live=any(r.live_prices for r in results),
        targets=blend.weights,
        cash=unallocated(blend.weights),
        rebalance_threshold=blend.rebalance_threshold,
        strategies=strategy_documents(blend),
    )


__all__ = [
    "StrategyDocument",
    "TargetsDocument",
    "TraceDocument",
    "targets_document",
    "unallocated",
]
