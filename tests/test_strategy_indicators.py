"""Indicators: hand-computed values, and agreement with `ta` and pandas on real closes.

Independent implementations: `ta` 0.11 (RSI with Wilder's smoothing, EMA, SMA) and pandas
(rolling returns, sample standard deviations, running peaks) on AAPL's real adjusted
closes (../shared/data/us-daily). Ours are exact decimals over a fixed look-back; theirs
are floats over the whole history, so they agree to a stated tolerance, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pandas as pd
import pytest
import ta

from alchemiser_cli.brokers.bars import read_csv_series
from alchemiser_cli.core.strategy.indicators import (
    compute,
    history_bars,
    required_bars,
    warm_bars,
)
from tests.conftest import REPO

US_DAILY = REPO.parent / "shared" / "data" / "us-daily"


def D(values: Sequence[int | str]) -> list[Decimal]:
    return [Decimal(str(v)) for v in values]


def test_current_price_and_moving_average_by_hand() -> None:
    assert compute("current-price", D([1, 2, 3]), None) == 3
    assert compute("moving-average-price", D([1, 2, 3, 4]), 3) == 3  # (2 + 3 + 4) / 3


def test_returns_in_percent_by_hand() -> None:
    assert compute("cumulative-return", D([100, 110, 121]), 2) == 21  # 121 / 100 - 1
    assert compute("moving-average-return", D([100, 110, 121]), 2) == 10  # 10% and 10%
    assert compute("cumulative-return", D([100, 95]), 1) == -5


def test_stdev_return_is_the_daily_sample_deviation_in_percent() -> None:
    # returns +10% and -10%: mean 0, sample variance (0.01 + 0.01) / (2 - 1) = 0.02
    assert compute("stdev-return", D([100, 110, 99]), 2) == Decimal("0.02").sqrt() * 100
    # not annualised: a 1% daily move stays about 1, not 16
    daily = compute("stdev-return", D(["100", "101", "100", "101", "100"]), 4)
    assert Decimal("0.9") < daily < Decimal("1.2")


def test_stdev_price_is_the_sample_deviation() -> None:
    assert compute("stdev-price", D([2, 4, 6]), 3) == 2  # variance (4 + 0 + 4) / 2


def test_max_drawdown_is_a_positive_percent_from_the_running_peak() -> None:
    assert compute("max-drawdown", D([100, 120, 90, 110, 60]), 4) == 50  # 120 -> 60
    assert compute("max-drawdown", D([100, 120, 90, 110, 60]), 2) == Decimal(
        "45.45454545454545454545454545"
    )  # window 2 reads 90, 110, 60: 110 -> 60
    assert compute("max-drawdown", D([1, 2, 3, 4]), 3) == 0


def test_ema_by_hand() -> None:
    # seed = mean of the first 2 = 10; alpha = 2/3; 3 closes at least, 20 warm, 60 asked for
    closes = D([10] * 19 + [13])
    name = "exponential-moving-average-price"
    assert (required_bars(name, 2), warm_bars(name, 2), history_bars(name, 2)) == (3, 20, 60)
    assert compute("exponential-moving-average-price", closes, 2) == 12  # 10 + 2/3 * 3
    assert compute("exponential-moving-average-price", D([5, 7]), 1) == 7


def test_rsi_wilder_by_hand() -> None:
    assert (required_bars("rsi", 2), warm_bars("rsi", 2), history_bars("rsi", 2)) == (3, 21, 61)
    # alternating +1, -1 (20 changes): seeds gain = loss = 1/2; each (+1, -1) pair maps
    # gain -> (gain + 1) / 4 and loss -> loss / 4 + 1/2, nine pairs, and gain + loss = 1,
    # so RSI = 100 * gain = 100 * (1/3 + (1/2 - 1/3) / 4**9)
    closes = D([10, 11] * 10 + [10])
    expected = Decimal(100) / 3 + Decimal(100) / 6 / 4**9
    assert abs(compute("rsi", closes, 2) - expected) < Decimal("1e-24")
    assert compute("rsi", D(list(range(1, 22))), 2) == 100  # only gains
    assert compute("rsi", D(list(range(21, 0, -1))), 2) == 0  # only losses
    assert compute("rsi", D([5] * 21), 2) == 50  # flat: no gain, no loss


@pytest.mark.shared
def test_results_are_identical_run_to_run() -> None:
    closes = read_csv_series(US_DAILY / "AAPL.csv", "AAPL").closes[:800]
    first = [
        compute(n, closes, 14) for n in ("rsi", "stdev-return", "exponential-moving-average-price")
    ]
    again = [
        compute(n, closes, 14) for n in ("rsi", "stdev-return", "exponential-moving-average-price")
    ]
    assert first == again


@pytest.fixture(scope="module")
def aapl() -> tuple[list[Decimal], pd.Series]:
    series = read_csv_series(US_DAILY / "AAPL.csv", "AAPL")
    closes = list(series.closes)
    return closes, pd.Series([float(c) for c in closes])


ENDS = (1500, 4000, 8312)  # three points in AAPL's history (1995, 2005, 2022)


@pytest.mark.shared
@pytest.mark.parametrize("window", [2, 10, 14, 60])
def test_rsi_matches_ta(aapl: tuple[list[Decimal], pd.Series], window: int) -> None:
    closes, floats = aapl
    theirs = ta.momentum.RSIIndicator(floats, window=window).rsi()
    for end in ENDS:
        ours = compute("rsi", closes[: end + 1], window)
        assert abs(float(ours) - theirs.iloc[end]) < 0.01, (window, end)


@pytest.mark.shared
@pytest.mark.parametrize("window", [8, 12, 26])
def test_ema_matches_ta(aapl: tuple[list[Decimal], pd.Series], window: int) -> None:
    closes, floats = aapl
    theirs = ta.trend.EMAIndicator(floats, window=window).ema_indicator()
    for end in ENDS:
        ours = compute("exponential-moving-average-price", closes[: end + 1], window)
        assert abs(float(ours) / theirs.iloc[end] - 1) < 1e-6, (window, end)


@pytest.mark.shared
@pytest.mark.parametrize("window", [5, 200])
def test_moving_average_matches_ta(aapl: tuple[list[Decimal], pd.Series], window: int) -> None:
    closes, floats = aapl
    theirs = ta.trend.SMAIndicator(floats, window=window).sma_indicator()
    for end in ENDS:
        ours = compute("moving-average-price", closes[: end + 1], window)
        assert abs(float(ours) / theirs.iloc[end] - 1) < 1e-12


@pytest.mark.shared
@pytest.mark.parametrize("window", [3, 21, 105])
def test_return_indicators_match_pandas(aapl: tuple[list[Decimal], pd.Series], window: int) -> None:
    closes, floats = aapl
    returns = floats.pct_change()
    expected = {
        "cumulative-return": floats.pct_change(window) * 100,
        "moving-average-return": returns.rolling(window).mean() * 100,
        "stdev-return": returns.rolling(window).std(ddof=1) * 100,
        "stdev-price": floats.rolling(window).std(ddof=1),
    }
    for end in ENDS:
        w = floats.iloc[end - window : end + 1]
        drawdown = float((1 - w / w.cummax()).max() * 100)
        ours_dd = float(compute("max-drawdown", closes[: end + 1], window))
        assert ours_dd == pytest.approx(drawdown, rel=1e-9, abs=1e-9), (window, end)
    for name, theirs in expected.items():
        for end in ENDS:
            ours = float(compute(name, closes[: end + 1], window))
            assert ours == pytest.approx(theirs.iloc[end], rel=1e-9, abs=1e-9), (name, window, end)
