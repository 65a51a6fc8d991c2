"""The planner's decision (``core/decision.py``) solved exactly as a mixed-integer programme
by HiGHS (highspy), imported only when a plan needs it.

Per item: shares bought ``b`` and sold ``s`` (integer for whole-share assets), binaries
``zb``/``zs`` (a trade is none or at least the minimum; never both sides), and ``e`` >= the
item's deviation either way. Minimise ``sum e`` under one budget row. HiGHS works in binary
floating point: its answer is read back onto the exact grid (whole shares, 9 decimals,
minimums) and re-checked in ``Decimal`` by the caller, and its dual bound is lowered by a
margin before it is reported, so float rounding never makes a bound claim too much.
A search stopped by :data:`NODE_LIMIT` or :data:`TIME_LIMIT` says so in ``status``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cache
from typing import Any

from alchemiser_cli.core.items import Item

Span = tuple[Decimal, Decimal]
ZERO = Decimal(0)
STEP = Decimal("0.000000001")
NODE_LIMIT = 2_000
TIME_LIMIT = 0.5  # seconds: a safety net (the node limit decides in practice)
GAP = 0.004  # dollars: a plan this close to the proven bound is optimal to the cent
COLUMNS = 5  # b, s, e, zb, zs per item
MARGIN_REL = 1e-7  # of the bound's size, plus a tenth of a cent, off HiGHS's dual bound
MARGIN_ABS = 0.001


@dataclass(frozen=True, slots=True)
class Solution:
    """Trades per item (exact, on the grid), HiGHS's proven bound less the margin, and
    whether the search finished (``optimal``) or stopped (``node_limit``, ``time_limit``)."""

    trades: list[Decimal]
    bound: Decimal
    status: str


def _rows(items: Sequence[Item]) -> tuple[list[list[tuple[int, float]]], list[float], list[float]]:
    """Each row as (column, coefficient) pairs, with its lower and upper side."""
    inf = float("inf")
    rows: list[list[tuple[int, float]]] = []
    lower: list[float] = []
    upper: list[float] = []
    budget_row: list[tuple[int, float]] = []
    for i, item in enumerate(items):
        b, s, e, zb, zs = (COLUMNS * i + k for k in range(COLUMNS))
        ref, at = float(item.ref), float(item.held * item.ref - item.goal)
        rows += [[(e, 1.0), (b, -ref), (s, ref)], [(e, 1.0), (b, ref), (s, -ref)]]
        lower += [at, -at]
        upper += [inf, inf]
        rows += [[(b, 1.0), (zb, -float(item.buy_max))], [(b, 1.0), (zb, -float(item.buy_min))]]
        lower += [-inf, 0.0]
        upper += [0.0, inf]
        rows += [[(s, 1.0), (zs, -float(item.sell_max))], [(s, 1.0), (zs, -float(item.sell_min))]]
        lower += [-inf, 0.0]
        upper += [0.0, inf]
        rows.append([(zb, 1.0), (zs, 1.0)])
        lower.append(-inf)
        upper.append(1.0)
        budget_row += [(b, float(item.buy_limit)), (s, -float(item.sell_net))]
    rows.append(budget_row)
    lower.append(-inf)
    upper.append(0.0)  # set by the caller
    return rows, lower, upper


def _model(
    highspy: Any, items: Sequence[Item], budget: Decimal, spans: Sequence[Span] | None
) -> Any:
    rows, row_lower, row_upper = _rows(items)
    row_upper[-1] = float(budget)
    n = COLUMNS * len(items)
    cost, low, up, kinds = [0.0] * n, [0.0] * n, [0.0] * n, []
    cont, integer = highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger
    for i, item in enumerate(items):
        k = COLUMNS * i
        cost[k + 2] = 1.0
        buy, sell = item.buy_max, item.sell_max
        if spans is not None:  # where a better plan must have this trade
            lo, hi = spans[i]
            buy, sell = min(buy, max(hi, ZERO)), min(sell, max(-lo, ZERO))
            if lo > ZERO:
                low[k], low[k + 3] = float(lo), 1.0
            elif hi < ZERO:
                low[k + 1], low[k + 4] = float(-hi), 1.0
        up[k], up[k + 1], up[k + 2] = float(buy), float(sell), float("inf")
        up[k + 3] = 1.0 if buy > ZERO else 0.0
        up[k + 4] = 1.0 if sell > ZERO else 0.0
        share = integer if item.whole else cont
        kinds += [share, share, cont, integer, integer]
    columns: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for r, row in enumerate(rows):
        for col, coef in row:
            columns[col].append((r, coef))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(rows)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, low, up
    lp.row_lower_, lp.row_upper_ = row_lower, row_upper
    starts, index, value = [0], [], []
    for entries in columns:
        index += [r for r, _ in entries]
        value += [c for _, c in entries]
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    lp.integrality_ = kinds
    return lp


def _exact(item: Item, bought: float, sold: float) -> Decimal:
    """HiGHS's trade of one item, read back onto the grid the broker accepts."""
    if item.whole:
        return Decimal(round(bought) - round(sold))
    buy = min(item.buy_max, Decimal(bought).quantize(STEP, ROUND_FLOOR))
    sell = min(item.sell_max, Decimal(sold).quantize(STEP, ROUND_CEILING))
    trade = buy if buy >= sell else -sell
    if trade > ZERO and trade < item.buy_min:
        trade = item.buy_min.quantize(STEP, ROUND_CEILING) if trade * 2 > item.buy_min else ZERO
    elif trade < ZERO and -trade < item.sell_min:
        trade = -item.sell_min.quantize(STEP, ROUND_CEILING) if -trade * 2 > item.sell_min else ZERO
    return trade


