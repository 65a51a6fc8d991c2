"""What `alch execute` shows while orders go out.

On a terminal: a live rich table of the orders (sent, filled, re-pegged, status) and the
latest event, redrawn on every event. Elsewhere (cron, pipes): one plain line per event
on stderr. `--quiet` shows neither; NO_COLOR is honoured by rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.results import OrderResult
from alchemiser_cli.render.layout import Cell, fitted_table
from alchemiser_cli.render.tables import columns_of

Listener = Callable[[str], None]
_STATUS_STYLE = {
    "filled": "green",
    "partially_filled": "yellow",
    "new": "cyan",
    "accepted": "cyan",
    "pending": "dim",
}


_SETTLED = frozenset({"filled", "canceled", "rejected", "expired", "not_sent", "send_failed"})
PROGRESS = columns_of("#, side, symbol, planned:1, sent:2, filled, re-pegs:3, status")


def orders_table(legs: Sequence[OrderResult], width: int) -> RenderableType:
    """One row per leg: what was sent, what filled, the re-pegs and the status."""
    rows: list[list[Cell]] = []
    for leg in legs:
        rows.append([
            str(leg.leg),
            leg.side.value,
            leg.symbol,
            fmt(leg.planned_qty),
            fmt(leg.sent_qty),
            fmt(leg.filled_qty),
            str(leg.repegs),
            Text(leg.status, style=_STATUS_STYLE.get(leg.status, "bold red")),
        ])  # fmt: skip
    return fitted_table("Orders", PROGRESS, rows, width)


def orders_view(legs: Sequence[OrderResult], message: str, console: Console) -> RenderableType:
    """The live frame: the orders table and the latest event, no taller than the screen
    (a frame taller than the screen cannot be redrawn in place: rows scroll away and the
    table's title is printed again). Working legs come first; those left out are counted
    in one line (every leg is in the report at the end)."""
    order = sorted(legs, key=lambda leg: (leg.status in _SETTLED, leg.leg))
    shown = len(order)
    while True:
        kept = sorted(order[:shown], key=lambda leg: leg.leg)
        parts: list[RenderableType] = [orders_table(kept, console.width)]
        if shown < len(order):
            more = len(order) - shown
            parts.append(Text(f"... {more} more legs (all in the report when the run ends)"))
        parts.append(Text(message))
        frame = Group(*parts)
        lines = console.render_lines(frame, console.options.update(height=None), pad=False)
        if len(lines) < console.height or shown == 0:
            return frame
        shown = max(0, min(shown - 1, shown - (len(lines) - console.height + 1)))


@contextmanager
def live_view(stream: TextIO, progress: Callable[[], Sequence[OrderResult]]) -> Iterator[Listener]:
    """A live table on a terminal; yields the listener that redraws it.

    The view starts at the first event, after any confirmation prompt, and leaves its
    last frame on screen.
    """
    console = Console(file=stream, highlight=False)
    live = Live(console=console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False)

    def on_event(message: str) -> None:
        if not live.is_started:
            live.start()
        live.update(orders_view(progress(), message, console), refresh=True)

    try:
        yield on_event
    finally:
        if live.is_started:
            live.stop()


@contextmanager
def plain_events(stream: TextIO) -> Iterator[Listener]:
    """One line per event, for logs and pipes."""

    def on_event(message: str) -> None:
        stream.write(f"alch: {message}\n")
        stream.flush()

    yield on_event
