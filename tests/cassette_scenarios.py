"""What the cassettes record: one function per cassette, shared by recorder and tests.

Each scenario drives a real `AlpacaBroker` (through alpaca-py) and returns what it saw.
The same calls, in the same order, replay offline from `cassettes/` in the tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import vcr

from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker
from alchemiser_cli.core.models import OrderRequest, Side
from alchemiser_cli.errors import BrokerError

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
META = CASSETTES / "meta.json"
BATCH = [f"Q{i:03d}" for i in range(250)]  # more than 200 symbols: three requests of 100


def recorder(record_mode: str) -> vcr.VCR:
    """vcrpy with both auth headers filtered (a filter on Authorization alone would leak
    them) and strict matching."""
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode=record_mode,
        filter_headers=["APCA-API-KEY-ID", "APCA-API-SECRET-KEY"],
        match_on=["method", "scheme", "host", "port", "path", "query", "body"],
        decode_compressed_response=True,
    )


def reads(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """Account, positions, clock, assets and quotes."""
    return {
        "account": broker.account(),
        "positions": broker.positions(),
        "now": broker.now(),
        "assets": broker.assets(["VTI", "BRK.A", "NOPE"]),
        "quotes": broker.quotes(["VTI", "BND", "NOPE"]),
    }


def quotes_batch(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """Latest quotes for 250 symbols."""
    return {"quotes": broker.quotes(BATCH)}


def orders(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """Three resting orders, paged two at a time; look-ups; cancels; today's fills."""
    prefix = meta["order_prefix"]
    placed = [
        broker.submit_order(
            OrderRequest(f"{prefix}-{i}", "KO", Side.BUY, Decimal(1), Decimal("1.05"))
        )
        for i in range(3)
    ]
    found = broker.get_order_by_client_id(f"{prefix}-1")
    missing = broker.get_order_by_client_id(f"{prefix}-never")
    listed = broker.open_orders()
    cancelled = [broker.cancel_order(o.id) for o in placed]
    since = datetime.fromisoformat(meta["since"])
    return {
        "placed": placed,
        "found": found,
        "missing": missing,
        "open": listed,
        "cancelled": cancelled,
        "fills": broker.fills_since(since),
    }


def bars(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """Adjusted daily bars for SPY: a first fetch, a wider one that asks only for the missing
    days, the same again served from the bar cache (no request); BND has none: an error."""
    first = broker.daily_bars(["SPY"], date(2026, 9, 1), date(2026, 11, 18))
    more = broker.daily_bars(["SPY"], date(2026, 9, 1), date(2026, 11, 23))
    again = broker.daily_bars(["SPY"], date(2026, 9, 1), date(2026, 11, 23))
    try:
        broker.daily_bars(["BND"], date(2026, 11, 2), date(2026, 11, 23))
        missing = None
    except BrokerError as exc:
        missing = str(exc)
    return {"first": first, "more": more, "again": again, "missing": missing}


def portfolio_history(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """A week of the account's daily history, with a deposit and a withdrawal."""
    return {"history": broker.portfolio_history(date(2026, 11, 17), date(2026, 11, 24))}


def activities(broker: AlpacaBroker, meta: dict[str, Any]) -> dict[str, Any]:
    """The account's FILL and SPLIT activities, paged 100 at a time, into the activity
    cache; then again, which asks only for what came since (one request)."""
    first = broker.trade_history()
    again = broker.trade_history()
    return {"first": first, "again": again}


SCENARIOS: dict[str, Callable[[AlpacaBroker, dict[str, Any]], dict[str, Any]]] = {
    "reads": reads,
    "quotes_batch": quotes_batch,
    "orders": orders,
    "bars": bars,
    "portfolio_history": portfolio_history,
    "activities": activities,
}
# Round trips booked at the fake server before recording (a buy and a sell of one KO share
# each, at one price: cash and positions are as seeded), so the activities span two pages.
ROUND_TRIPS = 60


def new_meta(base_url: str, data_url: str, source: str) -> dict[str, Any]:
    """Recording facts the replay needs: URLs, the order-id prefix, the time window."""
    stamp = datetime.now(UTC)
    return {
        "source": source,
        "base_url": base_url,
        "data_url": data_url,
        # Not "alch-": orders placed while recording against paper trading must not look
        # like a rebalance to the cron guard (which skips a day that has alch- orders).
        "order_prefix": f"cas-{stamp:%Y%m%d%H%M%S}",
        "since": "2026-11-24T00:00:00+00:00"
        if source == "fake"
        else stamp.date().isoformat() + "T00:00:00+00:00",
        "recorded_at": stamp.isoformat(),
    }


def load_meta() -> dict[str, Any]:
    """The facts of the last recording."""
    data: dict[str, Any] = json.loads(META.read_text())
    return data
