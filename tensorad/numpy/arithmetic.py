"""Arithmetic on traced values with numpy's broadcasting: ``+ - * / **``, comparisons, ``where``.

Everything here takes nodes, numpy arrays or Python numbers and returns a node. Python
numbers are weakly typed (``2 * x`` keeps ``x``'s dtype); numpy arrays become constants.
The public names (``tensorad.add`` …, used in the examples below) wrap these functions
with :func:`tensorad.numpy.eager.eager`, which evaluates the node when no argument is an
expression and so returns an array for arrays.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, TypeGuard

import numpy as np

from tensorad._types import Shape
from tensorad.errors import ShapeError, UnsupportedError
from tensorad.ir import build, constants
from tensorad.ir.build import broadcast_to, contract
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.labels import aligned_labels, fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import call, pointwise
from tensorad.run import budget


def _is_number(x: object) -> TypeGuard[complex]:
    """A Python number, ``bool`` to ``complex`` (weakly typed: it takes the other operand's
    dtype, as numpy's promotion treats Python scalars)."""
    return isinstance(x, numbers.Number) and not isinstance(x, (np.ndarray, np.generic))


def _real_number(x: object) -> TypeGuard[float]:
    return _is_number(x) and isinstance(x, numbers.Real)


def _scales(number: object, x: Node) -> TypeGuard[float]:
    """True when ``number · x`` is a scaling of ``x``: a real Python number and a float or
    complex ``x`` (a mask times a number is promoted instead, as numpy does)."""
    return _real_number(number) and x.dtype.kind in "fc"


def _constant_scalar(x: object) -> tuple[float, np.dtype[Any] | None] | None:
    """``(value, dtype)`` of a real constant scalar: a Python number (dtype ``None``: weak),
    a numpy scalar or a 0-d array (its dtype takes part in numpy's promotion); else ``None``."""
    if _real_number(x):
        return float(x), None
    if isinstance(x, (np.generic, np.ndarray)) and np.ndim(x) == 0 and np.asarray(x).dtype.kind in "biuf":
        array = np.asarray(x)
        return float(array), array.dtype
    return None


def _pair(x: object, y: object) -> tuple[Node, Node]:
    """Two operands as nodes; a Python number takes the other operand's dtype (as numpy's
    promotion gives it: a float with a boolean mask is float64), and an integer or boolean
    array the dtype numpy promotes it to with the other (float32 with an int8 array stays
    float32)."""
    if _is_number(x) and not _is_number(y):
        other = as_node(y)
        return _python_number(x, other), other
    if _is_number(y) and not _is_number(x):
        other = as_node(x)
        return other, _python_number(y, other)
    if isinstance(x, NODE_TYPES) and not isinstance(y, NODE_TYPES):
        return x, _array_with(y, x)
    if isinstance(y, NODE_TYPES) and not isinstance(x, NODE_TYPES):
        return _array_with(x, y), y
    return as_node(x), as_node(y)


def _array_with(value: object, other: Node) -> Node:
    """A constant operand of ``other``: integer and boolean arrays in numpy's promoted dtype."""
    if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biu" and other.dtype.kind in "fc":
        return as_node(np.asarray(value).astype(np.result_type(value.dtype, other.dtype)))
    return as_node(value)


def _numbers(x: object, y: object, name: str) -> tuple[Node, Node]:
    """:func:`_pair` for arithmetic: a boolean mask counts as 0.0 and 1.0 (float64, since
    tensorad computes in floats; numpy would keep ``mask * mask`` boolean, of equal value).
    Adding or subtracting two masks is refused: numpy's value is a logical or (or an error)."""
    a, b = _pair(x, y)
    if a.dtype.kind == "b" and b.dtype.kind == "b" and name in ("add", "subtract"):
        raise UnsupportedError(
            f"{name} of two boolean masks (numpy: a logical or, or an error) is not supported; "
            "cast one to float first: mask.astype(float)"
        )
    return counts(a, b), counts(b, a)


def counts(node: Node, other: Node | None = None) -> Node:
    """``node`` as numbers: a boolean (or integer) node in the dtype numpy promotes it to
    with ``other`` (float32 with a float32 operand), float64 on its own."""
    if node.dtype.kind in "fc":
        return node
    partner = other.dtype if other is not None and other.dtype.kind in "fc" else np.dtype(np.float64)
    return build.astype(node, np.result_type(node.dtype, partner))


def _python_number(value: complex, other: Node) -> Node:
    number = value if isinstance(value, complex) else float(value)
    return scalar(number, np.result_type(other.dtype, number), other.weak)


def _broadcast_shape(*shapes: Shape) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"operands could not be broadcast together with shapes {shapes}") from None


# ------------------------------------------------------------------ arithmetic


def add(x: object, y: object) -> Node:
    """``x + y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.add(np.array([[1.0], [2.0]]), np.array([10.0, 20.0]))
        array([[11., 21.],
               [12., 22.]])
    """
    a, b = _numbers(x, y, "add")
    shape = _broadcast_shape(a.shape, b.shape)
    result = build.add(broadcast_to(a, shape), broadcast_to(b, shape))
    assert result is not None
    return result


