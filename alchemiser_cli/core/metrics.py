"""The tearsheet's statistics of one daily return series, and of it against a benchmark's.
Pure, Decimal throughout.

Conventions (README "Backtest", "Statistics"; each equal to QuantStats on the same daily
returns, tests/test_metrics.py names where the conventions differ):

* Daily returns: r_t = E_t / E_{t-1} - 1, the first against the starting value.
* 252 trading days a year; the risk-free rate is annual, rf / 252 a day.
* Trailing returns end at the last session; a window opens at the calendar date that many
  months (or years) before it (MTD: the month's first day, YTD: the year's) and compounds
  the returns of the sessions on or after that date. 3Y, 5Y and 10Y are annualised over
  calendar days / 365.25 (as the CAGR). A window the history does not reach back to (its
  first session more than a week after the window opens) has no figure.
* Monthly and yearly returns compound the daily ones (month-end equity over the previous
  month end; the first month from the starting value).
* Win rate: periods with a gain over periods that moved (a zero return is no period).
* Skew and kurtosis: the sample's, bias-corrected (kurtosis in excess of the normal's 3).
* Against a benchmark: beta = cov(r, b) / var(b); alpha = (mean(r - rf) - beta * mean(b -
  rf)) * 252; correlation (Pearson) and R^2 its square; tracking error = sample standard
  deviation of r - b * sqrt(252); information ratio = mean(r - b) / that deviation *
  sqrt(252).
* Drawdowns: from a running peak (the starting value the first); each runs from its peak
  (the last session at it) through its trough to the first session back at the peak.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext

from alchemiser_cli.core.money import ONE, ZERO

TRADING_DAYS = Decimal(252)
DAYS_PER_YEAR = Decimal("365.25")
REACH = timedelta(days=7)  # a window counts when the history starts within a week of it
TRAILING = ("MTD", "3M", "6M", "YTD", "1Y", "3Y", "5Y", "10Y")
_MONTHS = {"3M": 3, "6M": 6, "1Y": 12, "3Y": 36, "5Y": 60, "10Y": 120}
_ANNUALISED = frozenset({"3Y", "5Y", "10Y"})
TOP_DRAWDOWNS = 5


@dataclass(frozen=True, slots=True)
class DrawdownSpan:
    """One fall from a peak and the way back: its dates, depth (negative) and length."""

    peak: date | None  # the last session at the peak; None: the starting value
    trough: date
    recovered: date | None  # the first session back at the peak; None: not yet
    depth: Decimal
    days: int  # calendar days from the peak (or the first session) to recovery (or the end)


@dataclass(frozen=True, slots=True)
class Metrics:
    """The figures of one return series beyond the summary's (see the module's notes)."""

    trailing: dict[str, Decimal | None]
    best_day: Decimal | None
    worst_day: Decimal | None
    best_month: Decimal | None
    worst_month: Decimal | None
    best_year: Decimal | None
    worst_year: Decimal | None
    win_rate_days: Decimal | None
    win_rate_months: Decimal | None
    skew: Decimal | None
    kurtosis: Decimal | None
    monthly_returns: dict[tuple[int, int], Decimal]
    top_drawdowns: tuple[DrawdownSpan, ...]


@dataclass(frozen=True, slots=True)
class Relative:
    """One series against a benchmark's over the same sessions."""

    alpha: Decimal | None
    beta: Decimal | None
    correlation: Decimal | None
    r_squared: Decimal | None
    tracking_error: Decimal | None
    information_ratio: Decimal | None


def daily_returns(start_value: Decimal, equity: Sequence[Decimal]) -> list[Decimal]:
    """r_t = E_t / E_{t-1} - 1, the first against `start_value` (zero after a zero)."""
    out: list[Decimal] = []
    last = start_value
    for value in equity:
        out.append(value / last - ONE if last else ZERO)
        last = value
    return out


def period_returns(
    start_value: Decimal, days: Sequence[date], equity: Sequence[Decimal], *, monthly: bool
) -> dict[tuple[int, int], Decimal]:
    """Each month's (or year's, month 0) return: its last equity over the previous one's."""
    ends: dict[tuple[int, int], Decimal] = {}
    for day, value in zip(days, equity, strict=True):
        ends[(day.year, day.month if monthly else 0)] = value
    out: dict[tuple[int, int], Decimal] = {}
    base = start_value
    for key, end in ends.items():
        out[key] = end / base - ONE if base else ZERO
        base = end
    return out


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _window_start(name: str, last: date) -> date:
    if name == "MTD":
        return last.replace(day=1)
    if name == "YTD":
        return last.replace(month=1, day=1)
    return _months_before(last, _MONTHS[name])


def trailing_returns(days: Sequence[date], returns: Sequence[Decimal]) -> dict[str, Decimal | None]:
    """MTD, 3M, 6M, YTD, 1Y, 3Y, 5Y and 10Y returns to the last session (see the module)."""
    out: dict[str, Decimal | None] = {}
    last = days[-1]
    for name in TRAILING:
        opens = _window_start(name, last)
        if days[0] > opens + REACH:
            out[name] = None
            continue
        growth = ONE
        for day, r in zip(days, returns, strict=True):
            if day >= opens:
                growth *= ONE + r
        if name in _ANNUALISED:
            years = Decimal((last - opens).days) / DAYS_PER_YEAR
            out[name] = growth ** (ONE / years) - ONE if growth > 0 else None
        else:
            out[name] = growth - ONE
    return out


