"""TEST ONLY: the strategy engine as it was before issue 23 (main at fc2b266), frozen.

`alchemiser_cli/core/strategy/` replaced it with one program compiled once and run over the
whole history. This copy (its indicators over a fixed look-back of 10n / 10n + 1 closes
for EMA and RSI, one evaluator per session) is the reference the regression test
(`tests/test_strategy_reference.py`) and `tests/strategy_reference.py` compare with; it
is not used by `alch`. Only the imports are changed.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

from alchemiser_cli.core.strategy.nodes import (
    INDICATORS,
    Asset,
    Condition,
    Filter,
    If,
    Indicator,
    Node,
    Number,
    Symphony,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
    symbols_of,
    walk,
)
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.strategy.syntax import StrategyError

CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)
HUNDRED = Decimal(100)
ZERO = Decimal(0)
ONE = Decimal(1)
WARMUP = 10  # EMA and RSI read 10 x window closes: the seed's weight is below 0.9**9 * ...


def required_bars(name: str, window: int | None) -> int:
    """How many closes `name` with `window` reads."""
    n = window or 1
    if name == "current-price":
        return 1
    if name in ("moving-average-price", "stdev-price"):
        return n
    if name == "exponential-moving-average-price":
        return WARMUP * n
    if name == "rsi":
        return WARMUP * n + 1
    return n + 1  # every return-based indicator: n daily changes


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
    series = closes[-WARMUP * window :]
    alpha = Decimal(2) / (window + 1)
    ema = _mean(series[:window])
    for close in series[window:]:
        ema = ema + alpha * (close - ema)
    return ema


def rsi(closes: Sequence[Decimal], window: int) -> Decimal:
    series = closes[-(WARMUP * window + 1) :]
    changes = [series[i] - series[i - 1] for i in range(1, len(series))]
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
    """`name` on the last `required_bars(name, window)` of `closes` (the caller checks there
    are enough, and that no close is zero or negative)."""
    with localcontext(CONTEXT):
        return +FUNCTIONS[name](closes, window or 1)


# ---- the evaluator ----


ZERO = Decimal(0)
ONE = Decimal(1)
DEFAULT_FRAGILE_MARGIN = Decimal("0.02")


@dataclass(slots=True)
class Trace:
    """One node of the decision trace: what it is, where, its share of the whole and why."""

    kind: str
    label: str
    pos: str
    weight: Decimal
    taken: bool
    detail: str = ""
    fragile: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    children: list[Trace] = field(default_factory=list)
    hidden: int = 0  # nodes under a branch that was not taken (not evaluated)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "pos": self.pos,
            "weight": str(self.weight),
            "taken": self.taken,
            "detail": self.detail or None,
            "fragile": self.fragile,
            "values": self.values or None,
            "nodes_not_evaluated": self.hidden,
            "children": [c.to_json() for c in self.children],
        }


@dataclass(frozen=True, slots=True)
class StrategyResult:
    """What one symphony decided as of one session."""

    name: str
    file: str
    as_of: date
    weights: dict[str, Decimal]
    trace: Trace
    fragile: tuple[str, ...]
    rebalance_threshold: Decimal | None
    rebalance_frequency: str | None
    stale: dict[str, date]
    synthetic: bool
    live_prices: bool = False  # current-price was the latest trade, not the close

    @property
    def cash(self) -> Decimal:
        return ONE - sum(self.weights.values(), ZERO)


@dataclass(frozen=True, slots=True)
class Blend:
    """Several strategies blended by weight: the targets and every strategy's result."""

    weights: dict[str, Decimal]
    results: tuple[tuple[StrategyResult, Decimal], ...]
    rebalance_threshold: Decimal | None  # the tightest of the strategies' own, or None


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001')):f}" if value.is_finite() else str(value)


def _unit(name: str) -> str:
    unit = INDICATORS[name]
    return "%" if unit == "%" else ""


def _label(node: Node) -> str:
    if isinstance(node, Asset):
        return node.symbol
    if isinstance(node, WeightEqual) and node.name is not None:
        return node.name
    kind = node.kind if isinstance(node, WeightEqual) else _kind(node)
    return f"{kind}@{node.pos.line}:{node.pos.col}"


def _kind(node: Node) -> str:
    return {
        Asset: "asset",
        WeightSpecified: "weight-specified",
        WeightInverseVolatility: "weight-inverse-volatility",
        If: "if",
        Filter: "filter",
    }.get(type(node)) or node.kind  # type: ignore[union-attr]


