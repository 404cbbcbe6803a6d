"""Simplification: rewrite a DAG into a smaller one of equal value.

Most rewrites happen as nodes are built (:mod:`tensorad.ir.build`): symbolic zeros are never
built, unary contractions (transposes, scalings, δ) dissolve into their consumers so
double transposes and products with 1 vanish, and hash-consing shares common
subexpressions. :func:`simplify` adds what needs a view of the whole DAG:

* **constant folding**: a node that depends on no variable is evaluated once and
  becomes a constant, unless it is a cheap structure (a broadcast or a δ, which stays
  symbolic so that it keeps dissolving) or folding would store more numbers than its
  constant inputs hold;
* **like terms**: a sum's terms that are multiples of one node are collected
  (``x + x → 2x``, ``x − x → 0``), and terms that cancel disappear;
* **fusion** (:func:`fuse`): a scaling, transpose or sum of a product becomes part of
  the product, and a sum over labels distributes over a sum of products, so each term
  reduces as it multiplies (``Σₗ xᵢₗxⱼₗ`` is one ``x xᵀ``, not an ``n×n×l`` array);
* **reassociation** (:func:`reassociate`): a product of products is taken in its
  cheapest order when that halves the multiplications (``(U̇Vᵀ)V → U̇(VᵀV)``), also
  after distributing it over a sum of products.

Passes repeat until nothing changes (one rewrite can enable another). Every rewrite
preserves the value; the tests check each one by :func:`tensorad.symbolic.algebra.equivalent` and
numerically.

>>> import tensorad as ta
>>> x = ta.Variable("x", (3,))
>>> ta.simplify(x + 2.0 * x) is 3.0 * x
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from tensorad.ir import build, constants
from tensorad.ir.graph import children, toposort, use_counts, without_cycle_collection
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Add, Constant, Contraction, Node, Variable
from tensorad.ir.substitute import rebuild
from tensorad.run.evaluate import evaluate


def simplify(expr: Node) -> Node:
    """``expr`` with constants folded and like terms collected (see the module docstring).

    Args:
        expr: an expression (a :class:`~tensorad.Variable`, or operations on them).

    Returns:
        An expression with the same value, shape and dtype at every point, inf and nan
        included (so ``x - x`` stays): ``expr`` itself when nothing simplifies. A few
        passes at most, each linear in the DAG's size.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> x = ta.Variable("x", (3,))
        >>> print(ta.simplify(x + 3.0 * x - x))            # x − x is not 0 at inf (IEEE)
        4*x[i] - x[i]
        >>> print(ta.simplify(ta.exp(np.zeros(3)) * x))      # the constant is folded
        x[i]*C1[i]
    """
    return simplify_all([expr])[0]


@without_cycle_collection
def simplify_all(outputs: Sequence[Node]) -> list[Node]:
    """:func:`simplify` for several outputs sharing one DAG.

    Args:
        outputs: the expressions, whose shared subexpressions are simplified once.

    Returns:
        The simplified expressions, in order; a subexpression shared by the inputs stays
        one node shared by the results.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.simplify import simplify_all
        >>> x = ta.Variable("x", (3,))
        >>> [str(e) for e in simplify_all([x + x, x + 2.0 * x])]
        ['2*x[i]', '3*x[i]']
    """
    for _ in range(PASSES):
        simpler = _simplify_pass(outputs)
        if all(a is b for a, b in zip(simpler, outputs, strict=True)):
            break
        outputs = simpler
    return list(outputs)


PASSES = 4
"""Most passes :func:`simplify_all` makes: one rewrite can enable another (a product
reordered in one pass is used only once in the next, and can absorb its scaling)."""


def _simplify_pass(outputs: Sequence[Node]) -> list[Node]:
    new: dict[Node, Node] = {}
    constant: set[Node] = set()
    order = toposort(outputs)
    users = use_counts(order, outputs)  # an output is used by the caller
    for node in order:
        operands = [new[child] for child in children(node)]
        rebuilt = rebuild(node, operands)
        if isinstance(node, Contraction):
            single_use = [users[child] == 1 for child in children(node)]
            rebuilt = fuse(rebuilt, single_use[0]) if node.b is None else reassociate(rebuilt, single_use)
        if not isinstance(rebuilt, Variable) and all(child in constant for child in children(node)):
            constant.add(node)
            rebuilt = _fold(rebuilt)
        if isinstance(rebuilt, Add):
            rebuilt = collect_terms(rebuilt)
        new[node] = rebuilt
    return [new[node] for node in outputs]


def fuse(outer: Node, single_use: bool) -> Node:
    """A scaling, transpose or sum of a product, as one product:
    ``*(s1, ∅, s3; c)(*(p1, p2, p3; d)(A, B)) = *(r(p1), r(p2), s3; cd)(A, B)``.

    ``r`` renames the product's output labels ``p3`` to ``s1`` position by position (a
    label repeated in ``s1`` takes a diagonal) and its summed labels to fresh ones. Only
    for a product whose output labels are distinct, and an ``outer`` that does not
    broadcast or embed (those stay unary, to dissolve into their consumers).

    A product used elsewhere (``single_use`` false) is fused only when ``outer`` sums
    labels away: the reduced product costs no more than the reduction it replaces. A
    reducing ``outer`` also distributes over a sum, ``U(T₁ + T₂) = U(T₁) + U(T₂)``, so
    that each term's reduction fuses into it (``Σₗ (xᵢₗ xⱼₗ)`` becomes one ``x xᵀ``).
    """
    if not (isinstance(outer, Contraction) and outer.b is None and not outer.is_structural):
        return outer
    inner = outer.a
    if inner.dtype != outer.dtype:  # a cast stays where it is: the product runs in its own dtype
        return outer
    reducing = outer.size < inner.size
    if isinstance(inner, Add) and reducing:
        terms = build.flat_terms(inner)
        if terms is None:
            return outer
        total: Node | None = None
        for term in terms:
            total = build.add(total, fuse(build.contract(term, outer.s1, None, "", outer.s3, scale=outer.scale), False))
        assert total is not None
        return total
    if not (single_use or reducing) or not _distinct_product(inner):
        return outer
    assert isinstance(inner, Contraction) and inner.b is not None
    folded = constants.fold_scales(inner.scale, outer.scale, outer.dtype)
    if folded is None:
        return outer
    s1, s2 = _relabel(inner, outer.s1, outer.s1 + outer.s3)
    return build.contract(inner.a, s1, inner.b, s2, outer.s3, scale=folded.value)


def reassociate(node: Node, single_use: list[bool]) -> Node:
    """A product of a product in its cheapest order:
    ``*(s1, s2, s3)(*(p1, p2, p3)(A, B), C)`` becomes ``(A·C)·B`` or ``A·(B·C)`` when
    that costs at most half as many multiplications (associativity, with the inner
    product's labels renamed as in :func:`fuse`). The cost of a pairwise product is the
    product of the sizes of all the labels it touches. Only for an inner product whose
    output labels are distinct; when it is used elsewhere too, and so is formed anyway,
    the new order must cost at most half of the outer product alone
    (``Ẋ (u vᵀ) → (Ẋ u) vᵀ`` beside another use of ``u vᵀ``).

    A product with a sum of products, ``(T₁ + T₂)·C``, distributes (``T₁·C + T₂·C``) when
    reordering each term then costs at most half of forming the sum and multiplying:
    ``Σᵢⱼ Kᵢⱼ (xᵢₖvⱼₖ + vᵢₖxⱼₖ)`` needs no ``n×n×3`` array.
    """
    if not (isinstance(node, Contraction) and node.b is not None):
        return node
    for k in (0, 1):
        best = _cheapest_order(node, k)
        # a shared inner product is formed anyway: only the outer product's cost counts
        if best is not None and 2 * best[1] <= (best[0] if single_use[k] else best[3]):
            return best[2]()
        if single_use[k] and (distributed := _distributed(node, k)) is not None:
            return distributed
    return node


Order = tuple[int, int, Callable[[], Node], int]
"""The cost of a product of a product as written, its cheapest cost, how to build that,
and the cost of the outer product alone."""


def _cheapest_order(node: Contraction, k: int) -> Order | None:
    """The three orders of ``node``'s operand ``k`` (a product) times the other operand."""
    (inner, labels), (other, other_labels) = _split_at(node, k)
    if inner is None or other is None or not _distinct_product(inner):
        return None
    assert isinstance(inner, Contraction) and inner.b is not None
    folded = constants.fold_scales(node.scale, inner.scale, node.dtype)
    if folded is None:
        return None
    p1, p2 = _relabel(inner, labels, node.s1 + node.s2 + node.s3)
    sizes = dict(zip(node.s3, node.shape, strict=True))
    terms = [(inner.a, p1), (inner.b, p2), (other, other_labels)]
    for operand, operand_labels in terms:
        sizes.update(zip(operand_labels, operand.shape, strict=True))
    orders = [(terms[0], terms[1], terms[2]), (terms[0], terms[2], terms[1]), (terms[1], terms[2], terms[0])]
    costs = [_pair_cost(x[1], y[1], z[1] + node.s3, sizes) for x, y, z in orders]
    best = min(range(3), key=costs.__getitem__)
    (x, sx), (y, sy), (z, sz) = orders[best]
    middle = "".join(dict.fromkeys(c for c in sx + sy if c in sz + node.s3))

    def rebuilt() -> Node:
        first = build.contract(x, sx, y, sy, middle, sizes=sizes)
        return build.contract(first, middle, z, sz, node.s3, sizes=sizes, scale=folded.value)

    outer = costs[0] - math.prod(sizes[c] for c in set(p1 + p2))
    return costs[0], costs[best], rebuilt, outer


def _distributed(node: Contraction, k: int) -> Node | None:
    """``(T₁ + … + Tₙ)·C`` as ``Σ Tᵢ·C``, each in its cheapest order, when that halves the cost."""
    (total, labels), (other, other_labels) = _split_at(node, k)
    if not isinstance(total, Add) or other is None:
        return None
    terms = build.flat_terms(total)
    if terms is None or not all(_distinct_product(t) for t in terms):
        return None
    sizes = dict(zip(node.s3, node.shape, strict=True))
    sizes.update(zip(node.s1, node.a.shape, strict=True))
    sizes.update(zip(node.s2, other.shape if k == 0 else total.shape, strict=True))
    now = sum(t.size for t in terms) * 2 + _pair_cost(labels, other_labels, node.s3, sizes)
    parts = []
    for term in terms:
        a, b, s1, s2 = (term, other, labels, other_labels) if k == 0 else (other, term, other_labels, labels)
        part = Contraction(a, b, s1, s2, node.s3, node.scale, node.shape, node.dtype)  # costed, not kept
        order = _cheapest_order(part, k)
        if order is None:
            return None
        parts.append(order)
    if 2 * sum(order[1] for order in parts) > now:
        return None
    result: Node | None = None
    for order in parts:
        result = build.add(result, order[2]())
    return result


def _split_at(node: Contraction, k: int) -> tuple[tuple[Node | None, str], tuple[Node | None, str]]:
    """``node``'s operand ``k`` with its labels, and the other operand with its labels."""
    pairs = ((node.a, node.s1), (node.b, node.s2))
    return pairs[k], pairs[1 - k]


def _distinct_product(node: Node) -> bool:
    return isinstance(node, Contraction) and node.b is not None and len(set(node.s3)) == node.ndim


def _relabel(inner: Contraction, output: str, avoid: str) -> tuple[str, str]:
    """``inner``'s operand labels with its output labels renamed to ``output`` (position by
    position) and its summed labels to fresh ones not in ``avoid``."""
    rename = dict(zip(inner.s3, output, strict=True))
    summed = "".join(dict.fromkeys(c for c in inner.s1 + inner.s2 if c not in rename))
    rename.update(zip(summed, fresh_labels(len(summed), avoid), strict=True))
    s1, s2 = ("".join(rename[c] for c in labels) for labels in (inner.s1, inner.s2))
    return s1, s2


def _pair_cost(sx: str, sy: str, rest: str, sizes: dict[str, int]) -> int:
    """Multiplications of ``x·y`` then ``(x·y)·z``, where ``rest`` holds ``z``'s and the output's labels."""
    middle = {c for c in sx + sy if c in rest}
    first = math.prod(sizes[c] for c in set(sx + sy))
    second = math.prod(sizes[c] for c in middle | set(rest))
    return first + second


def _fold(node: Node) -> Node:
    """Evaluate a variable-free node into a constant, when that does not inflate it."""
    if isinstance(node, Constant) or (isinstance(node, Contraction) and node.b is None and node.is_structural):
        return node
    inputs = [child.size for child in toposort([node]) if isinstance(child, Constant)]
    if node.size > max(inputs, default=1):
        return node
    (value,) = evaluate([node], {})  # an array of its own (a plan's output)
    return constants.constant(value, node.weak)


def collect_terms(total: Add) -> Node:
    """A sum with its terms grouped by the node they multiply (``2x + 3x → 5x``).

    Only coefficients of one sign are collected: ``c₁x + c₂x = (c₁ + c₂)x`` holds in IEEE
    arithmetic (up to rounding) when ``c₁`` and ``c₂`` agree in sign, infinities,
    overflow and the sign of zero included; with opposite signs it does not (``3x − 2x``
    is nan at ``x = inf``, ``x − x`` is nan there and ``+0`` at ``x = −0``), and the
    compiled form computes what the expression says.

    Args:
        total: a sum.

    Returns:
        The sum with like terms of one sign collected, or ``total`` itself when none are.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.simplify import collect_terms
        >>> x = ta.Variable("x", (3,))
        >>> print(collect_terms(2.0 * x + 3.0 * x))
        5*x[i]
        >>> print(collect_terms(x - x))
        x[i] - x[i]
    """
    terms = build.flat_terms(total)
    if terms is None:
        return total
    groups: dict[tuple[Node, bool], list[tuple[Node, float]]] = {}
    for term in terms:
        base, c = _base(term)
        groups.setdefault((base, math.copysign(1.0, c) < 0), []).append((term, c))
    if len(groups) == len(terms):
        return total
    result: Node | None = None
    for (base, _), group in groups.items():
        c = math.fsum(coefficient for _, coefficient in group)
        if len(group) > 1 and math.isfinite(c):
            result = build.add(result, build.scale(base, c))
        else:  # one term, or coefficients that overflow when summed: as they are
            for term, _ in group:
                result = build.add(result, term)
    assert result is not None
    return result


def _base(term: Node) -> tuple[Node, float]:
    """``term`` as ``c × base`` (a pure scaling is a unary contraction onto its own labels)."""
    if not (isinstance(term, Contraction) and term.b is None and term.s1 == term.s3):
        return term, 1.0
    if len(set(term.s3)) == term.ndim and (term.a.dtype, term.a.weak) == (term.dtype, term.weak):
        return term.a, term.scale  # (a cast is more than a scale)
    return term, 1.0
