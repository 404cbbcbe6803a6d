"""Substitution: a DAG with some nodes replaced, rebuilt through the smart constructors.

This is how transforms nest (a derivative applied to expressions instead of arrays) and
how :mod:`tensorad.symbolic.simplify` rewrites a node.
"""

from __future__ import annotations

from collections.abc import Mapping

from tensorad.ir.build import add, contract, elementwise, general_unary
from tensorad.ir.nodes import Add, Contraction, Elementwise, GeneralUnary, Node, children, toposort


def substitute(outputs: list[Node], mapping: Mapping[Node, Node]) -> list[Node]:
    """``outputs`` with each key of ``mapping`` replaced by its value, rebuilt bottom-up.

    Nodes whose operands do not change are kept as they are (shared, not copied).
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
            return contract(operands[0], s1, b, s2, s3, sizes=sizes, scale=c)
        case Add():
            total = add(operands[0], operands[1])
            assert total is not None
            return total
        case Elementwise(fn=fn, param=param):
            return elementwise(fn, operands[0], param, real=node.dtype.kind != "c" and node.x.dtype.kind == "c")
        case GeneralUnary(fn=fn, params=params):
            return general_unary(fn, operands[0], params, node.shape)
        case _:
            raise AssertionError(f"a leaf has no operands to replace: {node!r}")
