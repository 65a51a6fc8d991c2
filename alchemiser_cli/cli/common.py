"""What every command shares: global options, opening the runtime, input and output."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, cast

import typer

from alchemiser_cli.errors import ConfigError, InputError
from alchemiser_cli.masking import redact

if TYPE_CHECKING:  # start-up (`--help`, `--version`, completion) imports none of these
    from rich.console import Console

    from alchemiser_cli.app.outputs import Output
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.core.plan import Plan
    from alchemiser_cli.core.targets import Targets
    from alchemiser_cli.settings import Settings


@dataclass(frozen=True, slots=True)
class GlobalOptions:
    """Options given before the command name."""

    config: Path | None = None
    broker: str | None = None
    verbosity: int = 0
    traceback: bool = False


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
TargetsOpt = Annotated[
    str | None,
    typer.Option("--targets", "-t", help="Targets file (.toml, .json, .csv) or - for stdin."),
]
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--strategy",
        help="Targets from a strategy file (.clj), as `alch signal` computes them; "
        "FILE=0.6 blends by weight. Repeatable.",
    ),
]
PlanArg = Annotated[
    str | None,
    typer.Argument(
        help="A saved plan (from `alch plan --json`), or - for stdin.", show_default=False
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Run a plan again although the journal says it ran.")
]
QueueOpt = Annotated[
    bool,
    typer.Option("--queue-for-open", help="Market closed: send day orders for the next session."),
]
LiquidateOpt = Annotated[
    bool,
    typer.Option(
        "--liquidate", help="No targets: sell every position (empty targets are an error)."
    ),
]
AllowOpenOrdersOpt = Annotated[
    bool,
    typer.Option(
        "--allow-open-orders",
        help="Trade symbols that have open orders (a warning; the orders stay open).",
    ),
]
CancelOpenOpt = Annotated[  # the old name of --allow-open-orders: it never cancelled anything
    bool, typer.Option("--cancel-open", hidden=True, help="Deprecated: --allow-open-orders.")
]


def allow_open_orders(ctx: typer.Context, allowed: bool, cancel_open: bool) -> bool:
    """--allow-open-orders, or its deprecated name --cancel-open (with a note on stderr)."""
    if cancel_open and globals_of(ctx).verbosity >= 0:
        sys.stderr.write(
            "alch: note: --cancel-open is deprecated and cancels nothing: it is "
            "--allow-open-orders (open orders stay open); use that name\n"
        )
    return allowed or cancel_open


def globals_of(ctx: typer.Context) -> GlobalOptions:
    """The global options stored by the app callback."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


@contextmanager
def runtime_for(
    ctx: typer.Context,
    planner_flags: Callable[[], dict[str, Any]] | None = None,
    execution_flags: Callable[[], dict[str, Any]] | None = None,
    before: Callable[[Settings], None] | None = None,
) -> Iterator[Runtime]:
    """Load settings, set up logging, open the runtime. `before` judges the settings
    before anything in ALCH_HOME is touched (an output over a state file is refused
    with every byte there as it was)."""
    from alchemiser_cli import logs
    from alchemiser_cli.app.runtime import open_runtime
    from alchemiser_cli.files import loose_permissions, usable_dir
    from alchemiser_cli.settings import AlpacaCredentials, load_settings, with_changes

    opts = globals_of(ctx)
    settings = load_settings(opts.config, broker=opts.broker)
    if planner_flags is not None:
        settings = with_changes(settings, "planner", planner_flags())
    if execution_flags is not None:
        settings = with_changes(settings, "execution", execution_flags())
    if settings.planner.rebalance_to == "edge" and not settings.planner.bands_on:
        raise ConfigError(
            '--to edge (rebalance_to = "edge") needs a drift band: give --band, or '
            "band_abs / band_rel in [planner]"
        )
    if before is not None:
        before(settings)
    usable_dir(settings.state_dir, "state directory (ALCH_HOME)")
    for part in ("logs", "locks"):
        usable_dir(settings.state_dir / part, f"{part} directory in ALCH_HOME")
    logs.configure(settings.state_dir, opts.verbosity)
    loose = loose_permissions(settings.state_dir)
    if loose is not None:
        logging.getLogger("alchemiser_cli.cli").warning(loose)
    credentials = AlpacaCredentials()
    for secret in (
        credentials.api_key_id,
        credentials.api_secret_key,
        settings.notify.webhook_url,  # a Slack webhook URL is itself a credential
        settings.notify.smtp_password,
    ):
        logs.register_secret(secret)
    runtime = open_runtime(settings, credentials)
    try:
        yield runtime
    finally:
        runtime.close_broker()
        runtime.journal.close()  # its write-ahead log folded in now, not when collected
        if opts.verbosity >= 0:  # --quiet: errors only
            for notice in runtime.notices:
                sys.stderr.write(f"alch: note: {redact(notice)}\n")


FIRST_DAY = date(1900, 1, 1)  # dates a command accepts: far enough from date's own limits
LAST_DAY = date(2199, 12, 31)  # that five years of history before one never overflow


def parse_day(raw: str, flag: str) -> date:
    """A `YYYY-MM-DD` flag, between 1900-01-01 and 2199-12-31 (one line, exit 2, if not)."""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: give a date as YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(
            f"{flag} {raw!r}: give a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
        )
    return day


