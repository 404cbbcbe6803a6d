"""The package's layout: layers whose imports flow one way, no cycles, no long modules.

Every module of ``tensorad`` is read with ``ast`` (its text, not its import-time
behaviour), so imports inside functions count as much as those at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tensorad"

LAYERS: dict[str, int] = {
    "tensorad._types": 0,
    "tensorad.errors": 0,
    "tensorad.tree": 0,
    "tensorad.ir": 1,
    "tensorad.library": 2,
    "tensorad.run": 3,
    "tensorad.symbolic": 4,
    "tensorad.ad": 5,
    "tensorad.numpy": 6,
    "tensorad.scipy": 7,
    "tensorad.language": 7,
    "tensorad.extend": 7,
    "tensorad.testing": 7,
    "tensorad.einops_backend": 7,
    "tensorad.einops": 7,
    "tensorad.cli": 8,
    "tensorad.checking": 8,
    "tensorad.algebra": 9,
    "tensorad.proof": 9,
    "tensorad.__main__": 9,
    "tensorad": 10,
}
"""Each module's layer (the longest matching prefix); imports may only go to a layer ≤ its own."""

MAX_LINES = 450


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by its dotted name (a package is its ``__init__``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def imported(module: str, source: str, modules: set[str]) -> set[str]:
    """The package's modules that ``source`` (the text of ``module``) imports, anywhere in it."""
    found = set()
    package = module if module in _packages(modules) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:  # ``import tensorad.ir.nodes.Expr`` is not a module
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def _packages(modules: set[str]) -> set[str]:
    return {name for name in modules if any(other.startswith(name + ".") for other in modules)}


def layer(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layout.py")


def import_graph() -> dict[str, set[str]]:
    paths = module_names()
    return {name: imported(name, path.read_text(encoding="utf-8"), set(paths)) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of modules (first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        path: list[str] = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph[child])))
    return None


def test_the_walker_sees_imports_inside_functions_and_relative_ones() -> None:
    modules = {"tensorad", "tensorad.ir", "tensorad.ir.nodes", "tensorad.ir.build", "tensorad.numpy", "tensorad.run"}
    source = (
        "import numpy as np\n"
        "from tensorad.ir import build\n"
        "def method(self):\n"
        "    from tensorad import numpy\n"
        "    import tensorad.run\n"
        "class C:\n"
        "    def f(self):\n"
        "        from . import build\n"
        "        from tensorad.ir.nodes import Expr\n"
    )
    found = imported("tensorad.ir.nodes", source, modules)
    assert found == {"tensorad.ir.build", "tensorad.numpy", "tensorad.run"}


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_only_go_down_the_layers() -> None:
    upward = [
        f"{module} (layer {layer(module)}) imports {target} (layer {layer(target)})"
        for module, targets in import_graph().items()
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert not upward, "\n".join(upward)


def test_every_layer_is_a_directory_or_a_foundation_module() -> None:
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == {
        "ir", "library", "run", "symbolic", "ad", "numpy", "scipy", "language", "testing"
    }


@pytest.mark.parametrize("module", sorted(module_names()))
def test_no_module_a_reader_has_to_scroll_far(module: str) -> None:
    lines = module_names()[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it along a seam a reader would recognise"


def test_public_modules_are_attributes_of_the_package() -> None:
    code = "import tensorad as ta; ta.algebra.equivalent; ta.testing.check_grads; ta.proof.check; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "ok", result.stderr
