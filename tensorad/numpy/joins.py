"""Joining, splitting and repeating arrays: ``concatenate``, ``stack``, ``split``,
``tile``, ``repeat``, ``roll``, ``diag``, ``tril``, ``triu``, ``broadcast_to`` and
``atleast_*d``, with numpy's signatures.

Each is one of the node kinds doing what it does: a concatenation is one
:class:`~tensorad.ir.nodes.General` node, ``concatenate`` (formed once, in one copy; its pullback
crops), pieces are crops, repetitions are broadcasts and reshapes, triangles are a
selection (``where``, so an infinite entry outside the triangle stays out), diagonals
are contractions with a repeated label.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir.build import broadcast_to as broadcast
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import apply_general
from tensorad.numpy.axes import expand_dims, normalize_axes, reshape
from tensorad.numpy.eager import cast
from tensorad.numpy.indexing import getitem


def _nodes(arrays: object, what: str) -> list[Node]:
    if isinstance(arrays, (*NODE_TYPES, np.ndarray)):
        return [as_node(arrays[k]) for k in range(len(arrays))]
    if not isinstance(arrays, Sequence) or isinstance(arrays, str):
        raise OperandTypeError(f"{what}: expected a sequence of arrays, got {type(arrays).__name__}")
    return [as_node(a) for a in arrays]


def concatenate(arrays: object, axis: int | None = 0, out: None = None, *, dtype: object = None) -> Node:
    """``numpy.concatenate``: the arrays joined along ``axis`` (flattened first when
    ``axis`` is None), in one copy; the derivative of each piece is its slice.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.concatenate([np.ones((1, 2)), np.zeros((2, 2))]).shape
        (3, 2)
    """
    if out is not None:
        raise OperandTypeError("concatenate: out= is not supported (arrays are immutable while tracing)")
    nodes = _nodes(arrays, "concatenate")
    if axis is None:
        nodes, axis = [reshape(a, -1) for a in nodes], 0
    if not nodes:
        raise ShapeError("need at least one array to concatenate")
    if any(a.ndim == 0 for a in nodes):
        raise ShapeError("zero-dimensional arrays cannot be concatenated")
    (k,) = normalize_axes(axis, nodes[0].ndim)
    joined = nodes[0] if len(nodes) == 1 else apply_general("concatenate", tuple(nodes), (k,))
    return cast(joined, dtype)  # type: ignore[arg-type]  # numpy's dtype argument


def stack(arrays: object, axis: int = 0, out: None = None, *, dtype: object = None) -> Node:
    """``numpy.stack``: the arrays (of one shape) joined along a new ``axis``.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.stack([np.ones(3), np.zeros(3)], axis=1).shape
        (3, 2)
    """
    nodes = _nodes(arrays, "stack")
    if not nodes:
        raise ShapeError("need at least one array to stack")
    if len({a.shape for a in nodes}) > 1:
        raise ShapeError(f"all input arrays must have the same shape, got {sorted({a.shape for a in nodes})}")
    (k,) = normalize_axes(axis, nodes[0].ndim + 1)
    return concatenate([expand_dims(a, k) for a in nodes], k, out, dtype=dtype)


def hstack(tup: object, *, dtype: object = None) -> Node:
    """``numpy.hstack``: along the first axis for 1-d arrays, else the second."""
    nodes = [a if a.ndim else reshape(a, (1,)) for a in _nodes(tup, "hstack")]
    return concatenate(nodes, 0 if nodes and nodes[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup: object, *, dtype: object = None) -> Node:
    """``numpy.vstack``: along the first axis, 1-d arrays as rows."""
    return concatenate(
        [reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a for a in _nodes(tup, "vstack")], 0, dtype=dtype
    )


def split(ary: object, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Node]:
    """``numpy.split``: pieces along ``axis``, ``n`` equal ones or cut at the given
    indices; each piece is a crop (its pullback puts the cotangent back among zeros).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> [piece.shape for piece in tnp.split(np.arange(6.0), [1, 4])]
        [(1,), (3,), (2,)]
    """
    a = as_node(ary)
    (k,) = normalize_axes(axis, a.ndim)
    n = a.shape[k]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ShapeError(f"array split does not result in an equal division: {n} into {sections}")
        cuts = [n // sections * j for j in range(1, sections)]
    else:
        cuts = [int(c) for c in indices_or_sections]
    bounds = [0, *cuts, n]
    pieces = []
    for start, stop in itertools.pairwise(bounds):
        index = [slice(None)] * a.ndim
        index[k] = slice(start, stop)
        pieces.append(getitem(a, tuple(index)))
    return pieces


def broadcast_to(array: object, shape: int | Sequence[int]) -> Node:
    """``numpy.broadcast_to``: ``array`` repeated along new or size-1 axes.

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


def tile(A: object, reps: int | Sequence[int]) -> Node:
    """``numpy.tile``: ``A`` repeated ``reps`` times along each axis (a broadcast along a
    new axis before each, then a reshape).

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


def repeat(a: object, repeats: int | Sequence[int], axis: int | None = None) -> Node:
    """``numpy.repeat``: each entry repeated along ``axis`` (of the flattened array when
    None); equal repeats are a broadcast and a reshape, unequal ones a gather.

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


def roll(a: object, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Node:
    """``numpy.roll``: entries shifted cyclically along ``axis`` (the flattened array
    when None), as the concatenation of two slices per axis.

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


def diag(v: object, k: int = 0) -> Node:
    """``numpy.diag``: a 1-d ``v`` placed on the ``k``-th diagonal of a square matrix
    (zeros elsewhere), or the ``k``-th diagonal of a 2-d ``v``.

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


def tril(m: object, k: int = 0) -> Node:
    """``numpy.tril``: the entries on and below the ``k``-th diagonal (zeros above), a
    selection, so the derivative above is exactly 0.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.tril(np.ones((2, 2)))
        array([[1., 0.],
               [1., 1.]])
    """
    return _triangle(m, k, lower=True)


def triu(m: object, k: int = 0) -> Node:
    """``numpy.triu``: the entries on and above the ``k``-th diagonal (zeros below).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.triu(np.ones((2, 2)), 1)
        array([[0., 1.],
               [0., 0.]])
    """
    return _triangle(m, k, lower=False)


def atleast_1d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_1d``: 0-d arrays as shape ``(1,)``."""
    out = [reshape(a, (1,)) if a.ndim == 0 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_2d``: 0-d as ``(1, 1)``, 1-d ``(n,)`` as ``(1, n)``."""
    out = [reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_3d``: 0-d as ``(1, 1, 1)``, ``(n,)`` as ``(1, n, 1)``, ``(m, n)`` as ``(m, n, 1)``."""

    def lifted(s: tuple[int, ...]) -> tuple[int, ...]:
        return (1, 1, 1) if not s else (1, *s, 1) if len(s) == 1 else (*s, 1)

    out = [reshape(a, lifted(a.shape)) if a.ndim < 3 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)


def flip(m: object, axis: int | Sequence[int] | None = None) -> Node:
    """``numpy.flip``: the order of the entries reversed along ``axis`` (all axes when
    None); its own adjoint.

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
