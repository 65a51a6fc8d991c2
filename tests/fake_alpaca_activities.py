"""GET /v2/account/activities for the fake Alpaca server, from the simulator's history.

As Alpaca documents it (trading-api.json, "Retrieve Account Activities"): FILL trade
activities (one per execution: `transaction_time`, `qty`, `price`, `side`, `cum_qty`,
`leaves_qty`, `order_id`) and SPLIT non-trade activities, filtered by `activity_types`
(or the path's type) or `category`, ordered by `direction` (default desc), `page_size`
at most 100 (default 100), and `page_token` = the id of the last activity of the previous
page. Ids are "<17-digit time>::<uuid>", so their order is time order.

The simulator's seed positions are reported as FILLs at the seeding time (bought then).
A split is reported as a pair of SPLIT activities in one `group_id`: the old shares
removed (negative qty) and the new ones added, dated the day it took effect.
"""

from __future__ import annotations

import bisect
import uuid
import weakref
from datetime import datetime
from decimal import Decimal
from typing import Any

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.money import fmt
from alchemiser_cli.core.tax.ledger import Kind, TaxEvent, rebuild

MAX_PAGE = 100
NAMESPACE = uuid.UUID("0c2f6a51-6c1e-4d4e-a1c4-5b1f0a9d7e33")


def _id(at: datetime, n: int) -> str:
    """Alpaca's id shape; the uuid part grows with `n` so that ties in time keep order."""
    stamp = at.strftime("%Y%m%d%H%M%S") + f"{at.microsecond // 1000:03d}"
    return f"{stamp}::{n:08x}-0000-4000-8000-{n:012x}"


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _fill(event: TaxEvent, n: int) -> Any:
    """One execution, reported as the whole of its order (the fake keeps no partial
    fills' order sizes here; alch reads qty, price, side and time)."""
    return {
        "activity_type": "FILL",
        "id": _id(event.at, n),
        "transaction_time": _iso(event.at),
        "type": "fill",
        "price": fmt(event.price),
        "qty": fmt(event.qty),
        "side": event.kind.value,
        "symbol": event.symbol,
        "leaves_qty": "0",
        "order_id": str(uuid.uuid5(NAMESPACE, event.ref)),
        "cum_qty": fmt(event.qty),
        "order_status": "filled",
    }


def _split(event: TaxEvent, n: int, held: Decimal) -> list[Any]:
    ratio = event.ratio or Decimal(1)
    day = event.at.astimezone(NEW_YORK).date().isoformat()
    group = str(uuid.uuid5(NAMESPACE, f"split-{n}"))
    sub = "FSPLIT" if ratio > 1 else "RSPLIT"
    common = {"activity_type": "SPLIT", "activity_sub_type": sub, "date": day,
              "created_at": _iso(event.at), "symbol": event.symbol, "status": "executed",
              "net_amount": "0", "currency": "USD", "group_id": group}  # fmt: skip
    return [
        {**common, "id": _id(event.at, n), "qty": fmt(-held)},
        {**common, "id": _id(event.at, n + 1), "qty": fmt(held * ratio)},
    ]


_MEMO: weakref.WeakKeyDictionary[
    SimBroker, tuple[tuple[int, int, int], datetime, list[dict[str, Any]]]
] = weakref.WeakKeyDictionary()


def _counts(sim: SimBroker) -> tuple[int, int, int]:
    conn = sim._conn  # the fake's own simulator: read directly, as the fake's other routes do
    (openings,) = conn.execute("SELECT count(*) FROM openings").fetchone()
    (fills,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM fills").fetchone()
    (splits,) = conn.execute("SELECT count(*) FROM splits").fetchone()
    return int(openings), int(fills), int(splits)


def all_activities(sim: SimBroker) -> list[dict[str, Any]]:
    """Every activity of the simulated account, ordered by id (time). Kept between requests:
    new fills later than everything seen are appended, anything else is computed afresh
    (a server answering 5,000 activities a page at a time must not rebuild them each time)."""
    key = _counts(sim)
    memo = _MEMO.get(sim)
    if memo is not None and memo[0] == key:
        return memo[2]
    if memo is not None and memo[0][0] == key[0] and memo[0][2] == key[2]:
        rows = sim._conn.execute(
            "SELECT rowid, symbol, side, qty, price, at FROM fills WHERE rowid > ? ORDER BY rowid",
            (memo[0][1],),
        ).fetchall()
        new = [
            TaxEvent(datetime.fromisoformat(at), s, Kind(side), Decimal(q), Decimal(p),
                     ref=f"fill-{n}")
            for n, s, side, q, p, at in rows
        ]  # fmt: skip
        if all(e.at > memo[1] for e in new):
            items = memo[2] + [_fill(e, 2 * (len(memo[2]) + j)) for j, e in enumerate(new)]
            _MEMO[sim] = (key, new[-1].at if new else memo[1], items)
            return items
    events = sim.trade_history()
    out: list[dict[str, Any]] = []
    for n, event in enumerate(events):
        if event.kind is Kind.SPLIT:
            held = rebuild(events[:n]).held(event.symbol)
            out += _split(event, 2 * n, held)
        else:
            out.append(_fill(event, 2 * n))
    out.sort(key=lambda a: str(a["id"]))
    last = events[-1].at if events else datetime.min.replace(tzinfo=NEW_YORK)
    _MEMO[sim] = (key, last, out)
    return out


def answer(sim: SimBroker, query: dict[str, str], path_type: str | None) -> tuple[int, Any]:
    """The status and body of GET /v2/account/activities[/{type}]."""
    try:
        size = int(query.get("page_size", MAX_PAGE))
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        return 422, {"code": 42210000, "message": "page_size must be between 1 and 100"}
    types = (
        {path_type} if path_type else set(filter(None, query.get("activity_types", "").split(",")))
    )
    items = all_activities(sim)
    if types:
        items = [a for a in items if a["activity_type"] in types]
    category = query.get("category")
    if category == "trade_activity":
        items = [a for a in items if a["activity_type"] == "FILL"]
    elif category == "non_trade_activity":
        items = [a for a in items if a["activity_type"] != "FILL"]
    descending = query.get("direction", "desc") == "desc"
    token = query.get("page_token")
    if not descending:
        start = bisect.bisect_right([str(a["id"]) for a in items], token) if token else 0
        return 200, items[start : start + size]
    items = items[::-1]
    if token:
        items = [a for a in items if a["id"] < token]
    return 200, items[:size]
