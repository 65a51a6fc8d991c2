"""What the fake Alpaca shows besides the simulator's plain truth (issue 21).

- `Lag`: `/v2/account` and `/v2/positions` keep showing the account as it was before a
  change (a fill) for `reads` reads of either, or `seconds` of real time, as Alpaca's
  positions are known to trail its order fills for seconds.
- `FillFactor`: every buy fills `k` times the quantity ordered (k > 1: an answer that
  cannot be true, "filled 20 of 10"); the answer still says the quantity ordered. Sells
  fill as asked (the simulator holds no shorts).
- `Crypto`: positions Alpaca holds outside US equities (`asset_class: crypto`), listed
  by `/v2/positions` as Alpaca returns them (`BTCUSD`, `ETH/USD`) and counted in equity.

Each is owned by `FakeAlpaca` (`fake.lag_positions(...)`, `fake.fill_factor(...)`,
`fake.hold_crypto(...)`); the fake calls in here under its lock.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from alchemiser_cli.core.money import fmt

Docs = tuple[dict[str, Any], list[dict[str, Any]]]  # (account, positions) as answered
NAMESPACE = uuid.UUID("0c6e2f1a-9d7b-4e55-8a31-5f2b7c9d1e04")


@dataclass
class Lag:
    """The pre-change view of the account, served for a while after each change."""

    reads: int = 0  # reads of /v2/account or /v2/positions that still see the old view
    seconds: float = 0.0  # real seconds the old view lasts
    clock: Callable[[], float] = time.monotonic
    lagging: frozenset[str] = frozenset({"account", "positions"})  # which answers lag
    served: int = 0  # stale answers given so far (for assertions)
    _state: object = None  # the state the view shows (cash and quantities)
    _view: Docs | None = None
    _left: int = 0
    _until: float | None = None

    def answer(self, state: object, truth: Docs) -> Docs:
        """What a read answers now: the old view while the window lasts (for the answers
        in `lagging`), else the truth."""
        if self._view is None or state == self._state:
            self._state, self._view, self._until = state, truth, None
            return truth
        if self._until is None:  # a change since the last view: the window opens
            self._left, self._until = self.reads, self.clock() + self.seconds
        if self._left > 0 or self.clock() < self._until:
            self._left -= 1
            self.served += 1
            old = self._view
            account = old[0] if "account" in self.lagging else truth[0]
            positions = old[1] if "positions" in self.lagging else truth[1]
            return account, positions
        self._state, self._view, self._until = state, truth, None
        return truth


@dataclass
class FillFactor:
    """Buys fill `k` x the quantity asked; answers show the quantity asked."""

    k: Decimal
    ordered: dict[str, Decimal] = field(default_factory=dict)  # order id -> qty asked

    def scaled(self, qty: Decimal) -> Decimal:
        return (qty * self.k).quantize(Decimal("0.000000001"))

    def shown(self, doc: dict[str, Any]) -> dict[str, Any]:
        asked = self.ordered.get(str(doc["id"]))
        if asked is not None:
            doc["qty"] = fmt(asked)
        return doc


@dataclass
class Crypto:
    """Crypto positions: symbol as Alpaca lists it -> (qty, price)."""

    held: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)

    def value(self) -> Decimal:
        return sum((q * p for q, p in self.held.values()), Decimal(0))

    def positions(self) -> list[dict[str, Any]]:
        out = []
        for symbol, (qty, price) in sorted(self.held.items()):
            value = qty * price
            out.append({
                "asset_id": str(uuid.uuid5(NAMESPACE, symbol)),
                "symbol": symbol,
                "exchange": "",  # the OpenAPI enum has no crypto venue; "" is allowed
                "asset_class": "crypto",
                "asset_marginable": False,
                "avg_entry_price": fmt(price),
                "qty": fmt(qty),
                "qty_available": fmt(qty),
                "side": "long",
                "market_value": fmt(value),
                "cost_basis": fmt(value),
                "unrealized_pl": "0",
                "unrealized_plpc": "0",
                "unrealized_intraday_pl": "0",
                "unrealized_intraday_plpc": "0",
                "current_price": fmt(price),
                "lastday_price": fmt(price),
                "change_today": "0",
            })  # fmt: skip
        return out
