"""Every check's findings over 250 generated plans, pinned to a stored file.

The scenarios are drawn from a seeded generator: random holdings, quotes (wide, moved,
without a time), targets, policies, limits (tight, default, off), market states (no clock,
open, the first minutes, closed, a holiday, closed by the broker's clock), saved plans,
changed holdings, open orders, today's fills, account flags and broken assets. The stored
file was written by the checks before they became a package (issue 25); a change to any
finding's id, severity, message, hint or figures, or to their order, fails here.
Regenerate only for an intended change: `PIN_CHECKS=write pytest tests/test_checks_pinned.py`.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from alchemiser_cli.calendar_table import calendar_around
from alchemiser_cli.core.checks.record import CheckContext, Finding
from alchemiser_cli.core.checks.run import run_checks
from alchemiser_cli.core.models import (
    Asset,
    BrokerOrder,
    Fill,
    OrderStatus,
    Position,
    Side,
    Snapshot,
)
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import Limits, PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import make_snapshot

PINNED = Path(__file__).parent / "golden" / "check_findings.json"
SCENARIOS = 250
SYMBOLS = ("AAA", "BBB", "CCC", "DDD", "EEE")
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York: open
CAL = calendar_around(date(2026, 11, 24))
MOMENTS = (  # the market states a scenario may be checked in
    None,
    NOW,
    datetime(2026, 11, 24, 14, 32, tzinfo=UTC),  # two minutes after the open
    datetime(2026, 11, 24, 20, 57, tzinfo=UTC),  # three minutes before the close
    datetime(2026, 11, 26, 15, 0, tzinfo=UTC),  # Thanksgiving
    datetime(2026, 11, 28, 15, 0, tzinfo=UTC),  # Saturday
    datetime(2026, 11, 27, 17, 58, tzinfo=UTC),  # the early close, two minutes before
)
FINDINGS = TypeAdapter(tuple[Finding, ...])


def _limits(rng: random.Random) -> Limits:
    """Each limit tight, default or off, at random."""
    tight: dict[str, Any] = {
        "max_order_notional": Decimal(rng.choice((50, 500, 5000))),
        "max_order_pct": Decimal(rng.choice(("0.05", "0.2", "0.5"))),
        "max_orders": rng.choice((1, 2, 3)),
        "max_turnover_pct": Decimal(rng.choice(("0.1", "0.5"))),
        "max_daily_notional": Decimal(rng.choice((100, 3000))),
        "max_position_weight": Decimal(rng.choice(("0.1", "0.3", "0.6"))),
        "max_sector_weight": Decimal(rng.choice(("0.2", "0.5"))),
        "max_spread_bps": Decimal(rng.choice((5, 50))),
        "max_quote_age_s": rng.choice((1, 30, 600)),
        "max_plan_age_s": rng.choice((1, 60, 900)),
        "max_price_move_pct": Decimal(rng.choice(("0.001", "0.05"))),
    }
    chosen: dict[str, Any] = {}
    for name, value in tight.items():
        roll = rng.random()
        if roll < 0.35:
            chosen[name] = value
        elif roll < 0.55 and name != "max_plan_age_s":
            chosen[name] = None
    chosen["allow_margin"] = rng.random() < 0.3
    chosen["block_fragile"] = rng.random() < 0.3
    return Limits(**chosen)


def _world(rng: random.Random) -> tuple[Plan, Snapshot]:
    """A random account, quotes and targets, and the plan made from them."""
    held = {s: str(rng.choice((0, 1, 5, 20, 40))) for s in rng.sample(SYMBOLS, rng.randint(0, 4))}
    quotes: dict[str, tuple[str, str]] = {}
    for symbol in SYMBOLS:
        bid = Decimal(rng.choice(("9.5", "50", "100", "333.33", "1200")))
        spread = Decimal(rng.choice(("0", "0.01", "0.2", "5")))
        quotes[symbol] = (str(bid), str(bid + spread))
    snap = make_snapshot(
        str(rng.choice((0, 500, 6000, 30000))),
        positions={s: q for s, q in held.items() if q != "0"},
        quotes=quotes,
        non_fractionable=tuple(s for s in SYMBOLS if rng.random() < 0.3),
        account_type=rng.choice(("cash", "margin")),
        daytrade_count=rng.choice((None, 0, 4)),
    )
    weights = {s: Decimal(rng.randint(0, 5)) for s in rng.sample(SYMBOLS, rng.randint(1, 4))}
    total = sum(weights.values()) or Decimal(1)
    targets = Targets({s: (w / total).quantize(Decimal("0.0001")) for s, w in weights.items()}, "t")
    policy = PlannerPolicy(collar_bps=Decimal(rng.choice((0, 10, 50))))
    return build_plan(snap, targets, policy, NOW), snap


def _later(rng: random.Random, plan: Plan, snap: Snapshot) -> Snapshot:
    """The snapshot at check time: quotes moved, aged or missing; holdings, orders, fills,
    the account and the assets changed, each at random."""
    quotes = dict(snap.quotes)
    for symbol, quote in snap.quotes.items():
        factor = Decimal(rng.choice(("1", "1", "0.9", "1.02", "1.5")))
        as_of = rng.choice((None, NOW, NOW - timedelta(seconds=45), NOW - timedelta(hours=2)))
        quotes[symbol] = replace(quote, bid=quote.bid * factor, ask=quote.ask * factor, as_of=as_of)
    positions = dict(snap.positions)
    if rng.random() < 0.2 and plan.orders:
        symbol = plan.orders[0].symbol
        positions[symbol] = Position(symbol, Decimal(rng.choice((0, 3, 7))))
    orders = tuple(
        BrokerOrder(f"o{i}", f"c{i}", o.symbol, o.side, o.qty, o.limit_price, OrderStatus.NEW)
        for i, o in enumerate(plan.orders)
        if rng.random() < 0.15
    )
    fills = tuple(
        Fill(rng.choice(SYMBOLS), rng.choice((Side.BUY, Side.SELL)), Decimal(2), Decimal(50), NOW)
        for _ in range(rng.choice((0, 0, 1, 3)))
    )
    assets = dict(snap.assets)
    for symbol in SYMBOLS:
        if rng.random() < 0.08:
            assets[symbol] = Asset(symbol, tradable=False)
        elif rng.random() < 0.05:
            assets.pop(symbol)
    account = replace(
        snap.account,
        status=rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", "CLOSED")),
        trading_blocked=rng.random() < 0.1,
        settled_cash=rng.choice((None, snap.account.cash - Decimal(100))),
    )
    return replace(
        snap,
        quotes=quotes,
        positions=positions,
        open_orders=orders,
        fills_today=fills,
        assets=assets,
        account=account,
        broker=rng.choice(("sim", "sim", "sim", "alpaca-paper")),
    )


def _context(rng: random.Random, plan: Plan) -> CheckContext:
    moment = rng.choice(MOMENTS)
    now = NOW if moment is None else moment
    saved = rng.random() < 0.5
    return CheckContext(
        limits=_limits(rng),
        now=now + timedelta(seconds=rng.choice((0, 30, 2000, -120, -400_000))) if saved else now,
        market=None if moment is None else CAL.state(moment),
        broker_open=rng.choice((None, True, False)),
        saved_plan=saved,
        traded_today=Decimal(rng.choice((0, 0, 250, 9000))),
        already_executed=rng.choice(((), ("run-1",), ("run-1", "run-2"))),
        force=rng.random() < 0.3,
        cancel_open=rng.random() < 0.3,
        queue_for_open=rng.random() < 0.3,
        sectors=rng.choice(({}, {"AAA": "tech", "BBB": "tech", "CCC": "energy"})),
    )


def _findings(plan: Plan, snap: Snapshot, ctx: CheckContext) -> list[Any]:
    findings = run_checks(plan, snap, ctx).findings
    result: list[Any] = FINDINGS.dump_python(findings, mode="json")
    return result


def scenarios() -> list[list[Any]]:
    """Every scenario's findings, as JSON."""
    rng = random.Random(25)
    out = []
    for _ in range(SCENARIOS):
        plan, snap = _world(rng)
        later = _later(rng, plan, snap) if rng.random() < 0.7 else snap
        if rng.random() < 0.1:
            plan = replace(plan, orders=())
        out.append(_findings(plan, later, _context(rng, plan)))
    return out


