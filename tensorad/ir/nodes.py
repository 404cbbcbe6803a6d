"""The expression DAG: six node kinds over two kinds of leaf.

A tensorad expression is a directed acyclic graph of frozen nodes:

* leaves: :class:`Variable` (a named input) and :class:`Constant` (an array);
* :class:`Contraction` ``*(s1, s2, s3)(A, B)``: einsum ``s1,s2->s3``, generalized so
  that ``s3`` may hold labels absent from ``s1`` and ``s2`` (broadcast to the size the
  node's shape states) and repeated labels (a diagonal embedding, zero elsewhere).
  ``B`` may be ``None``: a unary contraction ``*(s1, ∅, s3)(A, 1)`` (transpose, sum,
  trace, diagonal, broadcast, scaling by ``scale``);
* :class:`Add` ``A + B`` of equal shapes;
* :class:`Elementwise` ``f(A)`` for a registered scalar function ``f``;
* :class:`GeneralUnary` ``f(A)`` for a registered tensor-to-tensor map (``inv``, ``det`` …);
* :class:`Pointwise` ``f(A₁, …, Aₙ)`` entry by entry for a registered function of several
  operands (``x ** y``, ``maximum``, the comparisons, whose values are boolean masks);
* :class:`General` ``f(A₁, …, Aₙ)`` for a registered map of several tensors of any shapes
  (``concatenate``, ``solve``).

Nodes hash by identity (``eq=False``): a DAG is never hashed or compared recursively by
accident. (``==`` on nodes is numpy's comparison, installed by :mod:`tensorad.numpy`;
code that needs identity uses ``is``.) Building nodes goes through :mod:`tensorad.ir.build`, whose
smart constructors validate and simplify.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from tensorad._types import Array, Labels, Shape
from tensorad.errors import OperandTypeError, ShapeError

FLOAT64: np.dtype[Any] = np.dtype(np.float64)


class Expr:
    """What every node shares: ``.shape``, ``.dtype``, ``.ndim``, ``.size``.

    The array-like behaviour (operators, ``.T``, ``.sum()``, ``.evaluate()``, ``str``,
    ``.to_latex()`` …) belongs to the layers above: :mod:`tensorad.numpy.methods`
    installs it on this class when :mod:`tensorad` is imported, as JAX's numpy layer
    installs its tracer's operators, so the IR never imports upward. The declarations
    below tell the type checker what will be there.
    """

    __slots__ = ()
    pytree_leaf = True  # a leaf of a pytree, though a dataclass (tensorad.tree)

    shape: Shape
    dtype: np.dtype[Any]
    weak: bool
    """Weakly typed, as a Python number is: in a binary operation with a node that is not
    weak, the result takes the other node's dtype (``x32 * c`` stays float32 for a
    traced Python float ``c``). Only values computed from weak leaves alone are weak."""

    @property
    def ndim(self) -> int:
        """Number of axes.

        Examples:
            >>> import tensorad as ta
            >>> ta.Variable("A", (2, 3)).ndim
            2
        """
        return len(self.shape)

    @property
    def size(self) -> int:
        """Number of entries.

        Examples:
            >>> import tensorad as ta
            >>> ta.Variable("A", (2, 3)).size
            6
        """
        return math.prod(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise OperandTypeError("len() of a 0-d tensorad expression")
        return self.shape[0]

    def __bool__(self) -> bool:
        raise OperandTypeError(
            "the truth value of a traced tensorad expression is unknown while tracing: "
            "select with where(condition, x, y), or branch on numpy values outside the "
            "differentiated function (or on jit's static arguments)"
        )

    if TYPE_CHECKING:  # installed by tensorad.numpy.methods

        @property
        def T(self) -> Node: ...  # noqa: N802  (numpy's name)
        @property
        def mT(self) -> Node: ...  # noqa: N802
        @property
        def real(self) -> Node: ...
        @property
        def imag(self) -> Node: ...
        @property
        def at(self) -> Any: ...  # tensorad.numpy.indexing.At: x.at[index].set(v) …

        def __add__(self, other: object) -> Node: ...
        def __radd__(self, other: object) -> Node: ...
        def __sub__(self, other: object) -> Node: ...
        def __rsub__(self, other: object) -> Node: ...
        def __mul__(self, other: object) -> Node: ...
        def __rmul__(self, other: object) -> Node: ...
        def __truediv__(self, other: object) -> Node: ...
        def __rtruediv__(self, other: object) -> Node: ...
        def __pow__(self, other: object) -> Node: ...
        def __rpow__(self, other: object) -> Node: ...
        def __matmul__(self, other: object) -> Node: ...
        def __rmatmul__(self, other: object) -> Node: ...
        def __lt__(self, other: object) -> Node: ...
        def __le__(self, other: object) -> Node: ...
        def __gt__(self, other: object) -> Node: ...
        def __ge__(self, other: object) -> Node: ...
        def __neg__(self) -> Node: ...
        def __pos__(self) -> Node: ...
        def __abs__(self) -> Node: ...
        def __getitem__(self, index: object) -> Node: ...
        def __iter__(self) -> Iterator[Node]: ...
        def reshape(self, *shape: int | Sequence[int], order: str = "C") -> Node: ...
        def flatten(self, order: str = "C") -> Node: ...
        def ravel(self, order: str = "C") -> Node: ...
        def squeeze(self, axis: int | tuple[int, ...] | None = None) -> Node: ...
        def swapaxes(self, axis1: int, axis2: int) -> Node: ...
        def transpose(self, *axes: int | Sequence[int]) -> Node: ...
        def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", copy: bool = True) -> Node: ...
        def copy(self) -> Node: ...
        def conj(self) -> Node: ...
        def conjugate(self) -> Node: ...
        def sum(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def mean(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def max(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def min(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def prod(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def var(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0, keepdims: bool = False) -> Node: ...  # noqa: E501
        def std(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: float = 0, keepdims: bool = False) -> Node: ...  # noqa: E501
        def cumsum(self, axis: int | None = None, dtype: Any = None, out: None = None) -> Node: ...
        def cumprod(self, axis: int | None = None, dtype: Any = None, out: None = None) -> Node: ...
        def argmax(self, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node: ...
        def argmin(self, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node: ...
        def any(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def all(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Node: ...
        def clip(self, a_min: object = None, a_max: object = None, out: None = None) -> Node: ...
        def dot(self, b: object, out: None = None) -> Node: ...
        def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node: ...
        def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node: ...
        def evaluate(self, values: Mapping[Any, Any] | None = None) -> Array: ...
        def to_latex(self) -> str: ...
        def to_dot(self) -> str: ...
        def to_matrix(self, latex: bool = False, shared: bool = False) -> str: ...


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Variable(Expr):
    """A named input tensor; derivatives are taken with respect to variables.

    >>> import numpy as np, tensorad as ta
    >>> x = ta.Variable("x", (3,))
    >>> x.shape, x.dtype
    ((3,), dtype('float64'))
    >>> ta.Variable("y", (2, 2), np.float32)
    <Variable y shape=(2, 2) dtype=float32>
    """

    name: str
    shape: Shape
    dtype: np.dtype[Any] = FLOAT64
    weak: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", checked_shape(self.shape, f"variable {self.name!r}"))
        try:
            dtype = np.dtype(self.dtype)
        except TypeError:
            raise OperandTypeError(f"variable {self.name!r}: {self.dtype!r} is not a dtype") from None
        if dtype.kind not in "fc":
            raise OperandTypeError(f"variable {self.name!r} has dtype {dtype}; variables are float or complex")
        object.__setattr__(self, "dtype", dtype)


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Constant(Expr):
    """A fixed array (read-only) inside an expression.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> x = ta.Variable("x", (2,))
        >>> (x @ np.array([1.0, 2.0])).b             # numpy arrays become constants
        <Constant shape=(2,)>
    """

    value: Array
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its array, which is read-only again once unpickled."""
        return _read_only_constant, (self.value, self.shape, self.dtype, self.weak)


