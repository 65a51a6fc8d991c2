"""Progress while orders go out: a live table on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.core.models import Side
from alchemiser_cli.core.results import OrderResult
from alchemiser_cli.render.progress import live_view
from tests.conftest import Run

CliFn = Callable[..., Run]
COLOR = re.compile(r"\x1b\[(3|9)\d")  # a foreground colour escape


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _legs() -> list[OrderResult]:
    leg = OrderResult(
        leg=1,
        client_order_id="alch-x-001-01-01",
        symbol="VXUS",
        side=Side.BUY,
        planned_qty=Decimal(224),
        sent_qty=Decimal(224),
        limit_price=Decimal("72.68"),
        status=LegStatus.PARTIALLY_FILLED,
        filled_qty=Decimal(100),
    )
    leg.repegs = 1
    return [leg]


def test_off_a_terminal_each_event_is_one_plain_line(cli: CliFn, sim: SimBroker) -> None:
    sim.script("VXUS", "partial", Decimal(100))
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 0
    events = [line for line in result.stderr.splitlines() if line.startswith("alch: sent ")]
    assert events[0].startswith("alch: sent sell AAPL 40 @ ")
    assert any(" (re-peg 1): " in line for line in events)
    assert len(events) == 5  # four orders and one re-peg
    assert "\x1b[" not in result.stderr


def test_quiet_shows_no_events(cli: CliFn, sim: SimBroker) -> None:
    result = cli("-q", "execute", "--yes", "--json")
    assert result.exit_code == 0
    assert "alch: sent" not in result.stderr


@pytest.mark.parametrize("no_color", [False, True])
def test_on_a_terminal_a_live_table_is_redrawn_per_event(
    no_color: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    screen = Terminal()
    legs = _legs()
    with live_view(screen, lambda: legs) as on_event:
        assert screen.getvalue() == "", "nothing drawn before the first event"
        on_event("sent buy VXUS 224 @ 72.50: partially_filled")
        legs[0].status = LegStatus.FILLED
        on_event("sent buy VXUS 124 @ 72.68 (re-peg 1): filled")
    drawn = screen.getvalue()
    assert "re-pegs" in drawn
    assert "VXUS" in drawn
    assert "(re-peg 1): filled" in drawn
    assert "\x1b[" in drawn, "drawn as a terminal"
    assert bool(COLOR.search(drawn)) is not no_color


def _many(count: int) -> list[OrderResult]:
    return [
        OrderResult(
            leg=i,
            client_order_id=f"alch-x-{i:03d}-01-01",
            symbol=f"S{i:03d}",
            side=Side.BUY,
            planned_qty=Decimal("1234.567891"),
            sent_qty=Decimal("1234.567891"),
            limit_price=Decimal("72.68"),
            status=LegStatus.PARTIALLY_FILLED if i % 3 else LegStatus.FILLED,
            filled_qty=Decimal(100),
        )
        for i in range(1, count + 1)
    ]


@pytest.mark.parametrize(("width", "height"), [(80, 24), (160, 40), (60, 12)])
def test_the_live_frame_fits_the_terminal_so_it_is_drawn_once(width: int, height: int) -> None:
    """A frame taller than the screen cannot be redrawn in place: at 80 columns the table's
    title was printed twice. The frame keeps to the screen, the rest said in one line."""
    from rich.console import Console

    from alchemiser_cli.render.progress import orders_view

    legs = _many(40)
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True)
    frame = orders_view(legs, "sent buy S040 1234.567891 @ 72.68: partially_filled", console)
    lines = console.render_lines(frame, console.options.update(height=None), pad=False)
    assert len(lines) < height
    text = "\n".join("".join(seg.text for seg in line) for line in lines)
    assert text.count("Orders") == 1
    assert "more legs" in text  # the legs left out are counted, not silently dropped
    assert "S002" in text  # working legs are shown first
    few = orders_view(_many(2), "sent", console)
    assert "more legs" not in "".join(
        seg.text for line in console.render_lines(few, pad=False) for seg in line
    )
