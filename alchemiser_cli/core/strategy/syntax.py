"""Reader for the symphony text format: text to s-expressions that remember where they are.

Pure: no I/O. Every error is a `StrategyError` whose message starts with `file:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from alchemiser_cli.errors import InputError


class StrategyError(InputError):
    """A strategy file cannot be read, or cannot be evaluated on the bars given."""


@dataclass(frozen=True, slots=True)
class Pos:
    """Where a form starts: the file as named by the caller, 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Sym:
    """A bare symbol such as `rsi`, `>` or `weight-equal`."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Kw:
    """A keyword such as `:window`."""

    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Str:
    """A string literal (escapes resolved)."""

    value: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Num:
    """A number literal, kept exact as a Decimal."""

    value: Decimal
    pos: Pos


@dataclass(frozen=True, slots=True)
class SList:
    """A parenthesised form `( ... )`."""

    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class SVec:
    """A vector `[ ... ]`."""

    items: tuple[Expr, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class SMap:
    """A map `{ ... }` as key/value pairs, in the order written."""

    items: tuple[tuple[Expr, Expr], ...]
    pos: Pos


Expr = Sym | Kw | Str | Num | SList | SVec | SMap

_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_DELIMS = set('()[]{}";') | {" ", "\t", "\n", "\r", ","}
# Brackets open at once: the real files nest at most ~100; far deeper would exhaust
# Python's recursion in the evaluator and the tree renderer.
MAX_DEPTH = 256
# A number's decimal exponent: thresholds and weights are far inside it, and outside it the
# fixed Decimal context would overflow when a condition takes its margin.
MAX_EXPONENT = 15


class _Reader:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file
        self.i = 0
        self.line = 1
        self.col = 1
        self.depth = 0

    def pos(self) -> Pos:
        return Pos(self.file, self.line, self.col)

    def fail(self, message: str, pos: Pos | None = None) -> StrategyError:
        return StrategyError(f"{pos or self.pos()}: {message}")

    def advance(self) -> str:
        ch = self.text[self.i]
        self.i += 1
        if ch == "\n":
            self.line += 1
            self.col = 1
        else:
            self.col += 1
        return ch

    def skip_space(self) -> None:
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t\r\n,\ufeff":
                self.advance()
            elif ch == ";":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.advance()
            else:
                return

    def read_all(self) -> list[Expr]:
        out: list[Expr] = []
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                return out
            out.append(self.read())

    def read(self) -> Expr:
        self.skip_space()
        if self.i >= len(self.text):
            raise self.fail("unexpected end of file")
        start = self.pos()
        ch = self.text[self.i]
        if ch in _CLOSERS:
            if self.depth >= MAX_DEPTH:
                raise self.fail(f"nested more than {MAX_DEPTH} brackets deep", start)
            self.advance()
            self.depth += 1
            items = self.read_until(_CLOSERS[ch], start)
            self.depth -= 1
            if ch == "(":
                return SList(tuple(items), start)
            if ch == "[":
                return SVec(tuple(items), start)
            if len(items) % 2:
                raise self.fail("a map needs key/value pairs (odd number of items)", start)
            return SMap(tuple(zip(items[::2], items[1::2], strict=True)), start)
        if ch in ")]}":
            raise self.fail(f"unexpected {ch!r} (no form open)")
        if ch == '"':
            return self.read_string(start)
        return self.read_atom(start)

    def read_until(self, closer: str, start: Pos) -> list[Expr]:
        items: list[Expr] = []
        while True:
            self.skip_space()
            if self.i >= len(self.text):
                raise self.fail(f"missing {closer!r} for the form opened here", start)
            ch = self.text[self.i]
            if ch == closer:
                self.advance()
                return items
            if ch in ")]}":
                raise self.fail(f"expected {closer!r} to close {start}, found {ch!r}")
            items.append(self.read())

    def read_string(self, start: Pos) -> Str:
        self.advance()
        chars: list[str] = []
        while True:
            if self.i >= len(self.text):
                raise self.fail("unterminated string", start)
            ch = self.advance()
            if ch == '"':
                return Str("".join(chars), start)
            if ch == "\\":
                if self.i >= len(self.text):
                    raise self.fail("unterminated string", start)
                esc = self.advance()
                chars.append({"n": "\n", "t": "\t"}.get(esc, esc))
            else:
                chars.append(ch)

    def read_atom(self, start: Pos) -> Expr:
        begin = self.i
        while self.i < len(self.text) and self.text[self.i] not in _DELIMS:
            self.advance()
        token = self.text[begin : self.i]
        if token.startswith(":"):
            if len(token) == 1:
                raise self.fail("empty keyword ':'", start)
            return Kw(token[1:], start)
        if token[0].isdigit() or (len(token) > 1 and token[0] in "+-." and token[1:2].isdigit()):
            try:
                value = Decimal(token)
            except InvalidOperation:
                raise self.fail(f"{token!r} is not a number", start) from None
            if not value.is_finite():
                raise self.fail(f"{token!r} is not a finite number", start)
            if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
                raise self.fail(
                    f"{token!r} is out of range (its size must be 0 or from 1e-{MAX_EXPONENT}"
                    f" to below 1e{MAX_EXPONENT + 1})",
                    start,
                )
            return Num(value, start)
        return Sym(token, start)


def read_forms(text: str, file: str) -> list[Expr]:
    """Every top-level form of `text`; `file` names it in error positions."""
    return _Reader(text, file).read_all()
