"""A symphony compiled once: what it reads, how much history it needs, and its runs.

`compile(symphony) -> Program` walks the tree once. `Program.lookback` is the number of
sessions, the evaluated one included, that one evaluation reads with every indicator fully
warmed up; it is THE rule of how much history a strategy needs (`alch signal`,
`plan/check/execute --strategy` and the backtest's warm-up before `--from` all ask their
bars source for `history(programs)`):

- an indicator on a symbol reads `indicators.history_bars` closes (n, n + 1; 30n for EMA
  and 30n + 1 for RSI, which converge on the full-history value from there);
- a `filter` or `weight-inverse-volatility` over a non-asset child scores the child's value
  series of L values (L as above; n + 1 for inverse volatility), and each of those values
  needs the child's own lookback: L + lookback(child) - 1;
- `if` reads its operands and either branch; a weight node, any child.

`Program.over(bars) -> Run` computes every indicator column once over the whole history
and answers `Run.weights(i)` and `Run.explain(i)` (see `run.py`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from alchemiser_cli.core.strategy.indicators import history_bars
from alchemiser_cli.core.strategy.nodes import (
    Asset,
    Filter,
    If,
    Indicator,
    Node,
    Symphony,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
    symbols_of,
    walk,
)
from alchemiser_cli.core.strategy.run import Run
from alchemiser_cli.core.strategy.series import Series

SESSIONS_PER_YEAR = 250  # fewer than any year has had (about 252): the days then hold them
HOLIDAY_MARGIN_DAYS = 15  # holidays and a long weekend on top of 365 / 252 days a session


def _reads(spec: Indicator) -> int:
    return history_bars(spec.name, spec.window)


def _scored(spec: Indicator, child: Node) -> int:
    """Sessions that scoring `child` with `spec` reads (its value series for a non-asset)."""
    if isinstance(child, Asset):
        return _reads(spec)
    return _reads(spec) + lookback_of(child) - 1


def lookback_of(node: Node) -> int:
    """Sessions, the evaluated one included, that evaluating `node` reads (see module)."""
    if isinstance(node, Asset):
        return 1
    if isinstance(node, If):
        sides = [
            _reads(side)
            for side in (node.condition.lhs, node.condition.rhs)
            if isinstance(side, Indicator)
        ]
        return max([*sides, lookback_of(node.then), lookback_of(node.otherwise)])
    if isinstance(node, Filter):
        return max(max(_scored(node.indicator, c), lookback_of(c)) for c in node.children)
    if isinstance(node, WeightInverseVolatility):
        spec = Indicator("stdev-return", None, node.window, node.pos)
        return max(max(_scored(spec, c), lookback_of(c)) for c in node.children)
    assert isinstance(node, WeightEqual | WeightSpecified)
    return max(lookback_of(c) for c in node.children)


def days_for(sessions: int) -> timedelta:
    """Calendar days that hold `sessions` NYSE sessions, with a margin for holidays."""
    return timedelta(days=sessions * 365 // SESSIONS_PER_YEAR + HOLIDAY_MARGIN_DAYS)


@dataclass(frozen=True, slots=True)
class Program:
    """A compiled symphony (see module)."""

    symphony: Symphony
    lookback: int  # sessions one evaluation reads, fully warmed up
    symbols: tuple[str, ...]  # every symbol it holds or reads, sorted
    holdable: tuple[str, ...]  # every symbol any branch can hold, sorted

    @property
    def history(self) -> timedelta:
        """How far before a session its bars are asked for."""
        return days_for(self.lookback)

    def over(self, bars: Mapping[str, Series], first: date | None = None) -> Run:
        """The program over `bars` (every session any of its symbols has a bar on);
        `first`: the first session it will be asked about (RSI and EMA start their
        recurrences their lookback before it; by default at the first close)."""
        return Run(self.symphony, self.symbols, bars, first, self.lookback)


def compile(symphony: Symphony) -> Program:
    """Compile a parsed symphony (see module)."""
    holdable = sorted({n.symbol for n in walk(symphony.root) if isinstance(n, Asset)})
    return Program(
        symphony=symphony,
        lookback=lookback_of(symphony.root),
        symbols=tuple(symbols_of(symphony.root)),
        holdable=tuple(holdable),
    )


def history(programs: Sequence[Program]) -> timedelta:
    """How far before the first session to read bars for all of `programs`."""
    return days_for(max((p.lookback for p in programs), default=1))


def within_lookback(
    bars: Mapping[str, Series], programs: Sequence[Program], first: date
) -> dict[str, Series]:
    """Each series from the programs' lookback before `first` on: a source that gives more
    (the simulator reads its whole CSV) is cut there, so an RSI or EMA starts as far back
    whatever the source (its last bars are kept however old: stale data is reported, not
    lost)."""
    keep = max((p.lookback for p in programs), default=1)
    out: dict[str, Series] = {}
    for symbol, series in bars.items():
        start = max(0, bisect_right(series.dates, first) - keep)
        out[symbol] = (
            series
            if start == 0
            else Series(series.dates[start:], series.closes[start:], series.synthetic)
        )
    return out


def tightest_threshold(programs: Sequence[Program]) -> Decimal | None:
    """The band a blend of strategies asks for: the tightest `:rebalance-threshold`."""
    found = [
        p.symphony.rebalance_threshold
        for p in programs
        if p.symphony.rebalance_threshold is not None
    ]
    return min(found) if found else None
