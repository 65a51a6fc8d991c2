"""The evaluator: every form's weights, filters over groups, errors, trace and blends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from alchemiser_cli.brokers.bars import daily_bars
from alchemiser_cli.core.strategy.evaluate import (
    Series,
    StrategyResult,
    Trace,
    evaluate,
    targets_from_strategies,
)
from alchemiser_cli.core.strategy.indicators import compute
from alchemiser_cli.core.strategy.nodes import symbols_of
from alchemiser_cli.core.strategy.parse import parse_symphony
from alchemiser_cli.core.strategy.record import trace_document
from alchemiser_cli.core.strategy.syntax import StrategyError
from tests.test_strategy_indicators import US_DAILY
from tests.test_strategy_parse import EXAMPLE_FILES, REAL_FILES

START = date(2024, 1, 1)  # a Monday


def sessions(n: int) -> tuple[date, ...]:
    out: list[date] = []
    day = START
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def bars(**closes: Sequence[str | int]) -> dict[str, Series]:
    return {
        symbol: Series(sessions(len(values)), tuple(Decimal(str(v)) for v in values))
        for symbol, values in closes.items()
    }


def run(
    body: str, data: dict[str, Series], as_of: date = date(2030, 1, 1), opts: str = "{}"
) -> StrategyResult:
    return evaluate(parse_symphony(f'(defsymphony "T" {opts}\n {body})', "t.clj"), data, as_of)


FLAT = {s: [10] * 30 for s in "ABC"}


@pytest.mark.parametrize("path", REAL_FILES + EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_real_and_example_file_evaluates_on_synthetic_bars(path: Path) -> None:
    symphony = parse_symphony(path.read_text(encoding="utf-8"), str(path))
    as_of = date(2024, 6, 3)
    data = daily_bars(symbols_of(symphony.root), date(2015, 1, 1), as_of, None)
    result = evaluate(symphony, data, as_of)
    assert result.as_of == as_of
    assert result.synthetic
    assert result.weights
    assert all(w > 0 for w in result.weights.values())
    assert sum(result.weights.values()) <= 1
    assert result.trace.weight == 1
    assert evaluate(symphony, data, as_of).weights == result.weights  # identical run to run


def test_weight_equal_splits_equally_and_a_nested_vector_is_one_child() -> None:
    result = run('(weight-equal [(asset "A") [(asset "B") (asset "C")]])', bars(**FLAT))
    assert result.weights == {"A": Decimal("0.5"), "B": Decimal("0.25"), "C": Decimal("0.25")}


def test_group_is_weight_equal_over_its_children() -> None:
    result = run('(group "G" [(asset "A") (asset "B")])', bars(**FLAT))
    assert result.weights == {"A": Decimal("0.5"), "B": Decimal("0.5")}
    assert (result.trace.kind, result.trace.label) == ("group", "G")


def test_weight_specified_leaves_the_rest_in_cash() -> None:
    result = run('(weight-specified 0.6 (asset "A") 0.3 (asset "B"))', bars(**FLAT))
    assert result.weights == {"A": Decimal("0.6"), "B": Decimal("0.3")}
    assert result.cash == Decimal("0.1")


def test_weight_inverse_volatility() -> None:
    a = [100, 101, 100, 101, 100, 101]
    b = [100, 103, 100, 103, 100, 103]
    result = run('(weight-inverse-volatility 5 [(asset "A") (asset "B")])', bars(A=a, B=b))
    va = compute("stdev-return", [Decimal(x) for x in a], 5)
    vb = compute("stdev-return", [Decimal(x) for x in b], 5)
    assert result.weights["A"] == pytest.approx((1 / va) / (1 / va + 1 / vb), abs=Decimal("1e-25"))
    assert result.weights["A"] > Decimal("0.7") > result.weights["B"]


@pytest.mark.parametrize(
    ("op", "threshold", "chosen"),
    [
        (">", 9, "A"),
        (">", 10, "B"),
        ("<", 11, "A"),
        ("<", 10, "B"),
        (">=", 10, "A"),
        ("<=", 10, "A"),
        ("<=", 9, "B"),
        ("=", 10, "A"),
        ("=", 11, "B"),
    ],
)
def test_if_takes_then_or_else_by_each_comparison(op: str, threshold: int, chosen: str) -> None:
    result = run(
        f'(if ({op} (current-price "A") {threshold}) [(asset "A")] [(asset "B")])', bars(**FLAT)
    )
    assert result.weights == {chosen: 1}
    then, otherwise = result.trace.children
    assert (then.taken, otherwise.taken) == (chosen == "A", chosen == "B")


def test_if_comparing_two_indicators_with_values_and_margin_in_the_trace() -> None:
    result = run(
        '(if (> (current-price "A") (moving-average-price "A" {:window 3})) '
        '[(asset "A")] [(asset "B")])',
        bars(A=[10, 11, 12, 15], B=[1, 1, 1, 1]),
    )
    assert result.weights == {"A": 1}
    assert result.trace.detail == (
        "current-price(A) = 15.0000 > moving-average-price(A, 3) = 12.6667: true, margin 2.3333"
    )
    assert result.trace.values["holds"] is True


@pytest.mark.parametrize(
    ("select", "count", "chosen"), [("top", 1, ["C"]), ("bottom", 1, ["A"]), ("top", 2, ["B", "C"])]
)
def test_filter_select_top_and_bottom(select: str, count: int, chosen: list[str]) -> None:
    data = bars(A=[100, 90], B=[100, 105], C=[100, 120])
    result = run(
        f"(filter (cumulative-return {{:window 1}}) (select-{select} {count}) "
        '[(asset "A") (asset "B") (asset "C")])',
        data,
    )
    assert result.weights == {s: Decimal(1) / count for s in chosen}


def test_filter_ties_break_alphabetically_whatever_the_order_written() -> None:
    data = bars(A=[10, 11], B=[10, 11], C=[10, 11])
    top = run(
        "(filter (cumulative-return {:window 1}) (select-top 2) "
        '[(asset "C") (asset "B") (asset "A")])',
        data,
    )
    assert top.weights == {"A": Decimal("0.5"), "B": Decimal("0.5")}
    bottom = run(
        '(filter (cumulative-return {:window 1}) (select-bottom 1) [(asset "C") (asset "A")])', data
    )
    assert bottom.weights == {"A": 1}


def test_filter_over_groups_scores_each_group_on_its_own_re_evaluated_value_series() -> None:
    # A rises 100 -> 108; B is flat. The "switch" group holds A while A <= 105, then B:
    # re-evaluated each day its value goes 100 -> 102 -> 104 -> 106 -> 106 (+6%), which
    # is neither A's +8% nor B's 0% nor today's holding (B) over the whole window.
    data = bars(A=[100, 102, 104, 106, 108], B=[50] * 5, C=[100, 101, 102, 103, 107])
    body = (
        "(filter (cumulative-return {:window 4}) (select-top 1) "
        '[(group "switch" [(if (> (current-price "A") 105) [(asset "B")] [(asset "A")])]) '
        '(group "steady" [(asset "C")])])'
    )
    result = run(body, data)
    scores = {s["label"]: Decimal(s["score"]) for s in result.trace.values["scores"]}
    assert scores == {"switch": Decimal(6), "steady": Decimal(7)}
    assert result.weights == {"C": 1}


def test_groups_with_the_same_name_keep_their_own_histories() -> None:
    data = bars(A=[100, 110, 121], B=[100, 90, 81])
    body = (
        "(filter (cumulative-return {:window 2}) (select-top 1) "
        '[(group "G" [(asset "B")]) (group "G" [(asset "A")])])'
    )
    result = run(body, data)
    assert result.weights == {"A": 1}
    assert [Decimal(s["score"]) for s in result.trace.values["scores"]] == [21, -19]


def test_too_little_history_names_symbol_indicator_window_and_bars() -> None:
    with pytest.raises(StrategyError) as caught:
        run(
            '(if (> (moving-average-price "A" {:window 60}) 5) [(asset "A")] [(asset "B")])',
            bars(A=[10] * 50, B=[10] * 50),
        )
    assert str(caught.value) == (
        "t.clj:2:9: moving-average-price window 60: A has 50 daily bars through 2024-03-08, "
        "the window needs 60"
    )
    with pytest.raises(StrategyError) as caught:
        run(
            '(if (> (rsi "A" {:window 10}) 50) [(asset "A")] [(asset "B")])',
            bars(A=[10] * 10, B=[10] * 10),
        )
    assert str(caught.value) == (
        "t.clj:2:9: rsi window 10: A has 10 daily bars through 2024-01-12, the window needs "
        "at least 11"
    )


def test_a_filter_candidate_without_enough_history_is_an_error_not_dropped() -> None:
    data = bars(A=[10, 11, 12], B=[10, 11])
    with pytest.raises(
        StrategyError,
        match=r"^t\.clj:2:10: cumulative-return window 2: B has 2 daily bars through "
        r"2024-01-03, the window needs 3$",
    ):
        run(
            '(filter (cumulative-return {:window 2}) (select-top 1) [(asset "A") (asset "B")])',
            data,
        )


def test_missing_symbol_is_an_error() -> None:
    with pytest.raises(StrategyError, match=r"^t\.clj:1:1: no daily bars for B$"):
        run('(weight-equal [(asset "A") (asset "B")])', bars(A=[1]))


def test_no_look_ahead_bars_after_as_of_are_ignored() -> None:
    data = bars(A=[100, 100, 100, 200], B=[1, 1, 1, 1])
    body = '(if (> (current-price "A") 150) [(asset "A")] [(asset "B")])'
    assert run(body, data).weights == {"A": 1}
    earlier = run(body, data, as_of=date(2024, 1, 3))
    assert earlier.as_of == date(2024, 1, 3)
    assert earlier.weights == {"B": 1}


def test_fragile_decisions_are_reported() -> None:
    data = bars(A=[100, 101], B=[100, 130])
    result = run('(if (> (current-price "A") 100) [(asset "A")] [(asset "B")])', data)
    assert result.trace.fragile
    assert result.fragile == ("t.clj:2:2: current-price(A) = 101.0000 > 100: true, margin 1.0000",)
    solid = run('(if (> (current-price "B") 100) [(asset "A")] [(asset "B")])', data)
    assert solid.fragile == ()


def test_stale_symbols_are_reported() -> None:
    data = bars(A=[1, 1, 1], B=[1, 1])
    result = run('(weight-equal [(asset "A") (asset "B")])', data)
    assert result.stale == {"B": date(2024, 1, 2)}


def test_rebalance_threshold_is_returned_and_blends_take_the_tightest() -> None:
    data = bars(**FLAT)
    one = parse_symphony('(defsymphony "one" {:rebalance-threshold 0.05} (asset "A"))', "one.clj")
    two = parse_symphony('(defsymphony "two" {:rebalance-threshold 0.03} (asset "B"))', "two.clj")
    blend = targets_from_strategies(
        [(one, Decimal("0.6")), (two, Decimal("0.4"))], data, date(2030, 1, 1)
    )
    assert blend.weights == {"A": Decimal("0.6"), "B": Decimal("0.4")}
    assert blend.rebalance_threshold == Decimal("0.03")
    assert [r.rebalance_threshold for r, _ in blend.results] == [Decimal("0.05"), Decimal("0.03")]
    with pytest.raises(
        StrategyError, match=r"^strategy weights must be above 0 and add up to at most 1, got 1\.2$"
    ):
        targets_from_strategies(
            [(one, Decimal("0.6")), (two, Decimal("0.6"))], data, date(2030, 1, 1)
        )


def test_not_taken_branches_are_in_the_trace_unevaluated() -> None:
    result = run(
        '(if (> (current-price "A") 100) [(asset "A")] [(weight-equal [(asset "B") (asset "C")])])',
        bars(**FLAT),
    )
    then, otherwise = result.trace.children
    assert (then.taken, then.hidden, then.detail) == (False, 1, "then branch, not taken")
    assert otherwise.taken
    assert [c.label for c in otherwise.children] == ["B", "C"]
    assert [c.taken for c in trace_document(result.trace).children] == [False, True]
    assert isinstance(otherwise, Trace)


def test_live_prices_replace_current_price_on_the_session_only() -> None:
    data = bars(A=[100, 100, 100], B=[1, 1, 1])
    body = (
        '(if (> (current-price "A") (moving-average-price "A" {:window 2})) '
        '[(asset "A")] [(asset "B")])'
    )
    symphony = parse_symphony(f'(defsymphony "T" {{}}\n {body})', "t.clj")
    assert evaluate(symphony, data, date(2030, 1, 1)).weights == {"B": 1}  # 100 > 100: no
    live = evaluate(symphony, data, date(2030, 1, 1), live_prices={"A": Decimal("100.5")})
    assert live.weights == {"A": 1}
    assert live.live_prices
    assert live.trace.detail.startswith("current-price(A) = 100.5000 > moving-average-price(A, 2)")
    with pytest.raises(StrategyError, match=r"^t\.clj:2:9: current-price: no latest trade for A$"):
        evaluate(symphony, data, date(2030, 1, 1), live_prices={})


REAL_CLOSES = sorted(p.stem for p in US_DAILY.glob("*.csv") if p.stem != "SPX")


@pytest.mark.parametrize("path", REAL_FILES, ids=lambda p: p.name)
def test_every_real_file_evaluates_on_real_closes_with_its_symbols_mapped(path: Path) -> None:
    """The real files' symbols (leveraged ETFs...) are not in us-daily: each is mapped, in
    sorted order, onto the 25 real series, so every structure runs on real-shaped data."""
    text = path.read_text(encoding="utf-8")
    symbols = symbols_of(parse_symphony(text, str(path)).root)
    for i, symbol in enumerate(symbols):
        text = text.replace(f'"{symbol}"', f'"{REAL_CLOSES[i % len(REAL_CLOSES)]}"')
    symphony = parse_symphony(text, str(path))
    as_of = date(2022, 6, 1)
    data = daily_bars(symbols_of(symphony.root), date(2015, 1, 1), as_of, US_DAILY)
    result = evaluate(symphony, data, as_of)
    assert result.as_of == as_of
    assert not result.synthetic
    assert result.weights
    assert sum(result.weights.values()) <= 1
