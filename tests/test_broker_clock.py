"""The broker's own clock: Alpaca saying closed on a scheduled trading day blocks orders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.checks.market import check_market_open
from alchemiser_cli.core.checks.prices import check_quote_age
from alchemiser_cli.core.checks.record import Severity
from tests.conftest import OPEN_NOW, REPO, Run, use_fake_alpaca
from tests.fake_alpaca import FakeAlpaca
from tests.test_checks import CAL, ctx, world

CliFn = Callable[..., Run]
NOW = datetime.fromisoformat(OPEN_NOW)  # a Tuesday session by the NYSE calendar
TARGETS = str(REPO / "examples/targets/three-fund.toml")
UNSCHEDULED = (
    "market closed: the NYSE calendar says open but Alpaca's clock says closed: "
    "an unscheduled closure?"
)


@pytest.fixture
def closed_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    """The fake Alpaca server on a scheduled session whose /v2/clock says is_open: false."""
    with FakeAlpaca(tmp_path / "fake", NOW) as fake:
        fake.clock_override = False
        use_fake_alpaca(fake, monkeypatch, timeout_s="30")
        yield fake


def test_alpaca_clock_closed_on_a_trading_day_blocks_and_sends_nothing(
    closed_fake: FakeAlpaca, cli: CliFn
) -> None:
    result = cli("execute", "--yes", "--json", "--targets", TARGETS)
    assert result.exit_code == 1
    report = result.json()
    assert (report["outcome"], report["message"]) == (
        "blocked",
        "blocked by market.closed; nothing sent",
    )
    closed = next(f for f in report["checks"]["findings"] if f["check_id"] == "market.closed")
    assert (closed["severity"], closed["message"]) == ("block", UNSCHEDULED)
    assert closed_fake.sim.orders() == []
    assert not [r for r in closed_fake.requests if r[0] == "POST"]


def test_alpaca_clock_closed_check_names_calendar_and_clock(
    closed_fake: FakeAlpaca, cli: CliFn
) -> None:
    result = cli("check", "--targets", TARGETS)
    assert result.exit_code == 1
    assert UNSCHEDULED in result.stdout


def test_alpaca_clock_closed_with_queue_for_open_queues_as_on_a_closed_day(
    closed_fake: FakeAlpaca, cli: CliFn
) -> None:
    for symbol in ("VTI", "VXUS", "BND", "AAPL"):
        closed_fake.sim.script(symbol, "hold")  # nothing trades during the closure
    result = cli("execute", "--yes", "--queue-for-open", "--json", "--targets", TARGETS)
    # The buys are cut to the cash on hand (the sells' proceeds arrive after the open), so
    # the run is incomplete (exit 4) and the next run completes them (issue 13 item 9).
    assert result.exit_code == 4, result.stderr
    report = result.json()
    assert report["outcome"] == "incomplete"
    # The session Alpaca says is closed is not the one they queue for: the next one is.
    assert report["message"].startswith(
        "4 of 4 orders queued for the session 2026-11-25 09:30-16:00 ET;"
    )
    assert "buys cut to $12,000.00 of $27,710.77 planned" in report["message"]
    closed = next(f for f in report["checks"]["findings"] if f["check_id"] == "market.closed")
    assert (closed["severity"], closed["message"]) == (
        "warn",
        f"{UNSCHEDULED}; day orders will queue for the next session",
    )
    # As on a closed day: the buys were not re-sized from sells that cannot fill now.
    assert {o["status"] for o in report["orders"]} == {"new"}
    buys = [o for o in report["orders"] if o["side"] == "buy"]
    spent = sum(Decimal(o["sent_qty"]) * Decimal(o["limit_price"]) for o in buys)
    assert spent <= Decimal(12000)  # the demo account's cash: the sells have not filled
    assert len(closed_fake.sim.orders()) == 4


def test_broker_clock_flag_none_follows_the_calendar_false_closes_the_session() -> None:
    """The simulator has no separate flag (None): the calendar alone decides. A broker
    saying closed in a session closes it for the session-edge and quote-age checks too."""
    plan, snap = world()
    assert check_market_open(plan, snap, ctx(market=CAL.state(NOW), broker_open=None)) is None
    shut = ctx(market=CAL.state(NOW), broker_open=False)
    finding = check_market_open(plan, snap, shut)
    assert finding is not None
    assert (finding.severity, finding.message) == (
        Severity.BLOCK,
        "market closed: the NYSE calendar says open but the broker's clock says closed: "
        "an unscheduled closure?",
    )
    stale = replace(snap, quotes={s: replace(q, as_of=None) for s, q in snap.quotes.items()})
    assert check_quote_age(plan, stale, replace(shut, queue_for_open=True)) is None
    assert check_quote_age(plan, stale, ctx(market=CAL.state(NOW))) is not None


def test_status_shows_the_market_closed_when_alpacas_clock_says_so(
    closed_fake: FakeAlpaca, cli: CliFn
) -> None:
    result = cli("status", "--targets", TARGETS)
    assert result.exit_code == 0, result.stderr
    words = " ".join(result.stdout.split())  # the line wraps at the terminal's width
    assert (
        "Market closed: the broker's clock says closed although the NYSE calendar says open "
        "(now 10:00 ET): an unscheduled closure?; next close Wed 2026-11-25 16:00 ET, next "
        "open Wed 2026-11-25 09:30 ET"
    ) in words
    market = cli("status", "--json", "--targets", TARGETS).json()["market"]
    assert (market["state"]["is_open"], market["state"]["reason"]) == (
        False,
        "unscheduled_closure",
    )
    assert market["next_open"] == "2026-11-25T14:30:00Z"
