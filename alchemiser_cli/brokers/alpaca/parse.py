"""Alpaca's JSON answers read into alch's records: exact decimals, aware times, and
figures that can be true (anything else is a typed broker error)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from alchemiser_cli.core.models import (
    EQUITY,
    Account,
    BrokerOrder,
    OrderStatus,
    Position,
    Quote,
    Side,
)
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.errors import BrokerError, OrderDisputed


def parse_account(raw: Any) -> Account:
    """GET /v2/account's answer."""
    try:
        count = raw.get("daytrade_count")  # legacy: removed by Alpaca in 2026
        return Account(
            account_id=str(raw.get("account_number") or raw["id"]),
            cash=dec(raw, "cash"),
            buying_power=dec(raw, "buying_power"),
            settled_cash=None,  # Alpaca does not report it; checks fall back to cash
            account_type="cash" if str(raw.get("multiplier", "1")) == "1" else "margin",
            status=str(raw["status"]),
            trading_blocked=bool(raw.get("trading_blocked", False)),
            account_blocked=bool(raw.get("account_blocked", False)),
            trade_suspended_by_user=bool(raw.get("trade_suspended_by_user", False)),
            daytrade_count=None if count is None else int(count),
            currency=str(raw.get("currency", "USD")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        why = f"no {exc.args[0]} field" if isinstance(exc, KeyError) else str(exc)
        raise BrokerError(
            f"unexpected account answer from Alpaca: {why}; try again, and check "
            "APCA_API_BASE_URL points at Alpaca"
        ) from None


def parse_positions(raw: Any) -> dict[str, Position]:
    """GET /v2/positions' answer (short positions negative), every asset class: a crypto
    position is listed as Alpaca has it (`BTCUSD`), with its class and value."""
    result = {}
    for item in as_list(raw, "positions"):
        qty = dec(item, "qty")
        if str(item.get("side", "long")) == "short" and qty > ZERO:
            qty = -qty
        worth = item.get("market_value")  # crypto and options: valued by Alpaca
        result[str(item["symbol"])] = Position(
            str(item["symbol"]),
            qty,
            dec(item, "avg_entry_price"),
            asset_class=str(item.get("asset_class") or EQUITY),
            market_value=None if worth is None else finite(worth, "market_value"),
        )
    return result


def parse_quotes(raw: Any, batch: list[str]) -> dict[str, Quote]:
    """One latest-quotes answer: the quotes of the symbols asked for."""
    quotes = raw.get("quotes") if isinstance(raw, dict) else None
    if not isinstance(quotes, dict):  # `{}`, a list: the broker's fault, not input
        raise BrokerError("unexpected quotes answer from Alpaca (no quotes object); try again")
    return {
        symbol: Quote(symbol, num(q.get("bp")), num(q.get("ap")), ZERO, parse_time(q.get("t")))
        for symbol, q in quotes.items()
        if symbol in batch and isinstance(q, dict)
    }


def as_list(raw: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
        raise BrokerError(f"unexpected {what} answer from Alpaca (expected a list)")
    return raw


def finite(value: Any, what: str) -> Decimal:
    """A finite Decimal from an Alpaca field; NaN, infinities and junk are broker errors."""
    try:
        number = Decimal(str(value))  # str() of a float is its shortest exact repr
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        raise BrokerError(f"unexpected {what} from Alpaca: {value!r}")
    return number


def dec(raw: dict[str, Any], key: str) -> Decimal:
    return finite(raw.get(key), key)


def num(value: Any) -> Decimal:
    return ZERO if value is None else finite(value, "price")


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if "." in text:  # Alpaca sends nanoseconds; Python keeps microseconds
        head, _, rest = text.partition(".")
        zone = rest.lstrip("0123456789")  # the zone's own digits stay in it
        digits = rest[: len(rest) - len(zone)]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:  # naive: astimezone would guess the host's
        raise BrokerError(f"unexpected time from Alpaca: {value!r}")
    return parsed.astimezone(UTC)


_STATUS = {s.value: s for s in OrderStatus}


def parse_order(raw: Any, *, listed: bool = False) -> BrokerOrder:
    """One order from Alpaca's JSON; `listed`: from a listing of the account's orders (not
    one alch is tracking), where an overfill is kept as it came (see `possible`)."""
    try:
        status = _STATUS.get(str(raw["status"]))
        if status is None:
            raise BrokerError(
                f"order {raw.get('id')}: unknown status {raw['status']!r} from Alpaca"
            )
        order = BrokerOrder(
            id=str(raw["id"]),
            client_order_id=str(raw["client_order_id"]),
            symbol=str(raw["symbol"]),
            side=Side(str(raw["side"])),
            qty=dec(raw, "qty") if raw.get("qty") is not None else ZERO,
            limit_price=None if raw.get("limit_price") is None else dec(raw, "limit_price"),
            status=status,
            filled_qty=dec(raw, "filled_qty") if raw.get("filled_qty") is not None else ZERO,
            filled_avg_price=(
                None if raw.get("filled_avg_price") is None else dec(raw, "filled_avg_price")
            ),
            order_type=str(raw.get("type") or raw.get("order_type") or "limit"),
            time_in_force=str(raw.get("time_in_force", "day")),
            submitted_at=parse_time(raw.get("submitted_at")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BrokerError(f"unexpected order answer from Alpaca: {exc}") from None
    return possible(order, listed=listed)


def possible(order: BrokerOrder, *, listed: bool = False) -> BrokerOrder:
    """An order whose figures can be true: nothing negative, no more filled than ordered
    (qty 0 is a notional order, placed by another tool). Anything else would corrupt the
    executor's arithmetic: `OrderDisputed` carries the figures, and the order is journaled
    as disputed (a way out: `alch reconcile --accept`), not looked up forever. In a listing
    (open orders, today's orders and fills) an overfill is kept as Alpaca says it."""
    prices = [p for p in (order.limit_price, order.filled_avg_price) if p is not None]
    overfilled = order.qty > ZERO and order.filled_qty > order.qty and not listed
    if order.qty < ZERO or order.filled_qty < ZERO or overfilled or any(p <= ZERO for p in prices):
        raise OrderDisputed(
            f"Alpaca's answer cannot be true: {fmt(order.filled_qty)} of {fmt(order.qty)} "
            f"{order.symbol} filled (order {order.id}, {order.status.value}, limit "
            f"{_shown(order.limit_price)}, average {_shown(order.filled_avg_price)})",
            order,
        )
    return order


def _shown(value: Decimal | None) -> str:
    return "none" if value is None else fmt(value)


def volume(bar: Any, symbol: str) -> Decimal:
    """A daily bar's volume; anything else is a broker error naming the symbol."""
    volume = bar.get("v") if isinstance(bar, dict) else None
    if isinstance(volume, bool) or not isinstance(volume, int | float) or volume < 0:
        raise BrokerError(f"Alpaca sent a malformed daily bar for {symbol}: volume {volume!r}")
    return Decimal(volume)


def order_pages(
    get: Callable[[str, dict[str, Any]], Any], params: dict[str, str], page_size: int, now: datetime
) -> list[dict[str, Any]]:
    """GET /v2/orders for US equities, paging backwards with `until` until a short page.

    Option, multi-leg and crypto orders are left out: they cannot clash with the
    equities alch trades, and Alpaca's buying power already nets whatever they hold.
    """
    seen: dict[str, dict[str, Any]] = {}
    until: str | None = None
    while True:
        query: dict[str, Any] = {
            **params,
            "limit": page_size,
            "direction": "desc",
            "nested": "false",
            "asset_class": "us_equity",
        }
        if until is not None:
            query["until"] = until
        page = as_list(get("/orders", query), "orders")
        new = [o for o in page if str(o["id"]) not in seen]
        for o in new:
            seen[str(o["id"])] = o
        if len(page) < page_size or not new:
            return list(seen.values())
        # `until` one microsecond past the oldest seen: ties at the boundary come back
        # again and are de-duplicated rather than skipped.
        oldest = min(parse_time(o["submitted_at"]) or now for o in new)
        until = (oldest + timedelta(microseconds=1)).isoformat()
