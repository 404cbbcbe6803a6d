"""``einsum`` and the products numpy builds on it: ``matmul``, ``dot``, ``outer``.

A multi-operand ``einsum`` is lowered to binary contractions along a greedy order
(cheapest pair first); size-1 axes broadcast against larger ones.
"""

from __future__ import annotations

import math

from tensorad._types import Labels
from tensorad.errors import ShapeError
from tensorad.ir.build import as_node, contract
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.ir.spec import label_sizes, parse
from tensorad.numpy.arithmetic import multiply
from tensorad.numpy.axes import reshape


def einsum(subscripts: str, *operands: object) -> Node:
    """``numpy.einsum(subscripts, *operands)`` as an expression (numpy's full semantics).

    Implicit and explicit output, repeated labels, ``...`` and size-1 broadcasting all
    work as in numpy. Size-1 axes broadcast against larger ones; several operands are
    contracted pairwise, cheapest pair first.

    Raises:
        SpecError: The subscripts are malformed or do not fit the operands' ranks.
        ShapeError: A label has two different sizes (other than 1).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
        >>> ta.einsum("ij,j->i", A, x)
        array([-1., -1.])
        >>> ta.einsum("ii", A)                              # implicit output: the trace
        array(5.)
        >>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(x)   # (A + Aᵀ) x
        array([-3., -3.])
    """
    nodes = [as_node(op) for op in operands]
    spec = parse(subscripts, tuple(node.ndim for node in nodes))
    sizes = label_sizes(spec, tuple(node.shape for node in nodes))
    terms: list[tuple[Node, Labels]] = []
    for node, labels in zip(nodes, spec.inputs, strict=True):
        kept = "".join(
            label for label, n in zip(labels, node.shape, strict=True) if n == sizes[label]
        )
        if kept != labels:  # size-1 axes broadcast against a larger size: sum them away
            spare = iter(fresh_labels(len(labels), labels))
            own = "".join(
                label if n == sizes[label] else next(spare)
                for label, n in zip(labels, node.shape, strict=True)
            )
            node = contract(node, own, None, "", kept)
        terms.append((node, kept))
    return _contract_all(terms, spec.output, sizes)


def _contract_all(terms: list[tuple[Node, Labels]], out: Labels, sizes: dict[str, int]) -> Node:
    if not terms:
        raise ShapeError("einsum needs at least one operand")
    while len(terms) > 2:
        best: tuple[int, int, int, int] | None = None
        for i in range(len(terms)):
            for j in range(i + 1, len(terms)):
                labels = set(terms[i][1]) | set(terms[j][1])
                cost = math.prod(sizes[label] for label in labels)
                if best is None or cost < best[0]:
                    best = (cost, 0, i, j)
        assert best is not None
        _, _, i, j = best
        (a, la), (b, lb) = terms[i], terms[j]
        rest = [term for k, term in enumerate(terms) if k not in (i, j)]
        needed = set(out).union(*(set(labels) for _, labels in rest))
        keep = "".join(dict.fromkeys(label for label in la + lb if label in needed))
        terms = [*rest, (contract(a, la, b, lb, keep), keep)]
    if len(terms) == 1:
        (a, la), = terms
        return contract(a, la, None, "", out, sizes=sizes)
    (a, la), (b, lb) = terms
    return contract(a, la, b, lb, out, sizes=sizes)


def matmul(x: object, y: object) -> Node:
    """``x @ y`` with numpy's rules (1-d operands, broadcast batch axes).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.matmul(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
        >>> ta.matmul(np.ones((5, 2, 3)), np.ones((3, 4))).shape
        (5, 2, 4)
    """
    a, b = as_node(x), as_node(y)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must not be 0-d (shapes {a.shape} and {b.shape})")
    inner_a, inner_b = a.shape[-1], b.shape[0 if b.ndim == 1 else -2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align ({inner_a} != {inner_b})")
    if a.ndim == 1:
        equation = "i,i->" if b.ndim == 1 else "j,...jk->...k"
    else:
        equation = "...ij,j->...i" if b.ndim == 1 else "...ij,...jk->...ik"
    return einsum(equation, a, b)


def dot(x: object, y: object) -> Node:
    """``numpy.dot``: the last axis of ``x`` against the second-to-last of ``y``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
        >>> ta.dot(np.ones((2, 3)), np.ones((4, 3, 5))).shape
        (2, 4, 5)
    """
    a, b = as_node(x), as_node(y)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    la = fresh_labels(a.ndim - 1, "z") + "z"
    rest = fresh_labels(b.ndim - 1, la)
    lb = rest[:-1] + "z" + rest[-1:] if b.ndim >= 2 else "z"
    return contract(a, la, b, lb, la[:-1] + lb.replace("z", ""))


def outer(x: object, y: object) -> Node:
    """``numpy.outer``: the flattened operands' outer product.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.outer(np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0]))
        array([[ 1.,  0., -1.],
               [ 2.,  0., -2.]])
    """
    a, b = reshape(as_node(x), -1), reshape(as_node(y), -1)
    return contract(a, "i", b, "j", "ij")
