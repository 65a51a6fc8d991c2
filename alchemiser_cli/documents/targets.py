"""`alch signal --json`: the targets document (weights `alch plan --targets -` reads) and
the decision trace of every strategy that made them.

Read back (`signal_targets`), the document is the strategies' decision as `--strategy`
makes it: its targets carry the trace, so the run gets the `signal.*` checks, the
strategies' band and a journaled trace. A document whose figures do not follow from its
trace (an edited weight, band, session or symbol list) is refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from pydantic import TypeAdapter, ValidationError

from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.strategy.evaluate import Blend
from alchemiser_cli.core.strategy.record import (
    SignalRecord,
    StrategyDocument,
    TraceDocument,
    blended,
    strategy_documents,
    unallocated,
)
from alchemiser_cli.core.targets import Targets, parse_targets
from alchemiser_cli.core.types import Exact
from alchemiser_cli.errors import InputError

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class TargetsDocument:
    """`alch signal --json`: target weights `alch plan --targets -` reads, and the trace."""

    as_of: date
    synthetic_bars: bool
    current_price_live: bool
    targets: dict[str, Decimal]  # as computed: the plan id hashes their exact form
    cash: Exact  # written out whole ("0", never "0E-27")
    rebalance_threshold: Decimal | None
    fragile_margin: Decimal  # decisions within this relative margin were marked fragile
    symbols: tuple[str, ...]  # every symbol any branch of the strategies can hold
    strategies: tuple[StrategyDocument, ...]
    schema_version: int = 1


TARGETS_ADAPTER: Final = TypeAdapter(TargetsDocument)


def targets_document(blend: Blend, margin: Decimal, symbols: tuple[str, ...]) -> TargetsDocument:
    """The JSON document of a blend."""
    results = [r for r, _ in blend.results]
    return TargetsDocument(
        as_of=max(r.as_of for r in results),
        synthetic_bars=any(r.synthetic for r in results),
        current_price_live=any(r.live_prices for r in results),
        targets=blend.weights,
        cash=unallocated(blend.weights),
        rebalance_threshold=blend.rebalance_threshold,
        fragile_margin=margin,
        symbols=tuple(sorted(set(symbols))),
        strategies=strategy_documents(blend),
    )


def strategies_source(record: SignalRecord) -> str:
    """How a plan names targets made by strategies: each file with its blend weight."""
    names = ", ".join(f"{s.file} ({fmt(s.blend_weight * 100)}%)" for s in record.strategies)
    return f"strategies {names}"


def is_signal_document(text: str) -> bool:
    """Whether targets text is `alch signal --json` output (a JSON object with strategies)."""
    if not text.lstrip("\ufeff \t\r\n").startswith("{"):
        return False
    try:
        doc = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError):  # not JSON, or nested too deep: not a signal
        return False
    return isinstance(doc, dict) and "strategies" in doc


def read_targets(text: str, *, where: str, fmt: str | None = None) -> Targets:
    """Targets from a file or stdin: a signal document (JSON from `alch signal --json`,
    carrying its trace), else plain targets in TOML, JSON or CSV."""
    if fmt in (None, "json") and is_signal_document(text):
        return signal_targets(text, where)
    return parse_targets(text, where=where, fmt=fmt)


def signal_targets(text: str, where: str) -> Targets:
    """The targets of a signal document, carrying its trace; an incomplete document, or one
    whose figures do not follow from its trace, is an `InputError`."""
    try:
        doc = TARGETS_ADAPTER.validate_json(text.removeprefix("\ufeff"))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(
            f"{where}: invalid signal document field {field}: {first['msg']} (make it again "
            "with `alch signal --json`)"
        ) from None
    problem = _inconsistency(doc)
    if problem is not None:
        raise InputError(
            f"{where}: signal document: {problem}: it was edited or damaged; run `alch signal` "
            "again"
        )
    record = SignalRecord(
        as_of=doc.as_of,
        synthetic_bars=doc.synthetic_bars,
        current_price_live=doc.current_price_live,
        fragile_margin=doc.fragile_margin,
        rebalance_threshold=doc.rebalance_threshold,
        symbols=doc.symbols,
        strategies=doc.strategies,
    )
    source = f"{strategies_source(record)} (signal document {where})"
    return Targets(dict(sorted(doc.targets.items())), source, signal=record)


def traced_weights(node: TraceDocument) -> dict[str, Decimal]:
    """Each symbol's weight in a trace: the taken asset leaves, summed in trace order."""
    out: dict[str, Decimal] = {}
    for leaf in _taken_assets(node):
        if leaf.weight != ZERO:
            out[leaf.label] = out.get(leaf.label, ZERO) + leaf.weight
    return out


def _taken_assets(node: TraceDocument) -> Iterator[TraceDocument]:
    if not node.taken:
        return
    if node.kind == "asset":
        yield node
    for child in node.children:
        yield from _taken_assets(child)


def _differs(a: dict[str, Decimal], b: dict[str, Decimal]) -> tuple[str, Decimal, Decimal] | None:
    """The first symbol whose weight differs between `a` and `b` (zeros are absent)."""
    a = {s: w for s, w in a.items() if w != ZERO}
    b = {s: w for s, w in b.items() if w != ZERO}
    for symbol in sorted(set(a) | set(b)):
        if a.get(symbol, ZERO) != b.get(symbol, ZERO):
            return symbol, a.get(symbol, ZERO), b.get(symbol, ZERO)
    return None


def _inconsistency(doc: TargetsDocument) -> str | None:
    """What in the document does not follow from its trace (None: all of it does)."""
    for s in doc.strategies:
        found = _differs(traced_weights(s.trace), s.weights)
        if found is not None:
            symbol, traced, said = found
            return (
                f"strategy {s.name.strip()}: its trace gives {symbol} {fmt(traced)} but its "
                f"weights say {fmt(said)}"
            )
    found = _differs(blended(doc.strategies), doc.targets)
    if found is not None:
        symbol, traced, said = found
        return f"the strategies' trace gives {symbol} {fmt(traced)} but the targets say {fmt(said)}"
    if not doc.strategies:
        return "it names no strategy"
    if doc.cash != unallocated(doc.targets):
        return (
            f"cash {fmt(doc.cash)} is not what the targets leave, {fmt(unallocated(doc.targets))}"
        )
    thresholds = [s.rebalance_threshold for s in doc.strategies if s.rebalance_threshold]
    tightest = min(thresholds) if thresholds else None
    if doc.rebalance_threshold != tightest:
        shown = "none" if tightest is None else fmt(tightest)
        given = "none" if doc.rebalance_threshold is None else fmt(doc.rebalance_threshold)
        return f"rebalance_threshold {given} is not the strategies' tightest, {shown}"
    last = max(s.as_of for s in doc.strategies)
    if doc.as_of != last:
        return f"as_of {doc.as_of.isoformat()} is not the strategies' last session, {last}"
    held = {leaf.label for s in doc.strategies for leaf in _taken_assets(s.trace)}
    missing = sorted(held - set(doc.symbols))
    if missing:
        return f"symbols leaves out {', '.join(missing)} that the trace holds"
    return None


__all__ = [
    "StrategyDocument",
    "TargetsDocument",
    "TraceDocument",
    "is_signal_document",
    "read_targets",
    "signal_targets",
    "strategies_source",
    "targets_document",
    "unallocated",
]
