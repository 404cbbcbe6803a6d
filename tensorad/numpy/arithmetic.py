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
from typing import TypeGuard

import numpy as np

from tensorad._types import Shape
from tensorad.errors import ShapeError
from tensorad.ir import build
from tensorad.ir.build import as_node, broadcast_to, contract, scalar
from tensorad.ir.labels import aligned_labels, fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import call


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, numbers.Real) and not isinstance(x, (np.ndarray, np.generic, bool))


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
        return build.scale(x, 1.0 / float(y))
    a, b = _pair(x, y)
    return multiply(a, call("reciprocal", b))


_NAMED_POWERS = {2.0: "square", -1.0: "reciprocal", 0.5: "sqrt"}


def power(x: object, y: object) -> Node:
    """``x ** y``: a constant exponent gives ``power(x, c)``, else ``exp(y log x)``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.power(np.array([4.0, 9.0]), 0.5)
        array([2., 3.])
        >>> ta.power(2.0, np.array([1.0, 3.0]))
        array([2., 8.])
        >>> ta.grad(lambda x: ta.sum(ta.power(x, 3.0)))(np.array([1.0, 2.0]))
        array([ 3., 12.])
    """
    if _is_number(y):
        a, c = as_node(x), float(y)
        if c == 1.0:
            return a
        if c in _NAMED_POWERS:
            return call(_NAMED_POWERS[c], a)
        return call("power", a, c)
    if _is_number(x):
        return call("exp", multiply(math.log(float(x)), y))
    a, b = _pair(x, y)
    return call("exp", multiply(b, call("log", a)))
