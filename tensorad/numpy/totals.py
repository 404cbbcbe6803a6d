"""Reductions of the entries along axes: ``sum``, ``mean``, ``max``, ``min``, ``prod``, with numpy's arguments.

``sum`` and ``mean`` are unary contractions (they dissolve into the products around
them); ``max`` and ``min`` are general unary functions whose derivative goes to the
extremum, split equally among ties as in JAX (:mod:`tensorad.library.reductions`);
``prod`` is a tree of entrywise products. :mod:`tensorad.numpy.reductions` builds the
statistics, running sums and positions on these five (and exports them too).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from tensorad._types import DTypeArg
from tensorad.errors import OperandTypeError, UnsupportedError
from tensorad.ir import constants
from tensorad.ir.build import broadcast_to, contract
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import apply
from tensorad.numpy.arithmetic import add, compare, counts, divide, multiply
from tensorad.numpy.arithmetic import where as where_
from tensorad.numpy.axes import Axes, expand_dims, normalize_axes, transpose
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.indexing import pad
from tensorad.numpy.phrases import shared


@shared
def sum(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.sum`` over ``axis`` (all axes by default).

    ``initial`` is added to each sum and ``where`` (a mask) leaves entries out, as in numpy.

    Args:
        a: {a}
        axis: {axes}
        dtype: {dtype}
        out: {out}
        keepdims: {keepdims}
        initial: {initial}
        where: {where}

    Returns:
        The sums, of ``a``'s shape without the summed axes: {tensor}. A unary
        contraction, so a sum of a product stays one product.

    Raises:
        ShapeError: {axis_error}
        OperandTypeError: ``where`` is not a boolean mask.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> M = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.sum(M), ta.sum(M, axis=0), ta.sum(M, axis=1, keepdims=True).shape
        (array(10.), array([4., 6.]), (2, 1))
        >>> ta.sum(M, where=M > 1.5, initial=10.0)
        array(19.)
        >>> print(ta.sum(ta.Variable("x", (2, 3)), axis=0))
        sum_j(x[j,i])
    """
    x = _entries("sum", a, dtype, out, where, 0.0)
    axes = normalize_axes(axis, x.ndim)
    labels = fresh_labels(x.ndim)
    if not keepdims:
        total = contract(x, labels, None, "", "".join(label for k, label in enumerate(labels) if k not in axes))
    else:
        ones = fresh_labels(x.ndim, labels)
        kept = "".join(ones[k] if k in axes else label for k, label in enumerate(labels))
        total = contract(x, labels, None, "", kept, sizes=dict.fromkeys(ones, 1))
    return total if initial is None else add(total, initial)


@shared
def mean(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: object = None,
) -> Node:
    """``numpy.mean`` over ``axis``; with ``where``, the mean of the entries it keeps.

    Args:
        a: {a}
        axis: {axes}
        dtype: {dtype}
        out: {out}
        keepdims: {keepdims}
        where: {where}

    Returns:
        The sums divided by the counts (as numpy, so a mean of nothing is nan), of ``a``'s
        shape without the averaged axes: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.mean(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([1.5, 3.5])
        >>> ta.grad(ta.mean)(np.zeros(4))
        array([0.25, 0.25, 0.25, 0.25])
    """
    refuse("mean", out)
    x = counts(cast(as_node(a), dtype))
    if where is not None:
        kept = _mask("mean", where)
        ones = broadcast_to(scalar(1.0, x.dtype), x.shape)
        return divide(sum(x, axis, keepdims=keepdims, where=kept), sum(ones, axis, keepdims=keepdims, where=kept))
    count = math.prod(x.shape[k] for k in normalize_axes(axis, x.ndim))
    return divide(sum(x, axis, keepdims=keepdims), float(count))  # numpy divides the sum


average = mean  # for var, whose parameter ``mean`` (numpy's) hides the function


