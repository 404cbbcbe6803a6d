"""Operands transposed once: a small matrix that several matrix products of a plan read
transposed is copied once, transposed, and the products read the copy as it is.

BLAS takes a transposed operand as it lies (a flag, no copy), but for small matrices
OpenBLAS's kernels are not equally fast in every layout: ``h @ Wᵀ`` for ``h`` of 32 × 64
and ``W`` of 64 × 64 takes 6.7 µs where ``h @ V`` with ``V = Wᵀ`` stored C-ordered takes
4.4 µs, and the copy 1.6 µs (for larger matrices, or a few rows of ``h``, the layouts cost
the same). A recurrent
network's forward pass reads its weight matrix transposed at every step: 200 steps,
200 products. (The two layouts run different BLAS kernels, so a product may differ in
its last bits from the one read transposed: the rounding of any other BLAS product.)

>>> import numpy as np
>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> from tensorad.run.layouts import transposed_operands
>>> W, h = Variable("W", (4, 4)), Variable("h", (8, 4))
>>> y = contract(h, "bi", W, "ji", "bj")
>>> z = contract(y, "bi", W, "ji", "bj")
>>> rewritten = transposed_operands([W, h, y, z], lambda node: node, set())
>>> [(node.s2, new.s2) for node, (_, new, _) in rewritten.items()]  # Wᵀ's copy is read as it lies
[('cb', 'bc'), ('cb', 'bc')]
>>> len({id(copy) for _, _, copy in rewritten.values()})  # one copy for both products
1
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

import numpy as np

from tensorad._types import Array
from tensorad.ir.nodes import Contraction, Node
from tensorad.run.contractions import contraction_kernel

SMALL = 1 << 12
"""Most entries of a matrix copied transposed: past 64 × 64 the layouts cost about the same
(42.1 against 40.9 µs for 64 × 128 · 128 × 128) and a copy much more (15 µs for 128 × 128,
whose rows' stride of 1 KiB lands every read in one cache set)."""
ROWS = 8
"""Fewest rows of the other operand: with one (a matrix-vector product) or a few, reading
the copy saves nothing."""


def transposed_operands(
    order: Sequence[Node], computed: Callable[[Node], Node], special: Collection[Node]
) -> dict[Contraction, tuple[int, Contraction, Contraction]]:
    """The matrix products of ``order`` to compute from a transposed copy of an operand:
    each product mapped to the position of that operand, the product (as the plan
    computes it, ``computed(node)``) rewritten to read the copy, and the copy: a
    transpose node shared by every product that reads the same matrix (its step is
    :func:`transposed_copy`).

    A product qualifies when its matrix product is a plain ``np.matmul`` with the
    operand transposed and is not without, the operand a small matrix (:data:`SMALL`) of the
    product's dtype, the other operand of :data:`ROWS` rows or more and not the same node
    (``x xᵀ`` stays numpy's exactly symmetric product), and two or more products read the
    matrix so; ``special`` nodes (deferred terms, blocked sums) have kernels of their own
    and are left alone.

    Args:
        order: the plan's nodes in evaluation order.
        computed: what the plan computes for a node (a term it subtracts, unscaled).
        special: nodes whose steps are not their kernels.

    Returns:
        ``{product: (position, rewritten product, copy)}``.
    """
    candidates: dict[Node, list[tuple[Contraction, int, Contraction, Contraction]]] = {}
    copies: dict[Node, Contraction] = {}
    for node in order:
        if not isinstance(node, Contraction) or node.b is None or node in special:
            continue
        product = computed(node)
        assert isinstance(product, Contraction) and product.b is not None
        if product.a is product.b or _plain_matmul(product):  # x xᵀ: numpy's exactly symmetric syrk
            continue
        for position, (operand, labels) in enumerate(((product.a, product.s1), (product.b, product.s2))):
            if operand.ndim != 2 or operand.size > SMALL or operand.dtype != product.dtype or labels[0] == labels[1]:
                continue
            kept = operand.shape[0] if labels[0] in product.s3 else operand.shape[1]
            if product.size < ROWS * kept:  # a matrix-vector product: no faster from the copy
                continue
            if operand in copies:
                copy = copies[operand]
            else:
                copy = Contraction(operand, None, "ab", "", "ba", 1.0, operand.shape[::-1], operand.dtype, operand.weak)
            swapped = labels[::-1]
            rewritten = replace(product, a=copy, s1=swapped) if position == 0 else replace(product, b=copy, s2=swapped)
            if _plain_matmul(rewritten):
                copies[operand] = copy
                candidates.setdefault(operand, []).append((node, position, rewritten, copy))
                break
    return {node: (k, new, copy) for users in candidates.values() if len(users) > 1 for node, k, new, copy in users}


def _plain_matmul(product: Contraction) -> bool:
    """Whether ``product``'s matrix product (before any scale) is ``np.matmul`` of its
    operands as they lie."""
    return contraction_kernel(replace(product, scale=1.0)) is np.matmul


def transposed_copy(matrix: Array) -> Array:
    """A C-ordered copy of ``matrix``'s transpose."""
    return np.ascontiguousarray(matrix.T)
