"""The framework's floor for start-up (issue 16): a minimal Typer app with alch's command
tree (the same commands, options, arguments and help texts as of issue 16; no imports of
alch, no work). `bench/startup.py` runs it side by side with `alch`. Keep it in step when a
command or option is added (a test checks the trees match)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer import _click
from typer._completion_classes import completion_init
from typer._completion_shared import Shells
from typer.core import TyperOption

completion_init()  # as alch's cli/completion.py: Typer's own options are off

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
TargetsOpt = Annotated[
    str | None,
    typer.Option("--targets", "-t", help="Targets file (.toml, .json, .csv) or - for stdin."),
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
StrategyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--strategy",
        help="Targets from a strategy file (.clj), as `alch signal` computes them; "
        "FILE=0.6 blends by weight. Repeatable.",
    ),
]
AllowOpenOrdersOpt = Annotated[
    bool,
    typer.Option(
        "--allow-open-orders",
        help="Trade symbols that have open orders (a warning; the orders stay open).",
    ),
]
CancelOpenOpt = Annotated[
    bool, typer.Option("--cancel-open", hidden=True, help="Deprecated: --allow-open-orders.")
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
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Also write the plan JSON to this file.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Send without asking (for cron).")]
LiveOpt = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Send to a LIVE Alpaca account (also needs ALCH_LIVE=1; asks for the "
        "account number unless --yes).",
    ),
]
DeadlineOpt = Annotated[
    str | None,
    typer.Option(
        "--deadline", help="Stop the run after this long: 90s, 15m, 1h (default: config, 15m)."
    ),
]
OrderTypeOpt = Annotated[
    str | None,
    typer.Option(
        "--order-type",
        help="limit (default: marketable limits inside the collar) or market (size limits "
        "still apply).",
    ),
]
CloseWindowOpt = Annotated[
    str | None,
    typer.Option(
        "--close-window",
        help="Trade only in this last stretch before today's close, e.g. 25m (early closes "
        "count); outside it: nothing to do, exit 0. For cron.",
    ),
]
RunsOpt = Annotated[int, typer.Option("--runs", min=1, max=1000, help="How many recent runs.")]
RunOpt = Annotated[
    str | None,
    typer.Option("--run", help="Show one run in full: its id, a unique prefix, or `last`."),
]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Replace an existing file that alch did not write (never an input)."
    ),
]
DetailedExitOpt = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode",
        help="Exit 6 when the plan has orders, 0 when there is nothing to do (errors keep "
        "their codes; a blocking check stays 1).",
    ),
]
FilesArg = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE", help="Strategy files (.clj); FILE=0.6 blends by weight (default: equal)."
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate on the bars through this date (YYYY-MM-DD)."),
]
FragileOpt = Annotated[
    str,
    typer.Option(
        "--fragile-margin",
        help="Mark a decision fragile within this relative margin of flipping (2% default).",
    ),
]


def _no_type_for_flags() -> None:
    """As alch does: no `<bool>` type shown for a flag."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: _click.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()
app = typer.Typer(
    name="alch",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Keep a brokerage account at its target allocation: plan, check, execute, status.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo("alch 0.1.0")
        raise typer.Exit(0)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (default ./alch.toml).")
    ] = None,
    broker: Annotated[
        str | None, typer.Option("--broker", help="sim or alpaca (default: alpaca if keys set).")
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Errors only on stderr.")] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the Python traceback of a failure.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    install_completion: Annotated[
        Shells | None,
        typer.Option(
            "--install-completion",
            is_eager=True,
            expose_value=False,
            metavar="SHELL",
            help="Install completion for SHELL (bash, zsh, fish, powershell, pwsh).",
        ),
    ] = None,
    show_completion: Annotated[
        Shells | None,
        typer.Option(
            "--show-completion",
            is_eager=True,
            expose_value=False,
            metavar="SHELL",
            help="Print the completion script for SHELL (bash, zsh, fish, powershell, pwsh).",
        ),
    ] = None,
) -> None:
    """Keep a brokerage account at its target allocation."""


@app.command()
def plan(
    ctx: typer.Context,
    targets: TargetsOpt = None,
    json_out: JsonOpt = False,
    out: OutOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
    liquidate: LiquidateOpt = False,
    strategy: StrategyOpt = None,
    overwrite: OverwriteOpt = False,
    detailed_exitcode: DetailedExitOpt = False,
) -> None:
    """Show what it would take to reach the targets. Nothing is sent."""


@app.command()
def check(
    ctx: typer.Context,
    plan: PlanArg = None,
    targets: TargetsOpt = None,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    allow_open: AllowOpenOrdersOpt = False,
    cancel_open: CancelOpenOpt = False,
    queue_for_open: QueueOpt = False,
    liquidate: LiquidateOpt = False,
    strategy: StrategyOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
    detailed_exitcode: DetailedExitOpt = False,
) -> None:
    """Check a plan against limits, the account and the market; exit 1 if anything blocks."""


@app.command()
def execute(
    ctx: typer.Context,
    plan: PlanArg = None,
    targets: TargetsOpt = None,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
    allow_open: AllowOpenOrdersOpt = False,
    cancel_open: CancelOpenOpt = False,
    queue_for_open: QueueOpt = False,
    liquidate: LiquidateOpt = False,
    live: LiveOpt = False,
    deadline: DeadlineOpt = None,
    order_type: OrderTypeOpt = None,
    close_window: CloseWindowOpt = None,
    strategy: StrategyOpt = None,
    band: BandOpt = None,
    to: ToOpt = None,
    reinvest: ReinvestOpt = False,
) -> None:
    """Send the plan's orders after the checks pass and you confirm (or --yes)."""


