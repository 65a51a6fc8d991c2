"""Strategy evaluation speed (issue 17; target: the largest file in under 1 s, bars in memory).

1. `hedged_sector_rotator.clj` (1,145 lines, 50 filters over 52 groups) evaluated on
   synthetic bars held in memory, on 40 different sessions (each takes other branches);
   the target applies to the slowest.
2. Growth with the number of `filter` nodes: N filters side by side, each choosing 1 of 3
   assets by moving-average-return(20); then N filters each over 3 groups (an `if` inside
   each), scored on the groups' re-evaluated daily value series.
"""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.strategy.evaluate import evaluate
from alchemiser_cli.core.strategy.nodes import symbols_of
from alchemiser_cli.core.strategy.parse import parse_symphony

LARGEST = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "strategies"
    / ("hedged_sector_rotator.clj")
)
TARGET_S = 1.0
AS_OF = date(2026, 6, 1)


def _assets_filters(n: int) -> str:
    parts = [
        f"(filter (moving-average-return {{:window 20}}) (select-top 1) "
        f'[(asset "S{3 * i}") (asset "S{3 * i + 1}") (asset "S{3 * i + 2}")])'
        for i in range(n)
    ]
    return f'(defsymphony "bench" {{}} (weight-equal [{" ".join(parts)}]))'


def _group_filters(n: int) -> str:
    def group(i: int, j: int) -> str:
        a, b = f"S{(3 * i + j) % 90}", f"S{(3 * i + j + 1) % 90}"
        return (
            f'(group "g{i}-{j}" [(if (> (rsi "{a}" {{:window 10}}) 50) '
            f'[(asset "{a}")] [(asset "{b}")])])'
        )

    parts = [
        f"(filter (cumulative-return {{:window 20}}) (select-top 1) "
        f"[{group(i, 0)} {group(i, 1)} {group(i, 2)}])"
        for i in range(n)
    ]
    return f'(defsymphony "bench" {{}} (weight-equal [{" ".join(parts)}]))'


def _time(text: str, as_of: date) -> float:
    symphony = parse_symphony(text, "bench.clj")
    bars = daily_bars(symbols_of(symphony.root), date(2015, 1, 1), as_of, None)
    start = time.perf_counter()
    evaluate(symphony, bars, as_of)
    return time.perf_counter() - start


def main() -> bool:
    """Print the tables; True when the largest file met its target on every session."""
    text = LARGEST.read_text(encoding="utf-8")
    symphony = parse_symphony(text, str(LARGEST))
    bars = daily_bars(symbols_of(symphony.root), date(2015, 1, 1), AS_OF, None)
    days = [AS_OF - timedelta(days=7 * k) for k in range(40)]
    times = []
    for day in days:
        start = time.perf_counter()
        evaluate(symphony, bars, day)
        times.append(time.perf_counter() - start)
    slowest = max(times)
    met = slowest < TARGET_S
    print("strategy: hedged_sector_rotator.clj, bars in memory, 40 sessions (ms)")
    print(
        f"  best {min(times) * 1000:8.1f}  median {statistics.median(times) * 1000:8.1f}  "
        f"slowest {slowest * 1000:8.1f}  target {TARGET_S * 1000:.0f} -> "
        f"{'met' if met else 'MISSED'}"
    )
    print()
    print("strategy: evaluation time by number of filter nodes (ms, median of 3)")
    print("  filters   over assets   over groups")
    for n in (1, 10, 50, 100, 200):
        assets = statistics.median(_time(_assets_filters(n), AS_OF) for _ in range(3))
        groups = statistics.median(_time(_group_filters(n), AS_OF) for _ in range(3))
        print(f"  {n:7d}   {assets * 1000:11.1f}   {groups * 1000:11.1f}")
    return met


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)
