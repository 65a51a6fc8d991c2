"""Rolling Sharpe, volatility and beta over a window of sessions (the tearsheet draws 126
and 252: six and twelve months). Pure, Decimal, one pass with running sums.

Sharpe = mean(r - rf/252) / sample sd(r) * sqrt(252), volatility = sample sd * sqrt(252),
beta = sample cov(r, b) / sample var(b), each over the `window` sessions ending that day;
None until a window is full (or where a deviation is zero)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from alchemiser_cli.core.metrics import TRADING_DAYS
from alchemiser_cli.core.money import ZERO


@dataclass(frozen=True, slots=True)
class Rolling:
    """One figure a session, aligned with the returns (None before the window fills)."""

    window: int
    sharpe: list[Decimal | None]
    volatility: list[Decimal | None]
    beta: list[Decimal | None]


def rolling(
    returns: Sequence[Decimal],
    bench: Sequence[Decimal] | None,
    window: int,
    risk_free: Decimal = ZERO,
) -> Rolling:
    """The rolling figures of `returns` (and beta against `bench`, when given)."""
    n = len(returns)
    sharpe: list[Decimal | None] = [None] * n
    vol: list[Decimal | None] = [None] * n
    beta: list[Decimal | None] = [None] * n
    with localcontext() as ctx:
        ctx.prec = 34  # running sums lose digits to cancellation; keep them exact enough
        root = TRADING_DAYS.sqrt()
        daily_rf = risk_free / TRADING_DAYS
        w = Decimal(window)
        sr = sr2 = sb = sb2 = srb = ZERO
        for i in range(n):
            r = returns[i]
            b = bench[i] if bench is not None else ZERO
            sr, sr2, sb, sb2, srb = sr + r, sr2 + r * r, sb + b, sb2 + b * b, srb + r * b
            if i >= window:
                r0 = returns[i - window]
                b0 = bench[i - window] if bench is not None else ZERO
                sr, sr2, sb, sb2, srb = (
                    sr - r0,
                    sr2 - r0 * r0,
                    sb - b0,
                    sb2 - b0 * b0,
                    srb - r0 * b0,
                )
            if i < window - 1:
                continue
            var_r = (sr2 - sr * sr / w) / (w - 1)
            if var_r > 0:
                sd = var_r.sqrt()
                vol[i] = +(sd * root)
                sharpe[i] = +((sr / w - daily_rf) / sd * root)
            if bench is not None:
                var_b = (sb2 - sb * sb / w) / (w - 1)
                if var_b > 0:
                    beta[i] = +((srb - sr * sb / w) / (w - 1) / var_b)
    return Rolling(window, sharpe, vol, beta)
