"""Tearsheet cost (issue 26): building the report of the 28-year, 20-stock backtest (real
closes of ../shared/data/us-daily, 1995-2022, against SPX; synthetic bars without them)
adds at most 50% to the backtest's own time, and the page stays under 8 MB.

Measured side by side in one process: the backtest's session loop (bars in memory), then
the tearsheet (`from_backtest` and the page, plotly included) of its result, then the CSV
files for the record. Best of two runs each."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import Backtest, Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.documents.tearsheet import from_backtest
from alchemiser_cli.documents.tearsheet_csv import csv_files
from alchemiser_cli.render.tearsheet.page import tearsheet_html

ROOT = Path(__file__).resolve().parent.parent
US_DAILY = ROOT.parent / "shared" / "data" / "us-daily"
TARGETS = ROOT / "examples" / "targets" / "twenty-stocks.csv"
MAX_RATIO = 1.5  # backtest + report over backtest
MAX_BYTES = 8 * 1024 * 1024


def _backtest() -> tuple[float, Backtest]:
    folder = US_DAILY if US_DAILY.is_dir() else None
    symbols = [line.split(",")[0] for line in TARGETS.read_text().splitlines()[1:]]
    bars = daily_bars([*symbols, "SPX"], date(1994, 12, 1), date(2022, 12, 28), folder)
    weights = {s: Decimal("0.05") for s in symbols}
    policy = PlannerPolicy(band_abs=Decimal("0.02"))
    setup = Setup(date(1995, 1, 3), date(2022, 12, 28), Decimal(1_000_000), policy, Decimal(5))
    started = time.perf_counter()
    bt = run_backtest(bars, symbols, lambda _d: weights, setup, benchmark="SPX")
    return time.perf_counter() - started, bt


def _report(bt: Backtest) -> tuple[float, float, int]:
    started = time.perf_counter()
    page = tearsheet_html(from_backtest(bt, synthetic=False, bar_source="bench"))
    built = time.perf_counter() - started
    started = time.perf_counter()
    csv_files(from_backtest(bt, synthetic=False, bar_source="bench"))
    return built, time.perf_counter() - started, len(page.encode("utf-8"))


def main() -> bool:
    """Print the timings and the ratio; True when both targets are met."""
    print("tearsheet: the 28-year, 20-stock backtest and its report, side by side (s)")
    loop, bt = min((_backtest() for _ in range(2)), key=lambda r: r[0])
    page_s, csv_s, size = min((_report(bt) for _ in range(2)), key=lambda r: r[0])
    ratio = (loop + page_s) / loop
    ok_ratio, ok_size = ratio <= MAX_RATIO, size < MAX_BYTES
    print(f"  backtest {len(bt.sessions)} sessions, {len(bt.trades)} trades  {loop:7.2f} s")
    print(f"  tearsheet page (plotly, one file)          {page_s:7.2f} s")
    print(f"  CSV files (not in the ratio)               {csv_s:7.2f} s")
    print(
        f"  (backtest + page) / backtest = {ratio:.2f} vs target {MAX_RATIO:.2f} -> "
        f"{'met' if ok_ratio else 'MISSED'}"
    )
    print(
        f"  page size {size / 1024 / 1024:.2f} MB vs target 8 MB -> "
        f"{'met' if ok_size else 'MISSED'}"
    )
    return ok_ratio and ok_size


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
