"""A ledger's open state as plain JSON values, so a cache can resume it: the open lots, the
losses a purchase may still replace, and the gaps. Past sales are not kept (a plan needs
none; `status` and `alch tax` rebuild the whole history)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from alchemiser_cli.core.tax.ledger import Gap, Ledger, Lot, Realised

VERSION = 1


def _lot(lot: Lot) -> list[Any]:
    return [lot.symbol, str(lot.qty), str(lot.cost), str(lot.basis), lot.acquired.isoformat(),
            lot.held_since.isoformat(), lot.origin, lot.replaced]  # fmt: skip


def _loss(r: Realised) -> list[Any]:
    return [r.symbol, str(r.qty), r.acquired.isoformat(), r.held_since.isoformat(),
            r.sold.isoformat(), str(r.proceeds), str(r.basis), r.origin, str(r.disallowed),
            str(r.units), str(r.open_units)]  # fmt: skip


def dump(ledger: Ledger) -> dict[str, Any]:
    """The open state of a ledger of history (no planned orders applied)."""
    return {
        "version": VERSION,
        "lots": [_lot(lot) for lots in ledger.lots.values() for lot in lots],
        "pending": [_loss(r) for recs in ledger.pending.values() for r in recs],
        "gaps": [[g.symbol, str(g.qty), g.at.isoformat()] for g in ledger.gaps],
    }


def load(state: dict[str, Any]) -> Ledger:
    """The ledger `dump` described (KeyError, ValueError or TypeError if it is not one)."""
    if state.get("version") != VERSION:
        raise ValueError("another layout")
    ledger = Ledger()
    d, day = Decimal, date.fromisoformat
    for s, q, c, b, a, h, o, rep in state["lots"]:
        ledger.lots.setdefault(s, []).append(
            Lot(s, d(q), d(c), d(b), day(a), day(h), str(o), None, bool(rep))
        )
    for s, q, a, h, sold, p, b, o, dis, u, ou in state["pending"]:
        record = Realised(s, d(q), day(a), day(h), day(sold), d(p), d(b), str(o), None,
                          d(dis), d(u), d(ou))  # fmt: skip
        ledger.pending.setdefault(s, []).append(record)
    ledger.gaps.extend(Gap(s, d(q), day(at)) for s, q, at in state["gaps"])
    return ledger
