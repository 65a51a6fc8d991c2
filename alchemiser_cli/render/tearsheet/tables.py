"""The tearsheet's tables as HTML: key figures, trailing returns, the monthly returns heatmap,
years against the benchmark, the deepest drawdowns and the per-symbol summary. Every cell
holds its figure in full (a wide table scrolls inside its box; nothing is cut)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from alchemiser_cli.core.backtest import Stats
from alchemiser_cli.core.metrics import TRAILING, DrawdownSpan
from alchemiser_cli.documents.tearsheet import Tearsheet

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def pct(value: Decimal | None) -> str:
    """A fraction as a percentage with two decimals; a dash for none."""
    return "-" if value is None else f"{value * 100:,.2f}%"


def num(value: Decimal | None) -> str:
    """A ratio with two decimals; a dash for none."""
    return "-" if value is None else f"{value:,.2f}"


def money(value: Decimal | None) -> str:
    """Money with thousands separators and cents; a dash for none."""
    return "-" if value is None else f"{value:,.2f}"


def _table(table_id: str, head: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "") -> str:
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(rows_cell(c) for c in row) + "</tr>" for row in rows)
    return (
        f'<div class="scroll"><table id="{table_id}" class="{cls}"><thead><tr>{th}</tr>'
        f"</thead><tbody>{body}</tbody></table></div>"
    )


def rows_cell(cell: str) -> str:
    """A cell: plain text, or pre-built `<td ...>` markup (the heatmap's coloured cells)."""
    return cell if cell.startswith("<td") else f"<td>{escape(cell)}</td>"


def _key_rows(s: Stats) -> list[tuple[str, str]]:
    m, r, dd = s.metrics, s.relative, s.max_drawdown
    rows = [
        ("final value", money(s.end_value)),
        ("total return", pct(s.total_return)),
        ("CAGR", pct(s.cagr)),
        ("volatility (annual)", pct(s.volatility)),
        ("Sharpe", num(s.sharpe)),
        ("Sortino", num(s.sortino)),
        ("max drawdown", pct(dd.depth)),
        ("Calmar", num(s.calmar)),
    ]
    if m is not None:
        rows += [
            ("skew", num(m.skew)),
            ("kurtosis (excess)", num(m.kurtosis)),
            ("best day", pct(m.best_day)),
            ("worst day", pct(m.worst_day)),
            ("best month", pct(m.best_month)),
            ("worst month", pct(m.worst_month)),
            ("best year", pct(m.best_year)),
            ("worst year", pct(m.worst_year)),
            ("win rate (days)", pct(m.win_rate_days)),
            ("win rate (months)", pct(m.win_rate_months)),
        ]
    rows += [
        ("alpha (annual)", pct(r.alpha if r else None)),
        ("beta", num(r.beta if r else None)),
        ("correlation", num(r.correlation if r else None)),
        ("R²", num(r.r_squared if r else None)),
        ("tracking error", pct(r.tracking_error if r else None)),
        ("information ratio", num(r.information_ratio if r else None)),
        ("turnover per year", pct(s.turnover_per_year)),
        ("costs paid", money(s.costs)),
        ("orders", f"{s.orders:,}"),
        ("time in market", pct(s.time_in_market)),
    ]
    return rows


def key_figures(sheet: Tearsheet) -> str:
    """The statistics side by side: strategy (or live), backtest (live) and benchmark."""
    columns: list[tuple[str, Stats]] = [
        ("live account" if sheet.overlay else "strategy", sheet.stats)
    ]
    if sheet.overlay is not None:
        columns.append(("backtest", sheet.overlay.backtest_stats))
    if sheet.benchmark_stats is not None:
        columns.append((f"benchmark {sheet.benchmark}", sheet.benchmark_stats))
    rows_of = [_key_rows(s) for _, s in columns]
    rows = [[name] + [r[i][1] for r in rows_of] for i, (name, _) in enumerate(rows_of[0])]
    if sheet.overlay is not None:
        rows.append(
            ["tracking difference (total)", pct(sheet.overlay.tracking_total)]
            + [""] * (len(columns) - 1)
        )
    return _table("key-figures", ["statistic", *[c for c, _ in columns]], rows, "figures")


def trailing(sheet: Tearsheet) -> str:
    """MTD to 10Y (3Y and longer annualised), one row a window (narrow on any screen)."""
    series: list[tuple[str, Stats]] = [("strategy", sheet.stats)]
    if sheet.overlay is not None:
        series = [("live account", sheet.stats), ("backtest", sheet.overlay.backtest_stats)]
    if sheet.benchmark_stats is not None:
        series.append((f"benchmark {sheet.benchmark}", sheet.benchmark_stats))
    rows = [
        [f"{k} (annual)" if k in ("3Y", "5Y", "10Y") else k]
        + [pct(s.metrics.trailing[k]) if s.metrics else "-" for _, s in series]
        for k in TRAILING
    ]
    return _table("trailing", ["window", *[name for name, _ in series]], rows, "figures")


def _heat(value: Decimal | None) -> str:
    if value is None:
        return "<td></td>"
    strength = min(abs(float(value)) / 0.1, 1.0)  # full colour at ±10% a month
    rgb = (26, 127, 55) if value >= 0 else (207, 34, 46)
    return (
        f'<td style="background:rgba({rgb[0]},{rgb[1]},{rgb[2]},{0.12 + 0.6 * strength:.2f})">'
        f"{escape(pct(value))}</td>"
    )


def monthly_heatmap(
    sheet: Tearsheet,
    table_id: str = "monthly",
    months: dict[tuple[int, int], Decimal] | None = None,
) -> str:
    """Years by months, coloured by the month's return, with the year's total."""
    if months is None:
        months = sheet.stats.metrics.monthly_returns if sheet.stats.metrics else {}
    years = sorted({y for y, _ in months})
    totals = {}
    for year in years:
        total = Decimal(1)
        for m in range(1, 13):
            total *= 1 + months.get((year, m), Decimal(0))
        totals[year] = total - 1
    parts = []
    for third, first in enumerate((1, 5, 9)):  # three tables side by side, stacked when narrow
        span = range(first, first + 4)
        rows = [
            [str(y), *[_heat(months.get((y, m))) for m in span]]
            + ([_heat(totals[y])] if third == 2 else [])
            for y in years
        ]
        head = ["year", *[MONTHS[m - 1] for m in span]] + (["total"] if third == 2 else [])
        parts.append(_table(f"{table_id}-{third + 1}", head, rows, "heat"))
    return f'<div class="grid" id="{table_id}">{"".join(parts)}</div>'


def yearly(sheet: Tearsheet) -> str:
    """Each calendar year: the strategy, the benchmark and the difference."""
    mine = sheet.stats.yearly_returns
    theirs = sheet.benchmark_stats.yearly_returns if sheet.benchmark_stats else {}
    rows = []
    for year, value in mine.items():
        other = theirs.get(year)
        diff = value - other if other is not None else None
        rows.append([str(year), pct(value), pct(other), pct(diff)])
    head = ["year", "strategy", f"benchmark {sheet.benchmark or '-'}", "difference"]
    return _table("yearly", head, rows, "figures")


def _dd_row(span: DrawdownSpan) -> list[str]:
    return [
        span.peak.isoformat() if span.peak else "start",
        span.trough.isoformat(),
        span.recovered.isoformat() if span.recovered else "not yet",
        pct(span.depth),
        f"{span.days:,}",
    ]


def top_drawdowns(sheet: Tearsheet) -> str:
    """The five deepest drawdowns: peak, trough, recovery, depth, calendar days."""
    spans = sheet.stats.metrics.top_drawdowns if sheet.stats.metrics else ()
    head = ["peak", "trough", "recovered", "depth", "days"]
    return _table("drawdowns", head, [_dd_row(s) for s in spans], "figures")


def symbols(sheet: Tearsheet) -> str:
    """Per symbol: orders, turnover, costs and contribution (money traded: `--csv`)."""
    rows = [
        [
            s.symbol,
            f"{s.orders:,}",
            pct(s.turnover),
            money(s.costs),
            money(s.contribution),
            pct(s.contribution_pct),
        ]
        for s in sheet.symbols
    ]
    head = ["symbol", "orders", "turnover", "costs", "contribution", "of start"]
    return _table("symbols", head, rows, "figures")


def settings(sheet: Tearsheet) -> str:
    """The header: every setting that shaped the result."""
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in sheet.settings)
    return f'<div class="scroll"><table id="settings" class="settings">{rows}</table></div>'
