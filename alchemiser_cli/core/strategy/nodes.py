"""The strategy tree: small frozen nodes, each doing one thing (after pmorissette/bt).

Every node carries a `node_id` unique within its symphony (its pre-order index) and its
source position; histories of groups are keyed by `node_id`, never by a name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from alchemiser_cli.core.strategy.syntax import Pos

INDICATORS: dict[str, str] = {
    # name -> unit of its value, as thresholds in the files are written
    "current-price": "price",
    "moving-average-price": "price",
    "exponential-moving-average-price": "price",
    "rsi": "points",
    "cumulative-return": "%",
    "moving-average-return": "%",
    "stdev-return": "%",
    "stdev-price": "price",
    "max-drawdown": "%",
}
COMPARISONS = (">", "<", ">=", "<=", "=")
Comparison = Literal[">", "<", ">=", "<=", "="]


@dataclass(frozen=True, slots=True)
class Indicator:
    """An indicator call: on `symbol`, or (inside `filter`, symbol None) on each candidate."""

    name: str
    symbol: str | None
    window: int | None
    pos: Pos

    def label(self, on: str | None = None) -> str:
        subject = on or self.symbol or "each"
        return (
            f"{self.name}({subject})"
            if self.window is None
            else (f"{self.name}({subject}, {self.window})")
        )


@dataclass(frozen=True, slots=True)
class Number:
    """A literal number in a comparison."""

    value: Decimal
    pos: Pos


Operand = Indicator | Number


@dataclass(frozen=True, slots=True)
class Condition:
    """`(op lhs rhs)`."""

    op: Comparison
    lhs: Operand
    rhs: Operand
    pos: Pos


@dataclass(frozen=True, slots=True)
class Asset:
    """`(asset "SYM" "name")`: all of the node's weight in one symbol."""

    node_id: int
    symbol: str
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class WeightEqual:
    """`weight-equal`, `group` and every bare vector: children share the weight equally."""

    node_id: int
    children: tuple[Node, ...]
    pos: Pos
    name: str | None = None  # set for `group`
    kind: str = "weight-equal"


@dataclass(frozen=True, slots=True)
class WeightSpecified:
    """`(weight-specified w1 node1 w2 node2 ...)`: fixed fractions of the node's weight."""

    node_id: int
    weights: tuple[Decimal, ...]
    children: tuple[Node, ...]
    pos: Pos
    scaled_from: Decimal | None = None  # the written total when within 1e-9 of 1 (floats)


@dataclass(frozen=True, slots=True)
class WeightInverseVolatility:
    """`(weight-inverse-volatility n [children])`: weights in proportion to 1 / stdev-return(n)."""

    node_id: int
    window: int
    children: tuple[Node, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class If:
    """`(if condition then else)`."""

    node_id: int
    condition: Condition
    then: Node
    otherwise: Node
    pos: Pos


@dataclass(frozen=True, slots=True)
class Filter:
    """`(filter (indicator {:window n}) (select-top|select-bottom k) [candidates])`."""

    node_id: int
    indicator: Indicator
    select: Literal["top", "bottom"]
    count: int
    children: tuple[Node, ...]
    pos: Pos


Node = Asset | WeightEqual | WeightSpecified | WeightInverseVolatility | If | Filter


@dataclass(frozen=True, slots=True)
class Symphony:
    """A parsed `defsymphony`."""

    name: str
    file: str
    root: Node
    rebalance_threshold: Decimal | None
    rebalance_frequency: str | None
    options: tuple[tuple[str, str], ...]
    pos: Pos


def walk(node: Node) -> list[Node]:
    """Every node of the subtree, pre-order."""
    out: list[Node] = [node]
    if isinstance(node, If):
        out += walk(node.then)
        out += walk(node.otherwise)
    elif not isinstance(node, Asset):
        for child in node.children:
            out += walk(child)
    return out


def symbols_of(node: Node) -> list[str]:
    """Every symbol the subtree can hold or reads an indicator of, sorted, unique."""
    found: set[str] = set()
    for n in walk(node):
        if isinstance(n, Asset):
            found.add(n.symbol)
        elif isinstance(n, If):
            for side in (n.condition.lhs, n.condition.rhs):
                if isinstance(side, Indicator) and side.symbol:
                    found.add(side.symbol)
    return sorted(found)
