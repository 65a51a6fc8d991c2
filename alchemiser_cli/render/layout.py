"""Fit a table to the terminal without ever cutting a figure.

Rich shrinks every column evenly when a table is too wide and ends cut cells with "…",
which turned `265.4` into `265.…` right before "Send 4 order(s)?". Here each column is
measured first: figures and short words keep their full width, free text (messages,
reasons) wraps, and when that is not enough the least important columns are left out
(named under the table). If even the essential columns cannot fit, each row becomes a
wrapped line of `name value` pairs, which splits only between words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.errors import MarkupError
from rich.table import Table
from rich.text import Text

# A wrapping column is never squeezed below this many cells (unless its text is shorter).
WRAP_MIN = 12
# Each column costs its padding (one cell each side) and one border; the table one more.
_PER_COLUMN = 3


@dataclass(frozen=True, slots=True)
class Col:
    """One column: its header, how it is aligned, and how readily it is left out."""

    name: str
    right: bool = False  # figures are right-aligned
    drop: int = 0  # 0: essential; higher numbers are left out first when space is short
    wrap: bool = False  # free text that may run over several lines


Cell = str | Text


def as_text(cell: Cell) -> Text:
    """A cell as rich Text (strings may carry rich markup, as in any rich table)."""
    if isinstance(cell, Text):
        return cell
    try:
        return Text.from_markup(cell)
    except MarkupError:
        return Text(cell)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _widths(columns: Sequence[Col], rows: Sequence[Sequence[Text]]) -> tuple[list[int], list[int]]:
    """Each column's natural width (nothing wrapped) and its least width (nothing cut)."""
    natural: list[int] = []
    least: list[int] = []
    for i, col in enumerate(columns):
        cells = [row[i] for row in rows]
        full = max([len(col.name), *(c.cell_len for c in cells)])
        if col.wrap:
            words = max([_longest_word(col.name), *(_longest_word(c.plain) for c in cells)])
            least.append(min(full, max(WRAP_MIN, words)))
        else:
            cell_max = max((c.cell_len for c in cells), default=0)
            least.append(max(cell_max, _longest_word(col.name)))
        natural.append(full)
    return natural, least


def _fit(natural: list[int], least: list[int], budget: int) -> list[int] | None:
    """Widths within `budget` cells (borders excluded), growing from the least toward the
    natural width, headers and short columns first; None when even the least is too wide."""
    if sum(natural) <= budget:
        return natural
    widths = list(least)
    spare = budget - sum(widths)
    if spare < 0:
        return None
    for i in sorted(range(len(widths)), key=lambda i: natural[i] - least[i]):
        grow = min(spare, natural[i] - widths[i])
        widths[i] += grow
        spare -= grow
    return widths


def fitted_table(
    title: str, columns: Sequence[Col], rows: Sequence[Sequence[Cell]], width: int
) -> RenderableType:
    """A table no wider than `width` in which every figure is shown in full."""
    texts = [[as_text(cell) for cell in row] for row in rows]
    shown = list(range(len(columns)))
    while True:
        natural, least = _widths(
            [columns[i] for i in shown], [[r[i] for i in shown] for r in texts]
        )
        widths = _fit(natural, least, width - _PER_COLUMN * len(shown) - 1)
        if widths is not None:
            break
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            return _stacked(title, columns, texts)
        # the highest drop number goes first; among equals, the rightmost
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    # a column left out with nothing in it hides nothing, so it is not named
    hidden = [
        col.name
        for i, col in enumerate(columns)
        if i not in shown and any(row[i].plain for row in texts)
    ]
    caption = f"not shown at {width} columns: {', '.join(hidden)} (see --json)" if hidden else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for i, w in zip(shown, widths, strict=True):
        col = columns[i]
        table.add_column(
            col.name,
            justify="right" if col.right else "left",
            width=w,  # never below a figure's width: only headers and free text wrap
            overflow="fold",
        )
    for row in texts:
        table.add_row(*(row[i] for i in shown))
    return table


def _stacked(title: str, columns: Sequence[Col], rows: Sequence[Sequence[Text]]) -> Group:
    """Too narrow for a table: one wrapped line of `name value` pairs per row."""
    lines: list[RenderableType] = [Text(title, style="table.title")]
    for row in rows:
        line = Text()
        for col, cell in zip(columns, row, strict=True):
            if not cell.plain:
                continue
            if line:
                line.append("  ")
            line.append(f"{col.name} ", style="dim")
            line.append_text(cell)
        lines.append(line)
    return Group(*lines)
