"""`alch backtest` (issue 18): the real planner over history, checked against an independent
pandas/numpy computation on real closes, bands against turnover, no look-ahead, whole
shares, the statistics, the JSON document and the terminal output."""

from __future__ import annotations

import io
import statistics
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.cli.backtest import progress_line
from alchemiser_cli.core.backtest import Backtest, SessionPoint, Setup, max_drawdown, performance
from alchemiser_cli.core.backtest_run import BacktestError, run_backtest
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.render.backtest import chart_lines
from tests.conftest import REPO, Run
from tests.fake_alpaca import CANARY_KEY_ID, CANARY_SECRET

US_DAILY = REPO.parent / "shared" / "data" / "us-daily"
CliFn = Callable[..., Run]
SYMBOLS = ["AAPL", "JNJ", "KO", "MSFT", "XOM"]
WEIGHTS = {
    "AAPL": Decimal("0.3"),
    "JNJ": Decimal("0.2"),
    "KO": Decimal("0.2"),
    "MSFT": Decimal("0.15"),
    "XOM": Decimal("0.15"),
}
START, END = date(2005, 1, 3), date(2014, 12, 31)
CASH = Decimal(1_000_000)
FREE = PlannerPolicy(collar_bps=Decimal(0), sec_fee_rate=Decimal(0), finra_taf_per_share=Decimal(0))
COSTED = PlannerPolicy(collar_bps=Decimal(0))

needs_data = pytest.mark.shared


@pytest.fixture(scope="module")
def real_bars() -> dict[str, Series]:
    return daily_bars(SYMBOLS, date(2004, 12, 1), END, US_DAILY)


def fixed(bars: Mapping[str, Series], policy: PlannerPolicy, spread: str = "0") -> Backtest:
    setup = Setup(START, END, CASH, policy, spread_bps=Decimal(spread))
    return run_backtest(bars, SYMBOLS, lambda _day: WEIGHTS, setup)


def on_cent_grid(text: str) -> float:
    """A close as a venue quotes it: to the cent at $1 and above, $0.0001 below, half-even
    (the backtest's quotes sit on that grid, issue 24)."""
    close = Decimal(text)
    return float(close.quantize(Decimal("0.01") if close >= 1 else Decimal("0.0001")))


def reference_growth() -> np.ndarray:
    """Independent: the daily-rebalanced portfolio's growth per session, with pandas, on
    closes rounded to the price grid."""
    closes = pd.DataFrame(
        {
            s: pd.read_csv(
                US_DAILY / f"{s}.csv",
                index_col="date",
                parse_dates=True,
                converters={"close": on_cent_grid},
            )["close"]
            for s in SYMBOLS
        }
    ).loc[str(START) : str(END)]
    weights = np.array([float(WEIGHTS[s]) for s in SYMBOLS])
    result: np.ndarray = (closes / closes.shift(1)).iloc[1:].to_numpy() @ weights
    return result


@needs_data
def test_fixed_weights_without_costs_match_an_independent_computation(
    real_bars: dict[str, Series],
) -> None:
    bt = fixed(real_bars, FREE)
    expected = float(CASH) * float(np.prod(reference_growth()))
    assert abs(float(bt.stats.end_value) / expected - 1) < 1e-4  # 0.01% of the final value
    assert bt.stats.costs == 0
    assert len(bt.sessions) == 2517
    assert bt.sessions[0].day == START
    assert bt.sessions[-1].day == END


@needs_data
def test_with_costs_the_difference_is_the_costs_the_report_lists(
    real_bars: dict[str, Series],
) -> None:
    bt = fixed(real_bars, COSTED, spread="10")
    assert bt.stats.costs > 20_000
    # The same independent portfolio, less each session's listed costs on that session.
    value = float(CASH) - float(bt.sessions[0].costs)
    for growth, point in zip(reference_growth(), bt.sessions[1:], strict=True):
        value = value * growth - float(point.costs)
    assert abs(float(bt.stats.end_value) / value - 1) < 1e-4
    # And exactly, in Decimal: every session's change in equity is the holdings' move
    # between closes less the costs listed for it.
    assert sum((p.costs for p in bt.sessions), Decimal(0)) == bt.stats.costs
    assert sum(t.cost for t in bt.trades) == bt.stats.costs
    frictionless = fixed(real_bars, FREE)
    assert frictionless.stats.end_value - bt.stats.end_value > bt.stats.costs  # compounding


