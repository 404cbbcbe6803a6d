"""Smart constructors: the only way nodes are made.

Every node of a DAG, whether traced from user code or produced by a derivative rule,
comes from these functions. They validate shapes and labels, and they keep the DAG
small by two rewrites that never change a value:

* **Unary contractions dissolve into their consumers.** A unary contraction
  ``X = *(t1, ∅, t)(P)`` (transpose, sum, trace, diagonal, broadcast, scaling, and the
  identity seed δ, which is ``*(∅, ∅, "ii")(1)``) seen by a contraction under labels
  ``u`` is replaced by ``P`` itself: ``P``'s labels are renamed through ``t ↦ u``,
  labels that ``t`` repeats are identified in the consumer, and labels that ``t``
  broadcasts constrain nothing (if the consumer sums them alone they contribute their
  size as a factor). So δ is never materialized when it meets a contraction: it becomes
  a relabelling, or a diagonal embedding when both of its labels survive.
* **Structure sits on unary nodes.** A binary contraction whose output broadcasts or
  embeds a diagonal is split into its compact core and a unary wrapper, so the wrapper
  dissolves into later contractions and the structure is materialized only when an
  addition, a function or the caller needs the dense array.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from tensorad._types import Labels, Shape
from tensorad.errors import ShapeError, UnsupportedError
from tensorad.ir.constants import float_key, fold_scales, promote, scalar
from tensorad.ir.interning import interned
from tensorad.ir.labels import LabelMerge, aligned_labels, canonical_labels, fresh_labels, rename_into
from tensorad.ir.nodes import Add, Constant, Contraction, Elementwise, GeneralUnary, Node


def contract(
    a: Node,
    s1: Labels,
    b: Node | None,
    s2: Labels,
    s3: Labels,
    *,
    sizes: Mapping[str, int] | None = None,
    scale: float = 1.0,
    depth: int = 0,
) -> Node:
    """``scale * *(s1, s2, s3)(a, b)``, the generalized einsum ``s1,s2->s3``.

    Args:
        a: the first operand, its axes labelled ``s1`` (a repeated label takes a diagonal).
        s1: ``a``'s labels.
        b: the second operand, or ``None`` for a unary contraction (then ``s2`` is ``""``).
        s2: ``b``'s labels.
        s3: the output's labels; the operands' other labels are summed.
        sizes: the size of each output label that no operand carries (a broadcast).
        scale: a number multiplying the product.
        depth: internal: nested distributions over sums so far (see :func:`_sparse_terms`).

    Returns:
        The product, simplified as it is built: not always a new ``Contraction``.

    Raises:
        ShapeError: the labels do not fit the shapes, or a label has two sizes or none.
        UnsupportedError: the product would sum or scale boolean masks.

    Examples:
        >>> from tensorad.ir.nodes import Variable
        >>> A, x = Variable("A", (2, 3)), Variable("x", (3,))
        >>> contract(A, "ij", x, "j", "i").shape
        (2,)
    """
    size = _check_labels(a, s1, b, s2, s3, sizes)
    dtype, weak = (a.dtype, a.weak) if b is None else promote(a, b)
    if dtype.kind == "b" and (scale != 1.0 or any(size[c] != 1 for c in set(s1 + s2) - set(s3))):  # size 1: dropped
        raise UnsupportedError(
            "a product that sums or scales boolean masks: numpy's value depends on the function "
            "(np.dot gives a logical or, np.trace a count); cast the masks to float first: mask.astype(float)"
        )
    if b is not None and (cancelled := _cancel_inverse(a, s1, b, s2, s3, scale, size)) is not None:
        return cancelled
    if b is not None and _plain(a) and _plain(b):  # nothing dissolves, folds or distributes
        return _make([(a, s1), (b, s2)], s3, scale, tuple(size[label] for label in s3), dtype, size, weak)
    merge = LabelMerge()
    operands: list[tuple[Node, Labels]] = []
    used = set(s1) | set(s2) | set(s3)
    for node, labels in ((a, s1), (b, s2)):
        if node is None:
            continue
        if isinstance(node, Contraction) and _dissolves(node) and (folded := fold_scales(scale, node.scale, dtype)):
            scale = folded.value
            node, labels = _dissolve(node, labels, merge, used, size)
        value = node.value if isinstance(node, Constant) and node.shape == () and node.dtype.kind in "fi" else None
        if value is not None and (folded := fold_scales(scale, float(value), dtype)):
            scale = folded.value
            continue
        operands.append((node, labels))
    operands = [(node, merge.apply(labels)) for node, labels in operands]
    out = merge.apply(s3)
    if len(operands) == 1 and (fused := _fuse_reduction(*operands[0], out, scale, dtype, merge, used, size)):
        operands, scale = fused
    present = {label for _, labels in operands for label in labels}
    for label in {merge.find(label) for label in set(s1) | set(s2)} - present - set(out):
        scale *= size[label]  # a label summed where nothing depends on it
    distributed = _distribute(operands, out, scale, size, depth) if depth < MAX_DEPTH else None
    if distributed is not None:
        return distributed
    shape = tuple(size[label] for label in s3)
    return _make(operands, out, scale, shape, dtype, size, weak)


def _cancel_inverse(
    a: Node, s1: Labels, b: Node, s2: Labels, s3: Labels, scale: float, size: dict[str, int]
) -> Node | None:
    """``u⁻¹ · u = 1`` and ``u⁻¹ · (u · w) = w`` for a determinant ``u``, so ``∂ log det X``
    is ``X⁻ᵀ``, not ``X⁻ᵀ det X / det X``. Only for a determinant: where it is 0, both
    forms are undefined (``X⁻¹`` raises), while for another factor the product as written
    is ``0 · ∞ = nan`` at 0 and stays so, IEEE's value (as ``x - x`` stays nan at ``inf``)."""
    for inverse, s_inverse, other, s_other in ((a, s1, b, s2), (b, s2, a, s1)):
        if not (isinstance(inverse, Elementwise) and inverse.fn == "reciprocal" and inverse.param is None):
            continue
        u = inverse.x
        if not (isinstance(u, GeneralUnary) and u.fn == "det"):
            continue
        if other is u and s_other == s_inverse and len(set(s_other)) == len(s_other) and set(s_other) <= set(s3):
            one = scalar(scale, np.result_type(a.dtype, b.dtype))  # u⁻¹ ⊙ u, entry by entry: ones
            return contract(one, "", None, "", s3, sizes={c: size[c] for c in s3})
        if u.ndim != 0 or not isinstance(other, Contraction) or other.b is None:
            continue
        for mine, theirs, s_theirs in ((other.a, other.b, other.s2), (other.b, other.a, other.s1)):
            if mine is u and theirs.dtype == other.dtype:
                within = dict(zip(other.s3, other.shape, strict=True))
                w = contract(theirs, s_theirs, None, "", other.s3, sizes=within, scale=other.scale)
                return contract(w, s_other, None, "", s3, sizes={c: size[c] for c in s3}, scale=scale)
    return None


