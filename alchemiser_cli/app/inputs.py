"""A run's inputs: the targets from whichever source, the sector map and the snapshot."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path

from alchemiser_cli.app import holdings
from alchemiser_cli.app.runtime import Runtime
from alchemiser_cli.app.signal import (
    as_of_for,
    evaluate_strategies,
    holdable,
    off_schedule,
    read_strategies,
    scheduled,
)
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.money import ZERO, fmt
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.strategy.record import SignalRecord, signal_record
from alchemiser_cli.core.targets import (
    Targets,
    liquidation,
    parse_targets,
    require_weights,
    shortened,
    targets_from_mapping,
)
from alchemiser_cli.documents.targets import read_targets, strategies_source
from alchemiser_cli.errors import ConfigError, InputError, PriceError
from alchemiser_cli.files import read_text, read_toml

DEMO_TARGETS = "demo-targets.toml"
TARGETS_FORMATS = ("toml", "json", "csv")


def read_stdin(what: str) -> str:
    """All of stdin as UTF-8 text, whatever the locale says."""
    if sys.stdin is None:
        raise InputError(f"- reads the {what} from stdin, but stdin is closed")
    raw = getattr(sys.stdin, "buffer", None)
    if raw is None:
        return sys.stdin.read()
    try:
        return str(raw.read().decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"<stdin>: not UTF-8 text (the {what} must be)") from None


def read_targets_file(source: str | Path) -> Targets:
    """Targets from a file (`.toml`, `.json` or `.csv`, any case; a signal document from
    `alch signal --json` too) or `-` for stdin (its format sniffed). The one reader of
    targets files: `--targets`, `targets_file` in alch.toml and the Python API."""
    arg = str(source)
    if arg == "-":
        return read_targets(read_stdin("targets"), where="<stdin>")
    text = read_text(Path(arg), "targets")
    fmt = Path(arg).suffix.lower().lstrip(".")
    if fmt not in TARGETS_FORMATS:
        raise InputError(f"{arg}: unknown targets format (use .toml, .json or .csv)")
    return read_targets(text, where=arg, fmt=fmt)


def read_plan_file(source: str | Path) -> Plan:
    """A saved plan (`alch plan --json` output) from a file, or `-` for stdin."""
    from alchemiser_cli.documents import plan_from_text

    arg = str(source)
    if arg == "-":
        return plan_from_text(read_stdin("plan"), where="<stdin>")
    return plan_from_text(read_text(Path(arg), "plan"), where=arg)


def resolve_targets(
    rt: Runtime, supplied: Targets | None, *, announce: bool = True, liquidate: bool = False
) -> Targets:
    """Targets from the flag, else the config, else (simulator only) the demo targets;
    with `liquidate` none at all (the flag replaces the configured targets)."""
    if liquidate and supplied is None:
        return liquidation()
    chosen = _find_targets(rt, supplied, announce=announce)
    return require_weights(chosen, liquidate=liquidate, keep=rt.settings.planner.keep)


def resolve_inputs(
    rt: Runtime,
    supplied: Targets | None,
    strategies: Sequence[str] = (),
    *,
    announce: bool = True,
    liquidate: bool = False,
) -> tuple[Targets, SignalRecord | None]:
    """The run's targets and, when strategies made them, their decision trace.

    `--strategy` and `--targets` exclude each other, and so do `[strategies]` and
    `[targets]` / `targets_file` in the config; a flag of either kind wins over the other
    kind in the config (flags > config), and `--liquidate` takes neither."""
    settings = rt.settings
    if strategies and supplied is not None:
        raise InputError("give either --targets or --strategy, not both")
    if strategies and liquidate:
        raise InputError("--liquidate sells every position and takes no --strategy: drop one")
    files, source = list(strategies), "--strategy"
    if settings.strategies == {} and not files and supplied is None and not liquidate:
        raise ConfigError(
            f"[strategies] in {settings.config_path or 'the environment'} is empty: add a "
            'strategy ("file.clj" = 1.0) or remove the table'
        )
    if not files and supplied is None and not liquidate and settings.strategies:
        other = "[targets]" if settings.targets is not None else "targets_file"
        if settings.targets is not None or settings.targets_file is not None:
            raise ConfigError(
                f"both [strategies] and {other} are set in "
                f"{settings.config_path or 'the environment'}: keep one"
            )
        files = [f"{path}={_weight_text(w)}" for path, w in settings.strategies.items()]
        source = "[strategies]"
    if not files:
        chosen = scheduled(
            rt, resolve_targets(rt, supplied, announce=announce, liquidate=liquidate)
        )
        if chosen.signal is not None and liquidate:
            raise InputError(
                f"--liquidate sells every position and takes no signal document "
                f"({chosen.source}): drop one"
            )
        return chosen, chosen.signal
    return strategy_targets(rt, files, source)


def status_targets(rt: Runtime, supplied: Targets | None, account_id: str) -> Targets | None:
    """The targets drift is shown against: given, else those of the last run that sent
    orders (a blocked run, or a same-day "nothing to do", traded toward nothing), else the
    configured ones; the demo targets only against the simulator's demo account."""
    if supplied is not None:
        return supplied
    last = rt.journal.last_sent_plan(account_id, rt.broker.name)
    if last is not None:
        run_id, plan = last
        head = f"the last run that sent orders, {run_id} (plan {plan.get('plan_id')}"
        weights = plan.get("targets")
        if plan.get("liquidate") is True:  # every target is 0, not the demo's
            return Targets({}, f"{head}: --liquidate, no targets)")
        if isinstance(weights, dict) and (weights or plan.get("signal") is not None):
            try:  # strategies in cash: no weight at all, every target 0
                parsed = {str(k): Decimal(str(v)) for k, v in weights.items()}
            except ArithmeticError:
                parsed = None
            if parsed is not None:
                return Targets(parsed, f"{head}: {plan.get('targets_source')})")
    configured = rt.settings.targets is not None or rt.settings.targets_file is not None
    demo = isinstance(rt.broker, SimBroker) and rt.settings.sim_account is None
    if not (configured or demo):
        return None
    try:
        return resolve_targets(rt, None, announce=False)
    except InputError:
        return None


