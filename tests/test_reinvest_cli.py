"""`--reinvest` on the command line (issue 24): the plan's policy carries it and in-band
positions under target buy with the cash the band leaves."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Run

CliFn = Callable[..., Run]


def test_plan_reinvest_flag_sets_the_policy(cli: CliFn) -> None:
    plain = cli("plan", "--json", "--band", "0.05")
    assert plain.exit_code == 0, plain.stderr
    assert plain.json()["policy"]["reinvest"] is False
    run = cli("plan", "--json", "--band", "0.05", "--reinvest")
    assert run.exit_code == 0, run.stderr
    document = run.json()
    assert document["policy"]["reinvest"] is True
    for line in document["positions"]:
        if line["rule"] == "reinvest":
            assert line["action"] == "buy"
            assert float(line["post_weight"]) <= float(line["target_weight"]) + 1e-9
