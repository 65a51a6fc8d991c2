"""The embedded simulated broker: a demo account kept in a local SQLite file.

It is a real `Broker`, not a mock: it validates orders the way Alpaca does (buying power,
whole shares for non-fractionable assets, the $1 minimum, unique client_order_ids), fills
marketable limit orders at the quote, and keeps cash, positions, orders and fills across
runs. Tests script partial fills, holds and rejections per symbol with `script()`.

Market hours follow the NYSE calendar and the simulator's clock (`ALCH_SIM_NOW`): an order
sent while the market is closed rests as `accepted` and fills, if marketable, the first time
the simulator is touched during a session. Resting limit orders are re-matched against the
current quotes the same way. Sell proceeds settle T+1 (next session), which `settled_cash`
reflects. Whether alch *should* send while closed is alch's own pre-trade check.

The class is built in layers, one module each: `store` (the file, the clock, the
calendar, reading orders), `quotes` (quotes, assets, bars), `account` (cash, positions,
the seed), `activity` (the history: daily values, transfers, fills, tax lots) and
`orders` (submit, cancel, replace, fill, scripts).
"""

from __future__ import annotations

from alchemiser_cli.brokers.sim.orders import SCRIPT_ACTIONS, Orders

__all__ = ["SCRIPT_ACTIONS", "SimBroker"]


class SimBroker(Orders):
    """A simulated cash or margin account persisted in SQLite."""
