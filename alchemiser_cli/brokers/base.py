"""The one interface alch trades through; the simulator and Alpaca both implement it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

from alchemiser_cli.core.deadline import Deadline
from alchemiser_cli.core.history import PortfolioHistory
from alchemiser_cli.core.models import (
    Account,
    Asset,
    BrokerOrder,
    Fill,
    OrderRequest,
    Position,
    Quote,
)
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.tax.ledger import Ledger, TaxEvent


class OrderUpdates(Protocol):
    """Order states the broker pushes (Alpaca's trade_updates stream), read by the executor's
    wait loop instead of polling. A background reader fills a thread-safe queue; every wait
    here is bounded and can be cut short."""

    @property
    def live(self) -> bool:
        """Connected and listening now (when not, the executor polls as without a stream)."""
        ...

    def wait(self, seconds: float) -> bool:
        """Wait in real time up to `seconds` for an update (or `interrupt`); True if one came."""
        ...

    def take(self) -> tuple[list[BrokerOrder], bool]:
        """The order states pushed since the last call, oldest first, and whether the stream
        (re)connected since: then updates may have been missed and the caller polls once."""
        ...

    def interrupt(self) -> None:
        """Wake a current `wait` at once (a stop from a signal)."""
        ...

    def close(self) -> None:
        """Stop the reader (bounded: it gives up waiting for the thread after a moment)."""
        ...


class Broker(Protocol):
    """A brokerage account alch can read and trade.

    Every method either returns what the broker said or raises a `BrokerError` subclass;
    none returns a placeholder for a failure. Symbols the broker does not know are absent
    from the mappings returned by `quotes` and `assets`; callers treat that as an error.
    """

    @property
    def name(self) -> str:
        """Short label: "sim", "alpaca-paper" or "alpaca-live"."""
        ...

    def set_deadline(self, deadline: Deadline | None) -> None:
        """The run's deadline, told once: the broker refuses any wait (rate limit, retry)
        that would end after it, failing at once instead. None lifts it. The simulator
        never waits."""
        ...

    def now(self) -> datetime:
        """The broker's notion of the current time (timezone-aware UTC)."""
        ...

    def clock_is_open(self) -> bool | None:
        """The broker's own open/closed flag, or None where it follows the NYSE calendar."""
        ...

    def account(self) -> Account:
        """Account figures and flags."""
        ...

    def positions(self) -> dict[str, Position]:
        """Open positions by symbol."""
        ...

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Latest quotes for the symbols the broker knows."""
        ...

    def assets(self, symbols: Iterable[str]) -> dict[str, Asset]:
        """Asset records for the symbols the broker knows."""
        ...

    def open_orders(self) -> list[BrokerOrder]:
        """Every open order (all pages)."""
        ...

    def fills_since(self, since: datetime) -> list[Fill]:
        """Executions at or after `since`."""
        ...

    def orders_since(self, since: datetime) -> list[BrokerOrder]:
        """Every order submitted at or after `since`, whatever its state (all pages)."""
        ...

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Send an order; raises `DuplicateOrder` if the client_order_id was used before."""
        ...

    def get_order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        """Look an order up by its client_order_id; None if the broker never got it."""
        ...

    def cancel_order(self, order_id: str) -> BrokerOrder:
        """Ask the broker to cancel; returns the order as it stands afterwards."""
        ...

    def updates(self) -> OrderUpdates | None:
        """Start the broker's stream of order updates for one run, or None where there is
        none (the simulator: the executor polls)."""
        ...

    def daily_bars(self, symbols: Iterable[str], start: date, end: date) -> dict[str, Series]:
        """Adjusted daily closes from `start` to `end` (inclusive), oldest first, per symbol;
        a symbol with no bars is an error, never an empty series."""
        ...

    def portfolio_history(self, start: date, end: date) -> PortfolioHistory:
        """The account's equity at each session's close from `start` to `end` (inclusive)
        and each day's deposits and withdrawals (Alpaca's daily portfolio history)."""
        ...

    def trade_history(self, *, refresh: bool = False) -> list[TaxEvent]:
        """Every fill and split of the account, oldest first (the tax lots are rebuilt from
        it). `refresh`: ask again for what is otherwise cached a while (Alpaca's splits)."""
        ...

    def open_lots(self, *, refresh: bool = False) -> Ledger:
        """The tax ledger of the whole history as a plan needs it: open lots, losses a
        purchase may still replace, gaps (its past sales may be left out: a cache resumes
        it without them)."""
        ...
