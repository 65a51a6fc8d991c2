"""Live runs held against the backtest (`alch backtest --replay-journal`). Pure.

For one journaled live run: the targets the backtest decides for that day (on the bars
through the previous close), the orders the real planner makes from the SAME holdings and
cash the live run started from at the modelled prices (that day's close, plus or minus
the half-spread), and the modelled fill price of each order; then every difference with
what the live run targeted, ordered and got filled at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from alchemiser_cli.core.models import Account, Asset, Position, Quote, Side, Snapshot
from alchemiser_cli.core.money import BPS, ONE, ZERO, fmt
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets

TWO = Decimal(2)
WEIGHT_TOLERANCE = Decimal("0.0001")  # targets within a hundredth of a point agree
QTY_TOLERANCE = Decimal("0.01")  # order quantities within 1% agree
PRICE_TOLERANCE_BPS = Decimal(1)  # fill prices within 1 bp of the model agree


@dataclass(frozen=True, slots=True)
class LiveOrder:
    """One order of a live run, as the journal has it."""

    symbol: str
    side: Side
    qty: Decimal
    filled_qty: Decimal
    avg_price: Decimal | None


@dataclass(frozen=True, slots=True)
class LiveRun:
    """What a journaled live run started from and did."""

    run_id: str
    day: date
    at: datetime
    outcome: str
    targets: dict[str, Decimal]
    holdings: dict[str, Decimal]
    cash: Decimal
    orders: tuple[LiveOrder, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """One way a live run differed from the backtest's day: `signal` (target weights),
    `order` (side or quantity, or an order only one of them made) or `fill` (realised
    against modelled price, in basis points of the close: positive is worse)."""

    kind: str
    symbol: str
    live: str
    backtest: str
    note: str


@dataclass(frozen=True, slots=True)
class RunReplay:
    """One live run replayed: its differences (none: it did what the backtest would)."""

    run_id: str
    day: date
    outcome: str
    differences: tuple[Difference, ...]


def _adverse_bps(side: Side, price: Decimal, close: Decimal) -> Decimal:
    """How far a price is from the close against the trader, in basis points."""
    move = (price - close) / close * BPS
    return move if side is Side.BUY else -move


def replay_run(
    run: LiveRun,
    weights: Mapping[str, Decimal],
    closes: Mapping[str, Decimal],
    policy: PlannerPolicy,
    spread_bps: Decimal,
    *,
    whole_shares: bool = False,
) -> RunReplay:
    """The differences between a live run and the backtest's decision for its day."""
    diffs: list[Difference] = []
    for symbol in sorted(set(run.targets) | set(weights)):
        held, wanted = run.targets.get(symbol, ZERO), weights.get(symbol, ZERO)
        if abs(held - wanted) > WEIGHT_TOLERANCE:
            diffs.append(
                Difference("signal", symbol, _pct(held), _pct(wanted), "target weight differs")
            )
    half = spread_bps / BPS / TWO
    quotes: dict[str, Quote] = {}
    assets: dict[str, Asset] = {}
    missing: list[str] = []
    for symbol in sorted(set(weights) | set(run.holdings)):
        close = closes.get(symbol)
        if close is None:
            missing.append(symbol)
            continue
        quotes[symbol] = Quote(symbol, close * (ONE - half), close * (ONE + half), close)
        assets[symbol] = Asset(symbol, fractionable=not whole_shares)
    model_orders: dict[str, tuple[Side, Decimal]] = {}
    if missing:
        diffs.extend(
            Difference("order", s, "-", "-", f"no close for {run.day.isoformat()}: not replayed")
            for s in missing
        )
    else:
        snap = Snapshot(
            account=Account("replay", cash=run.cash, buying_power=run.cash),
            positions={s: Position(s, q) for s, q in run.holdings.items() if q},
            quotes=quotes,
            assets=assets,
            as_of=run.at,
            broker="backtest",
        )
        plan = build_plan(snap, Targets(dict(weights), "backtest"), policy, run.at)
        model_orders = {o.symbol: (o.side, o.qty) for o in plan.orders}
    live_orders = {o.symbol: o for o in run.orders}
    for symbol in sorted(set(model_orders) | set(live_orders)):
        order = live_orders.get(symbol)
        model = model_orders.get(symbol)
        live_text = f"{order.side.value} {fmt(order.qty)}" if order else "no order"
        model_text = f"{model[0].value} {fmt(model[1])}" if model else "no order"
        if order is None or model is None or order.side is not model[0]:
            diffs.append(Difference("order", symbol, live_text, model_text, "order differs"))
        elif abs(order.qty - model[1]) > QTY_TOLERANCE * max(model[1], order.qty):
            diffs.append(Difference("order", symbol, live_text, model_text, "quantity differs"))
        close = closes.get(symbol)
        if order is None or order.avg_price is None or not order.filled_qty or close is None:
            continue
        realised = _adverse_bps(order.side, order.avg_price, close)
        modelled = half * BPS
        if abs(realised - modelled) > PRICE_TOLERANCE_BPS:
            diffs.append(
                Difference(
                    "fill",
                    symbol,
                    f"{fmt(order.avg_price)} ({realised:+.1f} bps)",
                    f"{fmt(close * (ONE + half if order.side is Side.BUY else ONE - half))}"
                    f" ({modelled:+.1f} bps)",
                    f"slippage {realised - modelled:+.1f} bps against the model",
                )
            )
    return RunReplay(run.run_id, run.day, run.outcome, tuple(diffs))


def _pct(weight: Decimal) -> str:
    return f"{weight * 100:.2f}%"
