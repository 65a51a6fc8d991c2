"""Pre-trade checks: each returns a reason to warn or block, or None to pass.

Pure: a check reads the plan, a fresh snapshot, the limits and `now`, and returns a
`Finding`. The engine runs every check and reports them all (passes included), so the
user sees what was checked, not only what failed. Exceptions are for bugs only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from alchemiser_cli.core.calendar import MarketState
from alchemiser_cli.core.models import Side, Snapshot
from alchemiser_cli.core.money import BPS, ZERO, dollars, fmt, tick_for
from alchemiser_cli.core.planner import Plan, Rule
from alchemiser_cli.core.policy import Limits
from alchemiser_cli.core.strategy.record import fragile_decisions

LEGACY_PDT_EQUITY = Decimal(25_000)


class Severity(StrEnum):
    """How a check came out."""

    PASS = "pass"  # noqa: S105 - a verdict, not a password
    WARN = "warn"
    BLOCK = "block"


class Unit(StrEnum):
    """What a finding's `value` and `limit` count."""

    USD = "usd"
    RATIO = "ratio"  # a share of a whole: 0.6 is 60%
    BPS = "bps"
    SECONDS = "s"
    MINUTES = "min"
    COUNT = "count"
    SHARES = "shares"
    DAYS = "days"


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of one check: a stable id, a severity, a one-line message and a hint.

    The figures behind the message are fields too, so alerts need not parse it: `value`
    against `limit`, both in `unit`, for `symbol` (the worst offender when several are);
    each is None where the check has no such figure. `bypassed_by` names the flag that
    turned a block into this warning.
    """

    check_id: str
    severity: Severity
    message: str
    hint: str = ""
    symbol: str | None = None
    value: Decimal | None = None
    limit: Decimal | None = None
    unit: Unit | None = None
    bypassed_by: str | None = None


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What the checks know besides the plan and the snapshot."""

    limits: Limits
    now: datetime
    market: MarketState | None = None
    broker_open: bool | None = None  # the broker's own flag (Alpaca's clock); None: none
    broker_clock: str = "the broker's clock"
    saved_plan: bool = False
    traded_today: Decimal = ZERO
    already_executed: tuple[str, ...] = ()
    force: bool = False
    cancel_open: bool = False  # --allow-open-orders (the old flag name; nothing is cancelled)
    queue_for_open: bool = False
    sectors: Mapping[str, str] = field(default_factory=dict)
    last_session: date | None = None  # the last closed session: strategies' bars must reach it


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Every check's finding for one plan."""

    plan_id: str
    checked_at: datetime
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def blocked(self) -> bool:
        """Whether any check blocks the plan."""
        return any(f.severity is Severity.BLOCK for f in self.findings)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings that warn."""
        return tuple(f for f in self.findings if f.severity is Severity.WARN)


CheckFn = Callable[[Plan, Snapshot, CheckContext], Finding | None]


def _block(
    check_id: str,
    message: str,
    hint: str = "",
    *,
    symbol: str | None = None,
    value: Decimal | int | None = None,
    limit: Decimal | int | None = None,
    unit: Unit | None = None,
) -> Finding:
    return Finding(
        check_id,
        Severity.BLOCK,
        message,
        hint,
        symbol=symbol,
        value=None if value is None else Decimal(value),
        limit=None if limit is None else Decimal(limit),
        unit=unit,
    )


def check_account_status(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block unless the account is active and allowed to trade."""
    acct = snap.account
    flags = [
        name
        for name, on in (
            ("account_blocked", acct.account_blocked),
            ("trading_blocked", acct.trading_blocked),
            ("trade_suspended_by_user", acct.trade_suspended_by_user),
        )
        if on
    ]
    if acct.status.upper() != "ACTIVE":
        flags.insert(0, f"status {acct.status}")
    if flags and plan.orders:
        return _block(
            "account.status",
            f"account {acct.account_id} cannot trade: {', '.join(flags)}",
            "resolve it with the broker; alch sends nothing meanwhile",
        )
    return None


