"""Basic indexing ``x[index]``: integers, slices, ``None`` and ``...``.

Integers and unit-step slices cut one window out of the array (``crop``, a view, whose
adjoint ``pad`` puts the cotangent back among zeros: :mod:`tensorad.library.shape`); a
slice with another step is a contraction with a 0/1 selection matrix, so it is
differentiable like any other product.
"""

from __future__ import annotations

import math

import numpy as np

from tensorad.errors import OperandTypeError, OutOfBoundsError, ShapeError, UnsupportedError
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, apply_general
from tensorad.library.selection import Indices, scatter_add
from tensorad.library.selection import take as gather_along
from tensorad.numpy.arithmetic import add as plus
from tensorad.numpy.arithmetic import multiply, where
from tensorad.numpy.phrases import shared


def getitem(x: object, index: object) -> Node:
    """``x[index]`` with numpy's indexing: integers, slices, ``None`` and ``...`` cut a
    window (views, no gather); integer arrays and boolean masks (concrete numpy arrays or
    lists) gather (:func:`gather`)."""
    a = as_node(x)
    items = list(index) if isinstance(index, tuple) else [index]
    if any(_advanced(item) for item in items):
        return gather(a, index)
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))) or isinstance(
            item, bool
        ):
            raise UnsupportedError(
                f"index {_short(item)} is not supported: use integers, slices, None, ..., "
                "and concrete integer or boolean arrays"
            )
    if items.count(Ellipsis) > 1:
        raise ShapeError("an index can only have a single ellipsis ('...')")
    used = len([item for item in items if item is not None and item is not Ellipsis])
    if used > a.ndim:
        raise ShapeError(f"too many indices for an array of shape {a.shape}: {used} given")
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items[k : k + 1] = [slice(None)] * (a.ndim - used)
    else:
        items += [slice(None)] * (a.ndim - used)
    return _select(a, items)


def _select(a: Node, items: list[object]) -> Node:
    """One window (``crop``) around what each integer and slice keeps, every ``|step|``-th
    entry of a strided slice taken by a reshape (never a selection matrix: nothing is
    multiplied by 0, so an inf elsewhere stays out), ``flip`` for a negative step, then one
    contraction that drops the integers' axes and inserts the ``None`` ones."""
    labels = fresh_labels(a.ndim)
    spare = iter(fresh_labels(len(items), labels))
    windows: list[tuple[int, int]] = []
    strided: list[tuple[int, int, bool]] = []
    out, sizes = "", {}
    for item in items:
        if item is None:
            label = next(spare)
            out, sizes[label] = out + label, 1
            continue
        axis = len(windows)
        n = a.shape[axis]
        if isinstance(item, slice):
            picks = range(n)[item]
            ascending = picks if picks.step > 0 else picks[::-1]
            start = ascending.start if picks else 0
            windows.append((start, ascending[-1] + 1 if picks else 0))
            if len(picks) > 1 and (abs(picks.step) > 1 or picks.step < 0):
                strided.append((axis, abs(picks.step), picks.step < 0))
            out += labels[axis]
        else:
            assert isinstance(item, (int, np.integer))
            k = int(item)
            if not -n <= k < n:
                raise OutOfBoundsError(f"index {k} is out of bounds for axis {axis} with size {n}")
            windows.append((k % n, k % n + 1))  # a size-1 axis, summed away below
    result = a
    if any(window != (0, n) for window, n in zip(windows, a.shape, strict=True)):
        result = apply("crop", a, (tuple(windows),))
    for axis, step, backwards in strided:
        result = _every(result, axis, step) if step > 1 else result
        result = apply("flip", result, ((axis,),)) if backwards else result
    return contract(result, labels, None, "", out, sizes=sizes)


