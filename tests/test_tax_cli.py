"""`status` shows this year's realised gains; `alch tax --year Y --csv FILE` lists the lots
sold (issue 27). Figures worked out by hand in the comments."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from alchemiser_cli.core.models import Side
from tests.conftest import Run
from tests.test_tax_plan import QQQ_HISTORY, account

CliFn = Callable[..., Run]
HISTORY = [
    ("2025-03-03", "BND", Side.BUY, "10", "60"),
    ("2025-09-02", "BND", Side.SELL, "10", "70"),  # 2025: +100, short-term
    *QQQ_HISTORY,  # 2026-11-10: 50 QQQ bought at 400 sold at 380, a loss of 1,000
    ("2026-11-20", "QQQ", Side.BUY, "10", "385"),  # 10 of the 50 replaced: 200 disallowed
]
CSV_2026 = (
    "# alch: lots sold in 2026, first in first out, with wash-sale adjustments: estimates "
    "for your own records, not tax advice; your broker's 1099-B is authoritative\n"
    "symbol,qty,acquired,sold,proceeds,basis,wash_sale_adjustment,gain,term\n"
    # 50 x 380 = 19,000 against 50 x 400 = 20,000; 200 of the loss disallowed: -800
    "QQQ,50,2026-06-01,2026-11-10,19000,20000,200,-800,short\n"
)


@pytest.fixture
def history(isolated_state: Path, tmp_path: Path) -> None:
    account(isolated_state, tmp_path, HISTORY)


def test_status_shows_this_years_realised_gains_and_disallowed_losses(
    cli: CliFn, history: None
) -> None:
    doc = cli("status", "--json").json()
    # 2026 so far: the QQQ sale only (the BND gain was 2025's): -1,000 + 200 = -800
    assert doc["tax"] == {
        "year": 2026, "short_term": "-800", "long_term": "0", "disallowed": "200", "sales": 1,
        "status": "complete", "note": "estimates for your own records, not tax advice",
    }  # fmt: skip
    table = cli("status").stdout
    assert "Realised in 2026 so far: short-term -$800.00, long-term $0.00" in table
    assert "wash-sale losses disallowed $200.00" in table


def test_tax_csv_lists_the_lots_sold_in_the_year(cli: CliFn, history: None, tmp_path: Path) -> None:
    out = tmp_path / "out" / "2026.csv"
    out.parent.mkdir()
    result = cli("tax", "--year", "2026", "--csv", str(out))
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8") == CSV_2026
    assert "not tax advice" in result.stderr
    earlier = cli("tax", "--year", "2025", "--csv", "-")
    assert earlier.stdout.splitlines()[2] == "BND,10,2025-03-03,2025-09-02,700,600,0,100,short"


def test_tax_shows_a_table_without_csv(cli: CliFn, history: None) -> None:
    result = cli("tax", "--year", "2026")
    assert result.exit_code == 0
    assert "Realised lots in 2026" in result.stdout
    assert "-$800.00" in result.stdout


def test_tax_csv_never_replaces_a_file_without_overwrite(
    cli: CliFn, history: None, tmp_path: Path, isolated_state: Path
) -> None:
    out = tmp_path / "taken.csv"
    out.write_text("mine\n")
    refused = cli("tax", "--year", "2026", "--csv", str(out))
    assert refused.exit_code == 2
    assert "exists" in refused.stderr
    assert "--overwrite" in refused.stderr
    assert out.read_text() == "mine\n"
    assert cli("tax", "--year", "2026", "--csv", str(out), "--overwrite").exit_code == 0
    assert out.read_text(encoding="utf-8") == CSV_2026
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o077 == 0  # the user's own records
    inside = cli("tax", "--year", "2026", "--csv", str(isolated_state / "cache" / "x.csv"))
    assert inside.exit_code == 2  # among alch's own state (beside it, a new file may go)
    assert "ALCH_HOME" in inside.stderr


def test_tax_on_an_ira_says_there_is_nothing_to_report(
    cli: CliFn, history: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALCH_TAX__ACCOUNT", "ira")
    result = cli("tax", "--year", "2026")
    assert result.exit_code == 2
    assert result.stderr == (
        'alch: error: [tax] account = "ira": a tax-advantaged account has no taxable lots to '
        "report\n"
    )
    assert cli("status", "--json").json()["tax"] is None


@pytest.mark.parametrize("year", ["1800", "abc", "2026.5", ""])
def test_a_bad_tax_year_is_one_line(cli: CliFn, year: str) -> None:
    result = cli("tax", "--year", year)
    said = f"alch: error: --year {year!r}: give a calendar year from 2000 to 2100, e.g. 2026\n"
    assert (result.exit_code, result.stderr) == (2, said)
