"""`alch signal` output: the targets document (JSON) and the decision tree (rich)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from pydantic import TypeAdapter
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

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


def _cash(weights: dict[str, Decimal]) -> Decimal:
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
        cash=_cash(blend.weights),
        rebalance_threshold=blend.rebalance_threshold,
        strategies=tuple(
            StrategyDocument(
                file=r.file,
                name=r.name,
                blend_weight=w,
                as_of=r.as_of,
                weights=r.weights,
                cash=_cash(r.weights),
                rebalance_threshold=r.rebalance_threshold,
                rebalance_frequency=r.rebalance_frequency,
                fragile=r.fragile,
                stale=r.stale,
                trace=_trace_doc(r.trace),
            )
            for r, w in blend.results
        ),
    )


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01')):f}%"


def _line(t: Trace) -> str:
    if t.kind == "asset":
        text = f"[bold]{escape(t.label)}[/bold]"
    elif t.label.startswith(f"{t.kind}@"):  # an unnamed node: its kind and position say it
        text = escape(t.kind)
    else:
        text = f"{escape(t.kind)} [bold]{escape(t.label)}[/bold]"
    if t.taken:
        text += f" {_pct(t.weight)}"
    if t.detail:
        text += f"  {escape(t.detail)}"
    if t.hidden:
        text += f" ({t.hidden} node{'' if t.hidden == 1 else 's'})"
    if t.fragile:
        text += "  [bold yellow]fragile[/bold yellow]"
    line_col = ":".join(t.pos.rsplit(":", 2)[-2:])  # the file is named in the title
    text += f"  [dim]{escape(line_col)}[/dim]"
    return text if t.taken else f"[dim]{text}[/dim]"


def _grow(tree: Tree, t: Trace) -> None:
    for child in t.children:
        _grow(tree.add(_line(child), style="" if child.taken else "dim"), child)


def render_signal(console: Console, blend: Blend) -> None:
    """Each strategy's decision tree (taken bright, not taken dim), then the weights."""
    for result, weight in blend.results:
        title = f"[bold]{escape(result.name.strip())}[/bold] ({escape(result.file)}"
        title += f", {_pct(weight)} of the blend" if len(blend.results) > 1 else ""
        title += f") as of {result.as_of.isoformat()}"
        if result.synthetic:
            title += " [bold magenta]SYNTHETIC BARS[/bold magenta]"
        if result.live_prices:
            title += " (current-price: latest trade, market open)"
        tree = Tree(title)
        _grow(tree.add(_line(result.trace)), result.trace)
        console.print(tree)
        for text in result.fragile:
            console.print(f"[yellow]fragile:[/yellow] {escape(text)}")
        for symbol, last in result.stale.items():
            console.print(f"[yellow]stale:[/yellow] {escape(symbol)} last bar {last.isoformat()}")
    table = Table(title="Target weights")
    table.add_column("symbol")
    table.add_column("weight", justify="right")
    for symbol, w in blend.weights.items():
        table.add_row(escape(symbol), _pct(w))
    table.add_row("cash", _pct(_cash(blend.weights)))
    console.print(table)
    if blend.rebalance_threshold is not None:
        console.print(
            f"rebalance threshold from the strategy: {blend.rebalance_threshold} "
            "(the absolute band when none is configured)"
        )
