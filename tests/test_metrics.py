"""Issue 26, must show 1: every tearsheet metric (core/metrics.py, core/rolling.py, and the
summary statistics of core/backtest.py) equals QuantStats on the same daily returns to
1e-9. Where the conventions differ, the test says which and converts QuantStats' figure
(or picks its arguments) so that the two measure the same thing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
import quantstats as qs

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import SessionPoint, performance
from alchemiser_cli.core.metrics import (
    Metrics,
    daily_returns,
    describe,
    period_returns,
    relative,
)
from alchemiser_cli.core.rolling import rolling
from tests.test_backtest import US_DAILY

TOL = 1e-9
START = Decimal(100_000)
ROOT252 = np.sqrt(252)


class Case:
    """One strategy series and its benchmark's, as Decimal equity and as pandas returns."""

    def __init__(self, index: pd.DatetimeIndex, r: np.ndarray, b: np.ndarray) -> None:
        self.days = [d.date() for d in index]
        self.equity = self._equity(r)
        self.bench_equity = self._equity(b)
        # The same returns QuantStats is given: ours, from the Decimal equity.
        self.ours = daily_returns(START, self.equity)
        self.bench_ours = daily_returns(START, self.bench_equity)
        self.r = pd.Series([float(x) for x in self.ours], index=index)
        self.b = pd.Series([float(x) for x in self.bench_ours], index=index)
        self.m: Metrics = describe(START, self.days, self.equity)

    @staticmethod
    def _equity(returns: np.ndarray) -> list[Decimal]:
        out, value = [], START
        for x in returns:
            value = value * (1 + Decimal(repr(float(x))))
            out.append(value)
        return out


def _seeded() -> Case:
    rng = np.random.default_rng(26)
    index = pd.bdate_range("2012-03-05", periods=2900)  # 11 years: every trailing window
    market = rng.normal(0.0004, 0.011, len(index))
    own = 0.0001 + 0.8 * market + rng.normal(0, 0.006, len(index))
    own[100:140] = -0.01  # a long drawdown
    own[500] = 0.0  # a day without a move (win rates skip it)
    return Case(index, own, market)


def _real() -> Case:
    bars = daily_bars(["KO", "SPX"], date(2004, 12, 1), date(2016, 12, 30), US_DAILY)
    closes = pd.DataFrame(
        {s: pd.Series([float(c) for c in bars[s].closes], index=bars[s].dates) for s in bars}
    ).dropna()
    rets = (closes / closes.shift(1)).iloc[1:] - 1
    return Case(pd.DatetimeIndex(rets.index), rets["KO"].to_numpy(), rets["SPX"].to_numpy())


@pytest.fixture(scope="module", params=["seeded", pytest.param("real", marks=pytest.mark.shared)])
def case(request: pytest.FixtureRequest) -> Case:
    return _seeded() if request.param == "seeded" else _real()


def close(ours: Decimal | None, theirs: float) -> bool:
    assert ours is not None
    return abs(float(ours) - theirs) < TOL


def test_best_worst_win_rates_skew_kurtosis_equal_quantstats(case: Case) -> None:
    m, r = case.m, case.r
    assert close(m.best_day, qs.stats.best(r))
    assert close(m.worst_day, qs.stats.worst(r))
    # QuantStats aggregates by calendar month and year; so do we (compounded).
    assert close(m.best_month, qs.stats.best(r, aggregate="eom"))
    assert close(m.worst_month, qs.stats.worst(r, aggregate="eom"))
    assert close(m.best_year, qs.stats.best(r, aggregate="year"))
    assert close(m.worst_year, qs.stats.worst(r, aggregate="year"))
    assert close(m.win_rate_days, qs.stats.win_rate(r))
    assert close(m.win_rate_months, qs.stats.win_rate(r, aggregate="eom"))
    assert close(m.skew, qs.stats.skew(r))
    assert close(m.kurtosis, qs.stats.kurtosis(r))


def test_monthly_and_yearly_returns_equal_quantstats_table(case: Case) -> None:
    table = qs.stats.monthly_returns(case.r)  # rows years, JAN..DEC and EOY
    names = list(table.columns)
    for (year, month), value in case.m.monthly_returns.items():
        assert close(value, float(table.loc[str(year), names[month - 1]]))
    yearly = period_returns(START, case.days, case.equity, monthly=False)
    for (year, _), value in yearly.items():
        assert close(value, float(table.loc[str(year), "EOY"]))


def test_trailing_returns_equal_quantstats_windows(case: Case) -> None:
    r = case.r
    last = r.index[-1]
    # QuantStats' windows (reports.metrics, with relativedelta; DateOffset clips alike):
    # sessions on or after the date that many months before the last session; MTD and YTD
    # from the month's and year's first day.
    opens = {
        "MTD": pd.Timestamp(last.year, last.month, 1),
        "3M": last - pd.DateOffset(months=3),
        "6M": last - pd.DateOffset(months=6),
        "YTD": pd.Timestamp(last.year, 1, 1),
        "1Y": last - pd.DateOffset(years=1),
        # Conventions differ: QuantStats' 3Y/5Y/10Y windows are 35, 59 and 119 months wide
        # and annualise over sessions / 252; ours are 36, 60 and 120 months annualised
        # over calendar days / 365.25 (as our CAGR). So QuantStats is given our window and
        # the `periods` that make its sessions / periods equal our calendar years.
        "3Y": last - pd.DateOffset(years=3),
        "5Y": last - pd.DateOffset(years=5),
        "10Y": last - pd.DateOffset(years=10),
    }
    for name, start in opens.items():
        window = r[r.index >= start]
        if name in ("3Y", "5Y", "10Y"):
            years = (last - start).days / 365.25
            theirs = qs.stats.cagr(window, periods=len(window) / years)
        else:
            theirs = qs.stats.comp(window)
        assert close(case.m.trailing[name], theirs), name


