"""Planner speed for 100, 1,000 and 10,000 holdings (issue 3's target: 10,000 in under
50 ms), and at 10,000 holdings as a ratio to the frozen pre-issue-15 planner measured in
the same run (`bench/yardstick_planner.py`; issue 15's target: at most 0.60)."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

from alchemiser_cli.core.models import Account, Asset, Position, Quote, Snapshot
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from bench import yardstick_planner

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
TARGET_MS = 50.0
TARGET_RATIO = 0.60


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


def measure(n: int, repeats: int) -> tuple[float, float, int]:
    """Best and median wall time (ms) of build_plan, and the order count."""
    snap, targets = world(n)
    policy = PlannerPolicy()
    times = []
    orders = 0
    for _ in range(repeats):
        start = time.perf_counter()
        plan = build_plan(snap, targets, policy, NOW)
        times.append((time.perf_counter() - start) * 1000)
        orders = len(plan.orders)
    return min(times), statistics.median(times), orders


def versus_yardstick(n: int = 10_000, rounds: int = 9) -> tuple[float, float]:
    """Medians (ms) of the planner and of the yardstick at n holdings, timed alternately in
    the same process so a drift in the VM's speed affects both alike."""
    snap, targets = world(n)
    policy = PlannerPolicy()
    new: list[float] = []
    old: list[float] = []
    for _ in range(rounds):
        for plan, times in ((build_plan, new), (yardstick_planner.build_plan, old)):
            start = time.perf_counter()
            plan(snap, targets, policy, NOW)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(new), statistics.median(old)


def main() -> tuple[bool, float]:
    """Print a table; return whether the 10,000-holding target is met, and that median."""
    print("planner: build_plan wall time, one core (ms)")
    print(f"{'holdings':>9} {'orders':>7} {'best':>9} {'median':>9} {'per holding (us)':>17}")
    ok, at_10k = True, 0.0
    for n, repeats in ((100, 50), (1_000, 20), (10_000, 7)):
        best, median, orders = measure(n, repeats)
        print(f"{n:>9,} {orders:>7,} {best:>9.2f} {median:>9.2f} {median / n * 1000:>17.2f}")
        if n == 10_000:
            ok, at_10k = median < TARGET_MS, median
            print(
                f"10,000 holdings: median {median:.1f} ms vs target {TARGET_MS:.0f} ms "
                f"(ratio {median / TARGET_MS:.2f}) -> {'OK' if ok else 'MISSED'}"
            )
    new, old = versus_yardstick()
    ratio = new / old
    met = ratio <= TARGET_RATIO
    print(
        f"10,000 holdings vs the yardstick (pre-issue-15 planner, same run): median "
        f"{new:.1f} / {old:.1f} ms = ratio {ratio:.2f} vs target {TARGET_RATIO:.2f} "
        f"-> {'OK' if met else 'MISSED'}"
    )
    return ok and met, at_10k