def subtract(x: object, y: object) -> Node:
    """``x - y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.subtract(1.0, np.array([1.0, 2.0]))
        array([ 0., -1.])
    """
    a, b = _numbers(x, y, "subtract")
    return add(a, build.scale(b, -1.0))


def multiply(x: object, y: object) -> Node:
    """``x * y`` entry by entry, with broadcasting.

    Between two tensors this is the product ``*(s, t, u)`` of their broadcast labels,
    so it differentiates like any other contraction.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.multiply(np.array([[1.0], [2.0]]), np.array([1.0, 10.0]))
        array([[ 1., 10.],
               [ 2., 20.]])
        >>> ta.grad(lambda x: ta.sum(ta.multiply(x, x)))(np.array([1.0, -3.0]))
        array([ 2., -6.])
    """
    a, b = _numbers(x, y, "multiply")
    if _scales(x, b):
        return build.scale(b, float(x))
    if _scales(y, a):
        return build.scale(a, float(y))
    shape = _broadcast_shape(a.shape, b.shape)
    out = fresh_labels(len(shape))
    la = aligned_labels(a.shape, shape, out, out)
    lb = aligned_labels(b.shape, shape, out, out + la)
    return contract(a, la, b, lb, out, sizes=dict(zip(out, shape, strict=True)))


def divide(x: object, y: object) -> Node:
    """``x / y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.divide(np.array([1.0, 2.0]), 4.0)
        array([0.25, 0.5 ])
        >>> ta.grad(lambda y: ta.sum(ta.divide(1.0, y)))(np.array([1.0, 2.0]))   # −1/y²
        array([-1.  , -0.25])
    """
    a, b = _numbers(x, y, "divide")
    if _scales(y, a) and (float(y) == 0.0 or abs(math.frexp(float(y))[0]) == 0.5):
        c = float(y)  # a power of two: x · (1/c) is x / c exactly; x / ±0.0 is ±inf, nan at 0
        return build.scale(a, 1.0 / c if c else math.copysign(math.inf, c))
    if _real_number(x) and float(x) == 1.0:
        return call("reciprocal", b)
    return _pointwise("divide", a, b)  # correctly rounded, as numpy's: x / x is 1


_NAMED_POWERS = {2.0: "square", -1.0: "reciprocal", 0.5: "sqrt"}


def power(x: object, y: object) -> Node:
    """``x ** y`` with numpy's values.

    A constant scalar exponent ``c`` (a Python number, a numpy scalar, a 0-d array) gives
    ``power(x, c)``, defined for every ``x`` (``(-2) ** 3 = -8``); a constant scalar base
    ``c`` gives ``c ** y`` (``rpow``), with ``0 ** y`` and ``(-c) ** y`` as in numpy. A
    tensor base and a tensor exponent give the pointwise ``power(x, y)`` with numpy's
    values everywhere; its derivative in ``y`` is ``xʸ log x``, taken as 0 at ``x = 0``
    (as JAX does) and nan for ``x < 0``. Two constants are computed at once by
    ``numpy.power``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.power(np.array([4.0, 9.0]), 0.5)
        array([2., 3.])
        >>> ta.power(np.array([-2.0, 3.0]), np.float64(2.0))
        array([4., 9.])
        >>> ta.power(2.0, np.array([1.0, 3.0]))
        array([2., 8.])
        >>> ta.grad(lambda x: ta.sum(ta.power(x, 3.0)))(np.array([1.0, 2.0]))
        array([ 3., 12.])
    """
    if not isinstance(x, NODE_TYPES) and not isinstance(y, NODE_TYPES):  # two constants: numpy's own power
        a, b = as_node(x), as_node(y)
        numbers_: tuple[Any, Any] = (x, y)  # numpy's own types: a Python scalar stays weak
        budget.check("power", _broadcast_shape(a.shape, b.shape), np.result_type(*numbers_))
        return constants.constant(np.power(*numbers_))
    exponent, base = _constant_scalar(y), _constant_scalar(x)
    if exponent is not None:
        c, dtype = exponent
        a = counts(as_node(x))
        if dtype is not None:
            a = build.astype(a, np.result_type(a.dtype, np.asarray(y)))
        if c == 1.0:
            return a
        if c in _NAMED_POWERS:
            return call(_NAMED_POWERS[c], a)
        return call("power", a, c)
    if base is not None:
        c, dtype = base
        b = counts(as_node(y))
        if dtype is not None:
            b = build.astype(b, np.result_type(b.dtype, np.asarray(x)))
        return call("rpow", b, c)
    return _pointwise("power", *_numbers(x, y, "power"))


# ------------------------------------------------------------------ comparisons and where


def _pointwise(name: str, *operands: object) -> Node:
    """``name(operands…)`` entry by entry, the operands broadcast to one shape first."""
    nodes = [as_node(x) for x in operands]
    if len(nodes) == 2:
        nodes = list(_pair(*operands))
    shape = _broadcast_shape(*(node.shape for node in nodes))
    return pointwise(name, tuple(broadcast_to(node, shape) for node in nodes))


