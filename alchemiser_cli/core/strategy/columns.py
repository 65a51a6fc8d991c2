"""Indicator columns: one indicator over a whole series, every point computed once.

`column(name, window, values)` gives the indicator at every index of `values` (a symbol's
closes, oldest first): `None` where too few values exist yet. Each point is the value
`indicators.compute` would give on the values up to it, computed by carrying a recurrence
forward instead of re-reading the window:

- sums over a window (moving averages, mean and standard deviation of returns or prices)
  are differences of prefix sums kept EXACT (a context that traps `Inexact`), then rounded
  once into the fixed context, so no rounding accumulates along the history;
- RSI (Wilder) and EMA run their recurrences over the whole series, seeded at its first
  value (the mean of the first n changes or closes), in the fixed context, as the
  indicators module does on a window;
- cumulative return reads two closes; max drawdown walks its window, only at the points
  asked for (`MaxDrawdown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext

from alchemiser_cli.core.strategy import indicators as ind
from alchemiser_cli.core.strategy.syntax import StrategyError

CONTEXT = ind.CONTEXT
# Sums are exact: digits are never dropped (an input that would need more is refused).
EXACT = Context(prec=600, rounding=ROUND_HALF_EVEN, traps=[Inexact])
ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)

Column = list[Decimal | None]


def _prefix(values: Sequence[Decimal]) -> list[Decimal]:
    """Exact running sums: out[k] = values[0] + ... + values[k - 1]."""
    out = [ZERO]
    total = ZERO
    add = EXACT.add
    for v in values:
        total = add(total, v)
        out.append(total)
    return out


def _returns(values: Sequence[Decimal]) -> list[Decimal]:
    """The daily returns c[k] / c[k - 1] - 1 for k >= 1, in the fixed context."""
    with localcontext(CONTEXT):
        return [values[k] / values[k - 1] - ONE for k in range(1, len(values))]


def _mean(values: Sequence[Decimal], n: int) -> Column:
    """Mean of the last n values: an exact window sum divided once."""
    sums = _prefix(values)
    out: Column = [None] * len(values)
    sub, div = EXACT.subtract, CONTEXT.divide
    for k in range(n - 1, len(values)):
        out[k] = div(sub(sums[k + 1], sums[k + 1 - n]), n)
    return out


def _stdev(values: Sequence[Decimal], n: int) -> Column:
    """Sample standard deviation of the last n values: sqrt((n S2 - S1^2) / (n (n - 1)))
    with S1 and S2 exact window sums (the subtraction loses nothing), rounded once."""
    sums = _prefix(values)
    mul = EXACT.multiply
    squares = _prefix([mul(v, v) for v in values])
    out: Column = [None] * len(values)
    sub, div, sqrt = EXACT.subtract, CONTEXT.divide, CONTEXT.sqrt
    scale = n * (n - 1)
    for k in range(n - 1, len(values)):
        s1 = sub(sums[k + 1], sums[k + 1 - n])
        spread = sub(mul(n, sub(squares[k + 1], squares[k + 1 - n])), mul(s1, s1))
        out[k] = sqrt(div(spread, scale))
    return out


def _of_returns(values: Sequence[Decimal], n: int, stdev: bool) -> Column:
    """Mean or sample stdev of the last n daily returns, in percent (index k reads the
    returns of closes k - n .. k)."""
    inner = (_stdev if stdev else _mean)(_returns(values), n)
    mul = CONTEXT.multiply
    return [None] + [None if v is None else mul(v, HUNDRED) for v in inner]


def ema(values: Sequence[Decimal], n: int) -> Column:
    """EMA seeded with the mean of the first n values, then ema += alpha (close - ema);
    None until it has taken a step (n + 1 values)."""
    out: Column = [None] * len(values)
    if len(values) < n:
        return out
    with localcontext(CONTEXT):
        alpha = Decimal(2) / (n + 1)
        value = sum(values[:n], ZERO) / n  # the seed: a value from n + 1 closes on
        for k in range(n, len(values)):
            value = value + alpha * (values[k] - value)
            out[k] = value
    return out


class Wilder:
    """Wilder's RSI seeded with the plain mean of the first n changes: the average gain and
    loss carried over the whole series once, the RSI itself only at the points asked for."""

    def __init__(self, values: Sequence[Decimal], n: int) -> None:
        self.gains: list[Decimal] = []
        self.losses: list[Decimal] = []
        if len(values) < n + 1:
            return
        with localcontext(CONTEXT):
            changes = [values[k] - values[k - 1] for k in range(1, len(values))]
            gain = sum((c if c > 0 else ZERO for c in changes[:n]), ZERO) / n
            loss = sum((-c if c < 0 else ZERO for c in changes[:n]), ZERO) / n
            self.gains, self.losses = [gain], [loss]
            keep = n - 1
            for c in changes[n:]:
                gain = (gain * keep + (c if c > 0 else ZERO)) / n
                loss = (loss * keep + (-c if c < 0 else ZERO)) / n
                self.gains.append(gain)
                self.losses.append(loss)
        self.n = n

    def at(self, k: int) -> Decimal:
        """The RSI at index k (k >= n)."""
        gain, loss = self.gains[k - self.n], self.losses[k - self.n]
        if loss == 0:
            return HUNDRED if gain > 0 else Decimal(50)
        with localcontext(CONTEXT):
            return HUNDRED - HUNDRED / (ONE + gain / loss)


def rsi(values: Sequence[Decimal], n: int) -> Column:
    """The RSI at every index (None before n)."""
    wilder = Wilder(values, n)
    return [None if k < n else wilder.at(k) for k in range(len(values))]


def _cumulative(values: Sequence[Decimal], n: int) -> Column:
    out: Column = [None] * len(values)
    with localcontext(CONTEXT):
        for k in range(n, len(values)):
            out[k] = (values[k] / values[k - n] - ONE) * HUNDRED
    return out


def column(name: str, window: int | None, values: Sequence[Decimal], what: str) -> Column:
    """`name` with `window` at every index of `values` (None where too few values exist);
    `what` names the series in the error of an input too long to sum exactly."""
    n = window or 1
    try:
        if name == "current-price":
            return list(values)
        if name == "moving-average-price":
            return _mean(values, n)
        if name == "stdev-price":
            return _stdev(values, n)
        if name == "exponential-moving-average-price":
            return ema(values, n)
        if name == "rsi":
            return rsi(values, n)
        if name == "cumulative-return":
            return _cumulative(values, n)
        if name == "moving-average-return":
            return _of_returns(values, n, stdev=False)
        if name == "stdev-return":
            return _of_returns(values, n, stdev=True)
    except Inexact:
        raise StrategyError(
            f"{what}: its values have too many digits to sum exactly ({name} window {n})"
        ) from None
    raise ValueError(f"no column for {name}")  # max-drawdown: `MaxDrawdown`


class Listed:
    """A column computed at every point at once."""

    def __init__(self, values: Column) -> None:
        self.values = values

    def at(self, k: int) -> Decimal:
        value = self.values[k]
        assert value is not None  # the caller checked there are enough values
        return value


class MaxDrawdown:
    """max-drawdown(n) at the points asked for (each walks its n + 1 closes, memoised)."""

    def __init__(self, values: Sequence[Decimal], n: int) -> None:
        self.values = values
        self.n = n
        self.memo: dict[int, Decimal] = {}

    def at(self, k: int) -> Decimal:
        value = self.memo.get(k)
        if value is None:
            value = ind.compute("max-drawdown", self.values[k - self.n : k + 1], self.n)
            self.memo[k] = value
        return value


Points = Listed | Wilder | MaxDrawdown


def points(name: str, window: int | None, values: Sequence[Decimal], what: str) -> Points:
    """`name` with `window` over `values`, each point read with `.at(k)` (RSI and max
    drawdown compute theirs when asked)."""
    if name == "rsi":
        return Wilder(values, window or 1)
    if name == "max-drawdown":
        return MaxDrawdown(values, window or 1)
    return Listed(column(name, window, values, what))
