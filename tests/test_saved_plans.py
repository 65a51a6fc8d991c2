"""A saved plan is executed exactly or refused: every figure the checks read must follow
from the plan's orders, holdings and prices, or the file is refused as edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alchemiser_cli.core.plan import Plan
from alchemiser_cli.core.planner import build_plan
from alchemiser_cli.core.policy import PlannerPolicy
from alchemiser_cli.core.targets import Targets
from alchemiser_cli.documents import plan_from_text, plan_to_json
from alchemiser_cli.errors import PlanError
from tests.conftest import D, make_snapshot
from tests.test_planner_properties import worlds

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
Doc = dict[str, Any]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(lambda costs: worlds(costs=costs)))
def test_every_plan_alch_writes_loads_back(world: Any) -> None:
    # The consistency rules must never refuse a plan the planner made: rounding to cents
    # and six-decimal weights stays inside their tolerances.
    snap, targets, policy = world
    plan = build_plan(snap, targets, policy, NOW)
    loaded = plan_from_text(json.dumps(plan_to_json(plan)), where="p.json")
    assert [(o.symbol, o.side, o.qty, o.limit_price) for o in loaded.orders] == [
        (o.symbol, o.side, o.qty, o.limit_price) for o in plan.orders
    ]


def saved() -> Doc:
    """Sell OLD and some VTI, buy BND; a collar and fees, so every figure is non-trivial."""
    snap = make_snapshot(
        "1000",
        positions={"VTI": "10", "OLD": "2.5"},
        quotes={"VTI": ("100", "100.10"), "BND": ("50", "50.02"), "OLD": ("20", "20.04")},
    )
    targets = Targets({"VTI": D("0.3"), "BND": D("0.6")}, "t")
    plan: Plan = build_plan(snap, targets, PlannerPolicy(), NOW)
    doc: Doc = plan_to_json(plan)
    return doc


def order(doc: Doc, symbol: str) -> Doc:
    found: Doc = next(o for o in doc["orders"] if o["symbol"] == symbol)
    return found


def line(doc: Doc, symbol: str) -> Doc:
    found: Doc = next(p for p in doc["positions"] if p["symbol"] == symbol)
    return found


def test_the_saved_plan_is_what_the_tests_assume() -> None:
    doc = saved()
    assert [(o["side"], o["symbol"]) for o in doc["orders"]] == [
        ("sell", "OLD"),
        ("sell", "VTI"),
        ("buy", "BND"),
    ]
    plan_from_text(json.dumps(doc), where="p.json")


def place(doc: Doc, where: str) -> Doc:
    """`order BND`, `line VTI`, `account` or `summary`: the object an edit changes."""
    kind, _, symbol = where.partition(" ")
    if kind == "order":
        return order(doc, symbol)
    if kind == "line":
        return line(doc, symbol)
    found: Doc = doc[kind]
    return found


@pytest.mark.parametrize(
    ("where", "key", "value", "message"),
    [
        ("order BND", "qty", "1000000", "order 3 (BND): max_value "),
        ("order BND", "max_value", "1", "order 3 (BND): max_value $1.00 is not $1,236.73"),
        ("order VTI", "est_price", "1", "order 2 (VTI): est_price 1 is not the plan's quote"),
        ("order BND", "fractional", False, "order 3 (BND): fractional False does not match qty "),
        (
            "line VTI",
            "trade_qty",
            "-1",
            "VTI: trade_qty -1 and post_qty 6.148575712 do not follow from qty 10 and its "
            "orders (-3.851424288)",
        ),
        ("line BND", "post_value", "0", "BND: post_value $0.00 is not $1,230.33"),
        ("line OLD", "price", "10", "OLD: price 10 is not the plan's quote"),
        ("account", "equity", "1000000", "account.equity $1,000,000.00 is not $2,050.55"),
        ("summary", "turnover", "0.01", "summary.turnover 1% is not 81.2328%"),
        ("summary", "buy_value", "1", "summary.buy_value $1.00 is not $1,230.58"),
        ("summary", "order_count", 1, "summary.order_count 1 is not 3"),
        ("line BND", "value", "1000.004", "BND: value $1,000.004 is not $0.00"),
    ],
)
def test_an_edited_plan_is_refused_naming_the_figure(
    where: str, key: str, value: object, message: str
) -> None:
    doc = saved()
    place(doc, where)[key] = value
    refused(doc, message)


def test_an_order_without_its_position_line_is_refused() -> None:
    doc = saved()
    doc["positions"] = [p for p in doc["positions"] if p["symbol"] != "BND"]
    refused(doc, "orders for BND have no position line")


def refused(doc: Doc, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_from_text(json.dumps(doc), where="p.json")
    text = str(caught.value)
    assert text.startswith(f"p.json: {message}")
    assert text.endswith(": the plan was edited or damaged; make a fresh one with `alch plan`")


@pytest.mark.parametrize(
    ("qty", "message"),
    [
        ("1e30", "order 3 (BND): qty 1000000000000000000000000000000 is not an order quantity"),
        ("0.0000000001", "order 3 (BND): qty 0.0000000001 is not an order quantity"),
    ],
)
def test_an_order_quantity_no_broker_takes_is_refused(qty: str, message: str) -> None:
    doc = saved()
    order(doc, "BND")["qty"] = qty
    with pytest.raises(PlanError) as caught:
        plan_from_text(json.dumps(doc), where="p.json")
    assert str(caught.value) == (f"p.json: {message} (at most 9 decimals and 1000000000000 shares)")


def test_a_figure_too_large_for_exact_arithmetic_is_refused() -> None:
    doc = saved()
    line(doc, "OLD")["price"] = "1e40"
    doc["prices"]["OLD"]["ref"] = "1e40"
    refused(doc, "a figure is out of range")
