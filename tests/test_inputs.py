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
