"""The simulator keeps tax lots from its fills (issue 27): FIFO average entry prices as
Alpaca reports them, its history for the tax ledger, splits, and older files migrated."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import OrderRequest, Side
from alchemiser_cli.core.tax.ledger import Kind, rebuild
from tests.conftest import DEMO_ACCOUNT, D
from tests.test_sim import OLD_SCHEMA

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def trade(sim: SimBroker, cid: str, side: Side, symbol: str, qty: str, price: str) -> None:
    sim.set_quote(symbol, D(price), D(price))
    sim.submit_order(OrderRequest(cid, symbol, side, D(qty), D(price)))


def test_a_sale_closes_the_oldest_lot_and_the_average_price_follows(sim: SimBroker) -> None:
    trade(sim, "b1", Side.BUY, "VXUS", "10", "100")
    trade(sim, "b2", Side.BUY, "VXUS", "10", "120")
    assert sim.positions()["VXUS"].avg_entry_price == D(110)  # (1000 + 1200) / 20
    trade(sim, "s1", Side.SELL, "VXUS", "15", "130")
    # FIFO: the 10 at 100 and 5 of the 10 at 120 are gone; 5 left at 120 (a running average
    # would still say 110)
    position = sim.positions()["VXUS"]
    assert (position.qty, position.avg_entry_price) == (D(5), D(120))


def test_the_history_is_the_seed_then_every_fill_and_split(sim: SimBroker) -> None:
    trade(sim, "b1", Side.BUY, "VXUS", "4", "70")
    sim.split("VXUS", D(2))
    events = sim.trade_history()
    seeded = [e for e in events if e.ref.startswith("open-")]
    assert {(e.symbol, e.qty) for e in seeded} == {("VTI", D(150)), ("BND", D(120)),
                                                    ("AAPL", D(40))}  # fmt: skip
    assert [(e.kind, e.symbol) for e in events[3:]] == [(Kind.BUY, "VXUS"), (Kind.SPLIT, "VXUS")]
    ledger = rebuild(events)
    assert ledger.held("VXUS") == D(8) == sim.positions()["VXUS"].qty
    assert sim.positions()["VXUS"].avg_entry_price == D(35)  # 280 / 8
    assert sim.quotes(["VXUS"])["VXUS"].ask == D(35)  # the quote splits too


def test_reset_drops_the_lots_and_seeds_them_again(sim: SimBroker) -> None:
    trade(sim, "b1", Side.BUY, "VXUS", "4", "70")
    sim.reset()
    assert [e.symbol for e in sim.trade_history()] == ["VTI", "BND", "AAPL"]  # seed order


def test_an_older_file_gets_lots_for_its_positions(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute(
            "INSERT INTO fills VALUES "
            "('o-0', 'VTI', 'buy', '1', '310', '2026-11-20T15:00:00+00:00')"
        )
        conn.commit()
    sim = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    events = sim.trade_history()
    # 3 held, 1 of them from the fill: 2 came with the file, at its average price, opened
    # when the file was migrated (its first migration)
    assert [(e.kind, e.qty, e.price) for e in events] == [
        (Kind.BUY, D(1), D(310)),
        (Kind.BUY, D(2), D(300)),
    ]
    assert rebuild(events).held("VTI") == D(3)
    sim.close()


def test_lots_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    clock = FixedClock(NOW)
    sim = SimBroker(path, DEMO_ACCOUNT, clock)
    trade(sim, "b1", Side.BUY, "VXUS", "10", "100")
    clock.advance(timedelta(minutes=1).total_seconds())
    trade(sim, "b2", Side.BUY, "VXUS", "10", "120")
    sim.close()
    again = SimBroker(path, DEMO_ACCOUNT, clock)
    trade(again, "s1", Side.SELL, "VXUS", "10", "90")
    assert again.positions()["VXUS"].avg_entry_price == D(120)
    again.close()
