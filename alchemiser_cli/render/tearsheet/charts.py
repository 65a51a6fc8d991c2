"""The tearsheet's interactive charts, built with plotly (its script is embedded once by
`page.py`). Dates travel as milliseconds on a date axis and values as typed arrays, so a
28-year daily series stays small; the weights are drawn at each week's last session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from alchemiser_cli.core.backtest import drawdowns
from alchemiser_cli.documents.tearsheet import Tearsheet

EQUITY, BENCH, BACKTEST, LOSS = "#1f6feb", "#6e7781", "#bf8700", "#cf222e"
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}
HEIGHT = 360


def _ms(days: Sequence[date]) -> np.ndarray:
    """Each date's midnight UTC in milliseconds (what a plotly date axis reads)."""
    return np.array(
        [datetime.combine(d, time(), UTC).timestamp() * 1000 for d in days], dtype="float64"
    )


def _values(values: Sequence[Decimal | None], digits: int) -> np.ndarray:
    """Decimals as floats rounded to `digits` (NaN for none: a gap in the line)."""
    return np.array(
        [round(float(v), digits) if v is not None else np.nan for v in values], dtype="float64"
    )


def _layout(title: str, y_title: str, y_format: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "height": HEIGHT,
        "margin": {"l": 10, "r": 10, "t": 70, "b": 10},
        "legend": {"orientation": "h", "y": -0.12, "yanchor": "top", "x": 0},
        "hovermode": "x unified",
        "xaxis": {"type": "date", "automargin": True},
        "yaxis": {"title": {"text": y_title}, "tickformat": y_format, "automargin": True},
        "template": "plotly_white",
    }
    layout.update(extra)
    return layout


def equity_figure(sheet: Tearsheet) -> go.Figure:
    """Equity against the benchmark (and the backtest, live), with a log-scale toggle."""
    x = _ms(sheet.days)
    traces = [
        go.Scatter(
            x=x,
            y=_values(sheet.equity, 2),
            name="strategy" if sheet.overlay is None else "live account",
            line={"color": EQUITY, "width": 1.6},
        )
    ]
    if sheet.benchmark_equity is not None:
        traces.append(
            go.Scatter(
                x=x,
                y=_values(sheet.benchmark_equity, 2),
                name=f"benchmark {sheet.benchmark}",
                line={"color": BENCH, "width": 1.2},
            )
        )
    if sheet.overlay is not None:
        traces.append(
            go.Scatter(
                x=x,
                y=_values(sheet.overlay.equity, 2),
                name=sheet.overlay.label,
                line={"color": BACKTEST, "width": 1.4, "dash": "dot"},
            )
        )
    if sheet.runs:
        at = {d: e for d, e in zip(sheet.days, sheet.equity, strict=True)}
        marks = [r for r in sheet.runs if r.day in at]
        traces.append(
            go.Scatter(
                x=_ms([r.day for r in marks]),
                y=_values([at[r.day] for r in marks], 2),
                mode="markers",
                name="alch runs",
                text=[r.label for r in marks],
                marker={"symbol": "triangle-up", "size": 9, "color": "#1a7f37"},
                hovertemplate="%{text}<extra></extra>",
            )
        )
    values = [v for v in sheet.equity if v > 0]
    log = bool(values) and max(values) > 10 * min(values)  # a long rise reads on a log scale
    toggle = {
        "type": "buttons",
        "direction": "right",
        "x": 1,
        "xanchor": "right",
        "y": 1.01,
        "yanchor": "bottom",
        "showactive": True,
        "active": 1 if log else 0,
        "pad": {"b": 2},
        "buttons": [
            {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
            {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]},
        ],
    }
    layout = _layout("Equity", "value", ",.0f", updatemenus=[toggle])
    layout["yaxis"]["type"] = "log" if log else "linear"
    return go.Figure(traces, layout)


