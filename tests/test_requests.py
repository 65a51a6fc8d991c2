"""Requests per account (issue 16, target 3): a 300-position account against the fake
Alpaca server, its rate limit off, counting every request the CLI makes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.openapi_check import validate
from tests.test_faults import NOW, three_hundred_positions

N = 300


def paths(fake: FakeAlpaca, start: int = 0) -> Counter[str]:
    """How many requests went to each route (one line for all single-asset lookups)."""
    return Counter(
        f"{m} {'/v2/assets/{symbol}' if p.startswith('/v2/assets/') else p}"
        for m, p, _ in fake.requests[start:]
    )


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeAlpaca, Path]:
    seed, targets = three_hundred_positions(tmp_path)
    fake = FakeAlpaca(tmp_path / "fake", NOW, seed=seed)
    use_fake_alpaca(fake, monkeypatch)
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDERS", str(N))
    monkeypatch.setenv("ALCH_ALPACA__RATE_LIMIT_PER_MIN", "10000")  # counts, not timing
    return fake, targets


def test_a_cold_plan_of_300_positions_makes_at_most_5_plus_n_over_200_requests(
    world: tuple[FakeAlpaca, Path], cli: Callable[..., Run]
) -> None:
    fake, targets = world
    with fake:
        plan = cli("plan", "--json", "--targets", str(targets))
        assert plan.exit_code == 0, plan.stderr
        assert len(plan.json()["orders"]) == N
        made = paths(fake)
        print(f"\ncold plan, {N} positions: {len(fake.requests)} requests {dict(made)}")
        # The budget is 5 + ceil(N/200) = 7. The planner reads no orders (open
        # orders and today's fills matter to the checks, which `check` and `execute` run),
        # so a plan makes 4 + ceil(N/200): each of these once, quotes 200 a time. The tax
        # lots (issue 27) add the account's activities: on a cold cache every FILL page (the
        # 300 positions' buys: 3 full pages and the empty one that ends them) and the
        # SPLITs (1); see the warm plan below.
        activities = math.ceil((N + 1) / 100) + 1
        assert made == {
            "GET /v2/account": 1,
            "GET /v2/positions": 1,
            "GET /v2/clock": 1,
            "GET /v2/assets": 1,
            "GET /v2/stocks/quotes/latest": math.ceil(N / 200),
            "GET /v2/account/activities": activities,
        }
        assert len(fake.requests) <= 5 + math.ceil(N / 200) + activities
        seen = len(fake.requests)
        again = cli("plan", "--json", "--targets", str(targets))
        assert again.exit_code == 0, again.stderr
        # warm: the assets listing is cached, and the activities cost one request (nothing
        # new since the last id cached)
        assert paths(fake, seen)["GET /v2/account/activities"] == 1
        assert len(fake.requests) - seen <= 4 + math.ceil(N / 200)
        assert fake.listings == [{"status": "active", "asset_class": "us_equity"}]
        for exchange in fake.log:
            validate(exchange.method, exchange.path, exchange.status, exchange.body)


def test_execute_of_300_orders_with_instant_fills_makes_at_most_1_1_n_plus_10_requests(
    world: tuple[FakeAlpaca, Path], cli: Callable[..., Run]
) -> None:
    fake, targets = world
    with fake:
        run = cli("execute", "--yes", "--json", "--targets", str(targets))
        assert run.exit_code == 0, run.stderr
        assert run.json()["outcome"] == "completed"
        assert len(fake.sim.orders()) == N
        made = paths(fake)
        print(f"\nexecute, {N} orders: {len(fake.requests)} requests {dict(made)}")
        assert made["POST /v2/orders"] == N
        assert len(fake.requests) <= 1.1 * N + 10
