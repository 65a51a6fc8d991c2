"""The simulator's orders: validated like Alpaca, matched at the quote when marketable,
rested while the market is closed, and scripted outcomes for tests."""

from __future__ import annotations

import uuid
from decimal import Decimal

import alchemiser_cli.brokers.sim.lots as lots
from alchemiser_cli.brokers.sim.activity import Activity
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, OrderStatus, Quote, Side
from alchemiser_cli.core.money import ONE, ZERO, fmt
from alchemiser_cli.errors import BrokerError, DuplicateOrder, OrderRejected

SCRIPT_ACTIONS = ("reject", "partial", "hold")


class Orders(Activity):
    """Submitting, cancelling, replacing and filling orders."""

    def submit_order(self, request: OrderRequest) -> BrokerOrder:
        """Validate like Alpaca, then accept and fill what is marketable."""
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO submissions VALUES (?, ?)",
                (request.client_order_id, self.now().isoformat()),
            )
        if self.get_order_by_client_id(request.client_order_id) is not None:
            raise DuplicateOrder(
                f"client_order_id {request.client_order_id} must be unique (already submitted)"
            )
        self._validate(request)
        order_id = str(uuid.uuid4())
        with self._tx() as cur:
            seq = int(self._meta("seq") or "0") + 1
            cur.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            cur.execute(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (
                    order_id,
                    request.client_order_id,
                    request.symbol,
                    request.side.value,
                    fmt(request.qty),
                    None if request.limit_price is None else fmt(request.limit_price),
                    request.order_type,
                    request.time_in_force,
                    OrderStatus.NEW.value,
                    "0",
                    None,
                    self.now().isoformat(),
                    seq,
                ),
            )
        if self.market_open():
            self._match(order_id)
        else:
            self._set_status(order_id, OrderStatus.ACCEPTED)  # queued for the next session
        found = self.get_order_by_client_id(request.client_order_id)
        assert found is not None
        return found

    def cancel_order(self, order_id: str) -> BrokerOrder:
        """Cancel an open order (a filled one stays filled, as at Alpaca)."""
        orders = self._orders("id = ?", (order_id,))
        if not orders:
            raise BrokerError(f"order {order_id} not found")
        order = orders[0]
        if not order.status.is_terminal:
            with self._tx() as cur:
                cur.execute(
                    "UPDATE orders SET status = ? WHERE id = ?",
                    (OrderStatus.CANCELED.value, order_id),
                )
        return self._orders("id = ?", (order_id,))[0]

    def replace_order(
        self, order_id: str, qty: Decimal, limit_price: Decimal, client_order_id: str
    ) -> BrokerOrder:
        """Alpaca's PATCH: the old order becomes `replaced`, a new one takes its place.

        Not part of `Broker` (alch never replaces an order): the fake Alpaca server's PATCH
        route answers with it."""
        found = self._orders("id = ?", (order_id,))
        if not found:
            raise BrokerError(f"order {order_id} not found")
        old = found[0]
        if old.status.is_terminal:
            raise OrderRejected(f"order {order_id} is not replaceable (status {old.status})")
        if qty <= old.filled_qty:
            raise OrderRejected(f"qty {fmt(qty)} is not above the filled {fmt(old.filled_qty)}")
        self._set_status(order_id, OrderStatus.REPLACED)
        remaining = qty - old.filled_qty
        request = OrderRequest(
            client_order_id, old.symbol, old.side, remaining, limit_price,
            old.order_type, old.time_in_force,
        )  # fmt: skip
        try:
            return self.submit_order(request)
        except BrokerError:
            self._set_status(order_id, old.status)  # the replacement failed: the old one stands
            raise

    def _validate(self, req: OrderRequest) -> None:
        if req.qty <= ZERO:
            raise OrderRejected(f"{req.symbol}: qty must be positive")
        asset = self.assets([req.symbol]).get(req.symbol)
        if asset is None:
            raise OrderRejected(f"{req.symbol}: asset not found")
        if not asset.tradable or asset.status != "active":
            raise OrderRejected(f"{req.symbol}: asset is not tradable")
        if not asset.fractionable and req.qty != req.qty.to_integral_value():
            raise OrderRejected(f"{req.symbol}: requested asset is not fractionable")
        quote = self.quotes([req.symbol]).get(req.symbol)
        price = req.limit_price or (quote.ask if quote else ZERO)
        if req.qty != req.qty.to_integral_value() and req.qty * price < ONE:
            raise OrderRejected(f"{req.symbol}: cost basis must be >= minimal amount of order 1")
        if req.side is Side.BUY:
            needed = req.qty * price
            available = self.account().buying_power
            if needed > available:
                raise OrderRejected(
                    f"insufficient buying power: {req.symbol} needs {fmt(needed)}, "
                    f"available {fmt(available)}"
                )
        else:
            self._tick()
            row = self._conn.execute(
                "SELECT qty FROM positions WHERE symbol = ?", (req.symbol,)
            ).fetchone()
            held = None if row is None or Decimal(row[0]) == ZERO else Decimal(row[0])
            pending = sum(
                (
                    o.qty - o.filled_qty
                    for o in self.open_orders()
                    if o.symbol == req.symbol and o.side is Side.SELL
                ),
                ZERO,
            )
            if held is None or held - pending < req.qty:
                raise OrderRejected(f"insufficient qty available for order: {req.symbol}")

    def _match(self, order_id: str) -> None:
        """Apply a scripted outcome, or fill at the quote if the limit is marketable."""
        order = self._orders("id = ?", (order_id,))[0]
        step = self._conn.execute(
            "SELECT seq, action, qty FROM script WHERE symbol = ? ORDER BY seq LIMIT 1",
            (order.symbol,),
        ).fetchone()
        quote = self.quotes([order.symbol]).get(order.symbol)
        if step is not None:
            seq, action, qty = step
            with self._tx() as cur:
                cur.execute("DELETE FROM script WHERE seq = ?", (seq,))
            if action == "reject":
                self._set_status(order_id, OrderStatus.REJECTED)
                return
            self._hold(order_id)  # a scripted hold or partial rests until cancelled
            if action == "hold" or quote is None:
                return
            partial = min(order.qty, Decimal(qty)) if qty else order.qty / 2
            self._fill(order, partial, self._fill_price(order, quote))
            return
        if quote is None:
            return
        price = self._fill_price(order, quote)
        limit = order.limit_price
        marketable = limit is None or (price <= limit if order.side is Side.BUY else price >= limit)
        if marketable and price > ZERO:
            self._fill(order, order.qty - order.filled_qty, price)

    def _tick(self) -> None:
        """Open today's row of the daily history (the account as the day began), then,
        during a session, match every resting order that was not scripted to hold."""
        self._history.open_day(self.now().astimezone(NEW_YORK).date())
        resting = self._conn.execute(
            "SELECT id FROM orders WHERE held = 0 AND status IN (?, ?) ORDER BY seq",
            (OrderStatus.NEW.value, OrderStatus.ACCEPTED.value),
        ).fetchall()
        if resting and self.market_open():
            for (order_id,) in resting:
                self._match(order_id)

    @staticmethod
    def _fill_price(order: BrokerOrder, quote: Quote) -> Decimal:
        return quote.ask if order.side is Side.BUY else quote.bid

    def _fill(self, order: BrokerOrder, qty: Decimal, price: Decimal) -> None:
        filled = order.filled_qty + qty
        avg = (
            price
            if order.filled_avg_price is None
            else ((order.filled_avg_price * order.filled_qty + price * qty) / filled)
        )
        status = OrderStatus.FILLED if filled >= order.qty else OrderStatus.PARTIALLY_FILLED
        with self._tx() as cur:
            lots.book(cur, order.id, order.symbol, order.side, qty, price, self.now())
            cur.execute(
                "UPDATE orders SET filled_qty = ?, filled_avg_price = ?, status = ? WHERE id = ?",
                (fmt(filled), fmt(avg), status.value, order.id),
            )

    def script(self, symbol: str, action: str, qty: Decimal | None = None) -> None:
        """Queue what happens to the next order in `symbol`: reject, partial (qty) or hold."""
        if action not in SCRIPT_ACTIONS:
            raise ValueError(f"unknown script action {action!r}")
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO script (symbol, action, qty) VALUES (?, ?, ?)",
                (symbol, action, None if qty is None else fmt(qty)),
            )

    def submissions(self) -> list[str]:
        """Every client_order_id ever submitted, in order, duplicates included (tests)."""
        rows = self._conn.execute("SELECT client_order_id FROM submissions ORDER BY rowid")
        return [r[0] for r in rows]
