"""`alch sim`: manage the embedded simulated account."""

from __future__ import annotations

import sys

import typer

from alchemiser_cli.app.simulator import reset_simulator
from alchemiser_cli.cli.common import globals_of
from alchemiser_cli.cli.errors import reported_errors
from alchemiser_cli.settings import load_settings

app = typer.Typer(help="Manage the embedded simulated broker.", no_args_is_help=True)


@app.command()
def reset(ctx: typer.Context) -> None:
    """Restore the simulated account to its seed file (drops its orders and fills)."""
    opts = globals_of(ctx)
    with reported_errors(opts.traceback):
        seed, recreated = reset_simulator(load_settings(opts.config))
        if recreated:
            sys.stderr.write(f"alch: simulator database was damaged: recreated it from {seed}\n")
        else:
            sys.stderr.write(f"alch: simulator reset from {seed}\n")
