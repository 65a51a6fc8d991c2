"""The one place a tearsheet's files are written (`--report FILE.html`, `--csv DIR`) for
`alch backtest` and `alch report`, each through `outputs.write_output`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alchemiser_cli.documents.tearsheet import Tearsheet


def save_tearsheet(sheet: Tearsheet, page: Path | None, csv_dir: Path | None) -> None:
    """Write the HTML page and the CSV files asked for (each through `write_output`)."""
    from alchemiser_cli.outputs import output_dir, write_output

    if page is not None:
        from alchemiser_cli.render.tearsheet.page import tearsheet_html

        write_output(page, tearsheet_html(sheet), "report")
    if csv_dir is not None:
        from alchemiser_cli.documents.tearsheet_csv import csv_files

        folder = output_dir(csv_dir, "CSV")
        for name, text in csv_files(sheet).items():
            write_output(folder / name, text, "CSV file")
