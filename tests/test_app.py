"""The service layer as a library (issue 14): one snapshot per check, the typed reader of
journaled reports, the core's valuation that `status` shows, one exit-code mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.app.check import check_plan
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli.errors import Finished, exit_code_for_result
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import Fill
from alchemiser_cli.core.planner_value import value_account
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.results import Outcome
from alchemiser_cli.documents.journaled import read_report
from alchemiser_cli.errors import ExitCode
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import Settings
from tests.conftest import DEMO_ACCOUNT, OPEN_NOW, Run

D = Decimal


class CountsSnapshots(SimBroker):
    """Counts the reads only a snapshot makes (today's fills)."""

    reads = 0

    def fills_since(self, since: datetime) -> list[Fill]:
        self.reads += 1
        return super().fills_since(since)


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    clock = FixedClock(datetime.fromisoformat(OPEN_NOW))
    broker = CountsSnapshots(tmp_path / "sim.sqlite", DEMO_ACCOUNT, clock)
    journal = Journal(tmp_path / "journal.sqlite")
    yield Runtime(Settings(), broker, journal, clock)
    journal.close()
    broker.close()


def test_a_fresh_check_reads_the_account_once_for_plan_and_checks(runtime: Runtime) -> None:
    outcome = check_plan(runtime, None, None)
    assert isinstance(runtime.broker, CountsSnapshots)
    assert runtime.broker.reads == 1
    assert outcome.plan.orders  # the demo account is off its demo targets
    assert not outcome.report.blocked


def test_a_saved_plan_is_checked_against_one_fresh_snapshot(runtime: Runtime) -> None:
    plan = check_plan(runtime, None, None).plan
    assert isinstance(runtime.broker, CountsSnapshots)
    runtime.broker.reads = 0
    check_plan(runtime, plan, None)
    assert runtime.broker.reads == 1


def test_the_reader_takes_an_older_report_with_numbers_and_unknown_fields() -> None:
    report = read_report(
        {
            "run_id": "r1",
            "note": "kept",
            "filled_buy_value": 12,
            "orders": [
                {"leg": 1, "symbol": "VTI", "filled_qty": 3, "avg_price": "100.5", "x": 1},
                {"symbol": "no leg number"},
            ],
        }
    )
    assert (report.run_id, report.filled_buy_value, report.filled_sell_value) == ("r1", "12", None)
    first = report.orders[0]
    assert (first.leg, first.filled_qty, first.avg_price, first.status) == (1, "3", "100.5", None)
    assert report.as_json(report.orders[:1]) == {
        "run_id": "r1",
        "note": "kept",
        "filled_buy_value": "12",
        "orders": [{"leg": 1, "symbol": "VTI", "filled_qty": "3", "avg_price": "100.5", "x": 1}],
    }


@pytest.mark.parametrize("stored", [None, {}, {"orders": "not a list"}, {"orders": [{"leg": "x"}]}])
def test_a_missing_or_unreadable_report_reads_as_empty(stored: dict[str, object] | None) -> None:
    report = read_report(stored)
    assert (report.run_id, report.orders) == (None, [])
    assert report.as_json([]) == {"orders": []}


def test_valuation_weighs_against_the_plans_investable_base() -> None:
    policy = PlannerPolicy(
        cash_reserve=D(100), cash_reserve_pct=D(0), keep=["KEEP"], band_abs=D("0.05")
    )
    valued = value_account(
        {"VTI": D(6), "KEEP": D(1)},
        {"VTI": D(100), "KEEP": D(200), "BND": None},
        cash=D(200),
        weights={"VTI": D("0.5"), "BND": D("0.5")},
        policy=policy,
    )
    # equity 600 + 200 + 200 = 1000; base = 1000 - 200 kept - 100 reserve = 700
    assert (valued.equity, valued.base) == (D(1000), D(700))
    rows = {h.symbol: h for h in valued.holdings}
    assert list(rows) == ["BND", "KEEP", "VTI"]
    vti = rows["VTI"]
    assert (vti.value, vti.weight.quantize(D("0.0001")), vti.band) == (
        D(600),
        D("0.8571"),
        D("0.05"),
    )
    assert (vti.drift is not None and vti.drift.quantize(D("0.0001"))) == D("0.3571")
    assert vti.in_band is False
    assert (rows["KEEP"].target_weight, rows["KEEP"].drift) == (None, None)
    bnd = rows["BND"]
    assert (bnd.qty, bnd.price, bnd.value, bnd.weight) == (D(0), None, D(0), D(0))
    assert bnd.drift == D("-0.5")


@pytest.mark.parametrize(
    ("result", "code"),
    [
        (None, ExitCode.OK),
        (Finished(blocked=False), ExitCode.OK),
        (Finished(blocked=True), ExitCode.CHECK_BLOCKED),
        (Finished(outcome=Outcome.DECLINED), ExitCode.OK),
        (Finished(outcome=Outcome.INCOMPLETE), ExitCode.INCOMPLETE),
        (Finished(outcome=Outcome.INTERRUPTED, stopped_by="SIGTERM"), ExitCode.TERMINATED),
        (Finished(outcome=Outcome.INTERRUPTED), ExitCode.INTERRUPTED),
    ],
)
def test_one_mapping_from_outcomes_to_exit_codes(result: object, code: ExitCode) -> None:
    assert exit_code_for_result(result) is code


def test_plan_and_status_weigh_the_account_alike(
    cli: Callable[..., Run], sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_REL", "0.25")
    monkeypatch.setenv("ALCH_PLANNER__CASH_RESERVE", "500")
    planned = cli("plan", "--json").json()
    shown = cli("status", "--json").json()
    assert shown["targets_source"] == planned["targets_source"] == "demo targets"
    by_plan = {
        p["symbol"]: (p["current_weight"], p["target_weight"], p["drift"], p["band"])
        for p in planned["positions"]
    }
    by_status = {
        p["symbol"]: (p["weight"], p["target_weight"], p["drift"], p["band"])
        for p in shown["positions"]
    }
    assert by_status == by_plan
    assert len(by_plan) == 4