def read_source(arg: str, what: str) -> tuple[str, str]:
    """Read a file argument or stdin (`-`); return (text, a name for messages)."""
    from alchemiser_cli.files import read_text

    if arg == "-":
        if sys.stdin is None:
            raise InputError(f"- reads the {what} from stdin, but stdin is closed")
        raw = getattr(sys.stdin, "buffer", None)  # bytes: UTF-8 whatever the locale says
        if raw is None:
            return sys.stdin.read(), "<stdin>"
        try:
            return raw.read().decode("utf-8"), "<stdin>"
        except UnicodeDecodeError:
            raise InputError(f"<stdin>: not UTF-8 text (the {what} must be)") from None
    return read_text(Path(arg), what), arg


def load_targets(arg: str | None) -> Targets | None:
    """Targets from --targets (plain, or a signal document with its trace), or None to let
    the app decide."""
    from alchemiser_cli.documents.targets import read_targets

    if arg is None:
        return None
    text, where = read_source(arg, "targets")
    suffix = Path(arg).suffix.lower().lstrip(".") if arg != "-" else ""
    fmt = suffix if suffix in ("toml", "json", "csv") else None
    if arg != "-" and fmt is None:
        raise InputError(f"{arg}: unknown targets format (use .toml, .json or .csv)")
    return read_targets(text, where=where, fmt=fmt)


def load_plan(
    arg: str | None, targets: str | None, strategies: list[str] | None = None
) -> Plan | None:
    """A saved plan from PLAN, or None to plan afresh; PLAN excludes --targets and
    --strategy."""
    if arg is not None and targets is not None:
        raise InputError("give either a saved PLAN or --targets, not both")
    if arg is not None and strategies:
        raise InputError("give either a saved PLAN or --strategy, not both")
    if arg is None:
        return None
    from alchemiser_cli.documents import plan_from_text

    text, where = read_source(arg, "plan")
    return plan_from_text(text, where=where)


DetailedExitOpt = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode",
        help="Exit 6 when the plan has orders, 0 when there is nothing to do (errors keep "
        "their codes; a blocking check stays 1).",
    ),
]
BandOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--band", help="Drift band: 0.05 (absolute, 5 points) or 25% (relative). Repeatable."
    ),
]
ToOpt = Annotated[
    str | None, typer.Option("--to", help="Trade out-of-band positions to `target` or `edge`.")
]
ReinvestOpt = Annotated[
    bool,
    typer.Option(
        "--reinvest",
        help="With a band: spend the cash the band's trades leave on positions still under "
        "target, pro rata (default: it stays in cash).",
    ),
]


def fresh_plan_flags(
    plan: str | None, band: list[str] | None, to: str | None, reinvest: bool = False
) -> None:
    """--band, --to and --reinvest shape a fresh plan; a saved one keeps the policy it was
    made with."""
    if plan is not None and (band or to is not None or reinvest):
        raise InputError(
            "--band, --to and --reinvest make a fresh plan; a saved plan keeps its own "
            "policy: drop them or plan afresh"
        )


OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Replace an existing file that alch did not write (never an input)."
    ),
]


def output_for(path: Path | None, flag: str, what: str, overwrite: bool) -> Output | None:
    """The file a flag asks for, or None."""
    from alchemiser_cli.app.outputs import Output

    return None if path is None else Output(path, flag, what, overwrite)


def output_guard(
    outputs: list[Output | None], targets: str | None, strategies: list[str] | None
) -> Callable[[Settings], None] | None:
    """The check `runtime_for` runs first: no output is an input of the run, nor inside
    ALCH_HOME or ALCH_SIM_BARS."""
    chosen = [o for o in outputs if o is not None]
    if not chosen:
        return None
    from alchemiser_cli.app.outputs import refuse_inputs, run_inputs

    def guard(settings: Settings) -> None:
        inputs = run_inputs(settings, targets, strategies or ())
        for output in chosen:
            refuse_inputs(output, settings, inputs)

    return guard


def save_output(ctx: typer.Context, rt: Runtime, output: Output, text: str) -> None:
    """Write the file by alch's one rule and say so on stderr ("saved the plan to FILE")."""
    from alchemiser_cli.app.outputs import write_output

    write_output(rt, output, text)
    if globals_of(ctx).verbosity >= 0:
        sys.stderr.write(f"alch: saved the {output.what} to {redact(str(output.path))}\n")


def emit_json(name: str, document: object) -> None:
    """Print one JSON document on stdout."""
    from alchemiser_cli.documents.schemas import document_json

    sys.stdout.write(redact(document_json(name, document)) + "\n")  # the last wall


def console() -> Console:
    """A console on the current stdout; off a terminal, $COLUMNS wide, else 160."""
    from rich.console import Console

    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit() else 160
    return Console(file=masked(sys.stdout), highlight=False, width=width)


class _Masked(io.TextIOBase):
    """A text stream that masks registered secrets in everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()


def masked(stream: TextIO) -> TextIO:
    """`stream`, with registered secrets masked in every write (the human output's wall)."""
    return cast(TextIO, _Masked(stream))


def stdin_is_tty() -> bool:
    """Whether a person can answer a question (tests replace this)."""
    return sys.stdin is not None and sys.stdin.isatty()  # closed stdin (`<&-`): nobody
