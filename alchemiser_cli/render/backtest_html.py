"""`alch backtest --report FILE.html`: one self-contained page (inline SVG and CSS, no
script, no network) with equity against the benchmark, drawdown, yearly returns, the
statistics and the trades."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from alchemiser_cli.documents.backtest import BacktestDocument
from alchemiser_cli.render.backtest import STAT_NAMES, _rows, pct

W, H, PAD = 900, 300, 50
MAX_TRADES = 2000  # the page lists at most this many trades (the JSON has all of them)


def _points(values: Sequence[Decimal], low: Decimal, high: Decimal, height: int) -> str:
    span = high - low or Decimal(1)
    n = max(len(values) - 1, 1)
    out = []
    for i, v in enumerate(values):
        x = PAD + (W - 2 * PAD) * i / n
        y = PAD / 2 + (height - PAD) * float((high - v) / span)
        out.append(f"{x:.1f},{y:.1f}")
    return " ".join(out)


def _equity_svg(doc: BacktestDocument) -> str:
    eq = [p.equity for p in doc.equity]
    bm = [p.benchmark for p in doc.equity if p.benchmark is not None]
    low, high = min(eq + bm), max(eq + bm)
    lines = [
        f'<polyline id="equity-line" fill="none" stroke="#1f6feb" stroke-width="1.5" '
        f'points="{_points(eq, low, high, H)}"/>'
    ]
    if bm:
        lines.append(
            f'<polyline id="benchmark-line" fill="none" stroke="#999" stroke-width="1" '
            f'points="{_points(bm, low, high, H)}"/>'
        )
    labels = (
        f'<text x="{PAD - 4}" y="{PAD / 2 + 4}" text-anchor="end">{high:,.0f}</text>'
        f'<text x="{PAD - 4}" y="{H - PAD / 2}" text-anchor="end">{low:,.0f}</text>'
        f'<text x="{PAD}" y="{H - 4}">{doc.equity[0].date}</text>'
        f'<text x="{W - PAD}" y="{H - 4}" text-anchor="end">{doc.equity[-1].date}</text>'
    )
    return (
        f'<svg id="equity-chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" '
        f'role="img" aria-label="equity">{"".join(lines)}{labels}</svg>'
    )


def _drawdown_svg(doc: BacktestDocument) -> str:
    dd = [p.drawdown for p in doc.equity]
    low = min(dd) if min(dd) < 0 else Decimal(-1)
    h = H // 2
    pts = _points(dd, low, Decimal(0), h)
    return (
        f'<svg id="drawdown-chart" viewBox="0 0 {W} {h}" width="{W}" height="{h}" role="img" '
        f'aria-label="drawdown"><polyline fill="none" stroke="#d73a49" points="{pts}"/>'
        f'<text x="{PAD - 4}" y="{h - PAD / 2}" text-anchor="end">{pct(low)}</text></svg>'
    )


def _yearly_svg(doc: BacktestDocument) -> str:
    years = list(doc.stats.yearly_returns.items())
    if not years:
        return ""
    top = max(abs(v) for _, v in years) or Decimal(1)
    bar = (W - 2 * PAD) / len(years)
    mid = H / 2
    parts = []
    for i, (year, value) in enumerate(years):
        size = float(abs(value) / top) * (mid - PAD / 2)
        y = mid - size if value >= 0 else mid
        colour = "#2da44e" if value >= 0 else "#d73a49"
        x = PAD + i * bar
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" height="{size:.1f}" '
            f'fill="{colour}"><title>{escape(year)}: {pct(value)}</title></rect>'
        )
        if len(years) <= 30:
            parts.append(f'<text x="{x:.1f}" y="{H - 4}" font-size="10">{escape(year)}</text>')
    return (
        f'<svg id="yearly-chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-label="yearly returns">{"".join(parts)}'
        f'<line x1="{PAD}" x2="{W - PAD}" y1="{mid}" y2="{mid}" stroke="#333"/></svg>'
    )


def _stats_table(doc: BacktestDocument) -> str:
    head = "<tr><th>statistic</th><th>strategy</th>"
    bench = _rows(doc.benchmark_stats) if doc.benchmark_stats is not None else None
    if bench is not None:
        head += f"<th>benchmark {escape(str(doc.benchmark))}</th>"
    rows = []
    for i, (name, value) in enumerate(zip(STAT_NAMES, _rows(doc.stats), strict=True)):
        cells = f"<td>{escape(name)}</td><td>{escape(value)}</td>"
        if bench is not None:
            cells += f"<td>{escape(bench[i])}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return f'<table id="stats">{head}</tr>{"".join(rows)}</table>'


def _trades_table(doc: BacktestDocument) -> str:
    rows = [
        f"<tr><td>{t.date}</td><td>{escape(t.symbol)}</td><td>{t.side}</td><td>{t.qty}</td>"
        f"<td>{t.price:.4f}</td><td>{t.value:,.2f}</td><td>{t.cost:.2f}</td></tr>"
        for t in doc.trades[:MAX_TRADES]
    ]
    more = len(doc.trades) - MAX_TRADES
    note = f"<p>{more} more trades: see <code>--json</code>.</p>" if more > 0 else ""
    return (
        '<table id="trades"><tr><th>date</th><th>symbol</th><th>side</th><th>qty</th>'
        f"<th>price</th><th>value</th><th>cost</th></tr>{''.join(rows)}</table>{note}"
    )


def backtest_html(doc: BacktestDocument) -> str:
    """The report page."""
    title = f"alch backtest {doc.start} to {doc.end}: {doc.source}"
    synthetic = "<p><strong>SYNTHETIC BARS: a demonstration, not market data.</strong></p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}svg text{{font-size:11px}}</style>
</head><body>
<h1>{escape(title)}</h1>
{synthetic if doc.synthetic_bars else ""}
<p>{doc.sessions} sessions, initial cash {doc.initial_cash:,.2f}, spread {doc.spread_bps} bps.</p>
<h2>Equity{" against " + escape(str(doc.benchmark)) if doc.benchmark else ""}</h2>
{_equity_svg(doc)}
<h2>Drawdown</h2>
{_drawdown_svg(doc)}
<h2>Yearly returns</h2>
{_yearly_svg(doc)}
<h2>Statistics</h2>
{_stats_table(doc)}
<h2>Trades ({len(doc.trades)})</h2>
{_trades_table(doc)}
</body></html>
"""
