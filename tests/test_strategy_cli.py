"""`alch signal`: the tree, the targets document, the pipe into `alch plan`, and errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import OPEN_NOW, REPO, SCHEMA_DIR, Run, schema_validator, use_fake_alpaca
from tests.fake_alpaca import CANARY_KEY_ID, CANARY_SECRET, FakeAlpaca
from tests.test_strategy_indicators import US_DAILY

CliFn = Callable[..., Run]
SMALL = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
LARGE = str(REPO / "examples" / "strategies" / "sector-groups.clj")


def nodes(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return [trace] + [n for child in trace["children"] for n in nodes(child)]


def test_signal_prints_the_tree_and_weights_on_synthetic_bars(cli: CliFn) -> None:
    run = cli("signal", SMALL, "--as-of", "2024-06-03")
    assert run.exit_code == 0, run.stderr
    assert "Momentum or staples" in run.stdout
    assert "as of 2024-06-03 SYNTHETIC BARS" in run.stdout
    assert "then branch, not taken" in run.stdout or "else branch, not taken" in run.stdout
    assert "Target weights" in run.stdout
    assert run.stderr == (
        "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, not market data\n"
    )


def test_signal_json_follows_the_targets_schema(cli: CliFn) -> None:
    run = cli("signal", LARGE, "--json", "--as-of", "2024-06-03")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    schema_validator("targets").validate(doc)
    assert (doc["schema_version"], doc["as_of"], doc["synthetic_bars"]) == (1, "2024-06-03", True)
    assert doc["rebalance_threshold"] == "0.04"
    assert sum(Decimal(w) for w in doc["targets"].values()) + Decimal(doc["cash"]) == 1
    (strategy,) = doc["strategies"]
    assert strategy["trace"]["kind"] == "if"
    published = cli("schema", "targets")
    on_disk = json.loads((SCHEMA_DIR / "targets.schema.json").read_text(encoding="utf-8"))
    assert json.loads(published.stdout) == on_disk, "run `make schemas` and commit the result"


@pytest.mark.shared
def test_signal_on_real_closes_gives_exact_weights(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    small = cli("signal", SMALL, "--json", "--as-of", "2022-06-01")
    assert small.exit_code == 0, small.stderr
    assert small.stderr == ""  # real closes: no synthetic note
    assert small.json()["targets"] == {"HD": "0.5", "JPM": "0.5"}
    large = cli("signal", LARGE, "--json", "--as-of", "2022-06-01").json()
    targets = {s: Decimal(w) for s, w in large["targets"].items()}
    assert set(targets) == {"JPM", "KO", "PEP", "PG"}
    assert targets["JPM"] == Decimal("0.7")
    assert (large["as_of"], large["synthetic_bars"]) == ("2022-06-01", False)
    (group_filter,) = [
        n for n in nodes(large["strategies"][0]["trace"]) if n["pos"].endswith(":18:7")
    ]
    assert [s["label"] for s in group_filter["values"]["scores"]] == [
        "Energy and banks",
        "Health",
        "Technology",
        "Retail",
    ]


def test_signal_json_pipes_into_plan(cli: CliFn) -> None:
    signal = cli("signal", LARGE, "--json", "--as-of", "2024-06-03")
    plan = cli("plan", "--targets", "-", "--json", input=signal.stdout)
    assert plan.exit_code == 0, plan.stderr
    targets = {p["symbol"]: Decimal(p["target_weight"]) for p in plan.json()["positions"]}
    for symbol, weight in signal.json()["targets"].items():
        assert targets[symbol] == Decimal(weight).quantize(targets[symbol])  # shown to 6 places


def test_two_files_blend_by_weight(cli: CliFn) -> None:
    run = cli("signal", f"{SMALL}=0.25", f"{LARGE}=0.75", "--json", "--as-of", "2024-06-03")
    assert run.exit_code == 0, run.stderr
    doc = run.json()
    assert [s["blend_weight"] for s in doc["strategies"]] == ["0.25", "0.75"]
    assert doc["rebalance_threshold"] == "0.04"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.clj"], "alch: error: nope.clj: strategy file not found\n"),
        ([SMALL, "--as-of", "June"], "alch: error: --as-of 'June': give a date as YYYY-MM-DD\n"),
        (
            [SMALL, "--fragile-margin", "x"],
            "alch: error: --fragile-margin 'x': give a fraction such as 0.02 or 2%\n",
        ),
        (
            [f"{SMALL}=0.5", LARGE],
            "alch: error: give a weight to every strategy file (FILE=0.6) or to none\n",
        ),
        (
            [f"{SMALL}=nan"],
            f"alch: error: {SMALL}=nan: the weight after = must be above 0 and at most 1\n",
        ),
        (
            [f"{SMALL}=1e999999999"],
            f"alch: error: {SMALL}=1e999999999: the weight after = must be above 0 and at most 1\n",
        ),
        (
            [f"{SMALL}=-1", f"{LARGE}=2"],
            f"alch: error: {SMALL}=-1: the weight after = must be above 0 and at most 1\n",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: CliFn, args: list[str], message: str) -> None:
    run = cli("signal", *args)
    assert (run.exit_code, run.stderr, run.stdout) == (2, message, "")


def test_short_history_exits_2_naming_place_symbol_window_and_bars(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    broken = cli(
        "signal", "tests/../examples/strategies/momentum-or-staples.clj", "--as-of", "2015-02-02"
    )
    assert broken.exit_code == 2
    assert broken.stderr == (
        "alch: error: tests/../examples/strategies/momentum-or-staples.clj:9:6: "
        "moving-average-price window 50: AAPL has 22 daily bars through 2015-02-02, "
        "the window needs 50\n"
    )


def test_unknown_form_exits_2(cli: CliFn, make_file: Callable[[str, str], object]) -> None:
    path = make_file("x.clj", '(defsymphony "X" {}\n  (buy-the-dip "SPY"))\n')
    run = cli("signal", str(path))
    assert run.exit_code == 2
    assert run.stderr == f"alch: error: {path}:2:3: unknown form 'buy-the-dip'\n"


@pytest.mark.shared
def test_missing_csv_in_sim_bars_is_an_error(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    path = REPO / "examples" / "strategies" / "momentum-or-staples.clj"
    text = path.read_text(encoding="utf-8").replace('"KO"', '"ZZZZ"')
    assert isinstance(tmp_path, type(REPO))
    other = tmp_path / "z.clj"
    other.write_text(text, encoding="utf-8")
    run = cli("signal", str(other))
    assert run.exit_code == 2
    assert run.stderr == (
        f"alch: error: no daily bars for ZZZZ: {US_DAILY / 'ZZZZ.csv'} does not exist "
        "(add it to ALCH_SIM_BARS or unset ALCH_SIM_BARS for synthetic bars)\n"
    )


@pytest.fixture
def alpaca_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpaca]:
    """The CLI pointed at the fake Alpaca server (at the suite's fixed time)."""
    with FakeAlpaca(tmp_path / "fake", datetime.fromisoformat(OPEN_NOW)) as server:
        use_fake_alpaca(server, monkeypatch)
        yield server


def test_signal_on_alpaca_reads_cached_adjusted_bars_and_hides_the_keys(
    cli: CliFn, alpaca_env: FakeAlpaca, make_file: Callable[[str, str], Path]
) -> None:
    alpaca_env.sim.set_quote("SPY", Decimal("661.10"), Decimal("661.14"))
    alpaca_env.sim.set_adv("SPY", Decimal(80_000_000))
    path = make_file(
        "spy.clj",
        '(defsymphony "S" {}\n (if (> (current-price "SPY") 600) [(asset "SPY")] [(asset "VTI")]))',
    )
    run = cli("signal", str(path), "--json", "--as-of", "2026-11-20")
    assert run.exit_code == 3  # VTI has no bars at the fake: a broker error, never cash
    assert run.stderr == (
        "alch: error: Alpaca has no daily bars for VTI from 2026-11-04 to 2026-11-20 "
        "(feed iex): check the symbols\n"
    )
    alpaca_env.sim.set_adv("VTI", Decimal(3_500_000))
    ok = cli("signal", str(path), "--json", "--as-of", "2026-11-20")
    assert ok.exit_code == 0, ok.stderr
    assert ok.json()["targets"] == {"SPY": "1"}
    assert ok.json()["synthetic_bars"] is False
    queries = [e for e in alpaca_env.log if e.path == "/v2/stocks/bars"]
    again = cli("signal", str(path), "--json", "--as-of", "2026-11-20")
    assert again.stdout == ok.stdout
    assert [e for e in alpaca_env.log if e.path == "/v2/stocks/bars"] == queries  # cached
    for out in (run, ok, again):
        assert CANARY_SECRET not in out.stdout + out.stderr
        assert CANARY_KEY_ID not in out.stdout + out.stderr


def test_with_the_market_open_current_price_is_the_latest_trade(
    cli: CliFn, alpaca_env: FakeAlpaca, make_file: Callable[[str, str], Path]
) -> None:
    # bars close at 661.14 (the fake's ask); the live mid is 661.12: below 661.13
    alpaca_env.sim.set_quote("SPY", Decimal("661.10"), Decimal("661.14"))
    for symbol in ("SPY", "VTI"):
        alpaca_env.sim.set_adv(symbol, Decimal(1_000_000))
    path = make_file(
        "live.clj",
        '(defsymphony "L" {}\n (if (> (current-price "SPY") 661.13) '
        '[(asset "SPY")] [(asset "VTI")]))',
    )
    closed = cli("signal", str(path), "--json", "--as-of", "2026-11-23").json()
    assert (closed["targets"], closed["current_price_live"]) == ({"SPY": "1"}, False)
    alpaca_env.sim.set_quote("SPY", Decimal("661.10"), Decimal("661.14"))
    live = cli("signal", str(path), "--json")
    assert live.exit_code == 0, live.stderr
    doc = live.json()
    assert doc["as_of"] == "2026-11-23"  # the last completed session; the market is open
    assert doc["current_price_live"] is True
    assert doc["targets"] == {"VTI": "1"}


def test_absurd_number_and_absurd_nesting_exit_2_not_internal_error(
    cli: CliFn, make_file: Callable[[str, str], object]
) -> None:
    huge = make_file(
        "huge.clj",
        '(defsymphony "X" {}\n  (if (> (rsi "SPY" {:window 10}) 1e999999999)'
        ' [(asset "SPY")] [(asset "QQQ")]))\n',
    )
    run = cli("signal", str(huge))
    assert run.exit_code == 2
    assert run.stderr == (
        f"alch: error: {huge}:2:35: '1e999999999' is out of range "
        "(its size must be 0 or from 1e-15 to below 1e16)\n"
    )
    deep = make_file(
        "deep.clj",
        '(defsymphony "X" {}\n' + "(weight-equal [" * 300 + '(asset "SPY")' + "])" * 300 + ")\n",
    )
    run = cli("signal", str(deep))
    assert run.exit_code == 2
    assert run.stderr == f"alch: error: {deep}:2:1920: nested more than 256 brackets deep\n"


@pytest.mark.shared
def test_signal_on_bars_that_end_before_the_session_asked_for_says_so(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real closes end 2022-12-28: an as-of in 2024 is evaluated on them, and says so.
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))
    run = cli("signal", SMALL, "--json", "--as-of", "2024-06-01")
    assert run.exit_code == 0, run.stderr
    assert run.json()["as_of"] == "2022-12-28"
    assert run.stderr == (
        f"alch: note: {SMALL}: its bars end 2022-12-28, before the session of 2024-05-31: "
        "the decision is made on stale data\n"
    )


def test_an_empty_strategies_table_is_an_error_not_the_demo(
    cli: CliFn, make_file: Callable[[str, str], Path]
) -> None:
    config = make_file("alch.toml", "[strategies]\n")
    run = cli("--config", str(config), "plan")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: [strategies] in {config} is empty: add a strategy "
        '("file.clj" = 1.0) or remove the table\n'
    )
