"""Holdings alch does not trade (issue 21): crypto, options, anything Alpaca lists with an
asset class other than US equities. They are listed and left alone: never ordered, not in
the equity the targets share unless a target names one (then its value counts, at the
broker's market value, and the planner leaves it as not tradable), and said in a note."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from alchemiser_cli.core.models import EQUITY, Asset, Position, Quote
from alchemiser_cli.core.money import ZERO, dollars, fmt


def split(
    positions: Mapping[str, Position], named: Iterable[str]
) -> tuple[dict[str, Position], list[Position]]:
    """(what the plan holds: equities and the other holdings a target names, the other
    holdings left out of it)."""
    wanted = set(named)
    kept = {s: p for s, p in positions.items() if p.asset_class == EQUITY or s in wanted}
    return kept, [p for s, p in sorted(positions.items()) if s not in kept]


def priced(positions: Mapping[str, Position]) -> tuple[dict[str, Quote], dict[str, Asset]]:
    """Quotes and asset records for the other holdings a target names: their price is the
    broker's market value per unit, and alch never orders them (not tradable here)."""
    quotes, assets = {}, {}
    for symbol, p in positions.items():
        if p.asset_class == EQUITY:
            continue
        price = value(p) / p.qty if p.qty != ZERO else ZERO
        quotes[symbol] = Quote(symbol, price, price, price)
        assets[symbol] = Asset(symbol, tradable=False, status=p.asset_class)
    return quotes, assets


def value(p: Position) -> Decimal:
    """The broker's market value of a holding (zero when it does not say)."""
    return p.market_value if p.market_value is not None else ZERO


def left_alone(others: list[Position]) -> str | None:
    """The note naming the holdings left out of the plan, or None."""
    if not others:
        return None
    named = ", ".join(
        f"{p.symbol} {fmt(p.qty)} ({p.asset_class}, {dollars(value(p))})" for p in others
    )
    return (
        f"left alone (alch trades US equities only): {named}; not in the equity the targets "
        "share: name them in the targets to count them in the equity (they are never ordered)"
    )
