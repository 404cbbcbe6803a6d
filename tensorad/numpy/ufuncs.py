"""numpy's universal functions on traced values and arrays, with numpy's signatures.

Each takes ``out=None`` and ``dtype=`` as numpy's ufuncs do (``out`` must stay ``None``:
tensorad values are immutable) and refuses numpy's other ufunc arguments by name. On
arrays each returns an array; on an expression, an expression.

>>> import numpy as np, tensorad as ta
>>> ta.exp(np.zeros(2)), ta.greater(np.array([1.0, -1.0]), 0.0)
(array([1., 1.]), array([ True, False]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tensorad._types import DTypeArg
from tensorad.errors import UnsupportedError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.library.registry import call
from tensorad.numpy import arithmetic, products
from tensorad.numpy.eager import cast, eager, refuse
from tensorad.numpy.signs import conj as conj
from tensorad.numpy.signs import conjugate as conjugate
from tensorad.numpy.signs import imag as imag
from tensorad.numpy.signs import negative as negative
from tensorad.numpy.signs import positive as positive
from tensorad.numpy.signs import real as real

_SECTIONS = """Args:
        {operands}
        out: numpy's output array: only ``None`` (tensorad values are immutable), else ``UnsupportedError``.{dtype}
        **unsupported: numpy's other ufunc arguments (``where=``, ``casting=`` …), refused: ``UnsupportedError``.

    Returns:
        {result}, of the broadcast shape: an array when no operand is an expression, else an expression.

    """
_DTYPE = "\n        dtype: compute in this float or complex dtype, as numpy's ``dtype=`` (default: the operands')."
_X = "x: an array, a number or an expression."
_OPERANDS = "x1: an array, a number or an expression.\n        x2: another, broadcast against ``x1`` (numpy's rules)."


def _sections(operands: str, result: str, dtype: bool = True) -> str:
    """The Args, Returns and Raises sections of the generated ufuncs' docstrings."""
    return _SECTIONS.format(operands=operands, result=result, dtype=_DTYPE if dtype else "")


# ------------------------------------------------------------------ one operand


