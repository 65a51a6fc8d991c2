"""Tax lots first in, first out, splits, terms and wash sales (core/tax/ledger.py).

Every expected figure is worked out by hand in the comments, never by the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from alchemiser_cli.core.tax.ledger import Kind, TaxEvent, Term, holding_term, rebuild

D = Decimal


def at(day: str, hour: int = 15) -> datetime:
    """A moment of a New York session (15:00 UTC is 10:00 or 11:00 in New York)."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def buy(
    day: str, symbol: str, qty: str, price: str, *, hour: int = 15, leg: int | None = None
) -> TaxEvent:
    return TaxEvent(at(day, hour), symbol, Kind.BUY, D(qty), D(price), leg=leg)


def sell(
    day: str, symbol: str, qty: str, price: str, *, hour: int = 16, leg: int | None = None
) -> TaxEvent:
    return TaxEvent(at(day, hour), symbol, Kind.SELL, D(qty), D(price), leg=leg)


def test_fifo_closes_the_oldest_lot_first_and_part_of_the_next() -> None:
    ledger = rebuild([
        buy("2025-01-06", "VTI", "10", "100"),
        buy("2025-06-02", "VTI", "10", "120"),
        sell("2026-03-02", "VTI", "15", "130"),
    ])  # fmt: skip
    first, second = ledger.realised
    # 10 of the first lot: proceeds 10 x 130 = 1300, basis 10 x 100 = 1000, gain 300, held
    # 2025-01-06 .. 2026-03-02 (over a year): long
    assert (first.qty, first.proceeds, first.basis, first.gain, first.term) == (
        D(10), D(1300), D(1000), D(300), Term.LONG)  # fmt: skip
    # 5 of the second: 5 x 130 = 650 against 5 x 120 = 600, gain 50, held 2025-06-02 ..
    # 2026-03-02 (under a year): short
    assert (second.qty, second.proceeds, second.basis, second.gain, second.term) == (
        D(5), D(650), D(600), D(50), Term.SHORT)  # fmt: skip
    # left: 5 shares of the second lot, cost 5 x 120 = 600
    (lot,) = ledger.lots["VTI"]
    assert (lot.qty, lot.cost, lot.acquired) == (D(5), D(600), date(2025, 6, 2))


def test_long_term_starts_the_day_after_the_anniversary() -> None:
    assert holding_term(date(2025, 3, 10), date(2026, 3, 10)) is Term.SHORT  # exactly a year
    assert holding_term(date(2025, 3, 10), date(2026, 3, 11)) is Term.LONG
    assert holding_term(date(2024, 2, 29), date(2025, 2, 28)) is Term.SHORT
    assert holding_term(date(2024, 2, 29), date(2025, 3, 1)) is Term.LONG


def test_a_split_multiplies_shares_and_keeps_the_basis() -> None:
    ledger = rebuild([
        buy("2026-01-05", "NVDA", "3", "900"),
        TaxEvent(at("2026-02-02", 5), "NVDA", Kind.SPLIT, ratio=D(10)),
        sell("2026-03-02", "NVDA", "12", "95"),
    ])  # fmt: skip
    (record,) = ledger.realised
    # 3 shares at 900 (basis 2700) become 30; 12 of them sold: basis 2700 x 12/30 = 1080,
    # proceeds 12 x 95 = 1140, gain 60
    assert (record.qty, record.basis, record.proceeds, record.gain) == (
        D(12), D(1080), D(1140), D(60))  # fmt: skip
    assert ledger.lots["NVDA"][0].qty == D(18)


def test_a_split_given_as_shares_added_takes_its_ratio_from_the_holding() -> None:
    ledger = rebuild([
        buy("2026-01-05", "AAPL", "4", "200"),
        TaxEvent(at("2026-02-02", 5), "AAPL", Kind.SPLIT, qty=D(12)),  # 4 -> 16: 4-for-1
    ])  # fmt: skip
    (lot,) = ledger.lots["AAPL"]
    assert (lot.qty, lot.cost) == (D(16), D(800))


def test_loss_sale_after_a_buy_within_30_days_is_a_wash_sale() -> None:
    ledger = rebuild([
        buy("2025-01-10", "VTI", "10", "100"),
        buy("2026-03-02", "VTI", "5", "80"),
        sell("2026-03-10", "VTI", "10", "80"),
    ])  # fmt: skip
    (record,) = ledger.realised
    # FIFO sells the 2025 lot: loss 10 x (100 - 80) = 200. The 5 shares bought 8 days
    # before are still held: disallowed 200 x 5/10 = 100; reported loss -200 + 100 = -100.
    assert (record.loss, record.disallowed, record.gain, record.term) == (
        D(200), D(100), D(-100), Term.LONG)  # fmt: skip
    (wash,) = ledger.washes
    assert (wash.replacement_qty, wash.disallowed, wash.replacement_acquired) == (
        D(5), D(100), date(2026, 3, 2))  # fmt: skip
    (lot,) = ledger.lots["VTI"]
    # the replacement's basis 5 x 80 = 400 + 100; its holding period starts 424 days
    # (2025-01-10 .. 2026-03-10) before 2026-03-02: 2025-01-02
    assert (lot.basis, lot.cost, lot.held_since) == (D(500), D(400), date(2025, 1, 2))


def test_buy_within_30_days_after_a_loss_sale_is_a_wash_sale() -> None:
    ledger = rebuild([
        buy("2026-01-05", "QQQ", "10", "100"),
        sell("2026-02-02", "QQQ", "10", "90"),
        buy("2026-02-20", "QQQ", "10", "92"),
    ])  # fmt: skip
    (record,) = ledger.realised
    # loss 10 x 10 = 100, all replaced by 10 shares 18 days later: all disallowed
    assert (record.loss, record.disallowed, record.gain) == (D(100), D(100), D(0))
    (lot,) = ledger.lots["QQQ"]
    # basis 10 x 92 = 920 + 100; held 28 days (01-05 .. 02-02) carried: 02-20 - 28 = 01-23
    assert (lot.basis, lot.held_since) == (D(1020), date(2026, 1, 23))