def _dissolves(node: Contraction) -> bool:
    """True for a unary contraction that does not cast: a cast (``astype``) stays a node,
    so a float32 array summed as float64 is summed in float64."""
    return node.b is None and node.a.dtype == node.dtype


def _plain(node: Node) -> bool:
    """True when no rewrite of :func:`contract` applies to ``node`` as an operand: it is not
    a unary contraction (which dissolves), a scalar constant (which folds into the scale)
    or a sum (which may be distributed over)."""
    if isinstance(node, Contraction):
        return node.b is not None
    if isinstance(node, Constant):
        return node.ndim > 0
    return not isinstance(node, Add)


def _fuse_reduction(
    inner: Node,
    labels: Labels,
    out: Labels,
    scale: float,
    dtype: np.dtype[Any],
    merge: LabelMerge,
    used: set[str],
    size: dict[str, int],
) -> tuple[list[tuple[Node, Labels]], float] | None:
    """A sum over a product, as one product that never forms the unreduced one.

    ``Σ *(p1, p2, p3)(A, B)`` over some of ``p3`` is ``*(r(p1), r(p2), out)(A, B)``, where
    ``r`` renames ``p3`` to the consumer's ``labels`` and the product's summed labels to
    fresh ones (associativity): ``sum(outer(x, x))`` costs ``2n``, not an ``n × n`` array.
    Only for a binary product with distinct output labels whose reduction is smaller.
    """
    if not (isinstance(inner, Contraction) and inner.b is not None and len(set(inner.s3)) == inner.ndim):
        return None
    if math.prod(size[label] for label in set(out) & set(labels)) >= inner.size:
        return None
    folded = fold_scales(scale, inner.scale, dtype)
    if folded is None:
        return None
    rename = rename_into(inner.s3, labels, inner.s1 + inner.s2, merge, used)
    operands = []
    for node, own in ((inner.a, inner.s1), (inner.b, inner.s2)):
        for label, n in zip(own, node.shape, strict=True):
            size.setdefault(rename[label], n)
        operands.append((node, "".join(rename[label] for label in own)))
    return operands, folded.value


