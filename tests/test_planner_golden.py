"""The planner's output pinned over a wide set of seeded accounts and policies: the plan
JSON (every order, position line, skipped trade and total) and the plan id of each, as the
planner produced them before it was split into modules (issue 25). A change to what any
plan says fails here, whatever the module layout."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime
from decimal import Decimal

from alchemiser_cli.core.models import Account, Asset, Position, Quote, Snapshot
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents.plan import dumps, plan_to_json

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
POLICIES: tuple[dict[str, object], ...] = (
    {},
    {"band_abs": Decimal("0.02")},
    {"band_rel": Decimal("0.25"), "rebalance_to": "edge"},
    {"band_rel": Decimal("0.25"), "reinvest": True},
    {"cash_reserve": Decimal(500), "min_trade_value": Decimal(25)},
    {"cash_reserve_pct": Decimal("0.05"), "collar_bps": Decimal(10)},
    {"sell_unlisted": False, "keep": ("S03",)},
)
# sha256 over every plan's JSON and id, written by the planner before the split.
GOLDEN = "6b2af2eda8553b7702698de803ae5b1012255198320349fe0e98359a492dfc58"


def _world(seed: int) -> tuple[Snapshot, Targets]:
    """A seeded account: 2-40 symbols, some whole-share, some sub-dollar, some unlisted,
    cash from none to plenty."""
    rng = random.Random(seed)
    n = rng.randint(2, 40)
    quotes, assets, positions = {}, {}, {}
    for i in range(n):
        s = f"S{i:02d}"
        cents = rng.choice(
            (rng.randint(20, 99), rng.randint(100, 5_000), rng.randint(5_000, 200_000))
        )
        bid = Decimal(cents) / 100 + Decimal(rng.randint(0, 9)) / 1000 * (cents < 100)
        quotes[s] = Quote(s, bid, bid + Decimal(rng.randint(1, 30)) / 100)
        assets[s] = Asset(s, fractionable=rng.random() > 0.4, tradable=rng.random() > 0.05)
        if rng.random() < 0.8:
            positions[s] = Position(
                s,
                Decimal(rng.randint(0, 300))
                + Decimal(rng.randint(0, 9)) / 10 * (rng.random() < 0.3),
            )
    listed = [s for s in quotes if rng.random() < 0.85] or [next(iter(quotes))]
    raw = [rng.randint(1, 100) for _ in listed]
    weights = {
        s: (Decimal(r) / sum(raw)).quantize(Decimal("0.0001"), "ROUND_DOWN")
        for s, r in zip(listed, raw, strict=True)
    }
    cash = Decimal(
        rng.choice(
            (0, rng.randint(1, 500), rng.randint(500, 50_000), rng.randint(50_000, 2_000_000))
        )
    )
    snap = Snapshot(Account("G-1", cash, cash), positions, quotes, assets, NOW)
    return snap, Targets(weights, "golden")


def test_plans_over_many_accounts_and_policies_are_unchanged() -> None:
    digest = hashlib.sha256()
    for seed in range(60):
        snap, targets = _world(seed)
        policy = PlannerPolicy(**POLICIES[seed % len(POLICIES)])
        plan = build_plan(snap, targets, policy, NOW)
        digest.update(plan.plan_id.encode())
        digest.update(dumps(plan_to_json(plan)).encode())
    assert digest.hexdigest() == GOLDEN
