"""The array-like behaviour of nodes, installed on :class:`~tensorad.ir.nodes.Expr`.

Operators (``+ - * / ** @``, unary ``-``, ``abs()``, the six comparisons, indexing,
iteration), numpy's array methods (``.sum``, ``.mean``, ``.max``, ``.reshape``, ``.T`` …),
numpy dispatch (``np.exp(x)``: :mod:`tensorad.numpy.dispatch`), printing (``str``,
``repr``, ``.to_latex()``, ``.to_dot()``) and ``.evaluate()``. :func:`install` puts them on
the node classes when :mod:`tensorad.numpy` is imported, as JAX's numpy layer installs its
tracer's operators: the IR itself never imports a layer above it.

>>> import numpy as np, tensorad as ta
>>> A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
>>> print(A @ x + 1.0)
1 + A[i,j]*x[j]
>>> (A @ x).evaluate({"A": np.eye(2), x: [3.0, 4.0]})
array([3., 4.])
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NoReturn, cast

import numpy as np

from tensorad._types import Array, DTypeArg
from tensorad.errors import OperandTypeError, UnsupportedError
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Expr, Node
from tensorad.numpy import arithmetic, axes, dispatch, functions, indexing, joins, products, reductions, ufuncs
from tensorad.numpy.eager import cast as cast_dtype
from tensorad.run.evaluate import evaluate_named
from tensorad.symbolic import dot, latex, matrix, printing


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


def real(self: Expr) -> Node:
    """The real part, as ``numpy.ndarray.real`` (see :func:`tensorad.numpy.real`).

    Examples:
        >>> import tensorad as ta
        >>> print(ta.Variable("x", (2,)).real)
        x[i]
    """
    return cast("Node", ufuncs.real(self))  # a node for a node


def imag(self: Expr) -> Node:
    """The imaginary part, as ``numpy.ndarray.imag`` (zero for a real value)."""
    return cast("Node", ufuncs.imag(self))


def reshape(self: Expr, *shape: int | Sequence[int], order: str = "C") -> Node:
    """Same entries, new shape (C order), as ``numpy.ndarray.reshape``.

    Args:
        *shape: the new shape, as integers (``x.reshape(3, -1)``) or one sequence
            (``x.reshape((3, -1))``); one entry may be ``-1``, inferred from the others.
        order: ``"C"`` (last index fastest) or ``"F"`` (first index fastest).

    Returns:
        An expression of the new shape.

    Raises:
        ShapeError: the sizes do not match, or more than one ``-1``.

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (2, 3)).reshape(3, -1).shape
        (3, 2)
    """
    return axes.reshape(self, *shape, order=order)


def flatten(self: Expr, order: str = "C") -> Node:
    """The entries as one axis, as ``numpy.ndarray.flatten`` (and ``.ravel``).

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (2, 3)).flatten().shape
        (6,)
    """
    return axes.ravel(self, order)


def transpose(self: Expr, *order: int | Sequence[int]) -> Node:
    """Permute axes, as ``numpy.ndarray.transpose`` (``x.transpose(1, 0)`` or ``((1, 0))``).

    Args:
        *order: a permutation of the axes, as integers or one sequence; none reverses them.

    Returns:
        An expression whose axis ``k`` is this one's axis ``order[k]``.

    Raises:
        ShapeError: ``order`` is not a permutation of the axes.

    Examples:
        >>> import tensorad as ta
        >>> ta.Variable("A", (2, 3, 4)).transpose(2, 0, 1).shape
        (4, 2, 3)
    """
    if len(order) == 1 and not isinstance(order[0], int):
        return axes.transpose(self, order[0])
    return axes.transpose(self, cast("tuple[int, ...]", order) or None)


def astype(self: Expr, dtype: DTypeArg, order: str = "K", casting: str = "unsafe", copy: bool = True) -> Node:
    """The value as ``dtype`` (a float or complex dtype), as ``numpy.ndarray.astype``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.Variable("x", (2,)).astype(np.float32).dtype
        dtype('float32')
    """
    return cast_dtype(_node(self), dtype)


def evaluate(self: Expr, values: Mapping[Any, Any] | None = None) -> Array:
    """The value of this expression, with each variable bound by ``values``.

    Args:
        values: each variable's value, keyed by the variable or its name: an array (or
            nested lists and numbers) of the variable's shape. Not needed for an
            expression of constants.

    Returns:
        A new numpy array of the expression's shape and dtype (the caller owns it).

    Raises:
        TensoradError: a variable has no value, or a name matches no variable.
        ShapeError: a value does not have its variable's shape.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
        >>> (A @ x).evaluate({"A": np.eye(2), x: [3.0, 4.0]})
        array([3., 4.])
    """
    return evaluate_named(_node(self), values or {})


def to_latex(self: Expr) -> str:
    """The expression in LaTeX index notation (``A_{ij} x_{j}``).

    Returns:
        LaTeX math, without the ``$`` delimiters: the sums written as ``\\sum``, the
        functions by name (:func:`tensorad.symbolic.latex.latex`).

    Examples:
        >>> import tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> print(ta.sum(ta.exp(x)).to_latex())
        \\sum_{i} \\exp\\left(x_{i}\\right)
    """
    return latex.latex(_node(self))


def to_matrix(self: Expr, latex: bool = False, shared: bool = False) -> str:
    """The expression (order ≤ 2) in matrix notation: products, transposes, ``⊙``, ``⊘``,
    ``diag``, ``𝟏`` and inverses (:func:`tensorad.symbolic.matrix.matrix_notation`); LaTeX
    with ``latex``; a repeated subexpression named once with ``shared``.

    Raises:
        UnsupportedError: the expression has no matrix form (a value of three axes, a gather …).

    Examples:
        >>> import tensorad as ta
        >>> A, x, b = ta.Variable("A", (4, 3)), ta.Variable("x", (3,)), ta.Variable("b", (4,))
        >>> print(ta.derivative(ta.sum((A @ x - b) ** 2), x).to_matrix())
        2 Aᵀ (A x - b)
        >>> print(ta.derivative(ta.sum((A @ x - b) ** 2), A).to_matrix(latex=True))
        2 \\left(A x - b\\right) x^\\top
    """
    return matrix.matrix_notation(_node(self), latex=latex, shared=shared)


def _repr_latex_(self: Expr) -> str:
    """Jupyter shows an expression as its typeset formula (the LaTeX of :func:`to_latex`)."""
    return f"${latex.latex(_node(self))}$"


SVG_NODES = 400
"""Largest DAG that Jupyter draws (``_repr_svg_``); past it, the formula alone."""


def _repr_svg_(self: Expr) -> str | None:
    """Jupyter draws the DAG when Graphviz's ``dot`` is installed (None otherwise, and for
    a DAG of more than :data:`SVG_NODES` nodes, so a notebook never waits on a huge graph)."""
    program = shutil.which("dot")
    node = _node(self)
    if program is None or len(toposort([node])) > SVG_NODES:
        return None
    try:
        drawn = subprocess.run([program, "-Tsvg"], input=dot.dot(node), capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return drawn.stdout if drawn.returncode == 0 else None


def to_dot(self: Expr) -> str:
    """The DAG as a Graphviz DOT digraph, shared nodes drawn once.

    Returns:
        The DOT text, one ``n<k>`` node per DAG node labelled with its kind and shape,
        the outputs drawn with a double border; ``dot -Tsvg`` draws it.

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


