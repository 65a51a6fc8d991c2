"""Execution lands on target (issue 15): after the buys fill, the cash left is re-deployed
in one bounded top-up round, planned afresh and re-checked, under ids of its own."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.app.check import RunOptions
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.topup import top_up_planner
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.policy import ExecutionPolicy, Limits
from alchemiser_cli.core.results import Outcome
from alchemiser_cli.executor import Executor, RunKnowledge, client_order_id
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import Settings
from tests.conftest import FileMaker, Run
from tests.test_executor import NOW, plan_for

CliFn = Callable[..., Run]

# 60/40 from $100,000 of cash, as in the issue: buys are sized at their collar limit
# (ask + 0.5%) and fill at the ask, so without a top-up about $496 stays in cash.
ALL_CASH = """account_id = "CASH-1"
cash = "100000"
[quotes.VTI]
bid = "250.00"
ask = "250.10"
[quotes.BND]
bid = "72.50"
ask = "72.52"
"""
SIXTY_FORTY = "VTI,0.6\nBND,0.4\n"


@pytest.fixture
def all_cash(make_file: FileMaker, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed = make_file("cash.toml", ALL_CASH)
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    return seed


def _planned_value(doc: dict[str, object]) -> Decimal:
    orders = doc["orders"]
    assert isinstance(orders, list)
    return sum((Decimal(o["est_value"]) for o in orders), Decimal(0))


def test_execute_from_all_cash_then_plan_is_below_five_bps_of_equity(
    cli: CliFn, all_cash: Path
) -> None:
    targets = all_cash.parent / "sixty-forty.csv"
    targets.write_text(SIXTY_FORTY, encoding="utf-8")
    run = cli("execute", "--yes", "--json", "--targets", str(targets))
    assert run.exit_code == 0, run.stderr
    assert run.json()["outcome"] == "completed"

    again = cli("plan", "--json", "--targets", str(targets)).json()
    equity = Decimal(again["account"]["equity"])
    # Before the top-up the re-plan traded $507.34 (buy $500.38, sell $6.96): 0.51% of equity.
    assert _planned_value(again) < equity * Decimal("0.0005")
    assert _planned_value(again) == Decimal("16.37")
    assert (equity, again["account"]["cash"]) == (Decimal("99982.49"), "2.47")


def test_the_execute_document_reports_the_top_up_leg(cli: CliFn, all_cash: Path) -> None:
    targets = all_cash.parent / "sixty-forty.csv"
    targets.write_text(SIXTY_FORTY, encoding="utf-8")
    report = cli("execute", "--yes", "--json", "--targets", str(targets)).json()
    assert report["message"] == (
        "all 2 orders filled; top-up round: 1 buy(s) for the $495.97 left, 1 filled, bought $493.50"
    )
    assert report["topup"] == report["message"].split("; ", 1)[1]
    legs = [(o["leg"], o["side"], o["symbol"], o["status"], o["topup"]) for o in report["orders"]]
    assert legs == [
        (1, "buy", "BND", "filled", False),
        (2, "buy", "VTI", "filled", False),
        (3, "buy", "VTI", "filled", True),
    ]
    top = report["orders"][2]
    assert top["client_order_id"] == f"alch-{report['plan_id']}-003-01-01-t"
    assert top["filled_qty"] == "1.973212377"


def test_the_human_report_marks_the_top_up_leg(cli: CliFn, all_cash: Path) -> None:
    targets = all_cash.parent / "sixty-forty.csv"
    targets.write_text(SIXTY_FORTY, encoding="utf-8")
    run = cli("execute", "--yes", "--targets", str(targets))
    assert run.exit_code == 0, run.stderr
    assert "│ 3 top-up │ buy  │ VTI" in run.stdout
    assert (
        "Outcome: completed - all 2 orders filled; top-up round: 1 buy(s) for the $495.97 "
        "left, 1 filled, bought $493.50"
    ) in run.stdout


def test_a_blocking_check_on_fresh_state_skips_the_round_and_says_so(
    make_file: FileMaker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's top-up planner runs every check on the round's buys: with today's fills
    counted, a round past the daily notional is not planned; the executor says why, as a
    note (INFO), never a warning."""
    broker = SimBroker(tmp_path / "s.sqlite", make_file("s.toml", ALL_CASH), FixedClock(NOW))
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("run", "execute", "sim", "CASH-1", None, None, NOW)
    plan = plan_for(broker, "50", VTI="0.6", BND="0.4")
    # the plan itself is within the limit; the round, after $99,504 of fills, is not
    allowed = Limits(max_daily_notional=Decimal(99_600))
    strict = Runtime(Settings(limits=allowed), broker, journal, broker._clock)
    caplog.set_level("INFO")
    result = Executor(broker, journal, broker._clock, ExecutionPolicy()).run(
        plan, "run", Decimal(0), topup=top_up_planner(strict, RunOptions())
    )
    assert result.outcome is Outcome.COMPLETED
    assert result.message == (
        "all 2 orders filled; top-up skipped: blocked by limits.daily_notional"
    )
    assert [o.topup for o in result.orders] == [False, False]
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_run_that_did_not_fill_everything_gets_no_top_up(
    make_file: FileMaker, tmp_path: Path
) -> None:
    broker = SimBroker(tmp_path / "s.sqlite", make_file("s.toml", ALL_CASH), FixedClock(NOW))
    broker.script("VTI", "hold")
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("run", "execute", "sim", "CASH-1", None, None, NOW)
    plan = plan_for(broker, "50", VTI="0.6", BND="0.4")
    asked: list[Plan] = []

    def topup(done: Plan, known: RunKnowledge) -> Plan | str:
        asked.append(done)
        return "never asked"

    policy = ExecutionPolicy(max_repegs=0, fill_timeout_s=5)
    result = Executor(broker, journal, broker._clock, policy).run(
        plan, "run", Decimal(0), topup=topup
    )
    assert result.outcome is Outcome.INCOMPLETE
    assert result.message == "1 of 2 orders did not complete as planned"
    assert result.topup == "no top-up: not every planned order filled"
    assert asked == []
    assert [r.topup for r in result.orders] == [False, False]


