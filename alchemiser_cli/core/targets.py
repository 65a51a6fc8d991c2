"""Target allocations: parse and validate weights from TOML, JSON or CSV text."""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from alchemiser_cli.core.money import ONE, ZERO, fmt
from alchemiser_cli.core.strategy.record import SignalRecord
from alchemiser_cli.core.types import WEIGHT_STEP
from alchemiser_cli.errors import InputError

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}([./][A-Z0-9]{1,4})?$")
HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Targets:
    """Validated weights of the investable base; whatever they leave unallocated is cash."""

    weights: dict[str, Decimal]
    source: str
    # Decided by strategies (`--strategy`, `[strategies]` or a signal document): their
    # trace. What they leave is cash by decision, so no weight at all is followed, not an
    # error (plain targets with none need `--liquidate`).
    signal: SignalRecord | None = None

    @property
    def cash_weight(self) -> Decimal:
        """The share of the investable base left as cash."""
        return ONE - sum(self.weights.values(), ZERO)


LIQUIDATE_SOURCE = "none (--liquidate)"


def liquidation() -> Targets:
    """The targets of `--liquidate`: none, so every position is sold."""
    return Targets(weights={}, source=LIQUIDATE_SOURCE)


def shortened(names: Sequence[str], limit: int = 3) -> str:
    """ "A, B, C and 47 more": a list of names kept to one readable line."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def require_weights(targets: Targets, *, liquidate: bool, keep: Sequence[str] = ()) -> Targets:
    """Empty targets (no entry, or every weight zero) sell every position: an input error
    unless the user asked for exactly that with `--liquidate`, which takes no targets.
    A weight on a kept symbol is an error too: kept symbols are outside the investable
    base, so targets naming only them would sell everything else."""
    kept = [s for s, w in targets.weights.items() if w > ZERO and s in keep]
    if kept:
        raise InputError(
            f"{targets.source}: {shortened(kept)} {'is' if len(kept) == 1 else 'are'} in "
            "[planner] keep (never touched, outside the investable base), so cannot have a "
            "target weight: remove it from the targets or from keep"
        )
    held = [s for s, w in targets.weights.items() if w > ZERO]
    if liquidate and held:
        raise InputError(
            f"--liquidate sells every position, but {targets.source} gives targets "
            f"({shortened(held)}): drop --liquidate or the targets"
        )
    if not liquidate and not held and targets.signal is None:  # strategies may hold cash
        what = "has only zero weights" if targets.weights else "has no targets"
        raise InputError(
            f"{targets.source} {what}: that would sell every position; add entries such as "
            "`VTI = 0.6`, or pass --liquidate to sell everything on purpose"
        )
    return targets


def parse_weight(raw: object, *, where: str, symbol: str) -> Decimal:
    """Read one weight: a number in [0, 1] or a percentage string like "60%"."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise InputError(f"{where}: {symbol}: weight {_as_written(raw)} is not a number")
    text = str(raw).strip()
    percent = text.endswith("%")
    try:
        value = Decimal(text.removesuffix("%").strip())
    except InvalidOperation:
        raise InputError(f"{where}: {symbol}: weight {_as_written(raw)} is not a number") from None
    if not value.is_finite():
        raise InputError(f"{where}: {symbol}: weight {_as_written(raw)} is not a finite number")
    if percent:
        value = value / HUNDRED
    if value < ZERO:
        raise InputError(f"{where}: {symbol}: weight {text} is negative")
    if ZERO < value < WEIGHT_STEP:
        raise InputError(
            f"{where}: {symbol}: weight {text} is below 0.0001%, the smallest weight alch "
            "acts on: write 0 for none, or a larger weight"
        )
    if value > ONE:
        hint = (
            f' (write {value / HUNDRED} or "{text}%")' if value <= HUNDRED and not percent else ""
        )
        raise InputError(f"{where}: {symbol}: weight {text} is above 100%{hint}")
    return value


def json_number(value: object) -> object:
    """Decimals inside a list or table, written back as the numbers they were."""
    if isinstance(value, Decimal):
        return (
            int(value) if value.is_finite() and value == value.to_integral_value() else float(value)
        )
    return str(value)


