"""`alch backtest` for people: the statistics next to the benchmark's, yearly returns, and
an equity and drawdown chart drawn with text (no graphics needed)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from alchemiser_cli.documents.backtest import BacktestDocument, ReplayDocument, StatsDocument
from alchemiser_cli.render.tearsheet_text import print_extras
from alchemiser_cli.render.text import escape

_BLOCKS = " ▁▂▃▄▅▆▇█"


def pct(value: Decimal | None) -> str:
    """A fraction as a percentage with two decimals; a dash for none."""
    return "-" if value is None else f"{value * 100:.2f}%"


def num(value: Decimal | None) -> str:
    """A statistic with two decimals; a dash for none."""
    return "-" if value is None else f"{value:.2f}"


def _rows(s: StatsDocument) -> list[str]:
    dd_dates = "-"
    if s.max_drawdown_peak is not None and s.max_drawdown_trough is not None:
        back = s.max_drawdown_recovered.isoformat() if s.max_drawdown_recovered else "not yet"
        dd_dates = f"{s.max_drawdown_peak} → {s.max_drawdown_trough} (recovered {back})"
    return [
        f"{s.end_value:,.2f}",
        pct(s.total_return),
        pct(s.cagr),
        pct(s.volatility),
        num(s.sharpe),
        num(s.sortino),
        pct(s.max_drawdown),
        dd_dates,
        num(s.calmar),
        pct(s.turnover_per_year),
        f"{s.costs:,.2f}",
        str(s.orders),
        pct(s.time_in_market),
    ]


STAT_NAMES = (
    "final value", "total return", "CAGR", "volatility (annual)", "Sharpe", "Sortino",
    "max drawdown", "drawdown dates", "Calmar", "turnover per year", "costs paid", "orders",
    "time in market",
)  # fmt: skip


def chart_lines(
    values: Sequence[Decimal],
    bench: Sequence[Decimal] | None,
    drawdown: Sequence[Decimal],
    width: int,
    height: int = 10,
) -> list[str]:
    """Equity (●) and benchmark (·) as a text chart, and a drawdown strip below it."""
    width = max(1, min(width, len(values)))
    step = len(values) / width

    def sample(series: Sequence[Decimal]) -> list[Decimal]:
        return [series[min(len(series) - 1, int((c + 1) * step) - 1)] for c in range(width)]

    eq = sample(values)
    bm = sample(bench) if bench is not None else []
    dd = [
        min(drawdown[int(c * step) : max(int((c + 1) * step), int(c * step) + 1)])
        for c in range(width)
    ]
    top, low = max(eq + bm), min(eq + bm)
    span = top - low or Decimal(1)
    grid = [[" "] * width for _ in range(height)]
    for series, mark in ((bm, "·"), (eq, "●")):
        for c, v in enumerate(series):
            row = height - 1 - int(((v - low) / span * (height - 1)).to_integral_value())
            grid[row][c] = mark
    label = max(len(f"{top:,.0f}"), len(f"{low:,.0f}"))
    lines = []
    for r, cells in enumerate(grid):
        tick = f"{top:,.0f}" if r == 0 else f"{low:,.0f}" if r == height - 1 else ""
        lines.append(f"{tick:>{label}} │{''.join(cells)}")
    deepest = min(dd) if dd else Decimal(0)
    strip = "".join(_BLOCKS[int(d / deepest * 8)] if deepest < 0 else " " for d in dd)
    lines.append(f"{'':>{label}} └{'─' * width}")
    lines.append(f"{'dd':>{label}}  {strip}")
    lines.append(f"{'':>{label}}  deepest drawdown {pct(deepest)}")
    return lines


def render_backtest(out: Console, doc: BacktestDocument) -> None:
    """The tables and the chart."""
    title = f"Backtest {doc.start} → {doc.end}, {doc.sessions} sessions: {escape(doc.source)}"
    if doc.synthetic_bars:
        title += " (SYNTHETIC BARS)"
    table = Table(title=title, title_justify="left")
    table.add_column("statistic")
    table.add_column("strategy", justify="right")
    if doc.benchmark_stats is not None:
        table.add_column(f"benchmark {doc.benchmark}", justify="right")
    bench_rows = _rows(doc.benchmark_stats) if doc.benchmark_stats is not None else None
    for i, (name, value) in enumerate(zip(STAT_NAMES, _rows(doc.stats), strict=True)):
        row = [name, value]
        if bench_rows is not None:
            row.append(bench_rows[i])
        table.add_row(*row)
    out.print(table)
    years = Table(title="Yearly returns", title_justify="left")
    years.add_column("year")
    years.add_column("strategy", justify="right")
    if doc.benchmark_stats is not None:
        years.add_column(str(doc.benchmark), justify="right")
    for year, change in doc.stats.yearly_returns.items():
        cells = [year, pct(change)]
        if doc.benchmark_stats is not None:
            cells.append(pct(doc.benchmark_stats.yearly_returns.get(year)))
        years.add_row(*cells)
    out.print(years)
    values = [p.equity for p in doc.equity]
    bench = [p.benchmark for p in doc.equity if p.benchmark is not None] or None
    legend = "equity ●" + (f"  benchmark {doc.benchmark} ·" if bench else "")
    out.print(Text(legend))
    for line in chart_lines(values, bench, [p.drawdown for p in doc.equity], out.width - 16):
        out.print(Text(line), overflow="ignore", crop=False)
    months = {(int(k[:4]), int(k[5:])): v for k, v in doc.stats.monthly_returns.items()}
    spans = [(d.peak, d.trough, d.recovered, d.depth, d.days) for d in doc.stats.top_drawdowns]
    print_extras(out, months, spans)


def render_replay(out: Console, doc: ReplayDocument) -> None:
    """Run by run: where the live run differed from the backtest's day, or that it did not."""
    if doc.synthetic_bars:
        out.print(
            Text(
                "SYNTHETIC BARS: the backtest's closes are made up, so its prices and the live "
                "fills cannot be compared (set ALCH_SIM_BARS for real closes)",
                style="bold magenta",
            )
        )
    for run in doc.runs:
        title = f"Run {run.run_id} on {run.date} ({run.outcome})"
        if not run.differences:
            out.print(Text(f"{title}: as the backtest would have done"))
            continue
        table = Table(title=title, title_justify="left")
        for name in ("kind", "symbol", "live", "backtest", "difference"):
            table.add_column(name)
        for d in run.differences:
            table.add_row(d.kind, d.symbol, d.live, d.backtest, d.note)
        out.print(table)