def _every(x: Node, axis: int, step: int) -> Node:
    """Entries ``0, step, 2·step, …`` of ``axis``, whose length is ``(m − 1)·step + 1``:
    padded to ``m·step``, reshaped to ``(m, step)``, the first column kept."""
    m = (x.shape[axis] - 1) // step + 1
    before, after = x.shape[:axis], x.shape[axis + 1 :]
    widths = tuple((0, m * step - x.shape[axis]) if k == axis else (0, 0) for k in range(x.ndim))
    padded = apply("pad", x, (widths,)) if any(b for _, b in widths) else x
    grid = apply("reshape", padded, ((*before, m, step, *after),))
    column = apply("crop", grid, (tuple((0, 1) if k == axis + 1 else (0, n) for k, n in enumerate(grid.shape)),))
    return apply("reshape", column, ((*before, m, *after),))


@shared
def pad(array: object, pad_width: object, mode: str = "constant", *, constant_values: float = 0.0) -> Node:
    """``numpy.pad`` with ``mode="constant"``: ``array`` surrounded by ``constant_values``.

    ``pad_width`` is numpy's: one int for every side, ``(before, after)`` for every axis,
    or one pair per axis. The derivative is zero on the padding and passes through
    inside it (the rule of ``pad`` is ``crop``, its adjoint).

    Args:
        array: {a}
        pad_width: the number of entries added before and after each axis.
        mode: only ``"constant"``; numpy's other modes raise ``UnsupportedError``.
        constant_values: the value of the added entries.

    Returns:
        ``array`` padded, each axis longer by its two widths: {tensor}.

    Raises:
        ShapeError: ``pad_width`` does not fit ``array``'s axes.
        OperandTypeError: a width is not an integer.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.pad(np.array([1.0, 2.0]), (1, 2), constant_values=9.0)
        array([9., 1., 2., 9., 9.])
    """
    if mode != "constant":
        raise UnsupportedError(f"pad: mode={mode!r} is not supported, only 'constant'")
    a = as_node(array)
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (a.ndim, 2))
    except ValueError:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit an array of {a.ndim} axes") from None
    if widths.dtype.kind not in "iu":
        raise OperandTypeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    pairs = tuple((int(before), int(after)) for before, after in widths)
    if not any(pairs):
        return a
    padded = apply("pad", a, (pairs,))
    if constant_values == 0:
        return padded
    inside = np.pad(np.ones(a.shape, dtype=bool), pairs)
    return where(inside, padded, constant_values)  # selected, not added: -0.0 inside stays -0.0


# ------------------------------------------------------------------ advanced indexing: gather and scatter


def _short(item: object) -> str:
    """An index for an error message, elided when long."""
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


def _advanced(item: object) -> bool:
    """An integer array, a boolean mask or a list (numpy's "advanced" indices); a traced
    value is refused here, naming why."""
    if isinstance(item, Node):
        raise UnsupportedError(
            "indexing with a traced array is not supported: indices must be concrete numpy "
            "integer arrays or boolean masks (a traced mask has a data-dependent shape; use "
            "where(mask, x, 0) instead; under jit, pass integer index arrays by closing over them)"
        )
    if isinstance(item, (bool, np.bool_)):
        return True
    return isinstance(item, (list, np.ndarray))


def positions(shape: tuple[int, ...], index: object) -> np.ndarray:
    """The flat (C order) positions in an array of ``shape`` of the entries ``x[index]``
    selects, laid out as numpy lays out ``x[index]``: numpy itself indexes one broadcast
    coordinate grid per axis, so every rule of numpy's indexing (mixed slices, masks,
    negative indices, where the advanced axes go) is numpy's. Only result-sized arrays are
    formed."""
    total: np.ndarray | None = None
    try:
        for axis, n in enumerate(shape):
            column = [-1 if k == axis else 1 for k in range(len(shape))]
            grid = np.broadcast_to(np.arange(n, dtype=np.intp).reshape(column), shape)
            part = grid[index] * math.prod(shape[axis + 1 :])  # type: ignore[call-overload]  # any numpy index
            total = part if total is None else total + part
        if total is None:  # a 0-d array: only None, ... and () select
            total = np.zeros((), dtype=np.intp)[index]  # type: ignore[call-overload]
    except IndexError as error:
        raise OutOfBoundsError(f"index: {error}") from None
    return np.asarray(total, dtype=np.intp)


