"""The simulator's seed file: TOML in, a validated `SimSeed` out, every figure in bounds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from alchemiser_cli.core.models import Asset, Quote
from alchemiser_cli.core.money import ZERO, to_decimal
from alchemiser_cli.core.targets import normalise_symbol
from alchemiser_cli.errors import ConfigError
from alchemiser_cli.files import read_toml

# Bounds that keep every figure the simulator and the planner compute within Decimal's 28
# digits (cash 1e40 made cent rounding fail deep inside a command, an internal error): an
# account worth at most a trillion dollars, prices from a hundredth of a cent (Alpaca's
# smallest tick) to ten million dollars, so no quantity planned needs more than 25 digits.
MAX_MONEY = Decimal(10) ** 12
MAX_QTY = Decimal(10) ** 12
MAX_PRICE = Decimal(10) ** 7
MIN_PRICE = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class SimSeed:
    """The starting state of a simulated account, read from a TOML file."""

    account_id: str
    account_type: str
    cash: Decimal
    positions: dict[str, Decimal]
    quotes: dict[str, Quote]
    assets: dict[str, Asset]
    daytrade_count: int | None
    listed: tuple[str, ...] = ()  # `quotes = [...]`: symbols priced from bars, no fixed quote


def load_seed(path: Path) -> SimSeed:
    """Read and validate a simulator seed file; errors name the file and the entry."""
    doc = read_toml(path, "simulator account")
    where = str(path)
    try:
        account_type = str(doc.get("type", "cash"))
        if account_type not in ("cash", "margin"):
            raise ValueError(f'type must be "cash" or "margin", not {account_type!r}')
        cash = _bounded(doc.get("cash", "0"), "cash", MAX_MONEY)
        if cash < ZERO:
            raise ValueError("cash must not be negative")
        positions = {
            normalise_symbol(s, where=where): _bounded(q, f"positions.{s}", MAX_QTY)
            for s, q in _table(doc, "positions").items()
        }
        for symbol, qty in positions.items():
            if qty <= ZERO:
                raise ValueError(f"positions.{symbol}: quantity must be positive")
        quotes = {}
        listed = _listed(doc, where)
        for raw, entry in ({} if listed else _table(doc, "quotes")).items():
            symbol = normalise_symbol(raw, where=where)
            if not isinstance(entry, dict):
                raise ValueError(f"quotes.{raw}: expected a table with bid and ask")
            quotes[symbol] = Quote(
                symbol=symbol,
                bid=_price(entry.get("bid", "0"), f"quotes.{raw}.bid"),
                ask=_price(entry.get("ask", "0"), f"quotes.{raw}.ask"),
                last=_price(entry.get("last", "0"), f"quotes.{raw}.last"),
            )
            if min(quotes[symbol].bid, quotes[symbol].ask, quotes[symbol].last) < ZERO:
                raise ValueError(f"quotes.{raw}: prices must not be negative")
        assets = {}
        for raw, entry in _table(doc, "assets").items():
            symbol = normalise_symbol(raw, where=where)
            if not isinstance(entry, dict):
                raise ValueError(f"assets.{raw}: expected a table")
            assets[symbol] = Asset(
                symbol=symbol,
                tradable=bool(entry.get("tradable", True)),
                fractionable=bool(entry.get("fractionable", True)),
                status=str(entry.get("status", "active")),
                avg_daily_volume=None
                if entry.get("adv") is None
                else _bounded(entry["adv"], f"assets.{raw}.adv", MAX_QTY),
            )
        worth = cash + sum(
            (
                qty * max(q.bid, q.ask, q.last)
                for s, qty in positions.items()
                if (q := quotes.get(s))
            ),
            ZERO,
        )
        if worth > MAX_MONEY:
            raise ValueError(
                f"cash and positions are worth {worth:,.2f} at the quotes: out of range "
                f"(at most {MAX_MONEY:,})"
            )
        raw_count = doc.get("daytrade_count")
        daytrade_count = None if raw_count is None else int(raw_count)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return SimSeed(
        account_id=str(doc.get("account_id", "SIM-DEMO")),
        account_type=account_type,
        cash=cash,
        positions=positions,
        quotes=quotes,
        assets=assets,
        daytrade_count=daytrade_count,
        listed=listed,
    )


def _listed(doc: dict[str, object], where: str) -> tuple[str, ...]:
    """`quotes = ["SPY", "TQQQ"]`: symbols the simulator knows without a fixed price (each
    quoted from its ALCH_SIM_BARS closes, or synthetic ones); empty for a `[quotes]` table."""
    value = doc.get("quotes")
    if not isinstance(value, list):
        return ()
    symbols = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"quotes: {item!r} is not a symbol")
        symbols.append(normalise_symbol(item, where=where))
    return tuple(dict.fromkeys(symbols))


def _bounded(value: object, field: str, bound: Decimal) -> Decimal:
    """A finite Decimal no larger in size than `bound` (ValueError naming the field)."""
    number = to_decimal(value, field=field)
    if abs(number) > bound:
        raise ValueError(f"{field}: {value} is out of range (at most {bound:,})")
    return number


def _price(value: object, field: str) -> Decimal:
    """A price within bounds, or 0 (no price); a negative one is refused by the caller."""
    number = _bounded(value, field, MAX_PRICE)
    if ZERO < number < MIN_PRICE:
        raise ValueError(f"{field}: {value} is out of range (at least {MIN_PRICE}, or 0)")
    return number


def _table(doc: dict[str, object], key: str) -> dict[str, object]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"[{key}] must be a table")
    return value
