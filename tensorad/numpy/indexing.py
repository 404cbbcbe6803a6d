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
from tensorad.run import budget


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
    """One window (``crop``) for the integers and unit-step slices, a 0/1 selection
    matrix for each other slice, then one contraction that drops the integers' axes and
    inserts the ``None`` ones."""
    labels = fresh_labels(a.ndim)
    spare = iter(fresh_labels(2 * len(items) + a.ndim, labels))
    windows: list[tuple[int, int]] = []
    strided: list[tuple[int, range]] = []
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
            if picks.step == 1 or len(picks) <= 1:
                start = picks.start if picks else 0
                windows.append((start, start + len(picks)))
            else:
                windows.append((0, n))
                strided.append((axis, picks))
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
    current = labels
    for axis, picks in strided:
        n, label, new = a.shape[axis], labels[axis], next(spare)
        budget.check(f"the selection matrix of a slice of axis {axis}", (len(picks), n), a.dtype)
        matrix = np.zeros((len(picks), n), dtype=a.dtype)
        matrix[np.arange(len(picks)), list(picks)] = 1.0
        target = current.replace(label, new)
        result = contract(result, current, constants.constant(matrix), new + label, target)
        current, out = target, out.replace(label, new)
    return contract(result, current, None, "", out, sizes=sizes)


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