def gather(a: Node, index: object) -> Node:
    """``a[index]`` with advanced indices: one integer array along an axis (all other
    items full slices) gathers whole slices (``E[idx]``, ``x[:, idx]``); anything else
    gathers entries of the flattened array at :func:`positions`. The pullback is a
    scatter-add, never a selection matrix."""
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        if isinstance(item, (list, np.ndarray)):
            _check_index_array(item)
    arrays = [k for k, item in enumerate(items) if not isinstance(item, slice)]
    whole = all(item == slice(None) for k, item in enumerate(items) if k not in arrays)
    if len(arrays) == 1 and len(items) <= a.ndim and whole:
        axis = arrays[0]
        chosen = np.asarray(items[axis])
        if chosen.dtype.kind in "iu" and chosen.ndim >= 1:
            n = a.shape[axis]
            if chosen.size and (chosen.min() < -n or chosen.max() >= n):
                bad = chosen.min() if chosen.min() < -n else chosen.max()
                raise OutOfBoundsError(f"index {int(bad)} is out of bounds for axis {axis} with size {n}")
            return gather_along(a, axis, Indices.of(chosen % max(n, 1)))
    flat = positions(a.shape, index)
    return gather_along(apply("reshape", a, ((a.size,),)), 0, Indices.of(flat))


def _check_index_array(item: object) -> None:
    """An advanced index must hold integers or booleans (an empty list is an empty index)."""
    try:
        array = np.asarray(item)
    except ValueError:
        raise OperandTypeError(f"index {_short(item)} is ragged: an index array needs a rectangular shape") from None
    if array.dtype.kind not in "iub" and array.size:
        raise OperandTypeError(f"index arrays must hold integers or booleans, got dtype {array.dtype}")


def _integers(indices: object, what: str) -> np.ndarray:
    """``indices`` as a concrete integer array, or an error naming ``what``."""
    if isinstance(indices, Node):
        _advanced(indices)
    array = np.asarray(indices)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise OperandTypeError(f"{what}: indices must be integers, got dtype {array.dtype}")
    return array.astype(np.intp)


