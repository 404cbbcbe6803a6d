"""The expression DAG: four node kinds over two kinds of leaf.

A tensorad expression is a directed acyclic graph of frozen nodes:

* leaves: :class:`Variable` (a named input) and :class:`Constant` (an array);
* :class:`Contraction` ``*(s1, s2, s3)(A, B)``: einsum ``s1,s2->s3``, generalized so
  that ``s3`` may hold labels absent from ``s1`` and ``s2`` (broadcast to the size the
  node's shape states) and repeated labels (a diagonal embedding, zero elsewhere).
  ``B`` may be ``None``: a unary contraction ``*(s1, ∅, s3)(A, 1)`` (transpose, sum,
  trace, diagonal, broadcast, scaling by ``scale``);
* :class:`Add` ``A + B`` of equal shapes;
* :class:`Elementwise` ``f(A)`` for a registered scalar function ``f``;
* :class:`GeneralUnary` ``f(A)`` for a registered tensor-to-tensor map (``inv``, ``det`` …).

Nodes compare and hash by identity (``eq=False``): a DAG is never hashed or compared
recursively by accident. Building nodes goes through :mod:`tensorad.build`, whose
smart constructors validate and simplify; the arithmetic operators on nodes defer to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

import numpy as np

from tensorad._types import Array, Labels, Shape

FLOAT64: np.dtype[Any] = np.dtype(np.float64)


class Expr:
    """Array-like behaviour shared by every node: operators, ``.T``, ``.ndim`` …

    The operators are front-end sugar implemented by :mod:`tensorad.ops`, the layer
    above; each imports it where it is used, so imports still flow one way.
    """

    __slots__ = ()
    __array_ufunc__ = None  # numpy defers to our reflected operators (``A @ x``)

    shape: Shape
    dtype: np.dtype[Any]

    @property
    def ndim(self) -> int:
        """Number of axes."""
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of entries."""
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def T(self) -> Node:  # noqa: N802  (numpy's name)
        """Axes reversed, as ``numpy.ndarray.T``."""
        from tensorad import ops

        return ops.transpose(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensorad expression")
        return self.shape[0]

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a traced tensorad expression is unknown while tracing; "
            "use numpy values outside the differentiated function for control flow"
        )

    def __add__(self, other: object) -> Node:
        from tensorad import ops

        return ops.add(self, other)

    def __radd__(self, other: object) -> Node:
        from tensorad import ops

        return ops.add(other, self)

    def __sub__(self, other: object) -> Node:
        from tensorad import ops

        return ops.subtract(self, other)

    def __rsub__(self, other: object) -> Node:
        from tensorad import ops

        return ops.subtract(other, self)

    def __mul__(self, other: object) -> Node:
        from tensorad import ops

        return ops.multiply(self, other)

    def __rmul__(self, other: object) -> Node:
        from tensorad import ops

        return ops.multiply(other, self)

    def __truediv__(self, other: object) -> Node:
        from tensorad import ops

        return ops.divide(self, other)

    def __rtruediv__(self, other: object) -> Node:
        from tensorad import ops

        return ops.divide(other, self)

    def __pow__(self, other: object) -> Node:
        from tensorad import ops

        return ops.power(self, other)

    def __rpow__(self, other: object) -> Node:
        from tensorad import ops

        return ops.power(other, self)

    def __matmul__(self, other: object) -> Node:
        from tensorad import ops

        return ops.matmul(self, other)

    def __rmatmul__(self, other: object) -> Node:
        from tensorad import ops

        return ops.matmul(other, self)

    def __neg__(self) -> Node:
        from tensorad import ops

        return ops.multiply(-1.0, self)

    def __pos__(self) -> Node:
        return cast("Node", self)

    def __getitem__(self, index: object) -> Node:
        from tensorad import ops

        return ops.getitem(self, index)

    def reshape(self, *shape: int | Sequence[int]) -> Node:
        """Same entries, new shape (C order), as ``numpy.ndarray.reshape``."""
        from tensorad import ops

        return ops.reshape(self, *shape)

    def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Node:
        """Drop size-1 axes, as ``numpy.ndarray.squeeze``."""
        from tensorad import ops

        return ops.squeeze(self, axis)

    def sum(self, axis: int | tuple[int, ...] | None = None) -> Node:
        """Sum over axes, as ``numpy.ndarray.sum``."""
        from tensorad import ops

        return ops.sum(self, axis)

    def transpose(self, *axes: int) -> Node:
        """Permute axes, as ``numpy.ndarray.transpose``."""
        from tensorad import ops

        return ops.transpose(self, axes or None)

    def evaluate(self, values: Mapping[Any, Any] | None = None) -> Array:
        """The value of this expression, with each variable bound by ``values``.

        Keys are the variables or their names; values are arrays (or nested lists and
        numbers) of the variables' shapes.
        """
        from tensorad import evaluate

        return evaluate.evaluate_named(cast("Node", self), values or {})

    def __repr__(self) -> str:
        from tensorad import printing

        return printing.summary(cast("Node", self))

    def __str__(self) -> str:
        from tensorad import printing

        return printing.index_notation(cast("Node", self))

    def to_latex(self) -> str:
        """The expression in LaTeX index notation (``A_{ij} x_{j}``)."""
        from tensorad import printing

        return printing.latex(cast("Node", self))

    def to_dot(self) -> str:
        """The DAG as a Graphviz DOT digraph, shared nodes drawn once."""
        from tensorad import printing

        return printing.dot(cast("Node", self))


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Variable(Expr):
    """A named input tensor; derivatives are taken with respect to variables.

    >>> x = Variable("x", (3,))
    >>> x.shape, x.dtype
    ((3,), dtype('float64'))
    """

    name: str
    shape: Shape
    dtype: np.dtype[Any] = FLOAT64

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Constant(Expr):
    """A fixed array (read-only) inside an expression."""

    value: Array
    shape: Shape
    dtype: np.dtype[Any]


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Contraction(Expr):
    """``*(s1, s2, s3)(a, b)``: einsum ``s1,s2->s3`` times ``scale``.

    Labels in ``s3`` absent from ``s1`` and ``s2`` are broadcast to the size ``shape``
    gives them; a label repeated in ``s3`` places the values on that diagonal (zeros off
    it). ``b is None`` (with ``s2 == ""``) makes the contraction unary.
    """

    a: Node
    b: Node | None
    s1: Labels
    s2: Labels
    s3: Labels
    scale: float
    shape: Shape
    dtype: np.dtype[Any]

    @property
    def core(self) -> Labels:
        """The labels ``s3`` computes by summation: unique, present in an operand."""
        present = set(self.s1) | set(self.s2)
        return "".join(dict.fromkeys(label for label in self.s3 if label in present))

    @property
    def is_structural(self) -> bool:
        """True when ``s3`` broadcasts or embeds a diagonal (it is not its own core)."""
        return self.core != self.s3


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Add(Expr):
    """``a + b`` for operands of one shape."""

    a: Node
    b: Node
    shape: Shape
    dtype: np.dtype[Any]


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Elementwise(Expr):
    """``fn(x)`` entry by entry; ``param`` is the constant of ``power`` and the like."""

    fn: str
    x: Node
    param: float | None
    shape: Shape
    dtype: np.dtype[Any]


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class GeneralUnary(Expr):
    """``fn(x)`` for a tensor-to-tensor map; ``params`` are its static arguments."""

    fn: str
    x: Node
    params: tuple[Any, ...]
    shape: Shape
    dtype: np.dtype[Any]


