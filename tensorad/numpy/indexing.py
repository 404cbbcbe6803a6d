"""Basic indexing ``x[index]``: integers, slices, ``None`` and ``...``.

An integer or a strided slice along an axis is a contraction with a 0/1 selection
matrix, so it is differentiable like any other product.
"""

from __future__ import annotations

import numpy as np

from tensorad.errors import OutOfBoundsError, ShapeError, UnsupportedError
from tensorad.ir import constants
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.run import budget


def getitem(x: object, index: object) -> Node:
    """``x[index]`` for integers, slices, ``None`` and ``...`` (no fancy indexing).

    An integer or a strided slice along an axis is a contraction with a 0/1 selection
    matrix, so it is differentiable like any other product.
    """
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
    labels = fresh_labels(a.ndim)
    out, sizes, factors = "", {}, []
    axis = 0
    spare = iter(fresh_labels(2 * len(items) + a.ndim, labels))
    for item in items:
        if item is None:
            label = next(spare)
            out += label
            sizes[label] = 1
            continue
        n, label = a.shape[axis], labels[axis]
        axis += 1
        if isinstance(item, slice) and item == slice(None):
            out += label
            continue
        if isinstance(item, slice):
            picks = range(n)[item]
            new = next(spare)
            out += new
        else:
            assert isinstance(item, (int, np.integer))
            k = int(item)
            if not -n <= k < n:
                raise OutOfBoundsError(f"index {k} is out of bounds for axis {axis - 1} with size {n}")
            picks, new = range(k % n, k % n + 1), ""
        budget.check(f"the selection matrix of index {item!r}", (len(picks), n), a.dtype)
        matrix = np.zeros((len(picks), n), dtype=a.dtype)
        matrix[np.arange(len(picks)), list(picks)] = 1.0
        factors.append((matrix if new else matrix[0], new + label))
    result = a
    current = labels
    for matrix, mlabels in factors:
        target = "".join(label for label in current if label != mlabels[-1]) + mlabels[:-1]
        result = contract(result, current, constants.constant(matrix), mlabels, target)
        current = target
    order = "".join(label for label in out)
    return contract(result, current, None, "", order, sizes=sizes)