def _read_only_constant(value: Array, shape: Shape, dtype: np.dtype[Any], weak: bool) -> Constant:
    value = np.array(value)
    value.flags.writeable = False
    return Constant(value, shape, dtype, weak)


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Contraction(Expr):
    """``*(s1, s2, s3)(a, b)``: einsum ``s1,s2->s3`` times ``scale``.

    Labels in ``s3`` absent from ``s1`` and ``s2`` are broadcast to the size ``shape``
    gives them; a label repeated in ``s3`` places the values on that diagonal (zeros off
    it). ``b is None`` (with ``s2 == ""``) makes the contraction unary.

    Examples:
        >>> import tensorad as ta
        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> y = A @ x
        >>> type(y).__name__, (y.s1, y.s2, y.s3), y.shape
        ('Contraction', ('ab', 'b', 'a'), (2,))
    """

    a: Node
    b: Node | None
    s1: Labels
    s2: Labels
    s3: Labels
    scale: float
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False

    @property
    def core(self) -> Labels:
        """The labels ``s3`` computes by summation, each once: those present in an operand.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.ir.build import contract
            >>> spread = contract(ta.Variable("x", (3,)), "i", None, "", "ij", sizes={"j": 2})
            >>> spread.s3, spread.core, spread.is_structural          # broadcast along b
            ('ab', 'a', True)
        """
        present = set(self.s1) | set(self.s2)
        return "".join(dict.fromkeys(label for label in self.s3 if label in present))

    @property
    def is_structural(self) -> bool:
        """True when ``s3`` broadcasts or embeds a diagonal (it is not its own core).

        Examples:
            >>> import tensorad as ta
            >>> ta.Variable("A", (2, 3)).T.is_structural
            False
        """
        return self.core != self.s3


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Add(Expr):
    """``a + b`` for operands of one shape.

    Examples:
        >>> import tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> x + ta.exp(x)
        <Add shape=(3,) : exp(x[i]) + x[i]>
    """

    a: Node
    b: Node
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Elementwise(Expr):
    """``fn(x)`` entry by entry; ``param`` is the constant of ``power`` and the like.

    Examples:
        >>> import tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> (x ** 3).fn, (x ** 3).param
        ('power', 3.0)
    """

    fn: str
    x: Node
    param: float | None
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class GeneralUnary(Expr):
    """``fn(x)`` for a tensor-to-tensor map; ``params`` are its static arguments.

    Examples:
        >>> import tensorad as ta
        >>> z = ta.softmax(ta.Variable("z", (2, 3)), axis=1)
        >>> z.fn, z.params
        ('softmax', ((1,),))
    """

    fn: str
    x: Node
    params: tuple[Any, ...]
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class Pointwise(Expr):
    """``fn(x₁, …, xₙ)`` entry by entry, for operands of one shape (``n ≥ 2``; a function of
    one operand is an :class:`Elementwise`); ``param`` is a static constant, if any.

    A comparison is a pointwise function with boolean values and no derivative: a mask.

    Examples:
        >>> import tensorad as ta
        >>> x, y = ta.Variable("x", (3,)), ta.Variable("y", (3,))
        >>> (x > y).fn, (x > y).dtype, len((x > y).args)
        ('greater', dtype('bool'), 2)
    """

    fn: str
    args: tuple[Node, ...]
    param: float | None
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False