@needs_data
def test_bands_reduce_turnover(real_bars: dict[str, Series]) -> None:
    daily = fixed(real_bars, COSTED, spread="10")
    absolute = fixed(real_bars, COSTED.model_copy(update={"band_abs": Decimal("0.05")}), "10")
    relative = fixed(real_bars, COSTED.model_copy(update={"band_rel": Decimal("0.25")}), "10")
    turnover = [round(b.stats.turnover_per_year, 4) for b in (daily, absolute, relative)]
    assert turnover == [Decimal("0.9709"), Decimal("0.0894"), Decimal("0.0794")]
    assert [b.stats.orders for b in (daily, absolute, relative)] == [12577, 35, 32]
    # Quotes on the price grid (issue 24): a 10 bps spread is widened outward to whole
    # ticks, a cent or more on these adjusted closes (AAPL at $1-20 in 2005-2014).
    assert [round(b.stats.costs) for b in (daily, absolute, relative)] == [58820, 5826, 5046]


def _bars(closes: dict[str, list[str]], start: date = date(2024, 1, 1)) -> dict[str, Series]:
    out = {}
    for symbol, values in closes.items():
        days = tuple(date(start.year, start.month, start.day + i) for i in range(len(values)))
        out[symbol] = Series(days, tuple(Decimal(v) for v in values))
    return out


def test_targets_are_decided_on_the_previous_close_only() -> None:
    bars = _bars({"AAA": ["10", "11", "12", "13"], "BBB": ["20", "20", "20", "20"]})
    asked: list[date] = []

    def decide(day: date) -> dict[str, Decimal]:
        asked.append(day)
        return {"AAA": Decimal(1)} if day.day % 2 else {"BBB": Decimal(1)}

    setup = Setup(date(2024, 1, 2), date(2024, 1, 4), Decimal(1000), FREE)
    bt = run_backtest(bars, ["AAA", "BBB"], decide, setup)
    assert [p.day.day for p in bt.sessions] == [2, 3, 4]
    assert [d.day for d in asked] == [1, 2, 3]  # never the session it trades on
    # Session 2 (decided on day 1): all AAA at 11; session 3: all BBB at 20; session 4: AAA.
    assert [(t.day.day, t.symbol, t.side.value, t.qty) for t in bt.trades] == [
        (2, "AAA", "buy", Decimal("90.909090909")),
        (3, "AAA", "sell", Decimal("90.909090909")),
        (3, "BBB", "buy", Decimal("54.545454545")),
        (4, "BBB", "sell", Decimal("54.545454545")),
        (4, "AAA", "buy", Decimal("83.916083916")),
    ]


def test_whole_shares_stay_whole_and_spread_costs_are_paid() -> None:
    bars = _bars({"AAA": ["33", "34", "35", "36", "37"]})
    setup = Setup(
        date(2024, 1, 2), date(2024, 1, 5), Decimal(1000), FREE,
        spread_bps=Decimal(20), whole_shares=True,
    )  # fmt: skip
    bt = run_backtest(bars, ["AAA"], lambda _d: {"AAA": Decimal(1)}, setup)
    assert all(t.qty == t.qty.to_integral_value() for t in bt.trades)
    # 29 shares at the ask, 34 * 1.001 = 34.034 up to the grid: 34.04 (mid 34); 30 would
    # not fit.
    (buy,) = bt.trades
    assert (buy.qty, buy.price, buy.cost) == (Decimal(29), Decimal("34.04"), Decimal("1.16"))
    assert bt.sessions[0].cash == Decimal(1000) - Decimal(29) * Decimal("34.04")
    assert bt.sessions[-1].equity == bt.sessions[-1].cash + 29 * Decimal(37)


def test_a_symbol_without_history_is_an_error_naming_it() -> None:
    bars = _bars({"AAA": ["10", "11", "12"]})
    bars["NEW"] = Series((date(2024, 1, 3),), (Decimal(5),))
    setup = Setup(date(2024, 1, 2), date(2024, 1, 3), Decimal(1000), FREE)
    with pytest.raises(BacktestError) as err:
        run_backtest(bars, ["AAA", "NEW"], lambda _d: {"NEW": Decimal(1)}, setup)
    assert str(err.value) == (
        "no close for NEW on or before 2024-01-02: start the backtest later or add its history"
    )
    late = Setup(date(2030, 1, 1), date(2030, 2, 1), Decimal(1000), FREE)
    with pytest.raises(BacktestError, match="no session between 2030-01-01 and 2030-02-01"):
        run_backtest(bars, ["AAA"], lambda _d: {"AAA": Decimal(1)}, late)


