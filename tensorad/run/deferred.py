"""Terms never formed: a term ``W`` of a sum ``acc + W``, used by nothing else, that the
plan adds onto ``acc`` (in place when ``acc`` dies there) instead of building it:

* a diagonal embedding (mostly zeros): its core is added onto ``acc``'s diagonal;
* a large product that sums nothing (an outer or entrywise product, a scaled transpose
  ``c·Xᵀ``): it is added a block of rows at a time, through a buffer of one block.

Each entry of the sum is the same roundings as forming ``W`` first. The plan
(:mod:`tensorad.run.plan`) finds the terms (:func:`deferred_terms`), computes each one's
:func:`deferred_kernel` in its place, and the sum with :func:`add_into_kernels`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.ir.nodes import Add, Contraction, Node
from tensorad.run.blocks import DEFERRED_SIZE, is_broadcast_product, multiply_block, packing
from tensorad.run.buffers import computes_into
from tensorad.run.contractions import (
    Kernel,
    broadcast_operands,
    contraction_kernel,
    diagonal_view,
    exact_scale,
    scale_smaller,
)
from tensorad.run.straight import InPlace


def deferred_kernel(w: Contraction) -> Callable[..., Any]:
    """What a deferred term's step computes: a diagonal embedding's core, or a product's
    operands as broadcast views and the scale left to apply to their product, ``(x, y,
    c)`` (``c`` is ``None`` when there is none). As the product's own kernel does, an
    exact scale (``±2ᵏ``) goes onto the smaller operand when that is smaller than the
    product; a scaled transpose ``c·Xᵀ`` is the product of ``Xᵀ`` and ``c``."""
    if is_diagonal(w):
        return contraction_kernel(w, embedded=False)
    if w.b is None:
        view, _ = broadcast_operands(w.s1, "", w.s3, dict(zip(w.s1, w.a.shape, strict=True)))
        factor = np.full((1,) * w.ndim, w.scale, dtype=w.dtype)
        return lambda a: (view(a), factor, None)
    n = dict(zip(w.s1, w.a.shape, strict=True)) | dict(zip(w.s2, w.b.shape, strict=True))
    views = broadcast_operands(w.s1, w.s2, w.s3, n)
    x, y = (_spread(view, labels, w) for view, labels in zip(views, (w.s1, w.s2), strict=True))
    if exact_scale(w.scale) and min(w.a.size, w.b.size) < w.size:
        return scale_smaller(lambda a, b: (x(a), y(b), None), w.a.size, w.b.size, w.scale, w.dtype)
    c = None if w.scale == 1.0 else w.dtype.type(w.scale)
    return lambda a, b: (x(a), y(b), c)


def _spread(view: Callable[[Array], Array], labels: str, w: Contraction) -> Callable[[Array], Array]:
    """``view``, or, for an operand that lacks ``w``'s first label and a later one, that
    operand spread over one row of ``w`` (an eighth of it at most): numpy's loops over an
    axis it broadcasts, inside axes it does not, run a few entries at a time (the pairwise
    Hessian's innermost axis has 3), and spread they run along whole rows."""
    row = w.shape[1:]
    if w.s3[0] in labels or all(c in labels for c in w.s3[1:]) or 8 * math.prod(row) > w.size:
        return view
    return lambda a: np.ascontiguousarray(np.broadcast_to(view(a), (1, *row)))


ADD_BLOCK_BYTES = 1 << 17
"""Most bytes of the buffer through which :func:`add_into_kernels` adds a product onto a
sum (at least one row, at most an eighth of the rows)."""


def add_into_kernels(acc_position: int, w: Contraction) -> tuple[Kernel, InPlace]:
    """``acc + W`` with ``W`` never formed (in place when ``acc`` may be overwritten, else
    into a copy of it):

    * a diagonal embedding ``W``, mostly zeros: its core is added onto ``acc``'s diagonal;
    * a product ``W = x ⊙ y`` that sums nothing: ``x ⊙ y`` is added a block of rows at a
      time, through a buffer of one block (at most :data:`ADD_BLOCK_BYTES`, so that it
      stays in cache; BLAS's ``C += AB``, for broadcasting).

    Each entry is the same roundings as forming ``W`` first (``x ⊙ y``, its scale, then
    the sum).
    """
    if is_diagonal(w):
        diagonal, expanded = diagonal_view(w.core, w.s3, w.shape)

        def add_into(args: list[Any], k: int) -> Array:
            add_in_pieces(diagonal(args[k]), args[1 - k].reshape(expanded))
            return args[k]  # type: ignore[no-any-return]

    else:
        rows = max(1, min(-(-w.shape[0] // 8), ADD_BLOCK_BYTES * w.shape[0] // (w.size * w.dtype.itemsize)))
        buffer_shape = (rows, *w.shape[1:])

        def add_into(args: list[Any], k: int) -> Array:
            acc = args[k]
            buffer = np.empty(buffer_shape, dtype=acc.dtype)
            pack = packing(args[1 - k])
            for start in range(0, acc.shape[0], rows):
                block = slice(start, start + rows)
                part = buffer[: min(rows, acc.shape[0] - start)]
                multiply_block(args[1 - k], block, part, pack)
                acc[block] += part
            return acc  # type: ignore[no-any-return]

    @computes_into
    def into_copy(*args: Any, out: Array | None = None) -> Array:
        copied = list(args)
        acc = args[acc_position]
        if out is not None and out.dtype == acc.dtype and out.shape == acc.shape:
            np.copyto(out, acc)
            copied[acc_position] = out
        else:
            copied[acc_position] = np.array(acc)
        return add_into(copied, acc_position)

    return into_copy, add_into


def add_in_pieces(view: Array, value: Array) -> None:
    """``view += value``, a piece of two axes at a time: the two of least stride (the
    others looped over, so each piece is close in memory).

    numpy adds into a temporary copy of an output it cannot quickly prove free of
    internal overlap, as a diagonal's view of three or more axes often is (``H[a, c, b, c]``
    over ``a, c, b``, whose strides do not divide each other): a copy of the whole
    diagonal. Pieces of two axes it proves at once. (Pieces have at least 256 entries;
    fewer would cost more in calls than the copy does.)
    """
    loop = sorted(range(view.ndim), key=lambda k: abs(view.strides[k]))[2:]
    pieces = math.prod(view.shape[k] for k in loop)
    if pieces == 1 or view.size < 256 * pieces:
        np.add(view, value, out=view)
        return
    perm = [*loop, *(k for k in range(view.ndim) if k not in loop)]
    view, value = view.transpose(perm), np.broadcast_to(value, view.shape).transpose(perm)
    indices = zip(range(len(view))) if len(loop) == 1 else np.ndindex(*view.shape[: len(loop)])
    for index in indices:  # (a reshape to one axis of pieces could copy the view: no)
        piece = view[index]
        np.add(piece, value[index], out=piece)


def deferred_terms(order: list[Node], counts: Callable[[], dict[Node, int]]) -> set[Node]:
    """Terms ``W`` whose only use is one sum ``acc + W``, which the plan adds onto ``acc``
    without forming ``W`` (see :func:`add_into_kernels`): diagonal embeddings, and large
    products that sum nothing (outer and entrywise products, scaled transposes).
    ``counts()``: the uses of each node (an output counts as one)."""
    if not any(type(node) is Add for node in order):
        return set()
    uses = counts()
    terms: set[Node] = set()
    for node in order:
        if not isinstance(node, Add) or node.a is node.b:
            continue
        for w in (node.a, node.b):
            if (
                isinstance(w, Contraction)
                and (is_diagonal(w) or is_broadcast_product(w) or _is_scaled_view(w))
                and uses[w] == 1  # only by this sum (an output counts as a use)
                and all((term.shape, term.dtype) == (node.shape, node.dtype) for term in (node.a, node.b))
            ):
                terms.add(w)
                break
    return terms


def _is_scaled_view(w: Contraction) -> bool:
    """A large ``c·X``, transposed or not, of ``X``'s dtype: it sums nothing. (A plain
    transpose is a view already; a scaled broadcast costs only its scaled core.)"""
    return (
        w.b is None
        and w.size >= DEFERRED_SIZE
        and w.scale != 1.0
        and sorted(w.s1) == sorted(w.s3)
        and len(set(w.s3)) == w.ndim
        and w.a.dtype == w.dtype
    )


def is_diagonal(w: Contraction) -> bool:
    """Whether ``w`` embeds a diagonal (a label repeated in its output)."""
    return len(set(w.s3)) < w.ndim


def core_size(w: Contraction) -> int:
    """The elements of ``w``'s core (what a deferred diagonal embedding forms)."""
    sizes = dict(zip(w.s3, w.shape, strict=True))
    return math.prod(sizes[c] for c in w.core)
