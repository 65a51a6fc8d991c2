"""`alch backtest --replay-journal` (issue 18, must-show 4): live runs journaled by the
simulator held against the backtest's day; and the pure comparison on hand numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core.backtest_replay import LiveOrder, LiveRun, replay_run
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.policy import PlannerPolicy
from tests.conftest import REPO, Run

CliFn = Callable[..., Run]
SIXTY_FORTY = str(REPO / "examples" / "targets" / "sixty-forty.toml")
THREE_FUND = str(REPO / "examples" / "targets" / "three-fund.toml")
FREE = PlannerPolicy(collar_bps=Decimal(0), sec_fee_rate=Decimal(0), finra_taf_per_share=Decimal(0))


def _run(orders: tuple[LiveOrder, ...], targets: dict[str, Decimal]) -> LiveRun:
    return LiveRun(
        run_id="r1",
        day=date(2024, 1, 2),
        at=datetime(2024, 1, 2, 15, tzinfo=UTC),
        outcome="completed",
        targets=targets,
        holdings={},
        cash=Decimal(1000),
        orders=orders,
    )


def test_a_live_run_that_did_what_the_backtest_would_has_no_differences() -> None:
    buy = LiveOrder("AAA", Side.BUY, Decimal(100), Decimal(100), Decimal(10))
    run = _run((buy,), {"AAA": Decimal(1)})
    replay = replay_run(run, {"AAA": Decimal(1)}, {"AAA": Decimal(10)}, FREE, Decimal(0))
    assert replay.differences == ()


def test_signal_order_and_fill_differences_are_named_with_their_figures() -> None:
    buy = LiveOrder("AAA", Side.BUY, Decimal(50), Decimal(50), Decimal("10.05"))
    run = _run((buy,), {"AAA": Decimal("0.5")})
    replay = replay_run(run, {"AAA": Decimal(1)}, {"AAA": Decimal(10)}, FREE, Decimal(0))
    assert [(d.kind, d.symbol, d.live, d.backtest, d.note) for d in replay.differences] == [
        ("signal", "AAA", "50.00%", "100.00%", "target weight differs"),
        ("order", "AAA", "buy 50", "buy 100", "quantity differs"),
        ("fill", "AAA", "10.05 (+50.0 bps)", "10 (+0.0 bps)",
         "slippage +50.0 bps against the model"),
    ]  # fmt: skip


def test_replay_journal_names_the_differences_of_simulated_live_runs(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        monkeypatch.setenv("ALCH_SIM_NOW", f"{day}T15:00:00+00:00")
        run = cli("-q", "execute", "--yes", "--targets", SIXTY_FORTY)
        assert run.exit_code == 0, run.stderr
    same = cli("backtest", "--replay-journal", "--json")
    assert same.exit_code == 0, same.stderr
    runs = same.json()["runs"]
    assert [(r["date"], r["outcome"]) for r in runs] == [
        ("2026-11-23", "completed"),
        ("2026-11-24", "completed"),
    ]  # fmt: skip (the third run, nothing_to_do, sent nothing: not replayed)
    # The simulator quotes its seed prices, the backtest models synthetic closes: every
    # filled order's price differs from the model, and so do the orders sized from them.
    first = {(d["kind"], d["symbol"]) for d in runs[0]["differences"]}
    assert {("fill", "VTI"), ("fill", "BND"), ("order", "VTI")} <= first
    assert not any(d["kind"] == "signal" for r in runs for d in r["differences"])
    vti_fill = next(
        d for d in runs[0]["differences"] if d["kind"] == "fill" and d["symbol"] == "VTI"
    )
    assert vti_fill["live"].startswith("330.1 (")
    assert vti_fill["note"].startswith("slippage ")
    assert vti_fill["note"].endswith(" bps against the model")
    other = cli("backtest", "--replay-journal", "--runs", "1", "--targets", THREE_FUND, "--json")
    assert other.exit_code == 0, other.stderr
    (only,) = other.json()["runs"]
    signals = {
        d["symbol"]: (d["live"], d["backtest"])
        for d in only["differences"]
        if d["kind"] == "signal"
    }
    assert signals == {
        "BND": ("40.00%", "25.00%"), "VTI": ("60.00%", "50.00%"), "VXUS": ("0.00%", "20.00%"),
    }  # fmt: skip
    strategy = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
    decided = cli("backtest", "--replay-journal", "--runs", "1", "--strategy", strategy, "--json")
    assert decided.exit_code == 0, decided.stderr
    (signal_run,) = decided.json()["runs"]
    moved = {d["symbol"]: d["live"] for d in signal_run["differences"] if d["kind"] == "signal"}
    assert (moved["VTI"], moved["BND"]) == ("60.00%", "40.00%")  # the strategy holds neither
    table = cli("backtest", "--replay-journal", "--runs", "1")
    assert table.exit_code == 0, table.stderr
    assert "(completed)" in table.stdout
    assert "differs" in table.stdout


def test_replay_journal_without_runs_says_what_to_do(cli: CliFn) -> None:
    run = cli("backtest", "--replay-journal")
    assert run.exit_code == 2
    assert (
        "the journal has no executed run that sent orders to replay: run `alch execute` first"
        in run.stderr
    )
