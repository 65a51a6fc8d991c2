"""One rule for every file alch writes (`plan --out`, `backtest --report`): never over an
input of the run, never inside ALCH_HOME, never over a file alch did not write without
--overwrite, and always through a temporary file renamed into place."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, REPO, Run

CliFn = Callable[..., Run]
SMALL = REPO / "examples" / "strategies" / "momentum-or-staples.clj"
# Backtest flags that finish fast on synthetic bars.
SPAN = ("--from", "2024-01-02", "--to", "2024-01-31")


@pytest.fixture
def inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every kind of input a run reads, each a real file."""
    files = {
        "strategy file": tmp_path / "mine.clj",
        "targets file": tmp_path / "t.toml",
        "config file": tmp_path / "cfg.toml",
        "sectors_file": tmp_path / "sectors.toml",
        "simulator seed file": tmp_path / "seed.toml",
    }
    files["strategy file"].write_text(SMALL.read_text(encoding="utf-8"), encoding="utf-8")
    files["targets file"].write_text("[targets]\nVTI = 0.5\nBND = 0.5\n", encoding="utf-8")
    files["sectors_file"].write_text('[sectors]\nVTI = "US"\n', encoding="utf-8")
    files["config file"].write_text(
        f'sectors_file = "{files["sectors_file"]}"\n[planner]\ncash_reserve = 10\n',
        encoding="utf-8",
    )
    files["simulator seed file"].write_text(
        (EXAMPLES / "demo-account.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(files["simulator seed file"]))
    return files


def plan_args(inputs: dict[str, Path], kind: str) -> list[str]:
    """A plan run that reads `kind` (and the config, sectors and seed files)."""
    source = (
        ["--strategy", str(inputs["strategy file"])]
        if kind == "strategy file"
        else ["--targets", str(inputs["targets file"])]
    )
    return ["--config", str(inputs["config file"]), "plan", *source]


def backtest_args(inputs: dict[str, Path], kind: str) -> list[str]:
    source = (
        ["--strategy", str(inputs["strategy file"])]
        if kind == "strategy file"
        else ["--targets", str(inputs["targets file"])]
    )
    return ["--config", str(inputs["config file"]), "backtest", *source, *SPAN]


WRITERS = [("plan", "--out", "plan"), ("backtest", "--report", "report")]
KINDS = ("strategy file", "targets file", "config file", "sectors_file", "simulator seed file")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("command", "flag", "what"), WRITERS)
def test_an_input_of_the_run_is_never_written_over(
    cli: CliFn, inputs: dict[str, Path], kind: str, command: str, flag: str, what: str
) -> None:
    if command == "backtest" and kind == "sectors_file":
        pytest.skip("a backtest reads no sectors")
    target = inputs[kind]
    before = target.read_bytes()
    args = plan_args(inputs, kind) if command == "plan" else backtest_args(inputs, kind)
    run = cli(*args, flag, str(target), "--overwrite")  # not even with --overwrite
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: {flag} {target} is the {kind} of this run: write the {what} elsewhere\n"
    )
    assert target.read_bytes() == before


@pytest.mark.parametrize(("command", "flag", "what"), WRITERS)
def test_a_bars_file_of_the_run_is_never_written_over(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, flag: str,
    what: str,
) -> None:  # fmt: skip
    bars = tmp_path / "bars"
    bars.mkdir()
    csv = bars / "VTI.csv"
    csv.write_text("date,close\n2023-12-29,230\n2024-01-02,231\n", encoding="utf-8")
    monkeypatch.setenv("ALCH_SIM_BARS", str(bars))
    targets = tmp_path / "t.toml"
    targets.write_text("[targets]\nVTI = 1\n", encoding="utf-8")
    before = csv.read_bytes()
    args = ["plan"] if command == "plan" else ["backtest", *SPAN]
    run = cli(*args, "--targets", str(targets), flag, str(csv))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: {flag} {csv} is inside ALCH_SIM_BARS ({bars}), the daily bars of this "
        f"run: write the {what} elsewhere\n"
    )
    assert csv.read_bytes() == before


def state_files(home: Path) -> list[Path]:
    return sorted(p for p in home.rglob("*") if p.is_file())


@pytest.mark.parametrize(("command", "flag", "what"), WRITERS)
def test_no_file_in_alch_home_is_ever_written_over(
    cli: CliFn, isolated_state: Path, command: str, flag: str, what: str
) -> None:
    assert cli("execute", "--yes").exit_code == 0  # journal, simulator, logs, locks, cache
    files = state_files(isolated_state)
    names = {p.relative_to(isolated_state).as_posix() for p in files}
    assert {"journal.sqlite", "sim.sqlite", "logs/alch.log", "cache/nyse-sessions.json"} <= names
    args = ["plan"] if command == "plan" else ["backtest", "--targets", "-", *SPAN]
    for path in files:
        before = {p: p.read_bytes() for p in state_files(isolated_state)}
        run = cli(*args, flag, str(path), "--overwrite", input="VTI,1\n")
        assert (run.exit_code, run.stdout) == (2, ""), path
        assert run.stderr == (
            f"alch: error: {flag} {path} is inside ALCH_HOME ({isolated_state}), alch's own "
            f"state: write the {what} elsewhere\n"
        )
        assert {p: p.read_bytes() for p in state_files(isolated_state)} == before, path
    linked = isolated_state.parent / "link.json"
    linked.symlink_to(isolated_state / "journal.sqlite")  # a link into ALCH_HOME: the same
    run = cli(*args, flag, str(linked), "--overwrite", input="VTI,1\n")
    assert run.exit_code == 2
    assert "is inside ALCH_HOME" in run.stderr


