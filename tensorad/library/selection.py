"""Gather and scatter: ``take`` along an axis at concrete integer indices, and its adjoint
``scatter_add``. Both are linear, and each is the other's pullback
(:mod:`proofs.proof_gather_scatter`): the cotangent of a gather is scattered back (summed
where an index repeats) and the tangent of a scatter is scattered the same way, so no
one-hot or selection matrix is ever formed.

``take(A; axis, I)[…, m, …] = A[…, I[m], …]`` (``m`` a multi-index over ``I``'s axes)
and ``scatter_add(C; axis, I, n)[…, k, …] = Σ_{m : I[m] = k} C[…, m, …]``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tensorad._types import Array, Shape
from tensorad.errors import OutOfBoundsError, ShapeError
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, axis_after, register_general

IntArray = np.ndarray[Any, np.dtype[np.intp]]


@dataclass(frozen=True, eq=False)
class Indices:
    """A concrete array of non-negative integer indices: a static argument of ``take`` and
    ``scatter_add``, compared and hashed by its shape and content (a digest), so equal
    index arrays give one node and different ones never do.

    Examples:
        >>> import numpy as np
        >>> Indices.of(np.array([2, 0, 2])) == Indices.of(np.array([2, 0, 2]))
        True
        >>> Indices.of(np.array([2, 0, 2])).unique
        False
    """

    value: IntArray
    digest: str
    unique: bool
    high: int = field(default=-1)  # the largest index (−1 when empty)

    @classmethod
    def of(cls, array: object) -> Indices:
        """``array`` (integers ≥ 0) as an index argument; the array is copied, read-only."""
        value = np.array(array, dtype=np.intp)
        if value.size and value.min() < 0:
            raise OutOfBoundsError(f"negative index {int(value.min())} (indices are normalized first)")
        value.flags.writeable = False
        digest = hashlib.blake2b(repr(value.shape).encode() + value.tobytes(), digest_size=16).hexdigest()
        unique = len(np.unique(value)) == value.size
        return cls(value, digest, unique, int(value.max()) if value.size else -1)

    @property
    def shape(self) -> Shape:
        return tuple(int(n) for n in self.value.shape)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Indices) and self.digest == other.digest and self.shape == other.shape

    def __hash__(self) -> int:
        return hash(self.digest)

    def __repr__(self) -> str:
        return f"indices{self.shape}:{self.digest[:8]}"


def _take_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    axis: int = params[0]
    index: Indices = params[1]
    if not 0 <= axis < len(x):
        raise ShapeError(f"take: axis {axis} is out of range for an array of shape {x}")
    if index.high >= x[axis]:
        raise OutOfBoundsError(f"index {index.high} is out of bounds for axis {axis} with size {x[axis]}")
    return x[:axis] + index.shape + x[axis + 1 :]


def _scatter_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    axis, index, n = params
    if x[axis : axis + len(index.shape)] != index.shape or axis < 0:
        raise ShapeError(f"scatter_add: indices of shape {index.shape} do not fit axis {axis} of shape {x}")
    if index.high >= n:
        raise OutOfBoundsError(f"index {index.high} is out of bounds for an axis of size {n}")
    return (*x[:axis], n, *x[axis + len(index.shape) :])


def _take(x: Array, params: tuple[Any, ...]) -> Array:
    axis, index = params
    taken: Array = np.take(x, index.value, axis=axis)
    return taken


def _scatter_add(x: Array, params: tuple[Any, ...]) -> Array:
    """Sum the entries of ``x`` into the rows the indices name: a plain assignment when no
    index repeats, else ``np.add.at`` (unbuffered: repeated indices accumulate)."""
    axis, index, n = params
    out = np.zeros((*x.shape[:axis], n, *x.shape[axis + index.value.ndim :]), dtype=x.dtype)
    where = (slice(None),) * axis + (index.value,)
    if index.unique:
        out[where] = x
    else:
        np.add.at(out, where, x)
    return out


def take(x: Node, axis: int, index: Indices) -> Node:
    """``take(x; axis, I)``: the gather node (indices already normalized and checked)."""
    return apply("take", x, (axis, index))


def scatter_add(x: Node, axis: int, index: Indices, n: int) -> Node:
    """``scatter_add(x; axis, I, n)``: the scatter node, an axis of size ``n`` in place of ``I``'s axes."""
    return apply("scatter_add", x, (axis, index, n))


def _take_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = take(Ȧ; axis, I)``: a gather is linear (the trailing s4 axes come along)."""
    return take(x_dot, *params)


def _take_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = scatter_add(C̄; axis, I, n)``: ``⟨take(A), C̄⟩ = ⟨A, scatter_add(C̄)⟩``
    (proofs.gather_scatter); the leading s4 axes shift the axis."""
    axis, index = params
    return scatter_add(y_bar, axis + y_bar.ndim - y.ndim, index, x.shape[axis])


def _scatter_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = scatter_add(Ȧ; axis, I, n)``: a scatter is linear."""
    return scatter_add(x_dot, *params)


def _scatter_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = take(C̄; axis, I)``: the adjoint of a scatter-add is the gather (proofs.gather_scatter)."""
    axis, index, _ = params
    return take(y_bar, axis + y_bar.ndim - y.ndim, index)


register_general("take", _take, _take_shape, _take_jvp, _take_vjp, moves=True, batch=axis_after)
register_general("scatter_add", _scatter_add, _scatter_shape, _scatter_jvp, _scatter_vjp, batch=axis_after)
