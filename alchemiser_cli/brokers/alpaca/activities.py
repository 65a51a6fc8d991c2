"""Alpaca's account activities, read for the tax lots and cached under ALCH_HOME.

alpaca-py's `TradingClient` has no activities call (only the Broker API's client does), so
this goes through the same raw GET the adapter uses for every trading read (retried, rate
limited, timed out, secrets scrubbed): GET /v2/account/activities.

- FILL activities (one per execution) are paged oldest first (`direction=asc`,
  `page_size=100`, Alpaca's maximum) from the id of the last one cached (`page_token`):
  a run asks only for what is new, one request per page, and one when there is nothing
  new. Each page is stored as it comes, so an interrupted download resumes.
- SPLIT activities are few, and Alpaca dates them by the split while creating them later,
  so they are not paged from a token: all of them are asked for again when the cached ones
  are a day old, or on `refresh` (the caller's lots did not match the positions). Alpaca
  may report a split as the shares removed and the shares added (one `group_id`) or as
  the net shares added alone: both are read.

The cache is one private SQLite file per API key (named by a hash of the key id, like the
rate limiter's), `cache/activities-<paper|live>-<hash>.sqlite`; deleting it is safe.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.tax import state
from alchemiser_cli.core.tax.ledger import Kind, Ledger, TaxEvent
from alchemiser_cli.errors import BrokerError
from alchemiser_cli.files import prepare_sqlite, write_transaction

PATH = "/account/activities"
PAGE_SIZE = 100  # Alpaca's maximum
SPLITS_TTL = timedelta(days=1)
REFRESH_AFTER = timedelta(minutes=5)
# The cached ledger moves on once this many fills came since it (writing it costs more
# than applying a few hundred fills again).
CHECKPOINT_EVERY = 500  # `refresh` does not re-ask splits fetched this recently
Get = Callable[[str, dict[str, Any]], Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fills (id TEXT PRIMARY KEY, symbol TEXT NOT NULL,
    side TEXT NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS splits (id TEXT PRIMARY KEY, symbol TEXT NOT NULL,
    qty TEXT NOT NULL, day TEXT NOT NULL, grp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class ActivityCache:
    """FILLs and SPLITs already read, in one private SQLite file. A row that cannot be
    read back (the file damaged or edited) is one `BrokerError` naming the file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        prepare_sqlite(path, "activity cache", BrokerError)
        try:
            self._conn = sqlite3.connect(path, isolation_level=None, timeout=10)
            self._conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise BrokerError(
                f"activity cache {path}: {exc} (delete the file: it is only a cache)"
            ) from None

    def close(self) -> None:
        """Close the file."""
        self._conn.close()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Turn a cached value that is not what alch wrote into one line naming the file."""
        try:
            yield
        except (sqlite3.Error, ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise BrokerError(
                f"activity cache {self._path}: damaged ({type(exc).__name__}: {exc}); delete "
                "the file: it is only a cache"
            ) from None

    def last_fill(self) -> str | None:
        """The id of the newest FILL cached (ids sort in time order)."""
        row = self._conn.execute("SELECT max(id) FROM fills").fetchone()
        return None if row is None else row[0]

    def add_fills(self, rows: list[tuple[str, str, str, str, str, str]]) -> None:
        """One page of FILLs, in one transaction."""
        with write_transaction(self._conn) as cur:
            cur.executemany("INSERT OR REPLACE INTO fills VALUES (?, ?, ?, ?, ?, ?)", rows)

    def splits_at(self) -> datetime | None:
        """When the SPLITs were last read."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'splits_at'").fetchone()
        if row is None:
            return None
        at = datetime.fromisoformat(row[0])
        if at.tzinfo is None:
            raise ValueError(f"splits_at {row[0]!r} has no time zone")
        return at

    def set_splits(self, rows: list[tuple[str, str, str, str, str]], at: datetime) -> None:
        """Every SPLIT, replacing those cached, and when they were read."""
        with write_transaction(self._conn) as cur:
            cur.execute("DELETE FROM splits")
            cur.executemany("INSERT INTO splits VALUES (?, ?, ?, ?, ?)", rows)
            cur.execute("INSERT OR REPLACE INTO meta VALUES ('splits_at', ?)", (at.isoformat(),))

    def _fills(self, after: str | None = None) -> list[TaxEvent]:
        kinds = {"buy": Kind.BUY, "sell": Kind.SELL}  # a look-up, not an Enum call, per row
        rows = self._conn.execute(
            "SELECT id, symbol, side, qty, price, at FROM fills WHERE id > ? ORDER BY id",
            (after or "",),
        )
        return [
            TaxEvent(datetime.fromisoformat(at), s, kinds[side], Decimal(q), Decimal(p), ref=i)
            for i, s, side, q, p, at in rows
        ]

    def _splits(self) -> tuple[list[TaxEvent], str]:
        """The split events, and a digest of the rows they come from."""
        groups: dict[str, list[tuple[str, str, Decimal, str]]] = {}
        digest = hashlib.sha256()
        for i, s, q, day, grp in self._conn.execute("SELECT * FROM splits ORDER BY id"):
            groups.setdefault(grp, []).append((i, s, Decimal(q), day))
            digest.update(f"{i}|{s}|{q}|{day}|{grp}\n".encode())
        return [_split_event(parts) for parts in groups.values()], digest.hexdigest()

    def events(self) -> list[TaxEvent]:
        """Every cached fill and split as tax events, oldest first."""
        events = self._fills() + self._splits()[0]
        events.sort(key=lambda e: e.at)
        return events

    def resumed(self) -> Ledger:
        """The ledger of every cached event, from the checkpoint when its splits are still
        the same: only the fills since (and splits after it) are applied. The checkpoint
        moves to the newest fill every CHECKPOINT_EVERY fills (a split dated after the
        newest fill is applied, not checkpointed: a fill of its day may sort before it)."""
        splits, digest = self._splits()
        ledger, after, since = self._checkpoint(digest)
        fills = self._fills(after)
        last = fills[-1].at if fills else since
        events = sorted(fills + [s for s in splits if since is None or s.at > since],
                        key=lambda e: e.at)  # fmt: skip
        ledger.apply(e for e in events if last is not None and e.at <= last)
        if len(fills) >= CHECKPOINT_EVERY or (fills and after is None):
            mark = {"through": fills[-1].ref, "at": fills[-1].at.isoformat(), "splits": digest,
                    "state": state.dump(ledger)}  # fmt: skip
            with write_transaction(self._conn) as cur:
                cur.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('checkpoint', ?)", (json.dumps(mark),)
                )
        return ledger.apply(e for e in events if last is None or e.at > last)

    def _checkpoint(self, digest: str) -> tuple[Ledger, str | None, datetime | None]:
        """(ledger, the last fill it applied, that fill's time) of a usable checkpoint,
        else an empty ledger from the start."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'checkpoint'").fetchone()
        try:
            mark = json.loads(row[0]) if row else None
            if isinstance(mark, dict) and mark.get("splits") == digest:
                at = datetime.fromisoformat(str(mark["at"]))
                return state.load(mark["state"]), str(mark["through"]), at
        except (KeyError, TypeError, ValueError, InvalidOperation):
            pass  # another layout, or damaged: rebuilt from the cached events
        return Ledger(), None, None


def _split_event(parts: list[tuple[str, str, Decimal, str]]) -> TaxEvent:
    """One split from its activities: a ratio from the shares removed and added, or the
    net shares added alone (the ledger takes the ratio from the holding then)."""
    ref, symbol, _, day = parts[0]
    removed = -sum((q for _, _, q, _ in parts if q < ZERO), ZERO)
    added = sum((q for _, _, q, _ in parts if q > ZERO), ZERO)
    at = datetime.combine(datetime.fromisoformat(day).date(), time(0), tzinfo=NEW_YORK)
    if removed > ZERO and added > ZERO:
        return TaxEvent(at, symbol, Kind.SPLIT, ratio=added / removed, ref=ref)
    return TaxEvent(at, symbol, Kind.SPLIT, qty=added - removed, ref=ref)


def trade_history(get: Get, path: Path, now: datetime, *, refresh: bool) -> list[TaxEvent]:
    """Every FILL and SPLIT of the account as tax events, asking Alpaca only for the new."""
    cache = ActivityCache(path)
    try:
        _sync(get, cache, now, refresh=refresh)
        with cache.reading():
            return cache.events()
    finally:
        cache.close()


def open_lots(get: Get, path: Path, now: datetime, *, refresh: bool) -> Ledger:
    """The open lots (and losses a purchase may still replace) of the whole history, resumed
    from the cached ledger: only the activities since it are applied."""
    cache = ActivityCache(path)
    try:
        _sync(get, cache, now, refresh=refresh)
        with cache.reading():
            return cache.resumed()
    finally:
        cache.close()


def _sync(get: Get, cache: ActivityCache, now: datetime, *, refresh: bool) -> None:
    """Fetch the new FILL pages, and the SPLITs when a day old (or on `refresh`)."""
    _new_fills(get, cache)
    with cache.reading():
        read_at = cache.splits_at()
    age = None if read_at is None else now - read_at
    stale = age is None or not timedelta(0) <= age < SPLITS_TTL
    if stale or (refresh and age is not None and age >= REFRESH_AFTER):
        _all_splits(get, cache, now)


def _new_fills(get: Get, cache: ActivityCache) -> None:
    """Page FILLs from the last one cached until a short page (ids rise in time order: a
    page whose last id does not pass the token would be asked for again without end)."""
    with cache.reading():
        token = cache.last_fill()
    while True:
        query: dict[str, Any] = {
            "activity_types": "FILL",
            "direction": "asc",
            "page_size": PAGE_SIZE,
        }
        if token is not None:
            query["page_token"] = token
        page = _page(get(PATH, query))
        rows = [_fill_row(item) for item in page]
        if rows:
            _moved_on(token, rows[-1][0])
            cache.add_fills(rows)
            token = rows[-1][0]
        if len(page) < PAGE_SIZE:
            return


def _all_splits(get: Get, cache: ActivityCache, now: datetime) -> None:
    """Every SPLIT (all pages), replacing the cached ones."""
    rows: list[tuple[str, str, str, str, str]] = []
    token: str | None = None
    while True:
        query: dict[str, Any] = {"activity_types": "SPLIT", "direction": "asc",
                                 "page_size": PAGE_SIZE}  # fmt: skip
        if token is not None:
            query["page_token"] = token
        page = _page(get(PATH, query))
        rows += [r for r in (_split_row(item) for item in page) if r is not None]
        if len(page) < PAGE_SIZE:
            break
        last = page[-1].get("id")
        _moved_on(token, last if isinstance(last, str) else "")
        token = str(last)
    cache.set_splits(rows, now)


def _moved_on(token: str | None, last: str) -> None:
    """Refuse a page that does not end past the token it was asked from."""
    if not last or (token is not None and last <= token):
        raise BrokerError(
            f"unexpected activities answer from Alpaca: the page after {token!r} did not move "
            "past it (ids must rise); try again later"
        )


def _page(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise BrokerError("unexpected activities answer from Alpaca (expected a list)")
    return raw


def _fill_row(item: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """(id, symbol, side, qty, price, time) of a FILL; anything else is a clear error."""
    try:
        side = str(item["side"])
        kind = Kind.BUY if side == "buy" else Kind.SELL if side.startswith("sell") else None
        qty, price = Decimal(str(item["qty"])), Decimal(str(item["price"]))
        at = datetime.fromisoformat(str(item["transaction_time"]).replace("Z", "+00:00"))
        ref, symbol = item["id"], item["symbol"]
        named = isinstance(ref, str) and bool(ref) and isinstance(symbol, str) and bool(symbol)
        sized = qty.is_finite() and price.is_finite() and qty > ZERO and price > ZERO
        if kind is None or at.tzinfo is None or not (named and sized):
            raise ValueError(side)
        return (
            ref,
            symbol,
            kind.value,
            str(qty),
            str(price),
            at.isoformat(),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise BrokerError(f"unexpected FILL activity from Alpaca: {item.get('id')!r}") from None


def _split_row(item: dict[str, Any]) -> tuple[str, str, str, str, str] | None:
    """(id, symbol, qty, day, group) of an executed SPLIT; None for a cancelled one."""
    if item.get("status") == "canceled":
        return None
    try:
        qty = Decimal(str(item["qty"]))
        day = datetime.fromisoformat(str(item["date"])[:10]).date()
        if not qty.is_finite():
            raise ValueError(item["qty"])
        ref = str(item["id"])
        return ref, str(item["symbol"]), str(qty), day.isoformat(), str(item.get("group_id") or ref)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        raise BrokerError(f"unexpected SPLIT activity from Alpaca: {item.get('id')!r}") from None
