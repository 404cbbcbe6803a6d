"""numpy-named functions for use inside differentiated code (and on plain arrays).

Each works on expressions while tracing and on numpy arrays directly, where it returns
an array (``tensorad.exp(np.zeros(2))`` is ``array([1., 1.])``).

>>> import numpy as np, tensorad as ta
>>> ta.einsum("ij,j->i", np.eye(2), np.array([3.0, 4.0]))
array([3., 4.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, call
from tensorad.numpy import arithmetic, axes, products
from tensorad.numpy.axes import Axes, normalize_axes
from tensorad.numpy.eager import eager


def elementwise(name: str, x: object, param: float | None = None) -> Node:
    """``name(x)`` for an elementwise function of the registry."""
    return call(name, as_node(x), param)


def general(name: str, x: object, axis: Axes = None) -> Node:
    """``name(x)`` for a general unary function that takes an ``axis`` argument."""
    a = as_node(x)
    return apply(name, a, (normalize_axes(axis, a.ndim),))


def _unary(name: str) -> Callable[[object], Any]:
    def function(x: object) -> Node:
        return elementwise(name, x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"""``{name}(x)`` entry by entry.

    Its derivative is an expression (see :mod:`tensorad.library.elementwise`), so it differentiates
    again; :func:`tensorad.testing.check_grads` confirms the first two orders here.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.testing import check_grads
        >>> x = np.array([0.3, 0.6])
        >>> ta.{name}(x).shape, ta.grad(lambda x: ta.sum(ta.{name}(x)))(x).shape
        ((2,), (2,))
        >>> check_grads(ta.{name}, (x,))
    """
    return eager(function)


def _apply(name: str, x: object) -> Node:
    return apply(name, as_node(x))


einsum = eager(products.einsum)
matmul = eager(products.matmul)
dot = eager(products.dot)
outer = eager(products.outer)
add = eager(arithmetic.add)
subtract = eager(arithmetic.subtract)
multiply = eager(arithmetic.multiply)
divide = eager(arithmetic.divide)
power = eager(arithmetic.power)
sum = eager(axes.sum)  # noqa: A001
mean = eager(axes.mean)
transpose = eager(axes.transpose)
trace = eager(axes.trace)
diagonal = eager(axes.diagonal)
reshape = eager(axes.reshape)
squeeze = eager(axes.squeeze)
expand_dims = eager(axes.expand_dims)

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
    """Matrix inverse over the last two axes; ``d inv(X) = −X⁻¹ dX X⁻¹``.

    The derivative is applied as two matrix products, never as an ``n⁴`` tensor.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
        >>> X = ta.Variable("X", (3, 3))
        >>> print(ta.derivative(ta.inv(X), X))
        -inv(X)[i,k]*inv(X)[l,j]
    """
    return _apply("inv", x)


@eager
def det(x: object) -> Node:
    """Determinant over the last two axes; ``∂ det X = det(X) X⁻ᵀ``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.det(np.array([[2.0, 0.0], [0.0, 3.0]]))
        array(6.)
        >>> X = ta.Variable("X", (3, 3))
        >>> print(ta.derivative(ta.det(X), X))
        inv(X)[j,i]*det(X)
    """
    return _apply("det", x)


@eager
def logdet(x: object) -> Node:
    """``log |det X|`` over the last two axes; ``∂ logdet X = X⁻ᵀ``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.logdet(np.array([[-2.0, 0.0], [0.0, 0.5]]))       # log |−1|
        array(0.)
        >>> ta.grad(ta.logdet)(np.array([[2.0, 0.0], [1.0, 4.0]]))
        array([[ 0.5  , -0.125],
               [ 0.   ,  0.25 ]])
    """
    return _apply("logdet", x)


@eager
def softmax(x: object, axis: Axes = -1) -> Node:
    """``exp(x) / sum(exp(x), axis)``, computed stably.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.softmax(np.array([0.0, np.log(3.0)]))
        array([0.25, 0.75])
        >>> ta.softmax(np.array([[1000.0, 1000.0], [0.0, 0.0]]), axis=0)
        array([[1., 1.],
               [0., 0.]])
        >>> z = ta.Variable("z", (3,))
        >>> print(ta.derivative(ta.softmax(z), z))
        softmax(z, axis=0)[i]*delta[i,j] - softmax(z, axis=0)[i]*softmax(z, axis=0)[j]
    """
    return general("softmax", x, axis)


@eager
def log_softmax(x: object, axis: Axes = -1) -> Node:
    """``x - logsumexp(x, axis)``: the log of :func:`softmax`, finite where softmax underflows.

    ``ta.log(ta.softmax(z))`` on a traced ``z`` builds this function too (on arrays, each
    call evaluates at once, so call ``log_softmax`` itself).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.log_softmax(np.array([0.0, -800.0]))
        array([   0., -800.])
        >>> ta.grad(lambda z: -ta.log(ta.softmax(z))[0])(np.array([0.0, -800.0]))
        array([0., 0.])
        >>> z = ta.Variable("z", (3,))
        >>> ta.log(ta.softmax(z)) is ta.log_softmax(z)
        True
    """
    return general("log_softmax", x, axis)


@eager
def logsumexp(x: object, axis: Axes = None) -> Node:
    """``log(sum(exp(x), axis))``, computed stably.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.logsumexp(np.array([1000.0, 1000.0]))           # 1000 + log 2, no overflow
        array(1000.69314718)
        >>> ta.logsumexp(np.zeros((2, 3)), axis=1)
        array([1.09861229, 1.09861229])
        >>> z = ta.Variable("z", (3,))
        >>> print(ta.derivative(ta.logsumexp(z), z))
        softmax(z, axis=0)[i]
    """
    return general("logsumexp", x, axis)


@eager
def norm(x: object, axis: Axes = None) -> Node:
    """The 2-norm ``sqrt(sum(x², axis))`` (Frobenius for matrices with ``axis=None``).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.norm(np.array([3.0, 4.0]))
        array(5.)
        >>> ta.norm(np.array([[3.0, 4.0], [6.0, 8.0]]), axis=1)
        array([ 5., 10.])
        >>> ta.grad(ta.norm)(np.array([3.0, 4.0]))
        array([0.6, 0.8])
    """
    return general("norm", x, axis)