def test_the_round_sends_only_buys_within_the_cash_under_top_up_ids(
    make_file: FileMaker, tmp_path: Path
) -> None:
    broker = SimBroker(tmp_path / "s.sqlite", make_file("s.toml", ALL_CASH), FixedClock(NOW))
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("run", "execute", "sim", "CASH-1", None, None, NOW)
    plan = plan_for(broker, "50", VTI="0.6", BND="0.4")
    fresh: list[Plan] = []

    def topup(done: Plan, known: RunKnowledge) -> Plan | str:
        assert done is plan
        fresh.append(plan_for(broker, "50", VTI="0.6", BND="0.4"))
        return fresh[0]

    result = Executor(broker, journal, broker._clock, ExecutionPolicy()).run(
        plan, "run", Decimal(0), topup=topup
    )
    assert result.outcome is Outcome.COMPLETED
    (sells,) = [[o for o in fresh[0].orders if o.side is Side.SELL]]
    assert [o.symbol for o in sells] == ["BND"]  # planned, but the round only buys
    top = [r for r in result.orders if r.topup]
    assert [(r.leg, r.side, r.symbol) for r in top] == [(3, Side.BUY, "VTI")]
    ids = {o.client_order_id for o in journal.orders_for_run("run")}
    assert client_order_id(plan.plan_id, 3, topup=True) in ids
    assert broker.account().cash >= Decimal(0)
    assert broker.account().cash < Decimal(5)


def test_top_up_ids_never_collide_with_the_plans() -> None:
    assert client_order_id("p", 3, topup=True) == "alch-p-003-01-01-t"
    assert client_order_id("p", 3, 1, 1, 2, topup=True) == "alch-p-003-01-01-t-p2"
    plan_ids = {client_order_id("p", leg, s, a, peg) for leg in range(1, 5) for s in (1, 2)
                for a in (1, 2) for peg in range(3)}  # fmt: skip
    assert all("-t" not in cid for cid in plan_ids)


def test_an_unfilled_top_up_is_cancelled_within_the_run_deadline(
    make_file: FileMaker, tmp_path: Path
) -> None:
    broker = SimBroker(tmp_path / "s.sqlite", make_file("s.toml", ALL_CASH), FixedClock(NOW))
    journal = Journal(tmp_path / "j.sqlite")
    journal.start_run("run", "execute", "sim", "CASH-1", None, None, NOW)
    plan = plan_for(broker, "50", VTI="0.6", BND="0.4")

    def topup(done: Plan, known: RunKnowledge) -> Plan | str:
        broker.script("VTI", "hold")  # the top-up's buy never fills
        return plan_for(broker, "50", VTI="0.6", BND="0.4")

    policy = ExecutionPolicy(max_repegs=0, fill_timeout_s=20, deadline_s=600)
    start = broker._clock.now()
    result = Executor(broker, journal, broker._clock, policy).run(
        plan, "run", Decimal(0), topup=topup
    )
    assert result.outcome is Outcome.COMPLETED  # the plan's legs decide the outcome
    assert result.message == (
        "all 2 orders filled; top-up round: 1 buy(s) for the $495.97 left, 0 filled, bought $0.00"
    )
    (top,) = [r for r in result.orders if r.topup]
    assert (top.leg, top.status, top.filled_qty) == (3, "canceled", Decimal(0))
    assert (broker._clock.now() - start).total_seconds() <= 600
    assert broker.open_orders() == []
