"""The tearsheet page: one self-contained HTML file (plotly.js embedded once, inline CSS,
nothing fetched when it opens) for a backtest or the live account (`Tearsheet`)."""

from __future__ import annotations

from html import escape

from plotly.offline import get_plotlyjs

from alchemiser_cli.documents.tearsheet import Tearsheet
from alchemiser_cli.render.tearsheet import charts, tables

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#24292f}
main{max-width:1200px;margin:0 auto;padding:12px}
h1{font-size:1.4rem;margin:.4em 0}h2{font-size:1.1rem;margin:1.4em 0 .4em}
.synthetic{background:#fff8c5;border:1px solid #d4a72c;padding:6px 10px;font-weight:bold}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
table.settings th{text-align:left}table.settings td{text-align:left;white-space:normal}
h1,p,table.settings td{overflow-wrap:anywhere}
.chart{width:100%;margin:8px 0}.note{font-size:12px;color:#57606a}
.grid{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
@media (max-width:600px){main{padding:8px}table{font-size:11px}td,th{padding:2px 4px}
td:first-child,th:first-child{white-space:normal;overflow-wrap:anywhere}}
"""

CONVENTIONS = (
    "Daily returns; 252 sessions a year; the risk-free rate is annual (rf / 252 a day); "
    "CAGR over calendar days / 365.25; 3Y, 5Y and 10Y annualised likewise; drawdowns from a "
    "running peak (the starting value the first). Full trades: <code>--json</code> or "
    "<code>--csv DIR</code>."
)


def _charts(sheet: Tearsheet) -> list[str]:
    figures = [("equity-chart", charts.equity_figure(sheet))]
    tracking = charts.tracking_figure(sheet)
    if tracking is not None:
        figures.append(("tracking-chart", tracking))
    figures.append(("underwater-chart", charts.underwater_figure(sheet)))
    for i, fig in enumerate(charts.rolling_figures(sheet)):
        figures.append((("rolling-sharpe", "rolling-volatility", "rolling-beta")[i], fig))
    weights = charts.weights_figure(sheet)
    if weights is not None:
        figures.append(("weights-chart", weights))
    return [f'<div class="chart">{charts.figure_html(f, i)}</div>' for i, f in figures]


def tearsheet_html(sheet: Tearsheet) -> str:
    """The whole page."""
    body = [f"<h1>{escape(sheet.title)}</h1>"]
    if sheet.synthetic:
        body.append('<p class="synthetic">SYNTHETIC BARS: a demonstration, not market data.</p>')
    body += [f'<p class="note">{escape(n)}</p>' for n in sheet.notes]
    body.append(tables.settings(sheet))
    body += ["<h2>Key figures</h2>", tables.key_figures(sheet)]
    body += ["<h2>Trailing returns</h2>", tables.trailing(sheet)]
    shown = _charts(sheet)
    body += shown[:1]
    rest = shown[1:]
    if sheet.overlay is not None:
        body += rest[:1]
        rest = rest[1:]
        body += [
            "<h2>Tracking difference by month (live - backtest)</h2>",
            tables.monthly_heatmap(sheet, "tracking-monthly", sheet.overlay.tracking_monthly),
        ]
    body += rest[:1]
    body += ["<h2>Monthly returns</h2>", tables.monthly_heatmap(sheet)]
    body += ["<h2>Years</h2>", tables.yearly(sheet)]
    body += ["<h2>Deepest drawdowns</h2>", tables.top_drawdowns(sheet)]
    body += rest[1:]
    if sheet.symbols:
        body += ["<h2>By symbol</h2>", tables.symbols(sheet)]
    body.append(f'<p class="note">{CONVENTIONS}</p>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(sheet.title)}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head>'
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
