"""Forward mode: the pushforward of every node, operands first.

>>> import numpy as np
>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> from tensorad.run.evaluate import evaluate
>>> x, v = Variable("x", (2,)), Variable("v", (2,))
>>> y = contract(x, "i", x, "i", "")            # y = x·x
>>> (y_dot,) = pushforward([y], {x: v})         # ẏ = 2 x·v
>>> evaluate([y_dot], {x: np.array([1.0, 2.0]), v: np.array([1.0, 0.0])})[0]
array(2.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tensorad.ad.rules import jvp
from tensorad.ir.graph import children, toposort, without_cycle_collection
from tensorad.ir.nodes import Constant, Node, Variable


@without_cycle_collection
def pushforward(outputs: Sequence[Node], seeds: Mapping[Variable, Node]) -> list[Node | None]:
    """``Ċ`` for each output, given ``ẋ`` for the seeded variables (``None`` = zero).

    Every seed carries the same trailing ``s4`` axes; so does every result.

    Args:
        outputs: the expressions to differentiate.
        seeds: the tangent of each variable that has one.

    Returns:
        Each output's tangent, ``None`` where it does not depend on a seeded variable.
    """
    dots: dict[Node, Node | None] = {}
    for node in toposort(outputs):
        if isinstance(node, Variable):
            dots[node] = seeds.get(node)
        elif isinstance(node, Constant):
            dots[node] = None
        else:
            operand_dots = [dots[child] for child in children(node)]
            dots[node] = None if all(d is None for d in operand_dots) else jvp(node, operand_dots)
    return [dots[node] for node in outputs]
