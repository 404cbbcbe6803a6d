"""Joining, splitting and repeating arrays: ``concatenate``, ``stack``, ``split``,
``tile``, ``repeat``, ``roll``, ``diag``, ``tril``, ``triu``, ``broadcast_to`` and
``atleast_*d``, with numpy's signatures.

Each is one of the node kinds doing what it does: a concatenation is one
:class:`~tensorad.ir.nodes.General` node, ``concatenate`` (formed once, in one copy; its pullback
crops), pieces are crops, repetitions are broadcasts and reshapes, triangles are a
selection (``where``, so an infinite entry outside the triangle stays out), diagonals
are contractions with a repeated label. The joins along an axis and the splits live in
:mod:`tensorad.numpy.stacking`; this module exports them too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir.build import broadcast_to as broadcast
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.numpy.axes import normalize_axes, reshape
from tensorad.numpy.phrases import shared
from tensorad.numpy.stacking import atleast_1d as atleast_1d
from tensorad.numpy.stacking import atleast_2d as atleast_2d
from tensorad.numpy.stacking import atleast_3d as atleast_3d
from tensorad.numpy.stacking import concatenate as concatenate
from tensorad.numpy.stacking import hstack as hstack
from tensorad.numpy.stacking import split as split
from tensorad.numpy.stacking import stack as stack
from tensorad.numpy.stacking import vstack as vstack


@shared
def broadcast_to(array: object, shape: int | Sequence[int]) -> Node:
    """``numpy.broadcast_to``: ``array`` repeated along new or size-1 axes.

    Args:
        array: {a}
        shape: the target shape, which ``array``'s shape broadcasts to (numpy's rules).

    Returns:
        ``array`` of that shape; its pullback sums over the repeated axes: {tensor}.

    Raises:
        ShapeError: the shapes do not broadcast.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.broadcast_to(np.array([1.0, 2.0]), (2, 2))
        array([[1., 2.],
               [1., 2.]])
    """
    a = as_node(array)
    target = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
    try:
        if np.broadcast_shapes(a.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ShapeError(f"cannot broadcast an array of shape {a.shape} to shape {target}") from None
    return broadcast(a, target)


@shared
def tile(A: object, reps: int | Sequence[int]) -> Node:
    """``numpy.tile``: ``A`` repeated ``reps`` times along each axis (a broadcast along a
    new axis before each, then a reshape).

    Args:
        A: {a}
        reps: the number of copies along each axis, an integer or one per axis (lined up
            from the last axis, as numpy).

    Returns:
        The tiled array, of ``max(A.ndim, len(reps))`` axes: {tensor}.

    Raises:
        ShapeError: a negative repetition.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.tile(np.array([1.0, 2.0]), 2)
        array([1., 2., 1., 2.])
    """
    a = as_node(A)
    counts = [int(reps)] if isinstance(reps, (int, np.integer)) else [int(r) for r in reps]
    if any(r < 0 for r in counts):
        raise ShapeError(f"tile: negative repetitions {counts}")
    d = max(a.ndim, len(counts))
    counts = [1] * (d - len(counts)) + counts
    a = reshape(a, (1,) * (d - a.ndim) + a.shape)
    grid = [n for r, m in zip(counts, a.shape, strict=True) for n in (r, m)]
    spread = broadcast(reshape(a, [n for m in a.shape for n in (1, m)]), tuple(grid))
    return reshape(spread, [r * m for r, m in zip(counts, a.shape, strict=True)])


@shared
def repeat(a: object, repeats: int | Sequence[int], axis: int | None = None) -> Node:
    """``numpy.repeat``: each entry repeated along ``axis`` (of the flattened array when
    None); equal repeats are a broadcast and a reshape, unequal ones a gather.

    Args:
        a: {a}
        repeats: how often each entry appears: one count for all, or one per entry along ``axis``.
        axis: the axis repeated along; ``None`` flattens ``a`` first.

    Returns:
        ``a`` with that axis lengthened to the sum of the counts: {tensor}.

    Raises:
        OperandTypeError: a count is negative or not an integer.
        ShapeError: as many counts as entries is neither 1 nor the axis's length.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.repeat(np.array([1.0, 2.0]), [1, 3])
        array([1., 2., 2., 2.])
    """
    from tensorad.numpy.indexing import take

    x = as_node(a)
    if axis is None:
        x, axis = reshape(x, -1), 0
    (k,) = normalize_axes(axis, x.ndim)
    counts = np.asarray(repeats)
    if counts.shape == (1,):
        counts = counts[0]  # one count for every entry, as numpy broadcasts it
    if counts.dtype.kind not in "iu" or np.any(counts < 0):
        raise OperandTypeError(f"repeat: repeats must be non-negative integers, got {repeats!r}")
    if counts.ndim == 0:
        r = int(counts)
        before, n, after = x.shape[:k], x.shape[k], x.shape[k + 1 :]
        spread = broadcast(reshape(x, (*before, n, 1, *after)), (*before, n, r, *after))
        return reshape(spread, (*before, n * r, *after))
    if counts.shape != (x.shape[k],):
        raise ShapeError(f"repeat: {counts.size} repeats for an axis of size {x.shape[k]}")
    return take(x, np.repeat(np.arange(x.shape[k]), counts), axis=k)


@shared
def roll(a: object, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Node:
    """``numpy.roll``: entries shifted cyclically along ``axis`` (the flattened array
    when None), as the concatenation of two slices per axis.

    Args:
        a: {a}
        shift: how far the entries move (towards higher indices, wrapping around): one
            shift, or one per axis in ``axis``.
        axis: the axis, or axes, to roll along; ``None`` rolls the flattened ``a``.

    Returns:
        ``a``'s entries rolled, of ``a``'s shape: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.roll(np.arange(4.0), 1)
        array([3., 0., 1., 2.])
    """
    x = as_node(a)
    if axis is None:
        return reshape(roll(reshape(x, -1), shift, 0), x.shape)
    shifts = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    for s, ax in zip(shifts[0].ravel(), shifts[1].ravel(), strict=True):
        (k,) = normalize_axes(int(ax), x.ndim)
        n = x.shape[k]
        m = int(s) % n if n else 0
        if m:
            head, tail = split(x, [n - m], axis=k)
            x = concatenate([tail, head], k)
    return x


@shared
def diag(v: object, k: int = 0) -> Node:
    """``numpy.diag``: a 1-d ``v`` placed on the ``k``-th diagonal of a square matrix
    (zeros elsewhere), or the ``k``-th diagonal of a 2-d ``v``.

    Args:
        v: {a} 1-d or 2-d.
        k: the diagonal: positive above the main one, negative below.

    Returns:
        A ``(n + |k|, n + |k|)`` matrix for a 1-d ``v`` of length ``n``, a 1-d diagonal for
        a 2-d ``v``: {tensor}.

    Raises:
        ShapeError: ``v`` is neither 1-d nor 2-d.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.diag(np.array([1.0, 2.0]), 1)
        array([[0., 1., 0.],
               [0., 0., 2.],
               [0., 0., 0.]])
    """
    from tensorad.numpy.axes import diagonal
    from tensorad.numpy.indexing import pad

    x = as_node(v)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: input must be 1-d or 2-d, got shape {x.shape}")
    i = fresh_labels(1)
    square = contract(x, i, None, "", i + i)
    return pad(square, ((max(-k, 0), max(k, 0)), (max(k, 0), max(-k, 0)))) if k else square


def _triangle(m: object, k: int, lower: bool) -> Node:
    from tensorad.numpy.arithmetic import where

    x = as_node(m)
    if x.ndim < 2:
        raise ShapeError(f"{'tril' if lower else 'triu'}: input must have at least 2 axes, got shape {x.shape}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, k, dtype=bool) if lower else ~np.tri(rows, cols, k - 1, dtype=bool)
    return where(keep, x, 0.0)


@shared
def tril(m: object, k: int = 0) -> Node:
    """``numpy.tril``: the entries on and below the ``k``-th diagonal (zeros above), a
    selection, so the derivative above is exactly 0.

    Args:
        m: {a} At least 2-d: a matrix, or a stack of them (the last two axes).
        k: the diagonal: positive above the main one, negative below.

    Returns:
        ``m``'s lower triangle, of ``m``'s shape: {tensor}.

    Raises:
        ShapeError: ``m`` has fewer than 2 axes.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.tril(np.ones((2, 2)))
        array([[1., 0.],
               [1., 1.]])
    """
    return _triangle(m, k, lower=True)


@shared
def triu(m: object, k: int = 0) -> Node:
    """``numpy.triu``: the entries on and above the ``k``-th diagonal (zeros below).

    Args:
        m: {a} At least 2-d: a matrix, or a stack of them (the last two axes).
        k: the diagonal: positive above the main one, negative below.

    Returns:
        ``m``'s upper triangle, of ``m``'s shape: {tensor}.

    Raises:
        ShapeError: ``m`` has fewer than 2 axes.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.triu(np.ones((2, 2)), 1)
        array([[0., 1.],
               [0., 0.]])
    """
    return _triangle(m, k, lower=False)


@shared
def flip(m: object, axis: int | Sequence[int] | None = None) -> Node:
    """``numpy.flip``: the order of the entries reversed along ``axis`` (all axes when
    None); its own adjoint.

    Args:
        m: {a}
        axis: the axis, or axes, to reverse; ``None`` for all.

    Returns:
        ``m`` with those axes reversed: {tensor}.

    Raises:
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.flip(np.array([[1.0, 2.0], [3.0, 4.0]]), 1)
        array([[2., 1.],
               [4., 3.]])
    """
    from tensorad.library.registry import apply

    x = as_node(m)
    axes = tuple(range(x.ndim)) if axis is None else normalize_axes(tuple(np.atleast_1d(axis).tolist()), x.ndim)
    return apply("flip", x, (axes,)) if axes else x
