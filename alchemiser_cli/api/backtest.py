"""`alch backtest` as a function: strategies or fixed targets over history with the real
planner and costs; the document `alch backtest --json` prints."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from alchemiser_cli.api.flags import day_of, decimal_flag
from alchemiser_cli.api.session import opened, planner_flags, targets_of
from alchemiser_cli.errors import InputError

if TYPE_CHECKING:
    from alchemiser_cli.app.backtest import Outcome, Request
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.core.targets import Targets
    from alchemiser_cli.documents.backtest import BacktestDocument

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BacktestRun:
    """A backtest's document and the run it was made from (for the tearsheet)."""

    document: BacktestDocument
    outcome: Outcome


def sources(strategy: Sequence[str], targets: object | None) -> None:
    """Strategies or targets: exactly one kind."""
    if strategy and targets is not None:
        raise InputError("give either --strategy FILE (repeatable) or --targets FILE, not both")
    if not strategy and targets is None:
        raise InputError("give either --strategy FILE (repeatable) or --targets FILE")


def _request(
    start: date | str,
    end: date | str,
    strategy: Sequence[str],
    targets: str | Path | Targets | None,
    money: tuple[str, str, str],
    benchmark: str | None,
    whole_shares: bool,
) -> Request:
    """The backtest asked for, its figures read in the command line's order."""
    from alchemiser_cli.app.backtest import Request

    cash, spread, risk_free = money
    amount = decimal_flag(cash, "--cash", "100000", "1000000000000")
    if amount <= 0:
        raise InputError(f"--cash {cash!r}: give a positive amount, such as 100000")
    return Request(
        start=day_of(start, "--from"),
        end=day_of(end, "--to"),
        cash=amount,
        strategies=tuple(strategy),
        targets=targets_of(targets),
        benchmark=benchmark.strip().upper() if benchmark else None,
        spread_bps=decimal_flag(spread, "--spread", "5", "10000"),
        whole_shares=whole_shares,
        risk_free=decimal_flag(risk_free, "--risk-free", "0.02", "1"),
    )


def backtest_run(
    strategy: Sequence[str] = (),
    targets: str | Path | Targets | None = None,
    *,
    start: date | str,
    end: date | str,
    cash: str = "100000",
    band: Sequence[str] = (),
    to: str | None = None,
    reinvest: bool = False,
    spread: str = "5",
    benchmark: str | None = None,
    whole_shares: bool = False,
    risk_free: str = "0",
    tax: bool = False,
    progress: Progress | None = None,
    bars_progress: Progress | None = None,
    config: Path | None = None,
    broker: str | None = None,
    runtime: Runtime | None = None,
) -> BacktestRun:
    """`backtest`, with the run kept for a tearsheet; `progress(done, total)` hears of the
    sessions run, `bars_progress` of the symbols whose bars are read."""
    from alchemiser_cli.app.backtest import backtest as run
    from alchemiser_cli.documents.backtest import backtest_document

    sources(strategy, targets)
    with opened(runtime, config, broker, planner_flags(band, to, reinvest)) as rt:
        money = (cash, spread, risk_free)
        req = _request(start, end, strategy, targets, money, benchmark, whole_shares)
        outcome = run(rt, req, progress, bars_progress)
        doc = backtest_document(outcome.result, synthetic=outcome.synthetic)
        if tax:
            from alchemiser_cli.app.tax import backtest_taxes

            doc = replace(doc, tax=backtest_taxes(rt, outcome.result))
        return BacktestRun(doc, outcome)


def backtest(
    strategy: Sequence[str] = (),
    targets: str | Path | Targets | None = None,
    *,
    start: date | str,
    end: date | str,
    cash: str = "100000",
    band: Sequence[str] = (),
    to: str | None = None,
    reinvest: bool = False,
    spread: str = "5",
    benchmark: str | None = None,
    whole_shares: bool = False,
    risk_free: str = "0",
    tax: bool = False,
    config: Path | None = None,
    broker: str | None = None,
) -> BacktestDocument:
    """`alch backtest`: strategy files (`FILE` or `FILE=0.6`) or fixed targets from `start`
    to `end` (dates or YYYY-MM-DD) with the real planner and costs."""
    return backtest_run(
        strategy,
        targets,
        start=start,
        end=end,
        cash=cash,
        band=band,
        to=to,
        reinvest=reinvest,
        spread=spread,
        benchmark=benchmark,
        whole_shares=whole_shares,
        risk_free=risk_free,
        tax=tax,
        config=config,
        broker=broker,
    ).document
