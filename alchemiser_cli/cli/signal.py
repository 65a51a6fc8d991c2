"""`alch signal FILE...`: parse the flags, evaluate (app/signal.py), print the decision tree
and the targets."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alchemiser_cli.cli.common import (
    JsonOpt,
    console,
    emit_json,
    globals_of,
    runtime_for,
)

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


def signal(
    ctx: typer.Context,
    files: FilesArg,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    fragile_margin: FragileOpt = "2%",
) -> None:
    """Evaluate strategy files on daily bars: the decision tree and the target weights."""
    from alchemiser_cli import api  # imported here: start-up stays light
    from alchemiser_cli.render.signal import render_signal

    opts = globals_of(ctx)
    with runtime_for(ctx) as rt:
        run = api.signal_run(files, as_of=as_of, fragile_margin=fragile_margin, runtime=rt)
        blend = run.blend
        if any(r.synthetic for r, _ in blend.results) and opts.verbosity >= 0:
            sys.stderr.write(
                "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, "
                "not market data\n"
            )
        if json_out:
            emit_json("targets", run.document)
        else:
            render_signal(console(), blend)


__all__ = ["signal"]
