"""Decimal field types that carry their JSON form: always plain decimal strings."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer

from alchemiser_cli.core.money import fmt, money

WEIGHT_STEP = Decimal("0.000001")

# Exact values (quantities, prices): serialised without loss, so a saved plan round-trips.
Exact = Annotated[Decimal, PlainSerializer(fmt, return_type=str, when_used="json")]
# Money estimates and totals: whole cents in JSON.
Money = Annotated[
    Decimal, PlainSerializer(lambda d: fmt(money(d)), return_type=str, when_used="json")
]
# Weights: six decimals in JSON (0.000001 = 0.0001%).
Weight = Annotated[
    Decimal,
    PlainSerializer(lambda d: fmt(d.quantize(WEIGHT_STEP)), return_type=str, when_used="json"),
]
