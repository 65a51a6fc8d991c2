"""Issue 13: inputs that must be refused (or asked for explicitly), end to end."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core import targets as core_targets
from alchemiser_cli.errors import InputError
from tests.conftest import EXAMPLES, FileMaker, Run

CliFn = Callable[..., Run]
NO_TARGETS = (
    "has no targets: that would sell every position; add entries such as `VTI = 0.6`, "
    "or pass --liquidate to sell everything on purpose"
)


# -- item 1: empty targets never liquidate by accident ---------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("t.toml", "[targets]\n"),
        ("t.json", '{"targets": {}}'),
        ("t.json", "{}"),
        ("t.csv", "symbol,weight\n"),
        ("t.csv", ""),
    ],
)
def test_empty_targets_file_exits_2_and_sends_nothing(
    cli: CliFn, make_file: FileMaker, sim: SimBroker, name: str, text: str
) -> None:
    path = make_file(name, text)
    for command in ("plan", "check", "execute"):
        args = [command, "--targets", str(path)] + (["--yes"] if command == "execute" else [])
        result = cli(*args)
        assert (result.exit_code, result.stdout) == (2, ""), command
        assert result.stderr == f"alch: error: {path} {NO_TARGETS}\n"
    assert sim.submissions() == []


def test_all_zero_weights_count_as_empty(cli: CliFn, make_file: FileMaker) -> None:
    path = make_file("z.toml", '[targets]\nVTI = 0\nBND = "0%"\n')
    result = cli("execute", "--yes", "--targets", str(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"alch: error: {path} has only zero weights: that would sell every position; add "
        "entries such as `VTI = 0.6`, or pass --liquidate to sell everything on purpose\n"
    )


def test_empty_targets_table_in_alch_toml_exits_2(cli: CliFn, sim: SimBroker) -> None:
    Path("alch.toml").write_text("[targets]\n", encoding="utf-8")
    result = cli("execute", "--yes")
    assert result.exit_code == 2
    assert result.stderr == f"alch: error: alch.toml [targets] {NO_TARGETS}\n"
    assert sim.submissions() == []


def test_empty_targets_from_stdin_exit_2(cli: CliFn) -> None:
    result = cli("plan", "--targets", "-", input='{"targets": {}}')
    assert result.exit_code == 2
    assert result.stderr == f"alch: error: <stdin> {NO_TARGETS}\n"


def test_liquidate_is_explicit_shown_and_still_confirmed(cli: CliFn, sim: SimBroker) -> None:
    human = cli("plan", "--liquidate")
    assert human.exit_code == 0
    assert "targets: none (--liquidate)" in human.stdout
    assert "LIQUIDATE: no targets, every position is sold (--liquidate)" in human.stdout
    doc = cli("plan", "--liquidate", "--json").json()
    assert doc["liquidate"] is True
    assert doc["targets"] == {}
    assert {o["side"] for o in doc["orders"]} == {"sell"}
    assert {o["symbol"] for o in doc["orders"]} == set(sim.positions())
    assert cli("plan", "--json").json()["liquidate"] is False
    # still confirmed: no TTY and no --yes sends nothing
    unconfirmed = cli("execute", "--liquidate")
    assert unconfirmed.exit_code == 2
    assert "execute needs confirmation" in unconfirmed.stderr
    assert sim.submissions() == []
    done = cli("execute", "--liquidate", "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["outcome"] == "completed"
    assert sim.positions() == {}


def test_liquidate_with_targets_is_an_error(cli: CliFn) -> None:
    result = cli("plan", "--liquidate", "--targets", str(EXAMPLES / "targets/three-fund.toml"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"alch: error: --liquidate sells every position, but "
        f"{EXAMPLES / 'targets/three-fund.toml'} gives targets (BND, VTI, VXUS): "
        "drop --liquidate or the targets\n"
    )


def test_saved_liquidation_plan_needs_the_flag_again(cli: CliFn, sim: SimBroker) -> None:
    saved = cli("plan", "--liquidate", "--json").stdout
    refused = cli("execute", "-", "--yes", input=saved)
    assert refused.exit_code == 2
    assert refused.stderr == (
        "alch: error: this saved plan sells every position: pass --liquidate to check or run it\n"
    )
    assert sim.submissions() == []
    ordinary = cli("plan", "--json").stdout
    misused = cli("check", "-", "--liquidate", input=ordinary)
    assert misused.exit_code == 2
    assert "--liquidate plans afresh with no targets" in misused.stderr
    ok = cli("check", "-", "--liquidate", input=saved)
    assert ok.exit_code == 0, ok.stderr


def test_a_saved_plan_with_no_targets_but_no_liquidate_flag_is_refused(cli: CliFn) -> None:
    doc = json.loads(cli("plan", "--liquidate", "--json").stdout)
    doc["liquidate"] = False  # an edited plan, or one written before the flag existed
    result = cli("execute", "-", "--yes", input=json.dumps(doc))
    assert result.exit_code == 2
    assert result.stderr == (
        "alch: error: <stdin>: liquidate false does not match the plan's targets: the plan "
        "was edited or damaged; make a fresh one with `alch plan`\n"
    )


def test_require_weights_rules() -> None:
    empty = core_targets.parse_targets("[targets]\n", where="t", fmt="toml")
    assert core_targets.require_weights(empty, liquidate=True) is empty
    many = core_targets.parse_targets("A,0.1\nB,0.1\nC,0.1\nD,0.1\nE,0\n", where="t", fmt="csv")
    with pytest.raises(InputError) as info:
        core_targets.require_weights(many, liquidate=True)
    assert str(info.value) == (
        "--liquidate sells every position, but t gives targets (A, B, C and 1 more): "
        "drop --liquidate or the targets"
    )


# -- item 14: input conveniences --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "# my targets\n\n[targets]\nVTI = 0.6\nBND = 0.4\n",
        'targets = { VTI = 0.6, BND = "40%" }\n',
        '\n  {"targets": {"VTI": 0.6, "BND": 0.4}}',
        "# exported\nsymbol,weight\nVTI,60%\nBND,40%\n",
        "\ufeff[targets]\nVTI = 0.6\nBND = 0.4\n",
    ],
)
def test_targets_on_stdin_in_any_format(cli: CliFn, text: str) -> None:
    result = cli("plan", "--json", "--targets", "-", input=text)
    assert result.exit_code == 0, result.stderr
    assert result.json()["targets"] in (
        {"BND": "0.4", "VTI": "0.6"},
        {"BND": "0.40", "VTI": "0.60"},
    )


def test_csv_with_a_byte_order_mark(cli: CliFn, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("symbol,weight\nVTI,0.6\nBND,0.4\n".encode("utf-8-sig"))
    result = cli("plan", "--json", "--targets", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.json()["targets"] == {"BND": "0.4", "VTI": "0.6"}


def test_out_refuses_to_overwrite_an_input_of_the_run(
    cli: CliFn, make_file: FileMaker, isolated_state: Path
) -> None:
    targets = make_file("t.toml", "[targets]\nVTI = 1\n")
    before = targets.read_text(encoding="utf-8")
    result = cli("plan", "--targets", str(targets), "--out", str(targets))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"alch: error: --out {targets} is the targets file of this run: write the plan elsewhere\n"
    )
    assert targets.read_text(encoding="utf-8") == before
    Path("alch.toml").write_text("[targets]\nVTI = 1\n", encoding="utf-8")
    config = cli("plan", "--out", "./alch.toml")
    assert config.stderr == (
        "alch: error: --out alch.toml is the config file of this run: write the plan elsewhere\n"
    )
    journal = isolated_state / "journal.sqlite"
    state = cli("plan", "--out", str(journal))
    assert state.stderr == (
        f"alch: error: --out {journal} is inside ALCH_HOME ({isolated_state}), alch's own "
        "state: write the plan elsewhere\n"
    )


def test_an_ambiguous_run_id_prefix_lists_the_matches(cli: CliFn) -> None:
    assert cli("execute", "--yes").exit_code == 0
    assert cli("execute", "--yes", "--force").exit_code == 1  # blocked, and journaled
    runs = [r["run_id"] for r in cli("status", "--json").json()["runs"]]
    assert len(runs) == 2
    prefix = runs[0][:16]  # the same second on the simulator's fixed clock
    assert runs[1].startswith(prefix)
    result = cli("status", "--run", prefix)
    assert result.exit_code == 2
    first, second = sorted(runs)
    assert result.stderr == (
        f"alch: error: run id {prefix!r} is ambiguous: it matches {first}, {second}; "
        "give more of the id\n"
    )
    one = cli("status", "--run", runs[0][:-1], "--json")
    assert one.exit_code == 0
    assert [r["run_id"] for r in one.json()["runs"]] == [runs[0]]
    wildcard = cli("status", "--run", "2026_")  # no SQL wildcards: `_` is a character
    assert wildcard.stderr == (
        "alch: error: no run '2026_' in the journal (see `alch status --runs 20`)\n"
    )


def test_a_saved_plan_dated_in_the_future_is_blocked(cli: CliFn, sim: SimBroker) -> None:
    doc = json.loads(cli("plan", "--json").stdout)
    doc["created_at"] = "2026-11-24T16:00:00Z"  # an hour after the simulator's now
    result = cli("check", "-", "--json", input=json.dumps(doc))
    assert result.exit_code == 1
    finding = next(f for f in result.json()["findings"] if f["check_id"] == "plan.age")
    assert finding["severity"] == "block"
    assert finding["message"] == (
        "plan is dated 2026-11-24 16:00:00 UTC, 3600 s in the future (more than 60 s of clock skew)"
    )
    skew = dict(doc, created_at="2026-11-24T15:00:30Z")  # within the skew: fine
    assert cli("check", "-", input=json.dumps(skew)).exit_code == 0
    assert cli("execute", "-", "--yes", input=json.dumps(doc)).exit_code == 1
    assert sim.submissions() == []


def test_targets_file_and_a_targets_table_together_are_an_error(
    cli: CliFn, make_file: FileMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = make_file("other.toml", "[targets]\nBND = 1\n")
    Path("alch.toml").write_text(
        f'targets_file = "{other}"\n\n[targets]\nVTI = 1\n', encoding="utf-8"
    )
    result = cli("plan")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"alch: error: both [targets] (alch.toml) and targets_file ({other}) are set: keep one\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--band", "0.05", "--band", "0.1"],
            "--band given twice as an absolute band ('0.05' and '0.1'): give at most one "
            "absolute (0.05) and one relative (25%) band",
        ),
        (
            ["--band", "10%", "--band", "25%", "--band", "0.05"],
            "--band given twice as a relative band ('10%' and '25%'): give at most one "
            "absolute (0.05) and one relative (25%) band",
        ),
        (
            ["--to", "edge"],
            '--to edge (rebalance_to = "edge") needs a drift band: give --band, or '
            "band_abs / band_rel in [planner]",
        ),
    ],
)
def test_band_flags_that_contradict_themselves(cli: CliFn, args: list[str], message: str) -> None:
    result = cli("plan", *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", f"alch: error: {message}\n")


def test_edge_with_a_band_from_the_config_is_fine(cli: CliFn) -> None:
    Path("alch.toml").write_text("[planner]\nband_rel = 0.25\n", encoding="utf-8")
    assert cli("plan", "--to", "edge").exit_code == 0
    Path("alch.toml").write_text('[planner]\nrebalance_to = "edge"\n', encoding="utf-8")
    assert cli("plan").exit_code == 2


def test_a_long_list_of_unknown_symbols_is_shortened(
    cli: CliFn, make_file: FileMaker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "no-bars").mkdir()  # with ALCH_SIM_BARS, a symbol without bars has no quote
    monkeypatch.setenv("ALCH_SIM_BARS", str(tmp_path / "no-bars"))
    entries = "".join(f"ZZ{chr(65 + i)}{chr(65 + j)} = 0.01\n" for i in range(5) for j in range(10))
    path = make_file("many.toml", "[targets]\n" + entries)
    result = cli("plan", "--targets", str(path))
    assert result.exit_code == 2
    assert result.stderr == "alch: error: no quote from sim for ZZAA, ZZAB, ZZAC and 47 more\n"


def test_liquidate_sells_unlisted_positions_too(
    cli: CliFn, sim: SimBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sell_unlisted = false keeps positions missing from the targets; --liquidate has no
    targets and says every position is sold, so it sells them all (attack item 8)."""
    monkeypatch.setenv("ALCH_PLANNER__SELL_UNLISTED", "false")
    assert {o["symbol"] for o in cli("plan", "--json").json()["orders"]} != set()  # sane
    doc = cli("plan", "--liquidate", "--json").json()
    assert {(o["symbol"], o["side"]) for o in doc["orders"]} == {
        (s, "sell") for s in sim.positions()
    }
    human = cli("plan", "--liquidate")
    assert "LIQUIDATE: no targets, every position is sold (--liquidate)" in human.stdout
    assert "No orders" not in human.stdout


def test_status_after_a_liquidation_shows_drift_against_no_targets(
    cli: CliFn, sim: SimBroker
) -> None:
    """Not against the demo targets (attack item 12): the last run sold everything."""
    done = cli("execute", "--liquidate", "--yes", "--json")
    assert done.exit_code == 0, done.stderr
    status = cli("status", "--json").json()
    assert status["targets_source"] == (
        f"the last run that sent orders, {done.json()['run_id']} (plan "
        f"{done.json()['plan_id']}: --liquidate, no targets)"
    )
    assert status["positions"] == []  # no unheld demo targets shown as drifting
