"""Substitution: a DAG with some nodes replaced, rebuilt through the smart constructors.

This is how transforms nest (a derivative applied to expressions instead of arrays) and
how :mod:`tensorad.symbolic.simplify` rewrites a node.
"""

from __future__ import annotations

from collections.abc import Mapping

from tensorad.ir.build import add, astype, contract
from tensorad.ir.constants import promote
from tensorad.ir.functions import elementwise, general, general_unary, pointwise
from tensorad.ir.graph import children, toposort, without_cycle_collection
from tensorad.ir.nodes import Add, Contraction, Elementwise, General, GeneralUnary, Node, Pointwise


@without_cycle_collection
def substitute(outputs: list[Node], mapping: Mapping[Node, Node]) -> list[Node]:
    """``outputs`` with each key of ``mapping`` replaced by its value, rebuilt bottom-up.

    Nodes whose operands do not change are kept as they are (shared, not copied).

    Args:
        outputs: the expressions.
        mapping: each node to replace, with its replacement (of the same shape).

    Returns:
        The rebuilt outputs, in order; each rebuilt node is built again by its builder, so
        it simplifies as any new node does.
    """
    new: dict[Node, Node] = dict(mapping)
    for node in toposort(outputs):
        if node not in new:
            new[node] = rebuild(node, [new[child] for child in children(node)])
    return [new[node] for node in outputs]


def rebuild(node: Node, operands: list[Node]) -> Node:
    """``node`` with new operands, through the smart constructors (``node`` if unchanged)."""
    if all(new is old for new, old in zip(operands, children(node), strict=True)):
        return node
    match node:
        case Contraction(s1=s1, s2=s2, s3=s3, scale=c):
            sizes = dict(zip(s3, node.shape, strict=True))
            b = operands[1] if len(operands) > 1 else None
            product = contract(operands[0], s1, b, s2, s3, sizes=sizes, scale=c)
            promoted = node.a.dtype if node.b is None else promote(node.a, node.b)[0]
            return product if node.dtype == promoted else astype(product, node.dtype)  # it casts too
        case Add():
            total = add(operands[0], operands[1])
            assert total is not None
            return total
        case Elementwise(fn=fn, param=param):
            return elementwise(fn, operands[0], param, real=_made_real(node))
        case GeneralUnary(fn=fn, params=params):
            return general_unary(fn, operands[0], params, node.shape, real=_made_real(node))
        case Pointwise(fn=fn, param=param):
            return pointwise(fn, tuple(operands), param, mask=node.dtype.kind == "b")
        case General(fn=fn, params=params):
            return general(fn, tuple(operands), params, node.shape, moves=node.dtype.kind == "b")
        case _:
            raise AssertionError(f"a leaf has no operands to replace: {node!r}")


def _made_real(node: Elementwise | GeneralUnary) -> bool:
    """True for a function with real values of a complex operand (``abs``, ``norm``)."""
    return node.dtype.kind != "c" and node.x.dtype.kind == "c"
