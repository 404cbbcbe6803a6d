"""Contraction kernels: one einsum node ``scale * einsum(s1, s2 -> s3)`` as one reduction
or one (batched) BLAS matrix product, then scaled, cast and embedded into its output labels.

The label analysis (which labels are batched, summed, kept on one side; which layout each
operand is read in; whether it needs a transpose) happens once per signature, when the
kernel is made; the kernel itself only calls numpy (or scipy's BLAS,
:mod:`tensorad.run.blas`, or a compiled loop, :mod:`tensorad.run.accelerate`).

>>> import numpy as np
>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> from tensorad.run.contractions import contraction_kernel
>>> A, B = Variable("A", (2, 3)), Variable("B", (3, 2))
>>> contraction_kernel(contract(A, "ij", B, "jk", "ik"))(np.ones((2, 3)), np.ones((3, 2)))
array([[3., 3.],
       [3., 3.]])
"""

from __future__ import annotations

import functools
import math
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tensorad._types import Array, Labels, Shape
from tensorad.ir.constants import FloatKey, float_key
from tensorad.ir.nodes import Contraction
from tensorad.run import accelerate, blas
from tensorad.run.buffers import computes_into, takes_out

Kernel = Callable[..., Array]
T = TypeVar("T")
Sizes = Mapping[str, int]
Operand = Callable[[Array], Array]
CACHED = 4096
"""Kernels kept per signature (least recently used dropped)."""


def contraction_kernel(node: Contraction, embedded: bool = True, scipy: bool = False) -> Kernel:
    """``scale * einsum(s1, s2 -> s3)``: the core labels by one reduction or one (batched)
    matrix product, then scaled, cast, and broadcast or diagonal-embedded into ``s3``.

    Args:
        node: the contraction.
        embedded: ``False`` leaves the value as its core: ``s3``'s distinct labels present
            in an operand, in ``s3``'s order (no broadcast, no diagonal).
        scipy: run large matrix products on scipy's BLAS (:mod:`tensorad.run.blas`).

    Returns:
        ``kernel(a)`` or ``kernel(a, b)``: the node's value from its operands' values.
    """
    b_shape, b_dtype = (None, None) if node.b is None else (node.b.shape, node.b.dtype)
    return _contraction_kernel(
        node.s1,
        node.s2,
        node.s3,
        node.a.shape,
        b_shape,
        node.shape,
        float_key(node.scale),
        node.dtype,
        node.a.dtype,
        b_dtype,
        embedded,
        scipy,
    )


@functools.lru_cache(maxsize=CACHED)
def _contraction_kernel(
    s1: Labels,
    s2: Labels,
    s3: Labels,
    a_shape: Shape,
    b_shape: Shape | None,
    shape: Shape,
    scale_key: FloatKey,
    dtype: np.dtype[Any],
    a_dtype: np.dtype[Any],
    b_dtype: np.dtype[Any] | None,
    embedded: bool,
    scipy: bool,
) -> Kernel:
    scale = scale_key[0]
    present = set(s1) | set(s2)
    core = "".join(dict.fromkeys(label for label in s3 if label in present))
    if b_shape is None:
        body: Kernel = _reducer(s1, core, a_shape) or _same
    else:
        body = _product(s1, a_shape, s2, b_shape, core, dtype, scipy, a_dtype == b_dtype == dtype)
    embed = None if core == s3 or not embedded else _embedder(core, s3, shape, dtype)
    sizes = dict(zip(s3, shape, strict=True))
    if (
        exact_scale(scale)
        and b_shape is not None
        and min(math.prod(a_shape), math.prod(b_shape)) < math.prod(sizes[c] for c in core)
    ):
        body, scale = scale_smaller(body, math.prod(a_shape), math.prod(b_shape), scale, dtype), 1.0
    if scale == 1.0 and embed is None and np.result_type(a_dtype, *([] if b_dtype is None else [b_dtype])) == dtype:
        return body
    factor = dtype.type(scale)  # the scale as the node's dtype: numpy's promotion already happened
    owned = b_shape is not None  # a product's value is a new array, scaled in place (no second one)

    def contraction(*operands: Array, **out: Array) -> Array:
        value = body(*operands, **out)
        if value.dtype != dtype:  # widened first, so the scale applies at the result's precision
            value = value.astype(dtype)
        if scale != 1.0:
            value = np.multiply(value, factor, out=value) if owned and value.ndim else value * factor
        return value if embed is None else embed(value)

    operands_dtype = np.result_type(a_dtype, *([] if b_dtype is None else [b_dtype]))
    into = embed is None and takes_out(body) and operands_dtype == dtype  # (``out``: the value's own array)
    return computes_into(contraction) if into else contraction


