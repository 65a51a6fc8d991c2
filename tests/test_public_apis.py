"""alch uses only the public API of the libraries it talks to Alpaca through (issue 25).

A private name (`_session`, `_start_ws`, `_get_conn`, a module `requests._internal_utils`)
can change in any minor release and break order sending or fills silently; the pin would
hide it until someone upgrades. An AST walk over every module of `alchemiser_cli` fails on:
- an import of a private module or name of one of LIBRARIES;
- in a module that imports one of LIBRARIES (where their objects are in hand), an
  attribute starting with `_` (not a dunder) on anything but `self`, `cls` or a module of
  alch itself: `client._session`, `super()._start_ws()`, `self._stream._loop`;
- a class deriving from a class of LIBRARIES that defines or sets a private name the
  library's class itself uses (`self._reconnect_min_backoff = ...`, `def _start_ws`).
ALLOWED names the exceptions with their reasons: none today.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "alchemiser_cli"
LIBRARIES = ("alpaca", "urllib3", "requests", "websockets")
# "module.py:line: what" -> why it must stay. Keep it empty; each entry needs a reason.
ALLOWED: dict[str, str] = {}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _library(module: str | None) -> bool:
    return module is not None and module.split(".")[0] in LIBRARIES


class _Walk(ast.NodeVisitor):
    """The violations in one module's tree."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[str] = []
        self.uses_library = False
        self.alch_names: set[str] = {"self", "cls"}  # names bound to alch's own modules
        self.library_names: dict[str, str] = {}  # local name -> "module.Name" of a library

    def say(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.where}:{getattr(node, 'lineno', 0)}: {what}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _library(alias.name):
                self.uses_library = True
                if any(_private(part) for part in alias.name.split(".")):
                    self.say(node, f"import {alias.name}")
            elif alias.name.startswith("alchemiser_cli"):
                self.alch_names.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if _library(module):
            self.uses_library = True
            for alias in node.names:
                if any(_private(p) for p in module.split(".")) or _private(alias.name):
                    self.say(node, f"from {module} import {alias.name}")
                self.library_names[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif module.startswith("alchemiser_cli") or node.level:
            for alias in node.names:
                self.alch_names.add(alias.asname or alias.name)


def _attributes(tree: ast.AST, walk: _Walk) -> Iterator[tuple[ast.Attribute, str]]:
    """Private attributes on anything but self, cls or an alch module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in walk.alch_names:
                continue
            yield node, f"{ast.unparse(owner)}.{node.attr}"


def _library_private_names(qualified: str) -> set[str]:
    """Every private name the source of a library class (and its library bases) uses."""
    module, _, name = qualified.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return set()
    names: set[str] = set()
    for klass in inspect.getmro(found) if inspect.isclass(found) else ():
        if _library(klass.__module__):
            source = inspect.getsource(klass)
            names |= {n for n in re.findall(r"\b_\w+", source) if _private(n)}
    return names


def _subclasses(tree: ast.AST, walk: _Walk) -> Iterator[tuple[ast.AST, str]]:
    """Private names a subclass of a library class shares with that class."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [walk.library_names[b.id] for b in node.bases if isinstance(b, ast.Name)
                 and b.id in walk.library_names]  # fmt: skip
        theirs = set().union(*(_library_private_names(b) for b in bases))
        for inner in ast.walk(node) if theirs else ():
            if isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef) and inner.name in theirs:
                yield inner, f"{node.name}.{inner.name} overrides a private method"
            if isinstance(inner, ast.Attribute) and inner.attr in theirs:
                yield inner, f"{node.name} uses {ast.unparse(inner)}, private in {bases}"


def violations(source: str, where: str) -> list[str]:
    """What in one module's source uses a library's private API."""
    tree = ast.parse(source)
    walk = _Walk(where)
    walk.visit(tree)
    for node in ast.walk(tree):  # imports inside functions (alch imports lazily) count too
        if isinstance(node, ast.Import | ast.ImportFrom) and node not in tree.body:
            walk.visit(node)
    if walk.uses_library:
        for node, what in _attributes(tree, walk):
            walk.say(node, what)
    for node, what in _subclasses(tree, walk):
        walk.say(node, what)
    return sorted(set(walk.found))


def test_alch_uses_only_the_public_api_of_alpaca_py_urllib3_requests_and_websockets() -> None:
    found = [
        line
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    ]
    assert [f for f in found if f not in ALLOWED] == []
    assert sorted(set(ALLOWED) - set(found)) == []  # an allowance no longer needed goes


def test_the_walk_finds_each_kind_of_private_use() -> None:
    # The shapes alch once had (alpaca-py 0.44's RESTClient._session, TradingStream's
    # _start_ws, _loop and _reconnect_min_backoff, urllib3's _get_conn): each is caught.
    source = """
from alpaca.trading.stream import TradingStream
from requests._internal_utils import to_native_string
import urllib3

class Stream(TradingStream):
    def __init__(self) -> None:
        self._reconnect_min_backoff = 1.0
        self._mine = 2

    async def _start_ws(self) -> None:
        await super()._start_ws()

def wire(client, pool, stream):
    client._session = object()
    pool._get_conn()
    return stream._loop
"""
    found = {line.split(": ", 1)[1] for line in violations(source, "m.py")}
    private_in = "private in ['alpaca.trading.stream.TradingStream']"
    assert found == {
        "from requests._internal_utils import to_native_string",
        f"Stream uses self._reconnect_min_backoff, {private_in}",
        f"Stream uses super()._start_ws, {private_in}",
        "Stream._start_ws overrides a private method",
        "super()._start_ws",
        "client._session",
        "pool._get_conn",
        "stream._loop",
    }  # not `self._mine`: alch's own name on its own object
