"""The check, execute and status documents (`alch check|execute|status --json`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from alchemiser_cli.core.calendar import MarketOutlook, MarketState
from alchemiser_cli.core.checks.record import CheckReport, Finding
from alchemiser_cli.core.models import BrokerOrder
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.results import OrderResult, Outcome
from alchemiser_cli.core.tax.records import YearToDate
from alchemiser_cli.core.types import Exact, Money, Weight


@dataclass(frozen=True, slots=True)
class CheckDocument:
    """`alch check --json`: every finding, and whether anything blocks."""

    plan_id: str
    checked_at: datetime
    blocked: bool
    findings: tuple[Finding, ...]
    plan: Plan
    market: MarketState | None = None
    schema_version: int = 1


def check_document(plan: Plan, report: CheckReport, market: MarketState | None) -> CheckDocument:
    """The document of a check: the plan, its findings and the market at that moment."""
    return CheckDocument(
        plan_id=report.plan_id,
        checked_at=report.checked_at,
        blocked=report.blocked,
        findings=report.findings,
        plan=plan,
        market=market,
    )


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """What `execute` did, order by order (JSON: `alch execute --json`)."""

    run_id: str
    plan_id: str
    broker: str
    account_id: str
    outcome: Outcome
    message: str
    started_at: datetime
    finished_at: datetime
    checks: CheckReport | None
    orders: tuple[OrderResult, ...]
    filled_buy_value: Money
    filled_sell_value: Money
    schema_version: int = 1
    # What the top-up round did (its legs have `topup` true), or why there was none;
    # null when there was nothing worth re-deploying or no round was possible.
    topup: str | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    """Account figures for `status`."""

    account_id: str
    mode: str
    account_type: str
    status: str
    equity: Money
    cash: Money
    settled_cash: Money | None
    buying_power: Money
    daytrade_count: int | None


@dataclass(frozen=True, slots=True)
class PositionView:
    """One holding with its drift from target, for `status`. Weights are of the plan's
    investable base (equity less kept positions and the cash reserve), as in `alch plan`."""

    symbol: str
    qty: Exact
    price: Exact | None
    value: Money
    weight: Weight
    target_weight: Weight | None
    drift: Weight | None
    band: Weight | None = None  # the allowed drift, where bands are configured
    in_band: bool | None = None


@dataclass(frozen=True, slots=True)
class OtherHolding:
    """A holding alch leaves alone (crypto, options: not a US equity), for `status`."""

    symbol: str
    asset_class: str
    qty: Exact
    market_value: Money | None


@dataclass(frozen=True, slots=True)
class RunView:
    """One journal run, summarised."""

    run_id: str
    command: str
    outcome: str
    started_at: str
    finished_at: str | None
    plan_id: str | None
    message: str | None
    orders: int
    filled_value: Money
    slippage_bps: Decimal | None = None  # fill-value-weighted, against the arrival mid
    details: dict[str, Any] | None = None  # the journaled report (documents.journaled)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """Account, positions, open orders and recent runs (JSON: `alch status --json`)."""

    as_of: datetime
    broker: str
    account: AccountView
    positions: tuple[PositionView, ...]
    open_orders: tuple[BrokerOrder, ...]
    runs: tuple[RunView, ...]
    targets_source: str | None
    market: MarketOutlook | None = None
    schema_version: int = 2  # 2: `tax` (issue 27), `other_holdings` (issue 21)
    # This year's realised gains and disallowed losses; None for an IRA.
    tax: YearToDate | None = None
    other_holdings: tuple[OtherHolding, ...] = ()  # left alone: not US equities
