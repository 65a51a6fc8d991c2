"""The embedded simulator: seeding, Alpaca-like validation, fills and scripted outcomes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker, load_seed
from alchemiser_cli.brokers.sim.schema import MIGRATIONS
from alchemiser_cli.clock import FixedClock
from alchemiser_cli.core.models import OrderRequest, OrderStatus, Side
from alchemiser_cli.errors import BrokerError, ConfigError, DuplicateOrder, OrderRejected
from tests.conftest import DEMO_ACCOUNT, D, FileMaker, Run

MIGRATION_NAMES = (
    "m001_initial", "m002_held_orders", "m004_listed_symbols", "m005_equity_history", "m006_lots",
)  # fmt: skip

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def buy(cid: str, symbol: str, qty: str, limit: str) -> OrderRequest:
    return OrderRequest(cid, symbol, Side.BUY, D(qty), D(limit))


def sell(cid: str, symbol: str, qty: str, limit: str) -> OrderRequest:
    return OrderRequest(cid, symbol, Side.SELL, D(qty), D(limit))


def test_demo_seed_account_and_buying_power(sim: SimBroker) -> None:
    account = sim.account()
    assert (account.account_id, account.cash, account.account_type) == (
        "SIM-DEMO-0001",
        D("12000"),
        "cash",
    )
    assert sim.positions()["VTI"].qty == D(150)
    assert sim.assets(["BRK.A", "VTI", "NOPE"]) == {
        "BRK.A": sim.assets(["BRK.A"])["BRK.A"],
        "VTI": sim.assets(["VTI"])["VTI"],
    }
    assert sim.assets(["BRK.A"])["BRK.A"].fractionable is False
    assert set(sim.quotes(["VTI", "NOPE"])) == {"VTI"}
    assert sim.now() == NOW


def test_marketable_buy_fills_at_the_ask_and_moves_cash(sim: SimBroker) -> None:
    order = sim.submit_order(buy("c1", "VXUS", "10", "73"))
    assert (order.status, order.filled_qty, order.filled_avg_price) == (
        OrderStatus.FILLED,
        D(10),
        D("72.32"),
    )
    assert sim.account().cash == D("12000") - D("723.2")
    assert sim.positions()["VXUS"].qty == D(10)
    assert [f.price for f in sim.fills_since(NOW)] == [D("72.32")]


def test_non_marketable_order_rests_and_reserves_buying_power(sim: SimBroker) -> None:
    order = sim.submit_order(buy("c1", "VXUS", "10", "70"))
    assert order.status is OrderStatus.NEW
    assert sim.account().buying_power == D("11300")
    assert sim.open_orders() == [order]
    cancelled = sim.cancel_order(order.id)
    assert cancelled.status is OrderStatus.CANCELED
    assert sim.cancel_order(order.id).status is OrderStatus.CANCELED  # idempotent


def test_sell_fills_at_the_bid_and_closes_the_position(sim: SimBroker) -> None:
    sim.submit_order(sell("c1", "AAPL", "40", "265"))
    assert "AAPL" not in sim.positions()
    assert sim.account().cash == D("12000") + D("40") * D("265.40")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (buy("c1", "VTI", "1000", "331"), "insufficient buying power: VTI needs 331000"),
        (sell("c1", "AAPL", "41", "1"), "insufficient qty available for order: AAPL"),
        (sell("c1", "VXUS", "1", "1"), "insufficient qty available for order: VXUS"),
        (buy("c1", "BRK.A", "0.5", "749000"), "BRK.A: requested asset is not fractionable"),
        (buy("c1", "KO", "0.001", "71"), "KO: cost basis must be >= minimal amount of order 1"),
        (buy("c1", "NOPE", "1", "1"), "NOPE: asset not found"),
        (buy("c1", "VTI", "0", "331"), "VTI: qty must be positive"),
    ],
)
def test_orders_are_validated_like_alpaca(
    sim: SimBroker, request_: OrderRequest, message: str
) -> None:
    with pytest.raises(OrderRejected, match=message.replace("(", r"\(")):
        sim.submit_order(request_)
    assert sim.orders() == []


def test_duplicate_client_order_id_is_refused_and_recorded(sim: SimBroker) -> None:
    sim.submit_order(buy("same", "VXUS", "1", "73"))
    with pytest.raises(DuplicateOrder, match="client_order_id same must be unique"):
        sim.submit_order(buy("same", "VXUS", "1", "73"))
    assert sim.submissions() == ["same", "same"]
    assert len(sim.orders()) == 1


def test_scripted_partial_hold_and_reject(sim: SimBroker) -> None:
    sim.script("VXUS", "partial", D(4))
    sim.script("VXUS", "hold")
    sim.script("VXUS", "reject")
    partial = sim.submit_order(buy("a", "VXUS", "10", "73"))
    assert (partial.status, partial.filled_qty) == (OrderStatus.PARTIALLY_FILLED, D(4))
    held = sim.submit_order(buy("b", "VXUS", "1", "73"))
    assert held.status is OrderStatus.NEW
    rejected = sim.submit_order(buy("c", "VXUS", "1", "73"))
    assert rejected.status is OrderStatus.REJECTED
    normal = sim.submit_order(buy("d", "VXUS", "1", "73"))
    assert normal.status is OrderStatus.FILLED
    with pytest.raises(ValueError, match="unknown script action 'explode'"):
        sim.script("VXUS", "explode")


def test_partial_without_a_quantity_fills_half(sim: SimBroker) -> None:
    sim.script("VXUS", "partial")
    order = sim.submit_order(buy("a", "VXUS", "10", "73"))
    assert order.filled_qty == D(5)


def test_quotes_can_be_changed_and_reset_restores_everything(sim: SimBroker) -> None:
    sim.set_quote("VXUS", D(80), D("80.02"))
    assert sim.quotes(["VXUS"])["VXUS"].ask == D("80.02")
    sim.submit_order(buy("a", "VXUS", "1", "81"))
    seed = sim.reset()
    assert seed.account_id == "SIM-DEMO-0001"
    assert sim.quotes(["VXUS"])["VXUS"].ask == D("72.32")
    assert sim.orders() == []


def test_unknown_order_cancel_is_a_broker_error(sim: SimBroker) -> None:
    with pytest.raises(BrokerError, match="order nope not found"):
        sim.cancel_order("nope")
    assert sim.get_order_by_client_id("nope") is None


def test_margin_seed_with_legacy_daytrade_count(make_file: FileMaker, tmp_path: Path) -> None:
    seed = make_file(
        "m.toml",
        'type = "margin"\ncash = "100"\ndaytrade_count = 2\n[positions]\nX = "1.5"\n'
        '[quotes.X]\nlast = "10"\n[assets.X]\ntradable = false\nstatus = "inactive"\n',
    )
    sim = SimBroker(tmp_path / "m.sqlite", seed, FixedClock(NOW))
    account = sim.account()
    assert (account.account_type, account.daytrade_count) == ("margin", 2)
    assert sim.positions()["X"].avg_entry_price == D(0)
    assert sim.assets(["X"])["X"].tradable is False
    sim.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('type = "futures"', 'type must be "cash" or "margin", not \'futures\''),
        ('cash = "abc"', "cash: 'abc' is not a number"),
        ("cash = nan", "cash: NaN is not a finite number"),
        ("[positions]\nX = inf", "positions.X: Infinity is not a finite number"),
        ('[positions]\nX = "0"', "positions.X: quantity must be positive"),
        ("positions = 3", "[positions] must be a table"),
        ('[quotes]\nX = "1"', "quotes.X: expected a table with bid and ask"),
        ('[quotes.X]\nbid = "-1"', "quotes.X: prices must not be negative"),
        ("[assets]\nX = 1", "assets.X: expected a table"),
        ("[oops", "not valid TOML"),
        ('cash = "1e40"', "cash: 1e40 is out of range (at most 1,000,000,000,000)"),
        (
            '[positions]\nX = "1e13"',
            "positions.X: 1e13 is out of range (at most 1,000,000,000,000)",
        ),
        ('[quotes.X]\nask = "2e7"', "quotes.X.ask: 2e7 is out of range (at most 10,000,000)"),
        (
            '[quotes.X]\nbid = "0.00001"',
            "quotes.X.bid: 0.00001 is out of range (at least 0.0001, or 0)",
        ),
        (
            'cash = "600000000000"\n[positions]\nVTI = "100000"\n[quotes.VTI]\nask = "1e7"',
            "cash and positions are worth 1,600,000,000,000.00 at the quotes: out of range "
            "(at most 1,000,000,000,000)",
        ),
    ],
)
def test_bad_seed_files_are_config_errors(make_file: FileMaker, text: str, message: str) -> None:
    path = make_file("seed.toml", text)
    with pytest.raises(ConfigError) as info:
        load_seed(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


HUGE_HOLDING = """cash = "1e12"
[positions]
VTI = "1e12"
[quotes.VTI]
bid = "1e7"
ask = "1e7"
[quotes.VXUS]
bid = "0.01"
ask = "0.01"
[quotes.BND]
bid = "0.01"
ask = "0.01"
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('cash = "1e40"\n', "cash: 1e40 is out of range (at most 1,000,000,000,000)"),
        (
            HUGE_HOLDING,  # each figure in bounds, the sum not: the planner's maths failed
            "cash and positions are worth 10,000,001,000,000,000,000.00 at the quotes: out of "
            "range (at most 1,000,000,000,000)",
        ),
    ],
    ids=["cash_1e40", "worth_1e19"],
)
def test_a_seed_too_large_to_compute_with_is_a_one_line_usage_error(
    cli: Callable[..., Run],
    make_file: FileMaker,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    message: str,
) -> None:
    path = make_file("huge.toml", text)
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(path))
    for command in ("plan", "status"):
        result = cli(command)
        assert (result.exit_code, result.stdout) == (2, ""), command
        assert result.stderr.endswith(f"alch: error: {path}: {message}\n")
        assert "internal error" not in result.stderr


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="simulator account file not found"):
        load_seed(tmp_path / "none.toml")


