"""The compiled strategy engine against its floors (issue 23), ratios measured side by side.

Each pair runs alternately (strategy, floor, strategy, floor, ...) so a drift in the shared
VM's speed hits both alike, and the medians are compared:

1. A 5-year backtest (2021-2025) of `hedged_sector_rotator.clj` on synthetic bars, at
   most 3x a 5-year backtest of fixed equal-weight targets over its symbols on the same
   bars (the planner-and-simulator floor). Bars are in memory; the strategy's time counts
   compiling and running the program.
2. A 28-year (1995-2022) two-asset MA/RSI switch on the shared real closes, no slower than
   1.5x the fixed-targets (50/50) backtest of the same two assets.
3. `alch signal FILE --json` on each shared symphony (synthetic bars), at most 1.5x
   `alch plan` on the demo account, both as commands on the simulator.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.backtest import Setup
from alchemiser_cli.core.backtest_run import run_backtest
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.evaluate import BlendRun
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.program import Program, compile

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
STRATEGIES = SHARED / "strategies"
US_DAILY = SHARED / "data" / "us-daily"
ALCH = str(Path(sys.executable).with_name("alch"))
POLICY = PlannerPolicy()
ROUNDS = 3  # backtest pairs
RUNS = 5  # command pairs
SWITCH = """(defsymphony "MA/RSI switch" {}
 (if (> (current-price "MSFT") (moving-average-price "MSFT" {:window 200}))
   [(if (> (rsi "MSFT" {:window 10}) 79) [(asset "KO")] [(asset "MSFT")])]
   [(asset "KO")]))"""


def _backtests(
    program: Program, start: date, end: date, folder: Path | None
) -> tuple[Callable[[], float], Callable[[], float], int]:
    """The strategy's backtest and the fixed-targets one over its symbols (seconds each)."""
    universe = list(program.symbols)
    bars = daily_bars(universe, start - program.history, end, folder)
    setup = Setup(start, end, Decimal(100_000), POLICY, Decimal(5))
    equal = {s: Decimal(1) / len(universe) for s in universe}

    def strategy() -> float:
        began = time.perf_counter()
        blend = BlendRun([(program, Decimal(1))], bars)
        run_backtest(bars, universe, blend.weights, setup)
        return time.perf_counter() - began

    def fixed() -> float:
        began = time.perf_counter()
        run_backtest(bars, universe, lambda _day: equal, setup)
        return time.perf_counter() - began

    sessions = len(run_backtest(bars, universe, lambda _day: equal, setup).sessions)
    return strategy, fixed, sessions


def _side_by_side(
    ours: Callable[[], float], floor: Callable[[], float], rounds: int
) -> tuple[float, float]:
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(ours())
        b.append(floor())
    return statistics.median(a), statistics.median(b)


def _verdict(name: str, ours: float, floor: float, target: float, unit: str = "s") -> bool:
    ratio = ours / floor
    ok = ratio <= target
    scale = 1000 if unit == "ms" else 1
    print(
        f"  {name:<44} {ours * scale:8.2f} {floor * scale:8.2f} {unit:>2}  ratio {ratio:5.2f}"
        f"  target {target:.1f}x -> {'met' if ok else 'MISSED'}"
    )
    return ok


def _command(args: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    done = subprocess.run([ALCH, *args], env=env, capture_output=True, check=False, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"alch {' '.join(args)}: exit {done.returncode}: {done.stderr[-400:]!r}")
    return time.perf_counter() - began


def main() -> bool:
    """Print the three comparisons; True when every target is met."""
    met = True
    print(f"strategy engine: medians of {ROUNDS} alternating runs (bars in memory)")
    print(f"  {'case (strategy vs floor)':<44} {'ours':>8} {'floor':>8}")
    rotator = STRATEGIES / "hedged_sector_rotator.clj"
    if rotator.is_file():
        program = compile(parse_symphony(rotator.read_text(encoding="utf-8"), str(rotator)))
        ours, floor, n = _backtests(program, date(2021, 1, 4), date(2025, 12, 31), None)
        a, f = _side_by_side(ours, floor, ROUNDS)
        met &= _verdict(f"rotator 5y backtest vs fixed {len(program.symbols)} ({n} s.)", a, f, 3.0)
    if US_DAILY.is_dir():
        program = compile(parse_symphony(SWITCH, "switch.clj"))
        ours, floor, n = _backtests(program, date(1995, 1, 3), date(2022, 12, 28), US_DAILY)
        a, f = _side_by_side(ours, floor, ROUNDS)
        met &= _verdict(f"MA/RSI switch 28y vs fixed 2 ({n} sessions)", a, f, 1.5)
    print()
    print(f"strategy engine: alch signal vs alch plan (demo), medians of {RUNS} alternating runs")
    home = tempfile.mkdtemp(prefix="alch-bench-signal-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "ALCH_"))}
    env.update(ALCH_HOME=home, ALCH_BROKER="sim", COLUMNS="160")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    _command(["plan"], env)  # warm-up: the simulator and the session table
    for path in sorted(STRATEGIES.glob("*.clj")):
        signal = ["signal", str(path), "--json"]
        _command(signal, env)
        a, f = _side_by_side(partial(_command, signal, env), partial(_command, ["plan"], env), RUNS)
        met &= _verdict(f"signal {path.name}", a, f, 1.5, "ms")
    return met


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
