"""Human tables at 60, 80 and 100 columns: no figure is ever cut ("…") or split.

Each test renders a table at the width and looks for the full text of every figure a
decision rests on, taken from the same command's --json document.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rich.console import Console

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli import common
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.results import OrderResult, Outcome
from alchemiser_cli.documents.reports import ExecutionReport
from alchemiser_cli.render.layout import Col, fitted_table
from alchemiser_cli.render.progress import orders_table
from alchemiser_cli.render.tables import pct, render_execution, usd
from tests.conftest import Run

CliFn = Callable[..., Run]
WIDTHS = (60, 80, 100)


def D(text: str) -> Decimal:
    return Decimal(text)


def assert_readable(text: str, width: int, figures: Iterable[str]) -> None:
    """Nothing cut, nothing wider than the terminal, every figure whole on one line."""
    assert "…" not in text
    assert [line for line in text.splitlines() if len(line) > width] == []
    missing = [figure for figure in figures if figure not in text]
    assert missing == []


def plan_figures(doc: dict[str, Any]) -> list[str]:
    """What the plan tables must show in full: every order and every position's target."""
    figures = []
    for o in doc["orders"]:
        figures += [o["symbol"], fmt(D(o["qty"])), fmt(D(o["limit_price"])), usd(D(o["est_value"]))]
    for p in doc["positions"]:
        figures += [p["symbol"], usd(D(p["value"])), pct(D(p["target_weight"]))]
        if p["action"] != "hold":
            figures.append(f"{p['action']} {fmt(abs(D(p['trade_qty'])))}")
    s = doc["summary"]
    figures += [usd(D(s["buy_value"])), usd(D(s["sell_value"])), usd(D(s["est_cash_after"]))]
    return figures


