"""Asset records from Alpaca, cached under ALCH_HOME across days.

The refresh rule: the listing (one request, every active US equity) is fetched again when
it is older than LISTING_TTL, damaged, or lacks a symbol asked for (a new listing). A
symbol absent from a listing fetched in this call is looked up alone, once (GET
/v2/assets/{symbol}: an inactive or delisted holding is still described), and that answer
is kept LOOKUP_TTL; one Alpaca does not know is absent from the result (the planner says
"no asset record for it"). A stale flag cannot make a wrong trade: Alpaca validates every
order it receives.

ADV comes from daily bars and only from `sip`: the free `iex` feed counts IEX's own
volume, a few percent of the market's, which would make every order look large and slice
it needlessly. On `iex` ADV is absent and only the notional threshold slices orders.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from alchemiser_cli.brokers.alpaca.answers import NotFound
from alchemiser_cli.brokers.alpaca.parse import as_list, volume
from alchemiser_cli.core.models import Asset
from alchemiser_cli.errors import BrokerError, ConfigError
from alchemiser_cli.files import private_dir, read_private, write_private

log = logging.getLogger(__name__)

BARS_BATCH = 100  # symbols per daily-bars request (ADV)
LISTING_TTL = timedelta(days=3)  # the assets listing is fetched again after this (see assets)
LOOKUP_TTL = timedelta(days=1)  # a single-symbol look-up (a symbol the listing lacks)
ADV_TTL = timedelta(days=1)  # average daily volume from SIP bars
CACHE_VERSION = 2  # the asset cache's layout; any other file is fetched again
ADV_SESSIONS = 20  # average daily volume over the last 20 daily bars
ADV_LOOKBACK = timedelta(days=40)  # calendar days that hold 20 sessions, holidays included
BARS_PAGE = 10_000  # bars per page (Alpaca's maximum)

Get = Callable[[str, dict[str, Any] | None], Any]


class Assets:
    """The asset cache of one account kind, filled through `get` (trading API, read with
    retries; NotFound for a 404) and `data_get` (market data API)."""

    def __init__(self, path: Path, feed: str, get: Get, data_get: Get) -> None:
        self.path = path
        self._feed = feed
        self._get = get
        self._data_get = data_get
        self._memo: dict[str, Any] | None = None  # the cache, read once per process

    def records(self, symbols: list[str], now: datetime) -> dict[str, Asset]:
        """Asset records of `symbols` (sorted, not empty), the cache refreshed as needed."""
        cache = self._memo if self._memo is not None else self._load_cache()
        self._memo = cache
        records, changed = self._known(cache, symbols, now)
        volumes = _section(cache, "adv")
        if self._feed == "sip":
            stale = [s for s in records if _fresh_adv(volumes.get(s), now) is None]
            if stale:
                measured = self._adv(stale, now)
                for symbol in stale:
                    adv = measured.get(symbol)
                    volumes[symbol] = {
                        "at": now.isoformat(),
                        "adv": None if adv is None else str(adv),
                    }
                changed = True
        if changed:
            self._save_cache(cache)
        result: dict[str, Asset] = {}
        for symbol, a in records.items():
            entry = _fresh_adv(volumes.get(symbol), now) if self._feed == "sip" else None
            adv_text = None if entry is None else entry["adv"]
            result[symbol] = Asset(
                symbol,
                a["tradable"],
                a["fractionable"],
                a["status"],
                None if adv_text is None else Decimal(adv_text),
                shortable=a.get("shortable"),
                exchange=a.get("exchange"),
            )
        return result

    def _known(
        self, cache: dict[str, Any], wanted: list[str], now: datetime
    ) -> tuple[dict[str, dict[str, Any]], bool]:
        """The records of `wanted` from a fresh listing and look-ups (fetching them when
        the cache lacks one), and whether the cache changed."""
        listing = _fresh_listing(cache.get("listing"), now)
        lookups = _section(cache, "lookups")
        changed = fetched = False

        def unknown(among: list[str]) -> list[str]:
            return [
                s for s in among
                if _record(listing.get(s)) is None
                and _fresh_lookup(lookups.get(s), now) is None
            ]  # fmt: skip

        if listing and not unknown(wanted):
            pass  # everything asked for is in a fresh listing, or looked up recently
        else:
            listing = self._listing()
            cache["listing"] = {"at": now.isoformat(), "assets": listing}
            changed = fetched = True
        for symbol in unknown(wanted) if fetched else []:
            raw = self._asset(symbol)
            if raw is not None:
                lookups[symbol] = {"at": now.isoformat(), "asset": raw}
        records: dict[str, dict[str, Any]] = {}
        for symbol in wanted:
            record = _record(listing.get(symbol))
            if record is None:
                entry = _fresh_lookup(lookups.get(symbol), now)
                record = None if entry is None else entry["asset"]
            if record is not None:
                records[symbol] = record
        return records, changed

    def _listing(self) -> dict[str, dict[str, Any]]:
        """GET /v2/assets?status=active&asset_class=us_equity: one request for every active
        US equity, reduced to the attributes alch uses."""
        raw = self._get("/assets", {"status": "active", "asset_class": "us_equity"})
        listing: dict[str, dict[str, Any]] = {}
        for item in as_list(raw, "assets listing"):
            record = _record(_attributes(item))
            symbol = item.get("symbol")
            if record is None or not isinstance(symbol, str):
                raise BrokerError(
                    f"unexpected assets listing from Alpaca: entry {str(symbol)[:20]!r} lacks "
                    "tradable, fractionable or status"
                )
            listing[symbol] = record
        return listing

    def _adv(self, symbols: list[str], now: datetime) -> dict[str, Decimal]:
        """Mean volume of each symbol's last ADV_SESSIONS daily bars (all pages)."""
        volumes: dict[str, list[Decimal]] = {}
        start = (now - ADV_LOOKBACK).date().isoformat()
        for first in range(0, len(symbols), BARS_BATCH):
            batch = symbols[first : first + BARS_BATCH]
            token: str | None = None
            tokens: set[str] = set()  # a server that hands back a token twice loops forever
            while True:
                params = {
                    "symbols": ",".join(batch),
                    "timeframe": "1Day",
                    "start": start,
                    "limit": str(BARS_PAGE),
                    "feed": "sip",
                    "adjustment": "split",
                }
                if token:
                    params["page_token"] = token

                raw = self._data_get("/stocks/bars", params)
                page = raw.get("bars") or {} if isinstance(raw, dict) else {}
                for symbol, rows in page.items():
                    if symbol in batch and isinstance(rows, list):
                        volumes.setdefault(symbol, []).extend(volume(r, symbol) for r in rows)
                token = raw.get("next_page_token") if isinstance(raw, dict) else None
                if not token:
                    break
                if token in tokens:
                    raise BrokerError(
                        f"Alpaca's daily bars repeated page token {token!r}: try again later"
                    )
                tokens.add(token)
        return {
            s: Decimal(sum(v[-ADV_SESSIONS:])) / len(v[-ADV_SESSIONS:])
            for s, v in volumes.items()
            if v
        }

    def _asset(self, symbol: str) -> dict[str, Any] | None:
        """GET /v2/assets/{symbol}: one symbol the listing lacks (None: Alpaca has none)."""
        try:
            raw = self._get(f"/assets/{symbol}", None)
        except NotFound:
            return None
        record = _record(_attributes(raw))
        if record is None:
            raise BrokerError(f"unexpected asset answer from Alpaca for {symbol}")
        return record

    def _load_cache(self) -> dict[str, Any]:
        """The asset cache; unreadable, a symlink, not JSON or another layout: empty (fetched
        again). Its parts are checked where they are used."""
        try:
            data = json.loads(read_private(self.path))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {"version": CACHE_VERSION}
        return data

    def _save_cache(self, cache: dict[str, Any]) -> None:
        """Write the cache 0600 through a fresh temporary file, never through a symlink."""
        try:
            private_dir(self.path.parent, "cache directory")
            write_private(self.path, json.dumps(cache))
        except ConfigError as exc:  # a cache is an optimisation: say so, carry on
            log.warning("cannot write asset cache: %s", exc)
        except OSError as exc:
            log.warning("cannot write asset cache %s: %s", self.path, exc.strerror)


