"""Issue 23: the compiled program, the history it needs, RSI/EMA warm-up and the schedule.

Must show 2 (every real symphony, Composer's floats and long windows evaluate on the
default history; `rsi 200` needs 201 closes, is short below 2,001), must show 3 (RSI and
EMA within 1e-6 of pandas' full-history values on real closes) and must show 4 (a
`:monthly` strategy trades on the first session of each month, in the backtest and live).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import Setup
from alchemiser_cli.core.backtest_run import run_backtest, session_days
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy import frequency
from alchemiser_cli.core.strategy.evaluate import BlendRun, evaluate
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.program import compile, days_for, history
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.strategy.syntax import StrategyError
from tests.conftest import Run
from tests.test_strategy_indicators import US_DAILY
from tests.test_strategy_parse import REAL_FILES

CliFn = Callable[..., Run]


def sym(body: str, options: str = "{}") -> str:
    return f'(defsymphony "T" {options}\n {body})'


def weekdays(n: int, first: date = date(2010, 1, 4)) -> tuple[date, ...]:
    out: list[date] = []
    day = first
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def zigzag(n: int) -> Series:
    """n closes that rise and fall (so RSI is neither 0 nor 100)."""
    closes = tuple(Decimal(100 + (i % 7) - (i % 3)) for i in range(n))
    return Series(weekdays(n), closes)


RSI_200_BODY = '(if (> (rsi "A" {:window 200}) 50) [(asset "A")] [(asset "B")])'
RSI_200 = sym(RSI_200_BODY)


# ---- the lookback: one rule, from the tree -----------------------------------------------


def test_lookback_follows_the_tree() -> None:
    def lookback(body: str) -> int:
        return compile(parse_symphony(sym(body), "t.clj")).lookback

    assert lookback('(asset "A")') == 1
    assert lookback('(if (> (current-price "A") 1) [(asset "A")] [(asset "B")])') == 1
    assert (
        lookback('(if (> (moving-average-price "A" {:window 200}) 1) [(asset "A")] [(asset "B")])')
        == 200
    )
    assert lookback(RSI_200_BODY) == 6001  # 30n + 1: RSI converges on its full-history value
    ema = (
        '(if (> (exponential-moving-average-price "A" {:window 12}) 1) [(asset "A")] [(asset "B")])'
    )
    assert lookback(ema) == 360
    # a filter over a group: the group's series (21 + 1 values), each needing the group's
    # own lookback (its cumulative-return 5 reads 6 closes): 22 + 6 - 1
    group = (
        "(filter (cumulative-return {:window 21}) (select-top 1) "
        '[(group "G" [(if (> (cumulative-return "A" {:window 5}) 0) [(asset "A")] [(asset "B")])])'
        ' (asset "C")])'
    )
    assert lookback(group) == 27
    assert lookback('(weight-inverse-volatility 10 [(asset "A") (group "G" [(asset "B")])])') == 11
    assert history([compile(parse_symphony(RSI_200, "t"))]) == days_for(6001)
    assert days_for(250) == timedelta(days=365 + 15)


# ---- must show 2: every real symphony and the cases that were refused --------------------


def test_rsi_200_needs_201_closes_and_is_a_short_warmup_below_2001() -> None:
    symphony = parse_symphony(RSI_200, "t.clj")
    for n, short in ((2001, False), (2000, True), (201, True)):
        bars = {"A": zigzag(n), "B": zigzag(n)}
        result = evaluate(symphony, bars, date(2099, 1, 1))
        assert bool(result.short_warmup) is short, n
        assert bool(result.trace.values.get("short_warmup")) is short
        assert result.trace.detail.endswith("; short warm-up") is short
    assert result.short_warmup == (
        "t.clj:2:9: rsi(A, 200) read 201 closes, 2001 for a full warm-up",
    )
    with pytest.raises(StrategyError) as caught:
        evaluate(symphony, {"A": zigzag(200), "B": zigzag(200)}, date(2099, 1, 1))
    assert str(caught.value) == (
        "t.clj:2:9: rsi window 200: A has 200 daily bars through 2010-10-08, the window "
        "needs at least 201"
    )


@pytest.mark.shared
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_every_real_symphony_signals_on_synthetic_bars_with_the_default_history(
    cli: CliFn, path: Path
) -> None:
    run = cli("signal", str(path), "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["synthetic_bars"] is True
    assert doc["strategies"][0]["short_warmup"] == []
    assert sum(Decimal(w) for w in doc["targets"].values()) + Decimal(doc["cash"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        '(weight-specified 0.6667000000000001 (asset "SPY") 0.3333 (asset "TLT"))',
        '(if (> (rsi "XLU" {:window 126}) 50) [(asset "XLU")] [(asset "BIL")])',
        '(if (< (rsi "XLU" {:window 200}) 50) [(asset "XLU")] [(asset "BIL")])',
        '(filter (rsi {:window 126}) (select-top 1) [(group "G" [(asset "SPY")]) (asset "TLT")])',
    ],
    ids=["float-weights", "rsi-126", "rsi-200", "rsi-126-over-a-group"],
)
def test_the_cases_once_refused_signal_on_synthetic_bars(
    cli: CliFn, make_file: Callable[[str, str], Path], body: str
) -> None:
    path = make_file("s.clj", sym(body))
    run = cli("signal", str(path), "--json")
    assert run.exit_code == 0, run.stderr
    strategy = run.json()["strategies"][0]
    assert strategy["short_warmup"] == []
    assert sum(Decimal(w) for w in strategy["weights"].values()) + Decimal(strategy["cash"]) == 1


def test_float_weights_say_in_the_trace_that_they_were_scaled(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    path = make_file(
        "s.clj", sym('(weight-specified 0.6667000000000001 (asset "SPY") 0.3333 (asset "TLT"))')
    )
    trace = cli("signal", str(path), "--json").json()["strategies"][0]["trace"]
    assert trace["detail"] == "weights written add up to 1.0000000000000001: scaled to exactly 1"
    assert trace["values"] == {"weights_written_total": "1.0000000000000001"}


def test_a_short_warmup_is_a_signal_warmup_warning(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    # synthetic bars start 2015-01-02: about 3,000 closes, under RSI(400)'s 4,001
    path = make_file(
        "s.clj", sym('(if (> (rsi "VTI" {:window 400}) 50) [(asset "VTI")] [(asset "BND")])')
    )
    run = cli("check", "--strategy", str(path), "--json")
    found = {f["check_id"]: f for f in run.json()["findings"]}
    warmup = found["signal.warmup"]
    assert warmup["severity"] == "warn"
    assert warmup["message"].startswith("1 indicator(s) read on a short warm-up; first: ")
    assert "rsi(VTI, 400) read 3" in warmup["message"]
    assert warmup["message"].endswith("closes, 4001 for a full warm-up")
    signal = run.json()["plan"]["signal"]["strategies"][0]
    assert signal["short_warmup"] == [warmup["message"].split("first: ")[1]]
    tree = cli("signal", str(path)).stdout
    assert "; short warm-up" in tree
    assert "short warm-up: " + signal["short_warmup"][0][:40] in tree.replace("\n", "")


def test_a_symbol_composer_writes_with_a_slash_reads_alpacas_bars(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    path = make_file("s.clj", sym('(weight-equal [(asset "BRK/B") (asset "SPY")])'))
    run = cli("signal", str(path), "--json")
    assert run.exit_code == 0, run.stderr
    assert sorted(run.json()["targets"]) == ["BRK.B", "SPY"]


# ---- must show 3: RSI and EMA against pandas over the whole history -----------------------

SYMBOLS = ("AAPL", "AMD", "BAC", "CVX", "GE", "JPM", "KO", "MSFT", "PG", "XOM")
WINDOWS = (2, 3, 5, 8, 10, 14, 21, 30, 50, 63, 100, 126, 150, 200)
AS_OF = (date(2018, 6, 1), date(2022, 12, 28))


def wilder(closes: pd.Series, n: int) -> pd.Series:
    """Textbook Wilder RSI over the whole series: averages seeded with the mean of the
    first n changes, then avg = (avg (n - 1) + x) / n."""
    change = closes.diff()
    out = []
    for side in (change.clip(lower=0), -change.clip(upper=0)):
        seeded = side.copy()
        seeded.iloc[: n + 1] = float("nan")
        seeded.iloc[n] = side.iloc[1 : n + 1].mean()
        out.append(seeded.ewm(alpha=1 / n, adjust=False, ignore_na=True).mean())
    gain, loss = out
    return 100 - 100 / (1 + gain / loss)


def ema_full(closes: pd.Series, n: int) -> pd.Series:
    """EMA over the whole series, seeded with the mean of the first n closes."""
    seeded = closes.copy()
    seeded.iloc[:n] = float("nan")
    seeded.iloc[n - 1] = closes.iloc[:n].mean()
    return seeded.ewm(alpha=2 / (n + 1), adjust=False, ignore_na=True).mean()


def _check_against_pandas(symbol: str, windows: tuple[int, ...]) -> None:
    whole = daily_bars([symbol], date(1990, 1, 1), date(2022, 12, 28), US_DAILY)[symbol]
    floats = pd.Series([float(c) for c in whole.closes], index=list(whole.dates))
    for n in windows:
        theirs = {"rsi": wilder(floats, n), "exponential-moving-average-price": ema_full(floats, n)}
        for name, column in theirs.items():
            body = f'(if (> ({name} "{symbol}" {{:window {n}}}) 1) [(asset "{symbol}")] [(asset "{symbol}")])'  # noqa: E501
            program = compile(parse_symphony(sym(body), "t.clj"))
            for as_of in AS_OF:
                # the bars exactly as a run asks its source for them: the program's history
                bars = daily_bars([symbol], as_of - program.history, as_of, US_DAILY)
                assert len(bars[symbol].dates) >= program.lookback
                run = program.over(bars)
                ours = Decimal(run.explain(run.index(as_of)).trace.values["lhs"])
                assert abs(float(ours) - column[as_of]) < 1e-6, (symbol, name, n, as_of)


@pytest.mark.shared
@pytest.mark.parametrize("symbol", SYMBOLS)
def test_rsi_and_ema_match_full_history_pandas_to_1e6(symbol: str) -> None:
    _check_against_pandas(symbol, WINDOWS)


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("symbol", SYMBOLS)
def test_rsi_and_ema_match_full_history_pandas_on_every_window_2_to_200(symbol: str) -> None:
    _check_against_pandas(symbol, tuple(range(2, 201)))


# ---- must show 4: :rebalance-frequency ------------------------------------------------------


def test_periods_and_the_next_rebalance() -> None:
    monday, friday = date(2026, 11, 30), date(2026, 11, 27)
    assert frequency.due("weekly", friday, monday)
    assert not frequency.due("weekly", monday, date(2026, 12, 1))
    assert frequency.due("monthly", monday, date(2026, 12, 1))
    assert not frequency.due("monthly", date(2026, 11, 23), date(2026, 11, 24))
    assert frequency.due("quarterly", date(2026, 12, 31), date(2027, 1, 4))
    assert not frequency.due("quarterly", date(2026, 11, 30), date(2026, 12, 1))
    assert frequency.due("yearly", date(2026, 12, 31), date(2027, 1, 4))
    for every in (None, "none", "daily"):
        assert frequency.due(every, monday, date(2026, 12, 1))
    assert frequency.next_period("weekly", date(2026, 12, 2)) == date(2026, 12, 7)
    assert frequency.next_period("monthly", date(2026, 12, 2)) == date(2027, 1, 1)
    assert frequency.next_period("quarterly", date(2026, 11, 24)) == date(2027, 1, 1)
    assert frequency.next_period("quarterly", date(2026, 2, 24)) == date(2026, 4, 1)
    assert frequency.next_period("yearly", date(2026, 11, 24)) == date(2027, 1, 1)
    assert frequency.next_period("daily", date(2026, 11, 24)) == date(2026, 11, 25)


def _trade_days(freq: str) -> tuple[list[date], list[date]]:
    text = sym(
        '(if (> (moving-average-return "SPY" {:window 5}) 0) '
        '[(weight-equal [(asset "SPY") (asset "TLT")])] [(weight-equal [(asset "TLT") (asset "GLD")])])',  # noqa: E501
        f"{{:rebalance-frequency :{freq}}}",
    )
    program = compile(parse_symphony(text, "m.clj"))
    start, end = date(2024, 1, 2), date(2024, 12, 31)
    bars = daily_bars(program.symbols, start - program.history, end, None)
    universe = list(program.symbols)
    days = session_days(bars, universe, start, end)
    from alchemiser_cli.app.backtest import on_schedule

    decide = on_schedule(BlendRun([(program, Decimal(1))], bars), days)
    setup = Setup(start, end, Decimal(100_000), PlannerPolicy(), Decimal(5))
    bt = run_backtest(bars, universe, decide, setup)
    return sorted({t.day for t in bt.trades}), [p.day for p in bt.sessions]


def test_a_monthly_backtest_trades_on_the_first_session_of_each_month() -> None:
    traded, sessions = _trade_days("monthly")
    firsts = [d for prev, d in pairwise(sessions) if prev.month != d.month]
    assert traded == [sessions[0], *firsts]  # the first session invests; then one a month
    assert len(traded) == 12
    daily, _ = _trade_days("daily")
    assert len(daily) > 100  # the same strategy on :daily trades most sessions


def test_a_weekly_backtest_trades_on_the_first_session_of_each_week() -> None:
    traded, sessions = _trade_days("weekly")
    weeks = {d.isocalendar()[:2] for d in sessions}
    assert len(traded) == len(weeks)
    assert all(d == sessions[0] or frequency.due("weekly", sessions[sessions.index(d) - 1], d)
               for d in traded)  # fmt: skip


MONTHLY = sym('(weight-equal [(asset "VTI") (asset "BND")])', "{:rebalance-frequency :monthly}")


def test_a_daily_cron_off_the_monthly_schedule_is_nothing_to_do_naming_the_next_date(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    path = make_file("m.clj", MONTHLY)
    run = cli("execute", "--yes", "--strategy", str(path), "--json")  # Tuesday 2026-11-24
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["outcome"] == "nothing_to_do"
    assert doc["message"] == (
        f"nothing to do: 2026-11-24 is not a rebalance session ({path} rebalances :monthly, "
        "on the first session of each month); the next rebalance is 2026-12-01; --force "
        "trades anyway"
    )
    assert doc["orders"] == []
    plan = cli("plan", "--strategy", str(path), "--json")
    assert plan.json()["signal"]["next_rebalance"] == "2026-12-01"
    assert "alch: note: not a rebalance session: 2026-11-24 is not a rebalance session" in (
        plan.stderr
    )


def test_on_the_first_session_of_the_month_the_cron_trades(
    cli: CliFn, make_file: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-12-01T15:00:00+00:00")  # Tuesday, open
    path = make_file("m.clj", MONTHLY)
    run = cli("execute", "--yes", "--strategy", str(path), "--json")
    assert run.json()["outcome"] == "completed", run.stderr
    assert run.json()["orders"]
    assert "rebalance session" not in run.stderr


def test_force_trades_off_schedule_and_says_so(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    path = make_file("m.clj", MONTHLY)
    run = cli("execute", "--yes", "--force", "--strategy", str(path), "--json")
    assert run.json()["outcome"] == "completed", run.stderr
    assert "bypassed by --force: 2026-11-24 is not a rebalance session" in run.stderr


@pytest.mark.parametrize("symbol", ["SPY", "TQQQ", "BRK.B", "UVXY"])
def test_synthetic_bars_are_the_same_walk_as_before(symbol: str) -> None:
    """Synthetic closes are built in integers now (faster): the same closes, digit for
    digit, as the Decimal walk with randrange moves they replace (the stored reference
    weights were computed on these)."""
    import hashlib
    import random

    from alchemiser_cli.brokers.bars import synthetic_series

    seed = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")
    rng = random.Random(seed)
    price = Decimal(20 + seed % 180)
    expected: list[str] = []
    series = synthetic_series(symbol, date(2026, 11, 24))
    for _ in series.dates:
        move = Decimal(rng.randrange(-250, 251) + seed % 7 - 2)
        price = (price * (10_000 + move) / 10_000).quantize(Decimal("0.0001"))
        expected.append(str(price))
    assert [str(c) for c in series.closes] == expected
    assert series.dates[0] == date(2015, 1, 2)
    assert all(d.weekday() < 5 for d in series.dates)


# ---- columns: every point as the indicator on the closes up to it --------------------------


def _walk(n: int) -> list[Decimal]:
    rng = __import__("random").Random(7)
    out = [Decimal(100)]
    for _ in range(n - 1):
        step = Decimal(10_000 + rng.randrange(-250, 251)) / 10_000
        out.append((out[-1] * step).quantize(Decimal("0.0001")))
    return out


@pytest.mark.parametrize(
    "name",
    [
        "current-price",
        "moving-average-price",
        "stdev-price",
        "cumulative-return",
        "moving-average-return",
        "stdev-return",
        "rsi",
        "exponential-moving-average-price",
    ],
)
def test_a_column_is_the_indicator_at_every_point(name: str) -> None:
    from alchemiser_cli.core.strategy.columns import column
    from alchemiser_cli.core.strategy.indicators import compute, required_bars

    closes = _walk(160)
    for n in (2, 5, 21):
        values = column(name, None if name == "current-price" else n, closes, "X")
        need = required_bars(name, n)
        for k, value in enumerate(values):
            if k + 1 < need:
                assert value is None
                continue
            assert value is not None
            expected = compute(name, closes[: k + 1], n)
            # sums are exact and rounded once: a standard deviation may differ from the
            # step-by-step rounding in its 27th digit, nothing else at all
            assert abs(value - expected) <= abs(expected) * Decimal("1e-26"), (name, n, k)
            if "stdev" not in name:
                assert value == expected


def test_a_series_too_long_to_sum_exactly_is_an_error_not_a_rounding() -> None:
    from alchemiser_cli.core.strategy.columns import column

    closes = [Decimal("1." + "3" * 700), Decimal(2), Decimal(3)]
    with pytest.raises(StrategyError, match=r"^t\.clj:1:1: X: its values have too many digits"):
        column("moving-average-price", 2, closes, "t.clj:1:1: X")


@pytest.mark.shared
@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_one_session_live_decides_as_the_whole_history_run_does(path: Path) -> None:
    """`evaluate` (what signal and plan do: the program's lookback of bars, columns started
    just before the session) and a run over the whole history (what the backtest does)
    decide the same on 12 sessions spread over 2021-2026, filters over groups included."""
    symphony = parse_symphony(path.read_text(encoding="utf-8"), path.name)
    program = compile(symphony)
    end = date(2026, 11, 23)
    bars = daily_bars(program.symbols, date(2015, 1, 1), end, None)
    whole = program.over(bars)
    for k in range(12):
        day = end - timedelta(days=151 * k)
        live = evaluate(symphony, bars, day).weights
        backtest = whole.weights(whole.index(day))
        assert live.keys() == backtest.keys(), day
        assert all(abs(live[s] - backtest[s]) <= Decimal("1e-20") for s in live), day


def _bars(n: int, *symbols: str) -> dict[str, Series]:
    return {s: Series(weekdays(n), zigzag(n + i).closes[i:]) for i, s in enumerate(symbols)}


GROUP_RSI = sym(
    "(filter (rsi {:window 5}) (select-top 1) "
    '[(group "G" [(if (> (rsi "A" {:window 3}) 50) [(asset "A")] '
    '[(filter (cumulative-return {:window 2}) (select-top 1) [(asset "B") (asset "C")])])]) '
    '(asset "C")])'
)


def test_rsi_over_a_group_reads_its_series_from_where_the_group_can_first_be_evaluated() -> None:
    symphony = parse_symphony(GROUP_RSI, "t.clj")
    # the group is ready once A has 4 closes (rsi 3) and B, C 3 (cumulative-return 2): on
    # the 4th session; with 40 sessions its series has 37 values, under 10 x 5 + 1
    result = evaluate(symphony, _bars(40, "A", "B", "C"), date(2099, 1, 1))
    assert result.short_warmup == (
        "t.clj:2:10: rsi(G, 5) read 37 values of its series, 51 for a full warm-up",
        "t.clj:2:10: rsi(C, 5) read 40 closes, 51 for a full warm-up",
    )
    full = evaluate(symphony, _bars(200, "A", "B", "C"), date(2099, 1, 1))
    assert full.short_warmup == ()
    with pytest.raises(StrategyError) as caught:
        evaluate(symphony, _bars(8, "A", "B", "C"), date(2099, 1, 1))
    assert str(caught.value).startswith("t.clj:")


def test_a_group_scored_on_more_sessions_than_exist_is_an_error_naming_them() -> None:
    text = sym(
        '(filter (cumulative-return {:window 30}) (select-top 1) [(group "G" [(asset "A")]) '
        '(group "H" [(asset "B")])])'
    )
    with pytest.raises(StrategyError) as caught:
        evaluate(parse_symphony(text, "t.clj"), _bars(20, "A", "B"), date(2099, 1, 1))
    assert str(caught.value) == (
        "t.clj:2:59: cumulative-return on G: needs 31 sessions of its value through "
        "2010-01-29, 20 available"
    )


def test_a_window_below_an_indicators_minimum_is_an_error() -> None:
    text = sym('(if (> (stdev-return "A" {:window 1}) 1) [(asset "A")] [(asset "B")])')
    with pytest.raises(
        StrategyError, match=r"^t\.clj:2:9: stdev-return needs a window of at least 2$"
    ):
        evaluate(parse_symphony(text, "t.clj"), _bars(20, "A", "B"), date(2099, 1, 1))


def test_a_run_asked_about_a_session_before_its_first_is_a_bug_not_a_value() -> None:
    text = sym('(if (> (rsi "A" {:window 10}) 50) [(asset "A")] [(asset "B")])')
    program = compile(parse_symphony(text, "t.clj"))  # lookback 301
    bars = {"A": zigzag(3000), "B": zigzag(3000)}
    run = program.over(bars, bars["A"].dates[-1])
    run.weights(len(run.sessions) - 1)
    with pytest.raises(ValueError, match="before the run's first session"):
        run.weights(2000)


def test_a_signal_piped_off_the_monthly_schedule_is_nothing_to_do_as_with_strategy(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    """`alch signal --json | alch execute --targets -` keeps the strategy's schedule: the
    document carries each strategy's `:rebalance-frequency` and its as-of date, so the run
    that reads it decides off-schedule exactly as `--strategy` does (issue 22: the pipe
    skips none of the strategy's safeguards)."""
    path = make_file("m.clj", MONTHLY)
    doc = cli("signal", str(path), "--json")
    assert doc.exit_code == 0, doc.stderr
    piped = cli("execute", "--yes", "--targets", "-", "--json", input=doc.stdout)
    direct = cli("execute", "--yes", "--strategy", str(path), "--json")
    assert piped.json()["outcome"] == direct.json()["outcome"] == "nothing_to_do"
    assert piped.json()["orders"] == []
    assert piped.json()["message"] == direct.json()["message"]
    plan = cli("plan", "--targets", "-", "--json", input=doc.stdout)
    assert plan.json()["signal"]["next_rebalance"] == "2026-12-01"
    forced = cli("execute", "--yes", "--force", "--targets", "-", "--json", input=doc.stdout)
    assert forced.json()["outcome"] == "completed", forced.stderr
    assert "bypassed by --force: 2026-11-24 is not a rebalance session" in forced.stderr
