"""`alch execute` from the command line: confirmation, fills, re-pegs, locks, slices, deadlines."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import filelock
import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli import common
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, Side
from tests.conftest import Run, plan_json

CliFn = Callable[..., Run]


def test_execute_without_yes_and_without_a_tty_refuses_and_sends_nothing(
    cli: CliFn, sim: SimBroker, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text(plan_json(cli), encoding="utf-8")
    result = cli("execute", str(saved))  # stdin is no terminal (CliRunner's)
    assert result.exit_code == 2
    assert result.stderr == (
        "alch: error: execute needs confirmation: run it in a terminal, or pass --yes to send "
        "without asking (nothing was sent)\n"
    )
    assert sim.submissions() == []


def test_plan_piped_into_execute_trades_and_status_shows_it(cli: CliFn, sim: SimBroker) -> None:
    result = cli("execute", "-", "--yes", "--json", input=plan_json(cli))
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "completed"
    assert [o["status"] for o in report["orders"]] == ["filled"] * 4
    assert report["orders"][0]["client_order_id"].endswith("-001-01-01")
    assert len(sim.submissions()) == 4

    status = cli("status", "--json")
    assert status.exit_code == 0
    doc = status.json()
    assert doc["runs"][0]["run_id"] == report["run_id"]
    assert doc["runs"][0]["outcome"] == "completed"
    assert doc["runs"][0]["orders"] == 4
    held = {p["symbol"]: p for p in doc["positions"]}
    assert set(held) == {"BND", "VTI", "VXUS"}  # AAPL sold, VXUS bought
    assert held["VXUS"]["target_weight"] == "0.2"
    assert Decimal(held["VXUS"]["drift"]).copy_abs() < Decimal("0.001")
    assert doc["open_orders"] == []


def test_execute_human_output_and_a_second_run_has_nothing_to_do(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.01")
    first = cli("execute", "--yes")
    assert first.exit_code == 0
    assert "Outcome: completed - all 4 orders filled" in first.stdout
    second = cli("execute", "--yes", "--force")  # past the once-a-day guard: at target
    assert second.exit_code == 0
    assert "Outcome: nothing_to_do - nothing to do: the account is at its targets" in second.stdout
    assert len(sim.submissions()) == 4


def test_the_same_saved_plan_twice_is_blocked_then_forced_with_new_ids(
    cli: CliFn, sim: SimBroker
) -> None:
    saved = plan_json(cli)
    assert cli("execute", "-", "--yes", input=saved).exit_code == 0
    again = cli("execute", "-", "--yes", "--json", input=saved)
    assert again.exit_code == 1
    assert again.json()["outcome"] == "blocked"
    assert "plan.already_executed" in again.json()["message"]
    assert len(sim.submissions()) == 4


def test_interactive_confirmation_defaults_to_no(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "stdin_is_tty", lambda: True)
    declined = cli("execute", input="\n")
    assert declined.exit_code == 0
    assert "Send 4 order(s) to sim account SIM-DEMO-0001? [y/N]" in declined.stderr
    assert "Outcome: declined - not confirmed; nothing sent" in declined.stdout
    assert sim.submissions() == []
    accepted = cli("execute", input="y\n")
    assert accepted.exit_code == 0
    assert len(sim.submissions()) == 4


def test_partial_fill_is_repegged_for_the_rest_and_completes(cli: CliFn, sim: SimBroker) -> None:
    sim.script("VXUS", "partial", Decimal("100"))
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    vxus = next(o for o in report["orders"] if o["symbol"] == "VXUS")
    assert (vxus["status"], vxus["filled_qty"], vxus["repegs"]) == (
        "filled",
        vxus["planned_qty"],
        1,
    )
    (only,) = vxus["slices"]
    first, second = only["client_order_ids"]
    assert second == first + "-p1"
    assert Decimal(only["limit_prices"][1]) >= Decimal(only["limit_prices"][0])
    assert Decimal(only["limit_prices"][1]) <= Decimal(vxus["limit_price"])
    assert sim.submissions().count(first) == 1
    assert sim.open_orders() == []


def test_repegs_stop_at_the_bound_then_cancel_and_exit_4(cli: CliFn, sim: SimBroker) -> None:
    sim.script("VXUS", "partial", Decimal("100"))
    for _ in range(3):
        sim.script("VXUS", "hold")
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    vxus = next(o for o in report["orders"] if o["symbol"] == "VXUS")
    assert (vxus["status"], vxus["filled_qty"], vxus["repegs"]) == ("partially_filled", "100", 3)
    (only,) = vxus["slices"]
    assert len(only["client_order_ids"]) == 4  # the first send and 3 re-pegs, no more
    prices = [Decimal(p) for p in only["limit_prices"]]
    assert prices == sorted(prices)
    assert prices[-1] == Decimal(vxus["limit_price"])
    assert report["message"] == "1 of 4 orders did not complete as planned"
    assert sim.open_orders() == []


def test_rejected_order_is_reported_not_hidden(cli: CliFn, sim: SimBroker) -> None:
    sim.script("BND", "reject")
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    bnd = next(o for o in result.json()["orders"] if o["symbol"] == "BND")
    assert bnd["status"] == "rejected"
    status = cli("status", "--json").json()
    assert status["runs"][0]["outcome"] == "incomplete"


def test_second_execute_on_a_locked_account_exits_5_and_sends_nothing(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    locks = isolated_state / "locks"
    locks.mkdir(parents=True)
    with filelock.FileLock(locks / "sim-SIM-DEMO-0001.lock"):
        result = cli("execute", "--yes")
    assert result.exit_code == 5
    assert result.stderr.startswith("alch: error: another alch run holds account SIM-DEMO-0001")
    assert sim.submissions() == []


def test_large_orders_are_sliced_and_the_report_shows_each_slice(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_EXECUTION__SLICE_NOTIONAL", "5000")
    result = cli("execute", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "re-pegs" in result.stdout
    assert "Slices" in result.stdout
    report = cli("status", "--json").json()["runs"][0]
    assert report["outcome"] == "completed"
    sent = sim.submissions()
    # AAPL $10.6k -> 3 slices, VTI $9.0k -> 2, BND $11.4k -> 3, VXUS $16.2k -> 4.
    assert len(sent) == 12
    assert len(set(sent)) == 12
    assert sum(cid.startswith(f"alch-{report['plan_id']}-001-") for cid in sent) == 3


def test_buys_refused_for_insufficient_buying_power_are_reported_and_exit_4(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another app takes the cash between the sells and the buys: the broker refuses them."""
    real_submit = SimBroker.submit_order
    outside = OrderRequest("other-app-1", "VTI", Side.BUY, Decimal(80), Decimal(330))

    def submit(self: SimBroker, request: OrderRequest) -> BrokerOrder:
        if request.side is Side.BUY and not any(c == "other-app-1" for c in self.submissions()):
            self.script("VTI", "hold")
            real_submit(self, outside)  # rests, holding $26,400 of buying power
        return real_submit(self, request)

    monkeypatch.setattr(SimBroker, "submit_order", submit)
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    assert report["message"] == "2 of 4 orders did not complete as planned"
    by_symbol = {o["symbol"]: o for o in report["orders"]}
    assert [by_symbol[s]["status"] for s in ("AAPL", "VTI")] == ["filled", "filled"]
    for buy in ("BND", "VXUS"):
        assert by_symbol[buy]["status"] == "send_failed"
        assert by_symbol[buy]["filled_qty"] == "0"
        assert by_symbol[buy]["error"].startswith(f"insufficient buying power: {buy} needs")
    assert report["filled_buy_value"] == "0"
    ours = [c for c in sim.submissions() if c.startswith("alch-")]
    assert len(ours) == len(set(ours)) == 4  # each refused buy was tried once, not retried


