"""The embedded simulated broker: a demo account kept in a local SQLite file.

It is a real `Broker`, not a mock: it validates orders the way Alpaca does (buying power,
whole shares for non-fractionable assets, the $1 minimum, unique client_order_ids), fills
marketable limit orders at the quote, and keeps cash, positions, orders and fills across
runs. Tests script partial fills, holds and rejections per symbol with `script()`.

Market hours follow the NYSE calendar and the simulator's clock (`ALCH_SIM_NOW`): an order
sent while the market is closed rests as `accepted` and fills, if marketable, the first time
the simulator is touched during a session. Resting limit orders are re-matched against the
current quotes the same way. Sell proceeds settle T+1 (next session), which `settled_cash`
reflects. Whether alch *should* send while closed is alch's own pre-trade check.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.brokers.base import OrderUpdates
from alchemiser_cli.brokers.sim.history import DailyHistory
from alchemiser_cli.brokers.sim.prices import DEFAULT_SPREAD_BPS, BarPrices
from alchemiser_cli.brokers.sim.schema import migrate, prepare
from alchemiser_cli.brokers.sim.seed import SimSeed, load_seed
from alchemiser_cli.clock import Clock
from alchemiser_cli.core.calendar import NEW_YORK, NyseCalendar
from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.models import (
    Account,
    Asset,
    BrokerOrder,
    Fill,
    OrderRequest,
    OrderStatus,
    Position,
    Quote,
    Side,
)
from alchemiser_cli.core.money import ONE, ZERO, fmt
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.tax.ledger import Ledger, TaxEvent, rebuild
from alchemiser_cli.errors import (
    BrokerError,
    DuplicateOrder,
    OrderRejected,
    SimDamaged,
)
from alchemiser_cli.files import prepare_sqlite, write_transaction

SCRIPT_ACTIONS = ("reject", "partial", "hold")
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


class SimBroker:
    """A simulated cash or margin account persisted in SQLite."""

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
            lambda now: NyseCalendar.around(now.astimezone(NEW_YORK).date())
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

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Series]:
        """Closes from ALCH_SIM_BARS (one SYMBOL.csv each), else synthetic ones (flagged):
        the whole file through `end`, whatever `start` (it is on disk already; a strategy's
        RSI and EMA then read every close there is, and bars that end before `start` are
        still there to be reported stale)."""
        return daily_bars(symbols, date.min, end, self._bars_dir)

    # -- seeding -------------------------------------------------------------------------

    def reset(self) -> SimSeed:
        """Restore the account to its seed file, dropping every order, fill and script."""
        seed = load_seed(self._seed_path)
        self._unsettled = None
        with self._tx() as cur:
            for table in (
                "meta",
                "positions",
                "quotes",
                "assets",
                "adv",
                "orders",
                "fills",
                "script",
                "listed",
                "equity_history",
                "lots",
                "openings",
                "splits",
            ):
                cur.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self._write_seed(cur, seed)
        self._history.forget()
        return seed

    def _seed_once(self) -> None:
        """Seed a new database. Checked again under the write lock, so two processes opening
        a new file at once seed it once, and neither wipes what the other has done since."""
        seed = load_seed(self._seed_path)
        with self._tx() as cur:
            if cur.execute("SELECT 1 FROM meta WHERE key = 'seeded_from'").fetchone() is None:
                self._write_seed(cur, seed)

    def _write_seed(self, cur: sqlite3.Cursor, seed: SimSeed) -> None:
        """Insert the seed's account, positions, quotes and assets into empty tables."""
        meta = {
            "account_id": seed.account_id,
            "account_type": seed.account_type,
            "cash": fmt(seed.cash),
            "seeded_from": str(self._seed_path),
            "seq": "0",
        }
        if seed.daytrade_count is not None:
            meta["daytrade_count"] = str(seed.daytrade_count)
        cur.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        for symbol, qty in seed.positions.items():
            price = seed.quotes.get(symbol) or self._bar_quote(symbol)
            avg = fmt((price.bid + price.ask) / 2) if price else "0"
            cur.execute("INSERT INTO positions VALUES (?, ?, ?)", (symbol, fmt(qty), avg))
            cur.execute(  # the seed's shares are bought when it is seeded, at the mid
                "INSERT INTO openings VALUES (?, ?, ?, ?)",
                (symbol, fmt(qty), avg, self.now().isoformat()),
            )
            lots.open_lot(cur, symbol, qty, Decimal(avg), self.now())
        for q in seed.quotes.values():
            cur.execute(
                "INSERT INTO quotes VALUES (?, ?, ?, ?)",
                (q.symbol, fmt(q.bid), fmt(q.ask), fmt(q.last)),
            )
        cur.executemany("INSERT INTO listed VALUES (?)", ((s,) for s in seed.listed))
        for a in seed.assets.values():
            cur.execute(
                "INSERT INTO assets VALUES (?, ?, ?, ?)",
                (a.symbol, int(a.tradable), int(a.fractionable), a.status),
            )
            if a.avg_daily_volume is not None:
                cur.execute("INSERT INTO adv VALUES (?, ?)", (a.symbol, fmt(a.avg_daily_volume)))

    def set_quote(self, symbol: str, bid: Decimal, ask: Decimal, last: Decimal = ZERO) -> None:
        """Change a quote (tests and scenarios)."""
        with self._tx() as cur:
            cur.execute(
                "INSERT OR REPLACE INTO quotes VALUES (?, ?, ?, ?)",
                (symbol, fmt(bid), fmt(ask), fmt(last)),
            )

    def set_adv(self, symbol: str, volume: Decimal) -> None:
        """Set a symbol's average daily volume in shares (tests and scenarios)."""
        with self._tx() as cur:
            cur.execute("INSERT OR REPLACE INTO adv VALUES (?, ?)", (symbol, fmt(volume)))

    def split(self, symbol: str, ratio: Decimal) -> None:
        """A stock split now: `ratio` new shares per old one in the position, its lots and
        its quote (tests and scenarios; the fake Alpaca server reports it as activities)."""
        with self._tx() as cur:
            lots.split(cur, symbol, ratio, self.now())
            row = cur.execute("SELECT bid, ask, last FROM quotes WHERE symbol = ?", (symbol,))
            quote = row.fetchone()
            if quote is not None:
                cur.execute(
                    "UPDATE quotes SET bid = ?, ask = ?, last = ? WHERE symbol = ?",
                    (*(fmt(Decimal(p) / ratio) for p in quote), symbol),
                )

    def trade_history(self, *, refresh: bool = False) -> list[TaxEvent]:
        """The seed's positions (bought when seeded), every fill and split, oldest first."""
        return lots.history(self._conn)

    def open_lots(self, *, refresh: bool = False) -> Ledger:
        """The tax lots of the whole history (rebuilt: a simulated history is short)."""
        return rebuild(lots.history(self._conn))

    def script(self, symbol: str, action: str, qty: Decimal | None = None) -> None:
        """Queue what happens to the next order in `symbol`: reject, partial (qty) or hold."""
        if action not in SCRIPT_ACTIONS:
            raise ValueError(f"unknown script action {action!r}")
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO script (symbol, action, qty) VALUES (?, ?, ?)",
                (symbol, action, None if qty is None else fmt(qty)),
            )

    def submissions(self) -> list[str]:
        """Every client_order_id ever submitted, in order, duplicates included (tests)."""
        rows = self._conn.execute("SELECT client_order_id FROM submissions ORDER BY rowid")
        return [r[0] for r in rows]

    # -- reads ---------------------------------------------------------------------------

    def account(self) -> Account:
        """Cash, settled cash (T+1), buying power net of open buy orders, and flags."""
        self._tick()
        cash = Decimal(self._meta("cash") or "0")
        reserved = sum(
            (
                (o.qty - o.filled_qty) * (o.limit_price or ZERO)
                for o in self.open_orders()
                if o.side is Side.BUY
            ),
            ZERO,
        )
        count = self._meta("daytrade_count")
        return Account(
            account_id=self._meta("account_id") or "SIM",
            cash=cash,
            buying_power=max(ZERO, cash - reserved),
            settled_cash=max(ZERO, cash - self._unsettled_proceeds()),
            account_type=self._meta("account_type") or "cash",
            daytrade_count=None if count is None else int(count),
        )

    def positions(self) -> dict[str, Position]:
        """Positions with a non-zero quantity."""
        self._tick()
        rows = self._conn.execute("SELECT symbol, qty, avg_price FROM positions ORDER BY symbol")
        return {s: Position(s, Decimal(q), Decimal(a)) for s, q, a in rows if Decimal(q) != ZERO}

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Quotes for the symbols the simulator can price, stamped with the sim clock: from
        ALCH_SIM_BARS where a symbol has bars (they win over the seed's fixed quote), else
        the seed's, else (without ALCH_SIM_BARS) synthetic ones, flagged as such."""
        now = self.now()
        wanted = set(symbols)
        rows = self._rows("SELECT symbol, bid, ask, last FROM quotes", wanted)
        fixed = {
            s: Quote(s, Decimal(b), Decimal(a), Decimal(last), as_of=now)
            for s, b, a, last in rows
            if s in wanted
        }
        if self._prices is None:
            return fixed
        return self._prices.quotes(wanted, fixed, self._listed(wanted), now)

    def _bar_quote(self, symbol: str) -> Quote | None:
        """The bars' quote for a symbol now, if it has bars (seeding a position's cost)."""
        if self._prices is None or not self._prices.has_bars(symbol):
            return None
        return self._prices.quote(symbol, self.now())

    def _listed(self, symbols: set[str]) -> set[str]:
        """The seed's listed symbols among `symbols` (`quotes = [...]`)."""
        return {r[0] for r in self._rows("SELECT symbol FROM listed", symbols)}

    def assets(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """Assets the simulator knows: any symbol it can quote, tradable and fractionable
        unless the seed says otherwise."""
        wanted = set(symbols)
        adv = {s: Decimal(v) for s, v in self._rows("SELECT symbol, volume FROM adv", wanted)}
        known = {
            s: Asset(s, bool(t), bool(f), st, adv.get(s))
            for s, t, f, st in self._rows("SELECT * FROM assets", wanted)
        }
        quoted = {r[0] for r in self._rows("SELECT symbol FROM quotes", wanted)}
        quoted |= self._listed(wanted)
        if self._prices is not None:
            quoted |= self._prices.priced(wanted)
        return {
            s: known.get(s, Asset(s, avg_daily_volume=adv.get(s)))
            for s in wanted
            if s in known or s in quoted
        }

    def listing(self) -> dict[str, Asset]:
        """Every asset the simulator knows (the fake Alpaca server's assets listing)."""
        symbols = {r[0] for r in self._conn.execute("SELECT symbol FROM quotes")}
        symbols |= {r[0] for r in self._conn.execute("SELECT symbol FROM assets")}
        symbols |= {r[0] for r in self._conn.execute("SELECT symbol FROM listed")}
        return self.assets(symbols)

    def open_orders(self) -> list[BrokerOrder]:
        """Orders not yet in a terminal state."""
        self._tick()
        return self._orders("open", _OPEN)  # by an index-free filter, not every order read

    def orders(self) -> list[BrokerOrder]:
        """Every order ever placed (tests)."""
        return self._orders("1=1")

    def orders_since(self, since: datetime) -> list[BrokerOrder]:
        """Orders submitted at or after `since`."""
        self._tick()
        return [
            o for o in self._orders("1=1") if o.submitted_at is not None and o.submitted_at >= since
        ]

    def fills_since(self, since: datetime) -> list[Fill]:
        """Executions at or after `since`."""
        rows = self._conn.execute(
            "SELECT order_id, symbol, side, qty, price, at FROM fills ORDER BY rowid"
        )
        fills = [
            Fill(s, Side(side), Decimal(q), Decimal(p), datetime.fromisoformat(at), oid)
            for oid, s, side, q, p, at in rows
        ]
        return [f for f in fills if f.at >= since]

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """The order with this client_order_id, if the simulator ever received it."""
        self._tick()
        found = self._orders("client_order_id = ?", (client_order_id,))
        return found[0] if found else None

    # -- writes --------------------------------------------------------------------------

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Validate like Alpaca, then accept and fill what is marketable."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO submissions VALUES (?, ?)",
                (request.client_order_id, self.now().isoformat()),
            )
        if self.get_order_by_client_id(request.client_order_id) is not None:
            raise DuplicateOrder(
                f"client_order_id {request.client_order_id} must be unique (already submitted)"
            )
        self._validate(request)
        order_id = str(uuid.uuid4())
        with self._tx() as cur:
            seq = int(self._meta("seq") or "0") + 1
            cur.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            cur.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    order_id,
                    request.client_order_id,
                    request.symbol,
                    request.side.value,
                    fmt(request.qty),
                    None if request.limit_price is None else fmt(request.limit_price),
                    request.order_type,
                    request.time_in_force,
                    OrderStatus.NEW.value,
                    "0",
                    None,
                    self.now().isoformat(),
                    seq,
                ),
            )
        if self.market_open():
            self._match(order_id)
        else:
            self._set_status(order_id, OrderStatus.ACCEPTED)  # queued for the next session
        found = self.get_order_by_client_id(request.client_order_id)
        assert found is not None
        return found

    def cancel_order(self, order_id: str) -> BrokerOrder:
        """Cancel an open order (a filled one stays filled, as at Alpaca)."""
        orders = self._orders("id = ?", (order_id,))
        if not orders:
            raise BrokerError(f"order {order_id} not found")
        order = orders[0]
        if not order.status.is_terminal:
            with self._tx() as cur:
                cur.execute(
                    "UPDATE orders SET status = ? WHERE id = ?",
                    (OrderStatus.CANCELED.value, order_id),
                )
        return self._orders("id = ?", (order_id,))[0]

    def replace_order(
        self, order_id: str, qty: Decimal, limit_price: Decimal, client_order_id: str
    ) -> BrokerOrder:
        """Alpaca's PATCH: the old order becomes `replaced`, a new one takes its place.

        Not part of `Broker` (alch never replaces an order): the fake Alpaca server's PATCH
        route answers with it."""
        found = self._orders("id = ?", (order_id,))
        if not found:
            raise BrokerError(f"order {order_id} not found")
        old = found[0]
        if old.status.is_terminal:
            raise OrderRejected(f"order {order_id} is not replaceable (status {old.status})")
        if qty <= old.filled_qty:
            raise OrderRejected(f"qty {fmt(qty)} is not above the filled {fmt(old.filled_qty)}")
        self._set_status(order_id, OrderStatus.REPLACED)
        remaining = qty - old.filled_qty
        request = OrderRequest(
            client_order_id, old.symbol, old.side, remaining, limit_price,
            old.order_type, old.time_in_force,
        )  # fmt: skip
        try:
            return self.submit_order(request)
        except BrokerError:
            self._set_status(order_id, old.status)  # the replacement failed: the old one stands
            raise

    # -- internals -----------------------------------------------------------------------

    def _validate(self, req: OrderRequest) -> None:
        if req.qty <= ZERO:
            raise OrderRejected(f"{req.symbol}: qty must be positive")
        asset = self.assets([req.symbol]).get(req.symbol)
        if asset is None:
            raise OrderRejected(f"{req.symbol}: asset not found")
        if not asset.tradable or asset.status != "active":
            raise OrderRejected(f"{req.symbol}: asset is not tradable")
        if not asset.fractionable and req.qty != req.qty.to_integral_value():
            raise OrderRejected(f"{req.symbol}: requested asset is not fractionable")
        quote = self.quotes([req.symbol]).get(req.symbol)
        price = req.limit_price or (quote.ask if quote else ZERO)
        if req.qty != req.qty.to_integral_value() and req.qty * price < ONE:
            raise OrderRejected(f"{req.symbol}: cost basis must be >= minimal amount of order 1")
        if req.side is Side.BUY:
            needed = req.qty * price
            available = self.account().buying_power
            if needed > available:
                raise OrderRejected(
                    f"insufficient buying power: {req.symbol} needs {fmt(needed)}, "
                    f"available {fmt(available)}"
                )
        else:
            self._tick()
            row = self._conn.execute(
                "SELECT qty FROM positions WHERE symbol = ?", (req.symbol,)
            ).fetchone()
            held = None if row is None or Decimal(row[0]) == ZERO else Decimal(row[0])
            pending = sum(
                (
                    o.qty - o.filled_qty
                    for o in self.open_orders()
                    if o.symbol == req.symbol and o.side is Side.SELL
                ),
                ZERO,
            )
            if held is None or held - pending < req.qty:
                raise OrderRejected(f"insufficient qty available for order: {req.symbol}")

    def _match(self, order_id: str) -> None:
        """Apply a scripted outcome, or fill at the quote if the limit is marketable."""
        order = self._orders("id = ?", (order_id,))[0]
        step = self._conn.execute(
            "SELECT seq, action, qty FROM script WHERE symbol = ? ORDER BY seq LIMIT 1",
            (order.symbol,),
        ).fetchone()
        quote = self.quotes([order.symbol]).get(order.symbol)
        if step is not None:
            seq, action, qty = step
            with self._tx() as cur:
                cur.execute("DELETE FROM script WHERE seq = ?", (seq,))
            if action == "reject":
                self._set_status(order_id, OrderStatus.REJECTED)
                return
            self._hold(order_id)  # a scripted hold or partial rests until cancelled
            if action == "hold" or quote is None:
                return
            partial = min(order.qty, Decimal(qty)) if qty else order.qty / 2
            self._fill(order, partial, self._fill_price(order, quote))
            return
        if quote is None:
            return
        price = self._fill_price(order, quote)
        limit = order.limit_price
        marketable = limit is None or (price <= limit if order.side is Side.BUY else price >= limit)
        if marketable and price > ZERO:
            self._fill(order, order.qty - order.filled_qty, price)

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

    def _tick(self) -> None:
        """Open today's row of the daily history (the account as the day began), then,
        during a session, match every resting order that was not scripted to hold."""
        self._history.open_day(self.now().astimezone(NEW_YORK).date())
        resting = self._conn.execute(
            "SELECT id FROM orders WHERE held = 0 AND status IN (?, ?) ORDER BY seq",
            (OrderStatus.NEW.value, OrderStatus.ACCEPTED.value),
        ).fetchall()
        if resting and self.market_open():
            for (order_id,) in resting:
                self._match(order_id)

    def portfolio_history(self, start: date, end: date) -> PortfolioHistory:
        """The account at each session's close from its daily history (sim/history.py)."""
        self._tick()
        return self._history.read(start, end, self.daily_bars)

    def transfer(self, amount: Decimal) -> None:
        """Deposit (positive) or withdraw (negative) cash today (tests and scenarios)."""
        today = self.now().astimezone(NEW_YORK).date()
        self._history.open_day(today)
        with self._tx() as cur:
            cash = Decimal(self._meta("cash") or "0") + amount
            cur.execute("UPDATE meta SET value = ? WHERE key = 'cash'", (fmt(cash),))
        self._history.add_flow(today, amount)

    def _hold(self, order_id: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE orders SET held = 1 WHERE id = ?", (order_id,))

    def _unsettled_proceeds(self) -> Decimal:
        """Sell proceeds not yet settled: a sale settles on the next session (T+1)."""
        now = self.now()
        today = now.astimezone(NEW_YORK).date()
        last = self._conn.execute("SELECT max(rowid) FROM fills WHERE side = 'sell'").fetchone()
        key = (int(last[0] or 0), today)
        if self._unsettled is not None and self._unsettled[0] == key:
            return self._unsettled[1]  # no sale since the last answer, the same day
        value = self._unsettled_since(now, today)
        self._unsettled = (key, value)
        return value

    def _unsettled_since(self, now: datetime, today: date) -> Decimal:
        since = (now - timedelta(days=7)).isoformat()
        rows = self._conn.execute(
            "SELECT qty, price, at FROM fills WHERE side = 'sell' AND at >= ?", (since,)
        ).fetchall()
        if not rows:
            return ZERO
        if self._calendar is None:
            self._calendar = self._calendar_for(now)
        unsettled = ZERO
        for qty, price, at in rows:
            trade_day = datetime.fromisoformat(at).astimezone(NEW_YORK).date()
            settles = self._settles.get(trade_day)
            if settles is None:  # one calendar look-up per trade day, not per fill
                (session,) = self._calendar.sessions(trade_day + timedelta(days=1), 1)
                settles = self._settles[trade_day] = session.day
            if settles > today:
                unsettled += Decimal(qty) * Decimal(price)
        return unsettled

    @staticmethod
    def _fill_price(order: BrokerOrder, quote: Quote) -> Decimal:
        return quote.ask if order.side is Side.BUY else quote.bid

    def _fill(self, order: BrokerOrder, qty: Decimal, price: Decimal) -> None:
        filled = order.filled_qty + qty
        avg = (
            price
            if order.filled_avg_price is None
            else ((order.filled_avg_price * order.filled_qty + price * qty) / filled)
        )
        status = OrderStatus.FILLED if filled >= order.qty else OrderStatus.PARTIALLY_FILLED
        with self._tx() as cur:
            lots.book(cur, order.id, order.symbol, order.side, qty, price, self.now())
            cur.execute(
                "UPDATE orders SET filled_qty = ?, filled_avg_price = ?, status = ? WHERE id = ?",
                (fmt(filled), fmt(avg), status.value, order.id),
            )

    def book_fill(self, symbol: str, side: Side, qty: Decimal, price: Decimal) -> None:
        """A fill now that no order of this simulator made (a trade outside alch, or a
        history for tests and benchmarks): cash, position, lots and the fills move."""
        with self._tx() as cur:
            lots.book(cur, f"outside-{uuid.uuid4()}", symbol, side, qty, price, self.now())

    def _set_status(self, order_id: str, status: OrderStatus) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE orders SET status = ? WHERE id = ?", (status.value, order_id))

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