def exact_scale(scale: float) -> bool:
    """A scale that may move onto an operand: ``±2ᵏ`` (``|k| ≤ 4``, not 1), exact in any
    float dtype, so ``c·(A ⊗ B) = (c·A) ⊗ B`` bit for bit but within a factor 16 of
    overflow. Other scales (``inf`` times a sum over an empty axis is nan, ``1e200·A``
    may overflow where ``A ⊗ B`` would not) apply to the result."""
    magnitude = abs(scale)
    return scale != 1.0 and magnitude in _POWERS_OF_TWO


_POWERS_OF_TWO = frozenset(2.0**k for k in range(-4, 5))


def scale_smaller(
    body: Callable[..., T], a_size: int, b_size: int, scale: float, dtype: np.dtype[Any]
) -> Callable[..., T]:
    """``body`` with ``scale`` applied first to the smaller of its operands (of sizes
    ``a_size`` and ``b_size``): ``c·(A ⊗ B) = (c·A) ⊗ B`` costs the size of ``A``, not of
    ``A ⊗ B``. The scale is a scalar of the result's ``dtype``, so it never widens an
    operand (numpy 1.x would promote a float32 0-d array times a Python float to float64).
    It passes an ``out`` buffer on to ``body`` when ``body`` takes one."""
    c = dtype.type(scale)
    scaled = (
        (lambda x, y, **out: body(x * c, y, **out)) if a_size <= b_size else (lambda x, y, **out: body(x, y * c, **out))
    )
    return computes_into(scaled) if takes_out(body) else scaled


def _same(a: Array) -> Array:
    return a


def _reducer(labels: Labels, out: Labels, shape: Shape | None = None) -> Callable[[Array], Array] | None:
    """``einsum(labels -> out)`` for one operand (``out``: unique labels, all in ``labels``);
    ``None`` when it is the identity. A repeated label reads its diagonal through a strided
    view; then the labels not in ``out`` are summed and the rest transposed into place, so
    any number of labels works (numpy's einsum stops at 52). Axes of size 1 (``shape``)
    are dropped, not summed: a sum would turn ``-0.0`` into ``0.0``."""
    if labels == out:
        return None
    unique = "".join(dict.fromkeys(labels))
    if unique != labels:
        groups = [[k for k, label in enumerate(labels) if label == c] for c in unique]
        rest = _reducer(unique, out)

        def diagonal(a: Array) -> Array:
            shape = [a.shape[group[0]] for group in groups]
            view = as_strided(a, shape=shape, strides=[sum(a.strides[k] for k in group) for group in groups])
            return view if rest is None else rest(view)

        return diagonal
    axes = tuple(k for k, label in enumerate(labels) if label not in out)
    kept = "".join(label for label in labels if label in out)
    perm = [kept.index(label) for label in out]
    if not axes:
        return lambda a: a.transpose(perm)
    if shape is not None and all(shape[k] == 1 for k in axes):
        return lambda a: a.squeeze(axis=axes).transpose(perm)
    if kept == out:
        return lambda a: a.sum(axis=axes)
    return lambda a: a.sum(axis=axes).transpose(perm)


