"""`signal.*`: targets from strategies: tradable, not fragile, not stale, warmed up."""

from __future__ import annotations

from datetime import date

from alchemiser_cli.core.checks.common import not_tradable, pct
from alchemiser_cli.core.checks.record import (
    Check,
    CheckContext,
    Finding,
    Needs,
    Severity,
    Unit,
    check,
)
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.strategy.record import fragile_decisions

_SIGNAL = (Needs.SIGNAL,)


@check("signal.tradable", "every symbol the strategies can hold is tradable", needs=_SIGNAL)
def check_signal_tradable(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Every symbol a strategy can hold, in any branch, must be tradable: block when the
    targets hold one that is not; warn when only a branch not taken today could."""
    if plan.signal is None:
        return None
    bad = [s for s in plan.signal.symbols if not_tradable(snap, s)]
    if not bad:
        return None
    held = [s for s in bad if plan.targets.get(s, ZERO) > ZERO]
    broker = snap.broker
    if held:
        return this.block(
            f"the strategies' targets hold {', '.join(held)}, not tradable at {broker}",
            "change the strategy, or wait until the asset trades again",
            symbol=held[0],
        )
    return this.warn(
        f"strategy symbols not tradable at {broker}: {', '.join(bad)} (not held today; a "
        "branch can switch to them)",
        "replace them in the strategy before a decision flips to them",
        symbol=bad[0],
    )


@check(
    "signal.fragile",
    "no strategy decision close to flipping",
    unit=Unit.RATIO,
    needs=_SIGNAL,
)
def check_signal_fragile(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Warn (block with `block_fragile`) when a strategy's decision is within its fragile
    margin of flipping: a small move in the data would change the targets."""
    if plan.signal is None:
        return None
    found = fragile_decisions(plan.signal)
    if not found:
        return None
    closest = min(found, key=lambda d: d.margin)
    limit = plan.signal.fragile_margin
    message = (
        f"{len(found)} strategy decision(s) within {pct(limit)} of flipping; closest "
        f"{pct(closest.margin)}: {closest.strategy} at {closest.pos}: {closest.detail}"
    )
    return this.finding(
        Severity.BLOCK if ctx.limits.block_fragile else Severity.WARN,
        message,
        "see the decision tree (`alch signal FILE`); a small move would change the targets",
        value=closest.margin,
        limit=limit,
    )


@check("signal.stale", "strategy bars through the last session", unit=Unit.DAYS, needs=_SIGNAL)
def check_signal_stale(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Block targets decided on bars older than the last closed session."""
    signal, last = plan.signal, ctx.last_session
    if signal is None or last is None:
        return None
    behind: dict[str, date] = {}  # symbol -> its last bar, behind the strategy's as-of
    for strategy in signal.strategies:
        for symbol, day in strategy.stale.items():
            if day < last:
                behind[symbol] = min(day, behind.get(symbol, day))
    parts = [] if signal.as_of >= last else [f"the bars end {signal.as_of.isoformat()}"]
    if behind:
        parts.append("last bar " + ", ".join(f"{s} {d.isoformat()}" for s, d in behind.items()))
    if not parts:
        return None
    worst = min(behind, key=lambda s: (behind[s], s)) if behind else None
    oldest = behind[worst] if worst is not None else signal.as_of
    return this.block(
        f"strategy data older than the last session {last.isoformat()}: {'; '.join(parts)}",
        "the bars have not caught up: wait for them, or check the data source",
        symbol=worst,
        value=(last - oldest).days,
        limit=0,
    )


@check(
    "signal.warmup",
    "every RSI and EMA fully warmed up",
    level=Severity.WARN,
    needs=_SIGNAL,
)
def check_signal_warmup(
    this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext
) -> Finding | None:
    """Warn when an RSI or EMA was read on fewer closes than a full warm-up (10n + 1 /
    10n): its value is used, but still moves with the history it starts from."""
    short = (
        [] if plan.signal is None else [w for s in plan.signal.strategies for w in s.short_warmup]
    )
    if not short:
        return None
    return this.warn(
        f"{len(short)} indicator(s) read on a short warm-up; first: {short[0]}",
        "give the bars source more history: a broker or a CSV with earlier bars",
    )