Node: TypeAlias = Variable | Constant | Contraction | Add | Elementwise | GeneralUnary
"""Any expression node."""

NODE_TYPES = (Variable, Constant, Contraction, Add, Elementwise, GeneralUnary)


def children(node: Node) -> tuple[Node, ...]:
    """The operands of ``node``, in order."""
    match node:
        case Variable() | Constant():
            return ()
        case Contraction(a=a, b=b):
            return (a,) if b is None else (a, b)
        case Add(a=a, b=b):
            return (a, b)
        case Elementwise(x=x) | GeneralUnary(x=x):
            return (x,)


def toposort(outputs: Iterable[Node]) -> list[Node]:
    """Every node reachable from ``outputs``, operands before their users.

    Iterative depth-first search, so a chain of any length is fine.
    """
    order: list[Node] = []
    done: set[int] = set()
    for root in outputs:
        stack: list[tuple[Node, Iterator[Node]]] = []
        if id(root) not in done:
            done.add(id(root))
            stack.append((root, iter(children(root))))
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if id(child) not in done:
                    done.add(id(child))
                    stack.append((child, iter(children(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def variables(outputs: Iterable[Node]) -> list[Variable]:
    """The variables the outputs depend on, in topological order."""
    return [node for node in toposort(outputs) if isinstance(node, Variable)]
