"""Strategies wired into plan/check/execute: targets from `--strategy` or `[strategies]`,
the trace on the plan, in the journal and in `status --run`, and the signal.* checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alchemiser_cli.core.checks.record import Severity, Unit
from alchemiser_cli.core.checks.run import run_checks
from alchemiser_cli.core.checks.signal import (
    check_signal_fragile,
    check_signal_stale,
    check_signal_tradable,
)
from alchemiser_cli.core.policy import Limits
from alchemiser_cli.core.strategy.record import SignalRecord, StrategyDocument, TraceDocument
from tests.conftest import REPO, Run, make_snapshot
from tests.test_checks import ctx, figures, world
from tests.test_strategy_indicators import US_DAILY

CliFn = Callable[..., Run]
SMALL = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
LARGE = str(REPO / "examples" / "strategies" / "sector-groups.clj")
LAST_SESSION = date(2026, 11, 23)  # the last closed session at OPEN_NOW (Tuesday 10:00 ET)
BAND_NOTICE = (
    "alch: note: no drift band configured: using the strategy's :rebalance-threshold 0.04 as "
    "the absolute band (band_abs); set [planner] band_abs or --band to override\n"
)


def D(text: str) -> Decimal:
    return Decimal(text)


def weights(doc: dict[str, str]) -> dict[str, Decimal]:
    return {s: Decimal(w) for s, w in doc.items()}


def record(
    *,
    fragile: bool = False,
    values: dict[str, Any] | None = None,
    as_of: date = LAST_SESSION,
    stale: dict[str, date] | None = None,
    symbols: tuple[str, ...] = ("AAA", "BBB"),
) -> SignalRecord:
    """A strategy record whose weights give the targets of `world()` (AAA 20%, BBB 60%)."""
    trace = TraceDocument(
        "if",
        "if@3:2",
        "s.clj:3:2",
        D("1"),
        True,
        "rsi(AAA, 10) = 100 > 98: true, margin 2",
        fragile,
        values or {"lhs": "100", "op": ">", "rhs": "98", "holds": True, "margin": "2"},
        1,
        (),
    )
    strategy = StrategyDocument(
        "s.clj",
        "S",
        D("1"),
        as_of,
        {"AAA": D("0.2"), "BBB": D("0.6")},
        D("0.2"),
        None,
        None,
        (),
        stale or {},
        trace,
    )
    return SignalRecord(as_of, False, False, D("0.02"), None, symbols, (strategy,))


# ---- the checks ------------------------------------------------------------------------


def test_signal_checks_say_why_they_did_not_look_without_strategies() -> None:
    plan, snap = world()
    said = {f.check_id: f for f in run_checks(plan, snap, ctx()).findings}
    for check_id in ("signal.tradable", "signal.fragile", "signal.stale"):
        assert said[check_id].severity is Severity.PASS
        assert said[check_id].message == "not checked: the targets do not come from strategies"


def test_a_fragile_decision_warns_with_its_margin_and_blocks_when_configured() -> None:
    plan, snap = world()
    assert check_signal_fragile(replace(plan, signal=record()), snap, ctx()) is None
    fragile = replace(plan, signal=record(fragile=True))
    found = check_signal_fragile(fragile, snap, ctx())
    assert found is not None
    assert found.severity is Severity.WARN
    assert found.message == (
        "1 strategy decision(s) within 2% of flipping; closest 2%: S at s.clj:3:2: "
        "rsi(AAA, 10) = 100 > 98: true, margin 2"
    )
    assert figures(found) == (None, D("0.02"), D("0.02"), Unit.RATIO)
    blocking = check_signal_fragile(fragile, snap, ctx(limits=Limits(block_fragile=True)))
    assert blocking is not None
    assert blocking.severity is Severity.BLOCK


def test_a_fragile_filter_reports_the_last_kept_against_the_first_left_out() -> None:
    plan, snap = world()
    scores = [
        {"label": "AAA", "pos": "s.clj:5:1", "score": "10"},
        {"label": "BBB", "pos": "s.clj:6:1", "score": "9.9"},
        {"label": "CCC", "pos": "s.clj:7:1", "score": "1"},
    ]
    signal = record(fragile=True, values={"scores": scores, "selected": ["AAA", "BBB"]})
    found = check_signal_fragile(replace(plan, signal=signal), snap, ctx())
    assert figures(found) == (None, D("8.9") / D("9.9"), D("0.02"), Unit.RATIO)  # 9.9 over 1
    signal = record(fragile=True, values={"scores": scores, "selected": ["AAA"]})
    found = check_signal_fragile(replace(plan, signal=signal), snap, ctx())
    assert figures(found) == (None, D("0.01"), D("0.02"), Unit.RATIO)  # 10 kept over 9.9


def test_an_untradable_strategy_symbol_warns_and_blocks_once_held() -> None:
    plan, snap = world()
    signal = record(symbols=("AAA", "BBB", "ZZZ"))
    found = check_signal_tradable(replace(plan, signal=signal), snap, ctx())
    assert found is not None
    assert found.severity is Severity.WARN
    assert found.message == (
        "strategy symbols not tradable at sim: ZZZ (not held today; a branch can switch to them)"
    )
    assert figures(found) == ("ZZZ", None, None, None)
    halted = make_snapshot(
        "6000",
        positions={"AAA": "40"},
        quotes={"AAA": ("100", "100"), "BBB": ("100", "100")},
        not_tradable=("AAA",),
    )
    found = check_signal_tradable(replace(plan, signal=signal), halted, ctx())
    assert found is not None
    assert found.severity is Severity.BLOCK
    assert found.message == "the strategies' targets hold AAA, not tradable at sim"
    assert figures(found) == ("AAA", None, None, None)


def test_bars_older_than_the_last_session_block() -> None:
    plan, snap = world()
    fresh = replace(plan, signal=record())
    assert check_signal_stale(fresh, snap, ctx(last_session=LAST_SESSION)) is None
    old = replace(plan, signal=record(as_of=date(2026, 11, 20)))
    found = check_signal_stale(old, snap, ctx(last_session=LAST_SESSION))
    assert found is not None
    assert found.severity is Severity.BLOCK
    assert found.message == (
        "strategy data older than the last session 2026-11-23: the bars end 2026-11-20"
    )
    assert figures(found) == (None, D("3"), D("0"), Unit.DAYS)
    lagging = replace(plan, signal=record(stale={"BBB": date(2026, 11, 19)}))
    found = check_signal_stale(lagging, snap, ctx(last_session=LAST_SESSION))
    assert found is not None
    assert found.message == (
        "strategy data older than the last session 2026-11-23: last bar BBB 2026-11-19"
    )
    assert figures(found) == ("BBB", D("4"), D("0"), Unit.DAYS)


# ---- plan, check, execute with --strategy ----------------------------------------------


def test_plan_from_a_strategy_carries_the_trace_and_its_threshold_as_the_band(
    cli: CliFn,
) -> None:
    signal = cli("signal", LARGE, "--json")
    assert signal.exit_code == 0, signal.stderr
    run = cli("plan", "--strategy", LARGE, "--json")
    assert run.exit_code == 0, run.stderr
    assert BAND_NOTICE in run.stderr
    plan = run.json()
    assert weights(plan["targets"]) == weights(signal.json()["targets"])
    assert plan["targets_source"] == f"strategies {LARGE} (100%)"
    assert plan["policy"]["band_abs"] == "0.04"
    trace = plan["signal"]
    assert (trace["as_of"], trace["synthetic_bars"], trace["fragile_margin"]) == (
        "2026-11-23",
        True,
        "0.02",
    )
    assert trace["strategies"] == signal.json()["strategies"]
    assert trace["symbols"] == [
        "AAPL", "HD", "JNJ", "JPM", "KO", "MRK", "MSFT", "PEP", "PG", "UNH", "XOM",
    ]  # fmt: skip
    # The plan id covers the targets and the policy, not the trace: the signal document
    # through a pipe is the same decision, with its band and trace.
    piped = cli("plan", "--targets", "-", "--json", input=signal.stdout)
    assert piped.json()["plan_id"] == plan["plan_id"]
    assert piped.json()["signal"] == trace


def test_a_configured_band_wins_over_the_strategy_threshold(cli: CliFn) -> None:
    run = cli("plan", "--strategy", LARGE, "--band", "0.1", "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["policy"]["band_abs"] == "0.1"
    assert "rebalance-threshold" not in run.stderr


def test_strategies_from_the_config_blend_by_weight(cli: CliFn, make_file: Any) -> None:
    config = make_file("alch.toml", f'[strategies]\n"{SMALL}" = 0.25\n"{LARGE}" = "75%"\n')
    signal = cli("signal", f"{SMALL}=0.25", f"{LARGE}=0.75", "--json")
    run = cli("--config", str(config), "plan", "--json")
    assert run.exit_code == 0, run.stderr
    assert weights(run.json()["targets"]) == weights(signal.json()["targets"])
    assert [s["blend_weight"] for s in run.json()["signal"]["strategies"]] == ["0.25", "0.75"]
    # A flag wins over the config's other kind of source.
    plain = "VTI,1\n"
    flagged = cli("--config", str(config), "plan", "--targets", "-", "--json", input=plain)
    assert flagged.exit_code == 0
    assert flagged.json()["signal"] is None


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (
            [
                "plan",
                "--strategy",
                SMALL,
                "--targets",
                str(REPO / "examples/targets/three-fund.toml"),
            ],
            None,
            "give either --targets or --strategy, not both",
        ),
        (
            ["plan", "--strategy", SMALL, "--liquidate"],
            None,
            "--liquidate sells every position and takes no --strategy: drop one",
        ),
        (
            ["check", "plan.json", "--strategy", SMALL],
            None,
            "give either a saved PLAN or --strategy, not both",
        ),
        (
            ["plan"],
            '[targets]\nVTI = 1\n[strategies]\n"s.clj" = 1\n',
            "both [strategies] and [targets] are set in {config}: keep one",
        ),
        (
            ["plan"],
            'targets_file = "t.toml"\n[strategies]\n"s.clj" = 1\n',
            "both [strategies] and targets_file are set in {config}: keep one",
        ),
    ],
)
def test_strategies_exclude_other_targets_with_one_line(
    cli: CliFn, make_file: Any, args: list[str], config: str | None, message: str
) -> None:
    head: list[str] = []
    if config is not None:
        path = make_file("alch.toml", config)
        head, message = ["--config", str(path)], message.format(config=path)
    run = cli(*head, *args)
    assert (run.exit_code, run.stderr, run.stdout) == (2, f"alch: error: {message}\n", "")


def test_a_saved_plan_keeps_its_trace_and_refuses_an_edited_one(cli: CliFn, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    made = cli("plan", "--strategy", LARGE, "--json", "--out", str(saved))
    assert made.exit_code == 0, made.stderr
    checked = cli("check", str(saved), "--json")
    assert checked.exit_code == 0, checked.stderr
    assert checked.json()["plan"]["signal"] == made.json()["signal"]
    doc = json.loads(saved.read_text(encoding="utf-8"))
    # The trace is informational: its words are not checked, its weights are.
    doc["signal"]["strategies"][0]["trace"]["detail"] = "edited"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    assert cli("check", str(saved)).exit_code == 0
    symbol, planned = sorted(doc["targets"].items())[0]
    doc["signal"]["strategies"][0]["weights"][symbol] = "0.5"
    saved.write_text(json.dumps(doc), encoding="utf-8")
    edited = cli("check", str(saved))
    assert (edited.exit_code, edited.stdout) == (2, "")
    assert edited.stderr == (
        f"alch: error: {saved}: signal: the strategies' trace gives {symbol} 0.5 but the plan's "
        f"target is {planned}: the plan was edited or damaged; make a fresh one with "
        "`alch plan`\n"
    )


@pytest.mark.shared
def test_check_blocks_a_strategy_on_bars_older_than_the_last_session(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))  # real closes, ending 2022-12-28
    run = cli("check", "--strategy", SMALL, "--json")
    assert run.exit_code == 1, run.stderr
    (stale,) = [f for f in run.json()["findings"] if f["check_id"] == "signal.stale"]
    assert stale == {
        "check_id": "signal.stale",
        "severity": "block",
        "message": "strategy data older than the last session 2026-11-23: the bars end 2022-12-28",
        "hint": "the bars have not caught up: wait for them, or check the data source",
        "symbol": None,
        "value": str((LAST_SESSION - date(2022, 12, 28)).days),
        "limit": "0",
        "unit": "days",
        "bypassed_by": None,
    }


def test_block_fragile_stops_execute_before_anything_is_sent(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On the synthetic bars of 2026-11-23 the small example's only decision is fragile
    # (AAPL's 50-day average 1.4% under its 200-day one).
    warned = cli("check", "--strategy", SMALL, "--json")
    (fragile,) = [f for f in warned.json()["findings"] if f["check_id"] == "signal.fragile"]
    assert (warned.exit_code, fragile["severity"], fragile["limit"]) == (0, "warn", "0.02")
    monkeypatch.setenv("ALCH_LIMITS__BLOCK_FRAGILE", "true")
    run = cli("execute", "--yes", "--strategy", SMALL, "--json")
    assert run.exit_code == 1, run.stderr
    report = run.json()
    assert report["outcome"] == "blocked"
    assert report["orders"] == []
    (blocked,) = [f for f in report["checks"]["findings"] if f["check_id"] == "signal.fragile"]
    assert blocked["severity"] == "block"


def test_execute_journals_the_trace_and_status_run_shows_it(cli: CliFn) -> None:
    sent = cli("execute", "--yes", "--strategy", SMALL, "--json")
    assert sent.exit_code == 0, sent.stderr
    run_id = sent.json()["run_id"]
    planned = cli("plan", "--strategy", SMALL, "--json")  # what the run's plan carried
    shown = cli("status", "--run", run_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    details = shown.json()["runs"][0]["details"]
    assert details["signal"]["strategies"] == planned.json()["signal"]["strategies"]
    human = cli("status", "--run", run_id)
    assert human.exit_code == 0, human.stderr
    assert (
        f"Decision of run {run_id}: Momentum or staples ({SMALL}, 100.00% of the blend) as of "
        "2026-11-23 SYNTHETIC BARS"
    ) in " ".join(human.stdout.split())
    assert "then branch, not taken (5 nodes)" in human.stdout
    assert "KO 33.33%  Coca-Cola" in human.stdout


def test_out_never_replaces_a_strategy_file_of_the_run(cli: CliFn, tmp_path: Path) -> None:
    strategy = tmp_path / "mine.clj"
    strategy.write_text(Path(SMALL).read_text(encoding="utf-8"), encoding="utf-8")
    run = cli("plan", "--strategy", f"{strategy}=1", "--out", str(strategy))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: --out {strategy} is the strategy file of this run: write the plan "
        "elsewhere\n"
    )
    assert strategy.read_text(encoding="utf-8") == Path(SMALL).read_text(encoding="utf-8")


def test_the_plan_table_names_each_strategy_with_its_fragile_decisions(cli: CliFn) -> None:
    run = cli("plan", "--strategy", SMALL)
    assert run.exit_code == 0, run.stderr
    assert (
        f"Strategy Momentum or staples ({SMALL}, 100.00% of the targets) as of 2026-11-23 "
        "SYNTHETIC BARS, 1 fragile"
    ) in " ".join(run.stdout.split())
    assert "Strategy " not in cli("plan").stdout


def test_after_an_early_close_the_strategies_read_that_days_bars(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2026-11-27 closes at 13:00 ET; at 14:00 ET that session is the last closed one.
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-27T19:00:00+00:00")
    run = cli("check", "--strategy", SMALL, "--json")
    assert run.json()["plan"]["signal"]["as_of"] == "2026-11-27"
    (stale,) = [f for f in run.json()["findings"] if f["check_id"] == "signal.stale"]
    assert (stale["severity"], stale["message"]) == (
        "pass",
        "strategy bars through the last session",
    )


def test_signal_after_an_early_close_reads_that_days_bars(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `alch signal` follows the calendar as plan and check do: at 14:00 ET on 2026-11-27
    # (a 13:00 close) the last completed session is that day, not the day before.
    monkeypatch.setenv("ALCH_SIM_NOW", "2026-11-27T19:00:00+00:00")
    run = cli("signal", SMALL, "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["as_of"] == "2026-11-27"
