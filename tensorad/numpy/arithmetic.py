"""Arithmetic on traced values with numpy's broadcasting: ``+ - * / **``.

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
from tensorad.errors import ShapeError
from tensorad.ir import build, constants
from tensorad.ir.build import broadcast_to, contract
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.labels import aligned_labels, fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Constant, Node
from tensorad.library.registry import call


def _is_number(x: object) -> TypeGuard[float]:
    """A Python real number (weakly typed: it takes the other operand's dtype)."""
    return isinstance(x, numbers.Real) and not isinstance(x, (np.ndarray, np.generic, bool))


def _constant_scalar(x: object) -> tuple[float, np.dtype[Any] | None] | None:
    """``(value, dtype)`` of a real constant scalar: a Python number (dtype ``None``: weak),
    a numpy scalar or a 0-d array (its dtype takes part in numpy's promotion); else ``None``."""
    if _is_number(x):
        return float(x), None
    if isinstance(x, (np.generic, np.ndarray)) and np.ndim(x) == 0 and np.asarray(x).dtype.kind in "biuf":
        array = np.asarray(x)
        return float(array), array.dtype
    return None


def _pair(x: object, y: object) -> tuple[Node, Node]:
    """Two operands as nodes; a Python number takes the other operand's dtype."""
    if _is_number(x) and isinstance(y, NODE_TYPES):
        return scalar(float(x), y.dtype), y
    if _is_number(y) and isinstance(x, NODE_TYPES):
        return x, scalar(float(y), x.dtype)
    return as_node(x), as_node(y)


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
    a, b = _pair(x, y)
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
    a, b = _pair(x, y)
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
    if _is_number(x) and isinstance(y, NODE_TYPES):
        return build.scale(y, float(x))
    if _is_number(y) and isinstance(x, NODE_TYPES):
        return build.scale(x, float(y))
    a, b = as_node(x), as_node(y)
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
    if _is_number(y) and isinstance(x, NODE_TYPES):
        c = float(y)  # x / ±0.0 is ±inf, nan at 0, as in numpy
        return build.scale(x, 1.0 / c if c else math.copysign(math.inf, c))
    a, b = _pair(x, y)
    return multiply(a, call("reciprocal", b))


_NAMED_POWERS = {2.0: "square", -1.0: "reciprocal", 0.5: "sqrt"}


def power(x: object, y: object) -> Node:
    """``x ** y`` with numpy's values.

    A constant scalar exponent ``c`` (a Python number, a numpy scalar, a 0-d array) gives
    ``power(x, c)``, defined for every ``x`` (``(-2) ** 3 = -8``); a constant scalar base
    ``c`` gives ``c ** y`` (``rpow``), with ``0 ** y`` and ``(-c) ** y`` as in numpy. A
    tensor base and a tensor exponent give ``exp(y log x)``, which is defined for ``x > 0``
    only: entries with ``x ≤ 0`` are ``nan`` there (numpy gives ``(-2) ** 2 = 4``), so keep
    such bases positive or make the exponent a constant scalar. Two constants are
    computed at once by ``numpy.power``.

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
    exponent, base = _constant_scalar(y), _constant_scalar(x)
    if exponent is not None:
        c, dtype = exponent
        a = as_node(x)
        if dtype is not None:
            a = build.astype(a, np.result_type(a.dtype, np.asarray(y)))
        if c == 1.0:
            return a
        if c in _NAMED_POWERS:
            return call(_NAMED_POWERS[c], a)
        return call("power", a, c)
    if base is not None:
        c, dtype = base
        b = as_node(y)
        if dtype is not None:
            b = build.astype(b, np.result_type(b.dtype, np.asarray(x)))
        return call("rpow", b, c)
    a, b = _pair(x, y)
    if isinstance(a, Constant) and isinstance(b, Constant):
        return constants.constant(np.power(a.value, b.value))
    return call("exp", multiply(b, call("log", a)))