def test_statistics_on_a_hand_computed_series() -> None:
    days = [date(2024, 1, 1), date(2024, 7, 1), date(2025, 1, 1), date(2025, 7, 1)]
    equity = [Decimal(110), Decimal(88), Decimal(121), Decimal(99)]
    points = [SessionPoint(d, e, Decimal(0), e, Decimal(0), Decimal(0), {}) for d, e in
              zip(days, equity, strict=True)]  # fmt: skip
    s = performance(Decimal(100), points, (), Decimal(0))
    assert s.total_return == Decimal("-0.01")
    assert s.yearly_returns == {2024: Decimal("-0.12"), 2025: Decimal("0.125")}
    assert (s.max_drawdown.depth, s.max_drawdown.peak, s.max_drawdown.trough) == (
        Decimal("-0.2"), date(2024, 1, 1), date(2024, 7, 1),
    )  # fmt: skip
    assert s.max_drawdown.recovered == date(2025, 1, 1)
    returns = [0.1, -0.2, 0.375, 99 / 121 - 1]  # sample standard deviation, annualised
    assert float(s.volatility or 0) == pytest.approx(statistics.stdev(returns) * 252**0.5)
    mean = statistics.mean(returns)
    assert float(s.sharpe or 0) == pytest.approx(mean / statistics.stdev(returns) * 252**0.5)
    downside = (sum(min(0.0, r) ** 2 for r in returns) / 4) ** 0.5
    assert float(s.sortino or 0) == pytest.approx(mean / downside * 252**0.5)
    years = 547 / 365.25
    assert float(s.cagr or 0) == pytest.approx(0.99 ** (1 / years) - 1)
    assert float(s.calmar or 0) == pytest.approx((0.99 ** (1 / years) - 1) / 0.2)
    assert s.time_in_market == 1
    assert s.orders == 0
    dd = max_drawdown(Decimal(100), days, [Decimal(100), Decimal(90), Decimal(95), Decimal(80)])
    assert (dd.depth, dd.trough, dd.recovered) == (Decimal("-0.2"), date(2025, 7, 1), None)


def test_the_terminal_chart_draws_equity_benchmark_and_drawdown() -> None:
    values = [Decimal(v) for v in (100, 110, 90, 120)]
    bench = [Decimal(v) for v in (100, 100, 100, 100)]
    dd = [Decimal(0), Decimal(0), Decimal("-0.2"), Decimal(0)]
    lines = chart_lines(values, bench, dd, width=4, height=4)
    assert lines == [
        "120 │   ●",
        "    │ ●  ",
        "    │●···",
        " 90 │  ● ",
        "    └────",
        " dd    █ ",
        "     deepest drawdown -20.00%",
    ]


def test_progress_shows_sessions_and_time_left() -> None:
    out = io.StringIO()
    report = progress_line(out)  # type: ignore[arg-type]
    report(1, 3)
    report(3, 3)
    text = out.getvalue()
    assert "\ralch: backtest 1/3 sessions, about " in text
    assert text.endswith("\ralch: backtest 3/3 sessions, about 0s left \n")


