"""What every use case is given: settings, broker, journal, clock, events and a stop token.

The CLI builds one `Runtime` per command (`open_runtime`) and passes it in; nothing is
set on it from outside afterwards. Notices for the person at the terminal collect in
`notices`; a signal handler stops a run through `request_stop`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from alchemiser_cli.brokers.base import Broker
from alchemiser_cli.calendar_cache import nyse_calendar
from alchemiser_cli.clock import Clock, FixedClock, RunningClock, SystemClock
from alchemiser_cli.core.calendar import NEW_YORK, MarketOutlook, MarketState, NyseCalendar
from alchemiser_cli.journal import Journal
from alchemiser_cli.settings import AlpacaCredentials, Settings

if TYPE_CHECKING:  # the executor loads with `execute`, not for plan, check or status
    from alchemiser_cli.core.results import OrderResult
    from alchemiser_cli.executor import Executor

DEMO_ACCOUNT = "demo-account.toml"
Events = Callable[[str], None]


@dataclass(slots=True)
class StopToken:
    """A stop asked for from outside (a signal), and the executor it reaches while orders
    are going out."""

    reason: str | None = None
    executor: Executor | None = None

    def progress(self) -> tuple[OrderResult, ...]:
        """The running execution's legs as they stand (empty when nothing is being sent)."""
        return () if self.executor is None else self.executor.progress


@dataclass(frozen=True, slots=True)
class Runtime:
    """One account's adapters and the command's wiring, fixed at construction."""

    settings: Settings
    broker: Broker
    journal: Journal
    clock: Clock
    events: Events | None = None  # execution progress, one line per event
    stop: StopToken = field(default_factory=StopToken)
    notices: list[str] = field(default_factory=list)  # shown on stderr after the command
    _calendars: dict[str, NyseCalendar] = field(default_factory=dict)

    def request_stop(self, reason: str) -> bool:
        """Stop a run from a signal handler: no new orders, waits cut short, opens cancelled.

        Returns whether orders are being sent (the executor then winds down by itself);
        before that, the caller may abandon the command outright.
        """
        self.stop.reason = reason
        cancel = getattr(self.clock, "cancel", None)
        if callable(cancel):
            cancel()
        if self.stop.executor is not None:
            self.stop.executor.stop(reason)
            return True
        return False

    def market(self, now: datetime) -> MarketState:
        """Where `now` falls in the NYSE calendar (the calendar loads on first use)."""
        return self._nyse(now).state(now)

    def outlook(self, now: datetime) -> MarketOutlook:
        """The market now, the next open and close, and the next ten sessions."""
        return self._nyse(now).outlook(now)

    def last_session(self, now: datetime) -> date:
        """The day of the last session closed by `now` (what strategies' bars must reach)."""
        return self._nyse(now).last_closed(now)

    def last_session_by(self, day: date) -> date:
        """The last session closed by the end of `day` (or by now, if `day` is not over)."""
        evening = datetime.combine(day, time(23, 59), tzinfo=NEW_YORK)
        return self.last_session(min(evening, self.broker.now()))

    def first_session_from(self, day: date) -> date:
        """The first session on or after `day` (within the calendar's horizon)."""
        return self._nyse(self.broker.now()).sessions(day, 1)[0].day

    def _nyse(self, now: datetime) -> NyseCalendar:
        known = self._calendars.get("nyse")
        if known is None or not known.table.covers(now.date()):
            known = nyse_calendar(self.settings.state_dir / "cache", now)  # the cached table
            self._calendars["nyse"] = known
        return known

    def sent_here(self, run_id: str) -> bool:
        """Whether a journaled run's orders are at this broker: on the simulator, `alch sim
        reset` replaced the account and its orders (the run was of an account that no
        longer exists); elsewhere every journaled run counts."""
        from alchemiser_cli.brokers.sim import SimBroker  # loaded already when it is the broker

        if not isinstance(self.broker, SimBroker):
            return True
        return any(
            self.broker.get_order_by_client_id(o.client_order_id) is not None
            for o in self.journal.orders_for_run(run_id)
        )

    def close_broker(self) -> None:
        """At the end of a command: close the simulator's database, so its write-ahead log
        is folded into the file (a damaged file is then seen by the next command, even one
        in the same process)."""
        if self.broker.name != "sim":
            return
        from alchemiser_cli.brokers.sim import SimBroker  # loaded already: it is the broker

        if isinstance(self.broker, SimBroker):
            self.broker.close()


def clock_for(settings: Settings) -> Clock:
    """The simulator's pinned (or running) clock where ALCH_SIM_NOW is set, else the system's."""
    if settings.broker != "alpaca" and settings.sim_now is not None:
        if settings.sim_realtime:
            return RunningClock(settings.sim_now)
        return FixedClock(settings.sim_now)
    return SystemClock()


def sim_seed(settings: Settings) -> Path:
    """The simulator's seed file: ALCH_SIM_ACCOUNT, else the packaged demo account."""
    if settings.sim_account is not None:
        return settings.sim_account
    return Path(str(resources.files("alchemiser_cli.data").joinpath(DEMO_ACCOUNT)))


def choose_broker(settings: Settings, credentials: AlpacaCredentials) -> str:
    """`sim` or `alpaca`: explicit choice, else Alpaca when keys are set, else the simulator."""
    if settings.broker != "auto":
        return settings.broker
    return "alpaca" if credentials.configured else "sim"


def open_runtime(
    settings: Settings,
    credentials: AlpacaCredentials | None = None,
    *,
    stop: StopToken | None = None,
) -> Runtime:
    """Build the runtime for the configured broker and state directory."""
    creds = credentials if credentials is not None else AlpacaCredentials()
    kind = choose_broker(settings, creds)
    clock = clock_for(settings)
    state = settings.state_dir
    broker: Broker
    if kind == "alpaca":
        from alchemiser_cli.brokers.alpaca.broker import AlpacaBroker

        # ALCH_LIVE=1 lets alch connect to a live endpoint at all (to read it); sending
        # orders there also needs --live on `execute` (app.guards.live_opt_in).
        broker = AlpacaBroker(
            creds, settings.alpaca, clock, state / "cache", feed=settings.feed, live=settings.live,
            stream=settings.alpaca.stream, limits_dir=settings.shared_state_dir / "ratelimit",
        )  # fmt: skip
    else:
        from alchemiser_cli.brokers.sim import SimBroker

        broker = SimBroker(
            state / "sim.sqlite",
            sim_seed(settings),
            clock,
            settings.sim_bars,
            calendar=lambda now: nyse_calendar(state / "cache", now),
            spread_bps=settings.sim_spread_bps,
            synthetic_quotes=True,
        )
    journal = Journal(state / "journal.sqlite", durable=kind == "alpaca")
    return Runtime(
        settings=settings,
        broker=broker,
        journal=journal,
        clock=clock,
        stop=stop if stop is not None else StopToken(),
    )
