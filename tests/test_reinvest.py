"""Under a band, sale proceeds wait in cash unless `--reinvest` (issue 24): then the cash the
band's trades leave buys the listed positions still under target, in proportion to how far
under each is, never past its target."""

from __future__ import annotations

from datetime import UTC, datetime

from alchemiser_cli.core.plan import Rule
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
BAND = PlannerPolicy(
    collar_bps=D(0), sec_fee_rate=D(0), finra_taf_per_share=D(0), band_abs=D("0.05")
)


def world() -> tuple[object, Targets]:
    # Equity 10,000 at 100 a share: AAA 40% (target 25%: out of band, sells 15 shares),
    # BBB 22% and CCC 23% (target 25%: in band, 300 and 200 under), DDD 15% (target 25%:
    # out of band, buys 10 shares). The sale frees 1,500; DDD takes 1,000; 500 is left.
    snap = make_snapshot(
        "0",
        positions={"AAA": "40", "BBB": "22", "CCC": "23", "DDD": "15"},
        quotes={s: ("100", "100") for s in ("AAA", "BBB", "CCC", "DDD")},
    )
    return snap, Targets({s: D("0.25") for s in ("AAA", "BBB", "CCC", "DDD")}, "t")


def test_a_band_leaves_sale_proceeds_in_cash() -> None:
    snap, targets = world()
    plan = build_plan(snap, targets, BAND, NOW)  # type: ignore[arg-type]
    assert [(o.side.value, o.symbol, o.qty) for o in plan.orders] == [
        ("sell", "AAA", D(15)),
        ("buy", "DDD", D(10)),
    ]
    assert plan.summary.est_cash_after == D(500)


def test_reinvest_spends_it_pro_rata_on_positions_under_target() -> None:
    snap, targets = world()
    policy = BAND.model_copy(update={"reinvest": True})
    plan = build_plan(snap, targets, policy, NOW)  # type: ignore[arg-type]
    # 500 over BBB (300 under) and CCC (200 under): 3 shares and 2 shares, to target.
    assert [(o.side.value, o.symbol, o.qty) for o in plan.orders] == [
        ("sell", "AAA", D(15)),
        ("buy", "BBB", D(3)),
        ("buy", "CCC", D(2)),
        ("buy", "DDD", D(10)),
    ]
    lines = {p.symbol: p for p in plan.positions}
    assert lines["BBB"].rule is Rule.REINVEST
    assert lines["BBB"].post_weight == D("0.25")
    assert plan.summary.est_cash_after == 0
    assert plan.summary.min_cash_after >= 0


def test_reinvest_with_less_cash_than_the_shortfall_scales_every_buy_alike() -> None:
    # An unlisted position kept (sell_unlisted off) holds 500 of the base: goals are 2,625
    # each of 10,500. AAA sells 1,375, DDD buys 1,125: 250 left for BBB (425 under) and
    # CCC (325 under), each a third of its own shortfall.
    snap = make_snapshot(
        "0",
        positions={"AAA": "40", "BBB": "22", "CCC": "23", "DDD": "15", "ZZZ": "5"},
        quotes={s: ("100", "100") for s in ("AAA", "BBB", "CCC", "DDD", "ZZZ")},
    )
    targets = Targets({s: D("0.25") for s in ("AAA", "BBB", "CCC", "DDD")}, "t")
    policy = BAND.model_copy(update={"reinvest": True, "sell_unlisted": False})
    plan = build_plan(snap, targets, policy, NOW)
    buys = {o.symbol: o.qty for o in plan.orders if o.side.value == "buy"}
    assert buys["DDD"] == D("11.25")
    assert buys["BBB"] == D("1.416666666")  # 425 / 3 / 100, down to 9 decimals
    assert buys["CCC"] == D("1.083333333")
    assert D(0) <= plan.summary.min_cash_after < D("0.01")