def _reshaped(labels: Labels, out: Labels, shape: Sequence[int]) -> Callable[[Array], Array]:
    """``einsum(labels -> out)`` reshaped to ``shape``."""
    reduce = _reducer(labels, out)
    if reduce is None:
        return lambda a: a.reshape(shape)
    return lambda a: reduce(a).reshape(shape)


def _matrix(labels: Labels, batch: Labels, rows: Labels, inner: Labels, n: Sizes, flip: bool) -> Operand:
    """The operand as a stack of matrices ``[batch] × rows × inner`` (``flip``: ``× inner × rows``);
    as a vector ``inner`` when it has neither batch nor rows.

    Whichever of the two layouts the operand is stored in is reshaped for free and, if it
    is not the one asked for, handed over as a transposed view, which BLAS reads as is.
    """
    lead = [math.prod(n[c] for c in batch)] if batch else []
    n_rows, n_inner = math.prod(n[c] for c in rows), math.prod(n[c] for c in inner)
    if not (batch or rows):
        return _reshaped(labels, inner, [n_inner])
    stored = "".join(dict.fromkeys(c for c in labels if c in batch + rows + inner))
    as_stored = stored == batch + inner + rows if stored in (batch + rows + inner, batch + inner + rows) else flip
    order, shape = (
        (batch + inner + rows, [*lead, n_inner, n_rows])
        if as_stored
        else (batch + rows + inner, [*lead, n_rows, n_inner])
    )
    stored_shape = order == labels and shape == [n[c] for c in labels]
    matrices = _same if stored_shape else _reshaped(labels, order, shape)
    if as_stored == flip:
        return matrices
    if stored_shape and len(shape) == 2:
        return lambda a: a.T
    return lambda a: matrices(a).swapaxes(-1, -2)


OUTER_EINSUM_ROW = 2048
"""Longest last axis of an outer product that ``np.einsum`` computes: there it is 1.2–1.7×
faster than a broadcasting ``np.multiply`` (measured for (256, 128, 64), (256, 10, 128),
(64, 64, 1024), (1000, 3, 3)); with rows of 4096 it is 2× slower."""


def _letters(labels: Labels) -> bool:
    return all(c in string.ascii_letters for c in labels)


def _product(
    s1: Labels, shape_a: Shape, s2: Labels, shape_b: Shape, core: Labels, dtype: Any, scipy: bool, direct: bool
) -> Kernel:
    """``einsum(s1, s2 -> core)`` as one (batched) matrix product (BLAS), or a broadcasting
    multiply when nothing is summed. Labels are first reduced away where neither the
    other operand nor the output needs them."""
    n = dict(zip(s1, shape_a, strict=True)) | dict(zip(s2, shape_b, strict=True))
    keep_a = "".join(dict.fromkeys(c for c in s1 if c in s2 or c in core))
    keep_b = "".join(dict.fromkeys(c for c in s2 if c in s1 or c in core))
    batch = "".join(c for c in keep_a if c in keep_b and c in core)
    summed = "".join(c for c in keep_a if c in keep_b and c not in core)
    left = "".join(c for c in keep_a if c not in keep_b)
    right = "".join(c for c in keep_b if c not in keep_a)
    if not summed:
        plain = _plain_product(s1, s2, core, n, bool(left and right), direct)
        outer = _compiled_outer(s1, s2, core, batch, left, right, n, dtype, plain) if left and right else None
        return outer or plain
    if left and right and core == batch + right + left:  # (x yᵀ)ᵀ = y xᵀ comes out in core's order
        y_rows, x_cols = _matrix(s2, batch, right, summed, n, False), _matrix(s1, batch, left, summed, n, True)
        product = _matmul(y_rows, x_cols, batch, right, left, n, dtype, scipy, direct)
        if takes_out(product):
            return computes_into(lambda a, b, out=None: product(b, a, out=out))
        return lambda a, b: product(b, a)
    x_rows, y_cols = _matrix(s1, batch, left, summed, n, False), _matrix(s2, batch, right, summed, n, True)
    if not (batch or left or right):  # a dot product: numpy returns a scalar, not an array
        dot = functools.partial(blas.dot, dtype=dtype) if scipy else np.matmul
        return lambda a, b: np.asarray(dot(x_rows(a), y_cols(b)))
    return _ordered(_matmul(x_rows, y_cols, batch, left, right, n, dtype, scipy, direct), batch + left + right, core)


