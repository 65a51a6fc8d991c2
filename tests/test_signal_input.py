"""A signal document is a first-class input: `alch signal --json | alch plan --targets -`
gets the strategies' checks, band and trace exactly as `--strategy` does (same plan id), an
edited document is refused, and a strategy that holds cash is followed."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Run
from tests.test_strategy_indicators import US_DAILY

CliFn = Callable[..., Run]
SMALL = str(REPO / "examples" / "strategies" / "momentum-or-staples.clj")
LARGE = str(REPO / "examples" / "strategies" / "sector-groups.clj")
# All cash while SPY is under 100,000 (always): the weight-specified leaves everything.
ALL_CASH = """(defsymphony
 "Cash when SPY is weak"
 {:rebalance-threshold 0.05}
 (if
  (> (current-price "SPY") 100000)
  [(asset "SPY")]
  [(weight-specified 0 (asset "SPY"))]))
"""


def findings(run: Run, check_id: str) -> list[dict[str, Any]]:
    doc = run.json()
    checks = doc.get("checks", doc)
    return [f for f in checks["findings"] if f["check_id"] == check_id]


@pytest.mark.shared
def test_the_stale_signal_pipe_is_blocked_exactly_as_the_strategy_is(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_SIM_BARS", str(US_DAILY))  # closes end 2022-12-28, the clock 2026
    direct = cli("execute", "--yes", "--strategy", SMALL, "--json")
    assert direct.exit_code == 1, direct.stderr
    signal = cli("signal", SMALL, "--json")
    assert signal.exit_code == 0, signal.stderr
    piped = cli("execute", "--yes", "--targets", "-", "--json", input=signal.stdout)
    assert piped.exit_code == 1, piped.stderr
    assert piped.json()["outcome"] == "blocked"
    assert piped.json()["orders"] == []
    (stale,) = findings(piped, "signal.stale")
    assert stale["severity"] == "block"
    assert findings(piped, "signal.stale") == findings(direct, "signal.stale")
    assert piped.json()["plan_id"] == direct.json()["plan_id"]


def test_a_signal_document_and_the_strategy_give_the_same_plan(cli: CliFn) -> None:
    signal = cli("signal", LARGE, "--json")
    piped = cli("plan", "--targets", "-", "--json", input=signal.stdout)
    direct = cli("plan", "--strategy", LARGE, "--json")
    assert piped.exit_code == 0, piped.stderr
    assert direct.exit_code == 0, direct.stderr
    a, b = piped.json(), direct.json()
    assert a["plan_id"] == b["plan_id"]
    assert a["policy"]["band_abs"] == b["policy"]["band_abs"] == "0.04"  # the strategy's band
    assert a["signal"] == b["signal"]
    assert a["targets_source"] == f"{b['targets_source']} (signal document <stdin>)"
    assert "rebalance-threshold 0.04 as the absolute band" in piped.stderr


def test_the_pipe_journals_the_trace_as_the_strategy_does(cli: CliFn) -> None:
    signal = cli("signal", SMALL, "--json")
    sent = cli("execute", "--yes", "--targets", "-", "--json", input=signal.stdout)
    assert sent.exit_code == 0, sent.stderr
    shown = cli("status", "--run", sent.json()["run_id"], "--json")
    details = shown.json()["runs"][0]["details"]
    assert details["signal"]["strategies"] == signal.json()["strategies"]


def test_a_signal_document_file_works_as_stdin_does(cli: CliFn, tmp_path: Path) -> None:
    saved = tmp_path / "signal.json"
    saved.write_text(cli("signal", SMALL, "--json").stdout, encoding="utf-8")
    run = cli("check", "--targets", str(saved), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["plan"]["signal"] is not None
    assert [f["severity"] for f in findings(run, "signal.fragile")] == ["warn"]


def edit(text: str, change: Callable[[dict[str, Any]], None]) -> str:
    doc = json.loads(text)
    change(doc)
    return json.dumps(doc)


def _first_asset(node: dict[str, Any]) -> dict[str, Any]:
    if node["kind"] == "asset" and node["taken"] and Decimal(node["weight"]) > 0:
        return node
    found = [_first_asset(c) for c in node["children"] if c["taken"]]
    return next(f for f in found if f)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["targets"].update(KO="0.5"),
            "the strategies' trace gives KO 0.3333333333333333333333333333 but the targets say 0.5",
        ),
        (
            lambda d: d["strategies"][0]["weights"].update(KO="0.5"),
            "strategy Momentum or staples: its trace gives KO 0.3333333333333333333333333333 "
            "but its weights say 0.5",
        ),
        (
            lambda d: _first_asset(d["strategies"][0]["trace"]).update(weight="0.9"),
            "strategy Momentum or staples: its trace gives KO 0.9 but its weights say "
            "0.3333333333333333333333333333",
        ),
        (
            lambda d: d.update(rebalance_threshold="0.5"),
            "rebalance_threshold 0.5 is not the strategies' tightest, 0.05",
        ),
        (
            lambda d: d.update(as_of="2030-01-02"),
            "as_of 2030-01-02 is not the strategies' last session, 2026-11-23",
        ),
        (
            lambda d: d.update(symbols=["KO"]),
            "symbols leaves out JNJ, PG that the trace holds",
        ),
    ],
)
def test_an_edited_signal_document_is_refused(
    cli: CliFn, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    signal = cli("signal", SMALL, "--json")
    run = cli("plan", "--targets", "-", input=edit(signal.stdout, change))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        f"alch: error: <stdin>: signal document: {message}: it was edited or damaged; run "
        "`alch signal` again\n"
    )


def test_a_signal_document_missing_a_field_is_refused_naming_it(cli: CliFn) -> None:
    signal = cli("signal", SMALL, "--json")
    run = cli("plan", "--targets", "-", input=edit(signal.stdout, lambda d: d.pop("symbols")))
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "alch: error: <stdin>: invalid signal document field symbols: Field required "
        "(make it again with `alch signal --json`)\n"
    )


def test_a_targets_document_given_as_a_plan_says_what_to_do(cli: CliFn) -> None:
    signal = cli("signal", SMALL, "--json")
    run = cli("execute", "-", "--yes", input=signal.stdout)
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == (
        "alch: error: <stdin>: this is a targets document (from `alch signal --json`), not a "
        "plan: give it as --targets -\n"
    )


def test_an_all_cash_strategy_is_followed_on_the_simulator(cli: CliFn, tmp_path: Path) -> None:
    strategy = tmp_path / "cash.clj"
    strategy.write_text(ALL_CASH, encoding="utf-8")
    plan = cli("plan", "--strategy", str(strategy))
    assert plan.exit_code == 0, plan.stderr
    text = " ".join(plan.stdout.split())
    assert (
        f"CASH 100.00%: Cash when SPY is weak: weight-specified at {strategy}:7:4 leaves "
        f"100.00%, in the else branch of the if at {strategy}:4:2"
    ) in text
    assert "LIQUIDATE" not in text
    run = cli("execute", "--yes", "--strategy", str(strategy), "--json")
    assert run.exit_code == 0, run.stderr
    report = run.json()
    assert report["outcome"] == "completed", report["message"]
    assert {o["symbol"] for o in report["orders"]} == {"AAPL", "BND", "VTI"}
    assert {o["side"] for o in report["orders"]} == {"sell"}
    status = cli("status", "--json")
    assert status.json()["positions"] == []


def test_an_all_cash_signal_document_is_followed_and_its_saved_plan_checks(
    cli: CliFn, tmp_path: Path
) -> None:
    strategy = tmp_path / "cash.clj"
    strategy.write_text(ALL_CASH, encoding="utf-8")
    signal = cli("signal", str(strategy), "--json")
    saved = tmp_path / "plan.json"
    plan = cli("plan", "--targets", "-", "--json", "--out", str(saved), input=signal.stdout)
    assert plan.exit_code == 0, plan.stderr
    assert (plan.json()["liquidate"], plan.json()["targets"]) == (False, {})
    checked = cli("check", str(saved))
    assert checked.exit_code == 0, checked.stderr


def test_an_all_cash_strategy_keeps_unlisted_positions_when_told_to(
    cli: CliFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strategy = tmp_path / "cash.clj"
    strategy.write_text(ALL_CASH, encoding="utf-8")
    monkeypatch.setenv("ALCH_PLANNER__SELL_UNLISTED", "false")
    run = cli("plan", "--strategy", str(strategy), "--json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["orders"] == []  # AAPL, BND and VTI are not the strategy's to sell
    assert {p["rule"] for p in run.json()["positions"]} == {"unlisted_held"}


def test_plain_empty_targets_still_need_liquidate(cli: CliFn, tmp_path: Path) -> None:
    empty = tmp_path / "t.json"
    empty.write_text('{"targets": {}, "cash": "1"}', encoding="utf-8")
    run = cli("plan", "--targets", str(empty))
    assert run.exit_code == 2
    assert "pass --liquidate to sell everything on purpose" in run.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            '[strategies]\n"{small}" = 0.3\n"{large}" = 0.3\n',
            "the [strategies] weights add up to 60%: give the rest to cash (cash = 0.4) or "
            "raise a weight",
        ),
        (
            '[strategies]\n"{small}" = 0.3\n"{large}" = 0.3\ncash = 0.3\n',
            "the [strategies] weights and cash add up to 90%, not 100%",
        ),
    ],
)
def test_a_blend_that_does_not_add_up_needs_an_explicit_cash_weight(
    cli: CliFn, make_file: Any, config: str, message: str
) -> None:
    path = make_file("alch.toml", config.format(small=SMALL, large=LARGE))
    run = cli("--config", str(path), "plan")
    assert (run.exit_code, run.stdout) == (2, "")
    assert run.stderr == f"alch: error: {message}\n"


def test_a_blend_with_its_cash_weight_holds_that_cash(cli: CliFn, make_file: Any) -> None:
    path = make_file("alch.toml", f'[strategies]\n"{SMALL}" = 0.3\n"{LARGE}" = 0.3\ncash = 0.4\n')
    run = cli("--config", str(path), "plan", "--json")
    assert run.exit_code == 0, run.stderr
    total = sum(Decimal(w) for w in run.json()["targets"].values())
    assert total == Decimal("0.6")
    flags = cli("plan", "--strategy", f"{SMALL}=0.3", "--strategy", f"{LARGE}=0.3", "--json")
    assert (flags.exit_code, flags.stdout) == (2, "")
    assert flags.stderr == (
        "alch: error: the --strategy weights add up to 60%: give the rest to cash "
        "(--strategy cash=0.4) or raise a weight\n"
    )
    ok = cli(
        "plan", "--strategy", f"{SMALL}=0.3", "--strategy", f"{LARGE}=0.3", "--strategy",
        "cash=0.4", "--json",
    )  # fmt: skip
    assert ok.exit_code == 0, ok.stderr
    assert ok.json()["targets"] == run.json()["targets"]
