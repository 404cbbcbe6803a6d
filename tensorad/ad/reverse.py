"""Reverse mode: pullbacks accumulated from the outputs back to the variables.

>>> import numpy as np
>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> from tensorad.ir.constants import scalar
>>> from tensorad.run.evaluate import evaluate
>>> x = Variable("x", (2,))
>>> y = contract(x, "i", x, "i", "")            # y = x·x
>>> (x_bar,) = pullback([y], [scalar(1.0, y.dtype)], [x])   # x̄ = 2x
>>> evaluate([x_bar], {x: np.array([1.0, 2.0])})[0]
array([2., 4.])
"""

from __future__ import annotations

from collections.abc import Sequence

from tensorad.ad.rules import vjp
from tensorad.ir.build import add
from tensorad.ir.graph import children, toposort, without_cycle_collection
from tensorad.ir.nodes import Node, Variable


@without_cycle_collection
def pullback(outputs: Sequence[Node], cotangents: Sequence[Node], wrt: Sequence[Variable]) -> list[Node | None]:
    """``x̄`` for each variable of ``wrt``, given ``C̄`` for each output (``None`` = zero).

    Every cotangent carries the same leading ``s4`` axes; so does every result.

    Args:
        outputs: the expressions to differentiate.
        cotangents: one per output, of the output's shape after the s4 axes.
        wrt: the variables whose cotangents are wanted.

    Returns:
        Each variable's cotangent, ``None`` where no output depends on it.
    """
    order = toposort(outputs)
    active: set[Node] = set(wrt)
    for node in order:
        if not active.isdisjoint(children(node)):
            active.add(node)
    bars: dict[Node, Node | None] = {}
    for node, seed in zip(outputs, cotangents, strict=True):
        bars[node] = add(bars.get(node), seed)
    for node in reversed(order):
        if node not in active or isinstance(node, Variable):
            continue
        c_bar = bars.pop(node, None)
        if c_bar is None:
            continue
        operands = children(node)
        needs = tuple(child in active for child in operands)
        for child, child_bar in zip(operands, vjp(node, c_bar, needs), strict=True):
            if child_bar is not None:
                bars[child] = add(bars.get(child), child_bar)
    return [bars.get(x) for x in wrt]
