"""The walk of a strategy's tree on one session, without a trace (the explainer's visit in
`run_trace.py` writes one): each node's allocation as weights adding up to at most 1, by
the rules `run.py` states. `Run` supplies the data: indicators, scores and memoised
allocations."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from alchemiser_cli.core.strategy.nodes import (
    Asset,
    Filter,
    If,
    Indicator,
    Node,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
)
from alchemiser_cli.core.strategy.run_trace import Scored, label_of
from alchemiser_cli.core.strategy.syntax import StrategyError

ZERO = Decimal(0)
ONE = Decimal(1)


class Allocator:
    """A node's allocation on session t; `Run` gives the indicators and the scores."""

    _alloc: dict[tuple[int, int], dict[str, Decimal]]

    def indicator(self, spec: Indicator, symbol: str, t: int) -> Decimal:
        """`spec` on `symbol` as of session t."""
        raise NotImplementedError

    def score(self, spec: Indicator, node: Node, t: int) -> Decimal:
        """A candidate's indicator on session t."""
        raise NotImplementedError

    def visit(self, node: Node, t: int) -> dict[str, Decimal]:
        """The node's allocation on session t, as weights adding up to at most 1."""
        out: dict[str, Decimal] = {}
        if isinstance(node, Asset):
            out[node.symbol] = ONE
        elif isinstance(node, WeightEqual):
            part = ONE / len(node.children)
            for child in node.children:
                self.add(out, self.held(child, t), part)
        elif isinstance(node, WeightSpecified):
            for weight, child in zip(node.weights, node.children, strict=True):
                self.add(out, self.held(child, t), weight)
        elif isinstance(node, WeightInverseVolatility):
            for child, part in self.inverse_volatility(node, t)[0]:
                self.add(out, self.held(child, t), part)
        elif isinstance(node, If):
            holds = self.condition(node, t)[0]
            self.add(out, self.held(node.then if holds else node.otherwise, t), ONE)
        else:
            assert isinstance(node, Filter)
            scored, keep = self.ranked(node, t)
            part = ONE / keep
            for *_, child in sorted(scored[:keep], key=lambda s: s[2]):
                self.add(out, self.held(child, t), part)
        return out

    def held(self, node: Node, t: int) -> dict[str, Decimal]:
        """A child's allocation: memoised for scored nodes (their series read it again)."""
        if (node.node_id, t) in self._alloc:
            return self._alloc[(node.node_id, t)]
        return self.visit(node, t)

    @staticmethod
    def add(out: dict[str, Decimal], held: Mapping[str, Decimal], part: Decimal) -> None:
        for symbol, weight in held.items():
            out[symbol] = out.get(symbol, ZERO) + weight * part

    def operand(self, side: Indicator | Decimal, t: int) -> Decimal:
        if isinstance(side, Decimal):
            return side
        assert side.symbol is not None
        return self.indicator(side, side.symbol, t)

    def condition(self, node: If, t: int) -> tuple[bool, Decimal, Decimal]:
        """Whether the `if` holds on session t, and its two sides."""
        cond = node.condition
        lhs = self.operand(cond.lhs if isinstance(cond.lhs, Indicator) else cond.lhs.value, t)
        rhs = self.operand(cond.rhs if isinstance(cond.rhs, Indicator) else cond.rhs.value, t)
        holds = {
            ">": lhs > rhs,
            "<": lhs < rhs,
            ">=": lhs >= rhs,
            "<=": lhs <= rhs,
            "=": lhs == rhs,
        }[cond.op]
        return holds, lhs, rhs

    def ranked(self, node: Filter, t: int) -> tuple[Scored, int]:
        """Every candidate scored and sorted (ties by label, then position), and how many
        are kept."""
        scored = [
            (self.score(node.indicator, child, t), label_of(child), i, child)
            for i, child in enumerate(node.children)
        ]
        if node.select == "top":
            scored.sort(key=lambda s: (-s[0], s[1], s[2]))
        else:
            scored.sort(key=lambda s: (s[0], s[1], s[2]))
        return scored, min(node.count, len(scored))

    def inverse_volatility(
        self, node: WeightInverseVolatility, t: int
    ) -> tuple[list[tuple[Node, Decimal]], list[Decimal]]:
        """Each child with its part (1 / its stdev-return over the sum), and the stdevs."""
        spec = scoring(node)
        vols = [self.score(spec, child, t) for child in node.children]
        for child, vol in zip(node.children, vols, strict=True):
            if vol == 0:
                raise StrategyError(
                    f"{node.pos}: weight-inverse-volatility: {label_of(child)} has a "
                    f"stdev-return of 0 over {node.window} sessions: its inverse is undefined"
                )
        inverse = [ONE / v for v in vols]
        total = sum(inverse, ZERO)
        return [(c, inv / total) for c, inv in zip(node.children, inverse, strict=True)], vols


def scoring(node: Filter | WeightInverseVolatility) -> Indicator:
    """The indicator a filter or inverse-volatility node scores its children with."""
    if isinstance(node, Filter):
        return node.indicator
    return Indicator("stdev-return", None, node.window, node.pos)