def _distribute(
    operands: list[tuple[Node, Labels]], out: Labels, scale: float, size: dict[str, int], depth: int
) -> Node | None:
    """The product as a sum of products, when an operand is a sum worth distributing over.

    Binary products and reducing unary ones distribute; a unary relabelling gains nothing.
    """
    if not operands:
        return None
    if len(operands) == 1 and math.prod(size[label] for label in set(out)) >= operands[0][0].size:
        return None
    for k, (node, labels) in enumerate(operands):
        parts = _sparse_terms(node)
        if parts is None:
            continue
        total: Node | None = None
        for part in parts:
            (x, sx), *rest = [(part, labels) if j == k else pair for j, pair in enumerate(operands)]
            y, sy = rest[0] if rest else (None, "")
            total = add(total, contract(x, sx, y, sy, out, sizes=size, scale=scale, depth=depth + 1))
        return total
    return None


MAX_TERMS = 32
"""Largest sum that a contraction distributes over (see :func:`_sparse_terms`)."""

MAX_DEPTH = 4
"""Deepest nesting of distributions that one contraction starts (chains of sums stay linear)."""

SPARSITY = 4
"""A structural term is worth distributing over when it is this many times its core's size."""


def _sparse_terms(node: Node | None) -> list[Node] | None:
    """The terms to distribute a contraction over, when ``node`` is a sum holding structure.

    ``*(s1, s2, s3)(A₁ + A₂, B) = *(s1, s2, s3)(A₁, B) + *(s1, s2, s3)(A₂, B)``. When a
    term ``A₁`` is a structural unary contraction (a δ, a broadcast), its product with
    ``B`` dissolves into a relabelling of ``B``; summing first would materialize it. So
    sums of at most :data:`MAX_TERMS` terms with structural ones are distributed over;
    their dense terms stay together as one sum.
    """
    if not isinstance(node, Add):
        return None
    terms = flat_terms(node)
    if terms is None:
        return None
    sparse = [t for t in terms if _structure(t) is not None]
    if not any(isinstance(t, Contraction) and t.size >= SPARSITY * max(t.a.size, 1) for t in sparse):
        return None
    if not sparse:
        return None
    dense: Node | None = None
    for term in terms:
        if not any(term is s for s in sparse):
            dense = add(dense, term)
    return sparse if dense is None else [*sparse, dense]


def flat_terms(node: Node) -> list[Node] | None:
    """The summands of nested additions, or ``None`` past :data:`MAX_TERMS`."""
    terms: list[Node] = []
    pending: list[Node] = [node]
    while pending:
        term = pending.pop()
        if isinstance(term, Add):
            pending += [term.b, term.a]
        else:
            terms.append(term)
        if len(terms) + len(pending) > MAX_TERMS:
            return None
    return terms


