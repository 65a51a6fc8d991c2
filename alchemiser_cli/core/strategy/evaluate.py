"""Evaluate a symphony on daily closes as of a date: target weights and a decision trace.

Pure: bars and the as-of date are arguments, nothing is read or fetched here, so the
backtest can call `evaluate` once per session on the same bars. Numbers are `Decimal`
(see `indicators`); the order of every sum is fixed, so results repeat exactly.

Rules (the README repeats them):
- `weight-equal`, `group` and a bare vector share their weight equally among their
  children; a nested vector is ONE child (itself split equally), not flattened.
- `weight-specified` gives each child its written fraction; what the fractions leave is cash.
- `filter` scores each candidate with its indicator, sorts (highest first for select-top,
  lowest first for select-bottom; ties by label alphabetically, then by position: stable),
  keeps N and weights them equally. A candidate that is not an asset (a group, an `if`...)
  is scored on its own daily value series: the subtree re-evaluated on each session of the
  window, its holdings carried one session at the closes (what Composer does), keyed by the
  node's identity, never by its name. A candidate that cannot be scored is an error.
- `weight-inverse-volatility n` weights children in proportion to 1 / stdev-return(n) of
  each (of its value series for a non-asset child).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from alchemiser_cli.core.strategy import indicators as ind
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
            need = ind.required_bars(spec.name, spec.window)
            closes = self.closes(symbol, day, need, what, str(spec.pos))
            value = ind.compute(spec.name, closes, spec.window)
            self.value_memo[key] = value
        return value

    @staticmethod
    def check_window(spec: Indicator) -> None:
        low = ind.minimum_window(spec.name)
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
        need = ind.required_bars(spec.name, spec.window)
        series = self.group_series(node, day, need, spec.name)
        with localcontext(ind.CONTEXT):
            return ind.compute(spec.name, series, spec.window)

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
        with localcontext(ind.CONTEXT):
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


def targets_from_strategies(
    strategies: Sequence[tuple[Symphony, Decimal]],
    bars: Mapping[str, Series],
    as_of: date,
    *,
    fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
    live_prices: Mapping[str, Decimal] | None = None,
) -> Blend:
    """Blend several symphonies by weight (fractions adding up to at most 1) as of a date.

    The lead wires this into plan/check/execute: `Blend.weights` are target weights (what
    they leave is cash), `Blend.results` carry each strategy's trace, and
    `Blend.rebalance_threshold` is the absolute band to use when none is configured.
    """
    if not strategies:
        raise StrategyError("no strategy given: name at least one strategy file")
    total = sum((w for _, w in strategies), ZERO)
    if total > ONE or any(w <= 0 for _, w in strategies):
        raise StrategyError(
            f"strategy weights must be above 0 and add up to at most 1, got {total}"
        )
    results = tuple(
        (evaluate(s, bars, as_of, fragile_margin=fragile_margin, live_prices=live_prices), w)
        for s, w in strategies
    )
    blended: dict[str, Decimal] = {}
    with localcontext(ind.CONTEXT):
        for result, w in results:
            for symbol, weight in result.weights.items():
                blended[symbol] = blended.get(symbol, ZERO) + weight * w
    thresholds = [r.rebalance_threshold for r, _ in results if r.rebalance_threshold is not None]
    return Blend(
        weights={s: blended[s] for s in sorted(blended)},
        results=results,
        rebalance_threshold=min(thresholds) if thresholds else None,
    )


__all__ = ["Blend", "Series", "StrategyResult", "Trace", "evaluate", "targets_from_strategies"]
