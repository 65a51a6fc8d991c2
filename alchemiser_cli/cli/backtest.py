"""`alch backtest`: parse the flags, run the backtest (app/backtest.py), print the report,
the JSON document or the HTML page."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alchemiser_cli.cli.common import (
    BandOpt,
    JsonOpt,
    OverwriteOpt,
    ReinvestOpt,
    TargetsOpt,
    console,
    emit_json,
    globals_of,
    load_targets,
    output_for,
    output_guard,
    runtime_for,
)
from alchemiser_cli.errors import InputError

if TYPE_CHECKING:
    from alchemiser_cli.api import BacktestRun
    from alchemiser_cli.app.outputs import Output
    from alchemiser_cli.app.runtime import Runtime

StrategyOpt = Annotated[
    list[str] | None,
    typer.Option("--strategy", "-s", help="Strategy file (.clj); repeatable, FILE=0.6 blends."),
]
FromOpt = Annotated[str | None, typer.Option("--from", help="First session (YYYY-MM-DD).")]
ToOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--to", help="Last session (YYYY-MM-DD); also `--to edge` or `--to target` for bands."
    ),
]
CashOpt = Annotated[str, typer.Option("--cash", help="Starting cash in USD.")]
SpreadOpt = Annotated[
    str, typer.Option("--spread", help="Full bid/ask spread in basis points (half paid a trade).")
]
BenchOpt = Annotated[
    str | None, typer.Option("--benchmark", help="Buy-and-hold symbol to compare with (SPY).")
]
WholeOpt = Annotated[bool, typer.Option("--whole-shares", help="Trade whole shares only.")]
RiskFreeOpt = Annotated[
    str, typer.Option("--risk-free", help="Annual risk-free rate for Sharpe/Sortino (0.02).")
]
ReplayOpt = Annotated[
    bool,
    typer.Option(
        "--replay-journal",
        help="Hold the journal's live runs against the backtest's day: targets, orders, fills.",
    ),
]
RunsOpt = Annotated[int, typer.Option("--runs", min=1, help="How many live runs to replay.")]
TaxOpt = Annotated[
    bool,
    typer.Option("--tax", help="Also report realised gains per year and wash sales (amounts)."),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also write the interactive tearsheet (one HTML file)."),
]
CsvOpt = Annotated[
    Path | None,
    typer.Option("--csv", help="Also write equity, weights, trades and monthly returns as CSV."),
]


SYNTHETIC_NOTE = (
    "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, not market data\n"
)


def _split_to(values: list[str]) -> tuple[date, str | None]:
    """`--to DATE` (required) and `--to edge|target` (optional), in any order; either
    given twice is an error, never the last one silently."""
    from alchemiser_cli.api.flags import parse_day

    dates = [v for v in values if v not in ("edge", "target")]
    modes = [v for v in values if v in ("edge", "target")]
    for kind, given in (("a date", dates), ("a mode", modes)):
        if len(given) > 1:
            raise InputError(
                f"--to given twice as {kind} ({given[0]!r} and {given[1]!r}): give one last "
                "session (and at most one of edge or target)"
            )
    if not dates:
        raise InputError("give the last session as --to YYYY-MM-DD")
    return parse_day(dates[0], "--to"), modes[0] if modes else None


def progress_line(
    stream: typer.FileTextWrite | None = None, what: str = "sessions"
) -> Callable[[int, int], None]:
    """`what` done (sessions simulated, symbols' bars read) and the time left, redrawn on one
    line at most 5 times a second."""
    out = stream or sys.stderr
    started = time.monotonic()
    shown = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - shown[0] < 0.2:
            return
        shown[0] = now
        elapsed = now - started
        left = elapsed / done * (total - done) if done else 0.0
        out.write(f"\ralch: backtest {done}/{total} {what}, about {left:.0f}s left ")
        if done >= total:
            out.write("\n")
        out.flush()

    return report


def backtest(
    ctx: typer.Context,
    start: FromOpt = None,
    to: ToOpt = None,
    strategy: StrategyOpt = None,
    targets: TargetsOpt = None,
    cash: CashOpt = "100000",
    band: BandOpt = None,
    reinvest: ReinvestOpt = False,
    spread: SpreadOpt = "5",
    benchmark: BenchOpt = None,
    whole_shares: WholeOpt = False,
    risk_free: RiskFreeOpt = "0",
    json_out: JsonOpt = False,
    report: ReportOpt = None,
    csv_dir: CsvOpt = None,
    replay_journal: ReplayOpt = False,
    runs: RunsOpt = 20,
    tax: TaxOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run strategies or fixed targets over history with the real planner and costs."""
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.api.backtest import sources
    from alchemiser_cli.api.flags import planner_overrides
    from alchemiser_cli.app.outputs import refuse_foreign

    if bool(strategy) and targets is not None:
        raise InputError("give either --strategy FILE (repeatable) or --targets FILE, not both")
    if replay_journal:
        given = [n for n, v in (("--tax", tax), ("--report", report), ("--csv", csv_dir)) if v]
        if given:
            raise InputError(
                "--replay-journal lists the differences of journaled runs: it takes no "
                f"{given[0]} (drop one)"
            )
        _replay(ctx, tuple(strategy or ()), targets, spread, whole_shares, runs, json_out)
        return
    if start is None:
        raise InputError("give the first session as --from YYYY-MM-DD")
    end, mode = _split_to(to or [])
    sources(strategy or (), targets)
    page = output_for(report, "--report", "report", overwrite)
    csv = output_for(csv_dir, "--csv", "CSV files", overwrite)
    guard = output_guard([page, csv], targets, strategy)
    with runtime_for(ctx, lambda: planner_overrides(band, mode, reinvest), before=guard) as rt:
        if page is not None:
            refuse_foreign(rt, page)  # before the run: a refusal costs no backtest
        show = globals_of(ctx).verbosity >= 0 and sys.stderr.isatty()
        run = api.backtest_run(
            strategy or (), targets, start=start, end=end, cash=cash, spread=spread,
            benchmark=benchmark, whole_shares=whole_shares, risk_free=risk_free, tax=tax,
            progress=progress_line() if show else None,
            bars_progress=progress_line(what="symbols' bars read") if show else None,
            runtime=rt,
        )  # fmt: skip
        _show(ctx, rt, run, (page, csv), json_out)


def _show(
    ctx: typer.Context,
    rt: Runtime,
    run: BacktestRun,
    files: tuple[Output | None, Output | None],
    json_out: bool,
) -> None:
    """The synthetic-bars note, the tearsheet files, then the report or the document."""
    from alchemiser_cli.render.backtest import render_backtest

    doc, outcome = run.document, run.outcome
    if outcome.synthetic and globals_of(ctx).verbosity >= 0:
        sys.stderr.write(SYNTHETIC_NOTE)
    page, csv = files
    if page is not None or csv is not None:
        from alchemiser_cli.app.report import bar_source
        from alchemiser_cli.cli.tearsheet import save_tearsheet
        from alchemiser_cli.documents.tearsheet import from_backtest

        sheet = from_backtest(
            outcome.result, synthetic=outcome.synthetic, bar_source=bar_source(rt)
        )
        save_tearsheet(ctx, rt, sheet, page, csv)
    if json_out:
        emit_json("backtest", doc)
    else:
        render_backtest(console(), doc)
        if doc.tax is not None:
            from alchemiser_cli.render.tax import render_backtest_tax

            render_backtest_tax(console(), doc.tax)


def _replay(
    ctx: typer.Context,
    strategies: tuple[str, ...],
    targets: str | None,
    spread: str,
    whole_shares: bool,
    runs: int,
    json_out: bool,
) -> None:
    from alchemiser_cli.api.flags import decimal_flag
    from alchemiser_cli.app.backtest_replay import replay_journal
    from alchemiser_cli.documents.backtest import replay_document
    from alchemiser_cli.render.backtest import render_replay

    with runtime_for(ctx) as rt:
        replays, synthetic = replay_journal(
            rt, strategies, load_targets(targets),
            decimal_flag(spread, "--spread", "5", "10000"), runs,
            whole_shares=whole_shares,
        )  # fmt: skip
        doc = replay_document(replays, synthetic=synthetic)
        if synthetic and globals_of(ctx).verbosity >= 0:
            sys.stderr.write(SYNTHETIC_NOTE)
        if json_out:
            emit_json("replay", doc)
        else:
            render_replay(console(), doc)
