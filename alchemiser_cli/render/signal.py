"""`alch signal` for people: the decision tree and the weights (rich); the JSON form is
`documents/targets.py`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from alchemiser_cli.core.strategy.evaluate import Blend
from alchemiser_cli.core.strategy.record import SignalRecord, TraceDocument, trace_document
from alchemiser_cli.documents.targets import unallocated
from alchemiser_cli.render.text import escape

SIGNAL_ADAPTER: Final = TypeAdapter(SignalRecord)


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01')):f}%"


def _line(t: TraceDocument) -> str:
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
    hidden = t.nodes_not_evaluated
    if hidden:
        text += f" ({hidden} node{'' if hidden == 1 else 's'})"
    if t.fragile:
        text += "  [bold yellow]fragile[/bold yellow]"
    line_col = ":".join(t.pos.rsplit(":", 2)[-2:])  # the file is named in the title
    text += f"  [dim]{escape(line_col)}[/dim]"
    return text if t.taken else f"[dim]{text}[/dim]"


def _grow(tree: Tree, t: TraceDocument) -> None:
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
        trace = trace_document(result.trace)
        _grow(tree.add(_line(trace)), trace)
        console.print(tree)
        for text in result.fragile:
            console.print(f"[yellow]fragile:[/yellow] {escape(text)}")
        for symbol, last in result.stale.items():
            console.print(f"[yellow]stale:[/yellow] {escape(symbol)} last bar {last.isoformat()}")
        for text in result.short_warmup:
            console.print(f"[yellow]short warm-up:[/yellow] {escape(text)}")
    table = Table(title="Target weights")
    table.add_column("symbol")
    table.add_column("weight", justify="right")
    for symbol, w in blend.weights.items():
        table.add_row(escape(symbol), _pct(w))
    table.add_row("cash", _pct(unallocated(blend.weights)))
    console.print(table)
    if blend.rebalance_threshold is not None:
        console.print(
            f"rebalance threshold from the strategy: {blend.rebalance_threshold} "
            "(the absolute band when none is configured)"
        )


def render_signal_record(console: Console, data: dict[str, Any], run_id: str) -> None:
    """`status --run ID`: the decision tree of each strategy the run's plan came from, as
    journaled (a record that does not read back is named, not shown)."""
    try:
        record = SIGNAL_ADAPTER.validate_python(data)
    except ValidationError:
        console.print(f"[yellow]the decision trace of run {escape(run_id)} does not read back[/]")
        return
    for s in record.strategies:
        title = f"Decision of run {escape(run_id)}: [bold]{escape(s.name.strip())}[/bold]"
        title += f" ({escape(s.file)}, {_pct(s.blend_weight)} of the blend)"
        title += f" as of {s.as_of.isoformat()}"
        if record.synthetic_bars:
            title += " [bold magenta]SYNTHETIC BARS[/bold magenta]"
        tree = Tree(title)
        _grow(tree.add(_line(s.trace)), s.trace)
        console.print(tree)
        for text in s.fragile:
            console.print(f"[yellow]fragile:[/yellow] {escape(text)}")
        for symbol, last in s.stale.items():
            console.print(f"[yellow]stale:[/yellow] {escape(symbol)} last bar {last.isoformat()}")
