"""Functions of axes: ``transpose``, ``sum``, ``mean``, ``trace``, ``diagonal``, reshaping.

Each is a unary contraction (a relabelling, a sum, a diagonal, a broadcast of size-1
axes) or the general unary ``reshape``, so each dissolves into the products around it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from tensorad._types import DTypeArg, Labels
from tensorad.errors import OperandTypeError, ShapeError, UnsupportedError
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import GeneralUnary, Node
from tensorad.library.registry import apply
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.indexing import getitem
from tensorad.numpy.phrases import shared

Axes = int | tuple[int, ...] | None
"""An ``axis`` argument: one axis, several, or ``None`` for all."""


def _integer(k: object, what: str) -> int:
    """``k`` as an int: Python and numpy integers (not booleans); else an error naming ``what``."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Integral, np.integer)):
        raise OperandTypeError(f"{what} must be integers, got {k!r} of type {type(k).__name__}")
    return int(k)


def _axis_list(axis: object) -> list[int]:
    if isinstance(axis, (numbers.Integral, np.integer)) and not isinstance(axis, (bool, np.bool_)):
        return [int(axis)]
    try:
        items = list(axis)  # type: ignore[call-overload]  # any iterable of integers
    except TypeError:
        raise OperandTypeError(f"axis must be an integer, a tuple of integers or None, got {axis!r}") from None
    return [_integer(k, "axes") for k in items]


def normalize_axes(axis: Axes, ndim: int) -> tuple[int, ...]:
    """``axis`` as sorted non-negative axes of an ``ndim``-dimensional array (all for ``None``).

    >>> import numpy as np
    >>> normalize_axes(np.int64(-1), 3), normalize_axes((0, 2), 3), normalize_axes(None, 2)
    ((2,), (0, 2), (0, 1))
    """
    if axis is None:
        return tuple(range(ndim))
    normalized = []
    for k in _axis_list(axis):
        if not -ndim <= k < ndim:
            raise ShapeError(f"axis {k} is out of bounds for an array of dimension {ndim}")
        normalized.append(k % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"repeated axis in {axis}")
    return tuple(sorted(normalized))


