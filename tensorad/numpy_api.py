"""numpy-named functions for use inside differentiated code (and on plain arrays).

Each works on expressions while tracing and on numpy arrays directly, where it returns
an array (``tensorad.exp(np.zeros(2))`` is ``array([1., 1.])``).

>>> import numpy as np, tensorad as ta
>>> ta.einsum("ij,j->i", np.eye(2), np.array([3.0, 4.0]))
array([3., 4.])
"""

from __future__ import annotations

from typing import Any

from tensorad import functions, ops
from tensorad.api import eager
from tensorad.expr import Node
from tensorad.ops import Axes


def _unary(name: str) -> Any:
    def function(x: object) -> Node:
        return ops.elementwise(name, x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(x)`` entry by entry."
    return eager(function)


def _apply(name: str, x: object) -> Node:
    return functions.apply(name, ops.as_node(x))


einsum = eager(ops.einsum)
matmul = eager(ops.matmul)
dot = eager(ops.dot)
outer = eager(ops.outer)
add = eager(ops.add)
subtract = eager(ops.subtract)
multiply = eager(ops.multiply)
divide = eager(ops.divide)
power = eager(ops.power)
sum = eager(ops.sum)  # noqa: A001
mean = eager(ops.mean)
transpose = eager(ops.transpose)
trace = eager(ops.trace)
diagonal = eager(ops.diagonal)
reshape = eager(ops.reshape)
squeeze = eager(ops.squeeze)
expand_dims = eager(ops.expand_dims)

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
sigmoid = _unary("sigmoid")
softplus = _unary("softplus")
sqrt = _unary("sqrt")
square = _unary("square")
reciprocal = _unary("reciprocal")
abs = _unary("abs")  # noqa: A001
sign = _unary("sign")
erf = _unary("erf")


@eager
def inv(x: object) -> Node:
    """Matrix inverse over the last two axes; ``d inv(X) = −X⁻¹ dX X⁻¹``."""
    return _apply("inv", x)


@eager
def det(x: object) -> Node:
    """Determinant over the last two axes; ``∂ det X = det(X) X⁻ᵀ``."""
    return _apply("det", x)


@eager
def logdet(x: object) -> Node:
    """``log |det X|`` over the last two axes; ``∂ logdet X = X⁻ᵀ``."""
    return _apply("logdet", x)


@eager
def softmax(x: object, axis: Axes = -1) -> Node:
    """``exp(x) / sum(exp(x), axis)``, computed stably."""
    return ops.general("softmax", x, axis)


@eager
def logsumexp(x: object, axis: Axes = None) -> Node:
    """``log(sum(exp(x), axis))``, computed stably."""
    return ops.general("logsumexp", x, axis)


@eager
def norm(x: object, axis: Axes = None) -> Node:
    """The 2-norm ``sqrt(sum(x², axis))`` (Frobenius for matrices with ``axis=None``)."""
    return ops.general("norm", x, axis)
