"""Tax in every plan (issue 27, must show 2): realised gains per sell at the limit price,
the four wash-sale patterns with their disallowed amounts, `avoid_wash_sales` holding
positions off target (and the substitute taking the weight), and an IRA showing nothing.

The accounts here trade at spreads of zero, with a zero collar and no fees, so every
figure below is worked out by hand in its comment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import Side
from tests.conftest import OPEN_NOW, Run

CliFn = Callable[..., Run]
D = Decimal
NOW = datetime.fromisoformat(OPEN_NOW)  # Tuesday 2026-11-24, 10:00 in New York

SEED = """account_id = "SIM-TAX"
type = "cash"
cash = "100000"
[quotes.VTI]
bid = "300"
ask = "300"
[quotes.BND]
bid = "70"
ask = "70"
[quotes.QQQ]
bid = "390"
ask = "390"
[quotes.QQQM]
bid = "200"
ask = "200"
"""
# (New York trade day at 10:00, symbol, side, qty, price)
VTI_HISTORY = [
    ("2025-06-02", "VTI", Side.BUY, "100", "350"),  # the old lot
    ("2026-11-16", "VTI", Side.BUY, "20", "325"),  # 8 days before the plan: still held
]
QQQ_HISTORY = [
    ("2026-06-01", "QQQ", Side.BUY, "50", "400"),
    ("2026-11-10", "QQQ", Side.SELL, "50", "380"),  # a loss of 50 x 20 = 1000, 14 days ago
]


def account(home: Path, tmp_path: Path, history: list[tuple[str, str, Side, str, str]]) -> Path:
    """The simulated account with this history (fills outside alch, at their times)."""
    seed = tmp_path / "seed.toml"
    seed.write_text(SEED, encoding="utf-8")
    first = datetime.fromisoformat(history[0][0] + "T15:00:00+00:00")
    clock = FixedClock(first)
    sim = SimBroker(home / "sim.sqlite", seed, clock)
    for day, symbol, side, qty, price in history:
        clock.advance(
            (datetime.fromisoformat(day + "T15:00:00+00:00") - clock.now()).total_seconds()
        )
        sim.book_fill(symbol, side, D(qty), D(price))
    sim.close()
    return seed


@pytest.fixture
def exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """No collar, no fees: every sell fills at the bid, every buy at the ask."""
    monkeypatch.setenv("ALCH_PLANNER__COLLAR_BPS", "0")
    monkeypatch.setenv("ALCH_PLANNER__SEC_FEE_RATE", "0")
    monkeypatch.setenv("ALCH_PLANNER__FINRA_TAF_PER_SHARE", "0")


def targets(tmp_path: Path, **weights: str) -> str:
    path = tmp_path / "targets.toml"
    path.write_text("[targets]\n" + "".join(f'{s} = "{w}"\n' for s, w in weights.items()))
    return str(path)


def plan(cli: CliFn, *args: str) -> dict[str, Any]:
    result = cli("plan", "--json", *args)
    assert result.exit_code == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_every_plan_shows_each_sells_gain_at_its_limit_price(cli: CliFn) -> None:
    doc = plan(cli)
    assert doc["schema_version"] == 2
    tax = doc["tax"]
    aapl, vti = tax["sells"]
    # The demo's positions were bought when it was seeded (today) at the mid. AAPL: 40 sold
    # at the limit 264.08 less 0.31 fees = 10,562.89, against 40 x 265.43 = 10,617.20:
    # -54.31, short-term
    assert (aapl["symbol"], aapl["proceeds"], aapl["basis"], aapl["short_term"]) == (
        "AAPL", "10562.89", "10617.2", "-54.31")  # fmt: skip
    assert aapl["long_term"] == "0"
    # VTI: 27.274324489 x (328.45 - 330.12) - 0.26 fees = -45.808... -> -45.81
    assert (vti["symbol"], vti["short_term"]) == ("VTI", "-45.81")
    # totals: -54.31 + -45.808121... = -100.118... -> -100.12
    assert (tax["short_term"], tax["long_term"], tax["disallowed"]) == ("-100.12", "0", "0")
    assert (tax["status"], tax["wash_sales"], tax["holds"]) == ("complete", [], [])


def test_the_plan_table_shows_the_tax_estimate(cli: CliFn) -> None:
    result = cli("plan")
    assert "Tax estimate" in result.stdout
    assert "-$54.31" in result.stdout
    assert "not tax advice" in result.stdout


def test_loss_sale_after_a_buy_within_30_days_is_flagged(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    account(isolated_state, tmp_path, VTI_HISTORY)
    # equity 100,000 - 35,000 - 6,500 cash + 120 x 300 = 94,500; VTI 30% = 28,350 = 94.5
    # shares: sell 25.5, all from the 2025 lot at 350: a loss of 25.5 x 50 = 1,275. The 20
    # shares bought 2026-11-16 stay held: disallowed 1,275 x 20 / 25.5 = 1,000
    doc = plan(cli, "--targets", targets(tmp_path, VTI="30%", BND="70%"))
    (sell,) = doc["tax"]["sells"]
    assert (sell["qty"], sell["long_term"], sell["disallowed"]) == ("25.5", "-275", "1000")
    (wash,) = doc["tax"]["wash_sales"]
    assert (wash["symbol"], wash["sale_leg"], wash["lot_acquired"]) == ("VTI", 1, "2025-06-02")
    assert (wash["replacement_acquired"], wash["replacement_qty"], wash["disallowed"]) == (
        "2026-11-16", "20", "1000")  # fmt: skip
    check = cli("check", "--json", "--targets", targets(tmp_path, VTI="30%", BND="70%"))
    finding = next(f for f in check.json()["findings"] if f["check_id"] == "tax.wash_sale")
    assert (finding["severity"], finding["value"], finding["symbol"]) == ("warn", "1000.00", "VTI")
    assert "bought 2025-06-02" in finding["message"]
    assert "20 shares bought 2026-11-16" in finding["message"]


def test_buy_within_30_days_after_a_loss_sale_is_flagged(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    account(isolated_state, tmp_path, QQQ_HISTORY)
    # cash 100,000 - 20,000 + 19,000 = 99,000; QQQ 39% = 38,610 = 99 shares at 390: they
    # replace all 50 shares sold at a loss on 2026-11-10: 1,000 disallowed
    doc = plan(cli, "--targets", targets(tmp_path, QQQ="39%"))
    (wash,) = doc["tax"]["wash_sales"]
    assert (wash["sold"], wash["sale_leg"], wash["replacement_leg"]) == ("2026-11-10", None, 1)
    assert (wash["loss"], wash["replacement_qty"], wash["disallowed"]) == ("1000", "50", "1000")
    assert doc["tax"]["disallowed"] == "1000"


def test_a_partial_replacement_disallows_its_share_of_the_loss(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    account(isolated_state, tmp_path, QQQ_HISTORY)
    # QQQ 10% of 99,000 = 9,900 = 25.384615384 shares at 390 (9 decimals, rounded down):
    # fewer than the 50 sold at a loss of 1,000: 1,000 x 25.384615384 / 50 = 507.69230768
    doc = plan(cli, "--targets", targets(tmp_path, QQQ="10%"))
    (wash,) = doc["tax"]["wash_sales"]
    assert (wash["replacement_qty"], wash["sold_qty"], wash["disallowed"]) == (
        "25.384615384", "50", "507.69")  # fmt: skip


def test_both_patterns_in_one_plan_each_with_its_amount(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    account(isolated_state, tmp_path, VTI_HISTORY[:1] + QQQ_HISTORY + VTI_HISTORY[1:])
    # cash 100,000 - 35,000 - 20,000 + 19,000 - 6,500 = 57,500; equity 57,500 + 36,000 =
    # 93,500. VTI 30% = 28,050 = 93.5 shares: sell 26.5 of the old lot, a loss of 1,325,
    # 20 replaced: 1,325 x 20 / 26.5 = 1,000. QQQ 20% = 18,700 = 47.948... shares, all of
    # them replacing shares sold at a loss: 1,000 x 47.948717948 / 50 = 958.97
    doc = plan(cli, "--targets", targets(tmp_path, VTI="30%", QQQ="20%"))
    amounts = {w["symbol"]: w["disallowed"] for w in doc["tax"]["wash_sales"]}
    assert amounts == {"VTI": "1000", "QQQ": "958.97"}
    assert doc["tax"]["disallowed"] == "1958.97"


def test_avoid_wash_sales_holds_both_positions_and_says_until_when(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account(isolated_state, tmp_path, VTI_HISTORY[:1] + QQQ_HISTORY + VTI_HISTORY[1:])
    monkeypatch.setenv("ALCH_TAX__AVOID_WASH_SALES", "true")
    doc = plan(cli, "--targets", targets(tmp_path, VTI="30%", QQQ="20%"))
    tax = doc["tax"]
    assert tax["wash_sales"] == []
    assert {o["symbol"] for o in doc["orders"]} == set()  # nothing sold, nothing bought
    holds = {h["symbol"]: h for h in tax["holds"]}
    # VTI stays at 36,000 / 93,500 until the 31st day after the 2026-11-16 purchase; QQQ
    # at zero until the 31st day after the 2026-11-10 loss sale
    assert (holds["VTI"]["until"], holds["VTI"]["wanted"]) == ("2026-12-17", "0.3")
    assert holds["VTI"]["planned"] == str((D(36000) / D(93500)).quantize(D("0.000001")))
    assert (holds["QQQ"]["until"], holds["QQQ"]["planned"], holds["QQQ"]["substitute"]) == (
        "2026-12-11", "0", None)  # fmt: skip
    table = cli("plan", "--targets", targets(tmp_path, VTI="30%", QQQ="20%"))
    assert "QQQ stays off target until 2026-12-11" in table.stdout
    check = cli("check", "--json", "--targets", targets(tmp_path, VTI="30%", QQQ="20%")).json()
    finding = next(f for f in check["findings"] if f["check_id"] == "tax.wash_sale")
    assert (finding["severity"], finding["message"]) == (
        "pass", "no planned trade makes a wash sale (held back: QQQ until 2026-12-11; VTI "
        "until 2026-12-17)")  # fmt: skip


def test_the_substitute_takes_the_weight_held_back(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account(isolated_state, tmp_path, QQQ_HISTORY)
    monkeypatch.setenv("ALCH_TAX__AVOID_WASH_SALES", "true")
    monkeypatch.setenv("ALCH_TAX__SUBSTITUTES", '{"QQQ": "QQQM"}')
    doc = plan(cli, "--targets", targets(tmp_path, QQQ="40%"))
    # QQQ's 40% of 99,000 = 39,600 goes to QQQM at 200: 198 shares
    assert [(o["side"], o["symbol"], o["qty"]) for o in doc["orders"]] == [("buy", "QQQM", "198")]
    (hold,) = doc["tax"]["holds"]
    assert (hold["symbol"], hold["substitute"], hold["until"]) == ("QQQ", "QQQM", "2026-12-11")
    assert doc["tax"]["wash_sales"] == []
    assert doc["targets"] == {"QQQ": "0", "QQQM": "0.4"}


def test_an_ira_shows_no_tax_at_all(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account(isolated_state, tmp_path, VTI_HISTORY[:1] + QQQ_HISTORY + VTI_HISTORY[1:])
    monkeypatch.setenv("ALCH_TAX__ACCOUNT", "ira")
    monkeypatch.setenv("ALCH_TAX__AVOID_WASH_SALES", "true")  # nothing to avoid in an IRA
    args = ("--targets", targets(tmp_path, VTI="30%", QQQ="20%"))
    doc = plan(cli, *args)
    assert doc["tax"] is None
    assert {o["symbol"] for o in doc["orders"]} == {"VTI", "QQQ"}
    table = cli("plan", *args)
    assert "Tax" not in table.stdout
    assert "wash" not in table.stdout
    check = cli("check", "--json", *args).json()
    tax_findings = [f for f in check["findings"] if f["check_id"].startswith("tax.")]
    assert {f["severity"] for f in tax_findings} == {"pass"}
    assert all("not checked" in f["message"] for f in tax_findings)


def test_a_saved_plan_with_positions_held_back_is_checked_not_refused(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    account(isolated_state, tmp_path, QQQ_HISTORY)
    monkeypatch.setenv("ALCH_TAX__AVOID_WASH_SALES", "true")
    saved = tmp_path / "plan.json"
    # QQQ is held at zero: every target the planner saw is zero, yet this is no liquidation
    result = cli("plan", "--json", "--out", str(saved), "--targets", targets(tmp_path, QQQ="40%"))
    assert result.exit_code == 0, result.stderr
    doc = result.json()
    assert (doc["liquidate"], doc["targets"]) == (False, {"QQQ": "0"})
    check = cli("check", str(saved))
    assert check.exit_code == 0, check.stderr
    assert "edited" not in check.stderr
    edited = json.loads(saved.read_text())
    edited["tax"]["holds"] = []  # without its holds the plan's targets say liquidate
    saved.write_text(json.dumps(edited))
    assert cli("check", str(saved)).exit_code == 2


def test_lots_that_do_not_match_a_position_are_a_named_warning_and_incomplete(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    import sqlite3
    from contextlib import closing

    account(isolated_state, tmp_path, VTI_HISTORY)
    with closing(sqlite3.connect(isolated_state / "sim.sqlite")) as conn:  # a transfer in
        conn.execute("UPDATE positions SET qty = '130' WHERE symbol = 'VTI'")
        conn.commit()
    args = ("--targets", targets(tmp_path, VTI="30%", BND="70%"))
    tax = plan(cli, *args)["tax"]
    assert tax["status"] == "incomplete"
    assert tax["mismatches"] == [{
        "symbol": "VTI", "lots_qty": "120", "position_qty": "130",
        "lots_avg_price": "345.8333", "position_avg_price": "345.8333333333333333333333333",
    }]  # fmt: skip  # (35,000 + 6,500) / 120
    finding = next(
        f for f in cli("check", "--json", *args).json()["findings"] if f["check_id"] == "tax.lots"
    )
    assert (finding["severity"], finding["symbol"], finding["value"], finding["limit"]) == (
        "warn", "VTI", "120", "130")  # fmt: skip
    assert "incomplete" in finding["message"]
    table = cli("plan", *args).stdout
    assert "INCOMPLETE" in table
    assert "lots do not match VTI: lots 120 shares, broker 130" in table
    assert "wash sale VTI: the planned sell (leg 1)" in table
