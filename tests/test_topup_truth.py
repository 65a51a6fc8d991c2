"""The top-up round plans from what the run knows (issue 21): the positions before the run
plus the fills it confirmed, never a snapshot that may lag; it waits (bounded) for the
broker's positions to agree and skips with a quiet note when they do not; it spends at
most the cash the run's own fills left, buys no symbol past its target, and works with
every source of targets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.results import OrderResult
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.executor.topup import capped_buys, disagreement, known_after
from tests.conftest import EXAMPLES, OPEN_NOW, D, Run, make_snapshot, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.invariants import above_target, bought, cash_seed

NOW = datetime.fromisoformat(OPEN_NOW)
CliFn = Callable[..., Run]
HALF_CASH = cash_seed("PA-HALF-1")
TARGETS = {"VTI": Decimal("0.3"), "BND": Decimal("0.2")}  # half the account stays cash


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    seed = tmp_path / "half.toml"
    seed.write_text(HALF_CASH, encoding="utf-8")
    with FakeAlpaca(tmp_path / "fake", NOW, seed=seed) as server:
        use_fake_alpaca(server, monkeypatch)
        monkeypatch.setenv("ALCH_ALPACA__STREAM", "false")
        monkeypatch.setenv("ALCH_EXECUTION__POLL_INITIAL_S", "0.05")
        monkeypatch.setenv("ALCH_EXECUTION__POLL_MAX_S", "0.2")
        monkeypatch.setenv("ALCH_EXECUTION__TOPUP_WAIT_S", "1")
        monkeypatch.setenv("ALCH_EXECUTION__SLICE_NOTIONAL", "1000000")  # one order a leg
        yield server


def targets_file(tmp_path: Path, targets: dict[str, Decimal] = TARGETS) -> str:
    path = tmp_path / "targets.csv"
    path.write_text("".join(f"{s},{w}\n" for s, w in targets.items()), encoding="utf-8")
    return str(path)


def a_cent_later(fake: FakeAlpaca) -> None:
    """Once both orders are out, VTI's quote moves a cent (a fresh plan gets a new id)."""

    def move() -> None:
        fake.sim.set_quote("VTI", Decimal("250.01"), Decimal("250.11"))

    fake.after("POST", "/v2/orders", move, count=2)


def test_positions_that_lag_the_fills_never_double_a_buy(
    fake: FakeAlpaca, cli: CliFn, tmp_path: Path
) -> None:
    """The issue's case: /v2/account and /v2/positions still show the account before the
    fills, a quote moved a cent: the old round bought the whole plan again (VTI 60% for a
    30% target) and reported success."""
    fake.lag_positions(reads=10**6)  # never catches up within the run
    a_cent_later(fake)
    run = cli("execute", "--yes", "--json", "--targets", targets_file(tmp_path))
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["outcome"] == "completed"
    assert (
        "top-up skipped: the broker's positions do not show this run's fills yet"
        in (doc["message"])
    ), doc["message"]
    assert "WARNING" not in run.stderr  # a normal reason: a quiet note, not a cron mail
    assert [o["topup"] for o in doc["orders"]] == [False, False]
    assert above_target(fake.sim, TARGETS) == {}
    planned = {o["symbol"]: Decimal(o["planned_qty"]) for o in doc["orders"]}
    assert bought(fake.sim) == planned  # each bought once


def test_positions_that_catch_up_let_the_round_buy_the_rest_up_to_the_targets(
    fake: FakeAlpaca, cli: CliFn, tmp_path: Path
) -> None:
    """60/40 of all the cash: buys sized at their collar limits leave ~$496, which the
    round buys once the broker's positions show the fills (three reads later)."""
    fake.lag_positions(reads=3)
    a_cent_later(fake)
    full = {"VTI": Decimal("0.6"), "BND": Decimal("0.4")}
    targets = targets_file(tmp_path, full)
    run = cli("execute", "--yes", "--json", "--targets", targets)
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert "top-up round: 1 buy(s)" in doc["message"], (doc["message"], run.stderr)
    assert [o["symbol"] for o in doc["orders"] if o["topup"]] == ["VTI"]
    assert above_target(fake.sim, full) == {}
    fake.lag = None  # a plan made right after the run, on the account as it is
    again = cli("plan", "--json", "--targets", targets).json()
    traded = sum((Decimal(o["est_value"]) for o in again["orders"]), Decimal(0))
    assert traded < Decimal(again["account"]["equity"]) * Decimal("0.001"), (doc, run.stderr)


def test_the_round_spends_only_the_cash_this_runs_fills_left(
    fake: FakeAlpaca, cli: CliFn, tmp_path: Path
) -> None:
    """The account view says 100,000 of cash (it lags), the broker agrees on positions
    (they caught up): the round may spend what the run's fills left, not the stale cash."""
    lag = fake.lag_positions(reads=10**6)
    a_cent_later(fake)

    def positions_catch_up() -> None:  # positions agree, but the account keeps lagging
        lag.lagging = frozenset({"account"})

    fake.after("POST", "/v2/orders", positions_catch_up, count=2)
    run = cli("execute", "--yes", "--json", "--targets", targets_file(tmp_path))
    assert run.exit_code == 0, run.stderr
    spent = sum(
        (Decimal(o["filled_qty"]) * Decimal(o["avg_price"] or 0) for o in run.json()["orders"]
         if o["topup"] and o["side"] == Side.BUY.value),
        Decimal(0),
    )  # fmt: skip
    assert spent < Decimal(1000)  # the collar's leftover of ~50,000 spent, not 50,000 more
    assert above_target(fake.sim, TARGETS) == {}


