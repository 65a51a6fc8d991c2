"""Issue 25: `alchemiser_cli.api`, the command line as a library: the README's example runs
as written, each function returns the document `--json` prints, `execute` sends nothing
without an explicit confirmation, failures are the typed errors; and one targets reader
gives the same targets (or the same error) by every route."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli import api
from alchemiser_cli.brokers.sim import SimBroker
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents.schemas import document_json
from alchemiser_cli.errors import AlchError, ConfirmationRequired, InputError
from tests.conftest import EXAMPLES, REPO, FileMaker, Run

CliFn = Callable[..., Run]
THREE_FUND = str(EXAMPLES / "targets" / "three-fund.toml")
SMALL = str(EXAMPLES / "strategies" / "momentum-or-staples.clj")


def readme_example() -> str:
    """The code block of README's "Python API" section, exactly as written there."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_readme_example_runs_as_written(sim: SimBroker, isolated_state: Path) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(readme_example(), "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "sim SIM-DEMO-0001 demo targets"
    orders = [line for line in lines if " at most " in line]
    assert orders
    assert all(line.split()[0] in ("buy", "sell") for line in orders)
    assert re.fullmatch(r"clear \d+ findings", lines[-2])  # the demo plan passes its checks
    assert lines[-1].startswith("2 execute needs confirmation: pass confirm=True")
    assert sim.submissions() == []  # the example's execute sent nothing
    assert (isolated_state / "journal.sqlite").exists()  # in the temp ALCH_HOME


@pytest.mark.parametrize(
    ("command", "call"),
    [
        ("plan", lambda: api.plan(THREE_FUND)),
        ("check", lambda: api.check(targets=THREE_FUND)),
        ("status", lambda: api.status(targets=THREE_FUND)),
    ],
)
def test_each_function_returns_the_document_json_prints(
    cli: CliFn, command: str, call: Callable[[], object]
) -> None:
    printed = cli(command, "--json", "--targets", THREE_FUND)
    assert printed.exit_code == 0, printed.stderr
    assert json.loads(document_json(command, call())) == printed.json()


def test_signal_and_backtest_return_the_documents_json_prints(cli: CliFn) -> None:
    signal = cli("signal", SMALL, "--as-of", "2024-12-03", "--json")
    assert signal.exit_code == 0, signal.stderr
    doc = api.signal([SMALL], as_of="2024-12-03")
    assert json.loads(document_json("targets", doc)) == signal.json()
    args = ("--from", "2024-01-02", "--to", "2024-03-28", "--band", "25%", "--json")
    printed = cli("backtest", "--targets", THREE_FUND, *args)
    assert printed.exit_code == 0, printed.stderr
    run = api.backtest(targets=THREE_FUND, start="2024-01-02", end="2024-03-28", band=["25%"])
    assert json.loads(document_json("backtest", run)) == printed.json()


def test_execute_without_confirmation_is_refused_and_sends_nothing(sim: SimBroker) -> None:
    plan = api.plan(THREE_FUND)
    assert plan.orders
    for refused in (False, None, "yes", 1):
        with pytest.raises(ConfirmationRequired, match="nothing was sent"):
            api.execute(plan, confirm=refused)  # type: ignore[arg-type]
    assert sim.submissions() == []


def test_execute_asks_the_callback_with_the_checked_plan(sim: SimBroker) -> None:
    seen: list[tuple[str, bool]] = []

    def decline(plan: object, report: object) -> bool:
        seen.append((getattr(plan, "plan_id", ""), getattr(report, "blocked", True)))
        return False

    plan = api.plan(THREE_FUND)
    declined = api.execute(plan, confirm=decline)
    assert seen == [(plan.plan_id, False)]
    assert declined.outcome.value == "declined"
    assert declined.orders == ()
    assert sim.submissions() == []
    sent = api.execute(plan, confirm=True, force=True)
    assert sent.outcome.value == "completed"
    assert len(sim.submissions()) == len(plan.orders)


def test_failures_are_the_typed_errors_with_their_exit_codes(make_file: FileMaker) -> None:
    with pytest.raises(InputError, match="unknown targets format") as caught:
        api.plan(str(make_file("t.yaml", "VTI: 1")))
    assert caught.value.exit_code == 2
    with pytest.raises(InputError, match=r"--band 'x': give 0.05"):
        api.plan(THREE_FUND, band=["x"])
    with pytest.raises(AlchError) as config:
        api.plan(THREE_FUND, config=Path("missing.toml"))
    assert config.value.exit_code == 2


def test_settings_and_an_open_runtime_do_not_mix() -> None:
    with api.session() as rt, pytest.raises(TypeError, match="drop runtime="):
        api.plan(THREE_FUND, band=["25%"], runtime=rt)


# -- one targets reader: every route reads a file by the same rules -------------------


CASES = [
    ("t.toml", "[targets]\nVTI = 0.6\nBND = 0.4\n"),
    ("T.TOML", "[targets]\nVTI = 0.6\nBND = 0.4\n"),  # the suffix in any case
    ("t.csv", "VTI,0.5\nBND,0.5\n"),
    ("t.json", '{"targets": {"VTI": 1}}'),
    ("t.yaml", "VTI: 1"),  # an unknown format
    ("noext", "[targets]\nVTI = 1\n"),  # no suffix: no format
    ("t.toml", "[targets]\nVTI = 0.8\nBND = 0.3\n"),  # weights over 100%
]


def _by_flag(cli: CliFn, path: Path) -> str:
    run = cli("plan", "--json", "--targets", str(path))
    return json.dumps(run.json()["targets"]) if run.exit_code == 0 else run.stderr


def _by_config(cli: CliFn, path: Path) -> str:
    Path("alch.toml").write_text(f'targets_file = "{path}"\n', encoding="utf-8")
    try:
        run = cli("plan", "--json")
    finally:
        Path("alch.toml").unlink()
    return json.dumps(run.json()["targets"]) if run.exit_code == 0 else run.stderr


def _by_api(path: Path | str) -> str:
    try:
        plan = api.plan(path)
    except AlchError as exc:
        return f"alch: error: {exc}\n"
    return json.dumps(json.loads(document_json("plan", plan))["targets"])


@pytest.mark.parametrize(("name", "text"), CASES)
def test_a_targets_file_reads_the_same_by_every_route(
    cli: CliFn, make_file: FileMaker, name: str, text: str
) -> None:
    path = make_file(name, text)
    flag = _by_flag(cli, path)
    assert _by_config(cli, path) == flag
    assert _by_api(path) == flag
    assert _by_api(str(path)) == flag


def test_targets_given_as_a_value_need_no_file() -> None:
    targets = Targets({"VTI": Decimal(1)}, "python")
    assert api.plan(targets).targets_source == "python"
