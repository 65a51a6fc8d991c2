"""The reference weights of the strategy engine before issue 23, stored under tests/.

`python -m tests.strategy_reference [CASE...]` runs the frozen pre-issue-23 engine
(`tests/strategy_legacy.py`) on EVERY session of each case and writes, per case,
`tests/reference/strategy-weights/<case>.json.gz`: the weights as exact decimal strings,
stored only on the sessions where they change (run-length), or the one-line error of a
session that could not be evaluated. The regression test
(`tests/test_strategy_reference.py`) compares the engine with these files on every session.

Cases: the 7 shared symphonies (../shared/strategies) on 5 years of synthetic bars
(2021-01-04 to 2025-12-31, bars from 2015), and the 2 examples (examples/strategies) on the
shared real closes (../shared/data/us-daily, 1991-01-02 to 2022-12-28, bars from 1990).
It takes minutes (the old engine re-evaluates each session from scratch); run it only to
regenerate the files, which are committed.
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.strategy.nodes import symbols_of
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.core.strategy.syntax import StrategyError

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
US_DAILY = SHARED / "data" / "us-daily"
OUT = REPO / "tests" / "reference" / "strategy-weights"


@dataclass(frozen=True, slots=True)
class Case:
    """One symphony, the bars it runs on and the sessions it is evaluated on."""

    name: str
    path: Path
    real: bool  # the shared real closes, else synthetic bars
    bars_from: date
    first: date
    last: date

    def bars(self) -> dict[str, Series]:
        symphony = parse_symphony(self.path.read_text(encoding="utf-8"), str(self.path))
        folder = US_DAILY if self.real else None
        return daily_bars(symbols_of(symphony.root), self.bars_from, self.last, folder)


SYNTHETIC = (date(2015, 1, 1), date(2021, 1, 4), date(2025, 12, 31))
REAL = (date(1990, 1, 1), date(1991, 1, 2), date(2022, 12, 28))
SHARED_FILES = (
    "defence",
    "gold",
    "hedged_sector_rotator",
    "kmlm_switcher",
    "soxl_growth",
    "tqqq_ftlt",
    "tqqq_ftlt_1",
)
CASES = {
    **{
        f"{name}-synthetic": Case(
            f"{name}-synthetic", SHARED / "strategies" / f"{name}.clj", False, *SYNTHETIC
        )
        for name in SHARED_FILES
    },
    **{
        f"{name}-real": Case(
            f"{name}-real", REPO / "examples" / "strategies" / f"{name}.clj", True, *REAL
        )
        for name in ("momentum-or-staples", "sector-groups")
    },
}


def sessions(bars: dict[str, Series], first: date, last: date) -> list[date]:
    """Every date any symbol has a bar on, from `first` to `last`."""
    return sorted({d for s in bars.values() for d in s.dates if first <= d <= last})


Decision = dict[str, str]  # symbol -> weight, or {"error": message}


def reference(case: Case) -> list[tuple[date, Decision]]:
    """The old engine's decision on every session, oldest first."""
    from tests.strategy_legacy import evaluate

    symphony = parse_symphony(case.path.read_text(encoding="utf-8"), case.path.name)
    bars = case.bars()
    out: list[tuple[date, Decision]] = []
    for day in sessions(bars, case.first, case.last):
        try:
            weights = evaluate(symphony, bars, day).weights
            decision = {s: str(w) for s, w in weights.items()}
        except StrategyError as exc:
            decision = {"error": str(exc)}
        out.append((day, decision))
    return out


def write(case: Case, decisions: list[tuple[date, Decision]]) -> Path:
    """Store the decisions run-length encoded: a row only where they change."""
    rows: list[list[object]] = []
    last: Decision | None = None
    for day, decision in decisions:
        if decision != last:
            rows.append([day.isoformat(), decision])
            last = decision
    doc = {
        "case": case.name,
        "file": case.path.name,
        "bars": "shared real closes" if case.real else "synthetic",
        "bars_from": case.bars_from.isoformat(),
        "first": case.first.isoformat(),
        "last": case.last.isoformat(),
        "sessions": [d.isoformat() for d, _ in decisions],
        "changes": rows,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{case.name}.json.gz"
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(json.dumps(doc, separators=(",", ":"), sort_keys=True).encode())
    return path


def load(name: str) -> tuple[list[date], dict[date, Decision]]:
    """Every session of a stored case and the decision on each (expanded)."""
    with gzip.open(OUT / f"{name}.json.gz", "rb") as f:
        doc = json.loads(f.read())
    changes = {date.fromisoformat(d): dec for d, dec in doc["changes"]}
    days = [date.fromisoformat(d) for d in doc["sessions"]]
    out: dict[date, Decision] = {}
    current: Decision = {}
    for day in days:
        current = changes.get(day, current)
        out[day] = current
    return days, out


def as_weights(decision: Decision) -> dict[str, Decimal] | str:
    """The weights of a stored decision, or its error message."""
    if "error" in decision:
        return decision["error"]
    return {s: Decimal(w) for s, w in decision.items()}


def main(names: list[str]) -> None:
    for name in names or list(CASES):
        started = time.perf_counter()
        case = CASES[name]
        decisions = reference(case)
        path = write(case, decisions)
        print(
            f"{name}: {len(decisions)} sessions in {time.perf_counter() - started:.0f} s -> {path}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
