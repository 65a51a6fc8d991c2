"""Defects found by a hostile re-test of the tearsheet and `alch report` (issue 26), each
shown failing on the code before its fix."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Run

CliFn = Callable[..., Run]
TARGETS = str(REPO / "examples" / "targets" / "sixty-forty.toml")
BACKTEST = ("backtest", "--targets", TARGETS, "--from", "2024-01-02", "--to", "2024-02-01")


def test_a_report_is_never_written_over_alchs_state_or_the_files_of_the_run(
    cli: CliFn, isolated_state: Path, tmp_path: Path
) -> None:
    assert cli("status").exit_code == 0  # the journal exists
    journal = isolated_state / "journal.sqlite"
    before = journal.read_bytes()
    run = cli(*BACKTEST, "--report", str(journal))
    assert run.exit_code == 2
    assert "is inside ALCH_HOME" in run.stderr
    assert journal.read_bytes() == before
    config = tmp_path / "alch.toml"
    config.write_text("[planner]\ncollar_bps = 40\n")
    run = cli("--config", str(config), *BACKTEST, "--report", str(config))
    assert (run.exit_code, config.read_text()) == (2, "[planner]\ncollar_bps = 40\n")
    assert "is the config file of this run" in run.stderr
    mine = tmp_path / "mine.toml"
    mine.write_text(Path(TARGETS).read_text())
    run = cli("backtest", "--targets", str(mine), "--from", "2024-01-02", "--to", "2024-02-01",
              "--report", str(mine))  # fmt: skip
    assert run.exit_code == 2
    assert "is the targets file of this run" in run.stderr
    assert mine.read_text() == Path(TARGETS).read_text()
    inside = isolated_state / "cache" / "mine"
    run = cli(*BACKTEST, "--csv", str(inside))
    assert run.exit_code == 2
    assert "is inside ALCH_HOME" in run.stderr
    assert not inside.exists()
    for state in ("journal.sqlite-wal", "sim.sqlite", "logs"):
        run = cli(*BACKTEST, "--report", str(isolated_state / state))
        assert (run.exit_code, "is inside ALCH_HOME" in run.stderr) == (2, True), state
    # a new file of the user's own beside alch's state is no harm (shared/journeys.py)
    mine = isolated_state / "report.html"
    assert cli(*BACKTEST, "--report", str(mine)).exit_code == 0
    assert (
        cli(*BACKTEST, "--report", str(mine), "--csv", str(isolated_state / "csv")).exit_code == 0
    )
    assert (isolated_state / "csv" / "equity.csv").is_file()


def test_the_live_reports_files_are_private_to_their_owner(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in ("2026-11-23", "2026-11-24"):  # two sessions of the account's history
        monkeypatch.setenv("ALCH_SIM_NOW", f"{day}T15:00:00+00:00")
        assert cli("status").exit_code == 0
    page, folder = tmp_path / "live.html", tmp_path / "live"
    old = os.umask(0o022)
    try:
        run = cli("report", "--report", str(page), "--csv", str(folder))
    finally:
        os.umask(old)
    assert run.exit_code == 0, run.stderr
    written = [page, *sorted(folder.iterdir())]
    assert len(written) == 5
    # the account's number, equity and cash flows: its owner's alone, as `alch tax --csv`
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {"0o600"}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"timestamp": ["monday"], "equity": [1]}, "timestamp 'monday'"),
        ({"timestamp": [None], "equity": [1]}, "timestamp None"),
        ({"timestamp": [True], "equity": [1]}, "timestamp True"),
        ({"timestamp": [1e20], "equity": [1]}, "timestamp 1e+20"),
        ({"timestamp": [1763960400], "equity": [1], "cashflow": "CSD"}, "cashflow"),
        ({"timestamp": [1763960400, 1763960400], "equity": [1, 2]}, "not in time order"),
        ({"timestamp": [1764046800, 1763960400], "equity": [1, 2]}, "not in time order"),
    ],
)
def test_a_portfolio_history_alpaca_would_never_send_is_one_broker_error(
    raw: dict[str, object], says: str
) -> None:
    from alchemiser_cli.brokers.alpaca.history import parse_history
    from alchemiser_cli.errors import BrokerError

    with pytest.raises(BrokerError, match="unexpected portfolio history from Alpaca") as err:
        parse_history(raw)
    assert says in str(err.value)


def _two_sessions(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo account touched on two sessions: a history to measure."""
    for day in ("2026-11-23", "2026-11-24"):
        monkeypatch.setenv("ALCH_SIM_NOW", f"{day}T15:00:00+00:00")
        assert cli("status").exit_code == 0


