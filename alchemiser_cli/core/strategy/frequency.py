"""`:rebalance-frequency`: on which sessions a strategy trades.

The convention (README "Signals"): a strategy trades on the FIRST session of each of its
periods, the decision made on the close of the session before (the last of the previous
period), as the backtest always decides. Periods are calendar periods: an ISO week
(Monday to Sunday), a month, a quarter (January, April, July, October), a year.
`:daily` and `:none` have no calendar (every session may trade; with `:none` Composer
trades only when the weights drift past `:rebalance-threshold`, which is what the band
then does here too); no option at all is `:daily`. Pure: dates are arguments.
"""

from __future__ import annotations

from datetime import date, timedelta

PERIODS = ("weekly", "monthly", "quarterly", "yearly")
EVERY_SESSION = ("none", "daily")
DESCRIPTION = {
    "weekly": "on the first session of each week",
    "monthly": "on the first session of each month",
    "quarterly": "on the first session of each quarter",
    "yearly": "on the first session of each year",
}


def period(frequency: str | None, day: date) -> tuple[int, ...]:
    """The period `day` falls in (each session its own for daily, none or no option)."""
    if frequency == "weekly":
        iso = day.isocalendar()
        return (iso.year, iso.week)
    if frequency == "monthly":
        return (day.year, day.month)
    if frequency == "quarterly":
        return (day.year, (day.month - 1) // 3)
    if frequency == "yearly":
        return (day.year,)
    return (day.toordinal(),)


def due(frequency: str | None, decided: date, trading: date) -> bool:
    """Whether a strategy decided on the close of `decided` trades on `trading`, the next
    session: when `trading` opens a new period."""
    return period(frequency, decided) != period(frequency, trading)


def next_period(frequency: str | None, day: date) -> date:
    """The first calendar day of the period after the one `day` is in (the first session
    on or after it is the next rebalance)."""
    if frequency == "weekly":
        return day + timedelta(days=7 - day.weekday())
    if frequency == "monthly":
        return date(day.year + day.month // 12, day.month % 12 + 1, 1)
    if frequency == "quarterly":
        first = (day.month - 1) // 3 * 3 + 1  # this quarter's first month
        return date(day.year + (first + 3 > 12), (first + 2) % 12 + 1, 1)
    if frequency == "yearly":
        return date(day.year + 1, 1, 1)
    return day + timedelta(days=1)


def describe(frequency: str | None) -> str:
    """When a strategy of this frequency trades, in words."""
    return DESCRIPTION.get(frequency or "daily", "on every session")
