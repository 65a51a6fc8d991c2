"""The exact search (issue 24): HiGHS runs silently, its stops are reported, and every answer
it gives is re-checked in Decimal before the plan uses it."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core import decision, milp
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from tests.conftest import REPO, D, make_snapshot

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def aaa_bbb() -> tuple[object, Targets]:
    snap = make_snapshot(
        "187.06",
        positions={"AAA": "2", "BBB": "7"},
        quotes={"AAA": ("1634.85", "1634.85"), "BBB": ("16.81", "16.81")},
        non_fractionable=("AAA", "BBB"),
    )
    return snap, Targets({"AAA": D("0.2496"), "BBB": D("0.7503")}, "t")


def test_the_search_prints_nothing_so_json_output_stays_clean() -> None:
    # highspy.Highs() prints HiGHS's banner to the process's stdout as it is built, which
    # would corrupt `alch plan --json`; the planner must leave stdout (fd 1) untouched.
    code = (
        "from tests.test_planner_exact import aaa_bbb, NOW\n"
        "from alchemiser_cli.core.planner import build_plan\n"
        "from alchemiser_cli.core.policy import PlannerPolicy\n"
        "snap, targets = aaa_bbb()\n"
        "plan = build_plan(snap, targets, PlannerPolicy(), NOW)\n"
        "import sys; sys.stderr.write(str(plan.summary.deviation))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert run.stdout == ""
    assert Decimal(run.stderr) < 900


def test_the_search_uses_only_highspys_public_names() -> None:
    # A private name (highspy._Highs) can change in any release; the public Highs, made
    # silent before its first call into HiGHS, keeps stdout clean (the test above).
    source = (REPO / "alchemiser_cli" / "core" / "milp.py").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in source.splitlines())
    assert re.findall(r"highspy\s*\.\s*_\w+", code) == []
    assert "highspy.Highs" in code


def test_a_search_stopped_at_its_node_limit_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    snap, targets = aaa_bbb()
    monkeypatch.setattr(decision, "rounded", lambda *_: None)  # force the search
    monkeypatch.setattr(milp, "NODE_LIMIT", 0)
    monkeypatch.setattr(milp, "GAP", 0.0)
    plan = build_plan(snap, targets, PlannerPolicy(), NOW)  # type: ignore[arg-type]
    assert plan.summary.search in ("node_limit", "optimal")  # HiGHS may finish at its root
    assert plan.summary.deviation_bound <= plan.summary.deviation
    assert plan.summary.min_cash_after >= 0
    # A search HiGHS stopped reports it, with the plan it had and its proven bound.
    real = milp.solve

    def stopped(*args: object) -> milp.Solution | None:
        found = real(*args)  # type: ignore[arg-type]
        return None if found is None else milp.Solution(found.trades, found.bound, "node_limit")

    monkeypatch.setattr(milp, "solve", stopped)
    plan = build_plan(snap, targets, PlannerPolicy(), NOW)  # type: ignore[arg-type]
    assert plan.summary.search == "node_limit"
    assert plan.summary.deviation_bound <= plan.summary.deviation


def test_an_answer_that_overspends_once_fees_round_is_solved_again() -> None:
    # Fees rounded up to the cent can leave HiGHS's answer (at their proportional rate) a
    # few cents short; the re-check in Decimal plans again with that much less budget.
    items = [
        decision.make_item(
            D(2), D("1634.85"), D("892.18"), whole=True,
            prices=(D("1634.85"), D("1634.85"), D("1634.85"), D("1634.85")), minimum=D(1),
        ),
        decision.make_item(
            D(7), D("16.81"), D("2681.90"), whole=True,
            prices=(D("16.81"), D("16.81"), D("16.81"), D("16.81")), minimum=D(1),
        ),
    ]  # fmt: skip
    asked: list[Decimal] = []

    def check(trades: object) -> tuple[Decimal, Decimal]:
        spent = decision.spend(items, trades)  # type: ignore[arg-type]
        asked.append(spent)
        return spent - D("187.06") + D("20"), D(0)  # 20 dollars of fees the model misses

    best = [decision.own_best(item) for item in items]
    out = decision.improve(items, [D(-1), D(107)], D("187.06"), check, best)
    assert out.trades is not None
    assert decision.spend(items, out.trades) <= D("187.06") - D("20")
    assert len(asked) > 2


def test_the_table_says_when_the_search_did_not_prove_the_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from rich.console import Console

    from alchemiser_cli.render.tables import render_plan

    snap, targets = aaa_bbb()
    monkeypatch.setattr(decision, "MILP_ITEMS", 0)
    monkeypatch.setattr(decision, "_fitted", lambda *_: None)
    plan = build_plan(snap, targets, PlannerPolicy(), NOW)  # type: ignore[arg-type]
    assert plan.summary.search == "too_large"
    out = io.StringIO()
    render_plan(Console(file=out, width=100), plan)
    assert "no plan can do better than $" in out.getvalue()
    assert "(search: too large)" in out.getvalue()