def _as_written(raw: object) -> str:
    """A weight as the file wrote it: text quoted, numbers and true/false bare."""
    if isinstance(raw, str):
        return repr(raw)
    if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool):
        return str(raw)
    return json.dumps(raw, default=json_number)


def normalise_symbol(raw: object, *, where: str) -> str:
    """Upper-case and validate a ticker symbol."""
    symbol = str(raw).strip().upper()
    if not SYMBOL_RE.match(symbol):
        raise InputError(f"{where}: {raw!r} is not a valid symbol")
    return symbol


def targets_from_mapping(entries: Mapping[str, object], *, where: str) -> Targets:
    """Validate a symbol -> weight mapping (duplicates after upper-casing are errors)."""
    weights: dict[str, Decimal] = {}
    for raw_symbol, raw_weight in entries.items():
        symbol = normalise_symbol(raw_symbol, where=where)
        if symbol in weights:
            raise InputError(f"{where}: {symbol} is listed twice")
        weights[symbol] = parse_weight(raw_weight, where=where, symbol=symbol)
    return _finish(weights, where)


def _finish(weights: dict[str, Decimal], where: str) -> Targets:
    total = sum(weights.values(), ZERO)
    if total > ONE:
        raise InputError(f"{where}: weights add up to {fmt(total * HUNDRED)}%, more than 100%")
    return Targets(weights=dict(sorted(weights.items())), source=where)


def parse_targets(text: str, *, where: str, fmt: str | None = None) -> Targets:
    """Parse targets text; `fmt` is toml, json or csv (sniffed from the text when None).
    A UTF-8 byte-order mark (spreadsheets write one) is ignored."""
    text = text.removeprefix("\ufeff")
    kind = fmt or _sniff(text)
    if kind == "toml":
        return _parse_toml(text, where)
    if kind == "json":
        return _parse_json(text, where)
    if kind == "csv":
        return _parse_csv(text, where)
    raise InputError(f"{where}: unknown targets format {kind!r} (use .toml, .json or .csv)")


def _sniff(text: str) -> str:
    """JSON, TOML or CSV, from the first line that is not blank or a `#` comment."""
    lines = (line.strip() for line in text.splitlines())
    first = next((line for line in lines if line and not line.startswith("#")), "")
    if first.startswith("{") or first.replace(" ", "").startswith("[{"):
        return "json"
    if first.startswith("[") or "=" in first:
        return "toml"
    return "csv"


def _parse_toml(text: str, where: str) -> Targets:
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{where}: not valid TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{where}: not valid targets: nested too deeply") from None
    table = doc.get("targets")
    if not isinstance(table, dict):
        raise InputError(f"{where}: no [targets] table (write `[targets]` then `VTI = 0.6`)")
    return targets_from_mapping(table, where=where)


def _parse_json(text: str, where: str) -> Targets:
    def no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
        # json.loads would keep the last of two equal keys silently.
        result: dict[str, object] = {}
        for key, value in pairs:
            if key in result:
                raise InputError(f"{where}: {key} is listed twice")
            result[key] = value
        return result

    try:
        doc = json.loads(text, parse_float=Decimal, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InputError(f"{where}: not valid targets: nested too deeply") from None
    if isinstance(doc, dict) and isinstance(doc.get("targets"), dict):
        doc = doc["targets"]
    if not isinstance(doc, dict):
        raise InputError(f'{where}: expected an object like {{"targets": {{"VTI": 0.6}}}}')
    return targets_from_mapping(doc, where=where)


def _parse_csv(text: str, where: str) -> Targets:
    weights: dict[str, Decimal] = {}
    rows = csv.reader(io.StringIO(text))
    header_allowed = True  # a `symbol,weight` header may lead, after comments
    for line_no, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if header_allowed and cells[0].lower() == "symbol":
            header_allowed = False
            continue
        header_allowed = False
        if len(cells) != 2:
            got = f"{len(cells)} cells: " + ", ".join(cells) if cells else "nothing"
            raise InputError(f"{where}: line {line_no}: expected `symbol,weight`, got {got}")
        symbol = normalise_symbol(cells[0], where=f"{where}: line {line_no}")
        if symbol in weights:
            raise InputError(f"{where}: line {line_no}: {symbol} is listed twice")
        weights[symbol] = parse_weight(cells[1], where=f"{where}: line {line_no}", symbol=symbol)
    return _finish(weights, where)