def test_unopenable_database_is_a_broker_error(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    with pytest.raises(BrokerError, match="simulator database"):
        SimBroker(folder, Path("x"), FixedClock(NOW))


def test_float_inputs_are_refused_for_money() -> None:
    from alchemiser_cli.core.money import to_decimal

    with pytest.raises(ValueError, match=r"give 0\.1 as a string, not a float"):
        to_decimal(0.1)
    assert to_decimal(" 12.50 ") == Decimal("12.50")
    assert to_decimal(3) == Decimal(3)
    with pytest.raises(ValueError, match="is not a finite number"):
        to_decimal("inf")
    with pytest.raises(ValueError, match="is not a number"):
        to_decimal([1])


def test_a_second_process_opening_a_new_simulator_does_not_wipe_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sim.sqlite"
    first = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    first.submit_order(buy("c-1", "VTI", "1", "400"))
    # The second process read "not seeded yet" just before the first one seeded it.
    real_meta = SimBroker._meta
    monkeypatch.setattr(
        SimBroker,
        "_meta",
        lambda self, key: None if key == "seeded_from" else real_meta(self, key),
    )
    second = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    assert [o.client_order_id for o in second.orders()] == ["c-1"]
    assert second.account().cash == first.account().cash < load_seed(DEMO_ACCOUNT).cash
    first.close()
    second.close()


def _migrations(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")]


@pytest.mark.parametrize("blank", ["absent", "empty"])
def test_a_blank_simulator_file_is_migrated_and_seeded(tmp_path: Path, blank: str) -> None:
    path = tmp_path / "sim.sqlite"
    if blank == "empty":
        path.write_bytes(b"")
    sim = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    assert sim.account().cash == D("12000")
    sim.submit_order(buy("c-1", "VXUS", "1", "73"))
    sim.close()
    assert _migrations(path) == list(MIGRATION_NAMES) == [name for name, _ in MIGRATIONS]
    with closing(sqlite3.connect(path)) as conn:
        stamps = {r[0] for r in conn.execute("SELECT applied_at FROM migrations")}
    assert stamps == {NOW.isoformat()}  # the simulator's clock, not the wall clock
    again = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))  # nothing left to apply
    assert [o.client_order_id for o in again.orders()] == ["c-1"]
    again.close()
    assert _migrations(path) == list(MIGRATION_NAMES)