@shared
def transpose(x: object, axes: Sequence[int] | None = None) -> Node:
    """``numpy.transpose``: reverse the axes, or permute them by ``axes``.

    Args:
        x: {a}
        axes: a permutation of ``range(x.ndim)`` (negative axes count from the end): axis
            ``k`` of the result is axis ``axes[k]`` of ``x``; ``None`` reverses them.

    Returns:
        ``x`` with its axes permuted, a relabelling without a copy: {tensor}.

    Raises:
        ShapeError: ``axes`` is not a permutation of ``x``'s axes.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.transpose(np.array([[1.0, 2.0, 3.0]]))
        array([[1.],
               [2.],
               [3.]])
        >>> ta.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = as_node(x)
    labels = fresh_labels(a.ndim)
    order = range(a.ndim - 1, -1, -1) if axes is None else _axis_list(axes)
    if sorted(k % a.ndim if -a.ndim <= k < a.ndim else k for k in order) != list(range(a.ndim)):
        raise ShapeError(f"axes {tuple(axes or ())} are not a permutation of {a.ndim} axes")
    return contract(a, labels, None, "", "".join(labels[k % a.ndim] for k in order))


def _diagonal(x: object, offset: int, axis1: int, axis2: int) -> tuple[Node, Labels, Labels, str]:
    """``a[…, i, …, i + offset, …]`` as labels: the operand (cut square), its labels with
    ``axis1`` and ``axis2`` sharing one label, the other labels, and that label."""
    a = as_node(x)
    if a.ndim < 2:
        raise ShapeError(f"diagonal needs at least 2 dimensions, got shape {a.shape}")
    normalize_axes((axis1, axis2), a.ndim)  # validates: in range, distinct
    i, j = axis1 % a.ndim, axis2 % a.ndim
    start_i, start_j = max(-offset, 0), max(offset, 0)
    n = max(min(a.shape[i] - start_i, a.shape[j] - start_j), 0)
    cut: list[object] = [slice(None)] * a.ndim
    cut[i], cut[j] = slice(start_i, start_i + n), slice(start_j, start_j + n)
    if any(s != slice(0, m) for s, m in zip((cut[i], cut[j]), (a.shape[i], a.shape[j]), strict=True)):
        a = getitem(a, tuple(cut))
    labels = list(fresh_labels(a.ndim))
    labels[j] = labels[i]
    rest = "".join(label for k, label in enumerate(labels) if k not in (i, j))
    return a, "".join(labels), rest, labels[i]


@shared
def trace(
    a: object, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: DTypeArg = None, out: None = None
) -> Node:
    """``numpy.trace``: the sum of the diagonal of axes ``axis1``, ``axis2``.

    Args:
        a: {a} At least 2-d.
        offset: the diagonal's offset: positive above the main one, negative below.
        axis1: the first axis of the diagonal.
        axis2: the second.
        dtype: {dtype}
        out: {out}

    Returns:
        The sums over the diagonal, of ``a``'s shape without the two axes: {tensor}.

    Raises:
        ShapeError: ``a`` has fewer than 2 axes, or the two axes are out of range or equal.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> M = np.arange(9.0).reshape(3, 3)
        >>> ta.trace(M), ta.trace(M, offset=1)
        (array(12.), array(6.))
        >>> ta.grad(ta.trace)(M)                      # the identity, a diagonal embedding
        array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]])
    """
    refuse("trace", out)
    x, labels, rest, _ = _diagonal(cast(as_node(a), dtype), offset, axis1, axis2)
    return contract(x, labels, None, "", rest)


@shared
def diagonal(x: object, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """``numpy.diagonal``: the diagonal of axes ``axis1``, ``axis2`` as the last axis.

    Args:
        x: {a} At least 2-d.
        offset: the diagonal's offset: positive above the main one, negative below.
        axis1: the first axis of the diagonal.
        axis2: the second.

    Returns:
        ``x``'s other axes, then the diagonal (empty when ``offset`` is past the edge): {tensor}.

    Raises:
        ShapeError: ``x`` has fewer than 2 axes, or the two axes are out of range or equal.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.diagonal(np.arange(9.0).reshape(3, 3))
        array([0., 4., 8.])
    """
    a, labels, rest, diag = _diagonal(x, offset, axis1, axis2)
    return contract(a, labels, None, "", rest + diag)


def reshape(x: object, *shape: int | Sequence[int], order: str = "C") -> Node:
    """``numpy.reshape``; one ``-1`` is inferred.

    ``order="F"`` reads and writes the entries with the first index fastest: it is the C
    reshape of the transpose, transposed back.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.reshape(np.arange(6.0), (2, -1))
        array([[0., 1., 2.],
               [3., 4., 5.]])
        >>> ta.reshape(np.arange(6.0), (2, 3), order="F")
        array([[0., 2., 4.],
               [1., 3., 5.]])
    """
    if order == "F":
        flipped = reshape(transpose(x), *[_axis_list(shape[0] if len(shape) == 1 else shape)[::-1]])
        return transpose(flipped)
    if order != "C":
        raise UnsupportedError(f"reshape: order={order!r} is not supported, only 'C' and 'F'")
    a = as_node(x)
    target = _axis_list(shape[0] if len(shape) == 1 else shape)
    if any(n < -1 for n in target):
        raise ShapeError(f"negative dimensions are not allowed, got {tuple(target)}")
    if target.count(-1) > 1:
        raise ShapeError(f"can only specify one unknown dimension, got {tuple(target)}")
    if -1 in target:
        known = math.prod(n for n in target if n != -1)
        if known == 0 or a.size % known:
            raise ShapeError(f"cannot reshape an array of shape {a.shape} into shape {tuple(target)}")
        target[target.index(-1)] = a.size // known
    if isinstance(a, GeneralUnary) and a.fn == "reshape":
        a = a.x  # a reshape of a reshape is one reshape
    if tuple(target) == a.shape:
        return a
    return apply("reshape", a, (tuple(target),))


@shared
def squeeze(x: object, axis: Axes = None) -> Node:
    """``numpy.squeeze``: drop size-1 axes (all of them, or those in ``axis``).

    Args:
        x: {a}
        axis: {axes} Each must have size 1.

    Returns:
        ``x`` without those axes, the same entries: {tensor}.

    Raises:
        ShapeError: an axis in ``axis`` does not have size 1, or is out of range.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.squeeze(np.ones((1, 3, 1))).shape, ta.squeeze(np.ones((1, 3, 1)), axis=0).shape
        ((3,), (3, 1))
    """
    a = as_node(x)
    axes = [k for k, n in enumerate(a.shape) if n == 1] if axis is None else normalize_axes(axis, a.ndim)
    for k in axes:
        if a.shape[k] != 1:
            raise ShapeError(f"cannot squeeze axis {k} of size {a.shape[k]} (shape {a.shape})")
    labels = fresh_labels(a.ndim)
    return contract(a, labels, None, "", "".join(label for k, label in enumerate(labels) if k not in axes))


@shared
def expand_dims(x: object, axis: int | tuple[int, ...]) -> Node:
    """``numpy.expand_dims``: insert size-1 axes at ``axis``.

    Args:
        x: {a}
        axis: where the new axes are in the result: an axis or a tuple of them, counted
            in the result's ``x.ndim + len(axis)`` axes (negative from the end).

    Returns:
        ``x`` with the new size-1 axes, the same entries: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.expand_dims(np.ones(3), 0).shape, ta.expand_dims(np.ones(3), (0, 2)).shape
        ((1, 3), (1, 3, 1))
    """
    a = as_node(x)
    axes = normalize_axes(axis, a.ndim + len(_axis_list(axis)))
    labels = iter(fresh_labels(a.ndim))
    new = fresh_labels(len(axes), "".join(fresh_labels(a.ndim)))
    out = "".join(new[axes.index(k)] if k in axes else next(labels) for k in range(a.ndim + len(axes)))
    return contract(a, fresh_labels(a.ndim), None, "", out, sizes=dict.fromkeys(new, 1))


@shared
def swapaxes(a: object, axis1: int, axis2: int) -> Node:
    """``numpy.swapaxes``: exchange two axes.

    Args:
        a: {a}
        axis1: one axis.
        axis2: the other.

    Returns:
        ``a`` with the two axes exchanged: {tensor}.

    Raises:
        ShapeError: an axis is out of range.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.swapaxes(np.zeros((2, 3, 4)), 0, 2).shape
        (4, 3, 2)
    """
    x = as_node(a)
    i, j = (normalize_axes(k, x.ndim)[0] for k in (axis1, axis2))
    order = list(range(x.ndim))
    order[i], order[j] = order[j], order[i]
    return transpose(x, order)


@shared
def moveaxis(a: object, source: int | Sequence[int], destination: int | Sequence[int]) -> Node:
    """``numpy.moveaxis``: move axes to new positions, the others keeping their order.

    Args:
        a: {a}
        source: the axis, or axes, to move.
        destination: their positions in the result, one per source axis.

    Returns:
        ``a`` with its axes permuted: {tensor}.

    Raises:
        ShapeError: ``source`` and ``destination`` differ in length, or an axis is out of range.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    x = as_node(a)
    sources = [normalize_axes(k, x.ndim)[0] for k in _axis_list(source)]
    targets = [normalize_axes(k, x.ndim)[0] for k in _axis_list(destination)]
    if len(sources) != len(targets):
        raise ShapeError("moveaxis: source and destination must have the same number of axes")
    order = [k for k in range(x.ndim) if k not in sources]
    for target, k in sorted(zip(targets, sources, strict=True)):
        order.insert(target, k)
    return transpose(x, order)


@shared
def ravel(a: object, order: str = "C") -> Node:
    """``numpy.ravel``: the entries as one axis (C order).

    Args:
        a: {a}
        order: ``"C"`` (last index fastest) or ``"F"`` (first index fastest).

    Returns:
        The ``a.size`` entries in one axis: {tensor}.

    Raises:
        UnsupportedError: ``order`` is not ``"C"`` or ``"F"`` (numpy's ``"A"`` and ``"K"``
            concern memory layout, which tensorad values do not have).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.ravel(np.arange(6.0).reshape(2, 3))
        array([0., 1., 2., 3., 4., 5.])
    """
    if order not in ("C", "F"):
        raise UnsupportedError(f"ravel: order={order!r} is not supported on traced values, only 'C' and 'F'")
    return reshape(a, -1, order=order)
