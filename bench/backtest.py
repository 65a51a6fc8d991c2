"""Backtest speed (issue 18; targets: 20 years daily of a 10-symbol static allocation in
seconds (under 10 s), the largest example strategy over 5 years in under a minute).

1. Ten stocks at 10% each, rebalanced daily with the real planner, 2002-2022 on the real
   closes of ../shared/data/us-daily (synthetic bars when that folder is missing).
2. `examples/strategies/sector-groups.clj` (the largest example) over 2018-2022, the same
   closes, the strategy evaluated on every session.
3. For scale: `hedged_sector_rotator.clj` (../shared/strategies, 50 filters) over five
   years of synthetic bars (2021-2025).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.evaluate import BlendRun
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.program import compile

ROOT = Path(__file__).resolve().parent.parent
US_DAILY = ROOT.parent / "shared" / "data" / "us-daily"
STATIC = ["AAPL", "CVX", "HD", "JNJ", "JPM", "KO", "MSFT", "PEP", "WMT", "XOM"]
STATIC_TARGET_S = 10.0
STRATEGY_TARGET_S = 60.0
POLICY = PlannerPolicy()


def _static() -> tuple[float, int]:
    folder = US_DAILY if US_DAILY.is_dir() else None
    bars = daily_bars(STATIC, date(2001, 12, 1), date(2022, 12, 28), folder)
    weights = {s: Decimal("0.1") for s in STATIC}
    setup = Setup(date(2002, 1, 2), date(2022, 12, 28), Decimal(1_000_000), POLICY, Decimal(5))
    started = time.perf_counter()
    bt = run_backtest(bars, STATIC, lambda _d: weights, setup)
    return time.perf_counter() - started, len(bt.sessions)


def _strategy(path: Path, start: date, end: date, folder: Path | None) -> tuple[float, int]:
    program = compile(parse_symphony(path.read_text(encoding="utf-8"), str(path)))
    universe = list(program.symbols)
    bars = daily_bars(universe, start - program.history, end, folder)
    setup = Setup(start, end, Decimal(100_000), POLICY, Decimal(5))
    started = time.perf_counter()
    blend = BlendRun([(program, Decimal(1))], bars)
    bt = run_backtest(bars, universe, blend.weights, setup)
    return time.perf_counter() - started, len(bt.sessions)


def main() -> bool:
    """Print the timings; True when both targets are met."""
    print("backtest: wall time of the session loop (bars in memory)")
    rows: list[tuple[str, Callable[[], tuple[float, int]], float | None]] = [
        ("10 symbols static, 2002-2022", _static, STATIC_TARGET_S),
        (
            "sector-groups.clj, 2018-2022",
            lambda: _strategy(
                ROOT / "examples" / "strategies" / "sector-groups.clj",
                date(2018, 1, 2), date(2022, 12, 28),
                US_DAILY if US_DAILY.is_dir() else None,
            ),
            STRATEGY_TARGET_S,
        ),
    ]  # fmt: skip
    rotator = ROOT.parent / "shared" / "strategies" / "hedged_sector_rotator.clj"
    if rotator.is_file():
        rows.append(
            (
                "hedged_sector_rotator.clj, 2021-2025 synthetic",
                lambda: _strategy(rotator, date(2021, 1, 4), date(2025, 12, 31), None),
                None,
            )
        )
    met = True
    for name, run, target in rows:
        seconds, sessions = run()
        verdict = ""
        if target is not None:
            ok = seconds < target
            met = met and ok
            verdict = f"  target {target:.0f} s -> {'met' if ok else 'MISSED'}"
        print(f"  {name:<48} {sessions:>5} sessions {seconds:7.1f} s{verdict}")
    return met


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
