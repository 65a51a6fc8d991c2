"""The account's daily history (Alpaca's portfolio history, the simulator's own) and its
time-weighted returns. Pure.

Deposits and withdrawals are not returns: a day's return is (E_t - F_t) / E_{t-1} - 1,
where F_t is the day's net external cash flow (deposits and incoming transfers positive,
withdrawals negative), counted at that day's close. The growth of the first day's equity
at those returns is the curve a tearsheet draws (README "Report")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from alchemiser_cli.core.money import ONE, ZERO


@dataclass(frozen=True, slots=True)
class PortfolioHistory:
    """The account's equity at each session's close and the cash that came in or left."""

    days: tuple[date, ...]
    equity: tuple[Decimal, ...]
    flows: tuple[Decimal, ...]  # net deposits (+) and withdrawals (-) each day

    @property
    def net_flows(self) -> Decimal:
        """Everything deposited less everything withdrawn over the history."""
        return sum(self.flows, ZERO)


@dataclass(frozen=True, slots=True)
class GrowthCurve:
    """The first funded day's equity grown at the time-weighted daily returns."""

    days: tuple[date, ...]
    value: tuple[Decimal, ...]  # value[0] is the first funded day's equity
    returns: tuple[Decimal, ...]  # returns[0] is zero: the curve starts there


def time_weighted(history: PortfolioHistory) -> GrowthCurve:
    """The growth curve of `history` from its first day with equity (see the module)."""
    start = next((i for i, e in enumerate(history.equity) if e > 0), None)
    if start is None:
        return GrowthCurve((), (), ())
    days = history.days[start:]
    equity = history.equity[start:]
    flows = history.flows[start:]
    returns = [ZERO]
    values = [equity[0]]
    for i in range(1, len(days)):
        before = equity[i - 1]
        r = (equity[i] - flows[i]) / before - ONE if before > 0 else ZERO
        returns.append(r)
        values.append(values[-1] * (ONE + r))
    return GrowthCurve(tuple(days), tuple(values), tuple(returns))
