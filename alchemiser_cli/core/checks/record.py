"""The records of the checks: a `Check`, the `Finding` it makes, and what it reads."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from alchemiser_cli.core.calendar import MarketState
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.policy import Limits

if TYPE_CHECKING:
    from alchemiser_cli.core.models import Snapshot
    from alchemiser_cli.core.plan import Plan


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


class Needs(StrEnum):
    """What a check must have to look at anything; a pass without it says so (the value)."""

    SAVED_PLAN = "not checked: a fresh plan, made from this very account state"
    SIGNAL = "not checked: the targets do not come from strategies"
    SECTORS = "not checked: no sectors ([sectors] or sectors_file)"
    ORDERS = "not checked: the plan sends no orders"
    CLOCK = "not checked: no market clock"
    OPEN = "not checked: the market is closed"


Test = Callable[["Check", "Plan", "Snapshot", CheckContext], Finding | None]


@dataclass(frozen=True, slots=True)
class Check:
    """One check, the one place its id is written: the worst it can say (`level`), the unit
    of the figures it reports, what its pass claims, the `[limits]` setting that turns it
    off when unset, what it needs to look at anything, and the test itself.

    Calling it runs the test: `check_spreads(plan, snap, ctx)` is a `Finding` or None.
    """

    check_id: str
    passes: str
    test: Test
    level: Severity = Severity.BLOCK
    unit: Unit | None = None
    setting: str | None = None
    needs: frozenset[Needs] = frozenset()

    def __call__(self, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
        """This check's finding for the plan, or None when it found nothing."""
        return self.test(self, plan, snap, ctx)

    def finding(
        self,
        severity: Severity,
        message: str,
        hint: str = "",
        *,
        symbol: str | None = None,
        value: Decimal | int | None = None,
        limit: Decimal | int | None = None,
    ) -> Finding:
        """A finding of this check; its figures, where it has any, are in this check's unit."""
        if severity is Severity.BLOCK and self.level is not Severity.BLOCK:
            raise ValueError(f"{self.check_id} only warns; it cannot block")
        figures = value is not None or limit is not None
        if figures and self.unit is None:
            raise ValueError(f"{self.check_id} reports no figures")
        return Finding(
            self.check_id,
            severity,
            message,
            hint,
            symbol=symbol,
            value=None if value is None else Decimal(value),
            limit=None if limit is None else Decimal(limit),
            unit=self.unit if figures else None,
        )

    def block(
        self,
        message: str,
        hint: str = "",
        *,
        symbol: str | None = None,
        value: Decimal | int | None = None,
        limit: Decimal | int | None = None,
    ) -> Finding:
        """A blocking finding of this check."""
        return self.finding(Severity.BLOCK, message, hint, symbol=symbol, value=value, limit=limit)

    def warn(
        self,
        message: str,
        hint: str = "",
        *,
        symbol: str | None = None,
        value: Decimal | int | None = None,
        limit: Decimal | int | None = None,
    ) -> Finding:
        """A warning of this check."""
        return self.finding(Severity.WARN, message, hint, symbol=symbol, value=value, limit=limit)


def check(
    check_id: str,
    passes: str,
    *,
    level: Severity = Severity.BLOCK,
    unit: Unit | None = None,
    setting: str | None = None,
    needs: Iterable[Needs] = (),
) -> Callable[[Test], Check]:
    """Make the decorated test the `Check` with this id (see `Check` for the rest)."""

    def make(test: Test) -> Check:
        return Check(check_id, passes, test, level, unit, setting, frozenset(needs))

    return make


def bypassed(finding: Finding, flag: str, hint: str) -> Finding:
    """The block a flag lets through, as a warning that names the flag (loud, not a pass)."""
    return replace(
        finding,
        severity=Severity.WARN,
        message=f"bypassed by {flag}: {finding.message}",
        hint=hint,
        bypassed_by=flag,
    )