def _attributes(raw: Any) -> dict[str, Any] | None:
    """The attributes alch keeps from one Alpaca asset object."""
    if not isinstance(raw, dict):
        return None
    return {k: raw.get(k) for k in ("tradable", "fractionable", "shortable", "exchange", "status")}


def _record(record: Any) -> dict[str, Any] | None:
    """A well-formed asset record (as cached), or None."""
    if not isinstance(record, dict):
        return None
    well_formed = (
        isinstance(record.get("tradable"), bool)
        and isinstance(record.get("fractionable"), bool)
        and isinstance(record.get("status"), str)
        and isinstance(record.get("shortable"), bool | None)
        and isinstance(record.get("exchange"), str | None)
    )
    return record if well_formed else None


def _age_ok(entry: Any, now: datetime, ttl: timedelta) -> bool:
    """Whether a cache entry's aware `at` is at most `ttl` old (and not in the future)."""
    try:
        at = datetime.fromisoformat(entry["at"])
        return timedelta(0) <= now - at < ttl
    except (KeyError, TypeError, ValueError):
        return False  # absent, malformed, or a naive time


def _section(cache: dict[str, Any], key: str) -> dict[str, Any]:
    """A dict-valued part of the cache, replaced by an empty one if damaged."""
    part = cache.get(key)
    if not isinstance(part, dict):
        part = cache[key] = {}
    return part


def _fresh_listing(entry: Any, now: datetime) -> dict[str, Any]:
    """The cached listing's records if it is younger than LISTING_TTL, else empty."""
    if not _age_ok(entry, now, LISTING_TTL) or not isinstance(entry.get("assets"), dict):
        return {}
    listing: dict[str, Any] = entry["assets"]
    return listing


def _fresh_lookup(entry: Any, now: datetime) -> dict[str, Any] | None:
    """A single-symbol look-up younger than LOOKUP_TTL with a well-formed record."""
    if not _age_ok(entry, now, LOOKUP_TTL) or _record(entry.get("asset")) is None:
        return None
    return cast(dict[str, Any], entry)


def _fresh_adv(entry: Any, now: datetime) -> dict[str, Any] | None:
    """An average-daily-volume entry younger than ADV_TTL (its `adv` None or a finite
    decimal string)."""
    if not _age_ok(entry, now, ADV_TTL):
        return None
    adv = entry.get("adv")
    try:
        valid = adv is None or (isinstance(adv, str) and Decimal(adv).is_finite())
    except ArithmeticError:
        valid = False
    return cast(dict[str, Any], entry) if valid else None
