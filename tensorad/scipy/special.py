"""``tensorad.scipy.special``: ``expit``, ``erf``, ``logsumexp``, ``softmax``, ``log_softmax``
at scipy's places, with scipy's arguments, on traced values and arrays.

>>> import numpy as np
>>> import tensorad.scipy.special as tsp
>>> tsp.logsumexp(np.zeros(4)), tsp.expit(np.array([0.0]))
(array(1.38629436), array([0.5]))
"""

from __future__ import annotations

import numpy as np

from tensorad.errors import UnsupportedError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import call
from tensorad.numpy import arithmetic
from tensorad.numpy.axes import Axes, expand_dims, normalize_axes
from tensorad.numpy.eager import eager
from tensorad.numpy.functions import general
from tensorad.numpy.phrases import shared
from tensorad.numpy.ufuncs import erf, sigmoid

__all__ = ["erf", "expit", "log_softmax", "logsumexp", "softmax"]

expit = sigmoid


@eager
@shared
def logsumexp(
    a: object, axis: Axes = None, b: object = None, keepdims: bool = False, return_sign: bool = False
) -> Node:
    """``scipy.special.logsumexp``: ``log Σ exp(a)`` over ``axis``, computed stably; with
    ``b``, ``log Σ b·exp(a)`` for ``b > 0`` (the log of a negative sum needs ``return_sign``,
    which is not supported).

    Args:
        a: {a}
        axis: {axes}
        b: constant non-negative weights, broadcast against ``a`` (``None``: all 1).
        keepdims: {keepdims}
        return_sign: scipy's option for a negative weighted sum: only ``False``.

    Returns:
        ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        UnsupportedError: ``return_sign=True``, or ``b`` is an expression or has a negative entry.
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.special as tsp
        >>> tsp.logsumexp(np.array([[0.0, 0.0], [1000.0, 1000.0]]), axis=1, keepdims=True) - np.log(2.0)
        array([[   0.],
               [1000.]])
    """
    if return_sign:
        raise UnsupportedError("logsumexp: return_sign=True is not supported")
    x = as_node(a)
    if b is not None:
        if isinstance(b, NODE_TYPES) or np.any(np.asarray(b) < 0):
            raise UnsupportedError(
                "logsumexp: b must be a constant with no negative entry (a negative sum needs return_sign)"
            )
        x = arithmetic.add(x, call("log", as_node(b)))
    axes = normalize_axes(axis, x.ndim)
    result = general("logsumexp", x, axes)
    return expand_dims(result, axes) if keepdims and axes else result


@eager
@shared
def softmax(x: object, axis: Axes = None) -> Node:
    """``scipy.special.softmax``: over all axes by default (scipy's default, unlike
    :func:`tensorad.softmax`'s last axis).

    Args:
        x: {a}
        axis: the axis, or axes, normalised over; ``None`` for all.

    Returns:
        Positive entries of ``x``'s shape summing to 1 over ``axis``: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.special as tsp
        >>> tsp.softmax(np.log(np.array([[1.0, 1.0], [1.0, 1.0]])))
        array([[0.25, 0.25],
               [0.25, 0.25]])
    """
    return general("softmax", x, axis)


@eager
@shared
def log_softmax(x: object, axis: Axes = None) -> Node:
    """``scipy.special.log_softmax``: over all axes by default, as scipy.

    Args:
        x: {a}
        axis: the axis, or axes, normalised over; ``None`` for all.

    Returns:
        ``x - logsumexp(x, axis, keepdims=True)``, of ``x``'s shape: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.special as tsp
        >>> tsp.log_softmax(np.zeros(2))
        array([-0.69314718, -0.69314718])
    """
    return general("log_softmax", x, axis)
