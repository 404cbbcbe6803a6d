"""Sums ``x + (−1)·w`` computed as ``x − w``: a derivative's ``1 − tanh²``, ``s − s²``.

>>> import numpy as np
>>> from tensorad.run.differences import difference_kernels
>>> subtract, _ = difference_kernels(0)   # w first: w, x ↦ x − w
>>> subtract(np.array([1.0]), np.array([3.0]))
array([2.])
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import numpy as np

from tensorad._types import Array
from tensorad.ir.nodes import Add, Contraction, Node
from tensorad.run.straight import InPlace


def differences(
    order: Sequence[Node], counts: Callable[[], dict[Node, int]], special: Collection[Node]
) -> dict[Add, int]:
    """The sums ``x + (−1)·w`` to compute as ``x − w`` (each with ``w``'s position): a
    derivative's ``1 − tanh²``, ``s − s²``. ``w`` is a contraction that nothing else uses,
    all three are of one real dtype and shape, and neither ``x`` nor ``w`` is ``special``
    (deferred terms and blocked sums apply their own scales or make the sum theirs).
    Forming ``(−1)·w`` costs a pass over it (``np.multiply(w, −1)``) and a call, and the
    sum is the same numbers: IEEE subtraction is the addition of the negation, and
    negation is exact (a scale of −1 moved onto an operand or a sum's terms changes no
    rounding).

    Args:
        order: the plan's nodes in evaluation order.
        counts: returns each node's number of uses (called only if there is a sum).
        special: nodes whose steps are not their own kernels.

    Returns:
        Each such sum with the position (0 or 1) of its term ``w``.
    """
    sums = [node for node in order if type(node) is Add and node.a is not node.b]
    if not sums:
        return {}
    uses = counts()
    found: dict[Add, int] = {}
    for node in sums:
        for position, w in enumerate((node.a, node.b)):
            other = node.b if position == 0 else node.a
            if (
                isinstance(w, Contraction)
                and w.scale == -1.0
                and w.dtype.kind == "f"  # (a complex (−1 + 0j)·w is not an exact negation: ±0, inf)
                and uses[w] == 1
                and w not in special
                and other not in special
                and w.dtype == other.dtype == node.dtype
                and w.shape == other.shape == node.shape
            ):
                found[node] = position
                break
    return found


def difference_kernels(position: int) -> tuple[Callable[[Array, Array], Array], InPlace]:
    """``x − w`` for the operands of a sum whose term ``w`` is at ``position``, and the
    same into the array of an operand ``k`` that dies there.

    Args:
        position: where ``w`` is among the sum's operands.

    Returns:
        ``(kernel, into)``: ``kernel(*operands)`` is ``x − w``; ``into(operands, k)``
        computes it into the array of operand ``k``.
    """
    if position == 1:
        return np.subtract, lambda args, k: np.subtract(args[0], args[1], out=args[k])
    return lambda w, x: np.subtract(x, w), lambda args, k: np.subtract(args[1], args[0], out=args[k])
