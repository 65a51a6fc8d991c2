"""Realised gains of a year, from a ledger: the year-to-date totals `status` shows and the
lots `alch tax` lists (Form 8949's columns). Estimates for the user's own records."""

from __future__ import annotations

from collections.abc import Iterable

from alchemiser_cli.core.money import ZERO, money
from alchemiser_cli.core.tax.ledger import Ledger, Realised, Term
from alchemiser_cli.core.tax.records import Completeness, RealisedLot, YearToDate


def sold_in(ledger: Ledger, year: int) -> list[Realised]:
    """The history's sales of shares in `year` (planned orders excluded), in sale order."""
    return [r for r in ledger.realised if r.sold.year == year and r.leg is None]


def year_totals(records: Iterable[Realised], year: int, status: Completeness) -> YearToDate:
    """Short- and long-term gains as reported (disallowed losses added back), and the
    disallowed total, of the sales given."""
    short = long = disallowed = ZERO
    count = 0
    for record in records:
        count += 1
        disallowed += record.disallowed
        if record.term is Term.SHORT:
            short += record.gain
        else:
            long += record.gain
    return YearToDate(year, short, long, disallowed, count, status)


def realised_lots(records: Iterable[Realised]) -> tuple[RealisedLot, ...]:
    """One line per lot (or part of one) sold, in cents: the gain is the line's own
    proceeds - basis + adjustment, as on Form 8949 (each rounded alone, a line could be a
    cent off its columns)."""
    out = []
    for r in records:
        proceeds, basis, adjustment = money(r.proceeds), money(r.basis), money(r.disallowed)
        gain = proceeds - basis + adjustment
        out.append(RealisedLot(r.symbol, r.qty, r.acquired, r.sold, proceeds, basis, adjustment,
                               gain, r.term.value))  # fmt: skip
    return tuple(out)