def _axis(axis: object, ndim: int, what: str) -> int:
    """``axis`` in ``0 … ndim−1`` (numpy's negative axes counted from the end)."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ShapeError(f"{what}: axis {axis!r} is out of bounds for an array of {ndim} axes")
    return int(axis) % ndim


@shared
def take(a: object, indices: object, axis: int | None = None, out: None = None, mode: str = "raise") -> Node:
    """``numpy.take``: the slices of ``a`` at ``indices`` along ``axis`` (of the flattened
    array when ``axis`` is None); ``mode`` is numpy's (``"raise"``, ``"wrap"``, ``"clip"``).
    The pullback scatters the cotangent back, summing at repeated indices.

    Args:
        a: {a}
        indices: concrete integers (an array or nested lists, any shape; not an expression).
        axis: the axis indexed; ``None`` flattens ``a`` first.
        out: {out}
        mode: what an out-of-range index does: raise, wrap around, or clip to the ends.

    Returns:
        ``a`` with ``axis`` replaced by the axes of ``indices``: {tensor}.

    Raises:
        OutOfBoundsError: with ``mode="raise"``, an index is out of range (an ``IndexError``).
        OperandTypeError: the indices are not integers, or an unknown ``mode``.
        UnsupportedError: the indices are an expression (traced): they must be concrete.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.take(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=0)
        array([[3., 4.],
               [3., 4.],
               [1., 2.]])
        >>> ta.grad(lambda x: tnp.take(x, [0, 2, 2]).sum())(np.zeros(3))
        array([1., 0., 2.])
    """
    if out is not None:
        raise UnsupportedError("take: out= is not supported (arrays are immutable while tracing)")
    x = as_node(a)
    if axis is None:
        x, axis = apply("reshape", x, ((x.size,),)), 0
    axis = _axis(axis, x.ndim, "take")
    chosen, n = _integers(indices, "take"), x.shape[axis]
    if mode == "wrap" and n:
        chosen = chosen % n
    elif mode == "clip":
        chosen = np.clip(chosen, 0, max(n - 1, 0))
    elif mode != "raise":
        raise OperandTypeError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if chosen.size and (chosen.min() < -n or chosen.max() >= n):
        bad = chosen.min() if chosen.min() < -n else chosen.max()
        raise OutOfBoundsError(f"index {int(bad)} is out of bounds for axis {axis} with size {n}")
    return gather_along(x, axis, Indices.of(chosen % max(n, 1)))


@shared
def take_along_axis(arr: object, indices: object, axis: int | None = -1) -> Node:
    """``numpy.take_along_axis``: ``arr`` at ``indices`` along ``axis``, the other axes
    matched (broadcast) position by position; ``axis=None`` works on the flattened array.

    Args:
        arr: {a}
        indices: concrete integers with as many axes as ``arr`` (as ``argsort`` gives them).
        axis: the axis indexed; ``None`` flattens ``arr`` first.

    Returns:
        The entries picked, of the broadcast of ``arr``'s and ``indices``' shapes except
        along ``axis``, where ``indices``' length: {tensor}.

    Raises:
        ShapeError: ``indices`` has a different number of axes, or ``axis`` is out of range.
        OperandTypeError: the indices are not integers.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> logp = np.log(np.array([[0.5, 0.5], [0.1, 0.9]]))
        >>> np.exp(tnp.take_along_axis(logp, np.array([[1], [0]]), axis=1))
        array([[0.5],
               [0.1]])
    """
    x = as_node(arr)
    chosen = _integers(indices, "take_along_axis")
    if axis is None:
        x, axis = apply("reshape", x, ((x.size,),)), 0
    if chosen.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices have {chosen.ndim} axes, the array {x.ndim}; they must match")
    axis = _axis(axis, x.ndim, "take_along_axis")
    index = tuple(
        chosen if k == axis else np.arange(n).reshape([-1 if j == k else 1 for j in range(x.ndim)])
        for k, n in enumerate(x.shape)
    )
    return gather(x, index)


# ------------------------------------------------------------------ functional updates: x.at[index]


class At:
    """``x.at``: JAX's functional updates, ``x.at[index].set(v)``, ``.add(v)``,
    ``.multiply(v)`` and ``.get()``, for any index ``x[index]`` accepts (concrete arrays).

    Each returns a new value (nothing is changed in place). The values ``v`` broadcast to
    the shape of ``x[index]`` and are cast to ``x``'s dtype. Where an index repeats,
    ``add`` and ``multiply`` apply every update (as ``np.add.at``; JAX does the same) and
    ``set`` keeps the last one (numpy's ``x[index] = v`` in practice; JAX leaves it
    unspecified). Derivatives: ``set`` passes ``v``'s to the chosen entries and ``x``'s to
    the others (a selection, ``where``); ``add`` and ``multiply`` are sums and products.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> x = np.zeros(4)
        >>> ta.jit(lambda x: x.at[np.array([1, 1, 3])].add(1.0))(x)
        array([0., 2., 0., 1.])
        >>> ta.grad(lambda x, v: x.at[1:3].set(v).sum(), argnums=(0, 1))(x, np.ones(2))
        (array([1., 0., 0., 1.]), array([1., 1.]))

    ``.at`` is a method of traced values (numpy arrays have none): inside a function
    being differentiated or compiled, update the arguments and what is computed from them.
    """

    def __init__(self, x: Node) -> None:
        self._x = x

    def __getitem__(self, index: object) -> Update:
        return Update(self._x, index)


class Update:
    """``x.at[index]``: call ``.set``, ``.add``, ``.multiply`` or ``.get`` (see :class:`At`)."""

    def __init__(self, x: Node, index: object) -> None:
        items = index if isinstance(index, tuple) else (index,)
        for item in items:
            _advanced(item)  # refuses a traced index
        self._x, self._index = x, index
        self._flat = positions(x.shape, index)

    def get(self) -> Node:
        """``x[index]``."""
        return getitem(self._x, self._index)

    def _values(self, values: object) -> Node:
        """``values`` broadcast to the selection, flattened, in ``x``'s dtype."""
        from tensorad.ir.build import astype, broadcast_to

        v = as_node(values)
        if v.dtype != self._x.dtype:
            v = astype(v, self._x.dtype)
        try:
            shape = np.broadcast_shapes(v.shape, self._flat.shape)
        except ValueError:
            shape = ()
        if shape != self._flat.shape:
            raise ShapeError(f"at[...]: values of shape {v.shape} do not broadcast to the selection {self._flat.shape}")
        return apply("reshape", broadcast_to(v, self._flat.shape), ((self._flat.size,),))

    def _placed(self, v: Node, targets: np.ndarray, picks: np.ndarray | None) -> tuple[Node, np.ndarray]:
        """The entries ``v[picks]`` put at the distinct flat ``targets`` of ``x`` (zeros
        elsewhere), in ``x``'s shape, and the mask of the targets."""
        if picks is not None:
            v = gather_along(v, 0, Indices.of(picks))
        placed = scatter_add(v, 0, Indices.of(targets), self._x.size)
        mask = np.zeros(self._x.size, dtype=bool)
        mask[targets] = True
        return apply("reshape", placed, (self._x.shape,)), mask.reshape(self._x.shape)

    def set(self, values: object) -> Node:
        """``x`` with ``values`` at ``index`` (the last of repeated indices wins)."""
        flat = self._flat.ravel()
        reverse = flat[::-1]
        targets, first = np.unique(reverse, return_index=True)
        picks = flat.size - 1 - first
        in_order = np.array_equal(picks, np.arange(flat.size))
        placed, mask = self._placed(self._values(values), targets, None if in_order else picks)
        return where(mask, placed, self._x)

    def add(self, values: object) -> Node:
        """``x`` plus ``values`` at ``index`` (repeated indices add up)."""
        flat = self._flat.ravel()
        placed = scatter_add(self._values(values), 0, Indices.of(flat), self._x.size)
        update = apply("reshape", placed, (self._x.shape,))
        hit = np.zeros(self._x.size, dtype=bool)
        hit[flat] = True
        return where(hit.reshape(self._x.shape), plus(self._x, update), self._x)  # untouched entries as they are

    def multiply(self, values: object) -> Node:
        """``x`` times ``values`` at ``index`` (repeated indices multiply): the values of one
        index are first multiplied together, pairwise in ``log₂(repeats)`` rounds of the
        index-sized values, then each distinct index's product scales its entry once
        (products associated as a tree, so the last bits can differ from numpy's loop)."""
        v, targets = self._values(values), self._flat.ravel()
        while targets.size and np.unique(targets).size < targets.size:
            order = np.argsort(targets, kind="stable")
            sorted_ = targets[order]
            first = np.r_[True, sorted_[1:] != sorted_[:-1]]
            rank = np.arange(targets.size) - np.maximum.accumulate(np.where(first, np.arange(targets.size), 0))
            partner = np.r_[sorted_[1:] == sorted_[:-1], False] & (rank % 2 == 0)  # an even rank with a next
            left, right = order[partner], order[np.flatnonzero(partner) + 1]
            alone = order[(rank % 2 == 0) & ~partner]
            pairs = multiply(gather_along(v, 0, Indices.of(left)), gather_along(v, 0, Indices.of(right)))
            v = apply_general("concatenate", (pairs, gather_along(v, 0, Indices.of(alone))), (0,))
            targets = np.concatenate([targets[left], targets[alone]])
        placed, mask = self._placed(v, targets, None)
        return where(mask, multiply(self._x, placed), self._x)
