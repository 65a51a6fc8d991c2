"""`backtest --replay-journal` on the simulator: synthetic closes are labelled, runs that
sent nothing are skipped, and a symbol without bars under ALCH_SIM_BARS is "not replayed"
instead of failing the whole replay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, Run

CliFn = Callable[..., Run]
SIXTY_FORTY = str(REPO / "examples" / "targets" / "sixty-forty.toml")
NOTE = "alch: note: synthetic bars (ALCH_SIM_BARS is unset): a demonstration, not market data\n"


def three_days(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    ids = []
    for day in ("2026-11-23", "2026-11-24", "2026-11-25"):
        monkeypatch.setenv("ALCH_SIM_NOW", f"{day}T15:00:00+00:00")
        run = cli("-q", "execute", "--yes", "--targets", SIXTY_FORTY, "--json")
        assert run.exit_code == 0, run.stderr
        ids.append(run.json()["run_id"])
    return ids


def test_runs_that_sent_nothing_are_not_replayed(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = three_days(cli, monkeypatch)  # the third finds nothing to do
    doc = cli("backtest", "--replay-journal", "--json")
    assert doc.exit_code == 0, doc.stderr
    assert [r["run_id"] for r in doc.json()["runs"]] == ids[:2]
    newest = cli("backtest", "--replay-journal", "--runs", "1", "--json")
    assert [r["run_id"] for r in newest.json()["runs"]] == ids[1:2]


def test_synthetic_closes_are_labelled(cli: CliFn, monkeypatch: pytest.MonkeyPatch) -> None:
    three_days(cli, monkeypatch)
    doc = cli("backtest", "--replay-journal", "--json")
    assert doc.json()["synthetic_bars"] is True
    assert doc.stderr == NOTE
    table = cli("backtest", "--replay-journal")
    assert table.stdout.startswith(
        "SYNTHETIC BARS: the backtest's closes are made up, so its prices and the live "
        "fills cannot be compared"
    )


def test_a_symbol_without_bars_is_not_replayed_instead_of_failing(
    cli: CliFn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    three_days(cli, monkeypatch)
    bars = tmp_path / "bars"
    bars.mkdir()
    rows = "".join(
        f"2026-11-{d},{300 + d}\n" for d in range(2, 26) if d not in (7, 8, 14, 15, 21, 22)
    )
    (bars / "VTI.csv").write_text("date,close\n" + rows, encoding="utf-8")
    monkeypatch.setenv("ALCH_SIM_BARS", str(bars))
    doc = cli("backtest", "--replay-journal", "--json")
    assert doc.exit_code == 0, doc.stderr
    assert doc.json()["synthetic_bars"] is False
    notes = {(d["symbol"], d["note"]) for r in doc.json()["runs"] for d in r["differences"]}
    assert ("BND", "no close for 2026-11-23: not replayed") in notes
    assert "no daily bars" not in doc.stderr
