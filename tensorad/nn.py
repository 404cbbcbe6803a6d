"""``tensorad.nn``: the activation functions of ``jax.nn``, under its names and arguments,
on traced values and on arrays alike.

Each is built from tensorad's functions, so its derivative is theirs; at a kink the
derivative is JAX's: ``relu'(0) = 0``, ``relu6'(0) = relu6'(6) = 0``,
``leaky_relu'(0) = 1``, ``elu'(0) = alpha`` (the selections are ``where``, whose
derivative follows the branch taken).

>>> import numpy as np, tensorad as ta
>>> ta.grad(lambda x: ta.nn.relu6(x).sum())(np.array([-1.0, 0.0, 3.0, 6.0, 7.0]))
array([0., 0., 1., 0., 0.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tensorad.ir.build import astype
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.numpy import arithmetic
from tensorad.numpy.eager import eager
from tensorad.numpy.functions import log_softmax, logsumexp, softmax
from tensorad.numpy.phrases import shared
from tensorad.numpy.ufuncs import erf, relu, sigmoid, softplus, tanh

__all__ = [
    "elu",
    "gelu",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "one_hot",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
]


@eager
@shared
def relu6(x: object) -> Node:
    """``min(max(x, 0), 6)``, as ``jax.nn.relu6``: derivative 1 on ``0 < x < 6``, else 0.

    Args:
        x: {activation_x}

    Returns:
        ``relu6(x)`` {entrywise}: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.relu6(np.array([-1.0, 3.0, 8.0]))
        array([0., 3., 6.])
    """
    a = arithmetic.counts(as_node(x))
    return arithmetic.where(arithmetic.compare("greater_equal", a, 6.0), 6.0, arithmetic.relu(a))


@eager
@shared
def leaky_relu(x: object, negative_slope: float = 1e-2) -> Node:
    """``x`` where ``x ≥ 0``, else ``negative_slope · x``, as ``jax.nn.leaky_relu``
    (derivative 1 at 0).

    Args:
        x: {activation_x}
        negative_slope: the slope for negative ``x`` (JAX's default, 0.01).

    Returns:
        ``leaky_relu(x)`` {entrywise}: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.5)
        array([-1.,  3.])
    """
    a = arithmetic.counts(as_node(x))
    return arithmetic.where(arithmetic.compare("greater_equal", a, 0.0), a, arithmetic.multiply(negative_slope, a))


@eager
@shared
def elu(x: object, alpha: float = 1.0) -> Node:
    """``x`` where ``x > 0``, else ``alpha (eˣ − 1)``, as ``jax.nn.elu`` (derivative
    ``alpha`` at 0; ``expm1`` sees only the non-positive entries, so a large ``x`` gives
    no overflow in the branch not taken).

    Args:
        x: {activation_x}
        alpha: the limit of ``elu(x)`` as ``x → −∞`` is ``−alpha``.

    Returns:
        ``elu(x)`` {entrywise}: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.elu(np.array([-1.0, 2.0]))
        array([-0.63212056,  2.        ])
    """
    a = arithmetic.counts(as_node(x))
    positive = arithmetic.compare("greater", a, 0.0)
    from tensorad.numpy.ufuncs import expm1

    return arithmetic.where(positive, a, arithmetic.multiply(alpha, expm1(arithmetic.where(positive, 0.0, a))))


@eager
@shared
def silu(x: object) -> Node:
    """``x · σ(x)``, as ``jax.nn.silu`` (also ``swish``).

    Args:
        x: {activation_x}

    Returns:
        ``x · σ(x)`` {entrywise}: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.silu(np.array([0.0, 1.0]))
        array([0.        , 0.73105858])
    """
    a = arithmetic.counts(as_node(x))
    return arithmetic.multiply(a, sigmoid(a))


swish = silu


@eager
@shared
def log_sigmoid(x: object) -> Node:
    """``log σ(x) = −softplus(−x)``, as ``jax.nn.log_sigmoid``: finite for every finite ``x``.

    Args:
        x: {activation_x}

    Returns:
        ``log σ(x)`` {entrywise}, never positive: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.log_sigmoid(np.array([-1000.0, 0.0]))
        array([-1.00000000e+03, -6.93147181e-01])
    """
    a = arithmetic.counts(as_node(x))
    return arithmetic.multiply(-1.0, softplus(arithmetic.multiply(-1.0, a)))


@eager
@shared
def softsign(x: object) -> Node:
    """``x / (|x| + 1)``, as ``jax.nn.softsign``.

    Args:
        x: {activation_x}

    Returns:
        ``x / (|x| + 1)`` {entrywise}, in ``(−1, 1)``: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.softsign(np.array([-1.0, 3.0]))
        array([-0.5 ,  0.75])
    """
    a = arithmetic.counts(as_node(x))
    from tensorad.numpy.ufuncs import abs as absolute

    return arithmetic.divide(a, arithmetic.add(absolute(a), 1.0))


@eager
@shared
def gelu(x: object, approximate: bool = True) -> Node:
    """The Gaussian error linear unit, as ``jax.nn.gelu``: with ``approximate`` (JAX's
    default) ``x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))``, else ``x/2 · (1 + erf(x/√2))``.

    Args:
        x: {activation_x}
        approximate: the tanh form (``True``, JAX's default) or the exact erf form.

    Returns:
        ``gelu(x)`` {entrywise}: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.gelu(np.array([1.0]), approximate=False)
        array([0.84134475])
    """
    a = arithmetic.counts(as_node(x))
    if approximate:
        cube = arithmetic.power(a, 3)
        inner = arithmetic.multiply(math.sqrt(2 / math.pi), arithmetic.add(a, arithmetic.multiply(0.044715, cube)))
        shape = tanh(inner)
    else:
        shape = erf(arithmetic.multiply(a, 1 / math.sqrt(2)))
    return arithmetic.multiply(arithmetic.multiply(0.5, a), arithmetic.add(1.0, shape))


@eager
@shared
def one_hot(x: object, num_classes: int, *, dtype: Any = np.float64, axis: int = -1) -> Node:
    """``jax.nn.one_hot``: 1 where ``x`` equals the class, along a new ``axis`` of size
    ``num_classes``; an ``x`` outside ``[0, num_classes)`` gives a row of zeros. A
    comparison, so its derivative is zero; it takes traced values too.

    Args:
        x: the class of each entry: an array or expression of integers (or of floats
            equal to integers).
        num_classes: the size of the new axis.
        dtype: the result's dtype (default float64; JAX's default float is float32 unless x64 is on).
        axis: where the new axis goes in the result (negative from the end).

    Returns:
        ``x``'s shape with the new axis: {tensor}.

    Raises:
        ShapeError: ``axis`` is out of range.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.nn.one_hot(np.array([2, 0, 5]), 3)
        array([[0., 0., 1.],
               [1., 0., 0.],
               [0., 0., 0.]])
    """
    from tensorad.numpy.axes import expand_dims, normalize_axes

    a = as_node(x)
    (position,) = normalize_axes(axis, a.ndim + 1)
    classes = np.arange(num_classes).reshape([-1 if k == position else 1 for k in range(a.ndim + 1)])
    mask = arithmetic.compare("equal", expand_dims(a, position), classes)
    return astype(mask, np.dtype(dtype))
