"""What several checks share: the worst offender over a limit, and how figures read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from alchemiser_cli.core.checks.record import Check, CheckContext, Finding
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO, fmt


@dataclass(frozen=True, slots=True)
class Offender:
    """One thing over a limit: its symbol, its figure against the limit it crossed, how a
    message lists it, and `rank`, what makes it worse than another (its `value` when None)."""

    symbol: str | None
    value: Decimal | None
    limit: Decimal | None
    listed: str = ""
    rank: Decimal | None = None


Pick = Callable[[Sequence[Offender]], Offender]


def first(found: Sequence[Offender]) -> Offender:
    """The first offender, in the plan's order."""
    return found[0]


def largest(found: Sequence[Offender]) -> Offender:
    """The offender of the largest rank (the first of equals)."""
    return max(found, key=_rank)


def _rank(offender: Offender) -> Decimal:
    return offender.rank if offender.rank is not None else offender.value or ZERO


def worst_offender(
    this: Check,
    found: Sequence[Offender],
    message: Callable[[Offender], str],
    hint: str,
    *,
    pick: Pick = first,
) -> Finding | None:
    """None when nothing is over its limit; else this check's block with the worst
    offender's figures (`message` words it, given the worst)."""
    if not found:
        return None
    worst = pick(found)
    return this.block(
        message(worst), hint, symbol=worst.symbol, value=worst.value, limit=worst.limit
    )


def over(value: Decimal, limit: Decimal | None) -> list[Offender]:
    """One figure as the only offender when it is above its limit (None: no limit)."""
    return [] if limit is None or value <= limit else [Offender(None, value, limit)]


def listed(found: Sequence[Offender]) -> str:
    """The offenders as a message lists them."""
    return ", ".join(o.listed for o in found)


def pct(value: Decimal) -> str:
    """A ratio as a percentage with one decimal: `12.5%`."""
    return f"{fmt((value * 100).quantize(Decimal('0.1')))}%"


def seconds(value: float) -> Decimal:
    """Whole seconds, as the messages show them."""
    return Decimal(f"{value:.0f}")


def minutes(value: float) -> Decimal:
    """Whole minutes, as the messages show them."""
    return Decimal(f"{value:.0f}")


def closed_by_broker(ctx: CheckContext) -> bool:
    """The calendar says open but the broker's own clock says closed."""
    return ctx.market is not None and ctx.market.is_open and ctx.broker_open is False


def trading(ctx: CheckContext) -> bool:
    """Open by the calendar and not closed by the broker's clock."""
    return ctx.market is not None and ctx.market.is_open and not closed_by_broker(ctx)


def not_tradable(snap: Snapshot, symbol: str) -> bool:
    """The broker has no such asset, or it is not active and tradable."""
    asset = snap.assets.get(symbol)
    return asset is None or not asset.tradable or asset.status.lower() != "active"
