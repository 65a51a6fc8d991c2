"""The four commands end to end on the simulator, through the real CLI (CliRunner)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import filelock
import pytest

from alchemiser_cli import __version__
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.cli import common
from alchemiser_cli.core.models import BrokerOrder, OrderRequest, Side
from alchemiser_cli.errors import ExitCode
from tests.conftest import EXAMPLES, FileMaker, Run

CliFn = Callable[..., Run]


def plan_json(cli: CliFn, *args: str) -> str:
    result = cli("plan", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


# -- plan -------------------------------------------------------------------------------


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
    assert doc["schema_version"] == 1
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
        f"alch: error: {tmp_path / 'missing' / 'plan.json'}: cannot write plan: "
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
        ("t.toml", "[targets]\nZZZZ = 0.5\n", "no quote from sim for ZZZZ"),
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


# -- check ------------------------------------------------------------------------------


def test_plan_piped_into_check_passes(cli: CliFn) -> None:
    result = cli("check", "-", input=plan_json(cli))
    assert result.exit_code == 0
    assert "OK to execute" in result.stdout


def test_check_json_lists_every_check(cli: CliFn) -> None:
    result = cli("check", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["blocked"] is False
    assert {f["severity"] for f in doc["findings"]} == {"pass"}
    assert "limits.order_notional" in [f["check_id"] for f in doc["findings"]]
    assert doc["plan"]["plan_id"] == doc["plan_id"]


def test_order_above_the_notional_limit_blocks_with_the_figures(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_LIMITS__MAX_ORDER_NOTIONAL", "10000")
    result = cli("check", "--json")
    assert result.exit_code == 1
    finding = next(
        f for f in json.loads(result.stdout)["findings"] if f["check_id"] == "limits.order_notional"
    )
    assert finding["severity"] == "block"
    assert finding["message"] == (
        "3 order(s) above max_order_notional $10,000.00: largest buy VXUS $16,288.60"
    )


def test_plan_and_targets_together_are_refused(cli: CliFn) -> None:
    result = cli("check", "-", "--targets", "x.toml", input="{}")
    assert (result.exit_code, result.stderr) == (
        2,
        "alch: error: give either a saved PLAN or --targets, not both\n",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "<stdin>: not a JSON plan: Expecting value at line 1"),
        ("[]", "<stdin>: not a plan (expected a JSON object from `alch plan --json`)"),
        ('{"schema_version": 99}', "<stdin>: plan schema_version 99 is not supported"),
        ('{"schema_version": 1}', "<stdin>: invalid plan field plan_id: Field required"),
    ],
)
def test_bad_saved_plans_exit_2(cli: CliFn, text: str, message: str) -> None:
    result = cli("check", "-", input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"alch: error: {message}")
    assert len(result.stderr.splitlines()) == 1


def test_tampered_plan_orders_are_refused(cli: CliFn) -> None:
    doc = json.loads(plan_json(cli))
    doc["orders"][0]["qty"] = "-5"
    result = cli("execute", "-", "--yes", input=json.dumps(doc))
    assert result.exit_code == 2
    assert "order 1 (AAPL): qty and limit_price must be positive" in result.stderr
    doc["orders"][0]["leg"] = 7
    result = cli("execute", "-", "--yes", input=json.dumps(doc))
    assert "order legs must run 1..4 in order, got [7, 2, 3, 4]" in result.stderr


def test_plan_for_another_account_is_blocked(cli: CliFn) -> None:
    doc = json.loads(plan_json(cli))
    doc["account_id"] = "SOMEONE-ELSE"
    result = cli("check", "-", "--json", input=json.dumps(doc))
    assert result.exit_code == 1
    finding = next(
        f for f in json.loads(result.stdout)["findings"] if f["check_id"] == "plan.account"
    )
    assert finding["message"] == "plan was made for sim:SOMEONE-ELSE, this is sim:SIM-DEMO-0001"


# -- execute ----------------------------------------------------------------------------


def test_execute_without_yes_and_without_a_tty_refuses_and_sends_nothing(
    cli: CliFn, sim: SimBroker
) -> None:
    result = cli("execute", "-", input=plan_json(cli))
    assert result.exit_code == 2
    assert result.stderr == (
        "alch: error: execute needs confirmation: run it in a terminal, or pass --yes to send "
        "without asking (nothing was sent)\n"
    )
    assert sim.submissions() == []


def test_plan_piped_into_execute_trades_and_status_shows_it(cli: CliFn, sim: SimBroker) -> None:
    result = cli("execute", "-", "--yes", "--json", input=plan_json(cli))
    assert result.exit_code == 0, result.stderr
    report = result.json()
    assert report["outcome"] == "completed"
    assert [o["status"] for o in report["orders"]] == ["filled"] * 4
    assert report["orders"][0]["client_order_id"].endswith("-001-01-01")
    assert len(sim.submissions()) == 4

    status = cli("status", "--json")
    assert status.exit_code == 0
    doc = status.json()
    assert doc["runs"][0]["run_id"] == report["run_id"]
    assert doc["runs"][0]["outcome"] == "completed"
    assert doc["runs"][0]["orders"] == 4
    held = {p["symbol"]: p for p in doc["positions"]}
    assert set(held) == {"BND", "VTI", "VXUS"}  # AAPL sold, VXUS bought
    assert held["VXUS"]["target_weight"] == "0.2"
    assert Decimal(held["VXUS"]["drift"]).copy_abs() < Decimal("0.001")
    assert doc["open_orders"] == []


def test_execute_human_output_and_a_second_run_has_nothing_to_do(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.01")
    first = cli("execute", "--yes")
    assert first.exit_code == 0
    assert "Outcome: completed - all 4 orders filled" in first.stdout
    second = cli("execute", "--yes", "--force")  # past the once-a-day guard: at target
    assert second.exit_code == 0
    assert "Outcome: nothing_to_do - nothing to do: the account is at its targets" in second.stdout
    assert len(sim.submissions()) == 4


def test_the_same_saved_plan_twice_is_blocked_then_forced_with_new_ids(
    cli: CliFn, sim: SimBroker
) -> None:
    saved = plan_json(cli)
    assert cli("execute", "-", "--yes", input=saved).exit_code == 0
    again = cli("execute", "-", "--yes", "--json", input=saved)
    assert again.exit_code == 1
    assert again.json()["outcome"] == "blocked"
    assert "plan.already_executed" in again.json()["message"]
    assert len(sim.submissions()) == 4


def test_interactive_confirmation_defaults_to_no(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "stdin_is_tty", lambda: True)
    declined = cli("execute", input="\n")
    assert declined.exit_code == 0
    assert "Send 4 order(s) to sim account SIM-DEMO-0001? [y/N]" in declined.stderr
    assert "Outcome: declined - not confirmed; nothing sent" in declined.stdout
    assert sim.submissions() == []
    accepted = cli("execute", input="y\n")
    assert accepted.exit_code == 0
    assert len(sim.submissions()) == 4


def test_partial_fill_is_repegged_for_the_rest_and_completes(cli: CliFn, sim: SimBroker) -> None:
    sim.script("VXUS", "partial", Decimal("100"))
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    report = result.json()
    vxus = next(o for o in report["orders"] if o["symbol"] == "VXUS")
    assert (vxus["status"], vxus["filled_qty"], vxus["repegs"]) == (
        "filled",
        vxus["planned_qty"],
        1,
    )
    (only,) = vxus["slices"]
    first, second = only["client_order_ids"]
    assert second == first + "-p1"
    assert Decimal(only["limit_prices"][1]) >= Decimal(only["limit_prices"][0])
    assert Decimal(only["limit_prices"][1]) <= Decimal(vxus["limit_price"])
    assert sim.submissions().count(first) == 1
    assert sim.open_orders() == []


def test_repegs_stop_at_the_bound_then_cancel_and_exit_4(cli: CliFn, sim: SimBroker) -> None:
    sim.script("VXUS", "partial", Decimal("100"))
    for _ in range(3):
        sim.script("VXUS", "hold")
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    vxus = next(o for o in report["orders"] if o["symbol"] == "VXUS")
    assert (vxus["status"], vxus["filled_qty"], vxus["repegs"]) == ("partially_filled", "100", 3)
    (only,) = vxus["slices"]
    assert len(only["client_order_ids"]) == 4  # the first send and 3 re-pegs, no more
    prices = [Decimal(p) for p in only["limit_prices"]]
    assert prices == sorted(prices)
    assert prices[-1] == Decimal(vxus["limit_price"])
    assert report["message"] == "1 of 4 orders did not complete as planned"
    assert sim.open_orders() == []


def test_rejected_order_is_reported_not_hidden(cli: CliFn, sim: SimBroker) -> None:
    sim.script("BND", "reject")
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    bnd = next(o for o in result.json()["orders"] if o["symbol"] == "BND")
    assert bnd["status"] == "rejected"
    status = cli("status", "--json").json()
    assert status["runs"][0]["outcome"] == "incomplete"


def test_second_execute_on_a_locked_account_exits_5_and_sends_nothing(
    cli: CliFn, sim: SimBroker, isolated_state: Path
) -> None:
    locks = isolated_state / "locks"
    locks.mkdir(parents=True)
    with filelock.FileLock(locks / "sim-SIM-DEMO-0001.lock"):
        result = cli("execute", "--yes")
    assert result.exit_code == 5
    assert result.stderr.startswith("alch: error: another alch run holds account SIM-DEMO-0001")
    assert sim.submissions() == []


# -- status, schema, sim, globals -------------------------------------------------------


def test_status_human_and_one_run(cli: CliFn) -> None:
    empty = cli("status")
    assert empty.exit_code == 0
    assert "No runs in the journal yet." in empty.stdout
    run_id = cli("execute", "--yes", "--json").json()["run_id"]
    one = cli("status", "--json", "--run", run_id[:18])
    assert one.exit_code == 0
    (run,) = one.json()["runs"]
    assert run["details"]["run_id"] == run_id
    assert run["slippage_bps"] is not None
    assert float(run["slippage_bps"]) > 0  # sim fills at the touch: a cost against the mid
    assert "completed" in cli("status").stdout
    detail = cli("status", "--run", run_id)
    assert f"Orders of run {run_id}" in detail.stdout
    assert "VXUS" in detail.stdout


def test_status_unknown_run_and_bad_runs_flag(cli: CliFn) -> None:
    unknown = cli("status", "--run", "nope")
    assert (unknown.exit_code, unknown.stderr) == (
        2,
        "alch: error: no run 'nope' in the journal (see `alch status --runs 20`)\n",
    )
    assert cli("status", "--runs", "0").exit_code == 2


@pytest.mark.parametrize("name", ["plan", "check", "execute", "status"])
def test_schema_is_published_for_every_command(cli: CliFn, name: str) -> None:
    result = cli("schema", name)
    assert result.exit_code == 0
    schema = result.json()
    assert schema["title"] == f"alch {name} output"
    assert "schema_version" in schema["properties"]


def test_unknown_schema_name(cli: CliFn) -> None:
    result = cli("schema", "nope")
    assert (result.exit_code, result.stderr) == (
        2,
        "alch: error: no schema 'nope': choose one of plan, check, execute, status, targets, "
        "backtest, replay\n",
    )


def test_sim_reset_restores_the_seed(cli: CliFn, sim: SimBroker) -> None:
    assert cli("execute", "--yes").exit_code == 0
    assert "AAPL" not in sim.positions()
    result = cli("sim", "reset")
    assert result.exit_code == 0
    assert result.stderr.startswith("alch: simulator reset from ")
    assert sim.positions()["AAPL"].qty == Decimal(40)
    assert sim.orders() == []


def test_version_and_help(cli: CliFn) -> None:
    assert cli("--version").stdout == f"alch {__version__}\n"
    help_text = cli("--help").stdout
    for command in ("plan", "check", "execute", "status", "schema", "sim"):
        assert command in help_text


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for command in (
        "alch plan",
        "alch check",
        "alch execute",
        "alch status",
        "alch schema",
        "alch sim reset",
    ):
        assert command in readme


def test_the_readme_exit_code_table_lists_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+)", table, re.MULTILINE)}
    documented |= {int(code) for code in re.findall(r"^\| \d+ / (\d+)", table, re.MULTILINE)}
    assert documented == {int(code) for code in ExitCode}


# -- configuration ----------------------------------------------------------------------


def test_targets_from_alch_toml_in_the_working_directory(cli: CliFn) -> None:
    Path("alch.toml").write_text('[targets]\nVTI = "100%"\n')
    result = cli("plan", "--json")
    assert result.exit_code == 0
    doc = result.json()
    assert doc["targets"] == {"VTI": "1"}
    assert doc["targets_source"] == "alch.toml [targets]"
    assert result.stderr == ""


def test_config_from_alch_config_env_and_flag(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_cfg = make_file("env.toml", '[targets]\nBND = "100%"\n')
    flag_cfg = make_file("flag.toml", '[targets]\nVTI = "100%"\n')
    monkeypatch.setenv("ALCH_CONFIG", str(env_cfg))
    assert cli("plan", "--json").json()["targets"] == {"BND": "1"}
    assert cli("--config", str(flag_cfg), "plan", "--json").json()["targets"] == {"VTI": "1"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[limits]\nmax_order_notional = -5\n",
            "invalid setting limits.max_order_notional "
            "(cfg.toml or ALCH_LIMITS__MAX_ORDER_NOTIONAL): "
            "Input should be greater than 0 (got -5)",
        ),
        (
            "[limits]\nmax_order_notionl = 5\n",
            "invalid setting limits.max_order_notionl "
            "(cfg.toml or ALCH_LIMITS__MAX_ORDER_NOTIONL): "
            "unknown setting",
        ),
        (
            "[planner]\ncollar_bps = 5000\n",
            "invalid setting planner.collar_bps (cfg.toml or ALCH_PLANNER__COLLAR_BPS): "
            "Input should be less than or equal to 1000 (got 5000)",
        ),
        (
            "[limits]\nmax_order_notional = nan\n",
            "invalid setting limits.max_order_notional "
            "(cfg.toml or ALCH_LIMITS__MAX_ORDER_NOTIONAL): not a finite number (got NaN)",
        ),
        (
            "[limits]\nmax_order_pct = [1, 0.5]\n",
            "invalid setting limits.max_order_pct (cfg.toml or ALCH_LIMITS__MAX_ORDER_PCT): "
            "not a number (got [1, 0.5])",
        ),
        ("[targets\n", "cfg.toml: not valid TOML"),
        ('[targets]\nVTI = "lots"\n', "cfg.toml [targets]: VTI: weight 'lots' is not a number"),
    ],
)
def test_invalid_config_exits_2_naming_the_key(
    cli: CliFn, make_file: FileMaker, text: str, message: str
) -> None:
    path = make_file("cfg.toml", text)
    result = cli("--config", str(path), "check")
    assert result.exit_code == 2
    assert result.stderr.startswith("alch: error: ")
    assert message.replace("cfg.toml", str(path)) in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LIMITS__MAX_ORDER_NOTIONAL", "nan", "limits.max_order_notional "
         '(ALCH_LIMITS__MAX_ORDER_NOTIONAL): not a finite number (got "nan")'),
        ("EXECUTION__DEADLINE_S", "nan", "execution.deadline_s (ALCH_EXECUTION__DEADLINE_S): "
         'not a finite number (got "nan")'),
        ("PLANNER__CASH_RESERVE", "1e30", "planner.cash_reserve (ALCH_PLANNER__CASH_RESERVE): "
         'Input should be less than or equal to 1000000000000 (got "1e30")'),
        ("TARGETS", "VTI", 'targets (ALCH_TARGETS): not a table (got "VTI")'),
        ("PLANNER__KEEP", "VTI", "planner.keep (ALCH_PLANNER__KEEP): a list in an ALCH_* "
         """variable is written as JSON, e.g. ALCH_PLANNER__KEEP='["first", "second"]'"""),
        ("PLANNER", "{", "planner (ALCH_PLANNER): a table in an ALCH_* variable is written as "
         """JSON, e.g. ALCH_PLANNER='{"name": "value"}'"""),
    ],
)  # fmt: skip
def test_bad_environment_values_name_the_variable_in_plain_words(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__COLLAR_BPS", "20")  # JSON-readable: not the culprit
    monkeypatch.setenv(f"ALCH_{name}", value)
    result = cli("plan")
    assert (result.exit_code, result.stderr) == (2, f"alch: error: invalid setting {message}\n")


def test_missing_config_file_and_bad_env(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = cli("--config", "nope.toml", "plan")
    assert (missing.exit_code, missing.stderr) == (
        2,
        "alch: error: nope.toml: config file not found\n",
    )
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-24T15:00:00")
    naive = cli("plan")
    assert naive.exit_code == 2
    assert "invalid setting sim_now (ALCH_SIM_NOW): needs a time zone" in naive.stderr
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-24T15:00:00Z")
    monkeypatch.setenv("ALCH_BROKER", "robinhood")
    assert "invalid setting broker (ALCH_BROKER)" in cli("plan").stderr


def test_alpaca_keys_select_alpaca_and_demo_targets_stay_simulator_only(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "PKCANARYKEYID")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "canary-secret-value")
    result = cli("plan")  # fails on the missing targets before any request is made
    assert result.exit_code == 2
    assert "no targets: pass --targets FILE" in result.stderr
    assert "canary" not in result.stderr + result.stdout
    # The simulator stays reachable explicitly.
    assert cli("--broker", "sim", "plan", "--json").exit_code == 0


def test_a_live_endpoint_is_refused_without_the_opt_in(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", "AKLIVE")
    monkeypatch.setenv("APCA_API_SECRET_KEY", "canary-live-secret")
    monkeypatch.setenv("APCA_API_BASE_URL", "https://api.alpaca.markets")
    result = cli("status")
    assert result.exit_code == 2
    assert result.stderr == (
        "alch: error: https://api.alpaca.markets is Alpaca LIVE trading: set ALCH_LIVE=1 "
        "to use it (and --live to send orders)\n"
    )


def test_custom_simulator_account_file(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = make_file(
        "acct.toml",
        'account_id = "MINE"\ncash = "1000"\n[quotes.VTI]\nbid = "100"\nask = "100.02"\n',
    )
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    doc = cli("plan", "--json", "--targets", "-", input="VTI,1\n").json()
    assert doc["account_id"] == "MINE"
    assert doc["orders"][0]["symbol"] == "VTI"


def test_bad_simulator_account_file(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = make_file("acct.toml", 'cash = "-5"\n')
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    result = cli("plan")
    assert (result.exit_code, result.stderr) == (
        2,
        f"alch: error: {seed}: cash must not be negative\n",
    )


def test_logs_are_json_lines_in_the_state_directory(cli: CliFn, isolated_state: Path) -> None:
    assert cli("-v", "execute", "--yes").exit_code == 0
    lines = (isolated_state / "logs" / "alch.log").read_text().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert set(record) == {"ts", "level", "logger", "run_id", "msg"}


def test_quiet_shows_errors_only_and_verbose_shows_info(cli: CliFn) -> None:
    quiet = cli("-q", "plan", "--json")
    assert quiet.exit_code == 0
    assert quiet.stderr == ""  # not even the demo-targets note
    loud = cli("-vv", "plan", "--json")
    assert loud.exit_code == 0
    assert "alch: note: no targets given" in loud.stderr
    assert "INFO" in loud.stderr
    assert cli("-q", "plan", "--targets", "missing.toml").stderr.startswith("alch: error: ")


def test_large_orders_are_sliced_and_the_report_shows_each_slice(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_EXECUTION__SLICE_NOTIONAL", "5000")
    result = cli("execute", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "re-pegs" in result.stdout
    assert "Slices" in result.stdout
    report = cli("status", "--json").json()["runs"][0]
    assert report["outcome"] == "completed"
    sent = sim.submissions()
    # AAPL $10.6k -> 3 slices, VTI $9.0k -> 2, BND $11.4k -> 3, VXUS $16.2k -> 4.
    assert len(sent) == 12
    assert len(set(sent)) == 12
    assert sum(cid.startswith(f"alch-{report['plan_id']}-001-") for cid in sent) == 3


def test_buys_refused_for_insufficient_buying_power_are_reported_and_exit_4(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another app takes the cash between the sells and the buys: the broker refuses them."""
    real_submit = SimBroker.submit_order
    outside = OrderRequest("other-app-1", "VTI", Side.BUY, Decimal(80), Decimal(330))

    def submit(self: SimBroker, request: OrderRequest) -> BrokerOrder:
        if request.side is Side.BUY and not any(c == "other-app-1" for c in self.submissions()):
            self.script("VTI", "hold")
            real_submit(self, outside)  # rests, holding $26,400 of buying power
        return real_submit(self, request)

    monkeypatch.setattr(SimBroker, "submit_order", submit)
    result = cli("execute", "--yes", "--json")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    assert report["message"] == "2 of 4 orders did not complete as planned"
    by_symbol = {o["symbol"]: o for o in report["orders"]}
    assert [by_symbol[s]["status"] for s in ("AAPL", "VTI")] == ["filled", "filled"]
    for buy in ("BND", "VXUS"):
        assert by_symbol[buy]["status"] == "send_failed"
        assert by_symbol[buy]["filled_qty"] == "0"
        assert by_symbol[buy]["error"].startswith(f"insufficient buying power: {buy} needs")
    assert report["filled_buy_value"] == "0"
    ours = [c for c in sim.submissions() if c.startswith("alch-")]
    assert len(ours) == len(set(ours)) == 4  # each refused buy was tried once, not retried


