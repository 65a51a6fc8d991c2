"""Evaluate symphonies as of a date, and blend several: the one-session front of the engine.

`evaluate` compiles the symphony and asks its run for one session's decision (the run's
`explain`); `targets_from_strategies` blends several. Callers that evaluate many sessions
on the same bars (the backtest) compile once and keep the run (`program.py`, `run.py`),
so every column and group series is computed once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext

from alchemiser_cli.core.strategy import frequency
from alchemiser_cli.core.strategy import indicators as ind
from alchemiser_cli.core.strategy.nodes import Symphony
from alchemiser_cli.core.strategy.program import (
    Program,
    compile,
    tightest_threshold,
    within_lookback,
)
from alchemiser_cli.core.strategy.result import Blend, StrategyResult, Trace
from alchemiser_cli.core.strategy.run import DEFAULT_FRAGILE_MARGIN
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.strategy.syntax import StrategyError

ZERO = Decimal(0)
ONE = Decimal(1)


def evaluate(
    symphony: Symphony,
    bars: Mapping[str, Series],
    as_of: date,
    *,
    fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
    live_prices: Mapping[str, Decimal] | None = None,
) -> StrategyResult:
    """The symphony's weights on the last session through `as_of`, with its trace, read
    on the program's lookback of `bars` (as `alch signal` reads them).

    `live_prices` (while the market is open): `current-price` on that session is the latest
    trade given here instead of the session's close; every other indicator reads closes."""
    program = compile(symphony)
    run = program.over(within_lookback(bars, [program], as_of), as_of)
    return run.explain(run.index(as_of), fragile_margin=fragile_margin, live_prices=live_prices)


def check_blend(weights: Sequence[Decimal]) -> None:
    """Blend weights are above 0 and add up to at most 1."""
    if not weights:
        raise StrategyError("no strategy given: name at least one strategy file")
    total = sum(weights, ZERO)
    if total > ONE or any(w <= 0 for w in weights):
        raise StrategyError(
            f"strategy weights must be above 0 and add up to at most 1, got {total}"
        )


def blend_weights(parts: Sequence[tuple[Mapping[str, Decimal], Decimal]]) -> dict[str, Decimal]:
    """Each strategy's weights times its blend weight, summed in a fixed order."""
    blended: dict[str, Decimal] = {}
    with localcontext(ind.CONTEXT):
        for weights, w in parts:
            for symbol, weight in weights.items():
                blended[symbol] = blended.get(symbol, ZERO) + weight * w
    return {s: blended[s] for s in sorted(blended)}


def explain_blend(
    programs: Sequence[tuple[Program, Decimal]],
    bars: Mapping[str, Series],
    as_of: date,
    *,
    fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
    live_prices: Mapping[str, Decimal] | None = None,
) -> Blend:
    """Blend compiled strategies by weight (fractions adding up to at most 1) as of a date:
    `Blend.weights` are target weights (what they leave is cash), `Blend.results` carry
    each strategy's trace, and `Blend.rebalance_threshold` is the tightest band asked for."""
    check_blend([w for _, w in programs])
    bars = within_lookback(bars, [p for p, _ in programs], as_of)
    results = []
    for program, w in programs:
        run = program.over(bars, as_of)
        result = run.explain(
            run.index(as_of), fragile_margin=fragile_margin, live_prices=live_prices
        )
        results.append((result, w))
    return Blend(
        weights=blend_weights([(r.weights, w) for r, w in results]),
        results=tuple(results),
        rebalance_threshold=tightest_threshold([p for p, _ in programs]),
    )


def targets_from_strategies(
    strategies: Sequence[tuple[Symphony, Decimal]],
    bars: Mapping[str, Series],
    as_of: date,
    *,
    fragile_margin: Decimal = DEFAULT_FRAGILE_MARGIN,
    live_prices: Mapping[str, Decimal] | None = None,
) -> Blend:
    """`explain_blend` of parsed symphonies (each compiled here)."""
    return explain_blend(
        [(compile(s), w) for s, w in strategies],
        bars,
        as_of,
        fragile_margin=fragile_margin,
        live_prices=live_prices,
    )


class BlendRun:
    """Several compiled strategies over one set of bars, blended by weight, on any session:
    what the backtest asks day after day (each run keeps its columns and group series)."""

    def __init__(
        self,
        programs: Sequence[tuple[Program, Decimal]],
        bars: Mapping[str, Series],
        first: date | None = None,
    ):
        check_blend([w for _, w in programs])
        self.programs = tuple(p for p, _ in programs)
        self.runs = tuple((p.over(bars, first), w) for p, w in programs)

    def weights(self, as_of: date) -> dict[str, Decimal]:
        """The blend's target weights decided on the last session through `as_of`."""
        return blend_weights([(run.weights(run.index(as_of)), w) for run, w in self.runs])

    def due(self, decided: date, trading: date) -> bool:
        """Whether the blend trades on `trading` deciding on `decided`: when any strategy's
        `:rebalance-frequency` opens a new period (README "Signals")."""
        return any(frequency.due(p.symphony.rebalance_frequency, decided, trading)
                   for p in self.programs)  # fmt: skip


__all__ = [
    "Blend",
    "BlendRun",
    "Program",
    "Series",
    "StrategyResult",
    "Trace",
    "blend_weights",
    "check_blend",
    "evaluate",
    "explain_blend",
    "targets_from_strategies",
]
