"""Simplification: rewrite a DAG into a smaller one of equal value.

Most rewrites happen as nodes are built (:mod:`tensorad.build`): symbolic zeros are never
built, unary contractions (transposes, scalings, δ) dissolve into their consumers so
double transposes and products with 1 vanish, and hash-consing shares common
subexpressions. :func:`simplify` adds what needs a view of the whole DAG:

* **constant folding**: a node that depends on no variable is evaluated once and
  becomes a constant, unless it is a cheap structure (a broadcast or a δ, which stays
  symbolic so that it keeps dissolving) or folding would store more numbers than its
  constant inputs hold;
* **like terms**: a sum's terms that are multiples of one node are collected
  (``x + x → 2x``, ``x − x → 0``), and terms that cancel disappear.

Every rewrite preserves the value; the tests check each one by
:func:`tensorad.algebra.equivalent` and numerically.

>>> import tensorad as ta
>>> x = ta.Variable("x", (3,))
>>> simplify(x + 2.0 * x - x) is 2.0 * x
True
"""

from __future__ import annotations

from collections.abc import Sequence

from tensorad import build
from tensorad.evaluate import evaluate
from tensorad.expr import Add, Constant, Contraction, Node, Variable, children, toposort


def simplify(expr: Node) -> Node:
    """``expr`` with constants folded and like terms collected (see the module docstring)."""
    return simplify_all([expr])[0]


def simplify_all(outputs: Sequence[Node]) -> list[Node]:
    """:func:`simplify` for several outputs sharing one DAG."""
    new: dict[Node, Node] = {}
    constant: set[Node] = set()
    for node in toposort(outputs):
        operands = [new[child] for child in children(node)]
        rebuilt = build.rebuild(node, operands)
        if not isinstance(rebuilt, Variable) and all(child in constant for child in children(node)):
            constant.add(node)
            rebuilt = _fold(rebuilt)
        if isinstance(rebuilt, Add):
            rebuilt = collect_terms(rebuilt)
        new[node] = rebuilt
    return [new[node] for node in outputs]


def _fold(node: Node) -> Node:
    """Evaluate a variable-free node into a constant, when that does not inflate it."""
    if isinstance(node, Constant) or (isinstance(node, Contraction) and node.b is None and node.is_structural):
        return node
    inputs = [child.size for child in toposort([node]) if isinstance(child, Constant)]
    if node.size > max(inputs, default=1):
        return node
    (value,) = evaluate([node], {})
    return build.constant(value.copy())


def collect_terms(total: Add) -> Node:
    """A sum with its terms grouped by the node they multiply (``2x + 3x → 5x``)."""
    terms = build.flat_terms(total)
    if terms is None:
        return total
    coefficients: dict[Node, float] = {}
    for term in terms:
        base, c = _base(term)
        coefficients[base] = coefficients.get(base, 0.0) + c
    if len(coefficients) == len(terms):
        return total
    result: Node | None = None
    for base, c in coefficients.items():
        if c != 0.0:
            result = build.add(result, build.scale(base, c))
    return build.zeros(total.shape, total.dtype) if result is None else result


def _base(term: Node) -> tuple[Node, float]:
    """``term`` as ``c × base`` (a pure scaling is a unary contraction onto its own labels)."""
    if isinstance(term, Contraction) and term.b is None and term.s1 == term.s3 and len(set(term.s3)) == term.ndim:
        return term.a, term.scale
    return term, 1.0