def _unary(name: str, registered: str | None = None, example: str = "0.3, 0.6") -> Callable[..., Any]:
    """The ufunc ``name``, the registry's elementwise function ``registered`` (default:
    ``name``); ``example``: the docstring's inputs, inside the function's domain."""
    entry = registered or name

    def function(x: object, /, out: None = None, *, dtype: DTypeArg = None, **unsupported: Any) -> Node:
        refuse(name, out, **unsupported)
        return call(entry, cast(as_node(x), dtype))  # numpy computes in dtype

    space = "tnp" if hasattr(np, name) else "ta"  # numpy's names live in tensorad.numpy
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""``{name}(x)`` entry by entry.

    Its derivative is an expression (:mod:`tensorad.library.elementwise`), so it differentiates again;
    :func:`tensorad.testing.check_grads` confirms the first two orders here.

    {_sections(_X, f"``{name}(x)``, of ``x``'s shape")}Examples:
        >>> import numpy as np, tensorad as ta, tensorad.numpy as tnp
        >>> from tensorad.testing import check_grads
        >>> x = np.array([{example}])
        >>> {space}.{name}(x).shape, ta.grad(lambda x: ta.sum({space}.{name}(x)))(x).shape
        ((2,), (2,))
        >>> check_grads({space}.{name}, (x,))
    """
    return eager(function)


exp = _unary("exp")
log = _unary("log")
log1p = _unary("log1p")
expm1 = _unary("expm1")
sin = _unary("sin")
cos = _unary("cos")
tan = _unary("tan")
tanh = _unary("tanh")
sinh = _unary("sinh")
cosh = _unary("cosh")
sqrt = _unary("sqrt")
square = _unary("square")
reciprocal = _unary("reciprocal")
abs = _unary("abs")  # noqa: A001  (numpy's name)
absolute = _unary("absolute", "abs")
sign = _unary("sign")
sigmoid = _unary("sigmoid")
softplus = _unary("softplus")
erf = _unary("erf")
arcsin = _unary("arcsin")
arccos = _unary("arccos")
arctan = _unary("arctan")
arcsinh = _unary("arcsinh")
arccosh = _unary("arccosh", example="1.3, 1.6")
sinc = _unary("sinc")
arctanh = _unary("arctanh")
log2 = _unary("log2")
log10 = _unary("log10")
exp2 = _unary("exp2")


# ------------------------------------------------------------------ two operands


def _binary(
    name: str, build: Callable[[object, object], Node], doc: str, result: str = "The result"
) -> Callable[..., Any]:
    def function(x1: object, x2: object, /, out: None = None, *, dtype: DTypeArg = None, **unsupported: Any) -> Node:
        refuse(name, out, **unsupported)
        if dtype is None:
            return build(x1, x2)
        return build(cast(as_node(x1), dtype), cast(as_node(x2), dtype))  # numpy computes in dtype

    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc.replace("Examples:", _sections(_OPERANDS, result) + "Examples:", 1)
    return eager(function)


add = _binary("add", arithmetic.add, arithmetic.add.__doc__ or "")
subtract = _binary("subtract", arithmetic.subtract, arithmetic.subtract.__doc__ or "")
multiply = _binary("multiply", arithmetic.multiply, arithmetic.multiply.__doc__ or "")
divide = _binary("divide", arithmetic.divide, arithmetic.divide.__doc__ or "")
true_divide = divide
power = _binary("power", arithmetic.power, arithmetic.power.__doc__ or "")
matmul = _binary("matmul", products.matmul, products.matmul.__doc__ or "")


def _double(x: object) -> Node:
    """``x`` in double precision: float64, or complex128 for complex ``x``."""
    node = as_node(x)
    return cast(node, np.complex128 if node.dtype.kind == "c" else np.float64)


float_power = _binary(
    "float_power",
    lambda x1, x2: arithmetic.power(_double(x1), _double(x2)),
    """``x1 ** x2`` in double precision, as ``numpy.float_power`` (float32 operands give float64).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.float_power(np.array([2.0, 3.0], np.float32), 2)
        array([4., 9.])
    """,
)


def _comparison(name: str, symbol: str) -> Callable[..., Any]:
    example = np.array([1.0, 2.0, 3.0])
    return _binary(
        name,
        lambda x1, x2: arithmetic.compare(name, x1, x2),
        f"""``x1 {symbol} x2`` entry by entry: a boolean mask, whose derivative is zero.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.{name}(np.array([1.0, 2.0, 3.0]), 2.0)
        {getattr(np, name)(example, 2.0)!r}
    """,
        "A boolean mask of the broadcast shape",
    )


maximum = _binary(
    "maximum",
    lambda x1, x2: arithmetic.extreme("maximum", x1, x2),
    """The larger of ``x1`` and ``x2`` entry by entry (nan propagates); at a tie each gets half the derivative,
    as JAX's ``maximum``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.maximum(np.array([1.0, 5.0, 2.0]), 2.0)
        array([2., 5., 2.])
        >>> ta.grad(lambda x: ta.sum(ta.maximum(x, 2.0)))(np.array([1.0, 5.0, 2.0]))
        array([0. , 1. , 0.5])
    """,
)
minimum = _binary(
    "minimum",
    lambda x1, x2: arithmetic.extreme("minimum", x1, x2),
    """The smaller of ``x1`` and ``x2`` entry by entry; the derivative as for :func:`maximum`.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.minimum(np.array([1.0, 5.0]), np.array([3.0, 4.0]))
        array([1., 4.])
    """,
)

logaddexp = _binary(
    "logaddexp",
    lambda x1, x2: arithmetic.binary("logaddexp", x1, x2),
    """``log(exp(x1) + exp(x2))`` without overflow. The derivative in ``x1`` is ``σ(x1 − x2)``
    (in ``x2``, ``σ(x2 − x1)``); where both are the same infinity each gets ½.

    Examples:
        >>> import numpy as np, tensorad as ta, tensorad.numpy as tnp
        >>> tnp.logaddexp(np.array([0.0, 1000.0]), 0.0)
        array([6.93147181e-01, 1.00000000e+03])
        >>> ta.grad(lambda x: tnp.logaddexp(x, -np.inf).sum())(np.array([1.0, -np.inf]))
        array([1. , 0.5])
    """,
)
hypot = _binary(
    "hypot",
    lambda x1, x2: arithmetic.binary("hypot", x1, x2),
    """``sqrt(x1² + x2²)`` without overflow. Its derivative is ``(x1, x2) / hypot``, taken as 0 at the origin
    (the tip of a cone, as ``abs'(0) = 0``).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.hypot(np.array([3.0, 1e200]), np.array([4.0, 1e200]))
        array([5.00000000e+000, 1.41421356e+200])
    """,
)
arctan2 = _binary(
    "arctan2",
    lambda x1, x2: arithmetic.binary("arctan2", x1, x2),
    """The angle of the point ``(x2, x1)``, in ``[−π, π]``. Derivatives ``x2 / r²`` and ``−x1 / r²``
    (``r = hypot(x1, x2)``); nan at the origin, where it has none (as JAX).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.arctan2(np.array([1.0, -1.0]), np.array([-1.0, -1.0])) / np.pi
        array([ 0.75, -0.75])
    """,
)
fmax = _binary(
    "fmax",
    lambda x1, x2: arithmetic.nan_ignoring("fmax", x1, x2),
    """The larger of ``x1`` and ``x2``, a nan ignored where the other is a number. As
    ``jax.numpy.fmax`` (a selection), the derivative goes wholly to ``x2`` at a tie.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.fmax(np.array([1.0, np.nan, np.nan]), np.array([2.0, 3.0, np.nan]))
        array([ 2.,  3., nan])
    """,
)
fmin = _binary(
    "fmin",
    lambda x1, x2: arithmetic.nan_ignoring("fmin", x1, x2),
    """The smaller of ``x1`` and ``x2``, a nan ignored; the derivative as for :func:`fmax`.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.fmin(np.array([1.0, np.nan]), np.array([2.0, 3.0]))
        array([1., 3.])
    """,
)
heaviside = _binary(
    "heaviside",
    arithmetic.heaviside,
    """The step: 0 below 0, ``x2`` at 0, 1 above (nan for nan). Its derivative in ``x1`` is 0 everywhere
    (also at 0, as JAX); in ``x2`` it is 1 where ``x1 == 0``.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.heaviside(np.array([-1.0, 0.0, 2.0]), 0.5)
        array([0. , 0.5, 1. ])
    """,
)


def _mask(name: str, build: Callable[[object], Node], doc: str) -> Callable[..., Any]:
    def function(x: object, /, out: None = None, **unsupported: Any) -> Node:
        refuse(name, out, **unsupported)
        return build(x)

    function.__name__ = function.__qualname__ = name
    sections = _sections(_X, "A boolean mask of ``x``'s shape", dtype=False)
    function.__doc__ = doc.replace("Examples:", sections + "Examples:", 1)
    return eager(function)


isnan = _mask(
    "isnan",
    arithmetic.is_nan,
    """A mask, true where ``x`` is nan (zero derivative).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.isnan(np.array([1.0, np.nan, np.inf]))
        array([False,  True, False])
    """,
)
isinf = _mask(
    "isinf",
    arithmetic.is_inf,
    """A mask, true where ``x`` is ±inf (zero derivative).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.isinf(np.array([1.0, np.nan, -np.inf]))
        array([False, False,  True])
    """,
)
isfinite = _mask(
    "isfinite",
    arithmetic.is_finite,
    """A mask, true where ``x`` is neither nan nor ±inf (zero derivative).

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.isfinite(np.array([1.0, np.nan, -np.inf]))
        array([ True, False, False])
    """,
)


@eager
def relu(x: object) -> Node:
    """``max(x, 0)``, as ``jax.nn.relu``: derivative 1 where ``x > 0`` and 0 elsewhere, including at 0.

    Args:
        x: an array, a number or an expression.

    Returns:
        ``max(x, 0)`` entry by entry: an array, or an expression when ``x`` is one.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.relu(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 2.])
        >>> ta.grad(lambda x: ta.sum(ta.relu(x)))(np.array([-1.0, 0.0, 2.0]))
        array([0., 0., 1.])
    """
    return arithmetic.relu(x)


equal = _comparison("equal", "==")
not_equal = _comparison("not_equal", "!=")
less = _comparison("less", "<")
less_equal = _comparison("less_equal", "<=")
greater = _comparison("greater", ">")
greater_equal = _comparison("greater_equal", ">=")


@eager
def where(condition: object, x: object = None, y: object = None, /) -> Node:
    """``numpy.where(condition, x, y)``: ``x`` where the condition holds, ``y`` elsewhere.

    The derivative follows the branch taken (see :func:`tensorad.numpy.arithmetic.where`). The one-argument
    form (the indices where the condition holds) is not differentiable and not supported.

    Args:
        condition: a boolean mask (an array or an expression), broadcast against ``x`` and ``y``.
        x: the values where ``condition`` holds (an array, a number or an expression).
        y: the values elsewhere (without ``x`` and ``y``: ``UnsupportedError``).

    Returns:
        The selection, of the three arguments' broadcast shape: an array, or an expression if any is one.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.where(np.array([1.0, -1.0]) > 0, 1.0, np.array([5.0, 6.0]))
        array([1., 6.])
    """
    if x is None or y is None:
        raise UnsupportedError("where(condition) with one argument (indices) is not supported: pass x and y")
    return arithmetic.where(condition, x, y)
