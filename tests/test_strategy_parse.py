"""The symphony parser: every real file parses; every form; every error names file:line:col."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.core.strategy.nodes import (
    Asset,
    Filter,
    If,
    Indicator,
    Number,
    WeightEqual,
    WeightInverseVolatility,
    WeightSpecified,
    symbols_of,
    walk,
)
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.syntax import StrategyError
from tests.conftest import REPO

SHARED_STRATEGIES = REPO.parent / "shared" / "strategies"
REAL_FILES = sorted(SHARED_STRATEGIES.glob("*.clj"))
EXAMPLE_FILES = sorted((REPO / "examples" / "strategies").glob("*.clj"))


def sym(body: str, options: str = "{}") -> str:
    return f'(defsymphony "T" {options}\n {body})'


@pytest.mark.shared
def test_the_seven_real_files_are_there() -> None:
    assert [p.name for p in REAL_FILES] == [
        "defence.clj",
        "gold.clj",
        "hedged_sector_rotator.clj",
        "kmlm_switcher.clj",
        "soxl_growth.clj",
        "tqqq_ftlt.clj",
        "tqqq_ftlt_1.clj",
    ]


@pytest.mark.parametrize("path", REAL_FILES + EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_real_and_example_file_parses(path: Path) -> None:
    symphony = parse_symphony(path.read_text(encoding="utf-8"), str(path))
    assert symphony.name
    assert symbols_of(symphony.root)


@pytest.mark.shared
def test_the_largest_file_has_its_fifty_filters_and_options() -> None:
    path = SHARED_STRATEGIES / "hedged_sector_rotator.clj"
    symphony = parse_symphony(path.read_text(encoding="utf-8"), "h.clj")
    nodes = walk(symphony.root)
    assert sum(isinstance(n, Filter) for n in nodes) == 50
    assert isinstance(symphony.root, WeightSpecified)
    assert symphony.root.weights == (Decimal("0.6"), Decimal("0.4"))
    assert symphony.rebalance_frequency == "daily"
    assert symphony.rebalance_threshold is None
    assert len({n.node_id for n in nodes}) == len(nodes)  # identities are unique


def test_options_rebalance_threshold_and_frequency() -> None:
    s = parse_symphony(
        sym(
            '(asset "SPY")',
            '{:asset-class "EQUITIES", :rebalance-threshold 0.05, :rebalance-frequency :daily}',
        ),
        "t.clj",
    )
    assert (s.rebalance_threshold, s.rebalance_frequency) == (Decimal("0.05"), "daily")
    assert ("asset-class", "EQUITIES") in s.options


def test_asset_with_name_without_name_and_with_nil() -> None:
    s = parse_symphony(sym('[(asset "spy" "S&P") (asset "QQQ") (asset "TMV" nil)]'), "t.clj")
    assert isinstance(s.root, WeightEqual)
    assert [(a.symbol, a.name) for a in s.root.children if isinstance(a, Asset)] == [
        ("SPY", "S&P"),
        ("QQQ", ""),
        ("TMV", ""),
    ]


def test_group_weight_equal_and_escaped_names() -> None:
    s = parse_symphony(
        sym('(group "\\"A Better QQQ\\"" [(weight-equal [(asset "A") (asset "B")])])'), "t"
    )
    assert isinstance(s.root, WeightEqual)
    assert (s.root.kind, s.root.name) == ("group", '"A Better QQQ"')
    inner = s.root.children[0]
    assert isinstance(inner, WeightEqual)
    assert inner.kind == "weight-equal"
    assert len(inner.children) == 2


def test_weight_specified_and_inverse_volatility() -> None:
    s = parse_symphony(
        sym(
            '(weight-specified 0.7 (asset "A") 0.3 '
            '(weight-inverse-volatility 21 [(asset "B") (asset "C")]))'
        ),
        "t",
    )
    assert isinstance(s.root, WeightSpecified)
    assert s.root.weights == (Decimal("0.7"), Decimal("0.3"))
    ivol = s.root.children[1]
    assert isinstance(ivol, WeightInverseVolatility)
    assert ivol.window == 21


def test_if_with_every_comparison_and_two_indicators() -> None:
    for op in (">", "<", ">=", "<=", "="):
        s = parse_symphony(
            sym(f'(if ({op} (rsi "SPY" {{:window 10}}) 70) [(asset "A")] [(asset "B")])'), "t"
        )
        assert isinstance(s.root, If)
        assert s.root.condition.op == op
        assert s.root.condition.rhs == Number(Decimal(70), s.root.condition.rhs.pos)
    s = parse_symphony(
        sym(
            '(if (> (current-price "SPY") (moving-average-price "SPY" {:window 200})) '
            '[(asset "A")] [(asset "B")])'
        ),
        "t",
    )
    assert isinstance(s.root, If)
    lhs, rhs = s.root.condition.lhs, s.root.condition.rhs
    assert isinstance(lhs, Indicator)
    assert (lhs.name, lhs.symbol, lhs.window) == (
        "current-price",
        "SPY",
        None,
    )
    assert isinstance(rhs, Indicator)
    assert (rhs.name, rhs.window) == ("moving-average-price", 200)


def test_filter_select_top_and_bottom() -> None:
    for kind in ("top", "bottom"):
        s = parse_symphony(
            sym(
                f"(filter (cumulative-return {{:window 5}}) (select-{kind} 2) "
                '[(asset "A") (asset "B") (asset "C")])'
            ),
            "t",
        )
        assert isinstance(s.root, Filter)
        assert (s.root.select, s.root.count, s.root.indicator.symbol) == (kind, 2, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('(buy-everything "SPY")', "t.clj:2:2: unknown form 'buy-everything'"),
        (
            '(if (> (magic "SPY" {:window 3}) 1) [(asset "A")] [(asset "B")])',
            "t.clj:2:9: unknown indicator 'magic'",
        ),
        (
            '(if (> (rsi "SPY" {:window 10}) 70) [(asset "A")])',
            "t.clj:2:2: if has no else branch: write (if CONDITION [THEN] [ELSE])",
        ),
        (
            '(if (> (rsi {:window 10}) 70) [(asset "A")] [(asset "B")])',
            't.clj:2:9: rsi needs a symbol here: (rsi "SPY" ...)',
        ),
        (
            '(filter (rsi "SPY" {:window 10}) (select-top 1) [(asset "A")])',
            "t.clj:2:10: rsi inside filter takes no symbol: it is read on each candidate",
        ),
        (
            '(filter (rsi {:window 10}) (select-top 0) [(asset "A")])',
            "t.clj:2:41: select-top: expected a whole number >= 1, found 0",
        ),
        (
            '(weight-specified 0.7 (asset "A") 0.4 (asset "B"))',
            "t.clj:2:2: weight-specified: the weights add up to 1.1, more than 1",
        ),
        (
            '(if (> (rsi "SPY" {:window 2.5}) 70) [(asset "A")] [(asset "B")])',
            "t.clj:2:29: rsi: expected a whole number >= 1, found 2.5",
        ),
        ('(if (> (rsi "SPY") 70) [(asset "A")] [(asset "B")])', "t.clj:2:9: rsi needs {:window N}"),
        ('(weight-equal [(asset "A")', "t.clj:2:28: expected ']' to close t.clj:2:16, found ')'"),
        ('(asset "A" "x")]', "t.clj:2:17: expected ')' to close t.clj:1:1, found ']'"),
        ('(asset "A)', "t.clj:2:9: unterminated string"),
        ("(weight-equal [])", "t.clj:2:16: weight-equal: the vector is empty"),
    ],
)
def test_errors_name_the_position_and_the_form(body: str, message: str) -> None:
    with pytest.raises(StrategyError) as caught:
        parse_symphony(sym(body), "t.clj")
    assert str(caught.value) == message


def test_empty_file_and_two_forms_are_errors() -> None:
    with pytest.raises(
        StrategyError, match=r"^e\.clj:1:1: empty file: expected \(defsymphony \.\.\.\)$"
    ):
        parse_symphony("  ; nothing\n", "e.clj")
    with pytest.raises(
        StrategyError, match=r"^d\.clj:3:1: one defsymphony per file: unexpected form after it$"
    ):
        parse_symphony(sym('(asset "A")') + '\n(asset "B")', "d.clj")


def test_numbers_far_outside_any_threshold_and_nesting_deeper_than_256_are_errors() -> None:
    with pytest.raises(StrategyError) as caught:
        parse_symphony(sym('(weight-specified 1e-99 (asset "A"))'), "t.clj")
    assert str(caught.value) == (
        "t.clj:2:20: '1e-99' is out of range (its size must be 0 or from 1e-15 to below 1e16)"
    )
    # defsymphony opens 1 bracket, each weight-equal level 2: 127 levels open 255, 128 open 257
    depth_ok = "(weight-equal [" * 127 + '(asset "A")' + "])" * 127
    assert isinstance(parse_symphony(sym(depth_ok), "t.clj").root, WeightEqual)
    depth_bad = "(weight-equal [" * 128 + '(asset "A")' + "])" * 128
    with pytest.raises(StrategyError) as caught:
        parse_symphony(sym(depth_bad), "t.clj")
    assert str(caught.value) == "t.clj:2:1921: nested more than 256 brackets deep"


def test_composer_float_weights_within_1e9_of_one_are_scaled_to_exactly_one() -> None:
    # Composer writes 2/3 and 1/3 as floats: they add up to 1.0000000000000001
    s = parse_symphony(
        sym('(weight-specified 0.6667000000000001 (asset "A") 0.3333 (asset "B"))'), "t.clj"
    )
    assert isinstance(s.root, WeightSpecified)
    assert sum(s.root.weights) == 1
    assert s.root.scaled_from == Decimal("1.0000000000000001")
    assert s.root.weights[1] == Decimal("0.3333") / Decimal("1.0000000000000001")
    under = parse_symphony(sym('(weight-specified 0.5 (asset "A") 0.4999999999 (asset "B"))'), "t")
    assert isinstance(under.root, WeightSpecified)
    assert (sum(under.root.weights), under.root.scaled_from) == (1, Decimal("0.9999999999"))
    exact = parse_symphony(sym('(weight-specified 0.6 (asset "A") 0.4 (asset "B"))'), "t")
    assert isinstance(exact.root, WeightSpecified)
    assert (exact.root.weights, exact.root.scaled_from) == ((Decimal("0.6"), Decimal("0.4")), None)
    cash = parse_symphony(sym('(weight-specified 0.5 (asset "A") 0.4 (asset "B"))'), "t")
    assert isinstance(cash.root, WeightSpecified)
    assert cash.root.scaled_from is None  # 10% cash is a choice, not a float's error


def test_weights_more_than_1e9_over_one_are_still_an_error() -> None:
    with pytest.raises(StrategyError) as caught:
        parse_symphony(sym('(weight-specified 0.6 (asset "A") 0.400000002 (asset "B"))'), "t.clj")
    assert str(caught.value) == (
        "t.clj:2:2: weight-specified: the weights add up to 1.000000002, more than 1"
    )


def test_a_symbol_written_with_a_slash_is_alpacas_with_a_dot() -> None:
    s = parse_symphony(
        sym('(if (> (rsi "BRK/B" {:window 10}) 70) [(asset "brk/b")] [(asset "SPY")])'), "t"
    )
    assert symbols_of(s.root) == ["BRK.B", "SPY"]


@pytest.mark.parametrize("value", ["none", "daily", "weekly", "monthly", "quarterly", "yearly"])
def test_every_rebalance_frequency_composer_writes_is_read(value: str) -> None:
    s = parse_symphony(sym('(asset "SPY")', f"{{:rebalance-frequency :{value}}}"), "t")
    assert s.rebalance_frequency == value


def test_an_unknown_rebalance_frequency_is_an_error_at_its_position() -> None:
    with pytest.raises(StrategyError) as caught:
        parse_symphony(sym('(asset "SPY")', "{:rebalance-frequency :fortnightly}"), "t.clj")
    assert str(caught.value) == (
        "t.clj:1:40: :rebalance-frequency must be one of :none :daily :weekly :monthly "
        ":quarterly :yearly, found :fortnightly"
    )