def underwater_figure(sheet: Tearsheet) -> go.Figure:
    """The drawdown from the running peak, with its 0% line."""
    x = _ms(sheet.days)
    dd = drawdowns(sheet.stats.start_value, sheet.equity)
    traces = [
        go.Scatter(
            x=x,
            y=_values(dd, 6).astype("float32"),
            name="strategy",
            fill="tozeroy",
            line={"color": LOSS, "width": 1},
        )
    ]
    if sheet.benchmark_equity is not None and sheet.benchmark_stats is not None:
        bdd = drawdowns(sheet.benchmark_stats.start_value, sheet.benchmark_equity)
        traces.append(
            go.Scatter(
                x=x,
                y=_values(bdd, 6).astype("float32"),
                name=f"benchmark {sheet.benchmark}",
                line={"color": BENCH, "width": 1},
            )
        )
    layout = _layout("Drawdown (underwater)", "from peak", ".0%")
    layout["yaxis"].update({"zeroline": True, "zerolinewidth": 2, "zerolinecolor": "#24292f"})
    layout["shapes"] = [
        {
            "type": "line",
            "xref": "paper",
            "x0": 0,
            "x1": 1,
            "y0": 0,
            "y1": 0,
            "line": {"color": "#24292f", "width": 1},
        }
    ]
    return go.Figure(traces, layout)


def rolling_figures(sheet: Tearsheet) -> list[go.Figure]:
    """Rolling Sharpe, volatility and (with a benchmark) beta over 6 and 12 months."""
    x = _ms(sheet.days)
    out = []
    for name, key, fmt in (
        ("Sharpe", "sharpe", ".2f"),
        ("volatility", "volatility", ".0%"),
        ("beta", "beta", ".2f"),
    ):
        if key == "beta" and sheet.benchmark_equity is None:
            continue
        traces = [
            go.Scatter(
                x=x,
                y=_values(getattr(r, key), 6).astype("float32"),
                name=f"{r.window // 21} months",
                line={"width": 1.2},
            )
            for r in sheet.rolling
        ]
        out.append(go.Figure(traces, _layout(f"Rolling {name}", name, fmt)))
    return out


def weights_figure(sheet: Tearsheet) -> go.Figure | None:
    """Each holding's share of the equity, stacked, at each week's last session."""
    if not sheet.weights:
        return None
    keep = [
        i
        for i in range(len(sheet.days))
        if i + 1 == len(sheet.days)
        or sheet.days[i + 1].isocalendar()[:2] != sheet.days[i].isocalendar()[:2]
    ]
    x = _ms([sheet.days[i] for i in keep])
    traces = [
        go.Scatter(
            x=x,
            y=np.array([round(float(w[i]), 4) for i in keep], dtype="float32"),
            name=symbol,
            stackgroup="weights",
            line={"width": 0.5},
        )
        for symbol, w in sheet.weights.items()
    ]
    layout = _layout("Weights over time", "share of equity", ".0%", height=HEIGHT + 120)
    return go.Figure(traces, layout)


def tracking_figure(sheet: Tearsheet) -> go.Figure | None:
    """Live against backtest: each session's tracking difference and its running sum."""
    if sheet.overlay is None:
        return None
    x = _ms(sheet.days)
    daily = sheet.overlay.tracking_daily
    running, total = [], Decimal(0)
    for d in daily:
        total += d
        running.append(total)
    traces = [
        go.Bar(
            x=x, y=_values(daily, 8), name="a session (live - backtest)", marker={"color": EQUITY}
        ),
        go.Scatter(x=x, y=_values(running, 8), name="summed", line={"color": BACKTEST}),
    ]
    return go.Figure(traces, _layout("Tracking difference", "return points", ".2%"))


def figure_html(fig: go.Figure, div_id: str) -> str:
    """One figure as a div and its script (plotly.js itself is embedded once, by the page)."""
    return str(
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            config=CONFIG,
            div_id=div_id,
            default_width="100%",
            default_height=f"{HEIGHT}px",
        )
    )
