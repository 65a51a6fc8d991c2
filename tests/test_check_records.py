"""The `Check` records: each check id written once, and what the README says of them."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.checks.record import Check, CheckContext, Finding, Severity, Unit, check
from alchemiser_cli.core.checks.run import CHECKS
from alchemiser_cli.core.models import Snapshot
from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.policy import Limits

README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_rows() -> list[tuple[list[str], str]]:
    """The README's "Pre-trade checks" table: each row's ids and its text."""
    text = README.read_text(encoding="utf-8")
    table = text.split("| id | blocks when |", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in table.strip().splitlines()[1:]:  # past the |---| line
        ids, said = line.strip("|").split("|", 1)
        rows.append((re.findall(r"`([a-z_]+\.[a-z_]+)`", ids), said))
    return rows


def test_the_readme_table_lists_every_check_once_in_the_report_order() -> None:
    listed = [check_id for ids, _ in _readme_rows() for check_id in ids]
    assert listed == [c.check_id for c in CHECKS]


def test_the_readme_says_never_blocks_exactly_of_the_checks_that_only_warn() -> None:
    level = {c.check_id: c.level for c in CHECKS}
    for ids, said in _readme_rows():
        only_warns = "never blocks" in said or said.strip().startswith("warn:")
        assert {level[i] for i in ids} == {Severity.WARN if only_warns else Severity.BLOCK}, ids


def test_each_id_is_written_once_in_the_module_of_its_prefix() -> None:
    ids = [c.check_id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for record in CHECKS:
        prefix = record.check_id.split(".", 1)[0]
        assert record.test.__module__ == f"alchemiser_cli.core.checks.{prefix}", record.check_id


def test_a_check_turned_off_by_a_setting_names_a_real_limit() -> None:
    names = set(Limits.model_fields)
    settings = {c.check_id: c.setting for c in CHECKS if c.setting is not None}
    assert set(settings.values()) <= names
    assert settings == {
        "prices.moved": "max_price_move_pct",
        "prices.spread": "max_spread_bps",
        "prices.quote_age": "max_quote_age_s",
        "limits.order_notional": "max_order_notional",
        "limits.order_pct": "max_order_pct",
        "limits.max_orders": "max_orders",
        "limits.turnover": "max_turnover_pct",
        "limits.daily_notional": "max_daily_notional",
        "limits.position_weight": "max_position_weight",
        "limits.sector_weight": "max_sector_weight",
    }


@check("demo.warns", "nothing to say", level=Severity.WARN)
def _warns_only(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    return None


@check("demo.figures", "figures in usd", unit=Unit.USD)
def _with_figures(this: Check, plan: Plan, snap: Snapshot, ctx: CheckContext) -> Finding | None:
    return None


def test_a_finding_carries_its_checks_id_and_unit_and_cannot_exceed_its_level() -> None:
    finding = _with_figures.block("over", value=3, limit=Decimal(2))
    assert (finding.check_id, finding.severity, finding.unit) == (
        "demo.figures",
        Severity.BLOCK,
        Unit.USD,
    )
    assert (finding.value, finding.limit) == (Decimal(3), Decimal(2))
    assert _with_figures.block("no figures").unit is None  # a unit only with a figure
    with pytest.raises(ValueError, match=r"demo\.warns only warns"):
        _warns_only.block("a warn-only check cannot block")
    with pytest.raises(ValueError, match=r"demo\.warns reports no figures"):
        _warns_only.warn("figures without a unit", value=1)
