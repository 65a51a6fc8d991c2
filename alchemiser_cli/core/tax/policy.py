"""`[tax]` in alch.toml: whether the account is taxable, and whether to avoid wash sales."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TaxPolicy(BaseModel):
    """How alch treats taxes. Every figure is an estimate for the user's own records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: Literal["taxable", "ira"] = Field(
        default="taxable",
        description='"taxable", or "ira" for a tax-advantaged account: no lots, gains or '
        "wash sales are read or shown.",
    )
    avoid_wash_sales: bool = Field(
        default=False,
        description="Keep a position off target rather than make a wash sale: no buy within "
        "30 days of a loss sale of the symbol, no loss sale while shares bought in the last "
        "30 days would stay held.",
    )
    substitutes: dict[str, str] = Field(
        default_factory=dict,
        description='Where a buy held back by avoid_wash_sales goes instead: VTI = "ITOT" '
        "(the gap stays in cash for a symbol with none).",
    )

    @model_validator(mode="after")
    def _upper_symbols(self) -> TaxPolicy:
        table = {k.strip().upper(): v.strip().upper() for k, v in self.substitutes.items()}
        for symbol, substitute in table.items():
            if not symbol or not substitute:
                raise ValueError("substitutes: a symbol and its substitute must not be empty")
            if symbol == substitute:
                raise ValueError(f"substitutes: {symbol} cannot be its own substitute")
        object.__setattr__(self, "substitutes", table)
        return self

    @property
    def on(self) -> bool:
        """Whether lots, gains and wash sales are tracked (a taxable account)."""
        return self.account == "taxable"
