"""How the planner values an account: reference prices, bands, the investable base, the
valuation `alch status` shows, sell fees, and the planner's working row per symbol.

Pure: no I/O, no clock, ``Decimal`` throughout.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from alchemiser_cli.core.models import Asset, Quote
from alchemiser_cli.core.money import ZERO, cents_up
from alchemiser_cli.core.plan import PriceRef, Rule
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.errors import PriceError, QuoteError


def reference_price(quote: Quote | None, symbol: str) -> Decimal:
    """Mid of a two-sided quote, else the last trade; anything else is an error."""
    if quote is None:
        raise PriceError(f"no quote for {symbol}: cannot value or trade it")
    if quote.bid > ZERO and quote.ask > ZERO:
        if quote.bid > quote.ask:
            raise QuoteError(
                f"crossed quote for {symbol} from the broker: bid {quote.bid} > ask "
                f"{quote.ask}; try again in a moment"
            )
        return (quote.bid + quote.ask) / 2
    if quote.last > ZERO:
        return quote.last
    raise QuoteError(
        f"no usable price for {symbol} from the broker (bid {quote.bid}, ask {quote.ask}, "
        f"last {quote.last}); try again in a moment"
    )


def band_threshold(target_weight: Decimal, policy: PlannerPolicy) -> Decimal | None:
    """Allowed drift for a target weight: the narrower of the absolute and relative bands."""
    widths = []
    if policy.band_abs is not None:
        widths.append(policy.band_abs)
    if policy.band_rel is not None:
        widths.append(policy.band_rel * target_weight)
    return min(widths) if widths else None


def investable_base(
    equity: Decimal, kept_value: Decimal, policy: PlannerPolicy
) -> tuple[Decimal, Decimal]:
    """(cash reserve, investable base): target weights are fractions of the base, which is
    equity less kept positions and the reserve (the larger of its absolute and % forms)."""
    reserve = max(policy.cash_reserve, policy.cash_reserve_pct * max(equity, ZERO))
    return reserve, max(ZERO, equity - kept_value - reserve)


@dataclass(frozen=True, slots=True)
class Holding:
    """One symbol valued against its target: weights are of the investable base."""

    symbol: str
    qty: Decimal
    price: Decimal | None
    value: Decimal
    weight: Decimal
    target_weight: Decimal | None  # None: no targets, or a kept position
    drift: Decimal | None
    band: Decimal | None  # the allowed drift of a listed target, where bands are configured
    in_band: bool | None


@dataclass(frozen=True, slots=True)
class Valuation:
    """An account valued the way the planner values it (`alch status`)."""

    equity: Decimal
    base: Decimal
    holdings: tuple[Holding, ...]


def value_account(
    qtys: Mapping[str, Decimal],
    prices: Mapping[str, Decimal | None],
    cash: Decimal,
    weights: Mapping[str, Decimal] | None,
    policy: PlannerPolicy,
) -> Valuation:
    """Weights, drift and band of every holding and every unheld target (`prices` has
    each symbol shown; an unpriced one is valued at zero), against the plan's base."""
    values = {s: q * (prices.get(s) or ZERO) for s, q in qtys.items()}
    equity = cash + sum(values.values(), ZERO)
    kept_value = sum((v for s, v in values.items() if s in policy.keep), ZERO)
    _, base = investable_base(equity, kept_value, policy)  # the plan's denominator
    holdings = []
    for symbol in sorted(set(qtys) | set(prices)):
        value = values.get(symbol, ZERO)
        weight = value / base if base > ZERO else ZERO
        target = None
        if weights is not None and symbol not in policy.keep:
            target = weights.get(symbol, ZERO)
        band = None
        if target is not None and weights is not None and symbol in weights and policy.bands_on:
            band = band_threshold(target, policy)  # as the planner: only a listed target
        drift = None if target is None else weight - target
        holdings.append(
            Holding(
                symbol=symbol,
                qty=qtys.get(symbol, ZERO),
                price=prices.get(symbol),
                value=value,
                weight=weight,
                target_weight=target,
                drift=drift,
                band=band,
                in_band=None if band is None or drift is None else abs(drift) <= band,
            )
        )
    return Valuation(equity=equity, base=base, holdings=tuple(holdings))


def sell_fees(qty: Decimal, price: Decimal, policy: PlannerPolicy) -> Decimal:
    """SEC and FINRA fees on a sale, rounded up to the cent each."""
    sec = cents_up(qty * price * policy.sec_fee_rate)
    taf = min(cents_up(qty * policy.finra_taf_per_share), policy.finra_taf_max)
    return sec + taf


@dataclass(slots=True)
class Row:
    """One symbol while planning: its price, the rule that decided it and its trade."""

    symbol: str
    asset: Asset
    qty: Decimal
    price: PriceRef
    value: Decimal
    target_weight: Decimal = ZERO
    current_weight: Decimal = ZERO
    band: Decimal | None = None
    rule: Rule = Rule.TO_TARGET
    limit: Decimal = ZERO  # the order's limit price: the collar edge, on a valid tick
    fees: Decimal = ZERO  # sells: SEC + FINRA fees at the limit price
    trade: Decimal = ZERO  # signed quantity: + buy, - sell
    want: Decimal = ZERO  # buys: the real-valued quantity that would reach the goal
    goal: Decimal | None = None  # the value aimed at; None: not aimed (kept, in band, ...)
    note: str = ""