def test_deadline_flag_cancels_what_is_left_and_exits_4(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim.script("AAPL", "hold")
    monkeypatch.setenv("ALCH_EXECUTION__FILL_TIMEOUT_S", "600")
    monkeypatch.setenv("ALCH_EXECUTION__MAX_REPEGS", "0")
    result = cli("execute", "--yes", "--json", "--deadline", "2m")
    assert result.exit_code == 4
    report = result.json()
    assert report["outcome"] == "incomplete"
    assert report["message"].endswith(
        "the run deadline (120s) passed and what was open was cancelled"
    )
    by_symbol = {o["symbol"]: o for o in report["orders"]}
    assert by_symbol["AAPL"]["status"] == "canceled"
    assert by_symbol["BND"]["status"] == "not_sent"
    assert by_symbol["BND"]["error"] == "the run deadline passed before it was sent"
    assert sim.open_orders() == []


def test_market_orders_on_request_carry_no_limit(cli: CliFn, sim: SimBroker) -> None:
    result = cli("execute", "--yes", "--json", "--order-type", "market")
    assert result.exit_code == 0, result.stderr
    assert all(o["limit_price"] is None for o in result.json()["orders"])
    assert {o.order_type for o in sim.orders()} == {"market"}


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--deadline", "soon", "--deadline 'soon': give a positive duration such as 90s"),
        ("--deadline", "0", "--deadline '0': give a positive duration"),
        (
            "--order-type",
            "stop",
            "invalid execution flag --order-type (order_type): Input should be 'limit' or "
            "'market'\n",
        ),
        (
            "--deadline",
            "99h",
            "invalid execution flag --deadline (deadline_s): Input should be less than or "
            "equal to 23400 seconds (6h30m, one session)\n",
        ),
    ],
)
def test_bad_execution_flags_exit_2_and_send_nothing(
    cli: CliFn, sim: SimBroker, flag: str, value: str, message: str
) -> None:
    result = cli("execute", "--yes", flag, value)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert sim.submissions() == []


def test_shell_completion_script_is_available(cli: CliFn) -> None:
    result = cli("--show-completion", "bash")
    assert result.exit_code == 0
    assert "_alch_completion()" in result.stdout
    assert "complete " in result.stdout


def test_the_sample_config_loads_and_plans(cli: CliFn) -> None:
    result = cli("--config", str(EXAMPLES / "alch.toml"), "plan", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["targets_source"].endswith("alch.toml [targets]")


def test_status_weights_are_the_plans_weights_with_a_reserve_and_kept_positions(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__CASH_RESERVE_PCT", "0.1")
    monkeypatch.setenv("ALCH_PLANNER__KEEP", '["AAPL"]')
    planned = {p["symbol"]: p for p in cli("plan", "--json").json()["positions"]}
    shown = {p["symbol"]: p for p in cli("status", "--json").json()["positions"]}
    for symbol in ("VTI", "BND", "VXUS"):
        assert shown[symbol]["weight"] == planned[symbol]["current_weight"]
        assert shown[symbol]["target_weight"] == planned[symbol]["target_weight"]
    assert shown["AAPL"]["target_weight"] is None  # kept: outside the rebalanced base