def iterate(self: Expr) -> Iterator[Node]:
    """The subarrays along the first axis, as iterating over an array gives them."""
    if not self.shape:
        raise TypeError("iteration over a 0-d tensorad expression")
    for k in range(self.shape[0]):
        yield indexing.getitem(self, k)


def immutable(self: Expr, index: object, value: object) -> NoReturn:
    raise UnsupportedError(
        "tensorad expressions are immutable: build the new value instead, e.g. "
        "ta.where(mask, value, x) for a masked update"
    )


def no_array(self: Expr, dtype: object = None, copy: object = None) -> NoReturn:
    raise UnsupportedError(
        "a traced tensorad expression has no values yet, so numpy cannot turn it into an array "
        "(np.asarray, np.array, or a function that does not dispatch, as scipy's mostly do): call "
        "numpy's functions on it, or tensorad.numpy's and tensorad.scipy's (tensorad.scipy.special.logsumexp …)"
    )


def _unsupported(name: str) -> Any:
    """What an ndarray attribute or operator tensorad does not support becomes on a node:
    a property that raises :class:`UnsupportedError` naming it (not an AttributeError)."""

    def refuse(self: Expr, *args: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedError(
            f"ndarray.{name} is not supported on traced values; see tensorad.numpy for what is "
            "(docs: 'Differentiating numpy code')"
        )

    return refuse


UNSUPPORTED_OPERATORS = (
    "and", "or", "xor", "invert", "floordiv", "mod", "divmod", "lshift", "rshift", "round", "dlpack",
    "dlpack_device", "rand", "ror", "rxor", "rfloordiv", "rmod", "rdivmod", "rlshift", "rrshift",
)  # fmt: skip
"""Operators of ndarray that traced values refuse by name (``x & y``, ``x // 2``, ``round(x)`` …)."""


def _concrete(kind: str) -> Callable[[Expr], NoReturn]:
    def refuse(self: Expr) -> NoReturn:
        raise OperandTypeError(
            f"cannot convert a traced tensorad expression to a Python {kind} while tracing: it has no value "
            "yet. Use tensorad.numpy functions (where, max …) instead of Python control flow, or pass the "
            "value as a static argument (jit's static_argnums)"
        )

    return refuse


def _binary(op: Callable[[object, object], Node], reflected: bool) -> Callable[[Expr, object], Node]:
    if reflected:
        return lambda self, other: op(other, self)
    return lambda self, other: op(self, other)


def _comparison(name: str) -> Callable[[Expr, object], Node]:
    return lambda self, other: arithmetic.compare(name, self, other)


def _method(function: Callable[..., Node]) -> Callable[..., Node]:
    """``function(self, …)`` as a method, with its name and docstring."""

    def method(self: Expr, *args: Any, **kwargs: Any) -> Node:
        return function(self, *args, **kwargs)

    method.__name__, method.__qualname__ = function.__name__, f"Expr.{function.__name__}"
    method.__module__, method.__doc__ = Expr.__module__, function.__doc__
    return method


METHODS: dict[str, Any] = {
    "T": property(T),
    "mT": property(lambda self: axes.swapaxes(self, -1, -2)),
    "real": property(real),
    "imag": property(imag),
    "reshape": reshape,
    "flatten": flatten,
    "ravel": flatten,
    "transpose": transpose,
    "astype": astype,
    "copy": _node,
    "conj": _method(ufuncs.conj),
    "conjugate": _method(ufuncs.conj),
    "sum": _method(reductions.sum),
    "mean": _method(reductions.mean),
    "max": _method(reductions.max),
    "min": _method(reductions.min),
    "prod": _method(reductions.prod),
    "repeat": _method(joins.repeat),
    "take": _method(indexing.take),
    "var": _method(reductions.var),
    "std": _method(reductions.std),
    "cumsum": _method(reductions.cumsum),
    "cumprod": _method(reductions.cumprod),
    "argmax": _method(reductions.argmax),
    "argmin": _method(reductions.argmin),
    "any": _method(reductions.any),
    "all": _method(reductions.all),
    "clip": _method(functions.clip),
    "dot": _method(products.dot),
    "swapaxes": _method(axes.swapaxes),
    "squeeze": _method(axes.squeeze),
    "trace": _method(axes.trace),
    "diagonal": _method(axes.diagonal),
    "evaluate": evaluate,
    "to_latex": to_latex,
    "to_matrix": to_matrix,
    "to_dot": to_dot,
    "_repr_latex_": _repr_latex_,
    "_repr_svg_": _repr_svg_,
    "__repr__": lambda self: dot.summary(_node(self)),
    "__str__": lambda self: printing.index_notation(_node(self)),
    "__neg__": lambda self: arithmetic.multiply(-1.0, self),
    "__pos__": _node,
    "__abs__": lambda self: ufuncs.abs(self),
    "__getitem__": lambda self, index: indexing.getitem(self, index),
    "at": property(indexing.At),
    "__iter__": iterate,
    "__setitem__": immutable,
    "__array__": no_array,
    "__array_ufunc__": dispatch.array_ufunc,
    "__array_function__": dispatch.array_function,
    "__float__": _concrete("float"),
    "__int__": _concrete("int"),
    "__complex__": _concrete("complex"),
    "__index__": _concrete("integer"),
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

COMPARISONS = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}
"""The comparisons, each a mask (Python tries the reflected one itself)."""


def install() -> None:
    """Put the methods and operators on the node classes (idempotent).

    Returns:
        None: afterwards every node has numpy's operators and methods, and refuses by name
        (``UnsupportedError``) the ndarray attributes tensorad does not support.
    """
    for name, method in METHODS.items():
        setattr(Expr, name, method)
    for name, op in OPERATORS.items():
        setattr(Expr, f"__{name}__", _binary(op, reflected=False))
        setattr(Expr, f"__r{name}__", _binary(op, reflected=True))
    for name, ufunc in COMPARISONS.items():
        setattr(Expr, f"__{name}__", _comparison(ufunc))
    for name in UNSUPPORTED_OPERATORS:
        setattr(Expr, f"__{name}__", _unsupported(f"__{name}__"))
    for name in dir(np.ndarray):  # the rest of ndarray's public attributes, refused by name
        if not name.startswith("_") and not hasattr(Expr, name):
            setattr(Expr, name, property(_unsupported(name)))
    Expr.__hash__ = object.__hash__  # type: ignore[method-assign]  # by identity, though == compares values
