"""The least work any exact planner must do for N holdings, measured piece by piece.

Not a benchmark of alch's planner: it times the parts of *a* plan with `Decimal` money
that issue 3 makes unavoidable (read the inputs; the ~30 Decimal operations it asks of
each trading holding: valuation, weights, drift, sizing, rounding, collar, minimum, fees,
order values, post-trade figures, totals; the three records per holding the plan document
carries; the input hash that is the plan id), so the planner's own time can be read
against what CPython allows at all.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.plan import PlannedOrder, PositionLine, PriceRef, Rule
from bench.planner import world

CENT = Decimal("0.01")
STEP = Decimal("0.000000001")
HALF = Decimal("0.5")
UP = Decimal("1.005")
ONE = Decimal(1)
SCALE = Decimal("0.995")
SEC = Decimal("0.0000278")
TAF = Decimal("0.000195")
TAF_MAX = Decimal("9.79")


def _best_and_median(work: Callable[[], object], repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def _parts(n: int) -> dict[str, Callable[[], object]]:
    """Each unavoidable part of planning n holdings that all trade, as a job to time."""
    snap, targets = world(n)
    positions, quotes, weights = snap.positions, snap.quotes, targets.weights
    symbols = sorted(positions)
    base = Decimal("1234567.89")

    def read() -> None:
        for s in symbols:
            quote = quotes[s]
            _ = (quote.bid, quote.ask, positions[s].qty, weights[s])

    def arithmetic() -> None:
        # What the issue asks of every trading holding, one Decimal operation each; sells
        # (every second holding here) add the SEC and FINRA fees.
        total = Decimal(0)
        for i, s in enumerate(symbols):
            quote, qty = quotes[s], positions[s].qty
            ref = (quote.bid + quote.ask) * HALF  # mid: 2
            value = qty * ref  # 1
            weight = value / base  # current weight: 1
            target = weights[s]
            drift = weight - target  # 1
            gap = target * base - value  # goal and gap: 2
            want = gap / ref  # 1
            trade = (want * SCALE).quantize(STEP, ROUND_CEILING)  # scaled to cash, rounded: 2
            limit = (quote.ask * UP).quantize(CENT, ROUND_FLOOR)  # collar, tick: 2
            _ = trade * quote.ask < ONE  # minimum trade value: 2
            est, worst, cost = trade * quote.ask, trade * limit, trade * (quote.ask - ref)  # 4
            if i % 2:
                sec = (trade * limit * SEC).quantize(CENT, ROUND_CEILING)  # 3
                taf = min((trade * TAF).quantize(CENT, ROUND_CEILING), TAF_MAX)  # 3
                cost += sec + taf  # 2
            post_qty = qty + trade  # 1
            _ = ((post_qty * ref) / base, drift)  # post value and weight: 2
            total += est + worst + cost  # totals: 3

    one = Decimal(1)

    def records() -> None:
        prices, orders, lines = {}, [], []
        for s in symbols:
            quote = quotes[s]
            prices[s] = PriceRef(quote.bid, quote.ask, one, None)
            orders.append(PlannedOrder(1, s, Side.BUY, one, one, one, one, one, one, one, False))
            lines.append(
                PositionLine(s, one, one, one, one, one, one, None, Rule.TO_TARGET, "buy",
                             one, one, one, one)
            )  # fmt: skip

    def plan_id() -> None:
        digest = hashlib.sha256()
        digest.update("\n".join(f"P{s}={positions[s].qty!s}" for s in symbols).encode())
        digest.update(
            "\n".join(f"Q{s}={quotes[s].bid!s}/{quotes[s].ask!s}" for s in symbols).encode()
        )
        digest.update("\n".join(f"T{s}={weights[s]!s}" for s in symbols).encode())

    return {
        "read inputs": read,
        "~30 Decimal ops/holding": arithmetic,
        "3 records/holding": records,
        "plan id (input hash)": plan_id,
    }


def floors(n: int, repeats: int = 9) -> dict[str, tuple[float, float]]:
    """Best and median ms of each unavoidable part, for n holdings that all trade."""
    return {name: _best_and_median(job, repeats) for name, job in _parts(n).items()}


def floors_once(n: int) -> Callable[[], None]:
    """One job running every part once: the floor, to time beside the planner."""
    jobs = list(_parts(n).values())

    def run() -> None:
        for job in jobs:
            job()

    return run


def main(planner_median_ms: float | None = None) -> None:
    """Print the floor for 10,000 holdings, and the planner's median as a multiple of it
    (a ratio that holds steadier than either time on a VM whose speed drifts)."""
    parts = floors(10_000)
    print("floor: unavoidable work for 10,000 trading holdings (ms)")
    print(f"{'part':>26} {'best':>8} {'median':>8}")
    for name, (best, median) in parts.items():
        print(f"{name:>26} {best:>8.2f} {median:>8.2f}")
    best = sum(b for b, _ in parts.values())
    median = sum(m for _, m in parts.values())
    print(f"{'sum':>26} {best:>8.2f} {median:>8.2f}")
    if planner_median_ms is not None:
        print(
            f"planner median / floor median: {planner_median_ms / median:.2f} (timed apart: "
            "the planner's table has the ratio from alternated rounds)"
        )
