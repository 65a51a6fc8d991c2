"""Prices on the venue's grid (Reg NMS 612): a cent at $1 and above, $0.0001 below.

Quotes on a US venue sit on this grid; prices that do not (adjusted closes in a backtest,
a last trade printed at a sub-penny price) are the ones these rules exist for:

* A **buy limit** is the collar edge, ask * (1 + collar), rounded down to the grid (never
  above the edge), unless that falls below the ask (only when the ask is off the grid):
  then the ask rounded up, the lowest price on the grid that still buys. So a marketable
  limit stays marketable, and it is never more than one tick past the collar edge, which
  is what the `prices.collar` check allows.
* A **sell limit** is the mirror: bid * (1 - collar) rounded up, or the bid rounded down.
* A **backtest quote** rounds the close to the nearest price on the grid (half-even), then
  widens it by the half-spread with the bid rounded down and the ask rounded up, so the
  modelled spread is never narrower than asked and every fill is at a price a venue shows.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from alchemiser_cli.core.money import CENT, ONE, SUB_DOLLAR_TICK, tick_for


def _round(price: Decimal, mode: str) -> Decimal:
    if price >= ONE:
        return price.quantize(CENT, mode)
    out = price.quantize(SUB_DOLLAR_TICK, mode)
    return out.quantize(CENT) if out >= ONE else out  # 0.99995 up is 1.0000: shown as 1.00


def grid_down(price: Decimal) -> Decimal:
    """The highest price on the grid at or below ``price``."""
    return _round(price, ROUND_FLOOR)


def grid_up(price: Decimal) -> Decimal:
    """The lowest price on the grid at or above ``price``."""
    return _round(price, ROUND_CEILING)


def grid_nearest(price: Decimal) -> Decimal:
    """The price on the grid nearest ``price`` (half-even): a close as a venue shows it."""
    return _round(price, ROUND_HALF_EVEN)


def on_grid(price: Decimal) -> bool:
    """Whether ``price`` is a valid limit price (a whole number of ticks)."""
    return price == price.quantize(tick_for(price), ROUND_FLOOR)


def buy_limit(ask: Decimal, collar: Decimal) -> Decimal:
    """The buy limit for ``ask`` and a collar of ``collar`` (0.005 = 50 bps)."""
    limit = grid_down(ask * (ONE + collar))
    return limit if limit >= ask else grid_up(ask)


def sell_limit(bid: Decimal, collar: Decimal) -> Decimal:
    """The sell limit for ``bid`` and a collar of ``collar``."""
    limit = grid_up(bid * (ONE - collar))
    return limit if limit <= bid else grid_down(bid)


def grid_quote(close: Decimal, half_spread: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(bid, ask, close) of a modelled quote: the close on the grid, widened by the
    half-spread (a fraction of the close) outward to the grid."""
    mid = grid_nearest(close)
    return grid_down(mid * (ONE - half_spread)), grid_up(mid * (ONE + half_spread)), mid
