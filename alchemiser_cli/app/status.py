"""`status`: the account valued as the planner values it, open orders and the journal's
runs, each read back through the typed reader with its orders as they now stand."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from alchemiser_cli.app import holdings
from alchemiser_cli.app.disputes import dispute_notices
from alchemiser_cli.app.inputs import status_targets
from alchemiser_cli.app.reconcile import SETTLED_STATUSES, account_lock, note_dispute, reconcile
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.tax import year_to_date
from alchemiser_cli.core.models import Account, Position, Quote
from alchemiser_cli.core.money import ZERO, bps_of, fmt
from alchemiser_cli.core.planner_value import Holding, reference_price, value_account
from alchemiser_cli.core.targets import Targets, shortened
from alchemiser_cli.documents.journaled import JournaledLeg, figure, read_report
from alchemiser_cli.documents.reports import (
    AccountView,
    OtherHolding,
    PositionView,
    RunView,
    StatusReport,
)
from alchemiser_cli.errors import InputError, LockHeld, OrderDisputed, PriceError
from alchemiser_cli.journal.records import UNSETTLED, OrderRecord, RunRecord


def status(
    rt: Runtime, runs: int = 5, run_id: str | None = None, targets: Targets | None = None
) -> StatusReport:
    """Account, positions with drift, open orders and the journal's recent runs.

    Unfinished runs are reconciled first, and the shown runs' orders not yet final are
    read again from the broker, unless a run holds the account right now. Drift is
    against `targets`, else the targets of the account's last run, else the configured
    ones (the demo targets only for the simulator's demo account).
    """
    broker = rt.broker
    records = _settled_runs(rt, broker.account().account_id, runs, run_id)
    account = broker.account()
    positions, others = holdings.split(broker.positions(), ())
    targets = status_targets(rt, targets, account.account_id)
    weights = None if targets is None else dict(targets.weights)
    prices = _prices(rt, positions, weights)
    market = rt.outlook(broker.now())
    if market.state.is_open and broker.clock_is_open() is False:  # an unscheduled closure
        market = market.closed_by_broker()
    valued = value_account(
        {s: p.qty for s, p in positions.items()}, prices, account.cash, weights, rt.settings.planner
    )
    return StatusReport(
        as_of=broker.now(),
        broker=broker.name,
        account=_account_view(account, broker.name, valued.equity),
        positions=tuple(_position_view(h) for h in valued.holdings),
        open_orders=tuple(broker.open_orders()),
        runs=tuple(
            _with_signal(
                run_view(r, rt.journal.orders_for_run(r.run_id), detailed=run_id is not None),
                rt.journal.run_plan(r.run_id) if run_id is not None else None,
            )
            for r in records
        ),
        targets_source=None if targets is None else targets.source,
        market=market,
        tax=year_to_date(rt, positions, broker.now()),
        other_holdings=tuple(
            OtherHolding(p.symbol, p.asset_class, p.qty, p.market_value) for p in others
        ),
    )


def _settled_runs(rt: Runtime, account_id: str, runs: int, run_id: str | None) -> list[RunRecord]:
    """Settle what earlier runs left (unless a run holds the account), then the runs to
    show with their orders read again; the notices of disputed and unanswered orders."""
    try:
        with account_lock(rt, account_id):
            reconcile(rt, account_id)
            records = _status_runs(rt, runs, run_id, account_id)
            _refresh_orders(rt, records)
    except LockHeld:
        rt.notices.append("a run is in progress: its orders are shown as they stand")
        records = _status_runs(rt, runs, run_id, account_id)
    rt.notices.extend(dispute_notices(rt, account_id, planning=False))
    for order in rt.journal.unsettled_orders(account_id, rt.broker.name):
        rt.notices.append(
            f"order {order.client_order_id} (run {order.run_id}) got no answer and is not "
            "at the broker yet; it may still arrive"
        )
    return records


def _prices(
    rt: Runtime, positions: Mapping[str, Position], weights: dict[str, Decimal] | None
) -> dict[str, Decimal | None]:
    """A held position must be valued; a target not held is shown even unpriced."""
    wanted = {s for s, w in (weights or {}).items() if w > ZERO} - set(positions)
    quotes = rt.broker.quotes(set(positions) | wanted)
    prices: dict[str, Decimal | None] = {s: reference_price(quotes.get(s), s) for s in positions}
    for symbol in wanted:
        quote = quotes.get(symbol)
        prices[symbol] = None if quote is None else _price_or_none(quote)
    return prices


def _account_view(account: Account, mode: str, equity: Decimal) -> AccountView:
    return AccountView(
        account_id=account.account_id,
        mode=mode,
        account_type=account.account_type,
        status=account.status,
        equity=equity,
        cash=account.cash,
        settled_cash=account.settled_cash,
        buying_power=account.buying_power,
        daytrade_count=account.daytrade_count,
    )


def _position_view(h: Holding) -> PositionView:
    return PositionView(
        symbol=h.symbol,
        qty=h.qty,
        price=h.price,
        value=h.value,
        weight=h.weight,
        target_weight=h.target_weight,
        drift=h.drift,
        band=h.band,
        in_band=h.in_band,
    )


def _status_runs(rt: Runtime, runs: int, run_id: str | None, account_id: str) -> list[RunRecord]:
    """The runs `status` shows: one by id (or prefix), or the account's newest."""
    if run_id is None:
        return rt.journal.recent_runs(runs, account_id)
    if run_id == "last":  # the account's newest run (run ids start with a date)
        newest = rt.journal.recent_runs(1, account_id)
        if not newest:
            raise InputError("no run in the journal yet: `--run last` names none")
        return newest
    record = rt.journal.get_run(run_id)
    if record is None:
        matches = rt.journal.run_ids_starting(run_id, limit=1000)
        if len(matches) > 1:
            raise InputError(
                f"run id {run_id!r} is ambiguous: it matches {shortened(matches, 5)}; "
                "give more of the id"
            )
        raise InputError(f"no run {run_id!r} in the journal (see `alch status --runs 20`)")
    return [record]


def _refresh_orders(rt: Runtime, records: list[RunRecord]) -> None:
    """Read again from the broker the shown runs' orders that were not final when last
    recorded (a queued order fills after the open, long after its run ended)."""
    for run in records:
        if run.broker != rt.broker.name:
            continue  # another broker's run: its orders are not this broker's to read
        for order in rt.journal.orders_for_run(run.run_id):
            if order.status in SETTLED_STATUSES or order.status in UNSETTLED:
                continue
            try:
                found = rt.broker.get_order_by_client_id(order.client_order_id)
            except OrderDisputed as exc:
                note_dispute(rt, exc)
                continue
            if found is not None:
                rt.journal.record_broker_state(found, rt.clock.now())


def _price_or_none(quote: Quote) -> Decimal | None:
    """The reference price of a quote, or None where it has none (status only shows it)."""
    try:
        return reference_price(quote, quote.symbol)
    except PriceError:
        return None


def _with_signal(view: RunView, plan: dict[str, Any] | None) -> RunView:
    """`status --run`: the decision trace of a plan made from strategies, in the details."""
    signal = None if plan is None else plan.get("signal")
    if not isinstance(signal, dict):
        return view
    return replace(view, details={**(view.details or {}), "signal": signal})


def run_view(record: RunRecord, journaled: list[OrderRecord], *, detailed: bool) -> RunView:
    """A run as `status` shows it: its legs as the journal's order records now stand (the
    report frozen at the run's end may predate fills, or be missing after a crash)."""
    report = read_report(record.report)
    legs = current_legs(report.orders, journaled)
    if journaled:
        filled = sum((figure(o.filled_qty) * figure(o.avg_price) for o in legs), ZERO)
    else:
        filled = figure(report.filled_buy_value) + figure(report.filled_sell_value)
    weighted = weight = ZERO
    for leg in legs:
        if None not in (leg.slippage_bps, leg.filled_qty, leg.avg_price):
            value = figure(leg.filled_qty) * figure(leg.avg_price)
            weighted += figure(leg.slippage_bps) * value
            weight += value
    return RunView(
        run_id=record.run_id,
        command=record.command,
        outcome=record.outcome,
        started_at=record.started_at,
        finished_at=record.finished_at,
        plan_id=record.plan_id,
        message=record.message,
        orders=len(legs),
        filled_value=filled,
        slippage_bps=(weighted / weight).quantize(Decimal("0.01")) if weight else None,
        details=report.as_json(legs) if detailed else None,
    )


def current_legs(legs: list[JournaledLeg], journaled: list[OrderRecord]) -> list[JournaledLeg]:
    """The report's legs with status and fills from the journal's order records; a leg the
    report lacks (a run recovered after a crash has no report) is built from the records."""
    by_leg: dict[int, list[OrderRecord]] = {}
    for order in journaled:
        by_leg.setdefault(order.leg, []).append(order)
    current = {leg.leg: leg.model_copy() for leg in legs if leg.leg is not None}
    for number, records in by_leg.items():
        first = records[0]
        # Every slice's first send (re-pegs, `-pN`, re-send what is left): the leg's size.
        sent = fmt(sum((Decimal(r.qty) for r in records if "-p" not in r.client_order_id), ZERO))
        leg = current.setdefault(
            number,
            JournaledLeg(
                leg=number,
                client_order_id=first.client_order_id,
                symbol=first.symbol,
                side=first.side,
                planned_qty=sent,  # a recovered run has no report: its slices add up
                sent_qty=sent,
                limit_price=first.limit_price,
                repegs=len(records) - 1,
                error=None,
            ),
        )
        qty = sum((Decimal(r.filled_qty) for r in records), ZERO)
        value = sum(
            (Decimal(r.filled_qty) * Decimal(r.filled_avg_price or 0) for r in records), ZERO
        )
        working = [r.status for r in records if r.status not in SETTLED_STATUSES]
        planned = figure(leg.sent_qty or leg.planned_qty)
        if qty > ZERO and qty >= planned:
            state = "filled"
        elif working:
            state = working[-1]
        elif qty > ZERO:
            state = "partially_filled"
        else:
            state = records[-1].status
        if figure(leg.filled_qty) == qty and leg.status == state:
            continue  # the report already says what the journal says
        leg.status = state
        leg.filled_qty = fmt(qty)
        leg.avg_price = None if qty == ZERO else fmt(value / qty)
        leg.error = next((r.error for r in reversed(records) if r.error), leg.error)
        mid = figure(leg.arrival_mid)
        if qty > ZERO and mid > ZERO:
            diff = value / qty - mid
            signed = diff if leg.side == "buy" else -diff
            leg.slippage_bps = fmt(bps_of(signed, mid).quantize(Decimal("0.01")))
    return [current[n] for n in sorted(current)]
