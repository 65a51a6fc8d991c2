"""Tax lots rebuilt first in, first out from fills and splits: realised gains and wash sales.

Pure: the events (fills, splits, planned orders) are arguments, in the order they happened;
nothing here reads a clock or a file. Quantities and money are exact `Decimal`s.

The rules (IRS Publication 550, "Wash Sales" and "Holding Period"), and what is simplified:
- Lots close first in, first out, as Alpaca closes them (it offers no lot choice).
- A sale is long-term when the shares were held more than one year: sold after the
  anniversary of the day after acquisition (a lot acquired on 29 February has its
  anniversary on 28 February).
- A loss is a wash sale when substantially identical shares (here: the same symbol;
  a substitute such as ITOT for VTI is taken as not substantially identical, which is the
  user's call) are acquired in the 61 days from 30 days before the sale to 30 days after
  (trade dates in New York). The disallowed loss is the loss times the replacement shares
  over the shares sold (all of it when there are at least as many); it is added to the
  replacement shares' basis, and their holding period starts earlier by as long as the
  sold shares were held. Replacement shares are matched in the order they were acquired,
  each share only once.
- The shares sold are not their own replacement, nor are the rest of their own purchase
  (Rev. Rul. 56-602: selling part of one lot at a loss within 30 days of buying it is not
  a wash sale); the rest of another purchase the same sale cut into is. Shares bought
  before the sale count only while still held after it.
- Not modelled: fees outside the fill price (Alpaca reports them as separate FEE
  activities), options, IRA purchases, short sales, mergers, spin-offs and transfers.
  Shares sold that no lot covers are a gap: the figures are then incomplete.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from alchemiser_cli.core.calendar import NEW_YORK
from alchemiser_cli.core.money import ZERO
from alchemiser_cli.core.types import Exact, Money

WINDOW = timedelta(days=30)
_T = TypeVar("_T", "Lot", "Realised")  # a wash sale's window on either side of the sale


class Kind(StrEnum):
    """What an event does to the lots."""

    BUY = "buy"
    SELL = "sell"
    SPLIT = "split"


class Term(StrEnum):
    """Holding period of a sale."""

    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class TaxEvent:
    """One fill or split. A split gives `ratio` (new shares per old share), or, where the
    broker reports only the shares added (negative: removed), `qty` with no ratio. A
    planned order (an estimate, not history) carries its `leg`."""

    at: datetime
    symbol: str
    kind: Kind
    qty: Decimal = ZERO
    price: Decimal = ZERO
    ratio: Decimal | None = None
    fees: Decimal = ZERO  # a sale's fees, deducted from its proceeds
    ref: str = ""
    leg: int | None = None

    @property
    def day(self) -> date:
        """The trade date, in New York."""
        return self.at.astimezone(NEW_YORK).date()


@dataclass(slots=True)
class Lot:
    """Shares of one purchase still held. `cost` is what was paid (kept through splits:
    the broker's average entry price is cost / qty); `basis` adds the losses wash sales
    disallowed."""

    symbol: str
    qty: Decimal
    cost: Decimal
    basis: Decimal
    acquired: date
    held_since: date  # the holding period's start: earlier than `acquired` after a wash sale
    origin: str  # the purchase it comes from (pieces of one purchase share it)
    leg: int | None = None
    replaced: bool = False  # these shares already replaced a loss: never again


@dataclass(slots=True)
class Realised:
    """Shares of one lot sold: proceeds, basis and the loss a wash sale disallowed."""

    symbol: str
    qty: Decimal
    acquired: date
    held_since: date
    sold: date
    proceeds: Decimal
    basis: Decimal
    origin: str
    leg: int | None = None
    disallowed: Decimal = ZERO
    units: Decimal = ZERO  # `qty` in today's shares (splits since scale it)
    open_units: Decimal = ZERO  # loss shares no replacement has matched yet

    @property
    def loss(self) -> Decimal:
        """The loss before any disallowance (zero for a gain)."""
        return max(ZERO, self.basis - self.proceeds)

    @property
    def gain(self) -> Decimal:
        """The gain or loss as reported: proceeds - basis + the disallowed loss."""
        return self.proceeds - self.basis + self.disallowed

    @property
    def term(self) -> Term:
        """Long-term when held more than a year (from `held_since`)."""
        return holding_term(self.held_since, self.sold)


@dataclass(frozen=True, slots=True)
class WashSale:
    """A loss (part of) disallowed because replacement shares were acquired in the window."""

    symbol: str
    sold: date
    sale_leg: int | None  # the planned sell that makes it (None: history)
    lot_acquired: date  # when the shares sold at a loss were bought
    sold_qty: Exact
    loss: Money  # the whole loss of the shares sold
    replacement_acquired: date
    replacement_leg: int | None  # the planned buy that makes it (None: history)
    replacement_qty: Exact
    disallowed: Money


@dataclass(frozen=True, slots=True)
class Gap:
    """Shares sold (or split) that no lot covers: the history is incomplete."""

    symbol: str
    qty: Decimal
    at: date


def holding_term(held_since: date, sold: date) -> Term:
    """Long-term when sold after the first anniversary of the holding period's start."""
    try:
        anniversary = held_since.replace(year=held_since.year + 1)
    except ValueError:  # 29 February
        anniversary = held_since.replace(year=held_since.year + 1, day=28)
    return Term.LONG if sold > anniversary else Term.SHORT


@dataclass(slots=True)
class Ledger:
    """Open lots per symbol, every realised sale and every wash sale, built by `apply`."""

    lots: dict[str, list[Lot]] = field(default_factory=dict)
    realised: list[Realised] = field(default_factory=list)
    washes: list[WashSale] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    pending: dict[str, list[Realised]] = field(default_factory=dict)  # losses a buy may replace
    _only: frozenset[str] | None = None  # a fork: the symbols whose events it may take

    def apply(self, events: Iterable[TaxEvent]) -> Ledger:
        """Apply events in the order given (the order they happened); returns self."""
        for event in events:
            if self._only is not None and event.symbol not in self._only:
                raise ValueError(f"{event.symbol}: this fork shares its lots with the history")
            if event.kind is Kind.BUY:
                self._buy(event)
            elif event.kind is Kind.SELL:
                self._sell(event)
            else:
                self._split(event)
        return self

    def fork(self, symbols: Iterable[str]) -> Ledger:
        """A copy to apply planned orders in `symbols` to (no other symbol's): their lots
        and open losses are copied, everything else is shared with this ledger."""
        names = set(symbols)
        pending = {s: [_copy(r) for r in self.pending[s]] for s in names if s in self.pending}
        copies = {id(old): new for s, recs in pending.items()
                  for old, new in zip(self.pending[s], recs, strict=True)}  # fmt: skip
        lots = dict(self.lots)  # a lot is never changed in place: the lists are enough
        for s in names & lots.keys():
            lots[s] = list(lots[s])
        realised = [copies.get(id(r), r) for r in self.realised] if copies else self.realised
        forked = Ledger(
            lots=lots,
            realised=list(realised),
            washes=list(self.washes),
            gaps=list(self.gaps),
            pending={**self.pending, **pending},
        )
        forked._only = frozenset(names)
        return forked

    def held(self, symbol: str) -> Decimal:
        """Shares of `symbol` the open lots hold."""
        return sum((lot.qty for lot in self.lots.get(symbol, ())), ZERO)

    # -- events ----------------------------------------------------------------------------

    def _buy(self, event: TaxEvent) -> None:
        day = event.day
        cost = event.qty * event.price
        origin = event.ref or f"{event.symbol}@{event.at.isoformat()}"
        rest: Lot | None = Lot(event.symbol, event.qty, cost, cost, day, day, origin, event.leg)
        pieces: list[Lot] = []
        for loss in self._open_losses(event.symbol, day):
            if rest is None:
                break
            piece, rest = _split_off(rest, min(loss.open_units, rest.qty))
            pieces.append(self._wash(loss, piece, replacement_leg=event.leg))
        if rest is not None:
            pieces.append(rest)
        self.lots.setdefault(event.symbol, []).extend(pieces)

    def _sell(self, event: TaxEvent) -> None:
        day, lots = event.day, self.lots.setdefault(event.symbol, [])
        left, sold = event.qty, []
        while left > ZERO and lots:
            if lots[0].qty <= left:
                piece = lots.pop(0)
            else:
                piece, rest = _split_off(lots[0], left)
                if rest is not None:  # always: the lot holds more than is left to sell
                    lots[0] = rest
            share = piece.qty / event.qty
            proceeds = piece.qty * event.price - event.fees * share
            sold.append(
                Realised(event.symbol, piece.qty, piece.acquired, piece.held_since, day, proceeds,
                         piece.basis, piece.origin, event.leg, units=piece.qty)
            )  # fmt: skip
            left -= piece.qty
        if left > ZERO:
            self.gaps.append(Gap(event.symbol, left, day))
        for record in sold:
            self.realised.append(record)
            if record.loss > ZERO:
                record.open_units = record.units
                self._replace_from_held(record)
                if record.open_units > ZERO:
                    self.pending.setdefault(event.symbol, []).append(record)

    def _split(self, event: TaxEvent) -> None:
        held = self.held(event.symbol)
        ratio = event.ratio
        if ratio is None:  # only the shares added are known: the ratio is from the holding
            if held <= ZERO:
                self.gaps.append(Gap(event.symbol, event.qty, event.day))
                return
            ratio = (held + event.qty) / held
        lots = self.lots.get(event.symbol, [])
        for i, lot in enumerate(lots):
            lots[i] = _copy(lot)
            lots[i].qty = lot.qty * ratio
        for record in self.pending.get(event.symbol, ()):
            record.units *= ratio
            record.open_units *= ratio

    # -- wash sales ------------------------------------------------------------------------

    def _open_losses(self, symbol: str, day: date) -> list[Realised]:
        """Losses of `symbol` sold in the 30 days up to `day` that a purchase can still
        replace, oldest first (older ones are dropped: no purchase can reach them again)."""
        pending = self.pending.get(symbol)
        if not pending:
            return []
        live = [r for r in pending if r.open_units > ZERO and r.sold >= day - WINDOW]
        self.pending[symbol] = live
        return live

    def _replace_from_held(self, record: Realised) -> None:
        """Match a loss against shares bought in the 30 days before the sale and still
        held, oldest first, that are not the rest of the loss shares' own purchase and have
        not replaced before (the rest of another purchase the same sale cut into counts)."""
        lots = self.lots.get(record.symbol, [])
        start = record.sold - WINDOW
        out: list[Lot] = []
        for lot in lots:
            rest: Lot | None = lot
            usable = not lot.replaced and lot.acquired >= start and lot.origin != record.origin
            if usable and record.open_units > ZERO:
                piece, rest = _split_off(lot, min(record.open_units, lot.qty))
                out.append(self._wash(record, piece, replacement_leg=lot.leg))
            if rest is not None:
                out.append(rest)
        self.lots[record.symbol] = out

    def _wash(self, loss: Realised, piece: Lot, *, replacement_leg: int | None) -> Lot:
        """Disallow the loss on `piece.qty` replaced shares (a fresh piece, changed here):
        add it to their basis and carry the sold shares' holding period over."""
        amount = loss.loss * piece.qty / loss.units
        loss.disallowed += amount
        loss.open_units -= piece.qty
        piece.basis += amount
        piece.held_since = min(piece.held_since, piece.acquired - (loss.sold - loss.held_since))
        piece.replaced = True
        self.washes.append(
            WashSale(loss.symbol, loss.sold, loss.leg, loss.acquired, loss.qty, loss.loss,
                     piece.acquired, replacement_leg, piece.qty, amount)
        )  # fmt: skip
        return piece


def _copy(item: _T) -> _T:
    """A shallow copy of a slotted record (faster than dataclasses.replace)."""
    new = object.__new__(type(item))
    for name in item.__slots__:
        object.__setattr__(new, name, getattr(item, name))
    return new


def _split_off(lot: Lot, qty: Decimal) -> tuple[Lot, Lot | None]:
    """`qty` shares of `lot` and the rest (None when nothing is left), as new lots with
    cost and basis in proportion; `lot` itself is never changed (forks share it)."""
    piece = _copy(lot)
    if qty >= lot.qty:
        return piece, None
    share = qty / lot.qty
    rest = _copy(lot)
    piece.qty, piece.cost, piece.basis = qty, lot.cost * share, lot.basis * share
    rest.qty, rest.cost, rest.basis = lot.qty - qty, lot.cost - piece.cost, lot.basis - piece.basis
    return piece, rest


def rebuild(events: Iterable[TaxEvent]) -> Ledger:
    """The ledger of a history: events sorted by time (ties keep their order)."""
    return Ledger().apply(sorted(events, key=lambda e: e.at))
