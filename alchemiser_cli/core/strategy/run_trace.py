"""The decision trace of one session: `Run.explain` visits the tree through an `Explainer`.

Only asked for when a person or a plan needs it (`alch signal`, a plan's `signal`); the
backtest asks `Run.weights`, which builds none. The explainer computes nothing itself: each
value comes from the run (its columns, its memoised group series), so the traced weights
are the weights.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from alchemiser_cli.core.strategy.nodes import (
    INDICATORS,
    Asset,
    Filter,
    If,
    Indicator,
    Node,
    Number,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
    walk,
)
from alchemiser_cli.core.strategy.result import Trace

ZERO = Decimal(0)
ONE = Decimal(1)


def fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.0001')):f}" if value.is_finite() else str(value)


def unit(name: str) -> str:
    return "%" if INDICATORS[name] == "%" else ""


def kind_of(node: Node) -> str:
    if isinstance(node, WeightEqual):
        return node.kind
    return {
        Asset: "asset",
        WeightSpecified: "weight-specified",
        WeightInverseVolatility: "weight-inverse-volatility",
        If: "if",
        Filter: "filter",
    }[type(node)]


def label_of(node: Node) -> str:
    if isinstance(node, Asset):
        return node.symbol
    if isinstance(node, WeightEqual) and node.name is not None:
        return node.name
    return f"{kind_of(node)}@{node.pos.line}:{node.pos.col}"


def skipped(node: Node, role: str) -> Trace:
    """A branch or candidate that was not taken: shown, not evaluated."""
    return Trace(
        kind_of(node),
        label_of(node),
        str(node.pos),
        ZERO,
        False,
        detail=f"{role} branch, not taken",
        hidden=len(walk(node)),
    )


Scored = list[tuple[Decimal, str, int, Node]]  # score, label, position, candidate


class Evaluates(Protocol):
    """What the explainer asks of the run (`run.Run`)."""

    notes: list[str] | None  # short warm-ups found while explaining

    def condition(self, node: If, t: int) -> tuple[bool, Decimal, Decimal]: ...

    def ranked(self, node: Filter, t: int) -> tuple[Scored, int]: ...

    def inverse_volatility(
        self, node: WeightInverseVolatility, t: int
    ) -> tuple[list[tuple[Node, Decimal]], list[Decimal]]: ...


class Explainer:
    """Builds the trace of one session while the run evaluates it."""

    def __init__(self, run: Evaluates, margin: Decimal) -> None:
        self.run = run
        self.margin = margin
        self.fragile: list[str] = []

    def _short_since(self, mark: int) -> list[str]:
        notes = self.run.notes
        return [] if notes is None else notes[mark:]

    def _mark(self) -> int:
        notes = self.run.notes
        return 0 if notes is None else len(notes)

    def visit(self, node: Node, t: int, share: Decimal, trace: list[Trace]) -> dict[str, Decimal]:
        if isinstance(node, WeightEqual) and node.name is None and len(node.children) == 1:
            # a bare wrapper around one node says nothing: the trace shows the node itself
            return self.visit(node.children[0], t, share, trace)
        me = Trace(kind_of(node), label_of(node), str(node.pos), share, True)
        trace.append(me)
        kids = me.children
        out: dict[str, Decimal] = {}
        if isinstance(node, Asset):
            out[node.symbol] = ONE
            me.detail = node.name
        elif isinstance(node, WeightEqual):
            part = ONE / len(node.children)
            for child in node.children:
                self.add(out, child, t, part, share, kids)
        elif isinstance(node, WeightSpecified):
            if node.scaled_from is not None:
                me.detail = f"weights written add up to {node.scaled_from}: scaled to exactly 1"
                me.values = {"weights_written_total": str(node.scaled_from)}
            for weight, child in zip(node.weights, node.children, strict=True):
                self.add(out, child, t, weight, share, kids)
        elif isinstance(node, WeightInverseVolatility):
            parts, vols = self.run.inverse_volatility(node, t)
            me.detail = ", ".join(
                f"{label_of(c)} stdev {fmt(v)}%" for c, v in zip(node.children, vols, strict=True)
            )
            for child, part in parts:
                self.add(out, child, t, part, share, kids)
        elif isinstance(node, If):
            self.branch(node, t, share, me, out)
        else:
            assert isinstance(node, Filter)
            self.filter(node, t, share, me, out)
        return out

    def add(
        self,
        out: dict[str, Decimal],
        child: Node,
        t: int,
        part: Decimal,
        share: Decimal,
        kids: list[Trace],
    ) -> None:
        held = self.visit(child, t, share * part, kids)
        for symbol, weight in held.items():
            out[symbol] = out.get(symbol, ZERO) + weight * part

    def side(self, side: Indicator | Number, value: Decimal) -> str:
        if isinstance(side, Number):
            return f"{side.value}"
        return f"{side.label()} = {fmt(value)}{unit(side.name)}"

    def branch(self, node: If, t: int, share: Decimal, me: Trace, out: dict[str, Decimal]) -> None:
        mark = self._mark()
        holds, lhs, rhs = self.run.condition(node, t)
        cond = node.condition
        margin = lhs - rhs
        fragile = abs(margin) <= self.margin * max(abs(lhs), abs(rhs))
        verdict = "true" if holds else "false"
        me.detail = (
            f"{self.side(cond.lhs, lhs)} {cond.op} {self.side(cond.rhs, rhs)}: {verdict}, "
            f"margin {fmt(margin)}"
        )
        values: dict[str, Any] = {
            "lhs": str(lhs),
            "op": cond.op,
            "rhs": str(rhs),
            "holds": holds,
            "margin": str(margin),
        }
        short = self._short_since(mark)
        if short:
            values["short_warmup"] = short
            me.detail += "; short warm-up"
        me.values, me.fragile = values, fragile
        if fragile:
            self.fragile.append(f"{node.pos}: {me.detail}")
        taken, other = (node.then, node.otherwise) if holds else (node.otherwise, node.then)
        self.add(out, taken, t, ONE, share, me.children)
        me.children.append(skipped(other, "then" if not holds else "else"))
        if not holds:
            me.children.reverse()  # keep then above else, as written

    def filter(
        self, node: Filter, t: int, share: Decimal, me: Trace, out: dict[str, Decimal]
    ) -> None:
        mark = self._mark()
        scored, keep = self.run.ranked(node, t)
        part = ONE / keep
        chosen = {s[2] for s in scored[:keep]}
        fragile = False
        if keep < len(scored):
            last, first_out = scored[keep - 1][0], scored[keep][0]
            fragile = abs(last - first_out) <= self.margin * max(abs(last), abs(first_out))
        spec = node.indicator
        me.detail = f"{spec.label()} select-{node.select} {node.count}: " + ", ".join(
            f"{s[1]} {fmt(s[0])}{unit(spec.name)}" for s in scored
        )
        me.values = {
            "scores": [{"label": s[1], "pos": str(s[3].pos), "score": str(s[0])} for s in scored],
            "selected": [s[1] for s in scored[:keep]],
        }
        short = self._short_since(mark)
        if short:
            me.values["short_warmup"] = short
            me.detail += "; short warm-up"
        me.fragile = fragile
        if fragile:
            self.fragile.append(
                f"{node.pos}: {spec.label()}: {scored[keep - 1][1]} "
                f"{fmt(scored[keep - 1][0])} kept over {scored[keep][1]} "
                f"{fmt(scored[keep][0])}"
            )
        kids = me.children
        for score, label, i, child in sorted(scored, key=lambda s: s[2]):
            if i in chosen:
                self.add(out, child, t, part, share, kids)
                kids[-1].values = {**kids[-1].values, "score": str(score)}
            else:
                lost = (
                    skipped(child, "candidate")
                    if not isinstance(child, Asset)
                    else Trace("asset", label, str(child.pos), ZERO, False)
                )
                lost.detail = f"score {fmt(score)}, not selected"
                lost.values = {"score": str(score)}
                kids.append(lost)
