"""The array-like behaviour of nodes, installed on :class:`~tensorad.ir.nodes.Expr`.

Operators (``+ - * / ** @``, unary ``-``, indexing), ``.T`` and the numpy-named methods
build nodes through this front end; ``str``, ``repr``, ``.to_latex()`` and ``.to_dot()``
print them (:mod:`tensorad.symbolic`); ``.evaluate()`` runs them (:mod:`tensorad.run`).
:func:`install` puts them on the node classes when :mod:`tensorad.numpy` is imported,
as JAX's numpy layer installs its tracer's operators: the IR itself never imports a
layer above it.

>>> import numpy as np, tensorad as ta
>>> A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
>>> print(A @ x + 1.0)
1 + A[i,j]*x[j]
>>> (A @ x).evaluate({"A": np.eye(2), x: [3.0, 4.0]})
array([3., 4.])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from tensorad._types import Array
from tensorad.ir.nodes import Expr, Node
from tensorad.numpy import arithmetic, axes, indexing, products
from tensorad.run.evaluate import evaluate_named
from tensorad.symbolic import dot, printing


def _node(self: Expr) -> Node:
    return cast("Node", self)


def T(self: Expr) -> Node:  # noqa: N802  (numpy's name)
    """Axes reversed, as ``numpy.ndarray.T``.

    Examples:
        >>> import tensorad as ta
        >>> print(ta.Variable("A", (2, 3)).T)
        A[j,i]
    """
    return axes.transpose(self)


def reshape(self: Expr, *shape: int | Sequence[int]) -> Node:
    """Same entries, new shape (C order), as ``numpy.ndarray.reshape``.

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (2, 3)).reshape(3, -1).shape
        (3, 2)
    """
    return axes.reshape(self, *shape)


def squeeze(self: Expr, axis: int | tuple[int, ...] | None = None) -> Node:
    """Drop size-1 axes, as ``numpy.ndarray.squeeze``.

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (1, 3, 1)).squeeze().shape
        (3,)
    """
    return axes.squeeze(self, axis)


def sum(self: Expr, axis: int | tuple[int, ...] | None = None) -> Node:  # noqa: A001  (numpy's name)
    """Sum over axes, as ``numpy.ndarray.sum``.

    Examples:
        >>> import tensorad as ta
        >>> print(ta.Variable("A", (2, 3)).sum(axis=1))
        sum_j(A[i,j])
    """
    return axes.sum(self, axis)


def transpose(self: Expr, *order: int) -> Node:
    """Permute axes, as ``numpy.ndarray.transpose``.

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (2, 3, 4)).transpose(2, 0, 1).shape
        (4, 2, 3)
    """
    return axes.transpose(self, order or None)


def evaluate(self: Expr, values: Mapping[Any, Any] | None = None) -> Array:
    """The value of this expression, with each variable bound by ``values``.

    Keys are the variables or their names; values are arrays (or nested lists and
    numbers) of the variables' shapes.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
        >>> (A @ x).evaluate({"A": np.eye(2), x: [3.0, 4.0]})
        array([3., 4.])
    """
    return evaluate_named(_node(self), values or {})


def to_latex(self: Expr) -> str:
    """The expression in LaTeX index notation (``A_{ij} x_{j}``).

    Examples:
        >>> import tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> print(ta.sum(ta.exp(x)).to_latex())
        \\sum_{i} \\exp\\left(x_{i}\\right)
    """
    return printing.latex(_node(self))


def to_dot(self: Expr) -> str:
    """The DAG as a Graphviz DOT digraph, shared nodes drawn once.

    Examples:
        >>> import tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> print(ta.exp(x).to_dot())
        digraph tensorad {
          node [shape=box, fontname="Helvetica"];
          n0 [label="Variable x\\nshape=(3,)"];
          n1 [label="Elementwise exp\\nshape=(3,)", peripheries=2];
          n0 -> n1;
        }
    """
    return dot.dot(_node(self))


def _binary(op: Callable[[object, object], Node], reflected: bool) -> Callable[[Expr, object], Node]:
    if reflected:
        return lambda self, other: op(other, self)
    return lambda self, other: op(self, other)


METHODS: dict[str, Any] = {
    "T": property(T),
    "reshape": reshape,
    "squeeze": squeeze,
    "sum": sum,
    "transpose": transpose,
    "evaluate": evaluate,
    "to_latex": to_latex,
    "to_dot": to_dot,
    "__repr__": lambda self: dot.summary(_node(self)),
    "__str__": lambda self: printing.index_notation(_node(self)),
    "__neg__": lambda self: arithmetic.multiply(-1.0, self),
    "__pos__": _node,
    "__getitem__": lambda self, index: indexing.getitem(self, index),
}
"""What :func:`install` puts on :class:`~tensorad.ir.nodes.Expr`, besides the binary operators."""

OPERATORS: dict[str, Callable[[object, object], Node]] = {
    "add": arithmetic.add,
    "sub": arithmetic.subtract,
    "mul": arithmetic.multiply,
    "truediv": arithmetic.divide,
    "pow": arithmetic.power,
    "matmul": products.matmul,
}
"""The binary operators, each installed as ``__op__`` and reflected ``__rop__``."""


def install() -> None:
    """Put the methods and operators on the node classes (idempotent)."""
    for name, method in METHODS.items():
        setattr(Expr, name, method)
    for name, op in OPERATORS.items():
        setattr(Expr, f"__{name}__", _binary(op, reflected=False))
        setattr(Expr, f"__r{name}__", _binary(op, reflected=True))
