"""`--csv DIR`: the tearsheet's series as CSV files for pandas users: `equity.csv` (and the
benchmark, the backtest and the tracking difference where there are), `weights.csv`,
`trades.csv` and `monthly_returns.csv`. Money to the cent, ratios to 6 decimals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from alchemiser_cli.core.backtest import drawdowns
from alchemiser_cli.documents.backtest import cents, ratio
from alchemiser_cli.documents.tearsheet import Tearsheet


def _csv(head: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(rows)
    return out.getvalue()


def _equity(sheet: Tearsheet) -> str:
    head = ["date", "equity", "drawdown"]
    columns = [
        [cents(v) for v in sheet.equity],
        [ratio(d) for d in drawdowns(sheet.stats.start_value, sheet.equity)],
    ]
    if sheet.benchmark_equity is not None:
        head.append(f"benchmark_{sheet.benchmark}")
        columns.append([cents(v) for v in sheet.benchmark_equity])
    if sheet.overlay is not None:
        head += ["backtest", "tracking_difference"]
        columns.append([cents(v) for v in sheet.overlay.equity])
        columns.append([ratio(v) for v in sheet.overlay.tracking_daily])
    rows = ([d.isoformat(), *(c[i] for c in columns)] for i, d in enumerate(sheet.days))
    return _csv(head, rows)


def _weights(sheet: Tearsheet) -> str:
    names = list(sheet.weights)
    rows = (
        [d.isoformat(), *(ratio(sheet.weights[s][i]) for s in names)]
        for i, d in enumerate(sheet.days)
    )
    return _csv(["date", *names], rows)


def _trades(sheet: Tearsheet) -> str:
    head = ["date", "symbol", "side", "qty", "price", "value", "cost", "fees"]
    rows = (
        [
            t.day.isoformat(),
            t.symbol,
            t.side.value,
            t.qty,
            t.price,
            cents(t.value),
            cents(t.cost),
            cents(t.fees),
        ]
        for t in sheet.trades
    )
    return _csv(head, rows)


def _monthly(sheet: Tearsheet) -> str:
    mine = sheet.stats.metrics.monthly_returns if sheet.stats.metrics else {}
    bench = sheet.benchmark_stats
    theirs = bench.metrics.monthly_returns if bench and bench.metrics else {}
    head = ["year", "month", "return"]
    if bench is not None:
        head.append(f"benchmark_{sheet.benchmark}")
    if sheet.overlay is not None:
        head.append("tracking_difference")
    rows = []
    for (year, month), value in mine.items():
        row: list[object] = [year, month, ratio(value)]
        if bench is not None:
            other = theirs.get((year, month))
            row.append(ratio(other) if other is not None else "")
        if sheet.overlay is not None:
            diff = sheet.overlay.tracking_monthly.get((year, month))
            row.append(ratio(diff) if diff is not None else "")
        rows.append(row)
    return _csv(head, rows)


def csv_files(sheet: Tearsheet) -> dict[str, str]:
    """File name to content, for `--csv DIR`."""
    return {
        "equity.csv": _equity(sheet),
        "weights.csv": _weights(sheet),
        "trades.csv": _trades(sheet),
        "monthly_returns.csv": _monthly(sheet),
    }
