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
from tensorad.numpy.phrases import shared


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
@shared
def clip(a: object, a_min: object = None, a_max: object = None, out: None = None) -> Node:
    """``numpy.clip``: ``a`` limited to ``[a_min, a_max]`` (either may be ``None``), as
    ``minimum(maximum(a, a_min), a_max)``: the derivative is 1 inside, 0 outside, ½ on a
    bound (JAX's ``clip``, whose ``maximum`` and ``minimum`` split ties).

    Args:
        a: {a}
        a_min: the lower bound, broadcast against ``a``; ``None`` for none.
        a_max: the upper bound, likewise.
        out: {out}

    Returns:
        ``a`` clipped, of the broadcast shape: {tensor}.

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
@shared
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

    Args:
        a: {a}
        shape: the new shape, with as many entries as ``a``; one entry may be ``-1``,
            inferred from the others.
        order: ``"C"`` (last index fastest) or ``"F"`` (first index fastest).
        newshape: numpy 1's name for ``shape``; give one of them.
        copy: numpy 2's copy flag: accepted and ignored.

    Returns:
        ``a``'s entries in the new shape: {tensor}.

    Raises:
        OperandTypeError: neither ``shape`` nor ``newshape`` is given.
        ShapeError: the sizes do not match, or more than one ``-1``.
        UnsupportedError: ``order`` is not ``"C"`` or ``"F"``.

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
@shared
def inv(x: object) -> Node:
    """Matrix inverse over the last two axes; ``d inv(X) = −X⁻¹ dX X⁻¹``.

    The derivative is applied as two matrix products, never as an ``n⁴`` tensor.

    Args:
        x: {a} A square matrix, or a stack of them (the last two axes).

    Returns:
        The inverses, of ``x``'s shape: {tensor}.

    Raises:
        ShapeError: the last two axes are not square.
        tensorad.errors.LinAlgError: a matrix is singular (numpy's ``LinAlgError``, which
            it subclasses), when evaluated.

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
@shared
def det(x: object) -> Node:
    """Determinant over the last two axes; ``∂ det X = det(X) X⁻ᵀ``.

    Args:
        x: {a} A square matrix, or a stack of them (the last two axes).

    Returns:
        The determinants, of ``x``'s shape without the last two axes: {tensor}.

    Raises:
        ShapeError: the last two axes are not square.

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
@shared
def logdet(x: object) -> Node:
    """``log |det X|`` over the last two axes; ``∂ logdet X = X⁻ᵀ``.

    Args:
        x: {a} A square matrix, or a stack of them (the last two axes).

    Returns:
        ``log |det x|`` (``-inf`` for a singular matrix), of ``x``'s shape without the last
        two axes: {tensor}. numpy's ``slogdet`` gives the sign as well.

    Raises:
        ShapeError: the last two axes are not square.

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
@shared
def softmax(x: object, axis: Axes = -1) -> Node:
    """``exp(x) / sum(exp(x), axis)``, computed stably.

    Args:
        x: {a}
        axis: the axis, or axes, normalised over (default: the last; ``None``: all).

    Returns:
        Positive entries of ``x``'s shape summing to 1 along ``axis``: {tensor}.

    Raises:
        ShapeError: {axis_error}

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
@shared
def log_softmax(x: object, axis: Axes = -1) -> Node:
    """``x - logsumexp(x, axis)``: the log of :func:`softmax`, finite where softmax underflows.

    Args:
        x: {a}
        axis: the axis, or axes, normalised over (default: the last; ``None``: all).

    Returns:
        The log-probabilities, of ``x``'s shape: {tensor}.

    Raises:
        ShapeError: {axis_error}

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
@shared
def logsumexp(x: object, axis: Axes = None) -> Node:
    """``log(sum(exp(x), axis))``, computed stably.

    Args:
        x: {a}
        axis: {axes}

    Returns:
        ``x``'s shape without the reduced axes: {tensor}. Its gradient is :func:`softmax`.

    Raises:
        ShapeError: {axis_error}

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
@shared
def norm(x: object, axis: Axes = None) -> Node:
    """The 2-norm ``sqrt(sum(|x|², axis))`` (Frobenius for matrices with ``axis=None``);
    real for complex ``x``, whose derivative it refuses (``|z|`` is not holomorphic).

    Args:
        x: {a}
        axis: {axes}

    Returns:
        The real, non-negative norms, of ``x``'s shape without the reduced axes: {tensor}.
        (:func:`tensorad.numpy.linalg.norm` has numpy's ``ord`` and matrix norms.)

    Raises:
        ShapeError: {axis_error}
        UnsupportedError: a derivative of the norm of a complex ``x`` is asked for.

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