class _Evaluator:
    def __init__(
        self,
        bars: Mapping[str, Series],
        sessions: Sequence[date],
        margin: Decimal,
        live: Mapping[str, Decimal] | None = None,
    ):
        self.live = live
        self.bars = bars
        self.sessions = sessions
        self.margin = margin
        self.alloc_memo: dict[tuple[int, int], dict[str, Decimal]] = {}
        self.value_memo: dict[tuple[str, str, int | None, int], Decimal] = {}
        self.growth_memo: dict[tuple[int, int], Decimal] = {}
        self.fragile: list[str] = []

    # ---- data --------------------------------------------------------------------------
    def closes(self, symbol: str, day: int, need: int, what: str, pos: str) -> Sequence[Decimal]:
        series = self.bars.get(symbol)
        if series is None:
            raise StrategyError(f"{pos}: {what}: no daily bars for {symbol}")
        end = bisect_right(series.dates, self.sessions[day])
        if end < need:
            raise StrategyError(
                f"{pos}: {what}: {symbol} has {end} daily bars through "
                f"{self.sessions[day].isoformat()}, the window needs {need}"
            )
        return series.closes[end - need : end]

    def indicator(self, spec: Indicator, symbol: str, day: int) -> Decimal:
        if self.live is not None and spec.name == "current-price" and day == len(self.sessions) - 1:
            price = self.live.get(symbol)
            if price is None or price <= 0:
                raise StrategyError(f"{spec.pos}: current-price: no latest trade for {symbol}")
            return price
        key = (symbol, spec.name, spec.window, day)
        value = self.value_memo.get(key)
        if value is None:
            what = f"{spec.name} window {spec.window}" if spec.window else spec.name
            self.check_window(spec)
            need = required_bars(spec.name, spec.window)
            closes = self.closes(symbol, day, need, what, str(spec.pos))
            value = compute(spec.name, closes, spec.window)
            self.value_memo[key] = value
        return value

    @staticmethod
    def check_window(spec: Indicator) -> None:
        low = minimum_window(spec.name)
        if spec.window is not None and spec.window < low:
            raise StrategyError(f"{spec.pos}: {spec.name} needs a window of at least {low}")

    def group_series(self, node: Node, day: int, length: int, what: str) -> list[Decimal]:
        """The node's own value series: `length` values ending at `day`, starting at 1."""
        first = day - length + 1
        if first < 0:
            raise StrategyError(
                f"{node.pos}: {what} on {_label(node)}: needs {length} sessions of its value "
                f"through {self.sessions[day].isoformat()}, {day + 1} available"
            )
        values = [ONE]
        for t in range(first + 1, day + 1):
            values.append(values[-1] * self.growth(node, t))
        return values

    def growth(self, node: Node, t: int) -> Decimal:
        """What 1 held in `node`'s allocation of session t-1 is worth at session t."""
        key = (node.node_id, t)
        cached = self.growth_memo.get(key)
        if cached is not None:
            return cached
        held = self.alloc(node, t - 1)
        total = ONE - sum(held.values(), ZERO)  # cash earns nothing
        for symbol, weight in held.items():
            now = self.closes(symbol, t, 2, "value series", str(node.pos))
            total += weight * now[1] / now[0]
        self.growth_memo[key] = total
        return total

    def score(self, spec: Indicator, node: Node, day: int) -> Decimal:
        if isinstance(node, Asset):
            return self.indicator(spec, node.symbol, day)
        self.check_window(spec)
        need = required_bars(spec.name, spec.window)
        series = self.group_series(node, day, need, spec.name)
        with localcontext(CONTEXT):
            return compute(spec.name, series, spec.window)

    # ---- allocation (no trace, memoised per node and session) ---------------------------
    def alloc(self, node: Node, day: int) -> dict[str, Decimal]:
        key = (node.node_id, day)
        cached = self.alloc_memo.get(key)
        if cached is None:
            cached = self.visit(node, day, ONE, None)
            self.alloc_memo[key] = cached
        return cached

    # ---- one visit, with or without a trace ----------------------------------------------
    def visit(
        self, node: Node, day: int, share: Decimal, trace: list[Trace] | None
    ) -> dict[str, Decimal]:
        with localcontext(CONTEXT):
            return self._visit(node, day, share, trace)

    def _visit(
        self, node: Node, day: int, share: Decimal, trace: list[Trace] | None
    ) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        me: Trace | None = None
        kids: list[Trace] | None = None
        if (
            trace is not None
            and isinstance(node, WeightEqual)
            and node.name is None
            and len(node.children) == 1
        ):
            # a bare wrapper around one node says nothing: the trace shows the node itself
            return self.visit(node.children[0], day, share, trace)
        if trace is not None:
            me = Trace(_kind(node), _label(node), str(node.pos), share, True)
            trace.append(me)
            kids = me.children
        if isinstance(node, Asset):
            out[node.symbol] = ONE
            if me is not None and node.name:
                me.detail = node.name
        elif isinstance(node, WeightEqual):
            part = ONE / len(node.children)
            for child in node.children:
                self.add(out, child, day, part, share, kids)
        elif isinstance(node, WeightSpecified):
            for weight, child in zip(node.weights, node.children, strict=True):
                self.add(out, child, day, weight, share, kids)
        elif isinstance(node, WeightInverseVolatility):
            self.inverse_volatility(node, day, share, out, me, kids)
        elif isinstance(node, If):
            holds, detail, values, fragile = self.condition(node.condition, day)
            taken, other = (node.then, node.otherwise) if holds else (node.otherwise, node.then)
            if me is not None and kids is not None:
                me.detail, me.values, me.fragile = detail, values, fragile
                if fragile:
                    self.fragile.append(f"{node.pos}: {detail}")
                self.add(out, taken, day, ONE, share, kids)
                kids.append(self.skipped(other, "then" if not holds else "else"))
                if not holds:
                    kids.reverse()  # keep then above else, as written
            else:
                self.add(out, taken, day, ONE, share, None)
        elif isinstance(node, Filter):
            self.filter(node, day, share, out, me, kids)
        return out

    def add(
        self,
        out: dict[str, Decimal],
        child: Node,
        day: int,
        part: Decimal,
        share: Decimal,
        kids: list[Trace] | None,
    ) -> None:
        if kids is None:
            held = self.alloc(child, day)
        else:
            held = self.visit(child, day, share * part, kids)
        for symbol, weight in held.items():
            out[symbol] = out.get(symbol, ZERO) + weight * part

    def skipped(self, node: Node, role: str) -> Trace:
        hidden = len(walk(node))
        return Trace(
            _kind(node),
            _label(node),
            str(node.pos),
            ZERO,
            False,
            detail=f"{role} branch, not taken",
            hidden=hidden,
        )

    def operand(self, side: Indicator | Number, day: int) -> tuple[Decimal, str]:
        if isinstance(side, Number):
            return side.value, f"{side.value}"
        assert side.symbol is not None
        value = self.indicator(side, side.symbol, day)
        return value, f"{side.label()} = {_fmt(value)}{_unit(side.name)}"

    def condition(self, cond: Condition, day: int) -> tuple[bool, str, dict[str, Any], bool]:
        lhs, lhs_text = self.operand(cond.lhs, day)
        rhs, rhs_text = self.operand(cond.rhs, day)
        holds = {
            ">": lhs > rhs,
            "<": lhs < rhs,
            ">=": lhs >= rhs,
            "<=": lhs <= rhs,
            "=": lhs == rhs,
        }[cond.op]
        margin = lhs - rhs
        scale = max(abs(lhs), abs(rhs))
        fragile = abs(margin) <= self.margin * scale
        verdict = "true" if holds else "false"
        detail = f"{lhs_text} {cond.op} {rhs_text}: {verdict}, margin {_fmt(margin)}"
        values = {
            "lhs": str(lhs),
            "op": cond.op,
            "rhs": str(rhs),
            "holds": holds,
            "margin": str(margin),
        }
        return holds, detail, values, fragile

    def filter(
        self,
        node: Filter,
        day: int,
        share: Decimal,
        out: dict[str, Decimal],
        me: Trace | None,
        kids: list[Trace] | None,
    ) -> None:
        scored = [
            (self.score(node.indicator, child, day), _label(child), i, child)
            for i, child in enumerate(node.children)
        ]
        if node.select == "top":
            scored.sort(key=lambda s: (-s[0], s[1], s[2]))
        else:
            scored.sort(key=lambda s: (s[0], s[1], s[2]))
        keep = min(node.count, len(scored))
        part = ONE / keep
        chosen = {s[2] for s in scored[:keep]}
        fragile = False
        if keep < len(scored):
            last, first_out = scored[keep - 1][0], scored[keep][0]
            fragile = abs(last - first_out) <= self.margin * max(abs(last), abs(first_out))
        if me is not None and kids is not None:
            spec = node.indicator
            me.detail = f"{spec.label()} select-{node.select} {node.count}: " + ", ".join(
                f"{s[1]} {_fmt(s[0])}{_unit(spec.name)}" for s in scored
            )
            me.values = {
                "scores": [
                    {"label": s[1], "pos": str(s[3].pos), "score": str(s[0])} for s in scored
                ],
                "selected": [s[1] for s in scored[:keep]],
            }
            me.fragile = fragile
            if fragile:
                self.fragile.append(
                    f"{node.pos}: {spec.label()}: {scored[keep - 1][1]} "
                    f"{_fmt(scored[keep - 1][0])} kept over {scored[keep][1]} "
                    f"{_fmt(scored[keep][0])}"
                )
        for score, label, i, child in sorted(scored, key=lambda s: s[2]):
            if i in chosen:
                self.add(out, child, day, part, share, kids)
                if kids is not None:
                    kids[-1].values = {**kids[-1].values, "score": str(score)}
            elif kids is not None:
                t = (
                    self.skipped(child, "candidate")
                    if not isinstance(child, Asset)
                    else Trace("asset", label, str(child.pos), ZERO, False)
                )
                t.detail = f"score {_fmt(score)}, not selected"
                t.values = {"score": str(score)}
                kids.append(t)

    def inverse_volatility(
        self,
        node: WeightInverseVolatility,
        day: int,
        share: Decimal,
        out: dict[str, Decimal],
        me: Trace | None,
        kids: list[Trace] | None,
    ) -> None:
        spec = Indicator("stdev-return", None, node.window, node.pos)
        vols = [self.score(spec, child, day) for child in node.children]
        for child, vol in zip(node.children, vols, strict=True):
            if vol == 0:
                raise StrategyError(
                    f"{node.pos}: weight-inverse-volatility: {_label(child)} has a stdev-return "
                    f"of 0 over {node.window} sessions: its inverse is undefined"
                )
        inverse = [ONE / v for v in vols]
        total = sum(inverse, ZERO)
        if me is not None:
            me.detail = ", ".join(
                f"{_label(c)} stdev {_fmt(v)}%" for c, v in zip(node.children, vols, strict=True)
            )
        for child, inv in zip(node.children, inverse, strict=True):
            self.add(out, child, day, inv / total, share, kids)


