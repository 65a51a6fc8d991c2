"""`alch sim`: manage the embedded simulated account."""

from __future__ import annotations

import sys

import typer

from alchemiser_cli.cli.common import globals_of

app = typer.Typer(help="Manage the embedded simulated broker.", no_args_is_help=True)


@app.command()
def reset(ctx: typer.Context) -> None:
    """Restore the simulated account to its seed file (drops its orders and fills)."""
    from alchemiser_cli.app.simulator import reset_simulator  # here: start-up stays light
    from alchemiser_cli.settings import load_settings

    seed, recreated = reset_simulator(load_settings(globals_of(ctx).config))
    if recreated:
        sys.stderr.write(f"alch: simulator database was damaged: recreated it from {seed}\n")
    else:
        sys.stderr.write(f"alch: simulator reset from {seed}\n")