def _plain_product(s1: Labels, s2: Labels, core: Labels, n: Sizes, outer: bool, direct: bool) -> Kernel:
    """numpy's product that sums nothing: an outer product by ``einsum``, an entrywise one
    (or a long-rowed outer one) by a multiply broadcast straight into core's order. An
    operand's labels that core lacks are summed out of it first: ``einsum`` itself would
    loop over them inside the product (``ab,cd->ad`` for 300 × 200 and 200 × 10 took
    5 ms where the two sums and the product take microseconds). With operands of the
    result's dtype (``direct``), it may compute into a given buffer (``out``)."""
    if outer and n[core[-1]] <= OUTER_EINSUM_ROW and _letters(core):
        x_labels, y_labels = ("".join(c for c in core if c in s) for s in (s1, s2))
        subscripts = f"{x_labels},{y_labels}->{core}"
        x, y = _reducer(s1, x_labels) or _same, _reducer(s2, y_labels) or _same
        if direct:
            return computes_into(lambda a, b, out=None: np.einsum(subscripts, x(a), y(b), out=out))
        return lambda a, b: np.einsum(subscripts, x(a), y(b))
    x, y = broadcast_operands(s1, s2, core, n)
    if direct:
        return computes_into(lambda a, b, out=None: np.multiply(x(a), y(b), out=out, order="C"))
    return lambda a, b: np.multiply(x(a), y(b), order="C")


def _compiled_outer(
    s1: str, s2: str, core: str, batch: str, left: str, right: str, n: Sizes, dtype: Any, plain: Kernel
) -> Kernel | None:
    """The outer product on :mod:`~tensorad.run.accelerate`'s compiled kernel, where it is on
    and ``core`` is ``batch + left + right`` (or ``batch + right + left``: the operands
    swap); ``None`` otherwise. Until the kernel is loaded, and for operands of another
    dtype than ``dtype`` (a weak constant's, multiplied at their own precision), numpy's
    kernel ``plain`` runs instead."""
    size = math.prod(n[c] for c in core)  # each operand holds its groups' labels only: no sums, no diagonals
    own = sorted(s1) == sorted(batch + left) and sorted(s2) == sorted(batch + right)
    worth = own and core in (batch + left + right, batch + right + left) and size >= accelerate.MIN_ENTRIES
    product = accelerate.outer_product(dtype) if worth else None
    if product is None:
        return None
    swap = core != batch + left + right
    (p, first), (q, second) = ((s2, right), (s1, left)) if swap else ((s1, left), (s2, right))
    rows, cols, count = (math.prod(n[c] for c in group) for group in (first, second, batch))
    x, y = _reshaped(p, batch + first, [count, rows]), _reshaped(q, batch + second, [count, cols])
    shape = [n[c] for c in core]

    def outer(a: Array, b: Array, out: Array | None = None) -> Array:
        compiled = product()
        if compiled is None or a.dtype != dtype or b.dtype != dtype:  # not loaded yet, or a weak operand
            return plain(a, b) if out is None else plain(a, b, out=out)
        if swap:
            a, b = b, a
        out = np.empty(shape, dtype) if out is None else out
        compiled(accelerate.writable(x(a)), accelerate.writable(y(b)), out.reshape(count, rows, cols))
        return out

    return computes_into(outer) if takes_out(plain) else outer


