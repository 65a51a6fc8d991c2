"""The simulator serves the real symphonies: every shared strategy planned and executed on
the demo account with neither a seed file nor ALCH_SIM_BARS (synthetic bars and quotes,
labelled), a strategy over the shared closes with ALCH_SIM_BARS, and a week of cron runs."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.conftest import REPO, SHARED, Run
from tests.test_strategy_indicators import US_DAILY

CliFn = Callable[..., Run]
SYMPHONIES = sorted(p.name for p in (SHARED / "strategies").glob("*.clj"))
WEEK = ("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04")


def noisy(stderr: str) -> list[str]:
    """Lines cron would mail as a problem."""
    return [ln for ln in stderr.splitlines() if "WARNING" in ln or "error" in ln.lower()]


@pytest.mark.shared
def test_seven_shared_symphonies_are_found() -> None:
    assert len(SYMPHONIES) == 7, SYMPHONIES


@pytest.mark.shared
@pytest.mark.parametrize("name", SYMPHONIES or ["none"])
def test_every_shared_symphony_is_planned_and_executed_on_synthetic_prices(
    cli: CliFn, name: str
) -> None:
    strategy = str(SHARED / "strategies" / name)
    plan = cli("plan", "--strategy", strategy, "--json")
    assert plan.exit_code == 0, plan.stderr
    doc = plan.json()
    assert doc["signal"]["synthetic_bars"] is True
    held = {s for s, w in doc["targets"].items() if Decimal(w) > 0}
    seeded = {"VTI", "VXUS", "BND", "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "JPM"}
    assert held - seeded <= set(doc["synthetic_prices"])  # every made-up price is labelled
    assert "SYNTHETIC PRICES" in cli("plan", "--strategy", strategy).stdout or not (held - seeded)
    run = cli("execute", "--yes", "--strategy", strategy, "--json")
    assert run.exit_code == 0, run.stderr
    report = run.json()
    assert report["outcome"] == "completed", report["message"]
    bought = {o["symbol"] for o in report["orders"] if o["side"] == "buy" and not o["topup"]}
    assert bought, "the run sent the strategy's buys"
    assert {o["status"] for o in report["orders"] if not o["topup"]} == {"filled"}


@pytest.mark.shared
def test_a_strategy_over_the_shared_closes_is_planned_and_executed_with_sim_bars(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    monkeypatch.setenv("ALCH_SIM_NOW", "2022-12-28T15:00:00Z")  # the closes' last session
    strategy = str(REPO / "examples" / "strategies" / "sector-groups.clj")
    plan = cli("plan", "--strategy", strategy, "--json")
    assert plan.exit_code == 0, plan.stderr
    doc = plan.json()
    assert (doc["signal"]["synthetic_bars"], doc["synthetic_prices"]) == (False, [])
    assert doc["signal"]["as_of"] == "2022-12-27"  # decided on the last closed session
    aapl = doc["prices"]["AAPL"]  # the demo holds AAPL: quoted at its 2022-12-28 close
    assert (aapl["bid"], aapl["ask"], aapl["ref"]) == ("125.64", "125.71", "125.675")
    run = cli("execute", "--yes", "--strategy", strategy, "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["outcome"] == "completed", run.json()["message"]


@pytest.mark.shared
def test_a_week_of_cron_runs_of_a_strategy_is_quiet_and_exits_0(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = str(SHARED / "strategies" / "tqqq_ftlt.clj")
    for day in WEEK:
        monkeypatch.setenv("ALCH_SIM_NOW", f"{day}T20:00:00Z")  # 15:00 New York
        run = cli("execute", "--yes", "--strategy", strategy)
        assert run.exit_code == 0, f"{day}: {run.stderr}"
        assert noisy(run.stderr) == [], f"{day}: {run.stderr}"
