"""The fake package's layout: no import cycle (imports inside functions count), a backend that
imports no host, no class over 400 lines and no private module over 700 lines.

The package is read with ``ast``, not imported, so an import placed inside a function to dodge a
cycle at import time is still seen. Imports under ``if TYPE_CHECKING:`` are left out: they never
run. ``importlib.import_module("together_image_fake.x")`` with a literal name counts as an import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import together_image_fake

PACKAGE = "together_image_fake"
ROOT = Path(together_image_fake.__file__).parent
MAX_CLASS_LINES = 400
MAX_PRIVATE_MODULE_LINES = 700
HOSTS = frozenset(
    {"_mock", "_httpx", "_http", "_server", "wsgi", "_settings", "_cli", "_modes", "pytest_plugin"}
)
"""Modules that host the fake (or configure a host): the backend imports none of them."""
RESPONDERS = frozenset({"_replay", "_record"})
"""The responders other than the generator: they build on the backend, never the reverse."""


def _module_name(path: Path) -> str:
    return path.stem if path.stem != "__init__" else "__init__"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run: ``if TYPE_CHECKING:`` bodies are skipped (their ``else`` kept)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports at run time, wherever the import statement is."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == PACKAGE:
                # ``from together_image_fake import _routes`` imports a module; a plain name
                # imports the package's ``__init__``.
                for alias in node.names:
                    names.append(
                        f"{PACKAGE}.{alias.name}" if alias.name in modules else node.module
                    )
            else:
                names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]
        for name in names:
            if name == PACKAGE:
                found.add("__init__")
            elif name.startswith(PACKAGE + "."):
                found.add(name.split(".")[1])
    found.discard(_module_name(path))
    return found & (modules | {"__init__"})


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``module -> package modules it imports`` for every module of the package."""
    paths = sorted(root.glob("*.py"))
    modules = {_module_name(path) for path in paths}
    return {_module_name(path): imports_of(path, modules) for path in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (``[a, b, …, a]``), or ``None`` when the graph has none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_backend_imports_no_host() -> None:
    graph = import_graph()
    assert graph["_backend"] & (HOSTS | RESPONDERS) == set()
    # Nor does anything the backend imports, directly or not, except through ``_activation``,
    # whose one job is to load the in-process adapters when a fake starts intercepting.
    seen: set[str] = set()
    stack = ["_backend"]
    while stack:
        module = stack.pop()
        if module in seen:
            continue
        seen.add(module)
        stack.extend(graph.get(module, ()) - {"_activation"})
    assert seen & (HOSTS | RESPONDERS) == set(), sorted(seen & (HOSTS | RESPONDERS))


def test_classes_and_private_modules_stay_small() -> None:
    too_big: list[str] = []
    for path in sorted(ROOT.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        if (
            path.stem.startswith("_")
            and path.stem != "__init__"
            and lines > MAX_PRIVATE_MODULE_LINES
        ):
            too_big.append(f"{path.name}: {lines} lines (private module limit 700)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                size = node.end_lineno - node.lineno + 1
                if size > MAX_CLASS_LINES:
                    too_big.append(f"{path.name}: class {node.name} has {size} lines (limit 400)")
    assert too_big == []


# ---- the checker itself catches what it must ---------------------------------------------------


def _write_package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "body",
    [
        "from together_image_fake._a import x\n",
        "def late():\n    from together_image_fake._a import x\n",
        "def late():\n    import together_image_fake._a\n",
        "import importlib\nimportlib.import_module('together_image_fake._a')\n",
        "from together_image_fake import _a\n",
    ],
    ids=["top-level", "inside-function", "import-statement", "import_module", "from-package"],
)
def test_a_cycle_is_found_however_the_import_is_written(tmp_path: Path, body: str) -> None:
    root = _write_package(
        tmp_path, {"_a.py": "from together_image_fake._b import y\n", "_b.py": body}
    )
    assert find_cycle(import_graph(root)) in (["_a", "_b", "_a"], ["_b", "_a", "_b"])


def test_type_checking_imports_are_not_a_cycle(tmp_path: Path) -> None:
    body = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from together_image_fake._a import x\n"
    )
    root = _write_package(
        tmp_path, {"_a.py": "from together_image_fake._b import y\n", "_b.py": body}
    )
    assert find_cycle(import_graph(root)) is None