def test_fewer_replacement_shares_disallow_a_proportional_loss() -> None:
    ledger = rebuild([
        buy("2026-01-05", "QQQ", "10", "100"),
        sell("2026-02-02", "QQQ", "10", "90"),
        buy("2026-02-20", "QQQ", "4", "92"),
        buy("2026-03-05", "QQQ", "3", "93"),  # 31 days after the sale: outside the window
    ])  # fmt: skip
    (record,) = ledger.realised
    # 4 of the 10 shares replaced: 100 x 4/10 = 40 disallowed; reported -100 + 40 = -60
    assert (record.disallowed, record.gain) == (D(40), D(-60))
    replacement, later = ledger.lots["QQQ"]
    assert (replacement.qty, replacement.basis) == (D(4), D(408))  # 4 x 92 + 40
    assert (later.qty, later.basis, later.replaced) == (D(3), D(279), False)  # 3 x 93


def test_the_thirtieth_day_is_inside_the_window_the_thirty_first_outside() -> None:
    inside = rebuild([
        buy("2026-01-05", "X", "1", "10"),
        sell("2026-02-02", "X", "1", "8"),
        buy("2026-03-04", "X", "1", "8"),  # 02-02 + 30 days
    ])  # fmt: skip
    outside = rebuild([
        buy("2026-01-05", "X", "1", "10"),
        sell("2026-02-02", "X", "1", "8"),
        buy("2026-03-05", "X", "1", "8"),  # 02-02 + 31 days
    ])  # fmt: skip
    assert [w.disallowed for w in inside.washes] == [D(2)]
    assert outside.washes == []


def test_selling_part_of_a_recent_purchase_is_not_a_wash_sale() -> None:
    # Rev. Rul. 56-602: the rest of the same purchase is not replacement stock
    ledger = rebuild([buy("2026-02-02", "X", "20", "100"), sell("2026-02-06", "X", "10", "90")])
    assert ledger.washes == []
    assert ledger.realised[0].gain == D(-100)


def test_the_rest_of_a_recent_purchase_replaces_an_older_lot_sold_with_part_of_it() -> None:
    # One sale closes the old lot and part of a purchase of 8 days before. Only the loss
    # shares' own purchase is excluded (Rev. Rul. 56-602); the rest of the recent purchase
    # is a separate acquisition inside the window, still held: it replaces the old loss.
    ledger = rebuild([
        buy("2025-01-06", "VTI", "10", "100"),
        buy("2026-02-20", "VTI", "10", "95"),
        sell("2026-03-02", "VTI", "15", "90"),
    ])  # fmt: skip
    old, recent = ledger.realised
    # the old lot: loss 10 x (100 - 90) = 100; 5 shares of the 02-20 purchase stay held:
    # 100 x 5/10 = 50 disallowed, reported -100 + 50 = -50
    assert (old.loss, old.disallowed, old.gain) == (D(100), D(50), D(-50))
    # 5 shares of the 02-20 purchase: loss 5 x 5 = 25, their own purchase's rest is no
    # replacement: allowed in full
    assert (recent.loss, recent.disallowed, recent.gain) == (D(25), D(0), D(-25))
    (wash,) = ledger.washes
    assert (wash.lot_acquired, wash.replacement_acquired, wash.replacement_qty) == (
        date(2025, 1, 6), date(2026, 2, 20), D(5))  # fmt: skip
    (lot,) = ledger.lots["VTI"]
    # 5 x 95 = 475 + 50; the old lot was held 420 days (2025-01-06 .. 2026-03-02), carried
    # back from 2026-02-20: 2024-12-27
    assert (lot.qty, lot.basis, lot.held_since) == (D(5), D(525), date(2024, 12, 27))


def test_a_replacement_share_replaces_one_loss_only() -> None:
    ledger = rebuild([
        buy("2026-01-05", "X", "20", "100"),
        sell("2026-02-02", "X", "10", "90", hour=15),  # loss 100
        sell("2026-02-02", "X", "10", "90", hour=16),  # loss 100
        buy("2026-02-10", "X", "10", "91"),
    ])  # fmt: skip
    first, second = ledger.realised
    # the 10 new shares replace the first loss (the oldest) in full, the second not at all
    assert (first.disallowed, second.disallowed) == (D(100), D(0))


def test_planned_orders_on_a_fork_leave_the_history_alone() -> None:
    history = rebuild([buy("2026-01-05", "X", "10", "100"), sell("2026-02-02", "X", "10", "90")])
    fork = history.fork({"X"}).apply([buy("2026-02-10", "X", "10", "91", leg=1)])
    assert [w.replacement_leg for w in fork.washes] == [1]
    assert fork.realised[0].disallowed == D(100)
    assert (history.washes, history.realised[0].disallowed) == ([], D(0))
    assert history.lots == {"X": []}
    with pytest.raises(ValueError, match="shares its lots"):  # Y's lots are the history's
        history.fork({"X"}).apply([buy("2026-02-10", "Y", "1", "1")])


def test_a_sale_no_lot_covers_is_a_gap() -> None:
    ledger = rebuild([buy("2026-01-05", "X", "5", "10"), sell("2026-02-02", "X", "8", "12")])
    (gap,) = ledger.gaps
    assert (gap.symbol, gap.qty) == ("X", D(3))
    assert ledger.realised[0].qty == D(5)
