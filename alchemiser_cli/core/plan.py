"""A plan: what a rebalance would send, computed from one snapshot, and its parts (orders,
position lines, skipped trades, prices, totals). The planner (``core/planner.py``) makes
it; documents, checks, the executor and renderers read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.tax.records import PlanTax
from alchemiser_cli.core.types import Exact, Money, Weight

SCHEMA_VERSION = 2  # 2: `tax` (issue 27)


class Rule(StrEnum):
    """Why a position trades or holds; shown per position in every plan."""

    TO_TARGET = "to_target"
    OUT_OF_BAND = "out_of_band"
    IN_BAND = "in_band"
    NOT_IN_TARGETS = "not_in_targets"
    UNLISTED_HELD = "unlisted_held"
    KEPT = "kept"
    DUST = "dust"
    WITHIN_ONE_SHARE = "within_one_share"
    NOT_TRADABLE = "not_tradable"
    NO_CASH = "no_cash"
    AT_TARGET = "at_target"
    WHOLE_SHARE_TRADEOFF = "whole_share_tradeoff"
    REINVEST = "reinvest"  # in band, under target: bought with the cash the band left idle


@dataclass(slots=True)
class PlannedOrder:
    """One order of the plan: a limit order for ``qty`` at ``limit_price``.

    Per-symbol records are built by the ten thousand, so they are slotted but not frozen
    (a frozen dataclass is several times slower to build); nothing mutates them.
    """

    leg: int
    symbol: str
    side: Side
    qty: Exact
    limit_price: Exact
    est_price: Exact
    est_value: Money
    max_value: Money
    est_cost: Money
    fees: Money
    fractional: bool
    notional: Money | None = None


@dataclass(slots=True)
class PositionLine:
    """One symbol's before/after picture and the rule that decided it."""

    symbol: str
    qty: Exact
    price: Exact
    value: Money
    current_weight: Weight
    target_weight: Weight
    drift: Weight
    band: Weight | None
    rule: Rule
    action: str
    trade_qty: Exact
    post_qty: Exact
    post_value: Money
    post_weight: Weight
    note: str = ""  # whole_share_tradeoff: what the decision took from whom


@dataclass(slots=True)
class Skipped:
    """A trade the planner chose not to make, and why."""

    symbol: str
    rule: Rule
    reason: str


@dataclass(slots=True)
class PriceRef:
    """The prices a plan was computed from (kept so a saved plan can be judged stale)."""

    bid: Exact
    ask: Exact
    ref: Exact
    as_of: datetime | None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Account figures at planning time."""

    equity: Money
    cash: Money
    buying_power: Money


@dataclass(frozen=True, slots=True)
class PlanSummary:
    """Totals of the plan (turnover = (buys + sells) / equity)."""

    order_count: int
    buy_value: Money
    sell_value: Money
    turnover: Weight
    est_costs: Money
    est_cash_after: Money
    min_cash_after: Money
    investable: Money
    reserve: Money
    kept_value: Money
    # Sum over positions with a goal of |post-trade value - goal| at the reference price,
    # and a proven lower bound on the least this can be under the planner's rules.
    deviation: Money = ZERO
    deviation_bound: Money = ZERO
    # How the search for the least deviation ended (core/decision.py): "optimal" (no plan
    # within the rules is better by more than half a cent plus what rounding the sell
    # fees to the cent costs), "node_limit" or "time_limit" (HiGHS stopped), "too_large"
    # (over 200 positions to decide: not searched), "not_proven" (HiGHS's answer did not
    # fit on the share grid with every fee rounded). The bound holds in every case.
    search: str = "optimal"


@dataclass(frozen=True, slots=True)
class Plan:
    """A dry-run rebalance: what would be sent, computed from one snapshot."""

    plan_id: str
    created_at: datetime
    broker: str
    account_id: str
    account: AccountSummary
    targets: dict[str, Exact]
    targets_source: str
    policy: PlannerPolicy
    prices: dict[str, PriceRef]
    orders: tuple[PlannedOrder, ...]
    positions: tuple[PositionLine, ...]
    skipped: tuple[Skipped, ...]
    summary: PlanSummary
    schema_version: int = SCHEMA_VERSION
    # No target holds any weight: the plan sells every position (`--liquidate` only).
    liquidate: bool = False
    # Targets made by strategies: their decision trace (informational; the plan id covers
    # the targets it produced, not the trace).
    signal: SignalRecord | None = None
    # Symbols priced by the simulator's synthetic closes (no quote, no bars): not a market.
    synthetic_prices: tuple[str, ...] = ()
    # Realised gains per sell, wash sales and positions held back to avoid them (core/tax;
    # informational, outside the plan id); None for an IRA (`[tax] account = "ira"`).
    tax: PlanTax | None = None