@cache
def _quiet(highspy: Any) -> Any:
    """highspy's public ``Highs``, silent from its first call into HiGHS: its constructor
    installs the Python callbacks (``enableCallbacks``), and that first call prints HiGHS's
    banner to the process's stdout (fd 1) unless ``output_flag`` is already off, which
    would corrupt ``alch plan --json`` (upstream ERGO-Code/HiGHS#2749). ``silent()`` runs
    first here."""

    class Quiet(highspy.Highs):  # type: ignore[misc]
        def enableCallbacks(self) -> None:
            self.silent()
            super().enableCallbacks()

    return Quiet


def solve(
    items: Sequence[Item], budget: Decimal, spans: Sequence[Span] | None = None
) -> Solution | None:
    """Solve the decision exactly (within HiGHS's tolerances); ``spans`` is the (low,
    high) trade of each item that any plan better than the best known must have
    (``core/relaxation.ranges``). None when HiGHS finds no plan. (No warm start: with
    column bounds, highspy 1.16 returned the start as its answer while reporting a better
    objective.)"""
    import highspy  # about 0.1 s with numpy: only plans that need it pay

    h = _quiet(highspy)()
    for name, value in (
        ("threads", 1),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", GAP),
        ("mip_max_nodes", NODE_LIMIT),
        ("time_limit", TIME_LIMIT),
        ("mip_feasibility_tolerance", 1e-9),
        ("primal_feasibility_tolerance", 1e-9),
    ):
        h.setOptionValue(name, value)
    h.passModel(_model(highspy, items, budget, spans))
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    if info.primal_solution_status != 2:  # kSolutionStatusFeasible
        return None
    col = h.getSolution().col_value
    trades = [_exact(item, col[COLUMNS * i], col[COLUMNS * i + 1]) for i, item in enumerate(items)]
    bound = info.mip_dual_bound
    bound = bound - abs(bound) * MARGIN_REL - MARGIN_ABS
    stopped = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
    }.get(status, "node_limit")
    return Solution(trades, Decimal(repr(max(bound, 0.0))), stopped)
