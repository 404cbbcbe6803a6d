"""Joining arrays along an axis and cutting them apart: ``concatenate``, ``stack``,
``hstack``, ``vstack``, ``split`` and ``atleast_*d``, with numpy's signatures
(:mod:`tensorad.numpy.joins` exports them beside the repetitions, shifts and triangles).

A concatenation is one :class:`~tensorad.ir.nodes.General` node, ``concatenate`` (formed
once, in one copy; its pullback crops); the pieces of a split are crops.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import apply_general
from tensorad.numpy.axes import expand_dims, normalize_axes, reshape
from tensorad.numpy.eager import cast
from tensorad.numpy.indexing import getitem
from tensorad.numpy.phrases import shared


def _nodes(arrays: object, what: str) -> list[Node]:
    if isinstance(arrays, (*NODE_TYPES, np.ndarray)):
        return [as_node(arrays[k]) for k in range(len(arrays))]
    if not isinstance(arrays, Sequence) or isinstance(arrays, str):
        raise OperandTypeError(f"{what}: expected a sequence of arrays, got {type(arrays).__name__}")
    return [as_node(a) for a in arrays]


@shared
def concatenate(arrays: object, axis: int | None = 0, out: None = None, *, dtype: object = None) -> Node:
    """``numpy.concatenate``: the arrays joined along ``axis`` (flattened first when
    ``axis`` is None), in one copy; the derivative of each piece is its slice.

    Args:
        arrays: a sequence of arrays, numbers or expressions (or one array, whose first
            axis lists them), of one shape but along ``axis``.
        axis: the axis joined along; ``None`` flattens them first.
        out: numpy's output array: only ``None`` (tensorad values are immutable), else
            ``OperandTypeError``.
        dtype: the result's float or complex dtype (default: the arrays' common one).

    Returns:
        The joined array, its ``axis`` the sum of theirs: {tensor}.

    Raises:
        ShapeError: no arrays, a 0-d one, or the other axes differ.
        OperandTypeError: ``arrays`` is not a sequence, or ``out`` is given.

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


@shared
def stack(arrays: object, axis: int = 0, out: None = None, *, dtype: object = None) -> Node:
    """``numpy.stack``: the arrays (of one shape) joined along a new ``axis``.

    Args:
        arrays: a sequence of arrays, numbers or expressions of one shape.
        axis: the new axis's position in the result (negative from the end).
        out: numpy's output array: only ``None``.
        dtype: the result's float or complex dtype (default: the arrays' common one).

    Returns:
        An array with the new axis of length ``len(arrays)``: {tensor}.

    Raises:
        ShapeError: no arrays, or their shapes differ.

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


@shared
def hstack(tup: object, *, dtype: object = None) -> Node:
    """``numpy.hstack``: along the first axis for 1-d arrays, else the second.

    Args:
        tup: a sequence of arrays, numbers or expressions (0-d ones count as 1-d).
        dtype: the result's float or complex dtype (default: the arrays' common one).

    Returns:
        The arrays side by side: {tensor}.

    Raises:
        ShapeError: the arrays differ along an axis other than the joined one.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.hstack([np.ones((2, 1)), np.zeros((2, 3))]).shape
        (2, 4)
    """
    nodes = [a if a.ndim else reshape(a, (1,)) for a in _nodes(tup, "hstack")]
    return concatenate(nodes, 0 if nodes and nodes[0].ndim == 1 else 1, dtype=dtype)


@shared
def vstack(tup: object, *, dtype: object = None) -> Node:
    """``numpy.vstack``: along the first axis, 1-d arrays as rows.

    Args:
        tup: a sequence of arrays, numbers or expressions (a 1-d one of length ``n`` is a
            row of shape ``(1, n)``).
        dtype: the result's float or complex dtype (default: the arrays' common one).

    Returns:
        The arrays one above the other, at least 2-d: {tensor}.

    Raises:
        ShapeError: the arrays differ along an axis other than the first.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.vstack([np.ones(3), np.zeros((2, 3))]).shape
        (3, 3)
    """
    return concatenate(
        [reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a for a in _nodes(tup, "vstack")], 0, dtype=dtype
    )


@shared
def split(ary: object, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Node]:
    """``numpy.split``: pieces along ``axis``, ``n`` equal ones or cut at the given
    indices; each piece is a crop (its pullback puts the cotangent back among zeros).

    Args:
        ary: {a}
        indices_or_sections: ``n``, for ``n`` equal pieces, or the sorted indices along
            ``axis`` at which to cut.
        axis: the axis cut along.

    Returns:
        A list of the pieces, in order: arrays when ``ary`` is an array, else expressions.

    Raises:
        ShapeError: ``n`` does not divide the axis (numpy's ``array_split`` is not
            supported), or the axis is out of range.

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


@shared
def atleast_1d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_1d``: 0-d arrays as shape ``(1,)``.

    Args:
        *arys: arrays, numbers or expressions.

    Returns:
        For one argument, it with at least one axis; for several, a tuple of them. Arrays
        when no argument is an expression, else expressions.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.atleast_1d(2.0), [a.shape for a in tnp.atleast_1d(1.0, np.ones((2, 2)))]
        (array([2.]), [(1,), (2, 2)])
    """
    out = [reshape(a, (1,)) if a.ndim == 0 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)


@shared
def atleast_2d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_2d``: 0-d as ``(1, 1)``, 1-d ``(n,)`` as ``(1, n)``.

    Args:
        *arys: arrays, numbers or expressions.

    Returns:
        For one argument, it with at least two axes; for several, a tuple of them. Arrays
        when no argument is an expression, else expressions.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.atleast_2d(np.ones(3)).shape
        (1, 3)
    """
    out = [reshape(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)


@shared
def atleast_3d(*arys: object) -> Node | tuple[Node, ...]:
    """``numpy.atleast_3d``: 0-d as ``(1, 1, 1)``, ``(n,)`` as ``(1, n, 1)``, ``(m, n)`` as ``(m, n, 1)``.

    Args:
        *arys: arrays, numbers or expressions.

    Returns:
        For one argument, it with at least three axes; for several, a tuple of them.
        Arrays when no argument is an expression, else expressions.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.atleast_3d(np.ones((2, 3))).shape
        (2, 3, 1)
    """

    def lifted(s: tuple[int, ...]) -> tuple[int, ...]:
        return (1, 1, 1) if not s else (1, *s, 1) if len(s) == 1 else (*s, 1)

    out = [reshape(a, lifted(a.shape)) if a.ndim < 3 else a for a in map(as_node, arys)]
    return out[0] if len(out) == 1 else tuple(out)