def _moments(values: Sequence[Decimal]) -> tuple[Decimal | None, Decimal | None]:
    """Bias-corrected sample skewness and excess kurtosis (as pandas computes them)."""
    n = len(values)
    mean = sum(values, ZERO) / n if n else ZERO
    m2 = sum(((v - mean) ** 2 for v in values), ZERO)
    if n < 3 or not m2:
        return None, None
    m3 = sum(((v - mean) ** 3 for v in values), ZERO)
    var = m2 / (n - 1)
    skew = Decimal(n) / ((n - 1) * (n - 2)) * m3 / var ** Decimal("1.5")
    if n < 4:
        return skew, None
    m4 = sum(((v - mean) ** 4 for v in values), ZERO)
    kurt = Decimal(n * (n + 1)) / ((n - 1) * (n - 2) * (n - 3)) * m4 / var**2 - Decimal(
        3 * (n - 1) ** 2
    ) / ((n - 2) * (n - 3))
    return skew, kurt


def _win_rate(values: Sequence[Decimal]) -> Decimal | None:
    moved = [v for v in values if v]
    if not moved:
        return None
    return Decimal(sum(1 for v in moved if v > 0)) / len(moved)


def drawdown_spans(
    start_value: Decimal, days: Sequence[date], equity: Sequence[Decimal]
) -> list[DrawdownSpan]:
    """Every drawdown from a running peak (the starting value the first), oldest first."""
    spans: list[DrawdownSpan] = []
    peak, peak_day = start_value, None
    trough_day: date | None = None
    depth = ZERO
    for day, value in zip(days, equity, strict=True):
        if value >= peak:
            if trough_day is not None:
                opened = peak_day or days[0]
                spans.append(DrawdownSpan(peak_day, trough_day, day, depth, (day - opened).days))
                trough_day, depth = None, ZERO
            peak, peak_day = value, day
            continue
        fall = value / peak - ONE
        if trough_day is None or fall < depth:
            depth, trough_day = fall, day
    if trough_day is not None:
        opened = peak_day or days[0]
        spans.append(DrawdownSpan(peak_day, trough_day, None, depth, (days[-1] - opened).days))
    return spans


def describe(start_value: Decimal, days: Sequence[date], equity: Sequence[Decimal]) -> Metrics:
    """The tearsheet's figures of one equity series (see the module's conventions)."""
    with localcontext() as ctx:
        ctx.prec = 28
        returns = daily_returns(start_value, equity)
        months = period_returns(start_value, days, equity, monthly=True)
        years = list(period_returns(start_value, days, equity, monthly=False).values())
        skew, kurt = _moments(returns)
        spans = drawdown_spans(start_value, days, equity)
        deepest = sorted(spans, key=lambda s: (s.depth, s.trough))[:TOP_DRAWDOWNS]
        return Metrics(
            trailing=trailing_returns(days, returns),
            best_day=max(returns, default=None),
            worst_day=min(returns, default=None),
            best_month=max(months.values(), default=None),
            worst_month=min(months.values(), default=None),
            best_year=max(years, default=None),
            worst_year=min(years, default=None),
            win_rate_days=_win_rate(returns),
            win_rate_months=_win_rate(list(months.values())),
            skew=skew,
            kurtosis=kurt,
            monthly_returns=months,
            top_drawdowns=tuple(deepest),
        )


def _sample_sd(values: Sequence[Decimal]) -> tuple[Decimal, Decimal | None]:
    n = len(values)
    mean = sum(values, ZERO) / n if n else ZERO
    if n < 2:
        return mean, None
    return mean, (sum(((v - mean) ** 2 for v in values), ZERO) / (n - 1)).sqrt()


def relative(
    returns: Sequence[Decimal], bench: Sequence[Decimal], risk_free: Decimal = ZERO
) -> Relative:
    """Alpha, beta, correlation, R^2, tracking error and information ratio of `returns`
    against `bench` (the same sessions; see the module's conventions)."""
    none = Relative(None, None, None, None, None, None)
    n = len(returns)
    if n != len(bench) or n < 2:
        return none
    with localcontext() as ctx:
        ctx.prec = 28
        mean_r, sd_r = _sample_sd(returns)
        mean_b, sd_b = _sample_sd(bench)
        cov = sum(((r - mean_r) * (b - mean_b) for r, b in zip(returns, bench, strict=True)), ZERO)
        cov /= n - 1
        root = TRADING_DAYS.sqrt()
        active_mean, active_sd = _sample_sd([r - b for r, b in zip(returns, bench, strict=True)])
        tracking = active_sd * root if active_sd is not None else None
        info = active_mean / active_sd * root if active_sd else None
        if not sd_b:
            return Relative(None, None, None, None, tracking, info)
        beta = cov / sd_b**2
        daily_rf = risk_free / TRADING_DAYS
        alpha = (mean_r - daily_rf - beta * (mean_b - daily_rf)) * TRADING_DAYS
        corr = cov / (sd_r * sd_b) if sd_r else None
        r2 = corr**2 if corr is not None else None
        return Relative(alpha, beta, corr, r2, tracking, info)