def _structure(node: Node) -> tuple[Any, ...] | None:
    """For a structural unary contraction, the pattern of its output; else ``None``."""
    if isinstance(node, Contraction) and node.b is None and node.is_structural:
        return (canonical_labels(node.s3)[0], node.shape)
    return None


def _merge_structure(terms: list[Node]) -> list[Node]:
    """Factor terms with one output pattern: ``W(P₁) + W(P₂) = W(P₁ + P₂)``.

    ``W`` broadcasts or embeds a diagonal; both cores are first brought to the union of
    the labels they carry (a broadcast of the smaller, at the size of the cores), so the
    sum is formed compactly and ``W`` is applied once.
    """
    merged: dict[tuple[Any, ...], int] = {}
    out: list[Node] = []
    for term in terms:
        key = _structure(term)
        if key is None or key not in merged:
            if key is not None:
                merged[key] = len(out)
            out.append(term)
            continue
        first = out[merged[key]]
        assert isinstance(first, Contraction) and isinstance(term, Contraction)
        pattern = key[0]
        union = "".join(label for label in dict.fromkeys(pattern) if label in _carried(first) | _carried(term))
        if union == pattern:  # the sum is dense anyway: nothing to factor
            out.append(term)
            continue
        size = dict(zip(pattern, term.shape, strict=True))
        total = _add_pair(*(_core_on(w, union, size) for w in (first, term)))
        # Built directly: distributing this wrapper over ``total`` would split it again.
        out[merged[key]] = _contraction(total, None, union, "", pattern, 1.0, term.shape, total.dtype, total.weak)
    return out


def _carried(w: Contraction) -> set[str]:
    """The labels of ``w``'s output pattern that its operand carries (not broadcast)."""
    pattern = canonical_labels(w.s3)[0]
    return {p for p, label in zip(pattern, w.s3, strict=True) if label in w.s1}


def _core_on(w: Contraction, union: Labels, size: Mapping[str, int]) -> Node:
    """``w``'s operand (scaled) as a tensor over the pattern labels ``union``."""
    pattern = canonical_labels(w.s3)[0]
    rename = dict(zip(w.s3, pattern, strict=True))
    internal = [label for label in dict.fromkeys(w.s1) if label not in rename]
    rename.update(zip(internal, fresh_labels(len(internal), pattern), strict=True))
    s1 = "".join(rename[label] for label in w.s1)
    return contract(w.a, s1, None, "", union, sizes=size, scale=w.scale)


def _dissolve(
    x: Contraction, u: Labels, merge: LabelMerge, used: set[str], size: dict[str, int]
) -> tuple[Node, Labels]:
    """Rename ``x``'s operand into the consumer's labels ``u`` (see module docstring)."""
    rename = rename_into(x.s3, u, x.s1, merge, used)
    for label, n in zip(x.s1, x.a.shape, strict=True):
        size.setdefault(rename[label], n)
    return x.a, "".join(rename[label] for label in x.s1)


def _make(
    operands: list[tuple[Node, Labels]],
    out: Labels,
    scale: float,
    shape: Shape,
    dtype: np.dtype[Any],
    size: Mapping[str, int],
    weak: bool = False,
) -> Node:
    if not operands:
        return _contraction(scalar(scale, dtype, weak), None, "", "", out, 1.0, shape, dtype, weak)
    (a, s1), *rest = operands
    if not rest:
        if s1 == out and len(set(out)) == len(out) and scale == 1.0 and (a.dtype, a.weak) == (dtype, weak):
            return a  # the identity relabelling
        return _contraction(a, None, s1, "", out, scale, shape, dtype, weak)
    ((b, s2),) = rest
    present = set(s1) | set(s2)
    core = "".join(dict.fromkeys(label for label in out if label in present))
    if core == out:
        return _contraction(a, b, s1, s2, out, scale, shape, dtype, weak)
    core_shape = tuple(size[label] for label in core)
    inner = _contraction(a, b, s1, s2, core, scale, core_shape, dtype, weak)
    return _contraction(inner, None, core, "", out, 1.0, shape, dtype, weak)