def _extreme(name: str, a: object, axis: Axes, out: None, keepdims: bool, initial: float | None, where: object) -> Node:
    refuse(name, out)
    x = counts(as_node(a))
    if where is not None:
        if initial is None:
            raise UnsupportedError(f"{name} with where= needs initial= (as in numpy)")
        x = where_(_mask(name, where), x, initial)
    axes = normalize_axes(axis, x.ndim)
    if builtins.any(x.shape[k] == 0 for k in axes):
        if initial is None:
            raise UnsupportedError(f"{name} of an empty axis has no value: pass initial= (as in numpy)")
        kept = tuple(n for k, n in enumerate(x.shape) if k not in axes)
        result = broadcast_to(scalar(float(initial), x.dtype), kept)  # numpy: initial, no derivative
    else:
        result = apply(name, x, (axes,)) if axes else x
        if initial is not None:
            # initial where it beats the result; the result where it ties, or is nan (as numpy)
            bound = broadcast_to(scalar(float(initial), result.dtype), result.shape)
            beaten = compare("less" if name == "max" else "greater", result, bound)
            result = where_(beaten, bound, result)
    return expand_dims(result, axes) if keepdims and axes else result


def _entries(name: str, a: object, dtype: DTypeArg, out: None, where: object, neutral: float) -> Node:
    """What a sum or product reduces: ``a`` in ``dtype`` (a mask counts: float64, where
    numpy's sum gives int64), the entries ``where`` leaves out set to ``neutral`` (selected,
    never multiplied: an excluded inf stays out)."""
    refuse(name, out)
    x = counts(cast(as_node(a), dtype))
    return x if where is None else where_(_mask(name, where), x, neutral)


def _mask(name: str, where: object) -> Node:
    """numpy's ``where=`` argument: a boolean mask (numpy refuses anything else)."""
    mask = where if isinstance(where, NODE_TYPES) else constants.constant(np.asarray(where))
    if mask.dtype.kind != "b":
        raise OperandTypeError(f"{name}: where= must be a boolean mask, got dtype {mask.dtype}")
    return mask


@shared
def max(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.max`` over ``axis`` (all axes by default).

    The derivative goes to the maximal entry, split equally among ties (as in JAX).

    Args:
        a: {a}
        axis: {axes}
        out: {out}
        keepdims: {keepdims}
        initial: a lower bound of the result, needed (as in numpy) with ``where`` or an empty axis.
        where: {where}

    Returns:
        The maxima, of ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        ShapeError: {axis_error}
        UnsupportedError: an empty axis, or ``where``, without ``initial``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.max(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
        array([5., 7.])
        >>> ta.grad(lambda x: ta.max(x))(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
    """
    return _extreme("max", a, axis, out, keepdims, initial, where)


@shared
def min(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.min`` over ``axis`` (all axes by default); the derivative as for :func:`max`.

    Args:
        a: {a}
        axis: {axes}
        out: {out}
        keepdims: {keepdims}
        initial: an upper bound of the result, needed (as in numpy) with ``where`` or an empty axis.
        where: {where}

    Returns:
        The minima, of ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        ShapeError: {axis_error}
        UnsupportedError: an empty axis, or ``where``, without ``initial``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.min(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=0, keepdims=True)
        array([[1., 2.]])
    """
    return _extreme("min", a, axis, out, keepdims, initial, where)


@shared
def prod(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.prod`` over ``axis`` (all axes by default).

    Built as a balanced tree of entrywise products of halves (an odd length padded with
    a 1), so every derivative, to any order, is the product rule's: exact at zeros, where
    dividing the product by an entry would give ``0/0``.

    Args:
        a: {a}
        axis: {axes}
        dtype: {dtype}
        out: {out}
        keepdims: {keepdims}
        initial: {initial} It multiplies each product.
        where: {where}

    Returns:
        The products (1 over an empty axis), of ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.prod(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), axis=1)
        array([  6., 120.])
        >>> ta.grad(tnp.prod)(np.array([2.0, 0.0, 3.0]))     # the product of the others
        array([0., 6., 0.])
    """
    x = _entries("prod", a, dtype, out, where, 1.0)
    axes = normalize_axes(axis, x.ndim)
    kept = [k for k in range(x.ndim) if k not in axes]
    rest = tuple(x.shape[k] for k in kept)
    n = math.prod(x.shape[k] for k in axes)
    rows = apply("reshape", transpose(x, kept + list(axes)), ((*rest, n),))
    while n > 1:
        if n % 2:
            rows = pad(rows, [(0, 0)] * len(rest) + [(0, 1)], constant_values=1.0)
            n += 1
        pairs = apply("reshape", rows, ((*rest, n // 2, 2),))
        rows = multiply(pairs[..., 0], pairs[..., 1])
        n //= 2
    result = rows[..., 0] if n == 1 else broadcast_to(scalar(1.0, x.dtype), rest)  # an empty product is 1
    if initial is not None:
        result = multiply(result, initial)
    return expand_dims(result, axes) if keepdims and axes else result
