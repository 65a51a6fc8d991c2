"""Domain values shared by the core, the use cases (app/) and the broker adapters.

Frozen, slotted dataclasses: cheap to build by the ten thousand, and validated/serialised
at the edges with pydantic `TypeAdapter`s (see `documents/`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.types import Exact


class Side(StrEnum):
    """Order side."""

    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    """Order lifecycle: every status Alpaca documents (OrderStatus in its trading API)."""

    NEW = "new"
    ACCEPTED = "accepted"
    PENDING_NEW = "pending_new"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REPLACED = "replaced"
    PENDING_CANCEL = "pending_cancel"
    PENDING_REPLACE = "pending_replace"
    DONE_FOR_DAY = "done_for_day"
    # Alpaca's rarer states: all still working (none is final), so an order in one is
    # waited on, cancelled at the deadline and looked up again like any open order.
    ACCEPTED_FOR_BIDDING = "accepted_for_bidding"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    CALCULATED = "calculated"
    HELD = "held"  # a bracket order's leg waiting for its parent

    @property
    def is_terminal(self) -> bool:
        """Whether the order can no longer fill."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.REPLACED,
    }
)


@dataclass(frozen=True, slots=True)
class Quote:
    """Top of book for one symbol; `last` is used only when there is no two-sided quote."""

    symbol: str
    bid: Exact = ZERO
    ask: Exact = ZERO
    last: Exact = ZERO
    as_of: datetime | None = None
    synthetic: bool = False  # the simulator's made-up price (no quote, no bars): a demonstration


@dataclass(frozen=True, slots=True)
class Asset:
    """What the broker says about a symbol."""

    symbol: str
    tradable: bool = True
    fractionable: bool = True
    status: str = "active"
    avg_daily_volume: Exact | None = None  # shares/day, where the broker reports it
    shortable: bool | None = None  # None: the broker does not say (the simulator)
    exchange: str | None = None


# Alpaca's asset class of US stocks and ETFs: the only one alch plans and trades. Other
# holdings (crypto, options) are listed and left alone (see app/inputs.py).
EQUITY = "us_equity"


@dataclass(frozen=True, slots=True)
class Position:
    """A holding; qty may be fractional. `market_value` is the broker's (where it says)."""

    symbol: str
    qty: Exact
    avg_entry_price: Exact = ZERO
    asset_class: str = EQUITY
    market_value: Exact | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """Account figures and flags, as reported by the broker."""

    account_id: str
    cash: Exact
    buying_power: Exact
    settled_cash: Exact | None = None
    account_type: str = "cash"  # "cash" | "margin"
    status: str = "ACTIVE"
    trading_blocked: bool = False
    account_blocked: bool = False
    trade_suspended_by_user: bool = False
    # Legacy day-trade count: only some brokers still report it (Alpaca removed it in 2026).
    daytrade_count: int | None = None
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """An order as the broker knows it."""

    id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Exact
    limit_price: Exact | None
    status: OrderStatus
    filled_qty: Exact = ZERO
    filled_avg_price: Exact | None = None
    order_type: str = "limit"
    time_in_force: str = "day"
    submitted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution, used for the same-session round-trip check."""

    symbol: str
    side: Side
    qty: Exact
    price: Exact
    at: datetime
    order_id: str = ""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What alch asks the broker to do; quantities already on the broker's increments."""

    client_order_id: str
    symbol: str
    side: Side
    qty: Exact
    limit_price: Exact | None
    order_type: str = "limit"
    time_in_force: str = "day"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the planner and checks read about the account, taken at `as_of`."""

    account: Account
    positions: dict[str, Position]
    quotes: dict[str, Quote]
    assets: dict[str, Asset]
    as_of: datetime
    open_orders: tuple[BrokerOrder, ...] = ()
    fills_today: tuple[Fill, ...] = ()
    broker: str = "sim"
    extra: dict[str, str] = field(default_factory=dict)
