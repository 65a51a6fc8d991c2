"""The simulator serves strategies: quotes from ALCH_SIM_BARS closes on its session, a seed
that lists symbols, and labelled synthetic quotes for any symbol without bars."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import Run

CliFn = Callable[..., Run]
# 2026-11-24 10:00 New York (OPEN_NOW): the session in progress is 2026-11-24.


def bars(directory: Path, symbol: str, rows: list[tuple[str, str]]) -> None:
    directory.mkdir(exist_ok=True)
    text = "date,close\n" + "".join(f"{d},{c}\n" for d, c in rows)
    (directory / f"{symbol}.csv").write_text(text, encoding="utf-8")


@pytest.fixture
def bar_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "bars"
    bars(directory, "AAA", [("2026-11-20", "99"), ("2026-11-23", "100"), ("2026-11-24", "101")])
    bars(directory, "VTI", [("2026-11-23", "300"), ("2026-11-24", "310")])
    monkeypatch.setenv("ALCH_SIM_BARS", str(directory))
    return directory


def test_a_symbol_with_bars_is_quoted_at_its_close_on_the_session(
    cli: CliFn, bar_dir: Path, make_file: Callable[[str, str], Path]
) -> None:
    targets = make_file("t.toml", "[targets]\nAAA = 0.5\nVTI = 0.5\n")
    run = cli("plan", "--targets", str(targets), "--json")
    assert run.exit_code == 0, run.stderr
    prices = run.json()["prices"]
    # 101 less and plus half of 5 bps, on the tick grid (the bid down, the ask up)
    assert (prices["AAA"]["bid"], prices["AAA"]["ask"]) == ("100.97", "101.03")
    # the bars win over the seed's fixed quote (330.10 / 330.14)
    assert (prices["VTI"]["bid"], prices["VTI"]["ask"]) == ("309.92", "310.08")
    assert run.json()["synthetic_prices"] == []


def test_the_configured_spread_is_split_either_side(
    cli: CliFn,
    bar_dir: Path,
    make_file: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALCH_SIM_SPREAD_BPS", "20")
    run = cli("plan", "--targets", str(make_file("t.toml", "[targets]\nAAA = 1\n")), "--json")
    assert run.exit_code == 0, run.stderr
    aaa = run.json()["prices"]["AAA"]
    assert (aaa["bid"], aaa["ask"], aaa["ref"]) == ("100.89", "101.11", "101")


def test_bars_that_end_before_the_session_give_a_quote_as_old_as_its_close(
    cli: CliFn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_file: Callable[[str, str], Path],
) -> None:
    directory = tmp_path / "old"
    bars(directory, "AAA", [("2026-11-19", "50"), ("2026-11-20", "51")])
    monkeypatch.setenv("ALCH_SIM_BARS", str(directory))
    run = cli("check", "--targets", str(make_file("t.toml", "[targets]\nAAA = 1\n")), "--json")
    assert run.exit_code == 1, run.stderr
    (age,) = [f for f in run.json()["findings"] if f["check_id"] == "prices.quote_age"]
    assert age["severity"] == "block"
    assert age["symbol"] == "AAA"


def test_without_bars_a_symbol_outside_the_seed_gets_a_labelled_synthetic_quote(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    run = cli("plan", "--targets", str(make_file("t.toml", "[targets]\nTQQQ = 1\n")), "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["synthetic_prices"] == ["TQQQ"]
    tqqq = doc["prices"]["TQQQ"]
    assert Decimal(tqqq["bid"]) < Decimal(tqqq["ask"])
    assert (
        "alch: note: synthetic prices for TQQQ (the simulator has no quote or bars for it; "
        "ALCH_SIM_BARS is unset): a demonstration, not market data\n"
    ) in run.stderr
    table = cli("plan", "--targets", str(make_file("t2.toml", "[targets]\nTQQQ = 1\n")))
    assert "SYNTHETIC PRICES: TQQQ" in table.stdout


def test_the_seed_may_list_symbols_priced_from_the_bars(
    cli: CliFn,
    bar_dir: Path,
    make_file: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = make_file(
        "seed.toml",
        'account_id = "SIM-LIST"\ncash = "10000"\nquotes = ["AAA", "VTI"]\n'
        '[positions]\nAAA = "10"\n',
    )
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    run = cli("plan", "--targets", str(make_file("t.toml", "[targets]\nVTI = 1\n")), "--json")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert doc["account"]["equity"] == "11010"  # 10 AAA at 101 and the cash
    assert [o["symbol"] for o in doc["orders"]] == ["AAA", "VTI"]


def test_a_listed_symbol_without_a_bars_file_is_an_error_naming_the_file(
    cli: CliFn,
    bar_dir: Path,
    make_file: Callable[[str, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed = make_file("seed.toml", 'cash = "10000"\nquotes = ["AAA", "ZZZ"]\n')
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    run = cli("plan", "--targets", str(make_file("t.toml", "[targets]\nZZZ = 1\n")))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: no daily bars for ZZZ: {bar_dir / 'ZZZ.csv'} does not exist (add it to "
        "ALCH_SIM_BARS or unset ALCH_SIM_BARS for synthetic bars)\n"
    )


def test_a_seed_list_that_is_not_symbols_is_refused(
    cli: CliFn, make_file: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed = make_file("seed.toml", 'cash = "10000"\nquotes = ["AAA", 3]\n')
    monkeypatch.setenv("ALCH_SIM_ACCOUNT", str(seed))
    run = cli("plan")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"alch: error: {seed}: quotes: 3 is not a symbol\n"


def test_an_unknown_symbol_under_bars_has_no_quote(
    cli: CliFn, bar_dir: Path, make_file: Callable[[str, str], Path]
) -> None:
    run = cli("plan", "--targets", str(make_file("t.toml", "[targets]\nZZZZ = 1\n")))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == "alch: error: no quote from sim for ZZZZ\n"


def test_after_sim_reset_the_same_plan_runs_again_the_same_day(cli: CliFn) -> None:
    """A reset starts the simulated account over: the journal's earlier runs are of an
    account that no longer exists (not "already executed", not "already ran today")."""
    first = cli("execute", "--yes", "--json")
    assert first.json()["outcome"] == "completed", first.stderr
    assert cli("sim", "reset").exit_code == 0
    again = cli("execute", "--yes", "--json")
    assert again.exit_code == 0, again.stderr
    assert again.json()["outcome"] == "completed", again.json()["message"]
    assert again.json()["plan_id"] == first.json()["plan_id"]
    assert cli("execute", "--yes", "--json").json()["outcome"] == "nothing_to_do"
