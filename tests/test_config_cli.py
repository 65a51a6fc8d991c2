"""Settings from flags, environment and alch.toml; broker choice; the simulator seed; logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from tests.conftest import EXAMPLES, FileMaker, Run

CliFn = Callable[..., Run]


def test_sim_reset_restores_the_seed(cli: CliFn, sim: SimBroker) -> None:
    assert cli("execute", "--yes").exit_code == 0
    assert "AAPL" not in sim.positions()
    result = cli("sim", "reset")
    assert result.exit_code == 0
    assert result.stderr.startswith("alch: simulator reset from ")
    assert sim.positions()["AAPL"].qty == Decimal(40)
    assert sim.orders() == []


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


def test_the_sample_config_loads_and_plans(cli: CliFn) -> None:
    result = cli("--config", str(EXAMPLES / "alch.toml"), "plan", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["targets_source"].endswith("alch.toml [targets]")
