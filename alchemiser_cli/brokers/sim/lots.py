"""The simulator's tax lots, kept from its fills as Alpaca keeps them.

A buy opens a lot; a sell closes lots first in, first out; a position's average entry
price is what its remaining lots cost per share (so it changes after a sale, as Alpaca's
does, rather than staying a running average). The seed's positions open lots when the
account is seeded. `history` gives the account's trades for the tax ledger: the seed's
openings, every fill and every split, oldest first.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from decimal import Decimal

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.tax.ledger import Kind, TaxEvent, rebuild

TABLES = (
    """CREATE TABLE IF NOT EXISTS lots (seq INTEGER PRIMARY KEY AUTOINCREMENT,
        symbol TEXT NOT NULL, qty TEXT NOT NULL, cost TEXT NOT NULL, acquired TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS openings (symbol TEXT NOT NULL, qty TEXT NOT NULL,
        price TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS splits (symbol TEXT NOT NULL, ratio TEXT NOT NULL,
        at TEXT NOT NULL)""",
)


def book(
    cur: sqlite3.Cursor,
    order_id: str,
    symbol: str,
    side: Side,
    qty: Decimal,
    price: Decimal,
    at: datetime,
) -> None:
    """One fill: cash, the position (its average price from the lots), the lots, the fills."""
    sign = 1 if side is Side.BUY else -1
    row = cur.execute("SELECT value FROM meta WHERE key = 'cash'").fetchone()
    cash = Decimal(row[0] if row else "0") - sign * qty * price
    cur.execute("UPDATE meta SET value = ? WHERE key = 'cash'", (fmt(cash),))
    row = cur.execute("SELECT qty, avg_price FROM positions WHERE symbol = ?", (symbol,)).fetchone()
    old_qty, old_avg = (Decimal(row[0]), Decimal(row[1])) if row else (ZERO, ZERO)
    if side is Side.BUY:
        open_lot(cur, symbol, qty, price, at)
    else:
        close_lots(cur, symbol, qty)
    avg = average_price(cur, symbol) or old_avg  # FIFO, as Alpaca reports it
    cur.execute(
        "INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
        (symbol, fmt(old_qty + sign * qty), fmt(avg)),
    )
    cur.execute(
        "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?)",
        (order_id, symbol, side.value, fmt(qty), fmt(price), at.isoformat()),
    )


def open_lot(cur: sqlite3.Cursor, symbol: str, qty: Decimal, price: Decimal, at: datetime) -> None:
    """A purchase: one new lot."""
    cur.execute(
        "INSERT INTO lots (symbol, qty, cost, acquired) VALUES (?, ?, ?, ?)",
        (symbol, fmt(qty), fmt(qty * price), at.isoformat()),
    )


def close_lots(cur: sqlite3.Cursor, symbol: str, qty: Decimal) -> None:
    """A sale: the oldest lots first, the last one in part."""
    rows = cur.execute(
        "SELECT seq, qty, cost FROM lots WHERE symbol = ? ORDER BY seq", (symbol,)
    ).fetchall()
    left = qty
    for seq, lot_qty, lot_cost in rows:
        if left <= ZERO:
            break
        held, cost = Decimal(lot_qty), Decimal(lot_cost)
        if held <= left:
            cur.execute("DELETE FROM lots WHERE seq = ?", (seq,))
            left -= held
            continue
        rest = held - left
        cur.execute(
            "UPDATE lots SET qty = ?, cost = ? WHERE seq = ?",
            (fmt(rest), fmt(cost * rest / held), seq),
        )
        left = ZERO


def average_price(cur: sqlite3.Cursor, symbol: str) -> Decimal | None:
    """What the remaining lots cost per share; None without lots."""
    qty = cost = ZERO
    for lot_qty, lot_cost in cur.execute("SELECT qty, cost FROM lots WHERE symbol = ?", (symbol,)):
        qty += Decimal(lot_qty)
        cost += Decimal(lot_cost)
    return cost / qty if qty > ZERO else None


def split(cur: sqlite3.Cursor, symbol: str, ratio: Decimal, at: datetime) -> None:
    """A split: `ratio` new shares per old one in the lots and the position (whose average
    price divides by it); the cost of every lot stays."""
    for seq, qty in cur.execute("SELECT seq, qty FROM lots WHERE symbol = ?", (symbol,)).fetchall():
        cur.execute("UPDATE lots SET qty = ? WHERE seq = ?", (fmt(Decimal(qty) * ratio), seq))
    row = cur.execute("SELECT qty, avg_price FROM positions WHERE symbol = ?", (symbol,)).fetchone()
    if row is not None:
        cur.execute(
            "UPDATE positions SET qty = ?, avg_price = ? WHERE symbol = ?",
            (fmt(Decimal(row[0]) * ratio), fmt(Decimal(row[1]) / ratio), symbol),
        )
    cur.execute("INSERT INTO splits VALUES (?, ?, ?)", (symbol, fmt(ratio), at.isoformat()))


def history(conn: sqlite3.Connection | sqlite3.Cursor) -> list[TaxEvent]:
    """The seed's openings, every fill and every split, oldest first (ties in that order)."""
    events = [
        TaxEvent(datetime.fromisoformat(at), s, Kind.BUY, Decimal(q), Decimal(p), ref=f"open-{s}")
        for s, q, p, at in conn.execute(
            "SELECT symbol, qty, price, at FROM openings ORDER BY rowid"
        )
    ]
    fills = conn.execute("SELECT rowid, symbol, side, qty, price, at FROM fills ORDER BY rowid")
    events += [
        TaxEvent(datetime.fromisoformat(at), s, Kind(side), Decimal(q), Decimal(p), ref=f"fill-{n}")
        for n, s, side, q, p, at in fills
    ]
    events += [
        TaxEvent(datetime.fromisoformat(at), s, Kind.SPLIT, ratio=Decimal(r), ref=f"split-{n}")
        for n, s, r, at in conn.execute(
            "SELECT rowid, symbol, ratio, at FROM splits ORDER BY rowid"
        )
    ]
    events.sort(key=lambda e: e.at)
    return events


def migrate(cur: sqlite3.Cursor) -> None:
    """m006: the tables, and lots for a file made before them. Its positions are taken to be
    what the seed held plus its fills: the shares the fills do not explain open one lot
    each at the position's average price, when the file was made (its first migration)."""
    for statement in TABLES:
        cur.execute(statement)
    net: dict[str, Decimal] = {}
    for symbol, side, qty in cur.execute("SELECT symbol, side, qty FROM fills"):
        sign = 1 if side == "buy" else -1
        net[symbol] = net.get(symbol, ZERO) + sign * Decimal(qty)
    made = cur.execute("SELECT min(applied_at) FROM migrations").fetchone()[0]
    opened = datetime.fromisoformat(made or "1970-01-01T00:00:00+00:00")
    for symbol, qty, avg in cur.execute("SELECT symbol, qty, avg_price FROM positions").fetchall():
        seeded = Decimal(qty) - net.get(symbol, ZERO)
        if seeded > ZERO:
            cur.execute(
                "INSERT INTO openings VALUES (?, ?, ?, ?)",
                (symbol, fmt(seeded), avg, opened.isoformat()),
            )
    for symbol, lots in rebuild(history(cur)).lots.items():
        for lot in lots:
            cur.execute(
                "INSERT INTO lots (symbol, qty, cost, acquired) VALUES (?, ?, ?, ?)",
                (symbol, fmt(lot.qty), fmt(lot.cost), lot.acquired.isoformat()),
            )