# The simulator's schema before migrations existed and before orders could be held.
OLD_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE positions (symbol TEXT PRIMARY KEY, qty TEXT NOT NULL, avg_price TEXT NOT NULL);
CREATE TABLE quotes (symbol TEXT PRIMARY KEY, bid TEXT NOT NULL, ask TEXT NOT NULL,
    last TEXT NOT NULL);
CREATE TABLE assets (symbol TEXT PRIMARY KEY, tradable INTEGER NOT NULL,
    fractionable INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE orders (id TEXT PRIMARY KEY, client_order_id TEXT UNIQUE NOT NULL,
    symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL, limit_price TEXT,
    order_type TEXT NOT NULL, tif TEXT NOT NULL, status TEXT NOT NULL, filled_qty TEXT NOT NULL,
    filled_avg_price TEXT, submitted_at TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE fills (order_id TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
    qty TEXT NOT NULL, price TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE script (seq INTEGER PRIMARY KEY AUTOINCREMENT, symbol TEXT NOT NULL,
    action TEXT NOT NULL, qty TEXT);
CREATE TABLE submissions (client_order_id TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE adv (symbol TEXT PRIMARY KEY, volume TEXT NOT NULL);
INSERT INTO meta VALUES ('account_id', 'SIM-OLD'), ('account_type', 'cash'),
    ('cash', '1000'), ('seeded_from', 'old.toml'), ('seq', '1');
INSERT INTO positions VALUES ('VTI', '3', '300');
INSERT INTO quotes VALUES ('VTI', '330.10', '330.14', '0');
INSERT INTO orders VALUES ('o-1', 'old-1', 'VTI', 'buy', '2', '100', 'limit', 'day', 'new',
    '0', NULL, '2026-11-23T15:00:00+00:00', 1);
"""


def test_an_old_format_simulator_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(OLD_SCHEMA)
    sim = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    assert _migrations(path) == list(MIGRATION_NAMES)
    # Kept as it was, not seeded again from the demo account.
    assert (sim.account().account_id, sim.account().cash) == ("SIM-OLD", D("1000"))
    assert sim.positions()["VTI"].qty == D(3)
    (old,) = sim.open_orders()  # the resting order is still there, and not held
    assert (old.client_order_id, old.status) == ("old-1", OrderStatus.NEW)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT held FROM orders WHERE id = 'o-1'").fetchone() == (0,)
    sim.script("VTI", "hold")
    sim.submit_order(buy("c-2", "VTI", "1", "331"))  # ticks first: the old order takes it
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT held FROM orders WHERE id = 'o-1'").fetchone() == (1,)
    sim.close()


def test_unsettled_proceeds_follow_each_new_sale_and_the_next_day(
    sim: SimBroker, tmp_path: Path
) -> None:
    # The answer is memoised per (last sale, day): a new sale or a new day recomputes it.
    sim.submit_order(sell("s1", "AAPL", "10", "265"))
    first = sim.account()
    assert first.settled_cash == first.cash - D("10") * D("265.40")
    sim.submit_order(sell("s2", "AAPL", "5", "265"))
    second = sim.account()
    assert second.settled_cash == second.cash - D("15") * D("265.40")
    later = SimBroker(tmp_path / "home" / "sim.sqlite", DEMO_ACCOUNT, FixedClock(NOW))
    later._clock = FixedClock(NOW.replace(day=25))  # Wednesday: Tuesday's sales settled
    assert later.account().settled_cash == later.account().cash
    later.close()


def test_simulator_commits_do_not_wait_for_the_disk(sim: SimBroker, tmp_path: Path) -> None:
    """500 orders once took 80 s of fsyncs: the simulated account and a simulated run's
    journal commit to a write-ahead log without syncing each transaction."""
    from alchemiser_cli.journal import Journal

    assert sim._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sim._conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    light = Journal(tmp_path / "light.sqlite", durable=False)
    durable = Journal(tmp_path / "durable.sqlite")  # a real broker's run: every commit synced
    assert light._conn.execute("PRAGMA synchronous").fetchone()[0] == 1
    assert durable._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_simulator_migrations_apply_by_name_whatever_the_gaps(tmp_path: Path) -> None:
    path = tmp_path / "sim.sqlite"
    SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW)).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM migrations WHERE name = 'm004_listed_symbols'")
        conn.execute("DROP TABLE listed")
        conn.execute("INSERT INTO migrations VALUES ('m003_from_another_branch', 'x')")
    sim = SimBroker(path, DEMO_ACCOUNT, FixedClock(NOW))
    assert "m004_listed_symbols" in _migrations(path)
    assert sim.listing()  # the listed table is back
    sim.close()
