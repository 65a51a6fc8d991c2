"""Rich tables for people: the plan, the checks, the execution report and the status."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.console import Console

from alchemiser_cli.core.calendar import NEW_YORK, MarketOutlook, MarketState
from alchemiser_cli.core.checks.record import CheckReport, Severity
from alchemiser_cli.core.money import dollars, fmt, money
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.strategy.cash import cash_decisions
from alchemiser_cli.core.types import WEIGHT_STEP
from alchemiser_cli.render.layout import Cell, Col, fitted_table
from alchemiser_cli.render.signal import render_signal_record
from alchemiser_cli.render.tax import render_plan_tax, year_line
from alchemiser_cli.render.text import escape

if TYPE_CHECKING:  # reports load with the commands that show them
    from alchemiser_cli.documents.reports import ExecutionReport, StatusReport

_SEVERITY_STYLE = {Severity.PASS: "green", Severity.WARN: "yellow", Severity.BLOCK: "bold red"}
_OUTCOME_STYLE = {  # by the Outcome values (a StrEnum: its members look up)
    "completed": "green",
    "queued": "yellow",
    "nothing_to_do": "green",
    "declined": "yellow",
    "aborted": "yellow",
    "blocked": "bold red",
    "incomplete": "bold red",
    "failed": "bold red",
    "interrupted": "bold red",
    "running": "yellow",
}


# Columns of words, left-aligned; every other column holds figures, right-aligned.
TEXT_COLUMNS = frozenset({"side", "symbol", "status", "rule"})


# Free text that may run over several lines when the terminal is narrow.
WRAP_COLUMNS = frozenset({"status", "rule", "detail", "message"})
# Other columns of words (left-aligned, like TEXT_COLUMNS); every other column is figures.
WORD_COLUMNS = frozenset({"check", "result", "run", "command", "started", "outcome",
                          "client order id"})  # fmt: skip


def columns_of(spec: str) -> tuple[Col, ...]:
    """Columns from `name:drop, ...` (drop 0 when left out)."""
    words = TEXT_COLUMNS | WORD_COLUMNS | WRAP_COLUMNS
    columns = []
    for item in spec.split(", "):
        name, _, drop = item.partition(":")
        right, wrap = name not in words, name in WRAP_COLUMNS
        columns.append(Col(name, right=right, drop=int(drop or 0), wrap=wrap))
    return tuple(columns)


# Each human table's columns. When the terminal is narrow the highest `drop` goes first
# (0: never): the figures a decision rests on stay, context (drift, rule, band) goes.
PLAN_POSITIONS = columns_of(
    "symbol, qty:1, price:3, value, now:4, target, drift:5, after:6, rule:2, trade"
)
PLAN_ORDERS = columns_of("#, side, symbol, qty, limit, est. price:2, est. value, est. cost:1")
CHECKS = columns_of("check, result, detail")
RUN_ORDERS = columns_of(
    "#, side, symbol, planned:1, filled, avg price, slip bps:3, slices:4, re-pegs:2, status"
)
SLICES = columns_of("#, symbol, slice, qty, filled, sends:2, last limit:1, status")
STATUS_POSITIONS = columns_of("symbol, qty:1, price:3, value, weight, target, drift:2, band:4")
OPEN_ORDERS = columns_of("client order id:3, side, symbol, qty, filled, limit:2, status")
RUNS = columns_of("run, command:3, started:2, outcome, orders:1, filled, slip bps:4, message")
JOURNAL_ORDERS = columns_of(
    "#, side, symbol, planned:1, filled, avg price, slip bps:3, re-pegs:2, status"
)


def usd(value: Decimal | None) -> str:
    """$1,234.56 (or blank)."""
    return "" if value is None else dollars(value)


def pct(value: Decimal | None) -> str:
    """Weight as a percentage with two decimals (or blank)."""
    return "" if value is None else f"{value * 100:.2f}%"


def render_plan(console: Console, plan: Plan) -> None:
    """The plan: account line, positions with the rule that decided each, orders, totals."""
    acct = plan.account
    console.print(
        f"[bold]Plan {plan.plan_id}[/] for {plan.broker}:{plan.account_id} "
        f"at {plan.created_at:%Y-%m-%d %H:%M:%S %Z}  equity {usd(acct.equity)}  "
        f"cash {usd(acct.cash)}  targets: {escape(plan.targets_source)}"
    )
    if plan.liquidate:
        kept = f" but the kept {', '.join(plan.policy.keep)}" if plan.policy.keep else ""
        console.print(
            f"[bold red]LIQUIDATE[/]: no targets, every position{escape(kept)} is sold "
            "(--liquidate)"
        )
    if plan.synthetic_prices:
        console.print(
            f"[bold magenta]SYNTHETIC PRICES[/]: {escape(', '.join(plan.synthetic_prices))} "
            "(the simulator's made-up closes: a demonstration, not market data)"
        )
    if plan.signal is not None:
        _render_strategies(console, plan)
    rows: list[list[Cell]] = []
    for line in plan.positions:
        trade = "" if line.action == "hold" else f"{line.action} {fmt(abs(line.trade_qty))}"
        rows.append([
            line.symbol,
            fmt(line.qty),
            fmt(line.price),
            usd(line.value),
            pct(line.current_weight),
            pct(line.target_weight),
            pct(line.drift),
            pct(line.post_weight),
            line.rule.value.replace("_", " "),
            trade,
        ])  # fmt: skip
    console.print(fitted_table("Positions", PLAN_POSITIONS, rows, console.width))
    if plan.orders:
        rows = []
        for order in plan.orders:
            rows.append([
                str(order.leg),
                order.side.value,
                order.symbol,
                fmt(order.qty),
                fmt(order.limit_price),
                fmt(order.est_price),
                usd(order.est_value),
                usd(order.est_cost),
            ])  # fmt: skip
        title = "Orders (sells first, limit orders, day)"
        console.print(fitted_table(title, PLAN_ORDERS, rows, console.width))
    else:
        console.print("No changes. The account is at its targets.")
    for skip in plan.skipped:
        console.print(f"  skipped {skip.symbol}: {escape(skip.reason)}")
    s = plan.summary
    console.print(
        f"Buys {usd(s.buy_value)}, sells {usd(s.sell_value)}, turnover {pct(s.turnover)}, "
        f"est. costs {usd(s.est_costs)}; cash after {usd(s.est_cash_after)} "
        f"(at worst {usd(s.min_cash_after)}, reserve {usd(s.reserve)})"
    )
    render_plan_tax(console, plan)
    if s.search != "optimal":  # the exact search stopped or was not run: say how far
        console.print(
            f"Deviation from the goals {usd(s.deviation)}; no plan can do better than "
            f"{usd(s.deviation_bound)} (search: {s.search.replace('_', ' ')})"
        )


def market_line(market: MarketState) -> str:
    """One line on the market clock."""
    if market.is_open and market.session is not None:
        close = market.session.close.astimezone(NEW_YORK)
        early = " (early close)" if market.session.early_close else ""
        return f"Market: open until {close:%H:%M} ET{early}"
    return f"Market: {market.describe_closed().removeprefix('market ')}"


def render_checks(console: Console, report: CheckReport, market: MarketState | None = None) -> None:
    """Every check with its verdict; blocking ones first in the eye, in red."""
    if market is not None:
        console.print(market_line(market))
    rows: list[list[Cell]] = []
    for finding in report.findings:
        style = _SEVERITY_STYLE[finding.severity]
        hint = f" [dim]({escape(finding.hint)})[/]" if finding.hint else ""
        detail = escape(finding.message) + hint
        rows.append([finding.check_id, f"[{style}]{finding.severity.value}[/]", detail])
    title = f"Checks for plan {report.plan_id}"
    console.print(fitted_table(title, CHECKS, rows, console.width))
    verdict = "[bold red]BLOCKED[/]" if report.blocked else "[green]OK to execute[/]"
    console.print(f"Verdict: {verdict}")


def render_execution(console: Console, report: ExecutionReport) -> None:
    """Each order's fate, the totals and the run's outcome."""
    if report.orders:
        rows: list[list[Cell]] = []
        for order in report.orders:
            status = escape(order.status + (f": {order.error}" if order.error else ""))
            rows.append([
                f"{order.leg} top-up" if order.topup else str(order.leg),
                order.side.value,
                order.symbol,
                fmt(order.planned_qty),
                fmt(order.filled_qty),
                "" if order.avg_price is None else fmt(money(order.avg_price)),
                "" if order.slippage_bps is None else fmt(order.slippage_bps),
                str(len(order.slices)),
                str(order.repegs),
                status,
            ])  # fmt: skip
        console.print(fitted_table(f"Run {report.run_id}", RUN_ORDERS, rows, console.width))
        _render_slices(console, report)
        console.print(
            f"Filled: bought {usd(report.filled_buy_value)}, sold {usd(report.filled_sell_value)}"
        )
    style = _OUTCOME_STYLE[report.outcome]
    console.print(f"Outcome: [{style}]{report.outcome.value}[/] - {escape(report.message)}")


def _render_slices(console: Console, report: ExecutionReport) -> None:
    """Child orders of the legs that were sliced (TWAP), one row per slice."""
    sliced = [o for o in report.orders if len(o.slices) > 1]
    if not sliced:
        return
    rows: list[list[Cell]] = []
    for order in sliced:
        for piece in order.slices:
            rows.append([
                str(order.leg),
                order.symbol,
                str(piece.slice_no),
                fmt(piece.qty),
                fmt(piece.filled_qty),
                str(len(piece.client_order_ids)),
                fmt(piece.limit_prices[-1]) if piece.limit_prices else "",
                escape(piece.status + (f": {piece.error}" if piece.error else "")),
            ])  # fmt: skip
    console.print(fitted_table("Slices", SLICES, rows, console.width))


def _render_market(console: Console, market: MarketOutlook) -> None:
    """Open or closed, the next open and close, early closes and holidays ahead."""
    state = market.state
    now = "[green]open[/]" if state.is_open else f"[yellow]closed[/]: {state.why_closed()}"
    console.print(
        f"Market {now}; next close {_et(market.next_close)}, next open {_et(market.next_open)}"
    )
    last = market.sessions[-1].day if market.sessions else None
    extras = [
        f"early close {s.day} at {s.close.astimezone(NEW_YORK):%H:%M} ET"
        for s in market.early_closes
    ]
    extras += [f"holiday {h.day} {h.name}" for h in market.holidays]
    if extras:
        console.print(f"Before {last}: " + "; ".join(extras))


def _et(when: datetime) -> str:
    return f"{when.astimezone(NEW_YORK):%a %Y-%m-%d %H:%M} ET"


def render_status(console: Console, status: StatusReport) -> None:
    """Account, positions with drift, open orders and recent runs."""
    a = status.account
    console.print(
        f"[bold]{a.mode}[/] account {a.account_id} ({a.account_type}, {a.status}) at "
        f"{status.as_of:%Y-%m-%d %H:%M:%S %Z}: equity {usd(a.equity)}, cash {usd(a.cash)}, "
        f"buying power {usd(a.buying_power)}"
        + ("" if a.daytrade_count is None else f", day trades {a.daytrade_count}")
    )
    if status.market is not None:
        _render_market(console, status.market)
    rows: list[list[Cell]] = []
    for p in status.positions:
        band = ""
        if p.band is not None:
            band = f"±{pct(p.band)} " + ("[green]in[/]" if p.in_band else "[bold red]out[/]")
        rows.append([
            p.symbol,
            fmt(p.qty),
            "" if p.price is None else fmt(p.price),
            usd(p.value),
            pct(p.weight),
            pct(p.target_weight),
            pct(p.drift),
            band,
        ])  # fmt: skip
    title = f"Positions (targets: {escape(status.targets_source or 'none')})"
    console.print(fitted_table(title, STATUS_POSITIONS, rows, console.width))
    if status.tax is not None:
        console.print(year_line(status.tax))
    if status.other_holdings:
        left = ", ".join(
            f"{escape(o.symbol)} {fmt(o.qty)} {o.asset_class}"
            + ("" if o.market_value is None else f" {usd(o.market_value)}")
            for o in status.other_holdings
        )
        console.print(f"Left alone (not US equities): {left}")
    if status.open_orders:
        rows = []
        for o in status.open_orders:
            rows.append([
                o.client_order_id,
                o.side.value,
                o.symbol,
                fmt(o.qty),
                fmt(o.filled_qty),
                "" if o.limit_price is None else fmt(o.limit_price),
                o.status.value,
            ])  # fmt: skip
        console.print(fitted_table("Open orders", OPEN_ORDERS, rows, console.width))
    else:
        console.print("No open orders.")
    rows = []
    for r in status.runs:
        rows.append([
            r.run_id,
            r.command,
            r.started_at[:19],
            r.outcome,
            str(r.orders),
            usd(r.filled_value),
            "" if r.slippage_bps is None else fmt(r.slippage_bps),
            escape(r.message or ""),
        ])  # fmt: skip
    runs = fitted_table("Recent runs", RUNS, rows, console.width)
    console.print(runs if status.runs else "No runs in the journal yet.")
    for r in status.runs:
        if r.details:
            _render_run_orders(console, r.run_id, r.details)
            if isinstance(r.details.get("signal"), dict):
                render_signal_record(console, r.details["signal"], r.run_id)


def _render_strategies(console: Console, plan: Plan) -> None:
    """One line per strategy a plan's targets came from (the tree: `alch signal FILE`)."""
    assert plan.signal is not None
    synthetic = " [bold magenta]SYNTHETIC BARS[/]" if plan.signal.synthetic_bars else ""
    for s in plan.signal.strategies:
        fragile = f", [yellow]{len(s.fragile)} fragile[/]" if s.fragile else ""
        stale = f", [yellow]stale: {escape(', '.join(s.stale))}[/]" if s.stale else ""
        console.print(
            f"Strategy [bold]{escape(s.name.strip())}[/] ({escape(s.file)}, "
            f"{pct(s.blend_weight)} of the targets) as of {s.as_of.isoformat()}"
            f"{synthetic}{fragile}{stale}"
        )
    cash = Decimal(1) - sum(plan.targets.values(), Decimal(0))
    if cash >= WEIGHT_STEP:  # not the 1E-28 that thirds leave
        why = "; ".join(cash_decisions(plan.signal))
        console.print(f"[bold]CASH {pct(cash)}[/]: {escape(why)}")


def _render_run_orders(console: Console, run_id: str, details: dict[str, Any]) -> None:
    """`status --run ID`: that run's orders as the journal recorded them."""
    from alchemiser_cli.documents.journaled import read_report

    orders = read_report(details).orders
    if not orders:
        return
    rows: list[list[Cell]] = []
    for o in orders:
        status = escape(_text(o.status) + (f": {o.error}" if o.error else ""))
        rows.append([
            _text(o.leg),
            _text(o.side),
            _text(o.symbol),
            _text(o.planned_qty),
            _text(o.filled_qty),
            o.avg_price or "",
            o.slippage_bps or "",
            _text(o.repegs),
            status,
        ])  # fmt: skip
    console.print(fitted_table(f"Orders of run {run_id}", JOURNAL_ORDERS, rows, console.width))


def _text(value: object) -> str:
    """A journaled field as shown: missing is blank."""
    return "" if value is None else str(value)
