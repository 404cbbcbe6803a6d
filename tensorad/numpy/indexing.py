"""Basic indexing ``x[index]``: integers, slices, ``None`` and ``...``.

Integers and unit-step slices cut one window out of the array (``crop``, a view, whose
adjoint ``pad`` puts the cotangent back among zeros: :mod:`tensorad.library.shape`); a
slice with another step is a contraction with a 0/1 selection matrix, so it is
differentiable like any other product.
"""

from __future__ import annotations

import numpy as np

from tensorad.errors import OperandTypeError, OutOfBoundsError, ShapeError, UnsupportedError
from tensorad.ir import constants
from tensorad.ir.build import add, contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply


def getitem(x: object, index: object) -> Node:
    """``x[index]`` for integers, slices, ``None`` and ``...`` (no fancy indexing)."""
    a = as_node(x)
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))) or isinstance(
            item, bool
        ):
            raise UnsupportedError(
                f"index {item!r} is not supported: use integers, slices, None and ...; "
                "fancy and boolean indexing are not implemented"
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


def pad(array: object, pad_width: object, mode: str = "constant", *, constant_values: float = 0.0) -> Node:
    """``numpy.pad`` with ``mode="constant"``: ``array`` surrounded by ``constant_values``.

    ``pad_width`` is numpy's: one int for every side, ``(before, after)`` for every axis,
    or one pair per axis. The derivative is zero on the padding and passes through
    inside it (the rule of ``pad`` is ``crop``, its adjoint).

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
    outside = np.pad(np.zeros(a.shape, dtype=padded.dtype), pairs, constant_values=constant_values)
    result = add(padded, constants.constant(outside))
    assert result is not None  # neither term is a symbolic zero
    return result
