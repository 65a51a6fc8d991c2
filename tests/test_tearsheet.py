"""Issue 26, must show 2: the tearsheet of a 28-year, 20-stock backtest (real closes,
1995-2022, against SPX) opens in headless Chromium with the network cut, without a console
error or a request beyond the file itself; at 1280 and 400 pixels wide no label is clipped
(every table cell and every chart label lies inside its box and the page) and the page's
text holds every figure in full. The CSV files carry the same series."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alchemiser_cli.cli.app import app
from alchemiser_cli.render.tearsheet.tables import MONTHS, money, pct
from alchemiser_cli.render.tearsheet_text import short_pct
from tests.chromium import CHROMIUM, Browser
from tests.conftest import REPO, Run
from tests.test_backtest import US_DAILY, needs_data
from tests.test_backtest_report import png_pixels

CliFn = Callable[..., Run]
TARGETS = str(REPO / "examples" / "targets" / "twenty-stocks.csv")
REQUIRE_BROWSER = os.environ.get("ALCH_TEST_REQUIRE_CHROMIUM") == "1"
EQUITY_BLUE = (0x1F, 0x6F, 0xEB)
MAX_BYTES = 8 * 1024 * 1024

# Every cell within its own box and the page; every chart label within its chart.
CLIPPED = """(() => {
  const out = [];
  const page = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth > page + 1) out.push('page wider than the window');
  for (const cell of document.querySelectorAll('td, th, h1, h2, p')) {
    const r = cell.getBoundingClientRect();
    if (cell.scrollWidth > cell.clientWidth + 1 || r.left < -0.5 || r.right > page + 0.5)
      out.push('cell: ' + cell.textContent);
  }
  for (const svg of document.querySelectorAll('.main-svg')) {
    const box = svg.getBoundingClientRect();
    for (const text of svg.querySelectorAll('text')) {
      const t = text.getBoundingClientRect();
      if (!text.textContent || t.width === 0) continue;
      if (t.left < box.left - 1 || t.right > box.right + 1 || t.top < box.top - 1 ||
          t.bottom > box.bottom + 1 || t.right > page + 0.5)
        out.push('label: ' + text.textContent);
    }
  }
  return out;
})()"""


def _figures(doc: dict[str, Any]) -> list[str]:
    """The figures the page must show in full, formatted as the page formats them."""
    stats, bench = doc["stats"], doc["benchmark_stats"]
    out = []
    for s in (stats, bench):
        out.append(money(Decimal(s["end_value"])))
        for key in ("total_return", "cagr", "volatility", "max_drawdown", "best_day",
                    "worst_month", "best_year", "win_rate_days"):  # fmt: skip
            out.append(pct(Decimal(s[key])))
        out += [pct(Decimal(v)) for v in s["yearly_returns"].values()]
    out += [pct(Decimal(v)) for v in stats["monthly_returns"].values()]
    out += [pct(Decimal(v)) for v in stats["trailing_returns"].values() if v is not None]
    out += [pct(Decimal(d["depth"])) for d in stats["top_drawdowns"]]
    out += [pct(Decimal(stats[k])) for k in ("alpha", "tracking_error")]
    return out


@pytest.fixture(scope="module")
def twenty(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("tearsheet")
    page, csv_dir = folder / "report.html", folder / "csv"
    env = {"ALCH_SIM_BARS": str(US_DAILY), "ALCH_HOME": str(folder / "home")}
    result = CliRunner().invoke(app, [
        "backtest", "--targets", TARGETS, "--from", "1995-01-03", "--to", "2022-12-28",
        "--benchmark", "SPX", "--band", "0.02", "--report", str(page), "--csv", str(csv_dir),
        "--json",
    ], env=env, catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return page, csv_dir, json.loads(result.stdout)


@needs_data
def test_the_28_year_report_is_one_small_file_with_every_series(
    twenty: tuple[Path, Path, dict[str, Any]],
) -> None:
    page, csv_dir, doc = twenty
    assert (doc["start"], doc["end"], doc["sessions"]) == ("1995-01-03", "2022-12-28", 7048)
    assert page.stat().st_size < MAX_BYTES
    html = page.read_text(encoding="utf-8")
    assert " src=" not in html
    assert "<link" not in html
    for chart in ("equity-chart", "underwater-chart", "rolling-sharpe", "rolling-volatility",
                  "rolling-beta", "weights-chart"):  # fmt: skip
        assert f'id="{chart}"' in html
    for table in ("settings", "key-figures", "trailing", "monthly", "yearly", "drawdowns",
                  "symbols"):  # fmt: skip
        assert f'id="{table}"' in html
    for setting in ("±2 pt", "--to", "whole shares", "collar", "fees", "spread", "SPX"):
        assert setting in html
    with (csv_dir / "equity.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == doc["sessions"]
    assert rows[-1]["equity"] == doc["stats"]["end_value"]
    assert rows[-1]["benchmark_SPX"] == doc["benchmark_stats"]["end_value"]
    with (csv_dir / "trades.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(doc["trades"])
    with (csv_dir / "weights.csv").open() as f:
        weights = list(csv.DictReader(f))
    assert len(weights) == doc["sessions"]
    assert len(weights[0]) == 21
    with (csv_dir / "monthly_returns.csv").open() as f:
        months = list(csv.DictReader(f))
    assert len(months) == len(doc["stats"]["monthly_returns"]) == 336


@needs_data
def test_the_28_year_report_opens_offline_unclipped_at_1280_and_400_pixels(
    twenty: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is required here (ALCH_TEST_REQUIRE_CHROMIUM=1) but missing")
        pytest.skip("chromium is not installed (.ci/run installs it)")
    page, _, doc = twenty
    with Browser(tmp_path / "profile") as browser:
        for width in (1280, 400):
            browser.open(page, width)
            assert browser.problems() == []
            assert set(browser.requests()) == {page.as_uri()}
            assert browser.evaluate("document.querySelectorAll('.js-plotly-plot').length") == 6
            assert browser.evaluate(CLIPPED) == [], width
            text = browser.evaluate("document.body.innerText")
            assert [f for f in _figures(doc) if f not in text] == [], width
            assert "SYNTHETIC" not in text
            browser.screenshot(tmp_path / f"report-{width}.png")  # the whole page, to look at
            shot = tmp_path / f"equity-{width}.png"
            browser.screenshot(shot, "#equity-chart")
            shot_width, _, pixels = png_pixels(shot.read_bytes())
            assert shot_width <= width
            blue = sum(
                1 for p in pixels
                if all(abs(a - b) < 40 for a, b in zip(p, EQUITY_BLUE, strict=True))
            )  # fmt: skip
            assert blue > 300, "the equity line is not drawn"


def test_the_terminal_tables_fit_80_columns(cli: CliFn) -> None:
    run = cli(
        "backtest", "--targets", str(REPO / "examples" / "targets" / "sixty-forty.toml"),
        "--from", "2022-01-03", "--to", "2024-06-28", "--benchmark", "VTI",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    lines = run.stdout.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("Monthly returns (%)")))
    assert lines[start + 1].split() == ["year", *MONTHS, "year"]
    assert [x.split()[0] for x in lines[start + 3 : start + 6]] == ["2022", "2023", "2024"]
    assert len(lines[start + 5].split()) == 8  # 2024: January to June, and the year
    assert "Deepest drawdowns" in run.stdout
    assert max(len(x) for x in lines[start:]) <= 80
    assert short_pct(Decimal("-0.1234")) == "-12"
    assert short_pct(Decimal("0.0567")) == "5.7"
