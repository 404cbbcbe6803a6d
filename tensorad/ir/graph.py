"""Walking a DAG: each node's operands, a topological order, use counts, the variables.

Every traversal is iterative, so a chain of any length is fine.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

from tensorad.ir.nodes import (
    NODE_TYPES,
    Add,
    Constant,
    Contraction,
    Elementwise,
    General,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)


def children(node: Node) -> tuple[Node, ...]:
    """The operands of ``node``, in order.

    Args:
        node: any node.

    Returns:
        Its operands (empty for a variable or a constant); a unary contraction has one.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ir.graph import children
        >>> x = ta.Variable("x", (3,))
        >>> children(ta.exp(x))
        (<Variable x shape=(3,)>,)
    """
    return _OPERANDS[type(node)](node)  # a table by type: the hottest function of every traversal


def _leaf(node: Any) -> tuple[Node, ...]:
    return ()


_OPERANDS: dict[type, Callable[[Any], tuple[Node, ...]]] = {
    Variable: _leaf,
    Constant: _leaf,
    Contraction: lambda node: (node.a,) if node.b is None else (node.a, node.b),
    Add: lambda node: (node.a, node.b),
    Elementwise: lambda node: (node.x,),
    GeneralUnary: lambda node: (node.x,),
    Pointwise: lambda node: node.args,
    General: lambda node: node.args,
}
assert set(_OPERANDS) == set(NODE_TYPES), "every node kind lists its operands"


P = ParamSpec("P")
R = TypeVar("R")


def without_cycle_collection(build: Callable[P, R]) -> Callable[P, R]:
    """``build`` run with Python's cyclic garbage collector paused (and resumed after).

    A derivative or a plan of a deep DAG allocates hundreds of thousands of objects that
    all stay alive; each collection would traverse every one of them again, and the
    collections cost more than the building (a 10⁵-op gradient: 1.5 s of 4.6 s). Nodes
    form no reference cycles (a DAG points only at operands), so nothing collectable
    waits; reference counting frees everything else as usual, and whatever cycles form
    meanwhile are collected after ``build`` returns.
    """

    @functools.wraps(build)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():  # nested, or paused by the caller
            return build(*args, **kwargs)
        gc.disable()
        try:
            return build(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@without_cycle_collection
def toposort(outputs: Iterable[Node], operands: Callable[[Node], Sequence[Node]] | None = None) -> list[Node]:
    """Every node reachable from ``outputs``, operands before their users.

    Iterative depth-first search, so a chain of any length is fine. ``operands`` lists
    a node's children in the order to visit them (default: :func:`children`).

    Args:
        outputs: the nodes to start from.
        operands: a node's children, in visiting order (default: :func:`children`).

    Returns:
        Each reachable node once, every node after its operands, the outputs' own order
        deciding ties.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ir.graph import toposort
        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> [type(node).__name__ for node in toposort([ta.exp(A @ x)])]
        ['Variable', 'Variable', 'Contraction', 'Elementwise']
    """
    visit = children if operands is None else operands
    order: list[Node] = []
    done: set[int] = set()
    for root in outputs:
        stack: list[tuple[Node, Iterator[Node]]] = []
        if id(root) not in done:
            done.add(id(root))
            stack.append((root, iter(visit(root))))
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if id(child) not in done:
                    done.add(id(child))
                    stack.append((child, iter(visit(child))))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def use_counts(order: Iterable[Node], outputs: Iterable[Node]) -> dict[Node, int]:
    """How often each node of ``order`` (a :func:`toposort` of ``outputs``) is used: once
    per operand slot that holds it, and once for each time it is an output.

    Args:
        order: the nodes to count uses in, a :func:`toposort` of ``outputs``.
        outputs: the outputs, each counting as one use.

    Returns:
        The number of uses of each node that has one (a node used twice by one product counts 2).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ir.graph import toposort, use_counts
        >>> x = ta.Variable("x", (3,))
        >>> y = ta.exp(x)
        >>> use_counts(toposort([y * y]), [y * y])[y]
        2
    """
    counts: dict[Node, int] = {}
    for node in outputs:
        counts[node] = counts.get(node, 0) + 1
    for node in order:
        for child in children(node):
            counts[child] = counts.get(child, 0) + 1
    return counts


@without_cycle_collection
def unbound_variable(outputs: Iterable[Node], bound: Container[Node]) -> Variable | None:
    """A variable the outputs depend on that is not in ``bound``, or ``None``.

    Args:
        outputs: the expressions.
        bound: the variables that have values.

    Returns:
        The first such variable met (a walk that stops there: cheaper than
        :func:`variables` on a deep DAG), or ``None`` when every variable is bound.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ir.graph import unbound_variable
        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> unbound_variable([A @ x], {A}).name, unbound_variable([A @ x], {A, x})
        ('x', None)
    """
    seen: set[int] = set()
    stack = list(outputs)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Variable) and node not in bound:
            return node
        stack.extend(children(node))
    return None


def variables(outputs: Iterable[Node]) -> list[Variable]:
    """The variables the outputs depend on, in topological order.

    Args:
        outputs: the expressions.

    Returns:
        Each variable once, operands before users (as :func:`toposort` finds them).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ir.graph import variables
        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> [v.name for v in variables([ta.exp(A @ x) + 1.0])]
        ['A', 'x']
    """
    return [node for node in toposort(outputs) if isinstance(node, Variable)]
