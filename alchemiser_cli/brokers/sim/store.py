"""The simulator's database and clock: opening the file (private, migrated, seeded once),
the market's hours on the simulator's time, and reading its orders back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.base import OrderUpdates
from alchemiser_cli.brokers.sim.history import DailyHistory
from alchemiser_cli.brokers.sim.prices import DEFAULT_SPREAD_BPS, BarPrices
from alchemiser_cli.brokers.sim.schema import migrate, prepare
from alchemiser_cli.calendar_table import calendar_around
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import NEW_YORK, NyseCalendar
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.models import BrokerOrder, OrderStatus, Side
from alchemiser_cli.errors import BrokerError, SimDamaged
from alchemiser_cli.files import prepare_sqlite, write_transaction

SYMBOLS_BY_KEY = 50  # up to this many symbols, a read selects their rows by key

_ORDER_COLUMNS = (
    "SELECT id, client_order_id, symbol, side, qty, limit_price, status, filled_qty, "
    "filled_avg_price, order_type, tif, submitted_at FROM orders"
)
_OPEN = tuple(s.value for s in OrderStatus if not s.is_terminal)
_ORDER_QUERIES = {
    "1=1": f"{_ORDER_COLUMNS} ORDER BY seq",
    "open": f"{_ORDER_COLUMNS} WHERE status IN ({','.join('?' * len(_OPEN))}) ORDER BY seq",
    "id = ?": f"{_ORDER_COLUMNS} WHERE id = ? ORDER BY seq",
    "client_order_id = ?": f"{_ORDER_COLUMNS} WHERE client_order_id = ? ORDER BY seq",
}


class SimStore:
    """The simulator's SQLite file, clock and calendar; the broker's parts build on it."""

    def __init__(
        self,
        db_path: Path,
        seed_path: Path,
        clock: Clock,
        bars_dir: Path | None = None,
        *,
        calendar: Callable[[datetime], NyseCalendar] | None = None,
        spread_bps: Decimal = DEFAULT_SPREAD_BPS,
        synthetic_quotes: bool = False,
    ) -> None:
        # The NYSE calendar for a time: the runtime's cached session table, else computed.
        self._calendar_for = calendar or (
            lambda now: calendar_around(now.astimezone(NEW_YORK).date())
        )
        self._bars_dir = bars_dir
        # Quotes from bars: under ALCH_SIM_BARS for every symbol with a file; without it,
        # synthetic ones for symbols the seed does not quote (when asked: `alch` does, the
        # fake Alpaca server keeps a fixed book).
        self._prices = (
            BarPrices(bars_dir, self._calendar_for, spread_bps)
            if bars_dir is not None or synthetic_quotes
            else None
        )
        self._db_path = db_path
        self._seed_path = seed_path
        self._clock = clock
        self._calendar: NyseCalendar | None = None
        self._settles: dict[date, date] = {}  # trade day -> settlement day (T+1 session)
        self._open_at: tuple[datetime, datetime] | None = None  # the session last found open
        # _unsettled_proceeds' last answer, keyed by (the last sell fill, today)
        self._unsettled: tuple[tuple[int, date], Decimal] | None = None
        prepare_sqlite(db_path, "simulator database", BrokerError)  # 0600, no symlinks
        try:
            # check_same_thread=False: the fake Alpaca server calls in from its request
            # threads, one at a time under its own lock.
            self._conn = sqlite3.connect(
                db_path, isolation_level=None, timeout=10, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise BrokerError(f"simulator database {db_path}: {exc}") from None
        self._history = DailyHistory(self._conn)
        try:
            self._open()
        except sqlite3.OperationalError as exc:  # locked, unreadable: not damage
            self._conn.close()
            raise BrokerError(f"simulator database {db_path}: {exc}") from None
        except sqlite3.DatabaseError as exc:  # not a database, or a malformed one
            self._conn.close()
            raise SimDamaged(
                f"simulator database {db_path} is damaged ({exc}): run `alch sim reset` to "
                "recreate it from the seed"
            ) from None

    def _open(self) -> None:
        # WAL with synchronous=NORMAL: a commit is a write to the log, not an fsync, so
        # executing hundreds of orders costs the work, not disk waits. A process crash loses
        # nothing; a power cut may lose the last commits of a simulated account.
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        prepare(self._conn)
        check = self._conn.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise sqlite3.DatabaseError(str(check[0]) if check else "integrity check failed")
        migrate(self._conn, self._clock.now())
        if self._meta("seeded_from") is None:
            self._seed_once()

    @property
    def name(self) -> str:
        """Broker label."""
        return "sim"

    def stored_account_id(self) -> str | None:
        """The account id this database was seeded with (read without touching orders)."""
        return self._meta("account_id")

    def close(self) -> None:
        """Close the database."""
        self._conn.close()

    def set_deadline(self, deadline: Deadline | None) -> None:
        """The simulator never waits: nothing to bound."""

    def now(self) -> datetime:
        """The simulator's clock (ALCH_SIM_NOW when set)."""
        return self._clock.now()

    def clock_is_open(self) -> None:
        """None: the simulator follows its own NYSE calendar, it has no separate flag."""
        return None

    def updates(self) -> OrderUpdates | None:
        """No pushed updates: the executor polls the simulator."""
        return None

    def market_open(self) -> bool:
        """Whether the NYSE is open at the simulator's time (the calendar loads lazily)."""
        now = self.now()
        if self._open_at is not None and self._open_at[0] <= now < self._open_at[1]:
            return True  # inside the session found last time: no calendar look-up
        if self._calendar is None:
            self._calendar = self._calendar_for(now)
        state = self._calendar.state(now)
        if state.is_open and state.session is not None:
            self._open_at = (state.session.open, state.session.close)
        return state.is_open

    def open_orders(self) -> list[BrokerOrder]:
        """Orders not yet in a terminal state."""
        self._tick()
        return self._orders("open", _OPEN)  # by an index-free filter, not every order read

    def orders(self) -> list[BrokerOrder]:
        """Every order ever placed (tests)."""
        return self._orders("1=1")

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order with this client_order_id, if the simulator ever received it."""
        self._tick()
        found = self._orders("client_order_id = ?", (client_order_id,))
        return found[0] if found else None

    def _set_status(self, order_id: str, status: OrderStatus) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE orders SET status = ? WHERE id = ?", (status.value, order_id))

    def _hold(self, order_id: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE orders SET held = 1 WHERE id = ?", (order_id,))

    def _orders(self, where: str, args: tuple[str, ...] = ()) -> list[BrokerOrder]:
        rows = self._conn.execute(_ORDER_QUERIES[where], args)
        return [
            BrokerOrder(
                id=r[0],
                client_order_id=r[1],
                symbol=r[2],
                side=Side(r[3]),
                qty=Decimal(r[4]),
                limit_price=None if r[5] is None else Decimal(r[5]),
                status=OrderStatus(r[6]),
                filled_qty=Decimal(r[7]),
                filled_avg_price=None if r[8] is None else Decimal(r[8]),
                order_type=r[9],
                time_in_force=r[10],
                submitted_at=datetime.fromisoformat(r[11]),
            )
            for r in rows
        ]

    def _rows(self, select: str, symbols: set[str]) -> list[tuple[str, ...]]:
        """The rows of `select` (a table keyed by symbol) for a few symbols by key, or of
        the whole table for many: one order's checks read its own row, not 500."""
        if len(symbols) > SYMBOLS_BY_KEY:
            return self._conn.execute(select).fetchall()
        marks = ",".join("?" * len(symbols))
        return self._conn.execute(f"{select} WHERE symbol IN ({marks})", tuple(symbols)).fetchall()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _tx(self) -> AbstractContextManager[sqlite3.Cursor]:
        return write_transaction(self._conn)

    def _seed_once(self) -> None:
        """Seed a new database (`account.Accounts`)."""
        raise NotImplementedError

    def _tick(self) -> None:
        """Bring the simulator up to its clock (`orders.Orders`)."""
        raise NotImplementedError
