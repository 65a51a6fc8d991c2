"""`[tax] avoid_wash_sales`: a transform of the targets before the planner, never a change
inside it. A plan's wash sales name the positions to hold back:

- a planned buy of a symbol sold at a loss in the last 30 days: its target is capped at
  its current weight (nothing bought) until the 31st day after the last such sale; the
  weight it does not buy goes to its `[tax.substitutes]` symbol, or stays in cash;
- a planned sale at a loss while shares bought in the last 30 days stay held: its target
  is held at its current weight (nothing sold) until the 31st day after that purchase.

The caller plans again with the transformed targets, and repeats while the new plan makes
new wash sales (a substitute sold at a loss lately is held back too; its share then stays
in cash, it is not passed on to a substitute's substitute).

Targets whose every weight is held back at zero read to the planner as a liquidation,
which sells positions outside the targets even with `[planner] sell_unlisted = false`:
those positions are then held where they are too, for as long as the other holds last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from alchemiser_cli.core.models import Side
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.plan import Plan, Rule
from alchemiser_cli.core.tax.ledger import WINDOW, Ledger
from alchemiser_cli.core.tax.records import Hold, WashSaleView

CLEAR = WINDOW + timedelta(days=1)  # the first day after a wash sale's window
UNLISTED = (
    "not in the targets, kept by [planner] sell_unlisted = false while every target is held back"
)


def holds_for(
    washes: Sequence[WashSaleView],
    plan: Plan,
    wanted: Mapping[str, Decimal],
    substitutes: Mapping[str, str],
    known: Sequence[Hold] = (),
) -> list[Hold]:
    """The holds that remove the plan's wash sales (those already `known` kept, dates
    widened where a later sale or purchase needs it)."""
    sides = {o.leg: (o.symbol, o.side) for o in plan.orders}
    current = {line.symbol: line.current_weight for line in plan.positions}
    holds = {h.symbol: h for h in known}
    for wash in washes:
        buy = sides.get(wash.replacement_leg or 0)
        sell = sides.get(wash.sale_leg or 0)
        if buy is not None and buy[1] is Side.BUY:
            symbol, until = buy[0], wash.sold + CLEAR
            reason = f"a buy within 30 days of its loss sale of {wash.sold.isoformat()}"
        elif sell is not None and sell[1] is Side.SELL and wash.replacement_leg is None:
            symbol, until = sell[0], wash.replacement_acquired + CLEAR
            reason = (
                f"a loss sale while the shares bought {wash.replacement_acquired.isoformat()} "
                "are held"
            )
        else:  # pragma: no cover - a plan never buys and sells one symbol
            continue
        old = holds.get(symbol)
        if old is not None and old.until >= until:
            continue
        holds[symbol] = Hold(symbol, wanted.get(symbol, ZERO), current.get(symbol, ZERO),
                             until, reason)  # fmt: skip
    return _with_substitutes(list(holds.values()), substitutes)


def _with_substitutes(holds: list[Hold], substitutes: Mapping[str, str]) -> list[Hold]:
    """Name each held-back buy's substitute, unless that one is held back itself."""
    held = {h.symbol for h in holds}
    out = []
    for hold in sorted(holds, key=lambda h: h.symbol):
        substitute = substitutes.get(hold.symbol)
        if hold.wanted <= hold.planned or substitute in held:
            substitute = None
        out.append(
            Hold(hold.symbol, hold.wanted, hold.planned, hold.until, hold.reason, substitute)
        )
    return out


def widened(holds: Sequence[Hold], history: Ledger, day: date) -> list[Hold]:
    """Each hold until the first day its trade is clear of every wash sale, not only of the
    one the plan's wash sale matched: a held-back buy waits 31 days after the symbol's last
    loss sale a purchase could still replace; a held-back sale, 31 days after the last
    purchase still held that has not replaced a loss yet."""
    start = day - WINDOW
    out = []
    for hold in holds:
        if hold.wanted > hold.planned:
            losses = history.pending.get(hold.symbol, ())
            dates = [r.sold for r in losses if r.open_units > ZERO and r.sold >= start]
        else:
            lots = history.lots.get(hold.symbol, ())
            dates = [lot.acquired for lot in lots if not lot.replaced and lot.acquired >= start]
        until = max([hold.until, *(d + CLEAR for d in dates)])
        out.append(hold if until == hold.until else replace(hold, until=until))
    return out


def keep_unlisted(asked: Plan, holds: Sequence[Hold], weights: Mapping[str, Decimal]) -> list[Hold]:
    """`holds`, and when they leave no target weight above zero under `[planner]
    sell_unlisted = false`, a hold at its current weight for every position the plan
    `asked` (made from the targets asked for) kept outside the targets."""
    if asked.policy.sell_unlisted or not holds:
        return list(holds)
    if any(w > ZERO for w in apply_holds(weights, holds).values()):
        return list(holds)
    until = max(h.until for h in holds)
    named = {h.symbol for h in holds}
    kept = [
        Hold(line.symbol, ZERO, line.current_weight, until, UNLISTED)
        for line in asked.positions
        if line.rule is Rule.UNLISTED_HELD and line.symbol not in named
    ]
    return sorted([*holds, *kept], key=lambda h: h.symbol)


def apply_holds(weights: Mapping[str, Decimal], holds: Sequence[Hold]) -> dict[str, Decimal]:
    """The targets with each held symbol at its planned weight and each substitute given
    what its symbol does not buy."""
    out = dict(weights)
    for hold in holds:
        out[hold.symbol] = hold.planned
        if hold.substitute is not None:
            out[hold.substitute] = out.get(hold.substitute, ZERO) + hold.wanted - hold.planned
    return out


def undo_holds(weights: Mapping[str, Decimal], holds: Sequence[Hold]) -> dict[str, Decimal]:
    """The targets before `apply_holds` (a saved plan is checked against what was asked);
    entries it only added come back as zero."""
    out = dict(weights)
    for hold in holds:
        out[hold.symbol] = hold.wanted
        if hold.substitute is not None:
            out[hold.substitute] = out.get(hold.substitute, ZERO) - (hold.wanted - hold.planned)
    return out
