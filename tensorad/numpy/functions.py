"""numpy's routines on traced values and arrays, and tensorad's own functions beside them.

Each works on expressions while tracing and on numpy arrays directly, where it returns
an array (``tensorad.exp(np.zeros(2))`` is ``array([1., 1.])``). The functions numpy
has keep numpy's names and arguments (:mod:`tensorad.numpy` lists them); ``inv``,
``det``, ``logdet``, ``softmax``, ``log_softmax``, ``logsumexp`` and ``norm`` are
tensorad's (numpy's and scipy's places for them are :mod:`tensorad.numpy.linalg` and
:mod:`tensorad.scipy.special`).

>>> import numpy as np, tensorad as ta
>>> ta.einsum("ij,j->i", np.eye(2), np.array([3.0, 4.0]))
array([3., 4.])
"""

from __future__ import annotations

from collections.abc import Sequence

from tensorad.errors import OperandTypeError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply
from tensorad.numpy import arithmetic, axes, creation, indexing, joins, products, reductions
from tensorad.numpy.axes import Axes, normalize_axes
from tensorad.numpy.eager import eager, refuse


def general(name: str, x: object, axis: Axes = None) -> Node:
    """``name(x)`` for a general unary function that takes an ``axis`` argument."""
    a = as_node(x)
    return apply(name, a, (normalize_axes(axis, a.ndim),))


def _apply(name: str, x: object) -> Node:
    return apply(name, as_node(x))


einsum = eager(products.einsum)
dot = eager(products.dot)
inner = eager(products.inner)
outer = eager(products.outer)
vdot = eager(products.vdot)
tensordot = eager(products.tensordot)
sum = eager(reductions.sum)  # noqa: A001  (numpy's name)
mean = eager(reductions.mean)
max = eager(reductions.max)  # noqa: A001
min = eager(reductions.min)  # noqa: A001
amax, amin = max, min
prod = eager(reductions.prod)
var = eager(reductions.var)
std = eager(reductions.std)
cumsum = eager(reductions.cumsum)
cumprod = eager(reductions.cumprod)
argmax = eager(reductions.argmax)
argmin = eager(reductions.argmin)
any = eager(reductions.any)  # noqa: A001
all = eager(reductions.all)  # noqa: A001
count_nonzero = eager(reductions.count_nonzero)


@eager
def clip(a: object, a_min: object = None, a_max: object = None, out: None = None) -> Node:
    """``numpy.clip``: ``a`` limited to ``[a_min, a_max]`` (either may be ``None``), as
    ``minimum(maximum(a, a_min), a_max)``: the derivative is 1 inside, 0 outside, ½ on a
    bound (JAX's ``clip``, whose ``maximum`` and ``minimum`` split ties).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.clip(np.array([-2.0, 0.5, 3.0]), -1.0, 1.0)
        array([-1. ,  0.5,  1. ])
    """
    refuse("clip", out)
    return arithmetic.clip(a, a_min, a_max)


transpose = eager(axes.transpose)
swapaxes = eager(axes.swapaxes)
moveaxis = eager(axes.moveaxis)
trace = eager(axes.trace)
diagonal = eager(axes.diagonal)


@eager
def reshape(
    a: object,
    /,
    shape: int | Sequence[int] | None = None,
    order: str = "C",
    *,
    newshape: int | Sequence[int] | None = None,
    copy: bool | None = None,
) -> Node:
    """``numpy.reshape(a, shape, order="C")`` (numpy 2's signature; ``newshape`` is its old
    name, and ``copy`` changes nothing: tensorad values are never shared mutably).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.reshape(np.arange(6.0), shape=(3, 2), order="F")
        array([[0., 3.],
               [1., 4.],
               [2., 5.]])
    """
    target = shape if shape is not None else newshape
    if target is None:
        raise OperandTypeError("reshape needs a shape")
    return axes.reshape(a, target, order=order)


ravel = eager(axes.ravel)
squeeze = eager(axes.squeeze)
expand_dims = eager(axes.expand_dims)
getitem = eager(indexing.getitem)
pad = eager(indexing.pad)
take = eager(indexing.take)
concatenate = eager(joins.concatenate)
stack = eager(joins.stack)
hstack = eager(joins.hstack)
vstack = eager(joins.vstack)
split = eager(joins.split)
broadcast_to = eager(joins.broadcast_to)
tile = eager(joins.tile)
repeat = eager(joins.repeat)
roll = eager(joins.roll)
diag = eager(joins.diag)
tril = eager(joins.tril)
triu = eager(joins.triu)
atleast_1d = eager(joins.atleast_1d)
atleast_2d = eager(joins.atleast_2d)
atleast_3d = eager(joins.atleast_3d)
flip = eager(joins.flip)
take_along_axis = eager(indexing.take_along_axis)
asarray = eager(creation.asarray)
array = eager(creation.array)
copy = eager(creation.copy)
zeros_like = eager(creation.zeros_like)
ones_like = eager(creation.ones_like)
full_like = eager(creation.full_like)


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
        softmax(z[i], i)*delta[i,j] - softmax(z[i], i)*softmax(z[j], j)
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
        softmax(z[i], i)
    """
    return general("logsumexp", x, axis)


@eager
def norm(x: object, axis: Axes = None) -> Node:
    """The 2-norm ``sqrt(sum(|x|², axis))`` (Frobenius for matrices with ``axis=None``);
    real for complex ``x``, whose derivative it refuses (``|z|`` is not holomorphic).

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
