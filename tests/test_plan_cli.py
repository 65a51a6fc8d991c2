"""`alch plan` from the command line: targets from every source, planner flags, bands, --out."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, FileMaker, Run, plan_json

CliFn = Callable[..., Run]


def test_plan_shows_the_demo_plan_and_says_it_used_demo_targets(cli: CliFn) -> None:
    result = cli("plan")
    assert result.exit_code == 0
    assert "Plan " in result.stdout
    assert "for sim:SIM-DEMO-0001" in result.stdout
    assert "not in targets" in result.stdout  # AAPL is sold, and the table says why
    assert result.stderr == (
        "alch: note: no targets given: using the demo targets "
        "(examples/targets/three-fund.toml); pass --targets FILE to use your own\n"
    )


def test_plan_json_is_one_document_with_decimal_strings(cli: CliFn) -> None:
    result = cli("plan", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 2
    assert len(doc["plan_id"]) == 16
    assert doc["created_at"] == "2026-11-24T15:00:00Z"
    assert doc["account"] == {"equity": "81028.4", "cash": "12000", "buying_power": "12000"}
    assert [(o["leg"], o["side"], o["symbol"]) for o in doc["orders"]] == [
        (1, "sell", "AAPL"),
        (2, "sell", "VTI"),
        (3, "buy", "BND"),
        (4, "buy", "VXUS"),
    ]
    first = doc["orders"][0]
    assert first["qty"] == "40"
    assert first["limit_price"] == "264.08"  # 265.40 less 50 bps, rounded up to the cent
    assert first["notional"] is None
    assert set(first) >= {"est_price", "est_value", "est_cost"}
    aapl = next(p for p in doc["positions"] if p["symbol"] == "AAPL")
    assert aapl["rule"] == "not_in_targets"
    assert aapl["target_weight"] == "0"
    assert aapl["post_weight"] == "0"
    assert set(doc["summary"]) >= {"turnover", "est_cash_after"}
    assert doc["skipped"] == []
    for value in (doc["summary"]["turnover"], doc["summary"]["est_cash_after"]):
        assert isinstance(value, str)
        Decimal(value)


def test_plan_id_is_stable_across_runs(cli: CliFn) -> None:
    assert json.loads(plan_json(cli))["plan_id"] == json.loads(plan_json(cli))["plan_id"]


def test_plan_out_writes_the_same_plan(cli: CliFn, tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = cli("plan", "--out", str(out))
    assert result.exit_code == 0
    assert json.loads(out.read_text())["plan_id"] == json.loads(plan_json(cli))["plan_id"]


def test_plan_out_to_an_unwritable_place_is_a_clean_error(cli: CliFn, tmp_path: Path) -> None:
    result = cli("plan", "--out", str(tmp_path / "missing" / "plan.json"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"alch: error: {tmp_path / 'missing' / 'plan.json'}: cannot write the plan: "
        "No such file or directory"
    )


@pytest.mark.parametrize("name", ["sixty-forty.toml", "three-fund.toml", "equal-weight-20.csv"])
def test_every_example_targets_file_plans_and_passes_checks(cli: CliFn, name: str) -> None:
    target = str(EXAMPLES / "targets" / name)
    assert cli("plan", "--targets", target).exit_code == 0
    checked = cli("check", "--targets", target)
    assert checked.exit_code == 0, checked.stdout
    assert "OK to execute" in checked.stdout


def test_targets_from_stdin(cli: CliFn) -> None:
    result = cli("plan", "--json", "--targets", "-", input="[targets]\nVTI = 1\n")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["targets"] == {"VTI": "1"}
    assert result.stderr == ""


def test_json_targets_file(cli: CliFn, make_file: FileMaker) -> None:
    path = make_file("t.json", '{"targets": {"vti": "70%", "bnd": 0.3}}')
    doc = json.loads(plan_json(cli, "--targets", str(path)))
    assert doc["targets"] == {"BND": "0.3", "VTI": "0.7"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("t.toml", "[targets]\nVTI = 0.8\nBND = 0.3\n", "t.toml: weights add up to 110%"),
        ("t.csv", "VTI,0.5\nVTI,0.2\n", "t.csv: line 2: VTI is listed twice"),
        ("t.json", '{"VTI": -1}', "t.json: VTI: weight -1 is negative"),
        ("t.yaml", "VTI: 1", "t.yaml: unknown targets format (use .toml, .json or .csv)"),
        ("t.toml", "[targets]\nzz zz = 0.5\n", "t.toml: not valid TOML"),
    ],
)
def test_bad_targets_files_exit_2_with_one_line(
    cli: CliFn, make_file: FileMaker, name: str, text: str, message: str
) -> None:
    path = make_file(name, text)
    result = cli("plan", "--targets", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert lines[0].startswith("alch: error: ")


def test_missing_directory_and_binary_targets_are_clean_errors(cli: CliFn, tmp_path: Path) -> None:
    missing = cli("plan", "--targets", str(tmp_path / "nope.toml"))
    assert (missing.exit_code, missing.stderr) == (
        2,
        f"alch: error: {tmp_path / 'nope.toml'}: targets file not found\n",
    )
    folder = tmp_path / "dir.toml"
    folder.mkdir()
    assert cli("plan", "--targets", str(folder)).stderr.endswith(
        "is a directory, not a targets file\n"
    )
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    assert cli("plan", "--targets", str(binary)).stderr.endswith("not a text file\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--band", "x"], "--band 'x': give 0.05 (absolute, in weight) or 25% (relative)"),
        (
            ["--band", "2"],
            "--band '2': give 0.05 (absolute, in weight) or 25% (relative); an absolute "
            "band is below 1 (write 2% if relative)",
        ),
        (
            ["--band", "-1%"],
            "--band '-1%': give 0.05 (absolute, in weight) or 25% (relative); it must be "
            "above zero",
        ),
        (
            ["--band", "NaN"],
            "--band 'NaN': give 0.05 (absolute, in weight) or 25% (relative); it must be "
            "above zero",
        ),
        (
            ["--band", "2000%"],
            "invalid planner flag --band (band_rel): Input should be less than or equal to 10 "
            "(10 = 1000%)",
        ),
        (["--to", "sideways"], "--to 'sideways': choose target or edge"),
    ],
)
def test_bad_planner_flags_exit_2(cli: CliFn, args: list[str], message: str) -> None:
    result = cli("plan", *args)
    assert result.exit_code == 2
    assert result.stderr == f"alch: error: {message}\n"


def test_bands_from_flags_hold_positions_in_band(cli: CliFn) -> None:
    doc = json.loads(plan_json(cli, "--band", "0.15", "--band", "100%", "--to", "edge"))
    assert doc["policy"]["band_abs"] == "0.15"
    assert doc["policy"]["band_rel"] == "1"
    rules = {p["symbol"]: p["rule"] for p in doc["positions"]}
    assert rules["VTI"] == "in_band"  # 61% vs 50% is inside 15 points
    assert rules["VXUS"] == "out_of_band"  # 0% vs 20%: beyond 15 points