def _weight_text(weight: Decimal | str) -> str:
    return weight if isinstance(weight, str) else fmt(weight)


def strategy_targets(
    rt: Runtime, files: Sequence[str], source: str = "--strategy"
) -> tuple[Targets, SignalRecord]:
    """Evaluate the strategy files (`FILE` or `FILE=0.6`, `cash=0.4`) as `alch signal`
    does, on the bars through the last completed session: their blend is the targets. When
    the session the run trades on is not on any strategy's `:rebalance-frequency`, the
    record says so (`execute` then does nothing) and a notice names the next rebalance."""
    parsed = read_strategies(list(files), source)
    margin = rt.settings.limits.fragile_margin
    end, live = as_of_for(rt, None)
    blend = evaluate_strategies(rt.broker, parsed, end, margin, live=live, notes=rt.notices)
    schedule = off_schedule(rt, [(s.file, s.rebalance_frequency) for s, _ in parsed], end)
    if schedule is not None:
        rt.notices.append(f"not a rebalance session: {schedule[0]}")
    record = signal_record(blend, margin, holdable(parsed), schedule)
    targets = Targets(dict(blend.weights), strategies_source(record), signal=record)
    return require_weights(targets, liquidate=False, keep=rt.settings.planner.keep), record


def _find_targets(rt: Runtime, supplied: Targets | None, *, announce: bool) -> Targets:
    settings = rt.settings
    if supplied is not None:
        return supplied
    if settings.targets is not None and settings.targets_file is not None:
        raise ConfigError(
            f"both [targets] ({settings.config_path or 'ALCH_TARGETS'}) and "
            f"targets_file ({settings.targets_file}) are set: keep one"
        )
    if settings.targets is not None:
        where = f"{settings.config_path or 'ALCH_TARGETS'} [targets]"
        return targets_from_mapping(settings.targets, where=where)
    if settings.targets_file is not None:
        return read_targets_file(settings.targets_file)
    if rt.broker.name == "sim":
        if announce:
            rt.notices.append(
                "no targets given: using the demo targets (examples/targets/three-fund.toml); "
                "pass --targets FILE to use your own"
            )
        text = resources.files("alchemiser_cli.data").joinpath(DEMO_TARGETS).read_text()
        return parse_targets(text, where="demo targets", fmt="toml")
    raise InputError(
        "no targets: pass --targets FILE or add a [targets] table to alch.toml "
        "(alch never invents a portfolio for a real account)"
    )


def take_snapshot(
    rt: Runtime, symbols: set[str], assets_of: Sequence[str] = (), *, orders: bool = True
) -> Snapshot:
    """Read the account, positions, quotes, assets and open orders right now (`assets_of`:
    symbols whose asset records alone are wanted, e.g. every symbol a strategy can hold).
    With `orders=False` the open orders and today's fills are not read (two requests at
    Alpaca): the planner uses neither, only the checks do, so `alch plan` skips them."""
    broker = rt.broker
    account = broker.account()
    positions, others = holdings.split(broker.positions(), symbols)
    note = holdings.left_alone(others)
    if note is not None and note not in rt.notices:
        rt.notices.append(note)
    named, named_assets = holdings.priced(positions)  # other holdings a target names
    wanted = set(symbols) | set(positions)
    quotes = broker.quotes(wanted - set(named)) | named
    assets = broker.assets((wanted | set(assets_of)) - set(named)) | named_assets
    missing = sorted(wanted - set(quotes))
    if missing:
        raise PriceError(f"no quote from {broker.name} for {shortened(missing)}")
    made_up = sorted(s for s, q in quotes.items() if q.synthetic)
    if made_up:
        them = "it" if len(made_up) == 1 else "them"
        note = (
            f"synthetic prices for {shortened(made_up)} (the simulator has no quote or bars "
            f"for {them}; ALCH_SIM_BARS is unset): a demonstration, not market data"
        )
        if note not in rt.notices:
            rt.notices.append(note)
    now = broker.now()
    return Snapshot(
        account=account,
        positions=positions,
        quotes=quotes,
        assets=assets,
        as_of=now,
        open_orders=tuple(broker.open_orders()) if orders else (),
        fills_today=tuple(broker.fills_since(session_start(now))) if orders else (),
        broker=broker.name,
    )


def sectors(rt: Runtime) -> dict[str, str]:
    """Symbol -> sector from [sectors] in the config or sectors_file."""
    mapping = dict(rt.settings.sectors or {})
    path = rt.settings.sectors_file
    if path is not None:
        doc = read_toml(path, "sectors", InputError)
        table = doc.get("sectors")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InputError(f'{path}: expected a [sectors] table of SYMBOL = "sector"')
        mapping.update(table)
    return {k.strip().upper(): v for k, v in mapping.items()}


def traded_today(snap: Snapshot) -> Decimal:
    """The value filled today, from the snapshot's fills."""
    return sum((f.qty * f.price for f in snap.fills_today), ZERO)


def session_start(now: datetime) -> datetime:
    """Midnight New York time of `now`'s trading day (fills since then count as today's)."""
    local = now.astimezone(NEW_YORK)
    return datetime.combine(local.date(), time(0), tzinfo=NEW_YORK)
