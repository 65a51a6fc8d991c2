"""The one place a tearsheet's files are written (`--report FILE.html`, `--csv DIR`) for
`alch backtest` and `alch report`, each through `outputs.write_output`: never inside
ALCH_HOME nor over a file the run reads (as `--out` and `alch tax --csv`), and private to
their owner when they hold the live account's figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alchemiser_cli.documents.tearsheet import Tearsheet
    from alchemiser_cli.outputs import Inputs
    from alchemiser_cli.settings import Settings


def run_inputs(settings: Settings, targets: str | None, strategies: list[str] | None) -> Inputs:
    """The files this run reads, which its outputs must not replace."""
    files = [*(strategies or []), *(settings.strategies or {})]
    return [
        *(("strategy file", Path(f.rsplit("=", 1)[0] if "=" in f else f)) for f in files),
        ("targets file", None if targets in (None, "-") else Path(str(targets))),
        ("config file", settings.config_path),
        ("targets_file", settings.targets_file),
        ("sectors_file", settings.sectors_file),
        ("simulator seed file", settings.sim_account),
    ]


def refuse_outputs(
    settings: Settings, page: Path | None, csv_dir: Path | None, inputs: Inputs
) -> None:
    """Refuse, before any work, a page or CSV folder alch must not write (one line)."""
    from alchemiser_cli.outputs import refuse_overwrite

    for path in (page, csv_dir):
        if path is not None:
            refuse_overwrite(path, settings.state_dir, inputs, beside_state=True)


def save_tearsheet(
    sheet: Tearsheet,
    page: Path | None,
    csv_dir: Path | None,
    *,
    settings: Settings,
    inputs: Inputs = (),
    private: bool = False,
) -> None:
    """Write the HTML page and the CSV files asked for (each through `write_output`)."""
    from alchemiser_cli.outputs import output_dir, write_output

    home = settings.state_dir
    refuse_outputs(settings, page, csv_dir, inputs)
    if page is not None:
        from alchemiser_cli.render.tearsheet.page import tearsheet_html

        html = tearsheet_html(sheet)
        write_output(page, html, "report", state_dir=home, inputs=inputs, private=private)
    if csv_dir is not None:
        from alchemiser_cli.documents.tearsheet_csv import csv_files

        folder = output_dir(csv_dir, "CSV", state_dir=home)
        for name, text in csv_files(sheet).items():
            write_output(
                folder / name, text, "CSV file", state_dir=home, inputs=inputs, private=private
            )
