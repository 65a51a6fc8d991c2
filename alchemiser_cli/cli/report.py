"""`alch report`: the live account's tearsheet (app/report.py) on the terminal, as an HTML
page (`--report FILE.html`) and as CSV files (`--csv DIR`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from alchemiser_cli.cli.backtest import (
    BenchOpt,
    CsvOpt,
    FromOpt,
    ReportOpt,
    RiskFreeOpt,
    SpreadOpt,
    StrategyOpt,
    WholeOpt,
)
from alchemiser_cli.cli.common import (
    OverwriteOpt,
    TargetsOpt,
    console,
    load_targets,
    output_for,
    output_guard,
    runtime_for,
)
from alchemiser_cli.cli.tearsheet import save_tearsheet
from alchemiser_cli.errors import InputError

if TYPE_CHECKING:
    from alchemiser_cli.app.outputs import Output
    from alchemiser_cli.documents.tearsheet import Tearsheet

UntilOpt = Annotated[str | None, typer.Option("--to", help="Last session (YYYY-MM-DD).")]


def _print(sheet: Tearsheet) -> None:
    from rich.table import Table

    from alchemiser_cli.render.tearsheet.tables import pct
    from alchemiser_cli.render.tearsheet_text import monthly_table, print_extras

    out = console()
    table = Table(title=sheet.title, title_justify="left")
    table.add_column("")
    table.add_column("live", justify="right")
    s, o = sheet.stats, sheet.overlay
    if o is not None:
        table.add_column("backtest", justify="right")
        table.add_column("difference", justify="right")
    rows = [
        ("total return", s.total_return, o.backtest_stats.total_return if o else None),
        ("CAGR", s.cagr, o.backtest_stats.cagr if o else None),
        ("max drawdown", s.max_drawdown.depth, o.backtest_stats.max_drawdown.depth if o else None),
    ]
    for name, live, bt in rows:
        cells = [name, pct(live)]
        if o is not None:
            cells += [pct(bt), pct(live - bt) if live is not None and bt is not None else "-"]
        table.add_row(*cells)
    out.print(table)
    m = s.metrics
    spans = [(d.peak, d.trough, d.recovered, d.depth, d.days) for d in m.top_drawdowns] if m else []
    print_extras(out, m.monthly_returns if m else {}, spans)
    if o is not None:
        out.print(monthly_table(o.tracking_monthly, "Tracking difference, live - backtest (%)"))
        out.print(f"Tracking difference in total: {pct(o.tracking_total)}")


def report(
    ctx: typer.Context,
    start: FromOpt = None,
    to: UntilOpt = None,
    strategy: StrategyOpt = None,
    targets: TargetsOpt = None,
    benchmark: BenchOpt = None,
    spread: SpreadOpt = "5",
    whole_shares: WholeOpt = False,
    risk_free: RiskFreeOpt = "0",
    page: ReportOpt = None,
    csv_dir: CsvOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """The live account measured: its tearsheet, and against the backtest of its strategy."""
    from alchemiser_cli.api.flags import decimal_flag, parse_day
    from alchemiser_cli.app.report import ReportRequest, live_report

    if bool(strategy) and targets is not None:
        raise InputError("give either --strategy FILE (repeatable) or --targets FILE, not both")
    # the live account's figures (its number, its equity): private to the user, as tax lots
    html = private(output_for(page, "--report", "report", overwrite))
    csv = private(output_for(csv_dir, "--csv", "CSV files", overwrite))
    with runtime_for(ctx, before=output_guard([html, csv], targets, strategy)) as rt:
        req = ReportRequest(
            start=parse_day(start, "--from") if start else None,
            end=parse_day(to, "--to") if to else None,
            strategies=tuple(strategy or ()),
            targets=load_targets(targets),
            benchmark=benchmark.strip().upper() if benchmark else None,
            spread_bps=decimal_flag(spread, "--spread", "5", "10000"),
            whole_shares=whole_shares,
            risk_free=decimal_flag(risk_free, "--risk-free", "0.02", "1"),
        )
        sheet = live_report(rt, req)
        save_tearsheet(ctx, rt, sheet, html, csv)
        _print(sheet)


def private(output: Output | None) -> Output | None:
    """The same output, written 0600."""
    return None if output is None else replace(output, private=True)
