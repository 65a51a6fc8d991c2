"""`alch tax`: the lots sold in a year, as a table or CSV (estimates, not tax advice)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from alchemiser_cli.cli.common import console, output_guard, runtime_for, save_output
from alchemiser_cli.errors import InputError

YearOpt = Annotated[
    str | None,
    typer.Option("--year", help="Calendar year, 2000 to 2100 (default: this year)."),
]
CsvOpt = Annotated[
    str | None,
    typer.Option("--csv", help="Write the lots as CSV to FILE (- for stdout).", metavar="FILE"),
]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Replace an existing file that alch did not write (never an input)."
    ),
]


def tax(
    ctx: typer.Context, year: YearOpt = None, csv: CsvOpt = None, overwrite: OverwriteOpt = False
) -> None:
    """List the lots sold in a year, from the broker's fills (not tax advice).

    Per lot (FIFO): acquired, sold, proceeds, basis, wash-sale adjustment, gain, term."""
    from alchemiser_cli.app.outputs import Output, refuse_foreign
    from alchemiser_cli.app.tax import year_lots
    from alchemiser_cli.core.calendar import NEW_YORK
    from alchemiser_cli.render.tax import csv_text, render_year

    asked = None if year is None else year.strip()
    if asked is not None and not (asked.isdigit() and 2000 <= int(asked) <= 2100):
        raise InputError(f"--year {year!r}: give a calendar year from 2000 to 2100, e.g. 2026")
    sheet = None if csv in (None, "-") else Output(Path(csv), "--csv", "CSV file", overwrite, True)
    with runtime_for(ctx, before=output_guard([sheet], None, None)) as rt:
        if sheet is not None:
            refuse_foreign(rt, sheet)
        if not rt.settings.tax.on:
            raise InputError(
                '[tax] account = "ira": a tax-advantaged account has no taxable lots to report'
            )
        chosen = int(asked) if asked else rt.broker.now().astimezone(NEW_YORK).year
        lots, totals = year_lots(rt, chosen)
        if csv is None:
            render_year(console(), lots, totals)
            return
        text = csv_text(lots, chosen)
        if sheet is None:
            sys.stdout.write(text)
        else:
            save_output(ctx, rt, sheet, text)
        rt.notices.append(
            f"{len(lots)} lots sold in {chosen}{'' if csv == '-' else ' written to ' + csv}: "
            "estimates for your own records, not tax advice"
        )
