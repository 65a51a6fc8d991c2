"""The tearsheet's tables for a terminal, under the summary: monthly returns (years by
months, with the year's total) and the deepest drawdowns, both within 80 columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from rich import box
from rich.console import Console
from rich.table import Table

from alchemiser_cli.render.tearsheet.tables import MONTHS, pct


def short_pct(value: Decimal | None) -> str:
    """A return in percent in at most 4 characters: one decimal under 10, whole above."""
    if value is None:
        return ""
    points = value * 100
    text = f"{points:.1f}" if abs(points) < Decimal("9.95") else f"{points:.0f}"
    return "0.0" if text == "-0.0" else text


def monthly_table(months: dict[tuple[int, int], Decimal], title: str) -> Table:
    """Years by months in percent, and the year compounded (fits 80 columns)."""
    # 4 + 13 columns of 4 characters, one space apart: 69 columns.
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0), show_edge=False
    )
    table.add_column("year", no_wrap=True)
    for name in (*MONTHS, "year"):
        table.add_column(name, justify="right", no_wrap=True, min_width=4)
    for year in sorted({y for y, _ in months}):
        total = Decimal(1)
        cells = []
        for m in range(1, 13):
            value = months.get((year, m))
            total *= 1 + (value or 0)
            cells.append(short_pct(value))
        table.add_row(str(year), *cells, short_pct(total - 1))
    return table


DrawdownRow = tuple[date | None, date, date | None, Decimal, int]


def drawdowns_table(rows: Sequence[DrawdownRow], title: str = "Deepest drawdowns") -> Table:
    """Peak, trough, recovery, depth and calendar days of the deepest drawdowns."""
    table = Table(title=title, title_justify="left")
    for name in ("peak", "trough", "recovered", "depth", "days"):
        table.add_column(name, justify="right" if name in ("depth", "days") else "left")
    for peak, trough, recovered, depth, days in rows:
        table.add_row(
            peak.isoformat() if peak else "start",
            trough.isoformat(),
            recovered.isoformat() if recovered else "not yet",
            pct(depth),
            f"{days:,}",
        )
    return table


def print_extras(
    out: Console, months: dict[tuple[int, int], Decimal], drawdowns: Sequence[DrawdownRow]
) -> None:
    """The monthly table and the deepest drawdowns."""
    if months:
        out.print(monthly_table(months, "Monthly returns (%)"))
    if drawdowns:
        out.print(drawdowns_table(drawdowns))