@pytest.mark.parametrize(("command", "flag", "what"), WRITERS)
def test_a_file_alch_did_not_write_needs_overwrite(
    cli: CliFn, tmp_path: Path, command: str, flag: str, what: str
) -> None:
    mine = tmp_path / "notes.txt"
    mine.write_bytes(b"my notes\n")
    args = ["plan"] if command == "plan" else ["backtest", "--targets", "-", *SPAN]
    run = cli(*args, flag, str(mine), input="VTI,1\n")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: {flag} {mine}: the file exists and alch did not write it: pass "
        "--overwrite to replace it\n"
    )
    assert mine.read_bytes() == b"my notes\n"
    forced = cli(*args, flag, str(mine), "--overwrite", input="VTI,1\n")
    assert forced.exit_code == 0, forced.stderr
    assert f"alch: saved the {what} to {mine}\n" in forced.stderr
    assert mine.read_bytes() != b"my notes\n"


def test_a_file_alch_wrote_is_replaced_and_an_edited_one_is_not(cli: CliFn, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    three_fund = str(EXAMPLES / "targets" / "three-fund.toml")
    assert cli("plan", "--json", "--out", str(out)).exit_code == 0
    again = cli("plan", "--targets", three_fund, "--out", str(out))
    assert again.exit_code == 0, again.stderr  # alch wrote it: replaced without asking
    assert again.stderr == f"alch: saved the plan to {out}\n"
    out.write_text(out.read_text(encoding="utf-8") + " ", encoding="utf-8")  # edited since
    edited = cli("plan", "--targets", three_fund, "--out", str(out))
    assert edited.exit_code == 2
    assert "the file exists and alch did not write it" in edited.stderr


def test_the_file_is_replaced_by_a_rename_never_rewritten_in_place(
    cli: CliFn, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    assert cli("plan", "--out", str(out)).exit_code == 0
    alias = tmp_path / "alias.json"
    os.link(out, alias)  # a second name for the first plan's bytes
    first = alias.read_bytes()
    assert cli("plan", "--targets", str(EXAMPLES / "targets" / "sixty-forty.toml"),
               "--out", str(out)).exit_code == 0  # fmt: skip
    assert alias.read_bytes() == first  # the old file was not written into
    assert out.read_bytes() != first
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_quiet_leaves_out_the_saved_line(cli: CliFn, tmp_path: Path) -> None:
    three_fund = str(EXAMPLES / "targets" / "three-fund.toml")
    run = cli("-q", "plan", "--targets", three_fund, "--out", str(tmp_path / "plan.json"))
    assert (run.exit_code, run.stderr) == (0, "")


def test_csv_files_and_the_tax_csv_follow_the_same_rule(
    cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    assert cli("execute", "--yes").exit_code == 0
    journal = isolated_state / "journal.sqlite"
    before = journal.read_bytes()
    tax = cli("tax", "--csv", str(journal), "--overwrite")
    assert (tax.exit_code, tax.stdout) == (2, "")
    assert "is inside ALCH_HOME" in tax.stderr
    for among in (isolated_state, isolated_state / "cache" / "csv", isolated_state / "logs"):
        inside = cli("backtest", "--targets", "-", *SPAN, "--csv", str(among), input="VTI,1\n")
        assert inside.exit_code == 2
        assert "is inside ALCH_HOME" in inside.stderr
    assert not (isolated_state / "cache" / "csv").exists()
    assert journal.read_bytes() == before
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "equity.csv").write_text("mine\n", encoding="utf-8")
    foreign = cli("backtest", "--targets", "-", *SPAN, "--csv", str(folder), input="VTI,1\n")
    assert foreign.exit_code == 2
    assert "equity.csv: the file exists and alch did not write it" in foreign.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["equity.csv"]  # none written
    assert (folder / "equity.csv").read_text(encoding="utf-8") == "mine\n"


def test_a_new_file_may_sit_beside_alchs_state_never_among_it(
    cli: CliFn, isolated_state: Path
) -> None:
    """`$ALCH_HOME/report.html` (where ../shared/journeys.py puts its report) is a file of
    the user's beside alch's state: written, and alch's own files unchanged; a name of
    alch's own (or its SQLite side files) is refused."""
    assert cli("execute", "--yes").exit_code == 0
    account = (isolated_state / "sim.sqlite").read_bytes()
    page = isolated_state / "report.html"
    run = cli("backtest", "--targets", "-", *SPAN, "--report", str(page), input="VTI,1\n")
    assert run.exit_code == 0, run.stderr
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert (isolated_state / "sim.sqlite").read_bytes() == account
    status = cli("status", "--json")  # the journal (which noted the page's digest) is whole
    assert status.exit_code == 0, status.stderr
    assert status.json()["runs"][0]["outcome"] == "completed"
    for name in ("journal.sqlite-wal", "sim.sqlite-journal", "ratelimit"):
        refused = cli("plan", "--out", str(isolated_state / name))
        assert refused.exit_code == 2
        assert "is inside ALCH_HOME" in refused.stderr
        assert not (isolated_state / name).exists()
