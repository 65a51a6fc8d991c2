"""A compiled symphony over one set of bars: weights and traces on any session.

Pure: bars are an argument, nothing is read or fetched here. A `Run` lives as long as its
bars: every (symbol, indicator, window) column is computed once over the whole history
(`columns.py`), every group's allocation and daily growth once per session, so a backtest
asks `weights(i)` session after session and live asks `explain(last)`: the same engine,
so the two agree by construction. Numbers are `Decimal` in one fixed context.

Rules (the README repeats them):
- `weight-equal`, `group` and a bare vector share their weight equally among their
  children; a nested vector is ONE child (itself split equally), not flattened.
- `weight-specified` gives each child its written fraction; what the fractions leave is cash.
- `filter` scores each candidate with its indicator, sorts (highest first for select-top,
  lowest first for select-bottom; ties by label alphabetically, then by position: stable),
  keeps N and weights them equally. A candidate that is not an asset (a group, an `if`...)
  is scored on its own daily value series: its allocation on each session of the window,
  carried one session at the closes (what Composer does), starting at 1, keyed by the
  node's identity, never by its name. A candidate that cannot be scored is an error.
- `weight-inverse-volatility n` weights children in proportion to 1 / stdev-return(n) of
  each (of its value series for a non-asset child).
- RSI and EMA read every close there is (a group's series: up to 30n + 1 values, from the
  first session its whole subtree can be evaluated); fewer than a full warm-up is used and
  reported (`short_warmup`), n or fewer is an error.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext

from alchemiser_cli.core.strategy import indicators as ind
from alchemiser_cli.core.strategy.allocate import Allocator, scoring
from alchemiser_cli.core.strategy.columns import Points, points
from alchemiser_cli.core.strategy.nodes import (
    Asset,
    Filter,
    If,
    Indicator,
    Node,
    Symphony,
    WeightInverseVolatility,
)
from alchemiser_cli.core.strategy.result import StrategyResult, Trace
from alchemiser_cli.core.strategy.run_trace import Explainer, label_of
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.strategy.syntax import StrategyError

ZERO = Decimal(0)
ONE = Decimal(1)
DEFAULT_FRAGILE_MARGIN = Decimal("0.02")


class Run(Allocator):
    """A symphony over `bars` (see module). Sessions are every date any of its symbols has
    a bar on; `index(as_of)` finds the one to evaluate."""

    def __init__(
        self,
        symphony: Symphony,
        symbols: Sequence[str],
        bars: Mapping[str, Series],
        first: date | None = None,
        lookback: int = 1,
    ):
        missing = [s for s in symbols if s not in bars]
        if missing:
            raise StrategyError(f"{symphony.pos}: no daily bars for {', '.join(missing)}")
        self.symphony = symphony
        self.symbols = tuple(symbols)
        self.bars = {s: bars[s] for s in symbols}
        self.sessions: tuple[date, ...] = tuple(
            sorted({d for s in self.symbols for d in self.bars[s].dates})
        )
        self.synthetic = any(self.bars[s].synthetic for s in self.symbols)
        # The earliest session an evaluation from `first` on reads (`lookback` sessions
        # back, group series included): each column starts what it reads before that
        # (`_seed`); without `first`, every column starts at the first close.
        self.first = 0 if first is None else max(0, bisect_right(self.sessions, first) - lookback)
        self._aligned: dict[str, bool] = {}
        self._columns: dict[tuple[str, str, int | None], Points] = {}
        self._alloc: dict[tuple[int, int], dict[str, Decimal]] = {}
        self._growth: dict[tuple[int, int], Decimal] = {}
        self._ready: dict[int, int] = {}
        self._live: tuple[int, Mapping[str, Decimal]] | None = None
        self.notes: list[str] | None = None  # collects short warm-ups while explaining
        self._at = -1  # the session explained (short warm-ups are its own, not its series')

    # ---- sessions -----------------------------------------------------------------------
    def index(self, as_of: date) -> int:
        """The last session on or before `as_of`."""
        i = bisect_right(self.sessions, as_of) - 1
        if i < 0:
            raise StrategyError(
                f"{self.symphony.pos}: no daily bars on or before {as_of.isoformat()}"
            )
        return i

    def count(self, symbol: str, t: int) -> int:
        """How many bars of `symbol` are on or before session t."""
        aligned = self._aligned.get(symbol)
        if aligned is None:  # a symbol with a bar on every session: t + 1, no search
            aligned = self._aligned[symbol] = self.bars[symbol].dates == self.sessions
        return t + 1 if aligned else bisect_right(self.bars[symbol].dates, self.sessions[t])

    def _nth(self, symbol: str, k: int) -> int:
        """The first session on which `symbol` has k bars (past the end: never)."""
        dates = self.bars[symbol].dates
        if len(dates) < k:
            return len(self.sessions)
        return bisect_left(self.sessions, dates[k - 1])

    # ---- the two questions --------------------------------------------------------------
    def weights(self, i: int) -> dict[str, Decimal]:
        """The weights on session i (no trace), sorted, zero weights left out."""
        with localcontext(ind.CONTEXT):
            held = self.visit(self.symphony.root, i)
        return {s: held[s] for s in sorted(held) if held[s] != 0}

    def explain(
        self,
        i: int,
        *,
        fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
        live_prices: Mapping[str, Decimal] | None = None,
    ) -> StrategyResult:
        """The weights on session i with the decision trace. `live_prices` (the market
        open): `current-price` on that session is the latest trade given here."""
        explainer = Explainer(self, fragile_margin)
        self._live = None if live_prices is None else (i, live_prices)
        self.notes, self._at = [], i
        try:
            roots: list[Trace] = []
            with localcontext(ind.CONTEXT):
                weights = explainer.visit(self.symphony.root, i, ONE, roots)
        finally:
            self._live = None
            short, self.notes = self.notes or [], None
        day = self.sessions[i]
        stale: dict[str, date] = {}
        for s in self.symbols:
            k = self.count(s, i)
            if k and self.bars[s].dates[k - 1] < day:
                stale[s] = self.bars[s].dates[k - 1]
        return StrategyResult(
            name=self.symphony.name,
            file=self.symphony.file,
            as_of=day,
            weights={s: weights[s] for s in sorted(weights) if weights[s] != 0},
            trace=roots[0],
            fragile=tuple(explainer.fragile),
            rebalance_threshold=self.symphony.rebalance_threshold,
            rebalance_frequency=self.symphony.rebalance_frequency,
            stale=stale,
            synthetic=self.synthetic,
            live_prices=live_prices is not None,
            short_warmup=tuple(dict.fromkeys(short)),
        )

    # ---- data ---------------------------------------------------------------------------
    def indicator(self, spec: Indicator, symbol: str, t: int) -> Decimal:
        """`spec` on `symbol` as of session t (its column, computed once)."""
        if self._live is not None and spec.name == "current-price" and t == self._live[0]:
            price = self._live[1].get(symbol)
            if price is None or price <= 0:
                raise StrategyError(f"{spec.pos}: current-price: no latest trade for {symbol}")
            return price
        check_window(spec)
        k = self.count(symbol, t)
        need = ind.required_bars(spec.name, spec.window)
        what = f"{spec.name} window {spec.window}" if spec.window else spec.name
        if k < need:
            least = "at least " if spec.name in ind.RECURSIVE else ""
            raise StrategyError(
                f"{spec.pos}: {what}: {symbol} has {k} daily bars through "
                f"{self.sessions[t].isoformat()}, the window needs {least}{need}"
            )
        seed = self._seed(symbol, spec)
        if k - seed < need:
            raise ValueError(f"session {t} is before the run's first session {self.first}")
        warm = ind.warm_bars(spec.name, spec.window)
        if k - seed < warm and self.notes is not None and t == self._at:
            self.notes.append(
                f"{spec.pos}: {spec.label(symbol)} read {k - seed} closes, {warm} for a full "
                "warm-up"
            )
        key = (symbol, spec.name, spec.window)
        col = self._columns.get(key)
        if col is None:
            closes = self.bars[symbol].closes[seed:]
            col = points(spec.name, spec.window, closes, f"{spec.pos}: {symbol}")
            self._columns[key] = col
        return col.at(k - 1 - seed)

    def _seed(self, symbol: str, spec: Indicator) -> int:
        """Where the column of `spec` on `symbol` starts: what it reads before the first
        session asked about, no earlier. RSI and EMA start `history_bars` before it (what
        came before weighs below e**-29); the others read a window whose sums are exact,
        so where the column starts changes none of their values."""
        if not self.first:
            return 0
        reads = (ind.history_bars if spec.name in ind.RECURSIVE else ind.required_bars)(
            spec.name, spec.window
        )
        return max(0, self.count(symbol, self.first) - reads)

    def short_warmup(self, spec: Indicator, length: int, node: Node, t: int) -> None:
        """Note a group's RSI/EMA read on fewer values than a full warm-up."""
        warm = ind.warm_bars(spec.name, spec.window)
        if length < warm and self.notes is not None and t == self._at:
            self.notes.append(
                f"{spec.pos}: {spec.label(label_of(node))} read {length} values of its "
                f"series, {warm} for a full warm-up"
            )

    def ready(self, node: Node) -> int:
        """The first session on which `node` can be evaluated whichever branch it takes
        (every symbol it reads has the bars its indicators need)."""
        found = self._ready.get(node.node_id)
        if found is not None:
            return found
        if isinstance(node, Asset):
            found = self._nth(node.symbol, 1)
        elif isinstance(node, If):
            found = max(self.ready(node.then), self.ready(node.otherwise))
            for side in (node.condition.lhs, node.condition.rhs):
                if isinstance(side, Indicator) and side.symbol is not None:
                    need = ind.required_bars(side.name, side.window)
                    found = max(found, self._nth(side.symbol, need))
        elif isinstance(node, Filter | WeightInverseVolatility):
            spec = scoring(node)
            need = ind.required_bars(spec.name, spec.window)
            found = 0
            for child in node.children:
                at = (
                    self._nth(child.symbol, need)
                    if isinstance(child, Asset)
                    else self.ready(child) + need - 1
                )
                found = max(found, at, self.ready(child))
        else:
            found = max(self.ready(c) for c in node.children)
        self._ready[node.node_id] = found
        return found

    def group_series(self, node: Node, t: int, length: int, what: str) -> list[Decimal]:
        """The node's own value series: `length` values ending at session t, from 1."""
        first = t - length + 1
        if first < 0:
            raise StrategyError(
                f"{node.pos}: {what} on {label_of(node)}: needs {length} sessions of its value "
                f"through {self.sessions[t].isoformat()}, {t + 1} available"
            )
        values = [ONE]
        for s in range(first + 1, t + 1):
            values.append(values[-1] * self.growth(node, s))
        return values

    def growth(self, node: Node, t: int) -> Decimal:
        """What 1 held in `node`'s allocation of session t-1 is worth at session t."""
        key = (node.node_id, t)
        cached = self._growth.get(key)
        if cached is not None:
            return cached
        held = self.alloc(node, t - 1)
        total = ONE - sum(held.values(), ZERO)  # cash earns nothing
        for symbol, weight in held.items():
            k = self.count(symbol, t)
            if k < 2:
                raise StrategyError(
                    f"{node.pos}: value series: {symbol} has {k} daily bars through "
                    f"{self.sessions[t].isoformat()}, the window needs 2"
                )
            closes = self.bars[symbol].closes
            total += weight * closes[k - 1] / closes[k - 2]
        self._growth[key] = total
        return total

    def alloc(self, node: Node, t: int) -> dict[str, Decimal]:
        """A scored node's allocation on session t (memoised for the run's life)."""
        key = (node.node_id, t)
        cached = self._alloc.get(key)
        if cached is None:
            cached = self.visit(node, t)
            self._alloc[key] = cached
        return cached

    def score(self, spec: Indicator, node: Node, t: int) -> Decimal:
        """A filter candidate's (or inverse-volatility child's) indicator on session t."""
        if isinstance(node, Asset):
            return self.indicator(spec, node.symbol, t)
        check_window(spec)
        length = ind.required_bars(spec.name, spec.window)
        if spec.name in ind.RECURSIVE:
            available = t - self.ready(node) + 1
            most = ind.history_bars(spec.name, spec.window)
            length = max(length, min(most, available))
            self.short_warmup(spec, length, node, t)
        series = self.group_series(node, t, length, spec.name)
        return ind.compute(spec.name, series, spec.window)


def check_window(spec: Indicator) -> None:
    low = ind.minimum_window(spec.name)
    if spec.window is not None and spec.window < low:
        raise StrategyError(f"{spec.pos}: {spec.name} needs a window of at least {low}")