def test_deadline_flag_cancels_what_is_left_and_exits_4(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.script("AAPL", "hold")
    monkeypatch.setenv("ALCH_EXECUTION__FILL_TIMEOUT_S", "600")
    monkeypatch.setenv("ALCH_EXECUTION__MAX_REPEGS", "0")
    result = cli("execute", "--yes", "--json", "--deadline", "2m")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    assert report["message"].endswith(
        "the run deadline (120s) passed and what was open was cancelled"
    )
    by_symbol = {o["symbol"]: o for o in report["orders"]}
    assert by_symbol["AAPL"]["status"] == "canceled"
    assert by_symbol["BND"]["status"] == "not_sent"
    assert by_symbol["BND"]["error"] == "the run deadline passed before it was sent"
    assert sim.open_orders() == []


def test_market_orders_on_request_carry_no_limit(cli: CliFn, sim: SimBroker) -> None:
    result = cli("execute", "--yes", "--json", "--order-type", "market")
    assert result.exit_code == 0, result.stderr
    assert all(o["limit_price"] is None for o in result.json()["orders"])
    assert {o.order_type for o in sim.orders()} == {"market"}


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--deadline", "soon", "--deadline 'soon': give a positive duration such as 90s"),
        ("--deadline", "0", "--deadline '0': give a positive duration"),
        (
            "--order-type",
            "stop",
            "invalid execution flag --order-type (order_type): Input should be 'limit' or "
            "'market'\n",
        ),
        (
            "--deadline",
            "99h",
            "invalid execution flag --deadline (deadline_s): Input should be less than or "
            "equal to 23400 seconds (6h30m, one session)\n",
        ),
    ],
)
def test_bad_execution_flags_exit_2_and_send_nothing(
    cli: CliFn, sim: SimBroker, flag: str, value: str, message: str
) -> None:
    result = cli("execute", "--yes", flag, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert sim.submissions() == []


def test_targets_that_weigh_only_kept_symbols_exit_2_and_sell_nothing(
    cli: CliFn, sim: SimBroker, tmp_path: Path
) -> None:
    config = tmp_path / "k.toml"
    config.write_text('[planner]\nkeep = ["VTI"]\n[targets]\nVTI = 0.5\n')
    before = sim.positions()
    result = cli("--config", str(config), "execute", "--yes")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"alch: error: {config} [targets]: VTI is in [planner] keep (never touched, outside "
        "the investable base), so cannot have a target weight: remove it from the targets "
        "or from keep"
    )
    assert sim.orders() == []
    assert sim.positions() == before


@pytest.mark.parametrize("weight", ["1e-400", "0.000000001", '"0.00001%"'])
def test_a_weight_below_the_weight_precision_exits_2_and_sells_nothing(
    cli: CliFn, sim: SimBroker, tmp_path: Path, weight: str
) -> None:
    targets = tmp_path / "t.toml"
    targets.write_text(f"[targets]\nVTI = {weight}\n")
    result = cli("execute", "--yes", "--targets", str(targets))
    assert result.exit_code == 2
    shown = str(Decimal(weight)) if not weight.endswith('%"') else "0.00001%"
    assert result.stderr.splitlines()[-1] == (
        f"alch: error: {targets}: VTI: weight {shown} is below 0.0001%, the smallest weight "
        "alch acts on: write 0 for none, or a larger weight"
    )
    assert sim.orders() == []
