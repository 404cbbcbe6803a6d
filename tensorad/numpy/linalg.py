"""``tensorad.numpy.linalg``: numpy's linear algebra on traced values and arrays.

Each function works over the last two axes, batched over the leading ones, as numpy's
do; the derivative rules are matrix products, never an ``n⁴`` Jacobian
(:mod:`tensorad.library.linalg`).

>>> import numpy as np
>>> import tensorad.numpy as tnp
>>> tnp.linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 0.5]]))
SlogdetResult(sign=array(-1.), logabsdet=array(0.))
"""

from __future__ import annotations

from typing import Any, NamedTuple

from tensorad.errors import UnsupportedError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import apply, call
from tensorad.numpy.axes import Axes, expand_dims, normalize_axes
from tensorad.numpy.eager import eager, values
from tensorad.numpy.functions import det, inv

__all__ = ["SlogdetResult", "det", "inv", "norm", "slogdet"]


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)``, as ``numpy.linalg.slogdet`` returns them."""

    sign: Any
    logabsdet: Any


def slogdet(a: object) -> SlogdetResult:
    """``numpy.linalg.slogdet``: the sign of the determinant (no derivative) and ``log|det|``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> ta.grad(lambda X: tnp.linalg.slogdet(X)[1])(np.array([[2.0, 0.0], [1.0, 4.0]]))
        array([[ 0.5  , -0.125],
               [ 0.   ,  0.25 ]])
    """
    x = as_node(a)
    parts = [call("sign", apply("det", x)), apply("logdet", x)]
    return SlogdetResult(*(parts if isinstance(a, NODE_TYPES) else values(parts)))


@eager
def norm(x: object, ord: object = None, axis: Axes = None, keepdims: bool = False) -> Node:  # noqa: A002
    """``numpy.linalg.norm`` for ``ord=None``: the 2-norm of a vector, the Frobenius norm of
    a matrix (or of the axes given); other orders arrive with the linear-algebra library.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.norm(np.array([[3.0, 4.0], [6.0, 8.0]]), axis=1, keepdims=True)
        array([[ 5.],
               [10.]])
    """
    if ord is not None and ord != "fro":
        raise UnsupportedError(f"linalg.norm: ord={ord!r} is not supported yet; ord=None (the 2-norm) is")
    a = as_node(x)
    axes = normalize_axes(axis, a.ndim)
    if ord == "fro" and len(axes) != 2:
        raise UnsupportedError(f"linalg.norm: ord='fro' is a matrix norm; got {len(axes)} axes (as numpy, refused)")
    result = apply("norm", a, (axes,))
    return expand_dims(result, axes) if keepdims and axes else result
