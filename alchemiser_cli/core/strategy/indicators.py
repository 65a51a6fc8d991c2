"""The indicators of the symphony language, on a series of daily closes (oldest first).

Pure and exact: every value is a `Decimal` computed in one fixed context (28 significant
digits, ROUND_HALF_EVEN) in one fixed order, so a result is identical run to run and
machine to machine. The last close is the as-of session's. Each indicator reads the last
`required_bars(name, window)` closes, except RSI and EMA, which run over every close given
(seeded at the first: the longer the history, the closer to the full-history value).
RSI and EMA need at least n + 1 closes; below `warm_bars` (10n + 1 for RSI, 10n for EMA)
their value is used but marked a short warm-up; `history_bars` (30n + 1, 30n) is what a
strategy asks its bars source for. The columns module computes the same values over a
whole history at once (`columns.column`).

Formulas (the README repeats them):
- current-price: the last close.
- moving-average-price(n): mean of the last n closes.
- exponential-moving-average-price(n): alpha = 2 / (n + 1), seeded with the mean of the
  first n closes, then ema = ema + alpha * (close - ema) over every later close.
- rsi(n): Wilder. Average gain and loss seeded with the plain mean of the first n changes,
  then avg = (avg * (n - 1) + x) / n for each later change; RSI = 100 - 100 / (1 + gain /
  loss); loss 0 gives 100 (both 0 gives 50).
- cumulative-return(n): (c[t] / c[t-n] - 1) * 100, percent.
- moving-average-return(n): mean of the last n daily returns c[i] / c[i-1] - 1, * 100.
- stdev-return(n): SAMPLE standard deviation (n - 1) of the last n daily returns, * 100:
  the DAILY figure, in percent, never annualised.
- stdev-price(n): sample standard deviation of the last n closes, in price units.
- max-drawdown(n): the largest fall from a running peak within the last n + 1 closes,
  (1 - trough / peak) * 100, a positive percent (0 when the series only rises).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)
WARMUP = 10  # a full warm-up of EMA and RSI: 10n closes (10n + 1 for RSI's 10n changes)
HISTORY = 30  # what EMA and RSI ask for: 30n closes, the seed's weight then below e**-29
RECURSIVE = frozenset({"rsi", "exponential-moving-average-price"})


def required_bars(name: str, window: int | None) -> int:
    """The fewest closes `name` with `window` can be computed on (fewer is an error)."""
    n = window or 1
    if name == "current-price":
        return 1
    if name in ("moving-average-price", "stdev-price"):
        return n
    return n + 1  # RSI and EMA (a seed and one step), and every n-day change


def warm_bars(name: str, window: int | None) -> int:
    """The closes for a full warm-up: fewer is used, marked `short_warmup` (RSI, EMA)."""
    n = window or 1
    if name == "exponential-moving-average-price":
        return WARMUP * n
    if name == "rsi":
        return WARMUP * n + 1
    return required_bars(name, window)


def history_bars(name: str, window: int | None) -> int:
    """The closes a strategy asks its bars source for, to read `name` as of one session."""
    n = window or 1
    if name == "exponential-moving-average-price":
        return HISTORY * n
    if name == "rsi":
        return HISTORY * n + 1
    return required_bars(name, window)


def minimum_window(name: str) -> int:
    """The smallest window an indicator accepts (a standard deviation needs two values)."""
    return 2 if name in ("stdev-return", "stdev-price") else 1


def _returns(closes: Sequence[Decimal]) -> list[Decimal]:
    return [closes[i] / closes[i - 1] - ONE for i in range(1, len(closes))]


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, ZERO) / len(values)


def _sample_stdev(values: Sequence[Decimal]) -> Decimal:
    mean = _mean(values)
    return (sum(((v - mean) ** 2 for v in values), ZERO) / (len(values) - 1)).sqrt()


def current_price(closes: Sequence[Decimal], window: int) -> Decimal:
    return closes[-1]


def moving_average_price(closes: Sequence[Decimal], window: int) -> Decimal:
    return _mean(closes[-window:])


def exponential_moving_average_price(closes: Sequence[Decimal], window: int) -> Decimal:
    alpha = Decimal(2) / (window + 1)
    ema = _mean(closes[:window])
    for close in closes[window:]:
        ema = ema + alpha * (close - ema)
    return ema


def rsi(closes: Sequence[Decimal], window: int) -> Decimal:
    changes = [closes[i] - closes[i - 1] for i in range(1, len(closes))]
    gains = [c if c > 0 else ZERO for c in changes]
    losses = [-c if c < 0 else ZERO for c in changes]
    gain = _mean(gains[:window])
    loss = _mean(losses[:window])
    keep = window - 1
    for g, lo in zip(gains[window:], losses[window:], strict=True):
        gain = (gain * keep + g) / window
        loss = (loss * keep + lo) / window
    if loss == 0:
        return HUNDRED if gain > 0 else Decimal(50)
    return HUNDRED - HUNDRED / (ONE + gain / loss)


def cumulative_return(closes: Sequence[Decimal], window: int) -> Decimal:
    return (closes[-1] / closes[-1 - window] - ONE) * HUNDRED


def moving_average_return(closes: Sequence[Decimal], window: int) -> Decimal:
    return _mean(_returns(closes[-(window + 1) :])) * HUNDRED


def stdev_return(closes: Sequence[Decimal], window: int) -> Decimal:
    return _sample_stdev(_returns(closes[-(window + 1) :])) * HUNDRED


def stdev_price(closes: Sequence[Decimal], window: int) -> Decimal:
    return _sample_stdev(closes[-window:])


def max_drawdown(closes: Sequence[Decimal], window: int) -> Decimal:
    peak = closes[-(window + 1)]
    worst = ZERO
    for close in closes[-(window + 1) :]:
        if close > peak:
            peak = close
        fall = ONE - close / peak
        if fall > worst:
            worst = fall
    return worst * HUNDRED


FUNCTIONS: dict[str, Callable[[Sequence[Decimal], int], Decimal]] = {
    "current-price": current_price,
    "moving-average-price": moving_average_price,
    "exponential-moving-average-price": exponential_moving_average_price,
    "rsi": rsi,
    "cumulative-return": cumulative_return,
    "moving-average-return": moving_average_return,
    "stdev-return": stdev_return,
    "stdev-price": stdev_price,
    "max-drawdown": max_drawdown,
}


def compute(name: str, closes: Sequence[Decimal], window: int | None) -> Decimal:
    """`name` on the last `required_bars(name, window)` of `closes`, RSI and EMA on all of
    them (the caller checks there are enough, and that no close is zero or negative)."""
    with localcontext(CONTEXT):
        return +FUNCTIONS[name](closes, window or 1)
