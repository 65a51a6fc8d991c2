"""`alch signal --json`: the targets document (weights `alch plan --targets -` reads) and
the decision trace of every strategy that made them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from pydantic import TypeAdapter

from alchemiser_cli.core.strategy.evaluate import Blend, Trace


@dataclass(frozen=True, slots=True)
class TraceDocument:
    """One node of a decision trace."""

    kind: str
    label: str
    pos: str
    weight: Decimal
    taken: bool
    detail: str | None
    fragile: bool
    values: dict[str, Any] | None
    nodes_not_evaluated: int
    children: tuple[TraceDocument, ...]


@dataclass(frozen=True, slots=True)
class StrategyDocument:
    """One strategy's decision: its own weights, where it was fragile, its trace."""

    file: str
    name: str
    blend_weight: Decimal
    as_of: date
    weights: dict[str, Decimal]
    cash: Decimal
    rebalance_threshold: Decimal | None
    rebalance_frequency: str | None
    fragile: tuple[str, ...]
    stale: dict[str, date]
    trace: TraceDocument


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


def _trace_doc(t: Trace) -> TraceDocument:
    return TraceDocument(
        kind=t.kind,
        label=t.label,
        pos=t.pos,
        weight=t.weight,
        taken=t.taken,
        detail=t.detail or None,
        fragile=t.fragile,
        values=t.values or None,
        nodes_not_evaluated=t.hidden,
        children=tuple(_trace_doc(c) for c in t.children),
    )


def unallocated(weights: dict[str, Decimal]) -> Decimal:
    """What the weights leave unallocated, exactly (1/3 + 1/3 + 1/3 leaves 1E-28)."""
    return Decimal(1) - sum(weights.values(), Decimal(0))


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
        strategies=tuple(
            StrategyDocument(
                file=r.file,
                name=r.name,
                blend_weight=w,
                as_of=r.as_of,
                weights=r.weights,
                cash=unallocated(r.weights),
                rebalance_threshold=r.rebalance_threshold,
                rebalance_frequency=r.rebalance_frequency,
                fragile=r.fragile,
                stale=r.stale,
                trace=_trace_doc(r.trace),
            )
            for r, w in blend.results
        ),
    )
