"""The `alch` application: global options and the command table."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click  # the click typer bundles (typer.Context is its subclass)
from typer.core import TyperGroup, TyperOption

from alchemiser_cli import __version__
from alchemiser_cli.cli import (
    backtest,
    check,
    common,
    completion,
    execute,
    plan,
    reconcile,
    report,
    schema,
    signal,
    sim,
    status,
    streams,
    tax,
)
from alchemiser_cli.cli.common import GlobalOptions
from alchemiser_cli.cli.errors import exit_code_for_result, reported_errors
from alchemiser_cli.errors import ExitCode


class Commands(TyperGroup):
    """The command table; running a command is the one place where its failures and its
    result become an exit code (cli/errors.py)."""

    def invoke(self, ctx: _click.Context) -> Any:
        def traceback_wanted() -> bool:  # --traceback, parsed by the time anything fails
            options = ctx.find_root().obj
            return isinstance(options, common.GlobalOptions) and options.traceback

        with reported_errors(traceback_wanted):
            result = super().invoke(ctx)
        code = exit_code_for_result(result)
        if code is not ExitCode.OK:
            raise typer.Exit(int(code))
        return result


def _no_type_for_flags() -> None:
    """Typer's help shows a flag such as `--yes` as taking a `<bool>`, which it does not
    (`--yes true` is an error): show no type for flags, as click does."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: _click.Context) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_no_type_for_flags()
app = typer.Typer(
    cls=Commands,
    name="alch",
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Keep a brokerage account at its target allocation: plan, check, execute, status.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=False,  # cli/completion.py: the shell is named, not guessed
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alch {__version__}")
        raise typer.Exit(int(ExitCode.OK))


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
    install_completion: completion.InstallCompletionOpt = None,
    show_completion: completion.ShowCompletionOpt = None,
) -> None:
    """Keep a brokerage account at its target allocation."""
    ctx.obj = GlobalOptions(
        config=config, broker=broker, verbosity=-1 if quiet else verbose, traceback=traceback
    )


app.command()(plan.plan)
app.command()(check.check)
app.command()(execute.execute)
app.command()(status.status)
app.command()(reconcile.reconcile)
app.command()(schema.schema)
app.command()(signal.signal)
app.command()(backtest.backtest)
app.command()(report.report)
app.command()(tax.tax)
app.add_typer(sim.app, name="sim")


def main() -> None:
    """Console-script entry point: the standard streams made safe, then the command; every
    way out is one exit code (see README "Exit codes")."""
    problem = streams.prepare()
    if problem is not None:
        sys.stderr.write(f"alch: error: {problem}\n")
        raise SystemExit(int(ExitCode.USAGE))
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code
        # Typer turns a Ctrl-C outside alch's own handling (while parsing the command
        # line) into a silent exit 130; say what happened, as everywhere else.
        stopped = exc.__context__
        if stopped is not None and isinstance(stopped.__cause__, KeyboardInterrupt):
            sys.stderr.write("alch: error: interrupted\n")
    lost = streams.finish()
    if lost is not None:
        sys.stderr.write(f"alch: error: {lost}\n")
        if code in (0, None):
            code = int(ExitCode.OUTPUT)
    raise SystemExit(code)
