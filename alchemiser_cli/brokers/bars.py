"""Daily bars for the simulator: CSV files from `ALCH_SIM_BARS=DIR`, or synthetic.

- With a directory: one `SYMBOL.csv` per symbol, header `date,open,high,low,close,volume`
  or `date,close`, oldest first, closes adjusted for splits and dividends. A missing file,
  a bad row, dates out of order or a close that is not positive is an error naming the file
  and the line: never a silent gap.
- Without one: deterministic synthetic closes per symbol (a random walk seeded by the
  symbol's name, in exact decimals, on weekdays from 2015-01-02), flagged `synthetic` so
  every output can say so. They are for trying the tools, not for decisions.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import random
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from alchemiser_cli.core.strategy.series import Series
from alchemiser_cli.errors import InputError

SYNTHETIC_START = date(2015, 1, 2)
# The simulator's own price bounds (a hundredth of a cent to ten million dollars).
MIN_CLOSE = Decimal("0.0001")
MAX_CLOSE = Decimal(10_000_000)


class BarsError(InputError):
    """Daily bars cannot be read (a missing or malformed CSV file)."""


def read_csv_series(path: Path, symbol: str) -> Series:
    """One symbol's closes from a `date,...,close,...` CSV file."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BarsError(
            f"no daily bars for {symbol}: {path} does not exist (add it to ALCH_SIM_BARS "
            "or unset ALCH_SIM_BARS for synthetic bars)"
        ) from None
    except OSError as exc:
        raise BarsError(f"{path}: cannot be read: {exc.strerror}") from None
    rows = csv.reader(text.splitlines())
    header = [h.strip().lower() for h in next(rows, [])]
    if "date" not in header or "close" not in header:
        raise BarsError(
            f"{path}:1: expected a header with date and close, found {','.join(header)}"
        )
    at_date, at_close = header.index("date"), header.index("close")
    dates: list[date] = []
    closes: list[Decimal] = []
    for line, row in enumerate(rows, start=2):
        if not row or not "".join(row).strip():
            continue
        try:
            day = date.fromisoformat(row[at_date].strip())
            close = Decimal(row[at_close].strip())
        except (IndexError, ValueError, InvalidOperation):
            raise BarsError(
                f"{path}:{line}: expected an ISO date and a close, found {','.join(row)}"
            ) from None
        if not close.is_finite() or close <= 0:
            raise BarsError(
                f"{path}:{line}: close {row[at_close].strip()} is not a positive number"
            )
        if not MIN_CLOSE <= close <= MAX_CLOSE:  # beyond: no exact arithmetic downstream
            raise BarsError(
                f"{path}:{line}: close {row[at_close].strip()} is out of range "
                f"({MIN_CLOSE} to {MAX_CLOSE})"
            )
        if dates and day <= dates[-1]:
            raise BarsError(
                f"{path}:{line}: {day.isoformat()} is not after {dates[-1].isoformat()} "
                "(oldest first)"
            )
        dates.append(day)
        closes.append(close)
    return Series(tuple(dates), tuple(closes))


def synthetic_series(symbol: str, end: date) -> Series:
    """Deterministic synthetic closes for `symbol` on weekdays from 2015-01-02 to `end`."""
    seed = int.from_bytes(hashlib.sha256(symbol.encode()).digest()[:8], "big")
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    # The price in units of 0.0001, kept as an integer: price * (1 + move / 10000) rounded
    # half-even to 0.0001, exactly as the Decimal arithmetic it replaces (and 5x faster).
    units = (20 + seed % 180) * 10_000
    drift = seed % 7 - 2  # basis points a day, -2..4
    dates = _weekdays(end)
    closes: list[Decimal] = []
    bits = rng.getrandbits
    for _ in dates:
        # a move of -250..250 bp: randrange(-250, 251)'s own draw (9 random bits, redrawn
        # when over 500), written out so it is the same on every Python version
        draw = bits(9)
        while draw > 500:
            draw = bits(9)
        scaled = units * (10_000 + draw - 250 + drift)
        units, rest = divmod(scaled, 10_000)
        if rest > 5_000 or (rest == 5_000 and units % 2):
            units += 1
        closes.append(Decimal(units).scaleb(-4))
    return Series(dates, tuple(closes), synthetic=True)


@functools.lru_cache(maxsize=4)
def _weekdays(end: date) -> tuple[date, ...]:
    """Every weekday from SYNTHETIC_START to `end` (the same for every symbol)."""
    out: list[date] = []
    day = SYNTHETIC_START
    while day <= end:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


def daily_bars(
    symbols: Iterable[str], start: date, end: date, directory: Path | None
) -> dict[str, Series]:
    """Closes from `start` to `end` (inclusive) for each symbol, from `directory` or synthetic."""
    out: dict[str, Series] = {}
    for symbol in sorted(set(symbols)):
        full = (
            read_csv_series(directory / f"{symbol}.csv", symbol)
            if directory is not None
            else synthetic_series(symbol, end)
        )
        keep = [i for i, d in enumerate(full.dates) if start <= d <= end]
        out[symbol] = Series(
            tuple(full.dates[i] for i in keep),
            tuple(full.closes[i] for i in keep),
            synthetic=full.synthetic,
        )
    return out