def report_figures(doc: dict[str, Any]) -> list[str]:
    """Every order of a run: planned, filled, average price, and each slice."""
    figures = []
    for o in doc["orders"]:
        figures += [o["symbol"], fmt(D(o["filled_qty"])), fmt(D(o["avg_price"])), o["status"]]
        for piece in o["slices"] if len(o["slices"]) > 1 else []:
            figures += [fmt(D(piece["qty"])), fmt(D(piece["limit_prices"][-1]))]
    return figures


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_tables_show_every_figure_whole(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    doc = cli("plan", "--json").json()
    monkeypatch.setenv("COLUMNS", str(width))
    shown = cli("plan")
    assert shown.exit_code == 0
    assert_readable(shown.stdout, width, plan_figures(doc))


def test_plan_at_80_columns_names_what_it_left_out(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = cli("plan").stdout
    assert "not shown at 80 columns: price, now, drift, after (see --json)" in shown
    assert "│ BND    │ 120 │  $8,893.20 │ 25.00% │ to target      │ buy 153.338280933 │" in shown
    monkeypatch.setenv("COLUMNS", "160")
    assert "not shown" not in cli("plan").stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_the_confirmation_shows_every_figure_before_the_question(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    doc = cli("plan", "--json").json()
    monkeypatch.setattr(common, "stdin_is_tty", lambda: True)
    monkeypatch.setenv("COLUMNS", str(width))
    declined = cli("execute", input="\n")
    assert declined.exit_code == 0
    before, question, _ = declined.stderr.partition("Send 4 order(s) to sim account")
    assert question
    assert_readable(before, width, [*plan_figures(doc), "Verdict: OK to execute"])
    assert sim.submissions() == []


@pytest.mark.parametrize("width", WIDTHS)
def test_check_table_wraps_details_and_keeps_ids_whole(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDER_NOTIONAL", "10000")  # three orders block
    doc = cli("check", "--json").json()
    monkeypatch.setenv("COLUMNS", str(width))
    shown = cli("check")
    assert shown.exit_code == 1
    ids = [f["check_id"] for f in doc["findings"]]
    assert_readable(shown.stdout, width, [*ids, "$16,288.60", "$10,000.00", "BLOCKED"])


@pytest.mark.parametrize("width", WIDTHS)
def test_execution_report_and_slices_show_every_figure_whole(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("ALCH_EXECUTION__SLICE_NOTIONAL", "5000")  # TWAP slices to show
    monkeypatch.setenv("COLUMNS", str(width))
    shown = cli("execute", "--yes")
    assert shown.exit_code == 0
    doc = cli("status", "--json", "--run", "2026").json()["runs"][0]["details"]
    assert len(doc["orders"][3]["slices"]) == 4
    totals = [usd(D(doc["filled_buy_value"])), usd(D(doc["filled_sell_value"]))]
    assert_readable(shown.stdout, width, [*report_figures(doc), *totals, "Slices"])


@pytest.mark.parametrize("width", WIDTHS)
def test_status_tables_show_every_figure_whole(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    # Thanksgiving: orders queue for the next session, so status has open orders too
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-26T15:00:00Z")
    run = cli("execute", "--yes", "--queue-for-open", "--json").json()
    doc = cli("status", "--json").json()
    monkeypatch.setenv("COLUMNS", str(width))
    shown = cli("status")
    assert shown.exit_code == 0
    figures = [usd(D(doc["account"]["equity"])), usd(D(doc["account"]["cash"]))]
    for p in doc["positions"]:
        figures += [
            p["symbol"],
            usd(D(p["value"])),
            pct(D(p["weight"])),
            pct(D(p["target_weight"])),
        ]
    for o in doc["open_orders"]:
        figures += [o["symbol"], fmt(D(o["qty"])), o["status"]]
    figures += [run["run_id"], "queued", "Thanksgiving (2026-11-26)"]
    assert len(doc["open_orders"]) == 4
    assert_readable(shown.stdout, width, figures)


@pytest.mark.parametrize("width", WIDTHS)
def test_one_run_in_full_shows_every_figure_whole(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    run_id = cli("execute", "--yes", "--json").json()["run_id"]
    details = cli("status", "--json", "--run", run_id).json()["runs"][0]["details"]
    monkeypatch.setenv("COLUMNS", str(width))
    shown = cli("status", "--run", run_id)
    assert shown.exit_code == 0
    figures = [run_id, "completed"]
    for o in details["orders"]:
        figures += [o["symbol"], o["planned_qty"], o["filled_qty"], o["avg_price"]]
    assert_readable(shown.stdout, width, figures)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_live_progress_table_shows_every_figure_whole(width: int) -> None:
    legs = []
    for leg, (symbol, qty) in enumerate([("VTI", "27.274324489"), ("VXUS", "224.113953809")], 1):
        result = OrderResult(
            leg=leg,
            client_order_id=f"alch-x-00{leg}-01-01",
            symbol=symbol,
            side=Side.BUY,
            planned_qty=D(qty),
            sent_qty=D(qty),
            limit_price=D("72.68"),
            status=LegStatus.PARTIALLY_FILLED,
            filled_qty=D("100.000000001"),
        )
        result.repegs = 3
        legs.append(result)
    screen = io.StringIO()
    Console(file=screen, width=width).print(orders_table(legs, width))
    # at 60 columns the planned quantities make way; what filled always shows
    planned = ["27.274324489", "224.113953809"] if width >= 80 else []
    assert_readable(screen.getvalue(), width, ["VTI", "VXUS", "100.000000001", *planned])


def test_too_narrow_for_the_essential_columns_each_row_becomes_a_wrapped_line() -> None:
    columns = [Col("symbol"), Col("qty", right=True), Col("value", right=True, drop=1)]
    rows = [["VXUS", "224.113953809", "$16,207.92"]]
    screen = io.StringIO()
    Console(file=screen, width=24).print(fitted_table("Orders", columns, rows, 24))
    assert screen.getvalue() == ("Orders\nsymbol VXUS  qty \n224.113953809  value \n$16,207.92\n")


def test_wrapping_columns_wrap_and_figures_keep_their_width() -> None:
    columns = [Col("symbol"), Col("filled", right=True), Col("status", wrap=True)]
    rows = [["VXUS", "224.113953809", "rejected: insufficient buying power for this order"]]
    screen = io.StringIO()
    Console(file=screen, width=50).print(fitted_table("Run", columns, rows, 50))
    assert screen.getvalue().splitlines()[4:7] == [
        "│ VXUS   │ 224.113953809 │ rejected:             │",
        "│        │               │ insufficient buying   │",
        "│        │               │ power for this order  │",
    ]


def test_broker_text_with_brackets_is_shown_as_sent_not_read_as_markup() -> None:
    leg = OrderResult(
        leg=1,
        client_order_id="alch-x-001-01-01",
        symbol="VXUS",
        side=Side.BUY,
        planned_qty=D("224"),
        sent_qty=D("224"),
        limit_price=D("72.68"),
        status=LegStatus.REJECTED,
        error="insufficient qty [requested: 224] [/available]",
    )
    now = datetime(2026, 11, 24, 15, tzinfo=UTC)
    report = ExecutionReport(
        run_id="r1",
        plan_id="p1",
        broker="sim",
        account_id="A",
        outcome=Outcome.INCOMPLETE,
        message="stopped after a broker error: [code 40310000] [/x]",
        started_at=now,
        finished_at=now,
        checks=None,
        orders=(leg,),
        filled_buy_value=D("0"),
        filled_sell_value=D("0"),
    )
    screen = io.StringIO()
    render_execution(Console(file=screen, width=160), report)
    shown = screen.getvalue()
    assert "rejected: insufficient qty [requested: 224] [/available]" in shown
    assert "Outcome: incomplete - stopped after a broker error: [code 40310000] [/x]" in shown
