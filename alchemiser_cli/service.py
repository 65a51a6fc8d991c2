"""The one service layer every command calls: plan, check, execute, status.

It wires the pure core (planner, checks) to the adapters (broker, journal) and owns the
order of operations: fresh snapshot -> plan -> checks -> confirmation -> orders. The CLI
only parses arguments, calls one method here and renders what comes back.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import filelock

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.brokers.sim import SimBroker, SimDamaged, load_seed
from alchemiser_cli.clock import Clock, FixedClock, RunningClock, SystemClock
from alchemiser_cli.core.calendar import NEW_YORK, MarketOutlook, MarketState, NyseCalendar
from alchemiser_cli.core.checks import CheckContext, CheckReport, run_checks
from alchemiser_cli.core.models import BrokerOrder, Quote, Snapshot
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.planner import (
    Plan,
    band_threshold,
    build_plan,
    investable_base,
    reference_price,
)
from alchemiser_cli.core.targets import (
    Targets,
    liquidation,
    parse_targets,
    require_weights,
    shortened,
    targets_from_mapping,
)
from alchemiser_cli.core.types import Exact, Money, Weight
from alchemiser_cli.documents import plan_to_json
from alchemiser_cli.errors import (
    AlchError,
    ConfigError,
    InputError,
    Interrupted,
    LockHeld,
    PriceError,
)
from alchemiser_cli.executor import (
    CLIENT_ORDER_PREFIX,
    ExecutionResult,
    Executor,
    OrderResult,
    Outcome,
)
from alchemiser_cli.files import (
    PRIVATE_FILE,
    private_dir,
    read_text,
    read_toml,
    state_error,
    usable_dir,
)
from alchemiser_cli.journal import Journal, RunRecord
from alchemiser_cli.logs import RUN_ID
from alchemiser_cli.notify import Delivery, Notifier, notice_for
from alchemiser_cli.settings import AlpacaCredentials, Settings

log = logging.getLogger(__name__)

DEMO_TARGETS = "demo-targets.toml"
DEMO_ACCOUNT = "demo-account.toml"

Confirm = Callable[[Plan, CheckReport], bool]
# Journal order statuses that need no look-up at the broker.
_SETTLED_STATUSES = frozenset(
    {"filled", "canceled", "expired", "rejected", "replaced", "send_failed", "not_sent"}
)
_BROKER_NAMES = {"alpaca-paper": "Alpaca", "alpaca-live": "Alpaca"}
_GOOD = (Outcome.COMPLETED, Outcome.QUEUED, Outcome.NOTHING_TO_DO, Outcome.DECLINED)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Switches that relax a check, each one explicit on the command line."""

    force: bool = False  # run a plan again although the journal says it ran
    cancel_open: bool = False  # trade symbols that have open orders
    queue_for_open: bool = False  # market closed: queue day orders for the next session
    live: bool = False  # --live: the second half of the live-trading opt-in
    close_window_s: float | None = None  # --close-window: trade only this close to the close
    liquidate: bool = False  # --liquidate: no targets, sell every position


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The plan that was checked, what the checks said, and the market at that moment."""

    plan: Plan
    report: CheckReport
    market: MarketState | None = None
    broker_open: bool | None = None  # the broker's own open/closed flag, where it has one


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
    details: dict[str, Any] | None = None


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
    schema_version: int = 1


@dataclass(slots=True)
class Service:
    """Plan, check, execute and report for one account."""

    settings: Settings
    broker: Broker
    journal: Journal
    clock: Clock
    notices: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)  # the last run's notifications
    on_event: Callable[[str], None] | None = None
    _calendar: NyseCalendar | None = None
    _executor: Executor | None = None
    _stop: str | None = None

    # -- inputs --------------------------------------------------------------------------

    def resolve_targets(
        self, supplied: Targets | None, *, announce: bool = True, liquidate: bool = False
    ) -> Targets:
        """Targets from the flag, else the config, else (simulator only) the demo targets;
        with `liquidate` none at all (the flag replaces the configured targets)."""
        if liquidate and supplied is None:
            return liquidation()
        chosen = self._find_targets(supplied, announce=announce)
        return require_weights(chosen, liquidate=liquidate)

    def _find_targets(self, supplied: Targets | None, *, announce: bool) -> Targets:
        if supplied is not None:
            return supplied
        if self.settings.targets is not None and self.settings.targets_file is not None:
            raise ConfigError(
                f"both [targets] ({self.settings.config_path or 'ALCH_TARGETS'}) and "
                f"targets_file ({self.settings.targets_file}) are set: keep one"
            )
        if self.settings.targets is not None:
            where = f"{self.settings.config_path or 'ALCH_TARGETS'} [targets]"
            return targets_from_mapping(self.settings.targets, where=where)
        if self.settings.targets_file is not None:
            path = self.settings.targets_file
            text = read_text(path, "targets")
            return parse_targets(text, where=str(path), fmt=path.suffix.lstrip(".") or None)
        if self.broker.name == "sim":
            if announce:
                self.notices.append(
                    "no targets given: using the demo targets (examples/targets/three-fund.toml); "
                    "pass --targets FILE to use your own"
                )
            text = resources.files("alchemiser_cli.data").joinpath(DEMO_TARGETS).read_text()
            return parse_targets(text, where="demo targets", fmt="toml")
        raise InputError(
            "no targets: pass --targets FILE or add a [targets] table to alch.toml "
            "(alch never invents a portfolio for a real account)"
        )

    def snapshot(self, symbols: set[str]) -> Snapshot:
        """Read the account, positions, quotes, assets and open orders right now."""
        account = self.broker.account()
        positions = self.broker.positions()
        wanted = set(symbols) | set(positions)
        quotes = self.broker.quotes(wanted)
        assets = self.broker.assets(wanted)
        missing = sorted(wanted - set(quotes))
        if missing:
            raise PriceError(f"no quote from {self.broker.name} for {shortened(missing)}")
        now = self.broker.now()
        return Snapshot(
            account=account,
            positions=positions,
            quotes=quotes,
            assets=assets,
            as_of=now,
            open_orders=tuple(self.broker.open_orders()),
            fills_today=tuple(self.broker.fills_since(_session_start(now))),
            broker=self.broker.name,
        )

    # -- commands ------------------------------------------------------------------------

    def plan(self, targets: Targets | None, *, liquidate: bool = False) -> Plan:
        """Compute a fresh dry-run plan; nothing is sent."""
        chosen = self.resolve_targets(targets, liquidate=liquidate)
        snap = self.snapshot(set(chosen.weights))
        plan = build_plan(snap, chosen, self.settings.planner, self.broker.now())
        log.info(
            "plan %s for %s:%s: %d orders, turnover %s",
            plan.plan_id,
            plan.broker,
            plan.account_id,
            len(plan.orders),
            plan.summary.turnover,
        )
        return plan

    def check(
        self, plan: Plan | None, targets: Targets | None, options: RunOptions | None = None
    ) -> CheckOutcome:
        """Check a saved plan (or a fresh one) against a fresh snapshot and the limits."""
        opts = options or RunOptions()
        saved = plan is not None
        if plan is not None and plan.liquidate != opts.liquidate:
            raise InputError(
                "this saved plan sells every position: pass --liquidate to check or run it"
                if plan.liquidate
                else "--liquidate plans afresh with no targets; it does not apply to a saved plan"
            )
        chosen = plan if plan is not None else self.plan(targets, liquidate=opts.liquidate)
        snap = self.snapshot(set(chosen.targets) | {o.symbol for o in chosen.orders})
        now = self.broker.now()
        market = self.market(now)
        broker_open = self.broker.clock_is_open()
        ctx = CheckContext(
            limits=self.settings.limits,
            now=now,
            market=market,
            broker_open=broker_open,
            broker_clock=f"{_BROKER_NAMES.get(self.broker.name, 'the broker')}'s clock",
            saved_plan=saved,
            traded_today=self._traded_today(snap),
            force=opts.force,
            cancel_open=opts.cancel_open,
            queue_for_open=opts.queue_for_open,
            sectors=self._sectors(),
            already_executed=tuple(r.run_id for r in self.journal.plan_executed(chosen.plan_id)),
        )
        report = run_checks(chosen, snap, ctx)
        for finding in report.findings:
            if finding.severity != "pass":
                log.info("check %s: %s: %s", finding.check_id, finding.severity, finding.message)
        log.info("checks for plan %s: %s", chosen.plan_id, "blocked" if report.blocked else "ok")
        return CheckOutcome(chosen, report, market, broker_open)

    def execute(
        self,
        plan: Plan | None,
        targets: Targets | None,
        confirm: Confirm,
        options: RunOptions | None = None,
    ) -> ExecutionReport:
        """Check, confirm, then send; one run per account at a time."""
        opts = options or RunOptions()
        self._live_opt_in(opts.live)
        account_id = "unknown"
        try:
            account_id = self.broker.account().account_id
            with self.account_lock(account_id):
                self.reconcile(account_id)
                # The cron contract: a fresh plan runs once a trading day (a saved plan has
                # its own guard, plan.already_executed). --force runs again.
                done = self._outside_close_window(opts.close_window_s)
                if done is None and plan is None and not opts.force:
                    done = self._ran_today(account_id)
                checked = self.check(plan, targets, options)
                run_id = new_run_id(self.clock.now())
                token = RUN_ID.set(run_id)
                try:
                    report = self._run(run_id, checked, confirm, already_done=done)
                finally:
                    RUN_ID.reset(token)
        except LockHeld:
            raise  # the run holding the account reports for itself
        except Exception as exc:
            self._notify_failure(exc, account_id)
            raise
        self._notify(report.outcome.value, report.message, account_id, report.run_id)
        return report

    @contextmanager
    def run_inputs(self) -> Iterator[None]:
        """Wrap reading a run's saved plan or targets file: a run whose inputs cannot be
        read has failed, and the [notify] channels hear of it like any other failed run."""
        try:
            yield
        except Exception as exc:
            self._notify_failure(exc, "unknown")
            raise

    def _notify_failure(self, exc: Exception, account_id: str) -> None:
        """Report a run that ended in an exception; the caller re-raises it. A bug must not
        end an unattended run silently either: it is reported as an internal error."""
        if isinstance(exc, AlchError):
            outcome = Outcome.INTERRUPTED if isinstance(exc, Interrupted) else Outcome.FAILED
            message = str(exc)
        else:
            outcome, message = Outcome.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        self._notify(outcome.value, message, account_id, None)

    def _notify(self, outcome: str, message: str, account_id: str, run_id: str | None) -> None:
        """Tell the configured channels how the run ended (bounded; never fails the run)."""
        config = self.settings.notify
        if not config.configured or not config.wants(outcome):
            return
        notice = notice_for(outcome, message, account_id, self.broker.name, run_id)
        self.deliveries = Notifier(config).send(notice)

    def _outside_close_window(self, window_s: float | None) -> str | None:
        """With --close-window, why now is not the time (the rule is the calendar's)."""
        if window_s is None:
            return None
        why = self.market(self.broker.now()).outside_close_window(window_s)
        return None if why is None else f"nothing to do: {why}"

    def _ran_today(self, account_id: str) -> str | None:
        """Why today's rebalance is already done, if it is: a finished run in the journal,
        or orders with alch's client_order_ids at the broker that the journal does not know
        (another machine, or a lost state directory)."""
        midnight = _session_start(self.broker.now())
        for run in reversed(self.journal.runs_since(account_id, midnight, "execute")):
            if run.outcome in (Outcome.COMPLETED.value, Outcome.QUEUED.value):
                return (
                    f"nothing to do: already ran today (run {run.run_id}, {run.outcome}); "
                    "--force runs again"
                )
        ours = [o.client_order_id for o in self.broker.orders_since(midnight)
                if o.client_order_id.startswith(CLIENT_ORDER_PREFIX)]  # fmt: skip
        unknown = sorted(set(ours) - self.journal.known_client_order_ids(ours))
        if unknown:
            return (
                f"nothing to do: {len(unknown)} order(s) with alch client order ids were sent "
                f"today but are not in this journal (e.g. {unknown[0]}: another machine or a "
                "lost state directory?); --force runs again"
            )
        return None

    def _live_opt_in(self, live_flag: bool) -> None:
        """Live orders need ALCH_LIVE=1 (to connect at all) and --live; paper and sim neither."""
        is_live = self.broker.name == "alpaca-live"
        if is_live and not live_flag:
            raise ConfigError(
                "this is a LIVE Alpaca account: sending real orders needs --live as well as "
                "ALCH_LIVE=1; nothing sent"
            )
        if live_flag and not is_live:
            raise ConfigError(
                f"--live given but the broker is {self.broker.name}: live trading needs "
                "ALCH_LIVE=1 and a live APCA_API_BASE_URL; nothing sent"
            )

    def progress(self) -> tuple[OrderResult, ...]:
        """The running execution's legs as they stand (empty when nothing is being sent)."""
        return () if self._executor is None else self._executor.progress

    @property
    def stop_reason(self) -> str | None:
        """The signal that stopped the run, if one did."""
        return self._stop

    def request_stop(self, reason: str) -> bool:
        """Stop a run from a signal handler: no new orders, waits cut short, opens cancelled.

        Returns whether orders are being sent (the executor then winds down by itself);
        before that, the caller may abandon the command outright.
        """
        self._stop = reason
        cancel = getattr(self.clock, "cancel", None)
        if callable(cancel):
            cancel()
        if self._executor is not None:
            self._executor.stop(reason)
            return True
        return False

    def reconcile(self, account_id: str) -> list[str]:
        """Settle runs the journal shows as unfinished (a crash, a kill) with the broker.

        Each of their orders is looked up by client_order_id: one that reached the broker
        is recorded as it stands (cancelled first if still open: its plan is stale), one
        that did not is marked never sent. The run is then marked interrupted. Nothing is
        ever re-sent from here; the next plan starts from the account as it now is.
        """
        messages = []
        for run in self.journal.runs_with_outcome(Outcome.RUNNING, account_id):
            reached = never = cancelled = 0
            for order in self.journal.orders_for_run(run.run_id):
                if order.status in _SETTLED_STATUSES:
                    reached += order.status not in ("send_failed", "not_sent")
                    continue
                found = self.broker.get_order_by_client_id(order.client_order_id)
                if found is None:
                    self.journal.record_send_failure(
                        order.client_order_id, "never reached the broker (run stopped)",
                        self.clock.now(), status="not_sent",
                    )  # fmt: skip
                    never += 1
                    continue
                reached += 1
                if not found.status.is_terminal:
                    found = self.broker.cancel_order(found.id)
                    cancelled += 1
                self.journal.record_broker_state(found, self.clock.now())
            message = (
                f"recovered unfinished run {run.run_id}: {reached} order(s) had reached the "
                f"broker ({cancelled} still open, now cancelled), {never} never sent"
            )
            self.journal.finish_run(
                run.run_id, Outcome.INTERRUPTED.value, message, run.report, self.clock.now()
            )
            log.warning(message)
            self.notices.append(message)
            messages.append(message)
        return messages

    def market(self, now: datetime) -> MarketState:
        """Where `now` falls in the NYSE calendar (the calendar loads on first use)."""
        return self._nyse(now).state(now)

    def outlook(self, now: datetime) -> MarketOutlook:
        """The market now, the next open and close, and the next ten sessions."""
        return self._nyse(now).outlook(now)

    def _nyse(self, now: datetime) -> NyseCalendar:
        if self._calendar is None:
            self._calendar = NyseCalendar(now.astimezone(NEW_YORK).date())
        return self._calendar

    def _run(
        self,
        run_id: str,
        checked: CheckOutcome,
        confirm: Confirm,
        already_done: str | None = None,
    ) -> ExecutionReport:
        """One journaled run: every path out of here records how the run ended."""
        chosen, report = checked.plan, checked.report
        started = self.clock.now()
        log.info("run %s started: plan %s", run_id, chosen.plan_id)
        self.journal.start_run(
            run_id,
            "execute",
            chosen.broker,
            chosen.account_id,
            chosen.plan_id,
            plan_to_json(chosen),
            started,
        )
        result = ExecutionResult()
        try:
            if already_done is not None:
                result.outcome = Outcome.NOTHING_TO_DO
                result.message = already_done
            elif report.blocked:
                result.outcome = Outcome.BLOCKED
                blocking = ", ".join(f.check_id for f in report.findings if f.severity == "block")
                result.message = f"blocked by {blocking}; nothing sent"
            elif not chosen.orders:
                result.outcome = Outcome.NOTHING_TO_DO
                result.message = "nothing to do: the account is at its targets"
            elif not confirm(chosen, report):
                result.outcome = Outcome.DECLINED
                result.message = "not confirmed; nothing sent"
            elif self._stop is not None:
                result.outcome = Outcome.INTERRUPTED
                result.message = f"interrupted by {self._stop} before sending; nothing sent"
            else:
                executor = Executor(
                    self.broker, self.journal, self.clock, self.settings.execution, self.on_event
                )
                self._executor = executor
                attempt = 1 + self.journal.plan_attempts(chosen.plan_id)
                queue = checked.market is not None and (
                    not checked.market.is_open or checked.broker_open is False
                )
                result = executor.run(
                    chosen,
                    run_id,
                    chosen.summary.reserve,
                    attempt,
                    queue_for=checked.market.next_session if queue and checked.market else None,
                )
        except AlchError as exc:
            # Record the failure (best effort: the journal itself may be what failed).
            outcome = Outcome.INTERRUPTED if isinstance(exc, Interrupted) else Outcome.FAILED
            log.error("run %s %s: %s", run_id, outcome.value, exc)
            with contextlib.suppress(AlchError):
                self.journal.finish_run(run_id, outcome.value, str(exc), None, self.clock.now())
            raise
        finally:
            self._executor = None
        finished = self.clock.now()
        execution = ExecutionReport(
            run_id=run_id,
            plan_id=chosen.plan_id,
            broker=chosen.broker,
            account_id=chosen.account_id,
            outcome=result.outcome,
            message=result.message,
            started_at=started,
            finished_at=finished,
            checks=report,
            orders=tuple(result.orders),
            filled_buy_value=result.filled_buy_value,
            filled_sell_value=result.filled_sell_value,
        )
        self.journal.finish_run(
            run_id, result.outcome.value, result.message, _report_json(execution), finished
        )
        level = (
            logging.INFO
            if result.outcome in _GOOD
            else logging.WARNING
            if result.outcome is Outcome.BLOCKED
            else logging.ERROR
        )
        log.log(level, "run %s %s: %s", run_id, result.outcome.value, result.message)
        return execution

    def status(self, runs: int = 5, run_id: str | None = None) -> StatusReport:
        """Account, positions with drift, open orders and the journal's recent runs.

        Unfinished runs are reconciled first, unless a run holds the account right now.
        """
        account = self.broker.account()
        try:
            with self.account_lock(account.account_id):
                self.reconcile(account.account_id)
        except LockHeld:
            self.notices.append("a run is in progress: its orders are shown as they stand")
        account = self.broker.account()
        positions = self.broker.positions()
        targets = self._configured_targets()
        weights = {} if targets is None else dict(targets.weights)
        wanted = {s for s, w in weights.items() if w > ZERO} - set(positions)
        quotes = self.broker.quotes(set(positions) | wanted)
        prices: dict[str, Decimal | None] = {
            s: reference_price(quotes.get(s), s) for s in positions
        }  # a held position must be valued; a target not held is shown even unpriced
        for symbol in wanted:
            quote = quotes.get(symbol)
            prices[symbol] = None if quote is None else _price_or_none(quote)
        policy = self.settings.planner
        values = {s: p.qty * (prices[s] or ZERO) for s, p in positions.items()}
        equity = account.cash + sum(values.values(), ZERO)
        kept_value = sum((v for s, v in values.items() if s in policy.keep), ZERO)
        _, base = investable_base(equity, kept_value, policy)  # the plan's denominator
        views = []
        for symbol in sorted(set(positions) | wanted):
            pos = positions.get(symbol)
            qty = ZERO if pos is None else pos.qty
            price = prices.get(symbol)
            value = values.get(symbol, ZERO)
            weight = value / base if base > ZERO else ZERO
            target = None
            if targets is not None and symbol not in policy.keep:
                target = weights.get(symbol, ZERO)
            band = None
            if target is not None and policy.bands_on:
                band = band_threshold(target, policy)
            drift = None if target is None else weight - target
            views.append(
                PositionView(
                    symbol=symbol,
                    qty=qty,
                    price=price,
                    value=value,
                    weight=weight,
                    target_weight=target,
                    drift=drift,
                    band=band,
                    in_band=None if band is None or drift is None else abs(drift) <= band,
                )
            )
        if run_id is not None:
            record = self.journal.get_run(run_id)
            if record is None:
                matches = self.journal.run_ids_starting(run_id, limit=1000)
                if len(matches) > 1:
                    raise InputError(
                        f"run id {run_id!r} is ambiguous: it matches {shortened(matches, 5)}; "
                        "give more of the id"
                    )
                raise InputError(f"no run {run_id!r} in the journal (see `alch status --runs 20`)")
            records = [record]
        else:
            records = self.journal.recent_runs(runs, account.account_id)
        return StatusReport(
            as_of=self.broker.now(),
            broker=self.broker.name,
            account=AccountView(
                account_id=account.account_id,
                mode=self.broker.name,
                account_type=account.account_type,
                status=account.status,
                equity=equity,
                cash=account.cash,
                settled_cash=account.settled_cash,
                buying_power=account.buying_power,
                daytrade_count=account.daytrade_count,
            ),
            positions=tuple(views),
            open_orders=tuple(self.broker.open_orders()),
            runs=tuple(_run_view(r, detailed=run_id is not None) for r in records),
            targets_source=None if targets is None else targets.source,
            market=self.outlook(self.broker.now()),
        )

    # -- helpers -------------------------------------------------------------------------

    @contextmanager
    def account_lock(self, account_id: str) -> Iterator[None]:
        """Hold the per-account lock for a whole run; a second run exits at once."""
        private_dir(self.settings.state_dir / "locks", "lock directory")
        path = account_lock_path(self.settings.state_dir, self.broker.name, account_id)
        lock = filelock.FileLock(path, timeout=0, mode=PRIVATE_FILE)  # opened O_NOFOLLOW
        try:
            lock.acquire()
        except filelock.Timeout:
            raise LockHeld(
                f"another alch run holds account {account_id} ({path}); nothing sent"
            ) from None
        except OSError as exc:  # a directory or a link where the lock file belongs
            raise state_error(path, exc, "account lock") from None
        try:
            yield
        finally:
            lock.release()

    def _configured_targets(self) -> Targets | None:
        try:
            return self.resolve_targets(None, announce=False)
        except InputError:
            return None

    def _sectors(self) -> dict[str, str]:
        """Symbol -> sector from [sectors] in the config or sectors_file."""
        mapping = dict(self.settings.sectors or {})
        path = self.settings.sectors_file
        if path is not None:
            doc = read_toml(path, "sectors", InputError)
            table = doc.get("sectors")
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise InputError(f'{path}: expected a [sectors] table of SYMBOL = "sector"')
            mapping.update(table)
        return {k.strip().upper(): v for k, v in mapping.items()}

    def _traded_today(self, snap: Snapshot) -> Decimal:
        return sum((f.qty * f.price for f in snap.fills_today), ZERO)


def _price_or_none(quote: Quote) -> Decimal | None:
    """The reference price of a quote, or None where it has none (status only shows it)."""
    try:
        return reference_price(quote, quote.symbol)
    except PriceError:
        return None


def _report_json(report: ExecutionReport) -> dict[str, Any]:
    from alchemiser_cli.render.json_out import EXECUTION_ADAPTER

    data: dict[str, Any] = EXECUTION_ADAPTER.dump_python(report, mode="json")
    return data


def _run_view(record: RunRecord, *, detailed: bool) -> RunView:
    report = record.report or {}
    orders = report.get("orders", [])
    filled = Decimal(report.get("filled_buy_value", "0")) + Decimal(
        report.get("filled_sell_value", "0")
    )
    weighted = weight = ZERO
    for order in orders:
        slip, qty, price = (
            order.get("slippage_bps"),
            order.get("filled_qty"),
            order.get("avg_price"),
        )
        if slip is not None and qty is not None and price is not None:
            value = Decimal(qty) * Decimal(price)
            weighted += Decimal(slip) * value
            weight += value
    return RunView(
        run_id=record.run_id,
        command=record.command,
        outcome=record.outcome,
        started_at=record.started_at,
        finished_at=record.finished_at,
        plan_id=record.plan_id,
        message=record.message,
        orders=len(orders),
        filled_value=filled,
        slippage_bps=(weighted / weight).quantize(Decimal("0.01")) if weight else None,
        details=report if detailed else None,
    )


def _session_start(now: datetime) -> datetime:
    """Midnight New York time of `now`'s trading day (fills since then count as today's)."""
    local = now.astimezone(NEW_YORK)
    return datetime.combine(local.date(), time(0), tzinfo=NEW_YORK)


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def new_run_id(now: datetime) -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _clock_for(settings: Settings) -> Clock:
    if settings.broker != "alpaca" and settings.sim_now is not None:
        if settings.sim_realtime:
            return RunningClock(settings.sim_now)
        return FixedClock(settings.sim_now)
    return SystemClock()


def _sim_seed(settings: Settings) -> Path:
    if settings.sim_account is not None:
        return settings.sim_account
    return Path(str(resources.files("alchemiser_cli.data").joinpath(DEMO_ACCOUNT)))


def choose_broker(settings: Settings, credentials: AlpacaCredentials) -> str:
    """`sim` or `alpaca`: explicit choice, else Alpaca when keys are set, else the simulator."""
    if settings.broker != "auto":
        return settings.broker
    return "alpaca" if credentials.configured else "sim"


def open_service(settings: Settings, credentials: AlpacaCredentials | None = None) -> Service:
    """Build the service for the configured broker and state directory."""
    creds = credentials if credentials is not None else AlpacaCredentials()
    kind = choose_broker(settings, creds)
    clock = _clock_for(settings)
    state = settings.state_dir
    broker: Broker
    if kind == "alpaca":
        from alchemiser_cli.brokers.alpaca import AlpacaBroker

        # ALCH_LIVE=1 lets alch connect to a live endpoint at all (to read it); sending
        # orders there also needs --live on `execute` (Service._live_opt_in).
        broker = AlpacaBroker(
            creds, settings.alpaca, clock, state / "cache", feed=settings.feed, live=settings.live
        )
    else:
        broker = SimBroker(state / "sim.sqlite", _sim_seed(settings), clock, settings.sim_bars)
    journal = Journal(state / "journal.sqlite")
    return Service(settings=settings, broker=broker, journal=journal, clock=clock)


def account_lock_path(state_dir: Path, broker: str, account_id: str) -> Path:
    """The lock file a run holds on one account for a whole `execute`."""
    return state_dir / "locks" / f"{broker}-{_safe(account_id)}.lock"


def reset_simulator(settings: Settings) -> tuple[str, bool]:
    """Restore the simulated account to its seed file, holding the account's lock (a run
    in progress makes it `LockHeld`, nothing reset). A damaged database file is recreated
    from the seed. Returns the seed's path and whether the file was recreated."""
    seed_path = _sim_seed(settings)
    seed = load_seed(seed_path)  # a bad seed file is an error before anything changes
    state = usable_dir(settings.state_dir, "state directory (ALCH_HOME)")
    usable_dir(state / "locks", "locks directory in ALCH_HOME")
    db = state / "sim.sqlite"
    clock = _clock_for(settings)
    accounts = {seed.account_id}
    sim: SimBroker | None = None
    try:
        sim = SimBroker(db, seed_path, clock)
        accounts.add(sim.stored_account_id() or seed.account_id)
    except SimDamaged:
        pass  # recreated below, under the seed account's lock
    try:
        with contextlib.ExitStack() as held:
            for account_id in sorted(accounts):
                path = account_lock_path(state, "sim", account_id)
                try:
                    held.enter_context(filelock.FileLock(path, timeout=0))
                except filelock.Timeout:
                    raise LockHeld(
                        f"another alch run holds simulated account {account_id} ({path}); "
                        "nothing was reset: try again when it has finished"
                    ) from None
            if sim is not None:
                sim.reset()
                return str(seed_path), False
            for suffix in ("", "-journal", "-wal", "-shm"):
                db.with_name(db.name + suffix).unlink(missing_ok=True)
            sim = SimBroker(db, seed_path, clock)  # a new file, seeded on opening
            return str(seed_path), True
    finally:
        if sim is not None:
            sim.close()
