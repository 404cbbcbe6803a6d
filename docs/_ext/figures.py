"""The expression DAGs the documentation draws, and the files committed for them.

Each figure is a small, real expression built with the public API; its picture is the
Graphviz DOT text that :meth:`tensorad.ir.nodes.Expr.to_dot` gives for it *now*.
``docs/_figures`` holds that text (``<name>.dot``) and its rendering (``<name>.svg``)
for machines without Graphviz; each SVG carries the SHA-256 of the DOT text it was drawn
from. ``tests/test_docs.py`` fails when either is stale. After a change that alters one
of these DAGs, redraw them (Graphviz's ``dot`` needed)::

    python3 docs/_ext/figures.py
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXT = Path(__file__).absolute().parent
FIGURES_DIR = EXT.parent / "_figures"
ROOT = EXT.parent.parent


def _tanh_layer() -> tuple[Any, Any]:
    """``f(x) = Σ_i tanh(W x)_i`` and its variable ``x``."""
    import tensorad as ta

    x, W = ta.Variable("x", (3,)), ta.Variable("W", (4, 3))
    return ta.sum(ta.tanh(W @ x)), x


def tanh_layer() -> Any:
    """The function: a product, an elementwise function, a sum."""
    return _tanh_layer()[0]


def tanh_layer_gradient() -> Any:
    """Its gradient ``∂f/∂x``, by reverse mode, simplified."""
    import tensorad as ta

    f, x = _tanh_layer()
    return ta.derivative(f, x)


FIGURES: dict[str, Callable[[], Any]] = {
    "tanh_layer": tanh_layer,
    "tanh_layer_gradient": tanh_layer_gradient,
}
"""Figure name → the expression it draws."""


def dot_text(name: str) -> str:
    """The DOT text of figure ``name`` as the current code draws it."""
    return str(FIGURES[name]().to_dot()) + "\n"


def digest(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8), in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def stamp(name: str, text: str) -> str:
    """The comment an SVG carries to say which DOT text it was drawn from."""
    return f"<!-- tensorad figure {name}: drawn from {name}.dot, sha256 {digest(text)} -->"


def render(name: str, text: str, dot: str = "dot") -> str:
    """``text`` drawn as SVG by Graphviz, stamped with the digest of ``text``."""
    svg = subprocess.run([dot, "-Tsvg"], input=text, capture_output=True, text=True, check=True).stdout
    declaration, _, rest = svg.partition("\n")
    return f"{declaration}\n{stamp(name, text)}\n{rest}"


def write(dot: str = "dot") -> list[Path]:
    """Write ``<name>.dot`` and ``<name>.svg`` for every figure; return the paths written."""
    FIGURES_DIR.mkdir(exist_ok=True)
    written = []
    for name in FIGURES:
        text = dot_text(name)
        files = {FIGURES_DIR / f"{name}.dot": text, FIGURES_DIR / f"{name}.svg": render(name, text, dot)}
        for path, content in files.items():
            path.write_text(content, encoding="utf-8")
            written.append(path)
    return written


def main() -> int:
    """Redraw every committed figure (needs Graphviz's ``dot`` on the PATH)."""
    if shutil.which("dot") is None:
        print("figures.py: Graphviz's dot is not on the PATH; install graphviz to redraw the figures", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT))
    for path in write():
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