def compare(name: str, x: object, y: object) -> Node:
    """``x <op> y`` by numpy's comparison ``name`` (``"greater"`` …): a boolean mask whose
    derivative is zero, as in JAX.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.grad(lambda x: ta.sum(x * (x != 0)))(np.array([1.0, 0.0, -2.0]))
        array([1., 0., 1.])
    """
    return _pointwise(name, x, y)


def where(condition: object, x: object, y: object) -> Node:
    """``numpy.where(condition, x, y)``: ``x`` where the condition holds, else ``y``.

    The derivative follows the branch taken: where the condition holds, ``y`` gets none,
    even an infinite one (``where(x > 0, sqrt(x), 0)`` has a finite forward derivative at
    0, as in JAX; a reverse pass multiplies the cotangent 0 by ``sqrt'(0) = inf``, as JAX
    does too).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.where(np.array([True, False]), np.array([1.0, 2.0]), 0.0)
        array([1., 0.])
        >>> ta.grad(lambda x: ta.sum(ta.where(x > 1.0, x * x, -x)))(np.array([0.5, 2.0]))
        array([-1.,  4.])
    """
    c = as_node(condition)
    if c.dtype.kind != "b":
        c = _pointwise("not_equal", c, 0.0)
    a, b = _pair(x, y)
    shape = _broadcast_shape(c.shape, a.shape, b.shape)
    return pointwise("where", tuple(broadcast_to(node, shape) for node in (c, a, b)))


def extreme(name: str, x: object, y: object) -> Node:
    """``numpy.maximum`` or ``numpy.minimum`` (``name``) entry by entry, with broadcasting;
    nan propagates, and at a tie each operand gets half the derivative (as in JAX)."""
    return _pointwise(name, *_numbers(x, y, name))


def clip(a: object, a_min: object, a_max: object) -> Node:
    """``numpy.clip``: ``minimum(maximum(a, a_min), a_max)`` (either bound may be ``None``)."""
    result = as_node(a) if a_min is None else extreme("maximum", a, a_min)
    return result if a_max is None else extreme("minimum", result, a_max)


def relu(x: object) -> Node:
    """``max(x, 0)`` with the derivative 0 at 0, as ``jax.nn.relu``: the entries where
    ``x > 0`` pass, the others are 0 (a selection, so ``relu'(0) = 0``)."""
    a = counts(as_node(x))
    return where(compare("greater", a, 0.0), a, 0.0)


def binary(name: str, x: object, y: object) -> Node:
    """numpy's binary ufunc ``name`` (a registered pointwise function: ``logaddexp``,
    ``hypot``, ``arctan2`` …) entry by entry, with broadcasting."""
    a, b = _numbers(x, y, name)
    for operand in (a, b):
        real_operand(name, operand)
    return _pointwise(name, a, b)


def real_operand(name: str, x: Node) -> None:
    """Refuse a complex operand of a function defined for reals only, naming it."""
    if x.dtype.kind == "c":
        raise UnsupportedError(f"{name} of a complex array is not supported (numpy defines it for reals)")


def is_nan(x: object) -> Node:
    """``numpy.isnan``: a mask, true where ``x != x``."""
    a = as_node(x)
    return compare("not_equal", a, a)


def is_finite(x: object) -> Node:
    """``numpy.isfinite``: a mask, true where ``|x| < inf`` (false for nan and ±inf)."""
    a = counts(as_node(x))
    real_operand("isfinite", a)
    return _pointwise("less", _pointwise("where", compare("less", a, 0.0), multiply(-1.0, a), a), np.inf)


def is_inf(x: object) -> Node:
    """``numpy.isinf``: a mask, true where ``x`` is ±inf."""
    a = counts(as_node(x))
    real_operand("isinf", a)
    return _pointwise("equal", _pointwise("where", compare("less", a, 0.0), multiply(-1.0, a), a), np.inf)


def nan_ignoring(name: str, x: object, y: object) -> Node:
    """``numpy.fmax`` or ``numpy.fmin`` (``name``): the larger (smaller) of ``x`` and ``y``,
    a nan ignored when the other is a number. As ``jax.numpy.fmax``, a selection: the
    derivative goes to ``x`` where it wins or ``y`` is nan, else (ties included) to ``y``."""
    a, b = _numbers(x, y, name)
    wins = compare("greater" if name == "fmax" else "less", a, b)
    return where(wins, a, where(is_nan(b), a, b))


def heaviside(x1: object, x2: object) -> Node:
    """``numpy.heaviside``: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``
    (nan where ``x1`` is nan). A selection: the derivative in ``x1`` is 0, in ``x2`` it is
    1 where ``x1 == 0`` (as JAX)."""
    a, b = _numbers(x1, x2, "heaviside")
    step = where(compare("less", a, 0.0), 0.0, where(compare("greater", a, 0.0), 1.0, b))
    return where(is_nan(a), a, step)
