"""`alch signal` for people: the decision tree and the weights (rich); the JSON form is
`documents/targets.py`."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from alchemiser_cli.core.strategy.evaluate import Blend, Trace
from alchemiser_cli.documents.targets import unallocated


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
    table.add_row("cash", _pct(unallocated(blend.weights)))
    console.print(table)
    if blend.rebalance_threshold is not None:
        console.print(
            f"rebalance threshold from the strategy: {blend.rebalance_threshold} "
            "(the absolute band when none is configured)"
        )
