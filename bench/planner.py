"""Planner speed where users are (issue 24), every figure from rounds that alternate what
they compare, so a drift in the shared VM's speed affects both sides alike:

* 100 and 500 holdings (a fifth whole-share): `build_plan` under 10 ms (median);
* 10,000 holdings: a regression guard, at most 2.0x the frozen pre-issue-15 planner
  (`bench/yardstick_planner.py`) in the same rounds; the floor of unavoidable work
  (`bench/floor.py`) is timed in those rounds too and its ratio printed. Issue 15's target
  of 0.60 of the yardstick is retired (BENCHMARKS.md says why).

`bench/plan_command.py` times `alch plan --json` itself at 500 positions against 10.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from alchemiser_cli.core.models import Account, Asset, Position, Quote, Snapshot
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SMALL_TARGET_MS = 10.0
GUARD_RATIO = 2.0


def world(n: int, seed: int = 7) -> tuple[Snapshot, Targets]:
    """n held symbols (a fifth of them non-fractionable), all in the targets, equal weight."""
    rng = random.Random(seed)
    symbols = [f"S{i:05d}" for i in range(n)]
    quotes, assets, positions = {}, {}, {}
    for s in symbols:
        bid = Decimal(rng.randint(500, 50_000)) / 100
        quotes[s] = Quote(s, bid, bid + Decimal(rng.randint(1, 20)) / 100)
        assets[s] = Asset(s, fractionable=rng.random() > 0.2)
        positions[s] = Position(s, Decimal(rng.randint(1, 500)))
    weight = (Decimal(1) / n).quantize(Decimal("0.000000001"), rounding="ROUND_DOWN")
    snap = Snapshot(
        account=Account("BENCH", Decimal(100_000), Decimal(100_000)),
        positions=positions,
        quotes=quotes,
        assets=assets,
        as_of=NOW,
    )
    return snap, Targets(dict.fromkeys(symbols, weight), "bench")


def _ms(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def alternated(n: int, rounds: int, others: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median ms of build_plan at n holdings and of each of ``others``, each round timing
    all of them one after the other."""
    snap, targets = world(n)
    policy = PlannerPolicy()
    work = {"planner": lambda: build_plan(snap, targets, policy, NOW), **others}
    times: dict[str, list[float]] = {name: [] for name in work}
    for _ in range(rounds):
        for name, job in work.items():
            times[name].append(_ms(job))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> tuple[bool, float]:
    """Print the table and verdicts; return whether every target is met, and the
    planner's median at 10,000 holdings."""
    from bench import floor, yardstick_planner  # the 10,000 world only

    policy = PlannerPolicy()
    print("planner: build_plan wall time, one core, median ms of alternated rounds")
    ok = True
    for n, rounds in ((100, 41), (500, 21)):
        snap, targets = world(n)
        plan = build_plan(snap, targets, policy, NOW)
        median = alternated(n, rounds, {})["planner"]
        met = median < SMALL_TARGET_MS
        ok = ok and met
        print(
            f"{n:>7,} holdings ({len(plan.orders)} orders, search {plan.summary.search}): "
            f"{median:.2f} ms vs target {SMALL_TARGET_MS:.0f} ms -> {'met' if met else 'MISSED'}"
        )
    snap, targets = world(10_000)
    parts = floor.floors_once(10_000)
    medians = alternated(
        10_000,
        7,
        {
            "yardstick": lambda: yardstick_planner.build_plan(snap, targets, policy, NOW),
            "floor": parts,
        },
    )
    planner, yardstick, least = medians["planner"], medians["yardstick"], medians["floor"]
    ratio = planner / yardstick
    met = ratio <= GUARD_RATIO
    print(
        f" 10,000 holdings: planner {planner:.1f} ms, yardstick (pre-issue-15) {yardstick:.1f}"
        f" ms, floor {least:.1f} ms (same rounds)\n"
        f"   planner / yardstick = {ratio:.2f} vs guard {GUARD_RATIO:.1f} -> "
        f"{'met' if met else 'MISSED'}; planner / floor = {planner / least:.2f} (no target)"
    )
    return ok and met, planner
