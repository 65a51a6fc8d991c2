"""The one rule of a strategy's `:rebalance-threshold`: with no drift band configured, the
tightest threshold of the strategies (`program.tightest_threshold`) is the absolute band.

`alch plan/check/execute --strategy`, `[strategies]` and the backtest all apply it here.
"""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.policy import PlannerPolicy


def strategy_band(policy: PlannerPolicy, threshold: Decimal | None) -> PlannerPolicy:
    """`policy` with `band_abs` set to `threshold` when it has no band of its own (the same
    policy, unchanged, otherwise)."""
    if threshold is None or policy.bands_on:
        return policy
    return PlannerPolicy.model_validate({**policy.model_dump(), "band_abs": threshold})