# -- every source of targets; normal skips are quiet ----------------------------------

ALL_CASH = """account_id = "CASH-1"
cash = "100000"
[quotes.VTI]
bid = "250.00"
ask = "250.10"
[quotes.BND]
bid = "72.50"
ask = "72.52"
"""
SIXTY_FORTY = (
    '(defsymphony "Sixty forty" {} (weight-specified 0.6 (asset "VTI") 0.4 (asset "BND")))\n'
)


@pytest.fixture
def all_cash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed = tmp_path / "cash.toml"
    seed.write_text(ALL_CASH, encoding="utf-8")
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    return seed


def test_the_round_runs_after_execute_with_a_strategy(
    cli: CliFn, all_cash: Path, tmp_path: Path
) -> None:
    strategy = tmp_path / "sixty-forty.clj"
    strategy.write_text(SIXTY_FORTY, encoding="utf-8")
    run = cli("execute", "--yes", "--json", "--strategy", str(strategy))
    assert run.exit_code == 0, run.stderr
    message = run.json()["message"]
    assert "give either --targets or --strategy" not in message
    assert "top-up round: 1 buy(s)" in message, message


def test_after_sells_of_symbols_bought_today_good_faith_no_longer_blocks_the_round(
    cli: CliFn,
) -> None:
    """The demo account sells AAPL and VTI and buys BND and VXUS; the round's fresh plan
    holds a few dollars of sells of BND and VXUS (bought today), which it never sends.
    Good faith blocked the round for them, with a stderr WARNING cron mailed."""
    run = cli("execute", "--yes", "--targets", str(EXAMPLES / "targets" / "three-fund.toml"))
    assert run.exit_code == 0, run.stderr
    assert "good_faith" not in run.stdout
    assert "WARNING" not in run.stderr, run.stderr


# -- the pure arithmetic (executor/topup.py) ----------------------------------------------


def leg(n: int, symbol: str, side: Side, qty: str, price: str) -> OrderResult:
    return OrderResult(n, f"c{n}", symbol, side, D(qty), D(qty), D(price), LegStatus.FILLED,
                       filled_qty=D(qty), avg_price=D(price))  # fmt: skip


def test_the_run_knows_its_positions_and_cash_from_its_own_fills() -> None:
    quotes = {"AAA": ("99.9", "100.1"), "BBB": ("49.9", "50.1"), "CCC": ("9.9", "10.1")}
    snap = make_snapshot("1000", {"AAA": "10", "BBB": "5"}, quotes)
    plan = build_plan(snap, Targets({"BBB": D("0.5"), "CCC": D("0.5")}, "t"), PlannerPolicy(), NOW)
    sell = next(o for o in plan.orders if o.side is Side.SELL)
    known = known_after(plan, [leg(sell.leg, "AAA", Side.SELL, "10", "99.9"),
                               leg(9, "CCC", Side.BUY, "70", "10.1")])  # fmt: skip
    assert known.positions == {"BBB": D(5), "CCC": D(70)}  # AAA sold out: left out
    assert known.cash == D(1000) + D("999") - sell.fees - D("707")
    assert disagreement(known.positions, {"BBB": D(5), "CCC": D(70)}) is None
    assert disagreement(known.positions, {"AAA": D(10), "BBB": D(5)}) == (
        "AAA: 10 at the broker, 0 after this run's fills; "
        "CCC: 0 at the broker, 70 after this run's fills"
    )


def test_a_buy_rounded_up_past_its_target_is_cut_to_it() -> None:
    """Whole shares round to the nearest: a $500 goal in a $300 share is 2 shares ($600),
    past the target; the round buys 1."""
    snap = make_snapshot("1000", {}, {"WHL": ("299.9", "300.1")}, non_fractionable=("WHL",))
    fresh = build_plan(snap, Targets({"WHL": D("0.5")}, "t"), PlannerPolicy(), NOW)
    assert [(o.symbol, o.qty) for o in fresh.orders] == [("WHL", D(2))]
    kept, notes = capped_buys(fresh, {}, snap.assets)
    assert [(o.symbol, o.qty) for o in kept] == [("WHL", D(1))]
    assert notes == ["WHL: cut to 1 to stay within its target"]
    kept, notes = capped_buys(fresh, {"WHL": D(2)}, snap.assets)
    assert (kept, notes) == ([], ["WHL: already at its target"])


def test_a_plan_right_after_a_run_with_sells_trades_under_a_tenth_of_a_percent(
    cli: CliFn, tmp_path: Path
) -> None:
    """The demo account sells AAPL and VTI, buys BND and VXUS. The buys, sized at their
    collar limits, leave ~$250; the fresh top-up plan also holds $1-3 sells (the spread
    the run paid leaves every position a few dollars over its target share of the smaller
    equity), and good faith blocked the whole round for those sells it never sends: the
    next plan then bought $257.59 (0.32% of equity)."""
    targets = tmp_path / "full.csv"
    targets.write_text("VTI,0.5\nBND,0.3\nVXUS,0.2\n", encoding="utf-8")
    run = cli("execute", "--yes", "--json", "--targets", str(targets))
    assert run.exit_code == 0, run.stderr
    assert "top-up round: 1 buy(s)" in run.json()["message"], run.json()["message"]
    again = cli("plan", "--json", "--targets", str(targets)).json()
    traded = sum((Decimal(o["est_value"]) for o in again["orders"]), Decimal(0))
    assert traded < Decimal(again["account"]["equity"]) * Decimal("0.001"), again["orders"]
