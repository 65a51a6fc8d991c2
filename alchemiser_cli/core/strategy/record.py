"""The decision trace as a record: what `alch signal --json` prints and a plan carries.

Pure data (no I/O): the targets document (`documents/targets.py`) and the plan's `signal`
field are made of these, so the trace reads the same wherever it appears. The trace is
informational: what a plan trades is its targets, and a saved plan whose trace does not
add up to its targets is refused (`blended`, used by `documents/plan.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from alchemiser_cli.core.strategy import indicators as ind
from alchemiser_cli.core.strategy.evaluate import Blend, Trace
from alchemiser_cli.core.types import Exact

ZERO = Decimal(0)


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
    weights: dict[str, Decimal]  # as computed: the plan id hashes their exact form
    cash: Exact  # written out whole ("0", never "0E-27")
    rebalance_threshold: Decimal | None
    rebalance_frequency: str | None
    fragile: tuple[str, ...]
    stale: dict[str, date]
    trace: TraceDocument
    # RSI/EMA read on fewer closes than a full warm-up: "file:line:col: what read N closes"
    short_warmup: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A plan made from strategies: the trace of each, and what the checks need.

    `symbols` are every symbol the strategies can hold, in any branch (the tradable check
    looks at all of them); `fragile_margin` is the relative margin decisions were judged
    fragile by.
    """

    as_of: date
    synthetic_bars: bool
    current_price_live: bool
    fragile_margin: Decimal
    rebalance_threshold: Decimal | None
    symbols: tuple[str, ...]
    strategies: tuple[StrategyDocument, ...]
    # Why the session the run trades on is not a rebalance session of any strategy
    # (`:rebalance-frequency`), and the next one that is; None when it is.
    off_schedule: str | None = None
    next_rebalance: date | None = None


def trace_document(t: Trace) -> TraceDocument:
    """The record of one trace node and its children."""
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
        children=tuple(trace_document(c) for c in t.children),
    )


def unallocated(weights: dict[str, Decimal]) -> Decimal:
    """What the weights leave unallocated, exactly (1/3 + 1/3 + 1/3 leaves 1E-28)."""
    return Decimal(1) - sum(weights.values(), Decimal(0))


def strategy_documents(blend: Blend) -> tuple[StrategyDocument, ...]:
    """Each strategy of a blend, with its trace."""
    return tuple(
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
            trace=trace_document(r.trace),
            short_warmup=r.short_warmup,
        )
        for r, w in blend.results
    )


def signal_record(
    blend: Blend,
    margin: Decimal,
    symbols: Sequence[str],
    schedule: tuple[str, date] | None = None,
) -> SignalRecord:
    """What a plan made from `blend` carries (`schedule`: why its session is not a
    rebalance session, and the next one)."""
    results = [r for r, _ in blend.results]
    return SignalRecord(
        as_of=max(r.as_of for r in results),
        synthetic_bars=any(r.synthetic for r in results),
        current_price_live=any(r.live_prices for r in results),
        fragile_margin=margin,
        rebalance_threshold=blend.rebalance_threshold,
        symbols=tuple(sorted(set(symbols))),
        strategies=strategy_documents(blend),
        off_schedule=None if schedule is None else schedule[0],
        next_rebalance=None if schedule is None else schedule[1],
    )


def blended(strategies: Sequence[StrategyDocument]) -> dict[str, Decimal]:
    """The targets the strategies' weights make, computed as `targets_from_strategies`
    does (same context, same order), so a faithful record gives its plan's targets exactly."""
    out: dict[str, Decimal] = {}
    with localcontext(ind.CONTEXT):
        for s in strategies:
            for symbol, weight in s.weights.items():
                out[symbol] = out.get(symbol, ZERO) + weight * s.blend_weight
    return {s: out[s] for s in sorted(out)}


@dataclass(frozen=True, slots=True)
class FragileDecision:
    """A decision within the fragile margin of flipping, with its relative margin."""

    strategy: str
    pos: str
    detail: str
    margin: Decimal  # |a - b| / max(|a|, |b|): how far the decision is from flipping


def _relative(a: Decimal, b: Decimal) -> Decimal:
    scale = max(abs(a), abs(b))
    with localcontext(ind.CONTEXT):
        return ZERO if scale == 0 else abs(a - b) / scale


def _margin_of(node: TraceDocument) -> Decimal:
    """The relative margin of a fragile `if` (lhs vs rhs) or `filter` (the last kept
    score vs the first left out), from the trace's own values."""
    values = node.values or {}
    if "lhs" in values and "rhs" in values:
        return _relative(Decimal(str(values["lhs"])), Decimal(str(values["rhs"])))
    scores = values.get("scores") or []
    kept = len(values.get("selected") or [])
    if 0 < kept < len(scores):
        last, first_out = scores[kept - 1]["score"], scores[kept]["score"]
        return _relative(Decimal(str(last)), Decimal(str(first_out)))
    return ZERO


def _walk(node: TraceDocument) -> Iterator[TraceDocument]:
    yield node
    for child in node.children:
        yield from _walk(child)


def fragile_decisions(record: SignalRecord) -> list[FragileDecision]:
    """Every taken decision marked fragile, in trace order, strategy by strategy."""
    return [
        FragileDecision(s.name.strip(), n.pos, n.detail or n.kind, _margin_of(n))
        for s in record.strategies
        for n in _walk(s.trace)
        if n.fragile and n.taken
    ]
