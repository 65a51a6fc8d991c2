"""Decimal money and quantity math shared by the planner, checks and adapters.

Rounding modes are passed positionally: `quantize(exp, mode)` is about twice as fast as
`quantize(exp, rounding=mode)` in CPython, and the planner rounds tens of thousands of times.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
SUB_DOLLAR_TICK = Decimal("0.0001")
QTY_STEP = Decimal("0.000000001")  # Alpaca accepts fractional quantities to 9 decimals.
BPS = Decimal(10_000)


def to_decimal(value: object, *, field: str = "value") -> Decimal:
    """Convert a str, int or Decimal to a finite Decimal; reject floats and junk."""
    if isinstance(value, bool | float):
        # Floats carry binary rounding error into money; require text or int.
        raise ValueError(f"{field}: give {value!r} as a string, not a float")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError(f"{field}: {value!r} is not a number") from None
    else:
        raise ValueError(f"{field}: {value!r} is not a number")
    if not result.is_finite():
        shown = repr(value) if isinstance(value, str) else str(value)  # NaN, not Decimal('NaN')
        raise ValueError(f"{field}: {shown} is not a finite number")
    return result


def money(value: Decimal) -> Decimal:
    """Round to whole cents, half-even (for display and totals)."""
    return value.quantize(CENT, ROUND_HALF_EVEN)


def dollars(value: Decimal) -> str:
    """Money as people read it in messages and tables: $1,234.56."""
    return f"${money(value):,}"


def cents_up(value: Decimal) -> Decimal:
    """Round up to whole cents (fees and costs: never underestimate)."""
    return value.quantize(CENT, ROUND_CEILING)


def qty_down(value: Decimal) -> Decimal:
    """Truncate a quantity to the broker's fractional step (never trade more than meant)."""
    return value.quantize(QTY_STEP, ROUND_DOWN)


def whole_down(value: Decimal) -> Decimal:
    """Largest whole number of shares not above `value`."""
    return value.to_integral_value(ROUND_FLOOR)


def tick_for(price: Decimal) -> Decimal:
    """Minimum price increment: a cent at or above $1, 1/100 cent below (Reg NMS 612)."""
    return CENT if price >= ONE else SUB_DOLLAR_TICK


def price_down(price: Decimal) -> Decimal:
    """Round a price down to a valid tick (buy limits: never pay above the collar)."""
    return price.quantize(tick_for(price), ROUND_FLOOR)


def price_up(price: Decimal) -> Decimal:
    """Round a price up to a valid tick (sell limits: never sell below the collar)."""
    return price.quantize(tick_for(price), ROUND_CEILING)


def bps_of(part: Decimal, whole: Decimal) -> Decimal:
    """Express `part` as basis points of `whole` (zero when `whole` is zero)."""
    if whole == ZERO:
        return ZERO
    return part / whole * BPS


def fmt(value: Decimal) -> str:
    """Render a Decimal exactly as plain text (no exponent, no trailing fractional zeros),
    for JSON and tables. Textual, so it never rounds to the context's 28 digits (as
    `Decimal.normalize` would) and never raises, whatever the size."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
