"""The tax figures for people: a plan's estimate, status's year to date, `alch tax`'s lots.

Every figure is an estimate for the user's own records, and says so; nothing is shown for
an IRA (the documents then carry `tax: null`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from alchemiser_cli.core.checks.tax import describe
from alchemiser_cli.core.money import dollars, fmt, money
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.tax.records import NOT_ADVICE, RealisedLot, YearToDate
from alchemiser_cli.render.layout import Cell, Col, fitted_table

if TYPE_CHECKING:  # the backtest's modules load with `backtest`, not with every table
    from alchemiser_cli.core.tax.backtest import BacktestTax

TAX_SELLS = (
    Col("#", True), Col("symbol"), Col("qty", True), Col("proceeds", True, drop=2),
    Col("basis", True, drop=2), Col("short-term", True), Col("long-term", True),
    Col("disallowed", True, drop=1),
)  # fmt: skip
TAX_LOTS = (
    Col("symbol"), Col("qty", True), Col("acquired"), Col("sold"), Col("proceeds", True),
    Col("basis", True), Col("wash adj.", True, drop=1), Col("gain", True), Col("term"),
)  # fmt: skip
CSV_HEADER = ("symbol", "qty", "acquired", "sold", "proceeds", "basis", "wash_sale_adjustment",
              "gain", "term")  # fmt: skip


def signed(value: Decimal) -> str:
    """Money with its sign first: -$54.31, $12.00."""
    return f"-{dollars(-value)}" if money(value) < 0 else dollars(value)


def render_plan_tax(console: Console, plan: Plan) -> None:
    """Per sell, the realised gain at its limit price; totals; wash sales; held positions."""
    tax = plan.tax
    if tax is None:
        return
    rows: list[list[Cell]] = [
        [str(s.leg), s.symbol, fmt(s.qty), dollars(s.proceeds), dollars(s.basis),
         signed(s.short_term), signed(s.long_term), dollars(s.disallowed)]
        for s in tax.sells
    ]  # fmt: skip
    incomplete = " [bold yellow]INCOMPLETE[/]" if tax.status == "incomplete" else ""
    title = "Tax estimate at the limit prices (FIFO lots; not tax advice)"
    if rows:
        console.print(fitted_table(title, TAX_SELLS, rows, console.width))
    else:
        console.print("Tax estimate: no sells (not tax advice)")
    console.print(
        f"Realised: short-term {signed(tax.short_term)}, long-term {signed(tax.long_term)}; "
        f"wash-sale losses disallowed {dollars(tax.disallowed)}{incomplete}"
    )
    for m in tax.mismatches:
        console.print(
            f"  [yellow]lots do not match[/] {m.symbol}: lots {fmt(m.lots_qty)} shares, broker "
            f"{fmt(m.position_qty)} (the tax figures are incomplete)"
        )
    for wash in tax.wash_sales:
        console.print(f"  [yellow]wash sale[/] {escape(describe(wash))}")
    for hold in tax.holds:
        instead = f"; {hold.substitute} takes the weight" if hold.substitute else ""
        console.print(
            f"  {hold.symbol} stays off target until {hold.until.isoformat()} "
            f"({_pct(hold.planned)} instead of {_pct(hold.wanted)}: {escape(hold.reason)}"
            f"{instead})"
        )


def _pct(weight: Decimal) -> str:
    return f"{weight * 100:.2f}%"


def year_line(ytd: YearToDate) -> str:
    """`status`: this year's realised gains in one line."""
    incomplete = " [bold yellow]INCOMPLETE[/]" if ytd.status == "incomplete" else ""
    return (
        f"Realised in {ytd.year} so far: short-term {signed(ytd.short_term)}, long-term "
        f"{signed(ytd.long_term)}; wash-sale losses disallowed {dollars(ytd.disallowed)} "
        f"({ytd.sales} lots sold; {NOT_ADVICE}){incomplete}"
    )


def render_year(console: Console, lots: Sequence[RealisedLot], ytd: YearToDate) -> None:
    """`alch tax`: every lot sold in the year, and the totals."""
    rows: list[list[Cell]] = [
        [lot.symbol, fmt(lot.qty), lot.acquired.isoformat(), lot.sold.isoformat(),
         dollars(lot.proceeds), dollars(lot.basis), dollars(lot.wash_sale_adjustment),
         signed(lot.gain), lot.term]
        for lot in lots
    ]  # fmt: skip
    title = f"Realised lots in {ytd.year} ({NOT_ADVICE}; your broker's 1099-B is authoritative)"
    console.print(fitted_table(title, TAX_LOTS, rows, console.width) if rows else title + ": none")
    console.print(year_line(ytd))


TAX_YEARS = (
    Col("year"), Col("short-term", True), Col("long-term", True), Col("disallowed", True),
    Col("wash sales", True),
)  # fmt: skip


def render_backtest_tax(console: Console, tax: BacktestTax) -> None:
    """`backtest --tax`: realised gains per year and the wash sales, amounts only."""
    rows: list[list[Cell]] = [
        [str(y.year), signed(y.short_term), signed(y.long_term), dollars(y.disallowed),
         str(y.wash_sales)]
        for y in tax.years
    ]  # fmt: skip
    title = f"Realised per year ({tax.note})"
    console.print(fitted_table(title, TAX_YEARS, rows, console.width) if rows else title + ": none")
    console.print(
        f"Total: short-term {signed(tax.short_term)}, long-term {signed(tax.long_term)}; "
        f"{len(tax.wash_sales)} wash sales, {dollars(tax.disallowed)} of losses disallowed"
    )


def csv_text(lots: Sequence[RealisedLot], year: int) -> str:
    """The year's lots as CSV, under a comment line that says what it is and is not."""
    out = io.StringIO()
    out.write(
        f"# alch: lots sold in {year}, first in first out, with wash-sale adjustments: "
        f"{NOT_ADVICE}; your broker's 1099-B is authoritative\n"
    )
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for lot in lots:
        writer.writerow([
            lot.symbol, fmt(lot.qty), lot.acquired.isoformat(), lot.sold.isoformat(),
            fmt(money(lot.proceeds)), fmt(money(lot.basis)),
            fmt(money(lot.wash_sale_adjustment)), fmt(money(lot.gain)), lot.term,
        ])  # fmt: skip
    return out.getvalue()
