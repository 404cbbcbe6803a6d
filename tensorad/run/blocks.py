"""Blocked sums: ``C = Σ_k W[k]ᵀ B[k]`` where ``W = x ⊙ y`` is a large product that sums
nothing and that nothing else uses, accumulated over blocks of rows ``k``
(``C += W_kᵀ B_k``): ``W`` is never formed whole.

The data-bound Hessian is the case this is for: ``H = Xᵀ diag(s) X`` of a logistic
regression is a product of ``W = s ⊙ X`` (``m × d``, ``m/d`` times the Hessian's size)
with ``X``, summing the ``m`` rows. Formed whole, ``W`` sets the peak (12× the Hessian
at ``m = 4000, d = 400``); blocked, the peak is the Hessian, a buffer of its size for
each block's product, and one block of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.ir.nodes import Contraction, Node
from tensorad.run import blas

BLOCK_BYTES = (1 << 18, 1 << 24)
"""Least and most bytes of one block of rows of ``W``, the only part of it formed at a
time: half the result's bytes between these bounds, so that the peak stays under twice
the result's size (1.6× for the logistic Hessian at ``m = 4000, d = 400``, where ``W``
whole is 10×) while each product has enough rows to run at full speed."""

DEFERRED_SIZE = 1 << 16
"""Smallest product that is accumulated block by block (or added into a sum) instead of
being formed."""


def multiply_block(terms: tuple[Array, Array, Any], block: slice, out: Array, pack: tuple[bool, bool]) -> None:
    """``out = (x ⊙ y)·c`` over a block of rows, for a deferred product's ``(x, y, c)`` (an
    operand of one row broadcasts along them; ``c`` ``None``: no scale), rounded as the
    product's kernel rounds it; an operand whose ``pack`` (:func:`packing`) is true is
    copied out C-ordered first."""
    x, y, c = terms
    xs, ys = (
        (_packed(v[block]) if p else v[block]) if v.shape[0] > 1 else v for v, p in zip((x, y), pack, strict=True)
    )
    np.multiply(xs, ys, out=out)
    if c is not None:
        np.multiply(out, c, out=out)


PACKED_RUN = 16
"""Fewest entries a product's operand must hold in a run of its axes that numpy's loops
can merge (equal strides, nothing broadcast) to be read where it lies: shorter, its rows
are copied out first (:func:`packing`)."""


def packing(terms: tuple[Array, Array, Any]) -> tuple[bool, bool]:
    """Which operands of a deferred product's ``(x, y, c)`` :func:`multiply_block` copies
    out C-ordered, a block of rows at a time (broadcast axes kept of length 1): one whose
    last axes merge into runs of fewer than :data:`PACKED_RUN` entries (axes merge when
    one's stride is the next one's times its length) while those of the other operand do
    not. A transposed block of the pairwise Hessian's terms has runs of 3, the other
    operand runs of 1,800.

    numpy's loops run along the longest run of merged axes that *all* operands share;
    with one operand transposed that is a few entries per loop, and a multiply then
    costs 2–4× its time. A copy's loop is cheap per entry, and after it the operands'
    runs are the output's rows (1.41 → 0.66 ms for the pairwise Hessian's
    ``H[b,d,a,c] += 2·T[a,b,c]·x[a,d]``). Two operands in the same short runs share
    them: copying them would cost two passes for nothing. The entries are the same
    numbers either way.
    """
    x, y, _ = terms
    return _short(x, y), _short(y, x)


def _short(view: Array, other: Array) -> bool:
    if view.shape[0] == 1 or view.strides[-1] == 0 or view.size < PACKED_RUN * view.shape[0]:
        return False  # broadcast along its rows or its last axis, or short rows
    run = _run(view.shape, view.strides)
    if run >= PACKED_RUN or run == view.size:
        return False
    shape = [max(n, m) for n, m in zip(view.shape, other.shape, strict=True)]  # other's axes of 1 broadcast:
    return _run(shape, [s if m > 1 else 0 for m, s in zip(other.shape, other.strides, strict=True)]) >= PACKED_RUN


def _run(shape: Sequence[int], strides: Sequence[int]) -> int:
    """The entries in the run of an array's last axes that numpy's loops merge."""
    run, merged = 1, None
    for n, stride in zip(reversed(shape), reversed(strides), strict=True):
        if n == 1:
            continue
        if merged is not None and stride != merged:
            break
        run, merged = run * n, stride * n
    return run


def _packed(view: Array) -> Array:
    at = tuple(slice(0, 1) if stride == 0 else slice(None) for stride in view.strides)
    return np.ascontiguousarray(view[at])


def is_broadcast_product(w: Node) -> bool:
    """A large product of two operands with distinct labels, all of them in the output
    (an outer or entrywise product, broadcasting): it sums nothing."""
    return (
        isinstance(w, Contraction)
        and w.b is not None
        and w.size >= DEFERRED_SIZE
        and w.ndim > 0
        and set(w.s1) | set(w.s2) == set(w.s3)
        and all(len(set(s)) == len(s) for s in (w.s1, w.s2, w.s3))
        and np.result_type(w.a.dtype, w.b.dtype) == w.dtype
    )


def blocked_sums(order: Sequence[Node], counts: Callable[[], Mapping[Node, int]]) -> dict[Contraction, Contraction]:
    """The products ``C`` of ``order`` to accumulate block by block, each with its ``W``.

    ``C = α *(s_W, s_B, s3)(W, B)`` qualifies when it is a matrix product summing one
    label ``k``, the first axis of both ``W`` and ``B`` — ``s_W = k P``, ``s_B = k Q``,
    ``s3 = P Q`` or ``Q P`` with ``P``, ``Q`` disjoint — in a BLAS dtype, and ``W`` is a
    broadcast product used by ``C`` alone, at least twice ``C``'s size. ``counts()``: the
    uses of each node (an output counts as one), as :func:`~tensorad.ir.graph.use_counts`.
    """
    if not any(is_broadcast_product(node) for node in order):
        return {}
    uses = counts()
    blocked: dict[Contraction, Contraction] = {}
    for c in order:
        if not isinstance(c, Contraction) or c.b is None or c.a is c.b or c.dtype.char not in "fdFD":
            continue
        for w, s_w, other, s_other in ((c.a, c.s1, c.b, c.s2), (c.b, c.s2, c.a, c.s1)):
            if (
                is_broadcast_product(w)
                and uses[w] == 1
                and w.size >= 2 * c.size
                and w.dtype == other.dtype == c.dtype
                and _layout(s_w, s_other, c.s3) is not None
            ):
                assert isinstance(w, Contraction)
                blocked[c] = w
                break
    return blocked


def _layout(s_w: str, s_other: str, s3: str) -> bool | None:
    """Whether ``s3`` lists ``W``'s labels first (``True``) or ``B``'s (``False``), for a
    matrix product over the first label of both; ``None`` for any other product."""
    if not s_w or not s_other or s_w[0] != s_other[0]:
        return None
    p, q = s_w[1:], s_other[1:]
    if set(p) & set(q) or s_w[0] in s3 or len(set(s_w)) < len(s_w) or len(set(s_other)) < len(s_other):
        return None
    return True if s3 == p + q else False if s3 == q + p else None


def block_sum_kernel(c: Contraction, w: Contraction) -> Callable[..., Array]:
    """``C`` from ``W``'s deferred operands ``(x, y, c)`` (broadcast views and the scale
    left to their product, see the plan) and ``B``: for each block of rows ``k``,
    ``W_k = (x_k ⊙ y_k)·c`` into one buffer, then
    ``C += W_kᵀ B_k`` (``C``'s matrix view, or its transpose), and ``C *= α`` at the end.

    Each block's product is added onto ``C`` by BLAS itself (``gemm`` with β = 1,
    :mod:`~tensorad.run.blas`), so no buffer of ``C``'s size is needed. Equal to the whole
    product up to the order of the sum over ``k`` (one block's partial sums after
    another)."""
    w_first = c.a is w
    s_w, s_other = (c.s1, c.s2) if w_first else (c.s2, c.s1)
    w_then_other = _layout(s_w, s_other, c.s3)
    assert w_then_other is not None
    rows = w.shape[0]
    least, most = BLOCK_BYTES
    block_bytes = min(most, max(least, c.size * c.dtype.itemsize // 2))
    step = max(1, block_bytes // max(1, (w.size // rows) * w.dtype.itemsize))
    alpha, shape, dtype = c.scale, c.shape, c.dtype

    def block_sum(*args: Any) -> Array:
        terms, b = (args[0], args[1]) if w_first else (args[1], args[0])
        out = np.empty(shape, dtype)
        matrix = out.reshape(-1, b.size // rows if w_then_other else w.size // rows)
        buffer = np.empty((min(step, rows), *w.shape[1:]), dtype)  # the one block of W
        pack = packing(terms)
        for start in range(0, rows, step):
            block = slice(start, start + step)
            n = min(step, rows - start)
            multiply_block(terms, block, buffer[:n], pack)
            w_k = buffer[:n].reshape(n, -1)
            b_k = b[block].reshape(n, -1)
            lhs, rhs = (w_k.T, b_k) if w_then_other else (b_k.T, w_k)
            blas.matmul_into(lhs, rhs, matrix, accumulate=start > 0)
        if alpha != 1.0:
            matrix *= dtype.type(alpha)
        return out

    return block_sum