def check_plan_account(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan made for another account or broker."""
    if plan.account_id != snap.account.account_id or plan.broker != snap.broker:
        return _block(
            "plan.account",
            f"plan was made for {plan.broker}:{plan.account_id}, "
            f"this is {snap.broker}:{snap.account.account_id}",
            "make a new plan for this account with `alch plan`",
        )
    return None


def check_buying_power(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block buys beyond what may be spent: cash (margin buying power only when allowed),
    less open buy orders, plus the sells' proceeds.

    A cash account may reinvest sale proceeds before they settle (T+1), so today's and this
    plan's proceeds both count; what it must not do is sell those buys before the money
    settles, which `check_good_faith` guards.
    """
    buys = sum((o.max_value for o in plan.orders if o.side is Side.BUY), ZERO)
    if buys == ZERO:
        return None
    acct = snap.account
    if ctx.limits.allow_margin and acct.account_type == "margin":
        base, label = acct.buying_power, "buying power"
    else:
        base, label = min(acct.cash, acct.buying_power), "cash"
    reserved = sum(
        ((o.qty - o.filled_qty) * (o.limit_price or ZERO) for o in snap.open_orders
         if o.side is Side.BUY),
        ZERO,
    )  # fmt: skip
    proceeds = sum((o.max_value - o.fees for o in plan.orders if o.side is Side.SELL), ZERO)
    available = base - reserved + proceeds
    if buys > available:
        held = f" - open buys {dollars(reserved)}" if reserved else ""
        return _block(
            "account.buying_power",
            f"buys need up to {dollars(buys)} at their limit prices; {label} {dollars(base)}"
            f"{held} + sells {dollars(proceeds)} = {dollars(available)}",
            "re-plan: cash or open orders changed since the plan was made",
            value=buys,
            limit=available,
            unit=Unit.USD,
        )
    return None


def check_good_faith(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Cash account, T+1: block selling what was bought today while sale proceeds are unsettled.

    Buying with unsettled proceeds is allowed; selling that purchase before the proceeds
    settle is a good-faith violation. Which dollars paid for which buy is not knowable from
    the account, so any unsettled proceeds today make such a sell block (fail closed).
    """
    acct = snap.account
    if acct.account_type != "cash":
        return None
    sold_today = sum((f.qty * f.price for f in snap.fills_today if f.side is Side.SELL), ZERO)
    settled_gap = ZERO if acct.settled_cash is None else max(ZERO, acct.cash - acct.settled_cash)
    unsettled = max(sold_today, settled_gap)
    if unsettled == ZERO:
        return None
    bought = {f.symbol for f in snap.fills_today if f.side is Side.BUY}
    risky = sorted({o.symbol for o in plan.orders if o.side is Side.SELL and o.symbol in bought})
    if not risky:
        return None
    return _block(
        "account.good_faith",
        f"sells {', '.join(risky)} bought today while {dollars(unsettled)} of sale proceeds "
        "are unsettled (T+1): a good-faith violation in a cash account",
        "run again on the next session, when today's proceeds have settled",
        symbol=risky[0],
        value=unsettled,
        unit=Unit.USD,
    )


def check_order_notional(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block any order whose value at its limit exceeds max_order_notional."""
    limit = ctx.limits.max_order_notional
    if limit is None:
        return None
    over = [o for o in plan.orders if o.max_value > limit]
    if over:
        worst = max(over, key=lambda o: o.max_value)
        return _block(
            "limits.order_notional",
            f"{len(over)} order(s) above max_order_notional {dollars(limit)}: largest "
            f"{worst.side} {worst.symbol} {dollars(worst.max_value)}",
            "raise [limits] max_order_notional if this is intended",
            symbol=worst.symbol,
            value=worst.max_value,
            limit=limit,
            unit=Unit.USD,
        )
    return None


def check_order_pct(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block any order larger than max_order_pct of equity."""
    limit = ctx.limits.max_order_pct
    equity = plan.account.equity
    if limit is None or equity <= ZERO:
        return None
    over = [o for o in plan.orders if o.max_value / equity > limit]
    if over:
        worst = max(over, key=lambda o: o.max_value)
        return _block(
            "limits.order_pct",
            f"{worst.side} {worst.symbol} {dollars(worst.max_value)} is "
            f"{_pct(worst.max_value / equity)} of equity, above max_order_pct {_pct(limit)}",
            "raise [limits] max_order_pct if this is intended",
            symbol=worst.symbol,
            value=worst.max_value / equity,
            limit=limit,
            unit=Unit.RATIO,
        )
    return None


def check_max_orders(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run with more orders than max_orders."""
    limit = ctx.limits.max_orders
    if limit is not None and len(plan.orders) > limit:
        return _block(
            "limits.max_orders",
            f"plan has {len(plan.orders)} orders, above max_orders {limit}",
            "raise [limits] max_orders or trade in smaller steps",
            value=len(plan.orders),
            limit=limit,
            unit=Unit.COUNT,
        )
    return None


def check_turnover(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a run whose turnover exceeds max_turnover_pct."""
    limit = ctx.limits.max_turnover_pct
    if limit is not None and plan.summary.turnover > limit:
        return _block(
            "limits.turnover",
            f"turnover {_pct(plan.summary.turnover)} is above max_turnover_pct {_pct(limit)}",
            "raise [limits] max_turnover_pct if this is intended",
            value=plan.summary.turnover,
            limit=limit,
            unit=Unit.RATIO,
        )
    return None


def check_daily_notional(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when today's traded value plus this plan exceeds max_daily_notional."""
    limit = ctx.limits.max_daily_notional
    planned = sum((o.max_value for o in plan.orders), ZERO)
    if limit is not None and ctx.traded_today + planned > limit:
        return _block(
            "limits.daily_notional",
            f"today {dollars(ctx.traded_today)} + this plan {dollars(planned)} is above "
            f"max_daily_notional {dollars(limit)}",
            "wait for the next day or raise [limits] max_daily_notional",
            value=ctx.traded_today + planned,
            limit=limit,
            unit=Unit.USD,
        )
    return None


def check_assets(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block orders in assets that are not tradable, or fractional in non-fractionable ones."""
    problems, symbols = [], []
    for order in plan.orders:
        asset = snap.assets.get(order.symbol)
        if asset is None or not asset.tradable or asset.status.lower() != "active":
            problems.append(f"{order.symbol} not tradable")
        elif order.fractional and not asset.fractionable:
            problems.append(f"{order.symbol} not fractionable (qty {fmt(order.qty)})")
        else:
            continue
        symbols.append(order.symbol)
    if problems:
        return _block(
            "assets.tradable", "; ".join(problems), "re-plan with `alch plan`", symbol=symbols[0]
        )
    return None


def _not_tradable(snap: Snapshot, symbol: str) -> bool:
    asset = snap.assets.get(symbol)
    return asset is None or not asset.tradable or asset.status.lower() != "active"


def check_signal_tradable(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Every symbol a strategy can hold, in any branch, must be tradable: block when the
    targets hold one that is not; warn when only a branch not taken today could."""
    if plan.signal is None:
        return None
    bad = [s for s in plan.signal.symbols if _not_tradable(snap, s)]
    if not bad:
        return None
    held = [s for s in bad if plan.targets.get(s, ZERO) > ZERO]
    broker = snap.broker
    if held:
        return _block(
            "signal.tradable",
            f"the strategies' targets hold {', '.join(held)}, not tradable at {broker}",
            "change the strategy, or wait until the asset trades again",
            symbol=held[0],
        )
    return Finding(
        "signal.tradable",
        Severity.WARN,
        f"strategy symbols not tradable at {broker}: {', '.join(bad)} (not held today; a "
        "branch can switch to them)",
        "replace them in the strategy before a decision flips to them",
        symbol=bad[0],
    )


def check_signal_fragile(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
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
        f"{len(found)} strategy decision(s) within {_pct(limit)} of flipping; closest "
        f"{_pct(closest.margin)}: {closest.strategy} at {closest.pos}: {closest.detail}"
    )
    return Finding(
        "signal.fragile",
        Severity.BLOCK if ctx.limits.block_fragile else Severity.WARN,
        message,
        "see the decision tree (`alch signal FILE`); a small move would change the targets",
        value=closest.margin,
        limit=limit,
        unit=Unit.RATIO,
    )


def check_signal_stale(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
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
    return _block(
        "signal.stale",
        f"strategy data older than the last session {last.isoformat()}: {'; '.join(parts)}",
        "the bars have not caught up: wait for them, or check the data source",
        symbol=worst,
        value=(last - oldest).days,
        limit=0,
        unit=Unit.DAYS,
    )


def check_signal_warmup(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Warn when an RSI or EMA was read on fewer closes than a full warm-up (10n + 1 /
    10n): its value is used, but still moves with the history it starts from."""
    short = (
        [] if plan.signal is None else [w for s in plan.signal.strategies for w in s.short_warmup]
    )
    if not short:
        return None
    return Finding(
        "signal.warmup",
        Severity.WARN,
        f"{len(short)} indicator(s) read on a short warm-up; first: {short[0]}",
        "give the bars source more history: a broker or a CSV with earlier bars",
    )


def _closed_by_broker(ctx: CheckContext) -> bool:
    """The calendar says open but the broker's own clock says closed."""
    return ctx.market is not None and ctx.market.is_open and ctx.broker_open is False


def _trading(ctx: CheckContext) -> bool:
    """Open by the calendar and not closed by the broker's clock."""
    return ctx.market is not None and ctx.market.is_open and not _closed_by_broker(ctx)


def check_unreachable_targets(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Warn about targets no whole number of shares can approach: a non-fractionable
    symbol whose target is under half of one share stays at none (rule within_one_share)."""
    base = plan.summary.investable
    lines = [
        line
        for line in plan.positions
        if line.rule is Rule.WITHIN_ONE_SHARE and line.post_qty == ZERO and line.target_weight > 0
    ]
    if not lines:
        return None
    problems = [
        f"{line.symbol}: its {_pct(line.target_weight)} target "
        f"({dollars(line.target_weight * base)}) is under half of one share "
        f"({dollars(line.price)}), so it stays at 0 shares"
        for line in lines
    ]
    first = lines[0]
    return Finding(
        "plan.unreachable",
        Severity.WARN,
        "; ".join(problems),
        "lower or drop its weight, add cash, or hold a fractionable fund instead",
        symbol=first.symbol,
        value=first.target_weight * base,
        limit=first.price / 2,
        unit=Unit.USD,
    )


def check_market_open(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when the market is closed, by the NYSE calendar or by the broker's own clock
    (an unscheduled closure), unless orders may queue for the next session."""
    market = ctx.market
    if market is None or _trading(ctx) or not plan.orders:
        return None
    if _closed_by_broker(ctx):
        why = (
            f"market closed: the NYSE calendar says open but {ctx.broker_clock} says closed: "
            "an unscheduled closure?"
        )
        queued = f"{why}; day orders will queue for the next session"
    else:
        why = market.describe_closed()
        queued = f"{why}; day orders will queue for that session"
    if ctx.queue_for_open:
        return Finding(
            "market.closed",
            Severity.WARN,
            queued,
            "they execute at the next open, at their limit prices",
        )
    return _block(
        "market.closed",
        why,
        "run during the session, or pass --queue-for-open to queue day orders",
    )


def check_session_edges(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block in the first and last minutes of a session (auction noise, wide spreads)."""
    market = ctx.market
    if market is None or not _trading(ctx) or not plan.orders:
        return None
    since, until = market.minutes_since_open, market.minutes_to_close
    first, last = ctx.limits.no_trade_first_min, ctx.limits.no_trade_last_min
    if since is not None and since < first:
        return _block(
            "market.session_edge",
            f"{since:.0f} min after the open; no orders in the first {first} min",
            "wait, or lower [limits] no_trade_first_min",
            value=_minutes(since),
            limit=first,
            unit=Unit.MINUTES,
        )
    if until is not None and until < last:
        return _block(
            "market.session_edge",
            f"{until:.0f} min before the close; no orders in the last {last} min",
            "run earlier, or lower [limits] no_trade_last_min",
            value=_minutes(until),
            limit=last,
            unit=Unit.MINUTES,
        )
    return None


def check_day_trades(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
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
        return _block(
            "daytrade.round_trip",
            f"{len(trips)} day trade(s) ({', '.join(trips)}) with {count} already counted and "
            f"equity {dollars(equity)} under {dollars(LEGACY_PDT_EQUITY)} (legacy PDT rule)",
            "this broker still counts day trades; wait for the next session",
            symbol=trips[0],
            value=equity,
            limit=LEGACY_PDT_EQUITY,
            unit=Unit.USD,
        )
    return Finding(
        "daytrade.round_trip",
        Severity.WARN,
        f"plan reverses today's trades in {', '.join(trips)} (same-session round trip)",
        "intraday margin rules apply; in a cash account, mind unsettled funds (T+1)",
        symbol=trips[0],
    )


def check_position_weight(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a post-trade weight of one symbol above max_position_weight (of equity)."""
    limit = ctx.limits.max_position_weight
    equity = plan.account.equity
    if limit is None or equity <= ZERO:
        return None
    over = [p for p in plan.positions if p.post_value / equity > limit]
    if over:
        worst = max(over, key=lambda p: p.post_value)
        return _block(
            "limits.position_weight",
            f"{worst.symbol} would be {_pct(worst.post_value / equity)} of equity, above "
            f"max_position_weight {_pct(limit)}",
            "lower its target or raise [limits] max_position_weight",
            symbol=worst.symbol,
            value=worst.post_value / equity,
            limit=limit,
            unit=Unit.RATIO,
        )
    return None


def check_sector_weight(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a post-trade sector weight above max_sector_weight."""
    limit = ctx.limits.max_sector_weight
    equity = plan.account.equity
    if limit is None or not ctx.sectors or equity <= ZERO:
        return None
    totals: dict[str, Decimal] = {}
    for line in plan.positions:
        sector = ctx.sectors.get(line.symbol)
        if sector is not None:
            totals[sector] = totals.get(sector, ZERO) + line.post_value
    over = {s: v for s, v in totals.items() if v / equity > limit}
    if over:
        sector, value = max(over.items(), key=lambda kv: kv[1])
        return _block(
            "limits.sector_weight",
            f"sector {sector} would be {_pct(value / equity)} of equity, above "
            f"max_sector_weight {_pct(limit)}",
            "lower its targets or raise [limits] max_sector_weight",
            value=value / equity,
            limit=limit,
            unit=Unit.RATIO,
        )
    return None


def check_spreads(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block trading a symbol whose bid/ask spread is wider than max_spread_bps."""
    limit = ctx.limits.max_spread_bps
    if limit is None:
        return None
    wide: list[tuple[str, Decimal]] = []
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        if quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        mid = (quote.bid + quote.ask) / 2
        spread = (quote.ask - quote.bid) / mid * BPS
        if spread > limit:
            wide.append((order.symbol, spread))
    if wide:
        symbol, widest = max(wide, key=lambda w: w[1])
        listed = ", ".join(f"{s} {spread.quantize(Decimal('0.1'))} bps" for s, spread in wide)
        return _block(
            "prices.spread",
            f"spread above max_spread_bps {fmt(limit)}: {listed}",
            "wait for a tighter market, or raise [limits] max_spread_bps",
            symbol=symbol,
            value=widest,
            limit=limit,
            unit=Unit.BPS,
        )
    return None


def check_collar(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a limit price outside its collar around the fresh quote (a stale, too generous
    limit would pay up or sell down more than the collar allows)."""
    collar = plan.policy.collar_bps / BPS
    outside: list[str] = []
    first: tuple[str, Decimal, Decimal] | None = None  # symbol, limit price, the edge it crossed
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        if quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        tick = tick_for(order.limit_price)
        if order.side is Side.BUY:
            edge = quote.ask * (1 + collar)
            if order.limit_price > edge + tick:
                first = first or (order.symbol, order.limit_price, edge + tick)
                outside.append(
                    f"buy {order.symbol} limit {fmt(order.limit_price)} > ask "
                    f"{fmt(quote.ask)} + {fmt(plan.policy.collar_bps)} bps"
                )
        else:
            edge = quote.bid * (1 - collar)
            if order.limit_price < edge - tick:
                first = first or (order.symbol, order.limit_price, edge - tick)
                outside.append(
                    f"sell {order.symbol} limit {fmt(order.limit_price)} < bid "
                    f"{fmt(quote.bid)} - {fmt(plan.policy.collar_bps)} bps"
                )
    if first is not None:
        symbol, price, edge = first
        return _block(
            "prices.collar",
            f"limit outside its collar: {'; '.join(outside)}",
            "prices moved since the plan: make a fresh one",
            symbol=symbol,
            value=price,
            limit=edge,
            unit=Unit.USD,
        )
    return None


def check_quote_age(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block on quotes older than max_quote_age_s while the market is open."""
    limit = ctx.limits.max_quote_age_s
    if limit is None or not _trading(ctx):
        return None
    stale: list[tuple[str, float | None]] = []
    for order in plan.orders:
        quote = snap.quotes.get(order.symbol)
        as_of = quote.as_of if quote is not None else None
        age = None if as_of is None else (ctx.now - as_of).total_seconds()
        if age is None or age > limit:
            stale.append((order.symbol, age))
    if stale:
        # The worst is a quote without a time, else the oldest.
        symbol, worst = max(stale, key=lambda s: (s[1] is None, s[1] or 0.0))
        listed = ", ".join(f"{s} ({'no time' if a is None else f'{a:.0f} s'})" for s, a in stale)
        return _block(
            "prices.quote_age",
            f"quotes older than max_quote_age_s {limit} s: {listed}",
            "check the market-data feed",
            symbol=symbol,
            value=None if worst is None else _seconds(worst),
            limit=limit,
            unit=Unit.SECONDS,
        )
    return None


# How far in the future a saved plan's created_at may be (clocks of two machines differ).
PLAN_CLOCK_SKEW_S = 60
_DAY_S = 86_400


def _ahead(seconds: float) -> str:
    """`90 s`, or whole days beyond two days (a date decades ahead is read at a glance)."""
    return f"{seconds / _DAY_S:,.0f} days" if seconds > 2 * _DAY_S else f"{seconds:.0f} s"


def check_plan_age(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan older than max_plan_age_s, or dated in the future (beyond a small
    clock skew: such a plan's age says nothing, and the file may have been edited)."""
    if not ctx.saved_plan or not plan.orders:
        return None
    age = (ctx.now - plan.created_at).total_seconds()
    if age < -PLAN_CLOCK_SKEW_S:
        return _block(
            "plan.age",
            f"plan is dated {plan.created_at:%Y-%m-%d %H:%M:%S %Z}, {_ahead(-age)} in the future "
            f"(more than {PLAN_CLOCK_SKEW_S} s of clock skew)",
            "make a fresh plan with `alch plan`, and check this machine's clock",
            value=_seconds(-age),
            limit=PLAN_CLOCK_SKEW_S,
            unit=Unit.SECONDS,
        )
    limit = ctx.limits.max_plan_age_s
    if limit is not None and age > limit:
        return _block(
            "plan.age",
            f"plan is {age / 60:.0f} min old, above max_plan_age_s {limit} s",
            "make a fresh plan with `alch plan`",
            value=_seconds(age),
            limit=limit,
            unit=Unit.SECONDS,
        )
    return None


def check_price_moves(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan when a traded symbol's price moved more than max_price_move_pct."""
    limit = ctx.limits.max_price_move_pct
    if limit is None or not ctx.saved_plan:
        return None
    moved: list[str] = []
    worst: tuple[str, Decimal] | None = None  # the largest move, up or down
    for order in plan.orders:
        then = plan.prices.get(order.symbol)
        quote = snap.quotes.get(order.symbol)
        if then is None or quote is None or quote.bid <= ZERO or quote.ask <= ZERO:
            continue
        now_mid = (quote.bid + quote.ask) / 2
        change = (now_mid - then.ref) / then.ref
        if abs(change) > limit:
            moved.append(f"{order.symbol} {fmt(then.ref)} -> {fmt(now_mid)} ({_pct(change)})")
            if worst is None or abs(change) > abs(worst[1]):
                worst = (order.symbol, change)
    if worst is not None:
        return _block(
            "prices.moved",
            f"prices moved more than {_pct(limit)} since the plan: {', '.join(moved)}",
            "the plan is stale: make a fresh one with `alch plan`",
            symbol=worst[0],
            value=worst[1],
            limit=limit,
            unit=Unit.RATIO,
        )
    return None


def _pct(value: Decimal) -> str:
    return f"{fmt((value * 100).quantize(Decimal('0.1')))}%"


def _seconds(value: float) -> Decimal:
    """Whole seconds, as the messages show them."""
    return Decimal(f"{value:.0f}")


def _minutes(value: float) -> Decimal:
    """Whole minutes, as the messages show them."""
    return Decimal(f"{value:.0f}")


def check_positions_unchanged(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a saved plan when the holdings it was made from are not the holdings now: its
    orders would trade from the wrong starting point (a second rebalance on top of one
    already done, or around a trade made by hand)."""
    if not ctx.saved_plan or not plan.orders:
        return None
    now = {s: p.qty for s, p in snap.positions.items() if p.qty != ZERO}
    changed: list[tuple[str, Decimal, Decimal]] = []  # symbol, then, now
    for line in plan.positions:
        held = now.pop(line.symbol, ZERO)
        if held != line.qty:
            changed.append((line.symbol, line.qty, held))
    changed.extend((symbol, ZERO, qty) for symbol, qty in sorted(now.items()))
    if changed:
        listed = ", ".join(f"{s} {fmt(then)} -> {fmt(held)}" for s, then, held in changed)
        symbol, then, held = changed[0]
        return _block(
            "plan.positions",
            f"holdings changed since the plan: {listed}",
            "the plan is stale: make a fresh one with `alch plan`",
            symbol=symbol,
            value=held,
            limit=then,
            unit=Unit.SHARES,
        )
    return None


def check_no_short(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block a sell of more shares than are held: on a margin account it would open a short."""
    over: list[tuple[str, Decimal, Decimal]] = []  # symbol, sold, held
    for order in plan.orders:
        if order.side is Side.SELL:
            position = snap.positions.get(order.symbol)
            held = position.qty if position is not None else ZERO
            if order.qty > held:
                over.append((order.symbol, order.qty, held))
    if over:
        listed = ", ".join(f"{s} sells {fmt(qty)}, holds {fmt(held)}" for s, qty, held in over)
        symbol, qty, held = over[0]
        return _block(
            "orders.no_short",
            f"sells beyond the position (they would open a short): {listed}",
            "re-plan with `alch plan`",
            symbol=symbol,
            value=qty,
            limit=held,
            unit=Unit.SHARES,
        )
    return None


def _bypassed(finding: Finding, flag: str, hint: str) -> Finding:
    """The block a flag lets through, as a warning that names the flag (loud, not a pass)."""
    return replace(
        finding,
        severity=Severity.WARN,
        message=f"bypassed by {flag}: {finding.message}",
        hint=hint,
        bypassed_by=flag,
    )


def check_already_executed(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block re-executing a plan that already sent orders; warn when --force lets it run."""
    if not ctx.already_executed or not plan.orders:
        return None
    run = ctx.already_executed[-1]
    if ctx.force:
        return _bypassed(
            _block("plan.already_executed", f"the journal shows this plan ran in run {run}"),
            "--force",
            "its orders are sent again; check `alch status` for what the first run did",
        )
    return _block(
        "plan.already_executed",
        f"plan {plan.plan_id} already sent orders in run {run}",
        "check `alch status`; re-plan, or pass --force to run it again",
    )


def check_open_orders(plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    """Block when open orders exist on a symbol the plan trades; warn when
    --allow-open-orders lets the plan trade beside them (`ctx.cancel_open`: nothing is
    cancelled)."""
    planned = {o.symbol for o in plan.orders}
    clash = sorted({o.symbol for o in snap.open_orders if o.symbol in planned})
    if not clash:
        return None
    found = _block(
        "orders.open_conflict",
        f"open orders already exist for {', '.join(clash)}",
        "wait for them, cancel them, or pass --allow-open-orders",
        symbol=clash[0],
    )
    if ctx.cancel_open:
        return _bypassed(
            found,
            "--allow-open-orders",
            "those orders stay open and may fill beside this plan's; alch cancels nothing",
        )
    return found


# The order is the order of the report. (id, description, function)
CHECKS: tuple[tuple[str, str, CheckFn], ...] = (
    ("market.closed", "market open now", check_market_open),
    ("market.session_edge", "not in the first or last minutes of the session", check_session_edges),
    ("plan.account", "plan belongs to this account", check_plan_account),
    ("plan.age", "saved plan fresh enough", check_plan_age),
    ("plan.positions", "holdings as the saved plan found them", check_positions_unchanged),
    ("prices.moved", "prices close to the saved plan's", check_price_moves),
    ("prices.spread", "spreads within max_spread_bps", check_spreads),
    ("prices.collar", "limit prices inside their collar", check_collar),
    ("prices.quote_age", "quotes fresh", check_quote_age),
    ("account.status", "account active and allowed to trade", check_account_status),
    (
        "account.buying_power",
        "buys covered by cash (margin only if allowed) and the sells",
        check_buying_power,
    ),
    ("account.good_faith", "no sale of unsettled buys (cash account, T+1)", check_good_faith),
    ("limits.order_notional", "each order within max_order_notional", check_order_notional),
    ("limits.order_pct", "each order within max_order_pct of equity", check_order_pct),
    ("limits.max_orders", "order count within max_orders", check_max_orders),
    ("limits.turnover", "turnover within max_turnover_pct", check_turnover),
    ("limits.daily_notional", "today's total within max_daily_notional", check_daily_notional),
    (
        "limits.position_weight",
        "post-trade weights within max_position_weight",
        check_position_weight,
    ),
    ("limits.sector_weight", "sector weights within max_sector_weight", check_sector_weight),
    ("daytrade.round_trip", "no same-session round trips", check_day_trades),
    ("assets.tradable", "every asset tradable (and fractionable where needed)", check_assets),
    ("orders.open_conflict", "no open orders on planned symbols", check_open_orders),
    ("orders.no_short", "sells within the shares held", check_no_short),
    ("plan.already_executed", "plan not executed before", check_already_executed),
    ("plan.unreachable", "every target reachable in whole shares", check_unreachable_targets),
    ("signal.tradable", "every symbol the strategies can hold is tradable", check_signal_tradable),
    ("signal.fragile", "no strategy decision close to flipping", check_signal_fragile),
    ("signal.stale", "strategy bars through the last session", check_signal_stale),
    ("signal.warmup", "every RSI and EMA fully warmed up", check_signal_warmup),
)


# The limit each check compares against; None in Limits turns the check off.
_LIMIT_OF: Mapping[str, str] = {
    "prices.moved": "max_price_move_pct",
    "prices.spread": "max_spread_bps",
    "prices.quote_age": "max_quote_age_s",
    "limits.order_notional": "max_order_notional",
    "limits.order_pct": "max_order_pct",
    "limits.max_orders": "max_orders",
    "limits.turnover": "max_turnover_pct",
    "limits.daily_notional": "max_daily_notional",
    "limits.position_weight": "max_position_weight",
    "limits.sector_weight": "max_sector_weight",
}
# Checks whose pass text states a fact they only look at when the plan sends orders.
_ONLY_WITH_ORDERS = frozenset(
    {"market.closed", "market.session_edge", "account.status", "plan.already_executed"}
)


def _not_checked(check_id: str, plan: Plan, ctx: CheckContext) -> str | None:
    """Why a check that found nothing did not look: its pass text would claim too much
    ("market open now" on a closed day when nothing is sent)."""
    if check_id in ("plan.age", "plan.positions", "prices.moved") and not ctx.saved_plan:
        return "not checked: a fresh plan, made from this very account state"
    limit = _LIMIT_OF.get(check_id)
    if limit is not None and getattr(ctx.limits, limit) is None:
        return f"not checked: [limits] {limit} is off"
    if check_id.startswith("signal.") and plan.signal is None:
        return "not checked: the targets do not come from strategies"
    if check_id == "limits.sector_weight" and not ctx.sectors:
        return "not checked: no sectors ([sectors] or sectors_file)"
    if check_id in _ONLY_WITH_ORDERS and not plan.orders:
        return "not checked: the plan sends no orders"
    by_clock = ("market.closed", "market.session_edge", "prices.quote_age")
    if check_id in by_clock and ctx.market is None:
        return "not checked: no market clock"
    if check_id in by_clock[1:] and not _trading(ctx):
        return "not checked: the market is closed"
    return None


def run_checks(plan: Plan, snap: Snapshot, ctx: CheckContext) -> CheckReport:
    """Run every check and report each one, passes included; a pass that looked at
    nothing says why instead of claiming its description."""
    findings = []
    for check_id, description, fn in CHECKS:
        finding = fn(plan, snap, ctx)
        if finding is None:
            finding = Finding(
                check_id, Severity.PASS, _not_checked(check_id, plan, ctx) or description
            )
        findings.append(finding)
    return CheckReport(plan_id=plan.plan_id, checked_at=ctx.now, findings=tuple(findings))
