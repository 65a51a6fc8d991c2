"""`daytrade.round_trip`: no same-session round trips (blocks only under the legacy PDT count)."""

from __future__ import annotations

from decimal import Decimal

from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Unit, check
from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import dollars
from alchemiser_cli.core.plan import Plan

LEGACY_PDT_EQUITY = Decimal(25_000)


@check("daytrade.round_trip", "no same-session round trips", unit=Unit.USD)
def check_day_trades(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Warn on same-session round trips; block only under the legacy PDT count."""
    bought = {f.symbol for f in snap.fills_today if f.side is Side.BUY}
    sold = {f.symbol for f in snap.fills_today if f.side is Side.SELL}
    trips = sorted(
        {o.symbol for o in plan.orders if (o.side is Side.SELL and o.symbol in bought)
         or (o.side is Side.BUY and o.symbol in sold)}
    )  # fmt: skip
    if not trips:
        return None
    count = snap.account.daytrade_count
    equity = plan.account.equity
    if count is not None and count >= 3 and equity < LEGACY_PDT_EQUITY:
        return this.block(
            f"{len(trips)} day trade(s) ({', '.join(trips)}) with {count} already counted and "
            f"equity {dollars(equity)} under {dollars(LEGACY_PDT_EQUITY)} (legacy PDT rule)",
            "this broker still counts day trades; wait for the next session",
            symbol=trips[0],
            value=equity,
            limit=LEGACY_PDT_EQUITY,
        )
    return this.warn(
        f"plan reverses today's trades in {', '.join(trips)} (same-session round trip)",
        "intraday margin rules apply; in a cash account, mind unsettled funds (T+1)",
        symbol=trips[0],
    )