def _pack(found: list[list[Any]]) -> dict[str, Any]:
    """Each distinct finding once, and each scenario as the indexes of its findings."""
    index: dict[str, int] = {}
    for scenario in found:
        for finding in scenario:
            index.setdefault(json.dumps(finding, sort_keys=True, ensure_ascii=False), len(index))
    return {
        "findings": [json.loads(text) for text in index],
        "scenarios": [
            [index[json.dumps(f, sort_keys=True, ensure_ascii=False)] for f in scenario]
            for scenario in found
        ],
    }


def _unpack(packed: dict[str, Any]) -> list[list[Any]]:
    return [[packed["findings"][i] for i in scenario] for scenario in packed["scenarios"]]


def test_every_finding_of_the_generated_plans_is_as_pinned() -> None:
    found = scenarios()
    if os.environ.get("PIN_CHECKS") == "write":
        text = json.dumps(_pack(found), ensure_ascii=False, separators=(",", ":"))
        PINNED.write_text(text.replace('},{"', '},\n{"') + "\n", encoding="utf-8")
    pinned = _unpack(json.loads(PINNED.read_text(encoding="utf-8")))
    assert len(found) == len(pinned) == SCENARIOS
    for index, (now, then) in enumerate(zip(found, pinned, strict=True)):
        assert now == then, f"scenario {index}"


def test_the_pinned_scenarios_reach_every_severity_of_every_check() -> None:
    """The generator is wide enough: each check blocks (or warns, if it never blocks)
    somewhere, and passes somewhere, in the pinned file."""
    pinned = _unpack(json.loads(PINNED.read_text(encoding="utf-8")))
    seen = {(f["check_id"], f["severity"]) for scenario in pinned for f in scenario}
    ids = {check_id for check_id, _ in seen}
    assert {i for i in ids if (i, "pass") not in seen} == set()
    not_reached = {i for i in ids if (i, "block") not in seen and (i, "warn") not in seen}
    # Strategies and tax estimates are pinned by the tests of their own (test_strategy_wiring,
    # test_tax_*); here the targets are plain weights and the plans carry no tax estimate.
    assert not_reached == {
        "signal.tradable", "signal.fragile", "signal.stale", "signal.warmup", "tax.wash_sale",
        "tax.lots",
    }  # fmt: skip
