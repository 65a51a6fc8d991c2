"""Money-safety invariants measured at the fake broker (issue 21, must-show 2): what the
account holds against the targets, and what alch ordered against what the plan needed."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.models import Side

# What "above target" allows for: a cent of rounding and 5 bps of the target's value (the
# spread a run pays shrinks equity a little after the goals were set, and a quote may
# move a cent: a doubled buy is 10,000 bps), plus, for a whole-share symbol, the half
# share the planner may round up to.
SLACK = Decimal("0.01")
SLACK_BPS = Decimal("0.0005")


def above_target(
    sim: SimBroker,
    targets: Mapping[str, Decimal],
    reserve: Decimal = Decimal(0),
    start: Mapping[str, Decimal] | None = None,
) -> dict[str, str]:
    """Symbols held above their target share of the investable base, valued at the mid
    (symbol -> "value > allowed"); empty when none is. With `start` (the quantities held
    before the runs), only symbols bought since count: a holding that simply was not sold
    yet (a run refused or stopped) is not one alch put above its target."""
    positions = sim.positions()
    quotes = sim.quotes(set(positions) | set(targets))
    mids = {s: (q.bid + q.ask) / 2 for s, q in quotes.items()}
    equity = sim.account().cash + sum((p.qty * mids[s] for s, p in positions.items()), Decimal(0))
    base = equity - reserve
    assets = sim.assets(positions)
    over = {}
    for symbol, position in positions.items():
        if start is not None and position.qty <= start.get(symbol, Decimal(0)):
            continue
        value = position.qty * mids[symbol]
        goal = targets.get(symbol, Decimal(0)) * base
        allowed = goal + goal * SLACK_BPS + SLACK
        asset = assets.get(symbol)
        if asset is not None and not asset.fractionable:
            allowed += mids[symbol] / 2
        if value > allowed:
            over[symbol] = f"{value:.2f} > {allowed:.2f}"
    return over


def bought(sim: SimBroker) -> dict[str, Decimal]:
    """Quantity bought per symbol over every order the broker holds (filled part)."""
    out: dict[str, Decimal] = {}
    for order in sim.orders():
        if order.side is Side.BUY and order.filled_qty > 0:
            out[order.symbol] = out.get(order.symbol, Decimal(0)) + order.filled_qty
    return out


def cash_seed(account_id: str) -> str:
    """The fake Alpaca account these money-safety tests start from: all cash, $100,000,
    VTI and BND quoted a cent or two wide."""
    return (
        f'account_id = "{account_id}"\ncash = "100000"\n'
        '[quotes.VTI]\nbid = "250.00"\nask = "250.10"\n'
        '[quotes.BND]\nbid = "72.50"\nask = "72.52"\n'
    )
