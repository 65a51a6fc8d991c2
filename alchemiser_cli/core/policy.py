"""Frozen policies the core receives: every default is listed, and explained, here.

Settings (config file, environment, flags) are read at the edge (`settings.py`) and
validated into these models; the core never reads configuration itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Largest dollar amount a setting may hold: beyond it, cents no longer fit a Decimal figure.
MAX_USD = Decimal(10**12)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class PlannerPolicy(_Frozen):
    """How the planner turns targets into orders."""

    cash_reserve: Decimal = Field(
        default=Decimal(0),
        ge=0,
        le=MAX_USD,
        description="Cash (USD) never invested; the reserve is the "
        "larger of this and cash_reserve_pct of equity.",
    )
    cash_reserve_pct: Decimal = Field(
        default=Decimal(0), ge=0, lt=1, description="Share of equity never invested (0.01 = 1%)."
    )
    band_abs: Decimal | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="Absolute drift band in weight (0.05 = 5 points). "
        "With band_rel too, the narrower band applies (the 5/25 rule). None: no bands.",
    )
    band_rel: Decimal | None = Field(
        default=None,
        gt=0,
        le=10,
        description="Relative drift band as a share of the target "
        "weight (0.25 = 25%). None: no relative band.",
    )
    rebalance_to: Literal["target", "edge"] = Field(
        default="target", description="Where an out-of-band position trades to."
    )
    reinvest: bool = Field(
        default=False,
        description="With a band: spend the cash the out-of-band trades leave (sale "
        "proceeds, idle cash) on the listed positions still under target, in proportion to "
        "how far under each is, never past its target (--reinvest). Off: it stays in cash.",
    )
    min_trade_value: Decimal = Field(
        default=Decimal(1),
        ge=1,
        le=MAX_USD,
        description="Smallest order value (USD). Alpaca's minimum for "
        "fractional orders is $1; smaller trades are listed as skipped.",
    )
    collar_bps: Decimal = Field(
        default=Decimal(50),
        ge=0,
        le=1000,
        description="Limit price distance from the quote: "
        "buys at ask + collar, sells at bid - collar. Buys are sized at that worst price.",
    )
    keep: tuple[str, ...] = Field(
        default=(), description="Symbols left untouched and excluded from the investable base."
    )
    sell_unlisted: bool = Field(
        default=True, description="Sell positions that are not in the targets."
    )
    sec_fee_rate: Decimal = Field(
        default=Decimal("0.0000278"),
        ge=0,
        lt=Decimal("0.01"),
        description="SEC Section 31 fee per dollar sold (estimate; check the SEC's current rate).",
    )
    finra_taf_per_share: Decimal = Field(
        default=Decimal("0.000195"),
        ge=0,
        lt=1,
        description="FINRA trading activity fee per share sold (estimate).",
    )
    finra_taf_max: Decimal = Field(
        default=Decimal("9.79"), ge=0, description="FINRA trading activity fee cap per sell order."
    )

    @model_validator(mode="after")
    def _upper_keep(self) -> PlannerPolicy:
        object.__setattr__(self, "keep", tuple(sorted({s.strip().upper() for s in self.keep})))
        return self

    @property
    def bands_on(self) -> bool:
        """Whether any drift band is configured."""
        return self.band_abs is not None or self.band_rel is not None


class Limits(_Frozen):
    """Pre-trade limits (`[limits]` in alch.toml, or ALCH_LIMITS__NAME). None disables one."""

    max_order_notional: Decimal | None = Field(
        default=Decimal(100_000), gt=0, description="Largest single order value (USD)."
    )
    max_order_pct: Decimal | None = Field(
        default=Decimal(1),
        gt=0,
        le=1,
        description="Largest order as a share of equity. 1 by default: a one-fund portfolio "
        "is legitimate (strategies hold one symbol at 100%), and reaching it is one order of "
        "the whole account; on margin, no order is larger than the account.",
    )
    max_position_weight: Decimal | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Largest post-trade weight of one symbol, as a "
        "share of equity. Off by default: a one-fund portfolio is legitimate.",
    )
    max_turnover_pct: Decimal | None = Field(
        default=Decimal(2),
        gt=0,
        le=2,
        description="Largest (buys + sells) / equity per run "
        "(2 = selling everything and buying it all back).",
    )
    max_orders: int | None = Field(default=200, gt=0, description="Most orders in one run.")
    max_daily_notional: Decimal | None = Field(
        default=Decimal(500_000), gt=0, description="Most value traded per day across runs."
    )
    max_spread_bps: Decimal | None = Field(
        default=Decimal(100), gt=0, description="Widest bid/ask spread to trade into (bps of mid)."
    )
    max_quote_age_s: int | None = Field(
        default=60, gt=0, description="Oldest quote to trade on while the market is open."
    )
    max_plan_age_s: int | None = Field(
        default=900, gt=0, description="Oldest saved plan `execute` accepts."
    )
    fragile_margin: Decimal = Field(
        default=Decimal("0.02"),
        ge=0,
        lt=1,
        description="A strategy's decision within this relative margin of flipping is "
        "fragile (0.02 = 2%).",
    )
    block_fragile: bool = Field(
        default=False,
        description="Block (not only warn) when a strategy's decision is fragile.",
    )
    no_trade_first_min: int = Field(
        default=5, ge=0, le=120, description="No orders in the first N minutes of a session."
    )
    no_trade_last_min: int = Field(
        default=5, ge=0, le=120, description="No orders in the last N minutes of a session."
    )
    max_sector_weight: Decimal | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Largest post-trade weight of one sector (needs a "
        "[sectors] table or sectors_file mapping symbols to sectors).",
    )
    allow_margin: bool = Field(
        default=False, description="Let buys use margin buying power; otherwise cash only."
    )
    max_price_move_pct: Decimal | None = Field(
        default=Decimal("0.02"),
        gt=0,
        le=1,
        description="Largest move of a price since a "
        "saved plan was made before the plan counts as stale.",
    )


class ExecutionPolicy(_Frozen):
    """How `execute` prices, slices, re-pegs and waits; every wait is bounded."""

    order_type: Literal["limit", "market"] = Field(
        default="limit",
        description="`limit`: marketable limits inside the collar (re-pegged, never past it). "
        "`market`: only on request (--order-type market); the size limits still apply.",
    )
    fill_timeout_s: float = Field(
        default=120,
        gt=0,
        le=3600,
        description="Longest wait for one batch (sells, then buys) to fill after its last "
        "slice is due; what is still open then is cancelled.",
    )
    deadline_s: float = Field(
        default=900,
        gt=0,
        le=23_400,
        description="Whole-run deadline (--deadline 15m): at it, open orders are cancelled "
        "and unsent ones reported; nothing is sent after it.",
    )
    poll_initial_s: float = Field(default=0.5, gt=0, le=60, description="First poll interval.")
    topup_wait_s: float = Field(
        default=10,
        ge=0,
        le=300,
        description="Longest wait for the broker's positions to show the run's fills before "
        "the top-up round (Alpaca's lag them for seconds); still apart, the round is skipped.",
    )
    poll_max_s: float = Field(default=5, gt=0, le=300, description="Poll interval ceiling.")
    max_repegs: int = Field(
        default=3,
        ge=0,
        le=20,
        description="Most re-prices of an unfilled limit order. Each step moves the limit "
        "from the touch toward the collar edge; the last is at the edge, never beyond.",
    )
    repeg_interval_s: float = Field(
        default=10,
        gt=0,
        le=600,
        description="Base wait before re-pegging; it grows with the spread (up to 4x at "
        "60 bps and wider) so wide markets get longer to fill passively.",
    )
    cancel_wait_s: float = Field(
        default=10,
        gt=0,
        le=120,
        description="Longest wait for a cancel to be confirmed before re-pegging; an order "
        "whose cancel is not confirmed is not re-pegged (never two live orders per slice).",
    )
    slice_notional: Decimal | None = Field(
        default=Decimal(50_000),
        gt=0,
        description="Orders above this value (USD) are split into child orders (TWAP).",
    )
    slice_adv_pct: Decimal | None = Field(
        default=Decimal("0.01"),
        gt=0,
        le=1,
        description="Orders above this share of average daily volume are split too "
        "(where the broker reports ADV).",
    )
    slice_window_s: float = Field(
        default=300,
        ge=0,
        le=23_400,
        description="Window the slices of one order are spread over, evenly.",
    )
    max_slices: int = Field(default=10, ge=1, le=100, description="Most slices per order.")
    unconfirmed_settle_s: float | None = Field(
        default=None,
        ge=0,
        le=86_400,
        description="An order sent without an answer and not found at the broker may still "
        "arrive (Alpaca has accepted orders a minute late): until this long after it was "
        "sent, no later run sends anything; then it counts as never sent. Default: 300 for "
        "Alpaca, 0 for the simulator (it answers at once or never).",
    )
