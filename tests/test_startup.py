"""Start-up (issue 16): a command imports what it needs when it runs. `--help`,
`--version` and a completion request load no pydantic-settings, no pydantic, no document
schemas; a plan on the simulator loads no pandas, alpaca-py or exchange-calendars, nor do
`check` and `status` once the NYSE session table is warm. The framework's floor in
bench/ has alch's command tree, word for word."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from alchemiser_cli.cli.app import app
from tests.conftest import REPO

HEAVY = (
    "pydantic",
    "pydantic_settings",
    "rich.console",
    "pandas",
    "exchange_calendars",
    "alpaca",
    "alchemiser_cli.settings",
    "alchemiser_cli.documents.schemas",
    "alchemiser_cli.documents.reports",
    "alchemiser_cli.executor",
    "alchemiser_cli.brokers.alpaca",
)
# Runs `alch ARGS...` in a fresh interpreter; writes which of HEAVY it imported.
RUNNER = """
import json, runpy, sys
sys.argv = ["alch", *sys.argv[2:]]
try:
    if FLOOR:
        runpy.run_path(FLOOR, run_name="__main__")
    else:
        from alchemiser_cli.cli.entry import main
        main()
except SystemExit as exc:
    code = exc.code
with open(OUT, "w") as out:
    json.dump({"code": code, "loaded": [m for m in HEAVY if m in sys.modules]}, out)
"""


def _loaded(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, floor: bool = False
) -> list[str]:
    out = tmp_path / "loaded.json"
    where = str(REPO / "bench" / "typer_floor.py") if floor else ""
    script = f"OUT = {str(out)!r}\nHEAVY = {HEAVY!r}\nFLOOR = {where!r}\n{RUNNER}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("APCA_", "ALCH_"))}
    environ.update(ALCH_HOME=str(tmp_path / "home"), ALCH_BROKER="sim", **(env or {}))
    environ["PYTHONPATH"] = str(REPO)  # this checkout's alch, wherever the venv points
    subprocess.run(
        [sys.executable, "-c", script, "-", *args],
        env=environ,
        capture_output=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["code"] in (0, 1, None), result
    loaded: list[str] = result["loaded"]
    return loaded


COMPLETE = {"_ALCH_COMPLETE": "complete_bash", "COMP_WORDS": "alch st", "COMP_CWORD": "1"}


@pytest.mark.parametrize(
    ("args", "env", "framework"),
    [
        (("--version",), {}, []),
        (("--help",), {}, ["rich.console"]),  # typer renders help with rich
        (("execute", "--help"), {}, ["pydantic", "rich.console"]),  # typer: list[str] params
        ((), COMPLETE, ["pydantic"]),  # typer's coercion of parameter types
    ],
)
def test_start_up_loads_only_what_the_framework_does(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], framework: list[str]
) -> None:
    assert _loaded(tmp_path, *args, env=env) == framework
    assert _loaded(tmp_path, *args, env=env, floor=True) == framework


def test_plan_check_status_on_the_simulator_load_no_pandas_alpaca_or_calendar(
    tmp_path: Path,
) -> None:
    now = {"ALCH_SIM_NOW": "2026-11-24T15:00:00+00:00"}
    assert "exchange_calendars" in _loaded(tmp_path, "status", env=now)  # builds the table
    runs: dict[tuple[str, ...], list[str]] = {}
    for args in (("plan", "--json"), ("plan",), ("check",), ("status",), ("status", "--json")):
        runs[args] = loaded = _loaded(tmp_path, *args, env=now)
        assert not {
            "pandas",
            "exchange_calendars",
            "alpaca",
            "alchemiser_cli.brokers.alpaca",
        } & set(loaded), (args, loaded)
    assert "alchemiser_cli.executor" not in runs["plan", "--json"]
    assert "alchemiser_cli.documents.reports" not in runs["plan", "--json"]


def _floor() -> ModuleType:
    spec = importlib.util.spec_from_file_location("typer_floor", REPO / "bench" / "typer_floor.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["plan"],
        ["check"],
        ["execute"],
        ["status"],
        ["reconcile"],
        ["schema"],
        ["signal"],
        ["backtest"],
        ["tax"],
        ["sim"],
        ["sim", "reset"],
    ],
)
def test_the_floor_has_alchs_command_tree(args: list[str]) -> None:
    runner = CliRunner()
    ours = runner.invoke(app, [*args, "--help"], prog_name="alch", env={"COLUMNS": "100"})
    floor = runner.invoke(_floor().app, [*args, "--help"], prog_name="alch", env={"COLUMNS": "100"})
    assert ours.exit_code == 0
    assert ours.stdout == floor.stdout
