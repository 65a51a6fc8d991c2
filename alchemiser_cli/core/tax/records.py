"""The tax figures a plan, `status` and `alch tax` carry: estimates, never tax advice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from alchemiser_cli.core.tax.ledger import WashSale
from alchemiser_cli.core.types import Exact, Money, Weight

Completeness = Literal["complete", "incomplete"]
NOT_ADVICE = "estimates for your own records, not tax advice"


@dataclass(frozen=True, slots=True)
class SellEstimate:
    """What one planned sell would realise at its limit price (less its estimated fees),
    closing lots first in, first out. Gains are as reported: a disallowed loss added back."""

    leg: int
    symbol: str
    qty: Exact
    proceeds: Money
    basis: Money
    short_term: Money
    long_term: Money
    disallowed: Money
    lots: int  # how many lots (or pieces of lots) it closes


@dataclass(frozen=True, slots=True)
class WashSaleView(WashSale):
    """One wash sale a plan would make: the loss sale (planned, or on `sold`), the lot it
    sells, the replacement shares and the loss disallowed (added to their basis)."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A position kept off target to avoid a wash sale (`[tax] avoid_wash_sales`): its
    target was `wanted`, it is planned at `planned` until `until` (the first day the trade
    is no wash sale); what it does not buy goes to `substitute`, or stays in cash."""

    symbol: str
    wanted: Weight
    planned: Weight
    until: date
    reason: str
    substitute: str | None = None


@dataclass(frozen=True, slots=True)
class LotMismatch:
    """Lots rebuilt from the fills that do not match the broker's position."""

    symbol: str
    lots_qty: Exact
    position_qty: Exact
    lots_avg_price: Exact | None
    position_avg_price: Exact | None


@dataclass(frozen=True, slots=True)
class PlanTax:
    """A plan's tax estimate: per sell, totals, the wash sales it would make, and the
    positions held off target to avoid them. `status` is "incomplete" when the lots do not
    match the broker's positions (or a sale had no lot): the figures are then partial."""

    status: Completeness
    short_term: Money
    long_term: Money
    disallowed: Money
    sells: tuple[SellEstimate, ...]
    wash_sales: tuple[WashSaleView, ...]
    holds: tuple[Hold, ...]
    mismatches: tuple[LotMismatch, ...]
    avoid_wash_sales: bool
    note: str = NOT_ADVICE


@dataclass(frozen=True, slots=True)
class YearToDate:
    """Realised gains of a calendar year so far (`status`): as reported, disallowed losses
    added back; `disallowed` is the total wash-sale adjustment."""

    year: int
    short_term: Money
    long_term: Money
    disallowed: Money
    sales: int
    status: Completeness
    note: str = NOT_ADVICE


@dataclass(frozen=True, slots=True)
class RealisedLot:
    """One line of `alch tax`: shares of one lot sold (Form 8949's columns)."""

    symbol: str
    qty: Exact
    acquired: date
    sold: date
    proceeds: Money
    basis: Money
    wash_sale_adjustment: Money
    gain: Money
    term: Literal["short", "long"]
