"""The layers hold (issue 14): no import cycle between modules or between packages, the
core imports only the standard library and pydantic (the NYSE session table is built
outside it, in `calendar_table`, and handed in), and every use-case module of `app/` stays
under 300 lines. Read with `ast`: nothing is imported."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "alchemiser_cli"
ROOT = "alchemiser_cli"
# What the core may import besides itself: the standard library (less the modules that
# reach the outside world), pydantic for its frozen models, highspy (HiGHS, a pure
# solver: core/milp.py, imported only when a plan needs the exact search) and errors.py for
# its typed failures. The NYSE session table is data handed in (built in calendar_table).
CORE_THIRD_PARTY = frozenset({"pydantic", "highspy"})
CORE_OWN = frozenset({f"{ROOT}.core", f"{ROOT}.errors"})
CORE_FORBIDDEN_STDLIB = frozenset(
    {"sqlite3", "socket", "subprocess", "urllib", "http", "smtplib", "shutil", "signal"}
)
APP_MAX_LINES = 300
# The main layers, highest first: an import goes to a lower rank, never up or across
# (README "Architecture"). The top-level helpers (settings, errors, files, ...) are unranked.
LAYER_RANK = {
    "cli": 6,
    "api": 5,  # the library face: the CLI calls it; it calls app/
    "app": 4,
    "render": 4,
    "documents": 3,
    "executor": 2,
    "brokers": 1,
    "journal": 1,
    "core": 0,
}
# Layers that describe a run but never run one: they read its records from core (issue 25).
NOT_IMPORTING = {"documents": {"executor"}, "render": {"executor"}}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in the file (lazy imports count too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # submodules
    return names


def _own(target: str) -> str | None:
    """The module of this package that an imported name lands in, if any."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {_own(t) for t in _imports(name, path) if t.split(".")[0] == ROOT}
        # A module importing its own package's names is not an edge (`from pkg import x`
        # inside pkg.y runs pkg/__init__ first, which Python handles as the package).
        graph[name] = {t for t in targets if t is not None and t != name and t != ROOT}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle in `graph`, as the path that closes it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def _layer(module: str) -> str:
    """`alchemiser_cli.app.execute` -> `app`; a top-level module is its own layer."""
    return module.split(".")[1] if module != ROOT else ROOT


def test_the_import_walk_sees_the_known_edges() -> None:
    """The walk is real: it finds edges that exist, so an empty answer means something."""
    graph = _graph()
    assert f"{ROOT}.app.runtime" in graph[f"{ROOT}.app.execute"]
    assert f"{ROOT}.documents.reports" in graph[f"{ROOT}.render.tables"]
    assert f"{ROOT}.brokers.alpaca.broker" in graph[f"{ROOT}.app.runtime"]  # a lazy import
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _readme_tree() -> set[str]:
    """The modules the README's Architecture tree names, as paths under alchemiser_cli/
    (a folder's entries are indented two spaces deeper than the folder)."""
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    block = text.split("## Architecture", 1)[1].split("```", 2)[1]
    named: set[str] = set()
    folders: dict[int, str] = {}  # indent -> folder name at that depth
    for line in block.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        words = line.split()
        if indent < 2 or not words:
            continue  # the root line
        token = words[0]
        parents = "".join(folders[i] for i in sorted(folders) if i < indent)
        if token.endswith("/"):
            folders = {i: f for i, f in folders.items() if i < indent}
            folders[indent] = token
        elif token.endswith(".py") and (indent == 2 or indent - 2 in folders):
            named.add((parents if indent > 2 else "") + token)
    return named


def test_the_readme_architecture_tree_names_every_module_and_only_those() -> None:
    on_disk = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if not path.name.startswith("__")
    }
    folders = {str(p.relative_to(PACKAGE)) + "/" for p in PACKAGE.iterdir() if p.is_dir()}
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    tree = readme.split("## Architecture", 1)[1].split("```", 2)[1]
    assert sorted(_readme_tree() ^ on_disk) == []
    missing = [f for f in sorted(folders) if f != "__pycache__/" and f"  {f}" not in tree]
    assert missing == []


def test_no_import_cycle_between_modules() -> None:
    assert _cycle(_graph()) is None


def test_no_import_cycle_between_packages() -> None:
    layers: dict[str, set[str]] = {}
    for module, targets in _graph().items():
        here = _layer(module)
        layers.setdefault(here, set()).update(_layer(t) for t in targets if _layer(t) != here)
    assert _cycle(layers) is None


def test_every_import_between_layers_goes_down() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(module) in LAYER_RANK
        and _layer(target) in LAYER_RANK
        and _layer(module) != _layer(target)
        and LAYER_RANK[_layer(target)] >= LAYER_RANK[_layer(module)]
    )
    assert upward == []


def test_documents_and_render_do_not_import_what_runs_orders() -> None:
    crossing = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if _layer(target) in NOT_IMPORTING.get(_layer(module), set())
    )
    assert crossing == []


def _core_violations(imports: dict[str, set[str]]) -> list[str]:
    """`module imports name` for every import of a core module outside what it may use."""
    stdlib = sys.stdlib_module_names
    wrong = []
    for name, targets in sorted(imports.items()):
        if not name.startswith(f"{ROOT}.core"):
            continue
        for target in sorted(targets):
            top = target.split(".")[0]
            if top == "__future__" or (top in stdlib and top not in CORE_FORBIDDEN_STDLIB):
                continue
            own = _own(target)
            if top == ROOT and own is not None and any(own.startswith(o) for o in CORE_OWN):
                continue
            if top in CORE_THIRD_PARTY:
                continue
            wrong.append(f"{name} imports {target}")
    return wrong


def test_the_core_imports_only_the_standard_library_pydantic_and_itself() -> None:
    assert _core_violations({n: _imports(n, p) for n, p in MODULES.items()}) == []


def test_the_purity_check_names_what_the_core_must_not_import() -> None:
    planted = {
        f"{ROOT}.core.x": {"typer", "rich.console", "sqlite3", "decimal", "pydantic"},
        f"{ROOT}.core.y": {f"{ROOT}.journal", f"{ROOT}.errors", f"{ROOT}.core.money"},
        f"{ROOT}.app.z": {"typer"},  # not the core: allowed
    }
    assert _core_violations(planted) == [
        f"{ROOT}.core.x imports rich.console",
        f"{ROOT}.core.x imports sqlite3",
        f"{ROOT}.core.x imports typer",
        f"{ROOT}.core.y imports {ROOT}.journal",
    ]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith(f"{ROOT}.app")), ids=str)
def test_every_app_module_is_under_300_lines(name: str) -> None:
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines < APP_MAX_LINES, f"{MODULES[name]} has {lines} lines"