@app.command()
def status(
    ctx: typer.Context,
    json_out: JsonOpt = False,
    runs: RunsOpt = 5,
    run: RunOpt = None,
    targets: TargetsOpt = None,
) -> None:
    """Show the account, positions, open orders and the journal's recent runs.

    Drift is against --targets, else the targets of the last run that sent orders, else
    the configured ones.
    """


@app.command()
def reconcile(
    ctx: typer.Context,
    accept: Annotated[
        bool,
        typer.Option(
            "--accept",
            help="Take the broker's word for every disputed order (journaled as it says).",
        ),
    ] = False,
) -> None:
    """Settle unfinished runs and late orders with the broker; list disputed orders.

    Disputed: the broker's answer cannot be true (more filled than ordered, say).
    """


@app.command()
def schema(
    name: Annotated[
        str, typer.Argument(help="plan, check, execute, status, targets, backtest or replay")
    ],
) -> None:
    """Print the JSON Schema of `alch NAME --json`."""


@app.command()
def signal(
    ctx: typer.Context,
    files: FilesArg,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    fragile_margin: FragileOpt = "2%",
) -> None:
    """Evaluate strategy files on daily bars: the decision tree and the target weights."""


BtStrategyOpt = Annotated[
    list[str] | None,
    typer.Option("--strategy", "-s", help="Strategy file (.clj); repeatable, FILE=0.6 blends."),
]
BtFromOpt = Annotated[str | None, typer.Option("--from", help="First session (YYYY-MM-DD).")]
BtToOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--to", help="Last session (YYYY-MM-DD); also `--to edge` or `--to target` for bands."
    ),
]
BtCashOpt = Annotated[str, typer.Option("--cash", help="Starting cash in USD.")]
BtSpreadOpt = Annotated[
    str, typer.Option("--spread", help="Full bid/ask spread in basis points (half paid a trade).")
]
BtBenchOpt = Annotated[
    str | None, typer.Option("--benchmark", help="Buy-and-hold symbol to compare with (SPY).")
]
BtWholeOpt = Annotated[bool, typer.Option("--whole-shares", help="Trade whole shares only.")]
BtRiskFreeOpt = Annotated[
    str, typer.Option("--risk-free", help="Annual risk-free rate for Sharpe/Sortino (0.02).")
]
BtReplayOpt = Annotated[
    bool,
    typer.Option(
        "--replay-journal",
        help="Hold the journal's live runs against the backtest's day: targets, orders, fills.",
    ),
]
BtRunsOpt = Annotated[int, typer.Option("--runs", min=1, help="How many live runs to replay.")]
BtTaxOpt = Annotated[
    bool,
    typer.Option("--tax", help="Also report realised gains per year and wash sales (amounts)."),
]
BtReportOpt = Annotated[
    Path | None,
    typer.Option("--report", help="Also write the interactive tearsheet (one HTML file)."),
]
BtCsvOpt = Annotated[
    Path | None,
    typer.Option("--csv", help="Also write equity, weights, trades and monthly returns as CSV."),
]
ReportToOpt = Annotated[str | None, typer.Option("--to", help="Last session (YYYY-MM-DD).")]


@app.command()
def backtest(
    ctx: typer.Context,
    start: BtFromOpt = None,
    to: BtToOpt = None,
    strategy: BtStrategyOpt = None,
    targets: TargetsOpt = None,
    cash: BtCashOpt = "100000",
    band: BandOpt = None,
    reinvest: ReinvestOpt = False,
    spread: BtSpreadOpt = "5",
    benchmark: BtBenchOpt = None,
    whole_shares: BtWholeOpt = False,
    risk_free: BtRiskFreeOpt = "0",
    json_out: JsonOpt = False,
    report: BtReportOpt = None,
    csv_dir: BtCsvOpt = None,
    replay_journal: BtReplayOpt = False,
    runs: BtRunsOpt = 20,
    tax: BtTaxOpt = False,
    overwrite: OverwriteOpt = False,
) -> None:
    """Run strategies or fixed targets over history with the real planner and costs."""


@app.command()
def report(
    ctx: typer.Context,
    start: BtFromOpt = None,
    to: ReportToOpt = None,
    strategy: BtStrategyOpt = None,
    targets: TargetsOpt = None,
    benchmark: BtBenchOpt = None,
    spread: BtSpreadOpt = "5",
    whole_shares: BtWholeOpt = False,
    risk_free: BtRiskFreeOpt = "0",
    page: BtReportOpt = None,
    csv_dir: BtCsvOpt = None,
    overwrite: OverwriteOpt = False,
) -> None:
    """The live account measured: its tearsheet, and against the backtest of its strategy."""


TaxYearOpt = Annotated[
    str | None,
    typer.Option("--year", help="Calendar year, 2000 to 2100 (default: this year)."),
]
TaxCsvOpt = Annotated[
    str | None,
    typer.Option("--csv", help="Write the lots as CSV to FILE (- for stdout).", metavar="FILE"),
]
TaxOverwriteOpt = OverwriteOpt


@app.command()
def tax(
    ctx: typer.Context,
    year: TaxYearOpt = None,
    csv: TaxCsvOpt = None,
    overwrite: TaxOverwriteOpt = False,
) -> None:
    """List the lots sold in a year, from the broker's fills (not tax advice).

    Per lot (FIFO): acquired, sold, proceeds, basis, wash-sale adjustment, gain, term."""


sim = typer.Typer(help="Manage the embedded simulated broker.", no_args_is_help=True)


@sim.command()
def reset(ctx: typer.Context) -> None:
    """Restore the simulated account to its seed file (drops its orders and fills)."""


app.add_typer(sim, name="sim")

if __name__ == "__main__":
    app(prog_name="alch")
