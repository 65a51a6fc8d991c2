"""The one place a tearsheet's files are written (`--report FILE.html`, `--csv DIR`) for
`alch backtest` and `alch report`, each by alch's one rule for the files it writes for you
(`app/outputs.py`: never over an input or alch's own state, `--overwrite` for a file alch
did not write, a temporary file renamed into place)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from alchemiser_cli.app.outputs import Output
    from alchemiser_cli.app.runtime import Runtime
    from alchemiser_cli.documents.tearsheet import Tearsheet


def save_tearsheet(
    ctx: typer.Context, rt: Runtime, sheet: Tearsheet, page: Output | None, csv: Output | None
) -> None:
    """Write the HTML page and the CSV files asked for: every file checked first (none
    written when one may not be), then each written and said so."""
    from alchemiser_cli.app.outputs import Output, refuse_foreign
    from alchemiser_cli.cli.common import save_output
    from alchemiser_cli.outputs import output_dir

    files: list[tuple[Output, str]] = []
    if page is not None:
        from alchemiser_cli.render.tearsheet.page import tearsheet_html

        files.append((page, tearsheet_html(sheet)))
    if csv is not None:
        from alchemiser_cli.documents.tearsheet_csv import csv_files

        folder = output_dir(csv.path, "CSV")
        for name, text in csv_files(sheet).items():
            files.append(
                (Output(folder / name, csv.flag, "CSV file", csv.overwrite, csv.private), text)
            )
    for output, _ in files:
        refuse_foreign(rt, output)
    for output, text in files:
        save_output(ctx, rt, output, text)
