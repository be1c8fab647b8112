"""The house's rules, read from the source: no import cycle (function-level imports too), no module too long."""

from __future__ import annotations

import ast
from pathlib import Path

from .helpers import REPO

# The installed name of each source folder (pyproject.toml's package-dir).
PACKAGES = {
    "runtime": "aeonnx.runtime",
    "cli": "aeonnx.cli",
    "train": "aeonnx.train",
    "export": "aeonnx.export",
    "provenance": "aeonnx.provenance",
}
MAX_LINES = 500
LONGER = {"aeonnx.runtime.aez.codefile": 600}  # one format, its reader and writer together


def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            name = ".".join((package, *parts[:-1])) if parts[-1] == "__init__" else ".".join((package, *parts))
            found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports anywhere in its file, inside functions too."""
    is_package = path.name == "__init__.py"
    base = name.split(".") if is_package else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            anchor = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join(anchor + ([node.module] if node.module else []))
            # `from . import x` imports the submodule x when there is one, else a name of the package
            found.update(
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in known else module for alias in node.names
            )
    return {target for target in found if target in known and target != name}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle in `graph`, as the modules around it; None when there is none."""
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target) :] + [target]
            if target not in state and (found := walk(target)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)):
            return found
    return None


def test_no_import_cycle_in_the_package():
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    # A package's __init__ re-exporting its modules is not a cycle when they import their siblings directly;
    # a module importing its own package's __init__ (`from . import x` of a name) is the edge that closes one.
    assert cycle(graph) is None, " -> ".join(cycle(graph))


def test_no_module_is_too_long():
    too_long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > LONGER.get(name, MAX_LINES)
    }
    assert not too_long, too_long


def test_the_checker_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_paths_the_docs_promise_work():
    """README and docs promise these; the files behind them moved into sub-packages."""
    from aeonnx.runtime import AeonnxError, CodeFileError, load  # noqa: F401
    from aeonnx.runtime.codefile import CodeFile, from_bytes, quantize  # noqa: F401
    from aeonnx.runtime.jobs.ray_engine import Encoder as MovedEncoder
    from aeonnx.runtime.ray_engine import Decoder, Encoder  # noqa: F401
    from aeonnx.runtime.verify import as_json, as_table, verify  # noqa: F401

    assert Encoder is MovedEncoder