def test_a_window_longer_than_the_history_has_no_figure() -> None:
    days = [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    m = describe(START, days, [START, START * 2, START * 3])
    assert m.trailing["MTD"] == m.trailing["YTD"] == Decimal(2)
    assert m.trailing["3M"] is None
    assert m.trailing["10Y"] is None


def test_alpha_beta_correlation_r2_tracking_error_information_ratio(case: Case) -> None:
    rel = relative(case.ours, case.bench_ours)
    r, b = case.r, case.b
    greeks = qs.stats.greeks(r, b)
    assert close(rel.alpha, greeks["alpha"])  # both annualised * 252, risk-free 0
    assert close(rel.beta, greeks["beta"])
    assert close(rel.r_squared, qs.stats.r_squared(r, b))
    # QuantStats has no correlation of its own; pandas' (which its rolling greeks use).
    assert close(rel.correlation, r.corr(b))
    # Conventions differ: QuantStats' information ratio is not annualised; ours is (* √252).
    assert close(rel.information_ratio, qs.stats.information_ratio(r, b) * ROOT252)
    # Tracking error is the annualised volatility of the active returns.
    assert close(rel.tracking_error, qs.stats.volatility(r - b))


def test_alpha_with_a_risk_free_rate_is_jensens() -> None:
    # QuantStats' greeks ignore the risk-free rate; ours is Jensen's alpha on excess
    # returns, which is QuantStats' alpha less rf * (1 - beta).
    case = _seeded()
    rel = relative(case.ours, case.bench_ours, Decimal("0.03"))
    greeks = qs.stats.greeks(case.r, case.b)
    assert close(rel.alpha, greeks["alpha"] - 0.03 * (1 - greeks["beta"]))


def test_volatility_sharpe_sortino_cagr_of_the_summary_equal_quantstats(case: Case) -> None:
    points = [
        SessionPoint(d, e, Decimal(0), e, Decimal(0), Decimal(0), {})
        for d, e in zip(case.days, case.equity, strict=True)
    ]
    stats = performance(START, points, (), Decimal("0.02"))
    r = case.r
    assert close(stats.volatility, qs.stats.volatility(r))
    # Conventions differ: QuantStats takes a day's risk-free rate as (1 + rf)^(1/252) - 1,
    # we as rf / 252; so QuantStats is given the annual rate whose day equals ours.
    rf = (1 + 0.02 / 252) ** 252 - 1
    assert close(stats.sharpe, qs.stats.sharpe(r, rf=rf, periods=252))
    assert close(stats.sortino, qs.stats.sortino(r, rf=rf, periods=252))
    # Conventions differ: QuantStats' CAGR counts sessions / 252 as years; ours calendar
    # days from the first to the last session / 365.25.
    years = (case.days[-1] - case.days[0]).days / 365.25
    assert close(stats.cagr, qs.stats.cagr(r, periods=len(r) / years))
    assert close(stats.max_drawdown.depth, qs.stats.max_drawdown(r))
    assert stats.metrics is not None
    assert stats.metrics.skew == case.m.skew


def test_top_drawdowns_equal_quantstats_details(case: Case) -> None:
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(case.r))
    details = details.sort_values(["max drawdown", "valley"]).head(5)
    index = [d.isoformat() for d in case.days]
    assert len(case.m.top_drawdowns) == len(details) == 5
    for span, (_, row) in zip(case.m.top_drawdowns, details.iterrows(), strict=True):
        assert close(span.depth, row["max drawdown"] / 100)  # QuantStats gives percent
        assert span.trough.isoformat() == row["valley"]
        # Conventions differ: QuantStats' start is the first session under water and its
        # end the last; ours are the peak (the session before) and the recovery (after).
        first_under = index.index(row["start"])
        assert (span.peak.isoformat() if span.peak else None) == (
            index[first_under - 1] if first_under else None
        )
        last_under = index.index(row["end"])
        if span.recovered is None:
            assert last_under == len(index) - 1
        else:
            assert span.recovered.isoformat() == index[last_under + 1]


def test_rolling_sharpe_volatility_beta_equal_quantstats(case: Case) -> None:
    r, b = case.r, case.b
    for window in (126, 252):  # 6 and 12 months of sessions
        ours = rolling(case.ours, case.bench_ours, window, Decimal(0))
        sharpe = qs.stats.rolling_sharpe(r, rolling_period=window, periods_per_year=252)
        vol = qs.stats.rolling_volatility(r, rolling_period=window, periods_per_year=252)
        beta = qs.stats.rolling_greeks(r, b, periods=window)["beta"]
        assert ours.sharpe[: window - 1] == [None] * (window - 1)
        for i in range(window - 1, len(r), 97):
            assert close(ours.sharpe[i], sharpe.iloc[i])
            assert close(ours.volatility[i], vol.iloc[i])
            assert close(ours.beta[i], beta.iloc[i])
