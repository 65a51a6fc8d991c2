"""The simulator's account and positions: cash, settled cash (T+1), buying power, and
the seed they start from."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from decimal import Decimal

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.brokers.sim.quotes import Quotes
from alchemiser_cli.brokers.sim.seed import SimSeed, load_seed
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import Account, Position, Side
from alchemiser_cli.core.money import ZERO, fmt


class Accounts(Quotes):
    """The account, its positions and its seed."""

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