def test_a_report_ends_today_whatever_the_to_flag_says(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_sessions(cli, monkeypatch)
    folder = tmp_path / "csv"
    # the simulator valued the account on closes of days to come (to 2200: 174 years of
    # made-up returns) and crashed on 2999 (exit 70); dates now end at 2199-12-31
    for to in ("2150-12-31", "2199-12-31"):
        run = cli("report", "--to", to, "--csv", str(folder))
        assert run.exit_code == 0, run.stderr
        assert f"--to {to} is after today: the report ends 2026-11-24" in run.stderr
        rows = (folder / "equity.csv").read_text().splitlines()
        assert rows[-1].startswith("2026-11-24,")
        folder = tmp_path / "csv2"
    far = cli("report", "--to", "2999-12-31")
    assert far.exit_code == 2
    assert (
        far.stderr == "alch: error: --to '2999-12-31': give a date from 1900-01-01 to 2199-12-31\n"
    )
    later = cli("report", "--from", "2027-01-04")
    assert later.exit_code == 2
    assert later.stderr == "alch: error: --from 2027-01-04 is after today (2026-11-24)\n"


def test_a_live_report_valued_on_synthetic_bars_says_so(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _two_sessions(cli, monkeypatch)
    page = tmp_path / "live.html"
    run = cli("report", "--benchmark", "SPY", "--report", str(page))
    assert run.exit_code == 0, run.stderr
    assert "synthetic bars" in run.stderr  # the simulator's account, valued on made-up closes
    html = page.read_text(encoding="utf-8")
    assert "SYNTHETIC BARS" in html
    assert "<th>bars</th><td>SYNTHETIC (a demonstration, not market data)</td>" in html
    bars = tmp_path / "bars"  # real closes for every symbol: no such label
    bars.mkdir()
    for symbol in ("AAPL", "BND", "VTI", "SPY"):
        (bars / f"{symbol}.csv").write_text(
            "date,close\n2026-11-20,100\n2026-11-23,101\n2026-11-24,102\n"
        )
    monkeypatch.setenv("ALCH_SIM_BARS", str(bars))
    run = cli("report", "--benchmark", "SPY", "--report", str(tmp_path / "real.html"))
    assert run.exit_code == 0, run.stderr
    assert "SYNTHETIC" not in (tmp_path / "real.html").read_text(encoding="utf-8")
    assert "synthetic" not in run.stderr


@pytest.mark.parametrize("flag", [("--tax",), ("--report", "replay.html"), ("--csv", "replay-csv")])
def test_replay_journal_refuses_the_flags_it_would_ignore(
    cli: CliFn, flag: tuple[str, ...]
) -> None:
    run = cli("backtest", "--replay-journal", *flag)
    assert run.exit_code == 2
    assert run.stderr == (
        f"alch: error: --replay-journal lists the differences of journaled runs: it takes no "
        f"{flag[0]} (drop one)\n"
    )


def test_trades_csv_has_money_to_the_cent(cli: CliFn, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    assert cli(*BACKTEST, "--csv", str(folder)).exit_code == 0
    rows = (folder / "trades.csv").read_text().splitlines()
    assert rows[0] == "date,symbol,side,qty,price,value,cost,fees"
    for row in rows[1:]:
        *_, value, cost, fees = row.split(",")
        # the module promises money to the cent: the cost column had 19 decimals
        assert all(len(v.partition(".")[2]) <= 2 for v in (value, cost, fees)), row


def test_the_live_report_against_its_backtest_and_a_benchmark_fits_400_pixels(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.chromium import CHROMIUM, Browser
    from tests.test_tearsheet import CLIPPED, REQUIRE_BROWSER

    if CHROMIUM is None:
        if REQUIRE_BROWSER:
            pytest.fail("Chromium is required here (ALCH_TEST_REQUIRE_CHROMIUM=1) but missing")
        pytest.skip("chromium is not installed (.ci/run installs it)")
    _two_sessions(cli, monkeypatch)
    page = tmp_path / "live.html"
    run = cli("report", "--targets", TARGETS, "--benchmark", "SPY", "--report", str(page))
    assert run.exit_code == 0, run.stderr
    with Browser(tmp_path / "profile") as browser:
        for width in (1280, 400):
            browser.open(page, width)
            assert browser.problems() == []
            # three columns of figures (live, backtest, benchmark) beside the names: at 400
            # pixels the benchmark's were cut off behind a scroll bar
            assert browser.evaluate(CLIPPED) == [], width


def test_a_report_or_csv_never_replaces_a_special_file(cli: CliFn, tmp_path: Path) -> None:
    # A FIFO stands in for /dev/null: run as root, `--report /dev/null` replaced the device
    # node with a regular file (the temporary file renamed over it)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = cli(*BACKTEST, "--report", str(fifo))
    assert run.exit_code == 2
    assert run.stderr == (
        f"alch: error: --report {fifo} is not a regular file (a device, a pipe or a socket): "
        "write the report elsewhere\n"
    )
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    run = cli("tax", "--csv", str(fifo), "--overwrite")
    assert run.exit_code == 2
    assert run.stderr.startswith(f"alch: error: --csv {fifo} is not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_only_external_cash_flows_are_taken_out_of_the_returns() -> None:
    from decimal import Decimal

    from alchemiser_cli.brokers.alpaca.history import parse_history

    # a dividend (DIV) is a return, not a deposit, even if Alpaca lists it among the flows
    raw = {
        "timestamp": [1763960400, 1764046800],
        "equity": [1000, 1110],
        "cashflow": {"CSD": [0, 100], "DIV": [0, 10]},
    }
    assert parse_history(raw).flows == (Decimal(0), Decimal(100))
