"""What the expression language gives back (:class:`Parsed`) and its matrix functions:
``inv``, ``det``, ``logdet``, ``trace``, ``transpose``, ``cholesky``, ``expm``, ``sqrtm``,
``logm``, over the last two axes (a batch in front).

>>> import tensorad as ta
>>> A = ta.Variable("A", (2, 3, 3))
>>> matrix_function("trace", A).shape, matrix_function("transpose", A).shape
((2,), (2, 3, 3))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tensorad.ir.build import contract
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.language.syntax import Names
from tensorad.library.registry import apply


@dataclass(frozen=True)
class Parsed:
    """A parsed expression, its variables by name (first appearance first), its output
    labels, and the labels each variable was first written with (a bare name: none)."""

    expr: Node
    variables: dict[str, Variable]
    output: Names
    labels: dict[str, Names] = field(default_factory=dict)


def matrix_function(name: str, x: Node) -> Node:
    """``name`` of the matrices in the last two axes of ``x``."""
    labels = fresh_labels(x.ndim)
    batch, i, j = labels[:-2], labels[-2], labels[-1]
    if name == "trace":
        return contract(x, batch + i + i, None, "", batch)
    if name == "transpose":
        return contract(x, labels, None, "", batch + j + i)
    return apply(name, x)
