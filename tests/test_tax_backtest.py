"""`alch backtest --tax` (issue 27): realised gains per year and the wash sales the strategy
would have caused, amounts only. Figures worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.backtest import Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.tax.backtest import backtest_tax
from tests.conftest import Run
from tests.test_backtest import FREE, _bars

CliFn = Callable[..., Run]
D = Decimal


def test_a_switching_strategy_realises_a_loss_and_washes_it() -> None:
    bars = _bars({"AAA": ["10", "10", "8", "9", "9"], "BBB": ["20"] * 5})

    def decide(day: date) -> dict[str, Decimal]:  # AAA after an odd day, BBB after an even
        return {"AAA": D(1)} if day.day % 2 else {"BBB": D(1)}

    bt = run_backtest(bars, ["AAA", "BBB"], decide, Setup(date(2024, 1, 2), date(2024, 1, 5),
                                                          D(1000), FREE))  # fmt: skip
    tax = backtest_tax(bt.trades)
    # 01-02 buy 100 AAA at 10. 01-03 sell them at 8: a loss of 200; buy 40 BBB at 20.
    # 01-04 sell the BBB at 20 (no gain); buy 800/9 = 88.888888888 AAA: they replace 88.9 of
    # the 100 shares sold at a loss the day before: 200 x 88.888888888 / 100 = 177.777777776
    # disallowed, added to their basis. 01-05 sell them at 9: proceeds 799.999999992, basis
    # 799.999999992 + 177.777777776: a loss of 177.78, not replaced.
    # 2024: -200 + 177.78 (the first sale, as reported) + 0 - 177.78 = -200, short-term
    (year,) = tax.years
    assert (year.year, year.short_term, year.long_term, year.disallowed, year.wash_sales) == (
        2024, D("-200.000000000"), D(0), D("177.777777776"), 1)  # fmt: skip
    (wash,) = tax.wash_sales
    assert (wash.symbol, wash.sold, wash.replacement_acquired) == (
        "AAA", date(2024, 1, 3), date(2024, 1, 4))  # fmt: skip
    assert wash.disallowed == D("177.777777776")


def test_cli_backtest_tax_reports_years_and_wash_sales(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bars = tmp_path / "bars"
    bars.mkdir()
    closes = {"AAA": [10, 10, 8, 9, 9, 9], "BBB": [20] * 6}
    for symbol, values in closes.items():
        rows = [f"2024-01-0{i + 1},{v}" for i, v in enumerate(values)]
        (bars / f"{symbol}.csv").write_text("date,close\n" + "\n".join(rows) + "\n")
    monkeypatch.setenv("ALCH_SIM_BARS", str(bars))
    targets = tmp_path / "t.toml"
    targets.write_text('[targets]\nAAA = "50%"\nBBB = "50%"\n')
    args = ("backtest", "--targets", str(targets), "--from", "2024-01-02", "--to", "2024-01-05")
    result = cli(*args, "--tax", "--json")
    assert result.exit_code == 0, result.stderr
    tax = result.json()["tax"]
    assert [y["year"] for y in tax["years"]] == [2024]
    assert tax["note"].endswith("not tax advice")
    table = cli(*args, "--tax")
    assert "Realised per year" in table.stdout
    assert cli(*args, "--json").json()["tax"] is None
    monkeypatch.setenv("ALCH_TAX__ACCOUNT", "ira")
    ira = cli(*args, "--tax")
    assert (ira.exit_code, ira.stderr) == (
        2, 'alch: error: --tax: [tax] account = "ira" has no taxable gains\n')  # fmt: skip