def _contraction(
    a: Node,
    b: Node | None,
    s1: Labels,
    s2: Labels,
    s3: Labels,
    scale: float,
    shape: Shape,
    dtype: np.dtype[Any],
    weak: bool = False,
) -> Node:
    s1, s2, s3 = canonical_labels(s1, s2, s3)
    # Commutativity: the key is the same for either operand order (the node keeps the
    # order it was first built with, so printing is reproducible).
    if b is not None and id(b) < id(a):
        key = ("*", id(b), id(a), *canonical_labels(s2, s1, s3), float_key(scale), shape, dtype.str, weak)
    else:
        key = ("*", id(a), id(b), s1, s2, s3, float_key(scale), shape, dtype.str, weak)
    return interned(key, lambda: Contraction(a, b, s1, s2, s3, scale, shape, dtype, weak))


def _check_labels(
    a: Node, s1: Labels, b: Node | None, s2: Labels, s3: Labels, sizes: Mapping[str, int] | None
) -> dict[str, int]:
    size: dict[str, int] = {}
    given = [(a, s1, "first")] + ([] if b is None else [(b, s2, "second")])
    for node, labels, which in given:
        if len(labels) != node.ndim:
            raise ShapeError(f"{which} operand has labels {labels!r} but shape {node.shape}")
        for label, n in zip(labels, node.shape, strict=True):
            if size.setdefault(label, n) != n:
                raise ShapeError(
                    f"label {label!r} has size {size[label]} and {n} (operand {which}, "
                    f"labels {labels!r}, shape {node.shape})"
                )
    for label in s3:
        if label not in size:
            if sizes is None or label not in sizes:
                raise ShapeError(f"output label {label!r} is in no operand and has no size")
            size[label] = int(sizes[label])
    return size


def astype(x: Node, dtype: np.dtype[Any]) -> Node:
    """``x`` converted to ``dtype`` (a unary contraction that casts; ``x`` if already so)."""
    if x.dtype == dtype:
        return x
    labels = fresh_labels(x.ndim)
    return _contraction(x, None, labels, "", labels, 1.0, x.shape, np.dtype(dtype))


def scale(x: Node, c: float) -> Node:
    """``c * x`` for a Python number ``c``."""
    labels = fresh_labels(x.ndim)
    return contract(x, labels, None, "", labels, scale=c)


def add(a: Node | None, b: Node | None) -> Node | None:
    """``a + b`` for nodes of one shape (``None`` is the symbolic zero; ``a + a`` becomes ``2 * a``)."""
    if a is None:
        return b
    if b is None:
        return a
    if a.shape != b.shape:
        raise ShapeError(f"cannot add shapes {a.shape} and {b.shape} without broadcasting")
    if a is b:
        return scale(a, 2.0)
    terms_a, terms_b = flat_terms(a), flat_terms(b)
    if terms_a is not None and terms_b is not None and len(terms_a) + len(terms_b) <= MAX_TERMS:
        terms = _merge_structure(terms_a + terms_b)
        if len(terms) < len(terms_a) + len(terms_b):
            total = terms[0]
            for term in terms[1:]:
                total = _add_pair(total, term)
            return total
    return _add_pair(a, b)


def _add_pair(a: Node, b: Node) -> Node:
    dtype, weak = promote(a, b)
    key = ("+", min(id(a), id(b)), max(id(a), id(b)))  # either order: one node
    return interned((*key, dtype.str, weak), lambda: Add(a, b, a.shape, dtype, weak))


def broadcast_to(x: Node, shape: Shape) -> Node:
    """``x`` broadcast to ``shape`` by numpy's rules (a unary contraction, no copy).

    >>> from tensorad.ir.nodes import Variable
    >>> broadcast_to(Variable("x", (3, 1)), (2, 3, 4)).shape
    (2, 3, 4)
    """
    shape = tuple(shape)
    if x.shape == shape:
        return x
    out = fresh_labels(len(shape))
    labels = aligned_labels(x.shape, shape, out, out)
    sizes = dict(zip(out, shape, strict=True))
    return contract(x, labels, None, "", out, sizes=sizes)
