"""Where a strategy's cash comes from: the taken nodes whose weight their children leave
unallocated, and the `if` branch that led there (a plan in cash names its decision)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from alchemiser_cli.core.strategy.record import SignalRecord, TraceDocument
from alchemiser_cli.core.types import WEIGHT_STEP

ZERO = Decimal(0)


def _pct(value: Decimal) -> str:
    return f"{value * 100:.2f}%"


def _leaving(
    node: TraceDocument, branch: tuple[TraceDocument, str] | None
) -> Iterator[tuple[TraceDocument, Decimal, tuple[TraceDocument, str] | None]]:
    """Each taken node that leaves part of its weight in cash, with the innermost `if`
    branch (the `if`, "then" or "else") it sits in."""
    if not node.taken or node.kind == "asset":
        return
    children = [c for c in node.children if c.taken]
    left = node.weight - sum((c.weight for c in children), ZERO)
    if left >= WEIGHT_STEP and node.kind != "if":  # not the 1E-28 that thirds leave
        yield node, left, branch
    for index, child in enumerate(node.children):
        inner = (node, "then" if index == 0 else "else") if node.kind == "if" else branch
        yield from _leaving(child, inner)


def cash_decisions(record: SignalRecord) -> list[str]:
    """One line per node that put part of a strategy in cash, e.g. `Risk off:
    weight-specified at s.clj:7:4 leaves 100.00%, in the else branch of the if at s.clj:4:2`
    (shares of that strategy); the blend's own cash weight, if any, last."""
    lines = []
    for s in record.strategies:
        for node, left, branch in _leaving(s.trace, None):
            text = f"{s.name.strip()}: {node.kind} at {node.pos} leaves {_pct(left)}"
            if branch is not None:
                text += f", in the {branch[1]} branch of the if at {branch[0].pos}"
            lines.append(text)
    blend_cash = Decimal(1) - sum((s.blend_weight for s in record.strategies), ZERO)
    if blend_cash >= WEIGHT_STEP:
        lines.append(f"the blend's cash weight {_pct(blend_cash)}")
    return lines
