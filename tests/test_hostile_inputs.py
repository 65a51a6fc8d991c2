"""The smaller findings of issue 22, each with the hostile input as the issue wrote it:
one line and a documented exit code, never an internal error or a silent surprise."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from alchemiser_cli.app.status import current_legs
from alchemiser_cli.core.legs import LegStatus
from alchemiser_cli.journal.records import OrderRecord
from tests.conftest import REPO, SHARED, Run

CliFn = Callable[..., Run]
SMALL = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
THREE_FUND = str(REPO / "examples" / "targets" / "three-fund.toml")


def one_line(run: Run, code: int = 2) -> str:
    assert (run.exit_code, run.stdout) == (code, ""), run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "internal error" not in lines[0]
    return lines[0]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_an_as_of_out_of_range_is_one_line(cli: CliFn, day: str) -> None:
    line = one_line(cli("signal", SMALL, "--as-of", day))
    assert line == (f"alch: error: --as-of {day!r}: give a date from 1900-01-01 to 2199-12-31")


@pytest.mark.parametrize("flag", ["--from", "--to"])
def test_a_backtest_date_out_of_range_is_one_line(cli: CliFn, flag: str) -> None:
    dates = {"--from": "2024-01-02", "--to": "2024-01-31"} | {flag: "0001-01-01"}
    run = cli("backtest", "--targets", THREE_FUND, "--from", dates["--from"], "--to", dates["--to"])
    assert one_line(run) == (
        f"alch: error: {flag} '0001-01-01': give a date from 1900-01-01 to 2199-12-31"
    )


DEEP_JSON = '{"targets": ' * 100_000 + "1" + "}" * 100_000
DEEP_TOML = "[targets]\nVTI = " + "[" * 100_000 + "]" * 100_000 + "\n"


@pytest.mark.parametrize(
    ("name", "text"), [("deep.json", DEEP_JSON), ("deep.toml", DEEP_TOML)], ids=["json", "toml"]
)
def test_targets_nested_100000_deep_are_one_line(
    cli: CliFn, tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert "nested too deeply" in one_line(cli("plan", "--targets", str(path)))
    assert "nested too deeply" in one_line(cli("plan", "--targets", "-", input=text))


def test_a_plan_nested_100000_deep_is_one_line(cli: CliFn) -> None:
    assert "nested too deeply" in one_line(cli("check", "-", input=DEEP_JSON))


def test_a_config_nested_100000_deep_is_one_line(cli: CliFn, tmp_path: Path) -> None:
    path = tmp_path / "alch.toml"
    path.write_text("[planner]\nkeep = " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested too deeply" in one_line(cli("--config", str(path), "plan"))


def bars_file(directory: Path, symbol: str, closes: dict[date, str]) -> None:
    directory.mkdir(exist_ok=True)
    rows = "".join(f"{d.isoformat()},{c}\n" for d, c in sorted(closes.items()))
    (directory / f"{symbol}.csv").write_text("date,close\n" + rows, encoding="utf-8")


def weekdays(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)
            if (first + timedelta(days=i)).weekday() < 5]  # fmt: skip


def test_a_close_of_1e300_is_one_line_naming_the_file(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closes = dict.fromkeys(weekdays(date(2024, 1, 1), date(2024, 12, 31)), "100")
    closes[date(2024, 6, 3)] = "1e300"
    bars_file(tmp_path / "bars", "AAPL", closes)
    for symbol in ("MSFT", "JPM", "HD", "KO", "PG", "JNJ"):
        bars_file(tmp_path / "bars", symbol, dict.fromkeys(closes, "50"))
    monkeypatch.setenv("ALCH_SIM_BARS", str(tmp_path / "bars"))
    line = one_line(cli("signal", SMALL, "--as-of", "2024-12-02"))
    row = 1 + 1 + sorted(closes).index(date(2024, 6, 3))
    assert line == (
        f"alch: error: {tmp_path / 'bars' / 'AAPL.csv'}:{row}: close 1e300 is out of range "
        "(0.0001 to 10000000)"
    )


def test_a_nine_month_hole_in_a_symbols_closes_is_named(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = weekdays(date(2022, 1, 3), date(2024, 12, 31))
    hole = [d for d in days if date(2024, 3, 1) <= d <= date(2024, 11, 29)]
    aaa = {d: str(100 + i % 7) for i, d in enumerate(days) if d not in hole}
    bars_file(tmp_path / "bars", "AAA", aaa)
    bars_file(tmp_path / "bars", "BBB", dict.fromkeys(days, "50"))
    monkeypatch.setenv("ALCH_SIM_BARS", str(tmp_path / "bars"))
    strategy = tmp_path / "s.clj"
    strategy.write_text(
        '(defsymphony "hole" {} (if (> (rsi "AAA" {:window 10}) 50) [(asset "AAA")] '
        '[(asset "BBB")]))\n',
        encoding="utf-8",
    )
    run = cli("signal", str(strategy), "--as-of", "2024-12-03")
    assert run.exit_code == 0, run.stderr
    assert (
        "alch: note: AAA has no closes from 2024-03-01 to 2024-11-29 (274 days): indicators "
        "read across the hole as if the days were consecutive\n"
    ) in run.stderr


def test_from_before_the_bars_says_where_the_backtest_starts(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = weekdays(date(1990, 1, 2), date(1990, 3, 30))
    bars_file(tmp_path / "bars", "VTI", dict.fromkeys(days, "100"))
    monkeypatch.setenv("ALCH_SIM_BARS", str(tmp_path / "bars"))
    targets = tmp_path / "t.toml"
    targets.write_text("[targets]\nVTI = 1\n", encoding="utf-8")
    run = cli("backtest", "--targets", str(targets), "--from", "1975-01-02", "--to", "1990-03-30")
    assert run.exit_code == 0, run.stderr
    assert (
        "alch: note: the bars start 1990-01-02: the backtest starts on 1990-01-03, not at the "
        "session of 1975-01-02 that --from asks for\n"
    ) in run.stderr


def test_a_repeated_to_is_an_error_not_the_last_one(cli: CliFn) -> None:
    run = cli("backtest", "--targets", THREE_FUND, "--from", "2024-01-02",
              "--to", "2024-01-31", "--to", "2024-06-28")  # fmt: skip
    assert one_line(run) == (
        "alch: error: --to given twice as a date ('2024-01-31' and '2024-06-28'): give one "
        "last session (and at most one of edge or target)"
    )
    modes = cli("backtest", "--targets", THREE_FUND, "--from", "2024-01-02",
                "--to", "2024-01-31", "--to", "edge", "--to", "target")  # fmt: skip
    assert "--to given twice as a mode ('edge' and 'target')" in one_line(modes)


def test_terminal_escape_codes_in_a_strategy_name_are_shown_not_obeyed(
    cli: CliFn, tmp_path: Path
) -> None:
    strategy = tmp_path / "evil.clj"
    text = Path(SMALL).read_text(encoding="utf-8")
    text = text.replace('"Momentum or staples"', '"Evil\x1b[2J\x1b]0;pwned\x07 name"')
    text = text.replace('"Apple"', '"Apple\x1b[31m"')
    strategy.write_text(text, encoding="utf-8")
    for args in (["signal", str(strategy)], ["plan", "--strategy", str(strategy)]):
        run = cli(*args)
        assert run.exit_code == 0, run.stderr
        assert "\x1b" not in run.stdout
        assert "\x07" not in run.stdout
        assert "Evil\\x1b[2J\\x1b]0;pwned\\x07 name" in run.stdout
    sent = cli("execute", "--yes", "--strategy", str(strategy), "--json")
    shown = cli("status", "--run", sent.json()["run_id"])
    assert "\x1b" not in shown.stdout
    assert "Evil\\x1b[2J" in shown.stdout


@pytest.mark.shared
def test_cash_in_a_signal_document_is_a_plain_decimal(cli: CliFn) -> None:
    strategy = str(SHARED / "strategies" / "hedged_sector_rotator.clj")
    run = cli("signal", strategy, "--json", "--as-of", "2024-06-03")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["cash"] == "0"  # was "0E-27"
    assert doc["strategies"][0]["cash"] == "0"
    assert "E" not in json.dumps(doc["targets"])


def test_a_recovered_sliced_order_counts_every_slice_as_planned() -> None:
    def record(slice_no: int) -> OrderRecord:
        return OrderRecord(
            client_order_id=f"alch-0123abcd-1-{slice_no}-1", run_id="r", leg=1, symbol="VTI",
            side="buy", qty="4", limit_price="330", broker_order_id=f"b{slice_no}",
            status=LegStatus.FILLED, filled_qty="4", filled_avg_price="330", error=None,
        )  # fmt: skip

    (leg,) = current_legs([], [record(1), record(2), record(3)])  # a run with no report
    assert (leg.planned_qty, leg.sent_qty, leg.filled_qty) == ("12", "12", "12")


def test_a_relative_alch_home_is_refused(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCH_HOME", "state")
    line = one_line(cli("plan"))
    assert line == (
        "alch: error: invalid setting home (ALCH_HOME): state is a relative path: give an "
        "absolute one (a relative one follows the directory alch runs in, and cron's is not "
        'yours) (got "state")'
    )
    assert not Path("state").exists()


def test_h_is_help_and_flags_show_no_bool(cli: CliFn) -> None:
    for command in ("plan", "check", "execute", "status", "backtest", "signal"):
        run = cli(command, "-h")
        assert run.exit_code == 0, run.stderr
        assert "Usage: alch " in run.stdout
        assert "<bool>" not in run.stdout, command
    assert cli("-h").exit_code == 0


@pytest.mark.parametrize("shell", ["zsh", "fish", "bash"])
def test_show_completion_prints_the_script_of_the_shell_named(shell: str) -> None:
    import subprocess

    alch = REPO / ".venv" / "bin" / "alch"
    if not alch.exists():
        pytest.skip("needs make install")
    env = {k: v for k, v in os.environ.items() if not k.startswith("_TYPER")}
    done = subprocess.run(
        [str(alch), "--show-completion", shell], capture_output=True, text=True, env=env,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    marker = {"zsh": "#compdef alch", "fish": "complete --command alch", "bash": "complete -o"}
    assert marker[shell] in done.stdout


def test_check_and_execute_take_band_and_to(cli: CliFn) -> None:
    for command in ("check", "execute"):
        args = [command, "--band", "0.05", "--to", "edge", "--json"]
        run = cli(*args, *(["--yes"] if command == "execute" else []))
        assert run.exit_code == 0, run.stderr
        plan = run.json()["plan"] if command == "check" else None
        if plan is not None:
            assert (plan["policy"]["band_abs"], plan["policy"]["rebalance_to"]) == ("0.05", "edge")
    saved = cli("plan", "--json")
    refused = cli("check", "-", "--band", "0.05", input=saved.stdout)
    assert one_line(refused) == (
        "alch: error: --band, --to and --reinvest make a fresh plan; a saved plan keeps its "
        "own policy: drop them or plan afresh"
    )
    refused = cli("execute", "-", "--reinvest", "--yes", input=saved.stdout)
    assert refused.exit_code == 2
    assert "--reinvest make a fresh plan" in one_line(refused)


def test_a_plan_on_stdin_says_why_no_question_can_be_asked(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alchemiser_cli.cli import common

    monkeypatch.setattr(common, "stdin_is_tty", lambda: False)
    saved = cli("plan", "--json")
    run = cli("execute", "-", input=saved.stdout)
    assert one_line(run) == (
        "alch: error: execute needs confirmation, but the plan came on stdin, so no answer "
        "can be read from it: pass --yes, or save the plan (alch plan --out plan.json) and "
        "run `alch execute plan.json` (nothing was sent)"
    )


def test_no_changes_when_nothing_to_do(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.05")  # the leftover dollars stay put
    assert cli("execute", "--yes").exit_code == 0
    run = cli("plan")
    assert "No changes. The account is at its targets." in run.stdout


def test_detailed_exitcode_says_whether_the_plan_has_orders(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_PLANNER__BAND_ABS", "0.05")
    assert cli("plan", "--detailed-exitcode").exit_code == 6  # the plan has orders
    assert cli("plan").exit_code == 0  # opt-in only
    assert cli("execute", "--yes").exit_code == 0
    assert cli("plan", "--detailed-exitcode").exit_code == 0  # no changes
    assert cli("check", "--detailed-exitcode").exit_code == 0