@dataclass(frozen=True, slots=True, eq=False, repr=False, weakref_slot=True)
class General(Expr):
    """``fn(x₁, …, xₙ)`` for a registered map of several tensors of any shapes (the
    general unary function's sibling); ``params`` are its static arguments.

    Examples:
        >>> import tensorad as ta
        >>> x, y = ta.Variable("x", (2,)), ta.Variable("y", (3,))
        >>> j = ta.numpy.concatenate([x, y])
        >>> type(j).__name__, j.fn, j.params, j.shape
        ('General', 'concatenate', (0,), (5,))
    """

    fn: str
    args: tuple[Node, ...]
    params: tuple[Any, ...]
    shape: Shape
    dtype: np.dtype[Any]
    weak: bool = False


MAX_ELEMENTS = int(np.iinfo(np.intp).max)
"""The most entries an array can have (numpy's index type)."""


def checked_shape(shape: object, what: str) -> Shape:
    """``shape`` as a tuple of non-negative ints that numpy can index, else a ShapeError naming ``what``.

    >>> checked_shape([2, 3], "x")
    (2, 3)
    >>> checked_shape((10**20,), "x")
    Traceback (most recent call last):
      ...
    tensorad.errors.ShapeError: x: shape (100000000000000000000,) has more entries than numpy can index
    """
    try:
        dims = tuple(operator.index(n) for n in shape)  # type: ignore[attr-defined]  # any iterable
    except TypeError:
        raise ShapeError(f"{what}: a shape is a tuple of integers, got {shape!r}") from None
    if any(n < 0 for n in dims):
        raise ShapeError(f"{what}: negative dimensions are not allowed, got {dims}")
    if math.prod(dims) > MAX_ELEMENTS or any(n > MAX_ELEMENTS for n in dims):
        raise ShapeError(f"{what}: shape {dims} has more entries than numpy can index")
    return dims


Node: TypeAlias = Variable | Constant | Contraction | Add | Elementwise | GeneralUnary | Pointwise | General
"""Any expression node."""

NODE_TYPES = (Variable, Constant, Contraction, Add, Elementwise, GeneralUnary, Pointwise, General)