def sessions_of(bars: Mapping[str, Series], symbols: Sequence[str], as_of: date) -> list[date]:
    """Every date any of `symbols` has a bar on, through `as_of`, oldest first."""
    found: set[date] = set()
    for symbol in symbols:
        series = bars.get(symbol)
        if series is not None:
            found.update(d for d in series.dates if d <= as_of)
    return sorted(found)


def evaluate(
    symphony: Symphony,
    bars: Mapping[str, Series],
    as_of: date,
    *,
    fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
    live_prices: Mapping[str, Decimal] | None = None,
) -> StrategyResult:
    """The symphony's weights on the last session through `as_of`, with its trace.

    `live_prices` (while the market is open): `current-price` on that session is the latest
    trade given here instead of the session's close; every other indicator reads closes."""
    symbols = symbols_of(symphony.root)
    missing = [s for s in symbols if s not in bars]
    if missing:
        raise StrategyError(f"{symphony.pos}: no daily bars for {', '.join(missing)}")
    sessions = sessions_of(bars, symbols, as_of)
    if not sessions:
        raise StrategyError(f"{symphony.pos}: no daily bars on or before {as_of.isoformat()}")
    engine = _Evaluator(bars, sessions, fragile_margin, live_prices)
    day = len(sessions) - 1
    roots: list[Trace] = []
    weights = engine.visit(symphony.root, day, ONE, roots)
    last = sessions[day]
    stale = {
        s: bars[s].dates[-1]
        for s in symbols
        if bars[s].dates and bars[s].dates[bisect_right(bars[s].dates, last) - 1] < last
    }
    return StrategyResult(
        name=symphony.name,
        file=symphony.file,
        as_of=last,
        weights={s: weights[s] for s in sorted(weights) if weights[s] != 0},
        trace=roots[0],
        fragile=tuple(engine.fragile),
        rebalance_threshold=symphony.rebalance_threshold,
        rebalance_frequency=symphony.rebalance_frequency,
        stale=stale,
        synthetic=any(bars[s].synthetic for s in symbols),
        live_prices=live_prices is not None,
    )