def _matmul(
    first: Operand,
    second: Operand,
    batch: Labels,
    rows: Labels,
    cols: Labels,
    n: Sizes,
    dtype: Any,
    scipy: bool,
    direct: bool,
) -> Kernel:
    """``first(a) @ second(b)``, labels ``batch + rows + cols``, written straight into an
    array of that shape: an array owning its memory (not a reshaped view), so the plan
    neither copies it for the caller nor refuses to reuse its buffer. On scipy's BLAS
    when ``scipy`` (:mod:`tensorad.run.blas`), else numpy's.

    Operands stored as the matrices BLAS reads (``first`` and ``second`` are the identity
    or ``.T``), of the result's dtype (``direct``), with a result that is a matrix already,
    go to ``np.matmul`` as they are: its own result is such an array, and a small
    product's reshapes and output argument cost ~1 µs, a fifth of its time."""
    shape = [n[c] for c in batch + rows + cols]
    lead = [math.prod(n[c] for c in batch)] if batch else []
    matrix_shape = [*lead, *[math.prod(n[c] for c in group) for group in (rows, cols) if batch or group]]
    if direct and not scipy and matrix_shape == shape:
        if first is second is _same:
            return np.matmul
        return computes_into(lambda a, b, out=None: np.matmul(first(a), second(b), out=out))

    multiply = blas.matmul_into if scipy else np.matmul  # (x, y, out), out positional

    @computes_into
    def product(a: Array, b: Array, out: Array | None = None) -> Array:
        out = np.empty(shape, dtype=dtype) if out is None else out
        multiply(first(a), second(b), out.reshape(matrix_shape))
        return out

    return product


def broadcast_operands(s1: Labels, s2: Labels, core: Labels, n: Sizes) -> tuple[Operand, Operand]:
    """Both operands of a product that sums nothing, as views over ``core``'s axes in its
    order (size 1 where an operand lacks a label), ready to broadcast against each other."""
    x = _reshaped(s1, "".join(c for c in core if c in s1), [n[c] if c in s1 else 1 for c in core])
    y = _reshaped(s2, "".join(c for c in core if c in s2), [n[c] if c in s2 else 1 for c in core])
    return x, y


def _ordered(product: Kernel, order: Labels, core: Labels) -> Kernel:
    """``product`` (labels ``order``) transposed to ``core``."""
    if order == core:
        return product
    perm = [order.index(c) for c in core]
    return lambda a, b: product(a, b).transpose(perm)


def _embedder(core: Labels, s3: Labels, shape: Shape, dtype: np.dtype[Any]) -> Callable[[Array], Array]:
    """Place a value with labels ``core`` into ``s3``: broadcast the missing labels, then
    write repeated labels on their diagonal (zeros elsewhere)."""
    if len(set(s3)) == len(s3):
        _, expanded = diagonal_view(core, s3, shape)
        return lambda value: np.broadcast_to(value.reshape(expanded), shape)
    diagonal, expanded = diagonal_view(core, s3, shape)

    def embed(value: Array) -> Array:
        out = np.zeros(shape, dtype=dtype)
        diagonal(out)[...] = value.reshape(expanded)
        return out

    return embed


def diagonal_view(core: Labels, s3: Labels, shape: Shape) -> tuple[Callable[[Array], Array], list[int]]:
    """The writeable view of an array with labels ``s3`` onto its diagonal (one axis per
    distinct label), and the shape that broadcasts a value with labels ``core`` onto it.

    ``core`` lists ``s3``'s present labels in order, so no transpose is needed.
    """
    unique = "".join(dict.fromkeys(s3))
    size = dict(zip(s3, shape, strict=True))
    groups = [[k for k, c2 in enumerate(s3) if c2 == c] for c in unique]
    full = [size[c] for c in unique]

    def diagonal(out: Array) -> Array:
        strides = [sum(out.strides[k] for k in group) for group in groups]
        return as_strided(out, shape=full, strides=strides, writeable=True)

    return diagonal, [size[c] if c in core else 1 for c in unique]
