"""The JSON documents and `alch schema` output, pinned byte for byte (issue 25): moving a
record between modules or deriving a document from it must not change one character.

The golden files in tests/reference/documents/ were written by the code before the move;
`PIN_WRITE_GOLDEN=1` rewrites them (only for a deliberate, changelogged change). Run ids
carry a random suffix, so they are replaced by a fixed token before comparing."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli.documents.schemas import SCHEMAS
from tests.conftest import REPO, Run
from tests.test_tax_plan import VTI_HISTORY, account, targets
from tests.test_tax_plan import exact as exact  # a fixture: no collar, no fees

CliFn = Callable[..., Run]
GOLDEN = REPO / "tests" / "reference" / "documents"
STRATEGY = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
SYNTHETIC_WINDOW = ("--from", "2024-01-02", "--to", "2024-03-29")
RUN_ID = re.compile(r"\b(\d{8}T\d{6}Z)-[0-9a-f]{6}\b")


def _pin(name: str, text: str, tmp: Path | None = None) -> None:
    text = RUN_ID.sub(r"\1-RUNID", text).replace(REPO.as_posix(), "REPO")
    text = text if tmp is None else text.replace(tmp.as_posix(), "TMP")
    path = GOLDEN / f"{name}.json"
    if os.environ.get("PIN_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name}: the document changed"


@pytest.mark.parametrize("name", SCHEMAS)
def test_alch_schema_output_is_unchanged(cli: CliFn, name: str) -> None:
    run = cli("schema", name)
    assert run.exit_code == 0
    _pin(f"schema-{name}", run.stdout)


def test_the_simulator_documents_are_unchanged(cli: CliFn) -> None:
    """plan, check, execute, status and the replay of the run, on the demo account."""
    runs = {
        "plan": cli("plan", "--json"),
        "check": cli("check", "--json"),
        "execute": cli("execute", "--yes", "--json"),
        "status": cli("status", "--json"),
        "replay": cli("backtest", "--replay-journal", "--json"),
    }
    for name, run in runs.items():
        assert run.exit_code == 0, (name, run.stderr)
        _pin(name, run.stdout)


def test_the_strategy_documents_are_unchanged(cli: CliFn) -> None:
    """A signal (with its trace), a plan from a strategy and a backtest, on synthetic bars."""
    runs = {
        "signal": cli("signal", STRATEGY, "--json"),
        "plan-strategy": cli("plan", "--strategy", STRATEGY, "--json"),
        "backtest": cli("backtest", "--strategy", STRATEGY, *SYNTHETIC_WINDOW, "--json"),
    }
    for name, run in runs.items():
        assert run.exit_code == 0, (name, run.stderr)
        _pin(name, run.stdout)


def test_a_plan_with_a_wash_sale_is_unchanged(
    cli: CliFn, isolated_state: Path, tmp_path: Path, exact: None
) -> None:
    """The plan's tax estimate with a wash sale (`WashSaleView`, from the ledger's record)."""
    account(isolated_state, tmp_path, VTI_HISTORY)
    run = cli("plan", "--json", "--targets", targets(tmp_path, VTI="30%", BND="70%"))
    assert run.exit_code == 0, run.stderr
    assert '"wash_sales": [\n      {' in run.stdout
    _pin("plan-wash-sale", run.stdout, tmp_path)