@needs_data
def test_cli_backtest_of_targets_json_and_table(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    monkeypatch.setenv("APCA_API_KEY_ID", CANARY_KEY_ID)
    monkeypatch.setenv("APCA_API_SECRET_KEY", CANARY_SECRET)
    targets = tmp_path / "t.toml"
    targets.write_text('[targets]\nAAPL = 0.3\nJNJ = 0.2\nKO = 0.2\nMSFT = "15%"\nXOM = 0.15\n')
    args = ["--broker", "sim", "backtest", "--targets", str(targets), "--from", "2005-01-03",
            "--to", "2014-12-31", "--cash", "1000000", "--spread", "10",
            "--benchmark", "SPX"]  # fmt: skip
    run = cli(*args, "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert (doc["sessions"], doc["benchmark"], doc["synthetic_bars"]) == (2517, "SPX", False)
    assert doc["stats"]["orders"] == len(doc["trades"])
    assert doc["equity"][-1]["equity"] == doc["stats"]["end_value"]
    assert doc["benchmark_stats"]["orders"] == 0
    table = cli(*args, "--to", "edge", "--band", "0.05")
    assert table.exit_code == 0, table.stderr
    assert "turnover per year" in table.stdout
    assert "benchmark SPX" in table.stdout
    assert "Yearly returns" in table.stdout
    assert "deepest drawdown -" in table.stdout
    assert table.stderr == ""  # off a terminal: no progress
    for out in (run.stdout, run.stderr, table.stdout, table.stderr):
        assert CANARY_KEY_ID not in out
        assert CANARY_SECRET not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2024-01-01", "--to", "2023-01-01"],
         "--to 2023-01-01 is before --from 2024-01-01"),
        (["--from", "2024-01-01", "--to", "edge"], "give the last session as --to YYYY-MM-DD"),
        (["--from", "2024-13-01", "--to", "2024-02-01"],
         "--from '2024-13-01': give a date as YYYY-MM-DD"),
        (["--from", "2024-01-01", "--to", "2024-02-01", "--cash", "x"],
         "--cash 'x': give a number"),
    ],
)  # fmt: skip
def test_cli_backtest_input_errors(
    cli: CliFn, make_file: Callable[[str, str], Path], args: list[str], message: str
) -> None:
    targets = make_file("t.toml", "[targets]\nVTI = 1\n")
    run = cli("backtest", "--targets", str(targets), *args)
    assert run.exit_code == 2, run.stdout
    assert message in run.stderr


def test_cli_backtest_needs_one_source(cli: CliFn, make_file: Callable[[str, str], Path]) -> None:
    run = cli("backtest", "--from", "2024-01-01", "--to", "2024-02-01")
    assert run.exit_code == 2
    assert "give either --strategy FILE (repeatable) or --targets FILE" in run.stderr


def test_reading_bars_reports_its_progress_symbol_batch_by_batch() -> None:
    from alchemiser_cli.app.backtest import BAR_BATCH, read_bars

    calls: list[tuple[list[str], date, date]] = []
    seen: list[tuple[int, int]] = []

    class Bars:
        def daily_bars(self, symbols: list[str], start: date, end: date) -> dict[str, Series]:
            calls.append((list(symbols), start, end))
            return daily_bars(symbols, start, end, None)

    class Rt:
        broker = Bars()

    symbols = [f"S{i:02d}" for i in range(BAR_BATCH * 2 + 3)]
    start, end = date(2024, 1, 2), date(2024, 2, 1)
    bars = read_bars(Rt(), symbols, start, end, lambda d, t: seen.append((d, t)))  # type: ignore[arg-type]
    assert sorted(bars) == symbols
    assert [len(c[0]) for c in calls] == [BAR_BATCH, BAR_BATCH, 3]
    assert seen == [(BAR_BATCH, 43), (2 * BAR_BATCH, 43), (43, 43)]
    out = io.StringIO()
    report = progress_line(out, what="symbols' bars read")  # type: ignore[arg-type]
    report(43, 43)
    assert out.getvalue().endswith("\ralch: backtest 43/43 symbols' bars read, about 0s left \n")


@pytest.mark.parametrize(
    ("flag", "value", "below", "example"),
    [
        ("--cash", "1e30", "1000000000000", "100000"),
        ("--cash", "1e999999999", "1000000000000", "100000"),
        ("--risk-free", "1e30", "1", "0.02"),
        ("--spread", "30000", "10000", "5"),
    ],
)
def test_cli_backtest_absurd_amounts_exit_2_not_internal_error(
    cli: CliFn,
    make_file: Callable[[str, str], Path],
    flag: str,
    value: str,
    below: str,
    example: str,
) -> None:
    targets = make_file("t.toml", "[targets]\nVTI = 1\n")
    run = cli(
        "backtest", "--targets", str(targets), "--from", "2024-01-02", "--to", "2024-02-01",
        flag, value,
    )  # fmt: skip
    assert (run.exit_code, run.stdout) == (2, "")
    assert (
        run.stderr
        == f"alch: error: {flag} {value!r}: give a number below {below}, such as {example}\n"
    )


@needs_data
def test_cli_backtest_past_the_end_of_the_data_says_where_it_stopped(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, make_file: Callable[[str, str], Path]
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    targets = make_file("t.toml", "[targets]\nKO = 0.5\nPG = 0.5\n")
    run = cli(
        "backtest", "--targets", str(targets), "--from", "2022-12-01", "--to", "2023-06-01",
        "--json",
    )  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert run.stderr == (
        "alch: note: the bars end 2022-12-28: the backtest stops there, not at the session "
        "of 2023-06-01 that --to asks for\n"
    )
