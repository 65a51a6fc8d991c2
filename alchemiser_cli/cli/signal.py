"""`alch signal FILE...`: parse the flags, evaluate (app/signal.py), print the decision tree
and the targets."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from alchemiser_cli.cli.common import (
    JsonOpt,
    console,
    emit_json,
    globals_of,
    parse_day,
    runtime_for,
)
from alchemiser_cli.errors import InputError

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


def _margin(raw: str) -> Decimal:
    text = raw.strip()
    try:
        value = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or not Decimal(0) <= value < 1:
        raise InputError(f"--fragile-margin {raw!r}: give a fraction such as 0.02 or 2%")
    return value


def signal(
    ctx: typer.Context,
    files: FilesArg,
    json_out: JsonOpt = False,
    as_of: AsOfOpt = None,
    fragile_margin: FragileOpt = "2%",
) -> None:
    """Evaluate strategy files on daily bars: the decision tree and the target weights."""
    from alchemiser_cli.app.signal import signal as signal_of  # here: start-up stays light
    from alchemiser_cli.documents.targets import targets_document
    from alchemiser_cli.render.signal import render_signal

    opts = globals_of(ctx)
    with runtime_for(ctx) as rt:
        day: date | None = None if as_of is None else parse_day(as_of, "--as-of")
        margin = _margin(fragile_margin)
        blend, symbols = signal_of(rt, files, day, margin)
        if any(r.synthetic for r, _ in blend.results) and opts.verbosity >= 0:
            sys.stderr.write(
                "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, "
                "not market data\n"
            )
        if json_out:
            emit_json("targets", targets_document(blend, margin, symbols))
        else:
            render_signal(console(), blend)


__all__ = ["signal"]
