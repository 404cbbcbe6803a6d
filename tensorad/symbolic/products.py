"""How a product reads: flattened into factors over label classes, in textbook order.

The printers (:mod:`tensorad.symbolic.printing`) show a contraction as one product of
its factors, nested contractions expanded (associativity), with the order, names and
explicit sums worked out here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from tensorad.ir.nodes import (
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


@dataclass(slots=True)
class Product:
    """A contraction flattened: ``scale ×`` the factors, each axis tagged by a label class."""

    scale: float = 1.0
    factors: list[tuple[Node, list[int]]] = field(default_factory=list)
    out: list[int] = field(default_factory=list)


def flatten_product(
    root: Contraction, names: Sequence[str], cap: int, keep: Collection[Node] = ()
) -> tuple[Product, int]:
    """``root`` as one product over label classes; output axes named alike share a class.

    Nested contractions are expanded (at most ``cap`` of them, an unexpanded one stays a
    factor), their labels renamed into the consumer's; a repeated output label merges the
    consumer's classes; a scalar constant joins the scale, and so does a summed class that
    no factor carries (its size). A contraction in ``keep`` (a named subexpression) stays
    a factor. Returns the product and the number of expansions.
    """
    parent: list[int] = []
    size: list[int] = []

    def new(n: int) -> int:
        parent.append(len(parent))
        size.append(n)
        return len(parent) - 1

    def find(c: int) -> int:
        while parent[c] != c:
            parent[c] = c = parent[parent[c]]
        return c

    by_name: dict[str, int] = {}
    for name, n in zip(names, root.shape, strict=True):
        if name not in by_name:
            by_name[name] = new(n)
    product = Product(out=[by_name[name] for name in names])
    stack: list[tuple[Node, list[int]]] = [(root, product.out)]
    expanded = 0
    while stack:
        node, labels = stack.pop()
        if isinstance(node, Contraction) and expanded < cap and (node is root or node not in keep):
            expanded += 1
            product.scale *= node.scale
            local: dict[str, int] = {}
            for label, c in zip(node.s3, labels, strict=True):
                if label in local:
                    parent[find(c)] = find(local[label])
                local.setdefault(label, c)
            operands = [(node.a, node.s1)] + ([] if node.b is None else [(node.b, node.s2)])
            for operand, s in reversed(operands):
                for x, n in zip(s, operand.shape, strict=True):
                    if x not in local:
                        local[x] = new(n)
                stack.append((operand, [local[x] for x in s]))
        elif isinstance(node, Constant) and node.ndim == 0 and node.dtype.kind in "biuf":
            product.scale *= float(node.value)
        else:
            product.factors.append((node, labels))
    product.factors = [(node, [find(c) for c in labels]) for node, labels in product.factors]
    product.out = [find(c) for c in product.out]
    carried = {c for _, labels in product.factors for c in labels}
    for c in {find(c) for c in range(len(parent))} - carried - set(product.out):
        product.scale *= size[c]
    return product, expanded


@dataclass(slots=True)
class Item:
    """A factor to print: a node over label classes, or a δ between two free names."""

    node: Node | None
    classes: list[int]
    delta: tuple[str, str] = ("", "")


def _tie_key(item: Item) -> tuple[int, str]:
    match item.node:
        case Variable(name=name):
            return (0, name)
        case Elementwise(fn=fn) | GeneralUnary(fn=fn) | Pointwise(fn=fn):
            return (2, fn)
        case None:
            return (4, "")
        case _:
            return (1 if isinstance(item.node, Constant) else 3, "")


def reading_order(items: list[Item], free: dict[int, int], summed: set[int]) -> list[int]:
    """An order that reads like the textbook: start at the first free index, then follow
    summed indices from factor to factor (``A[i,j]*B[j,k]*x[k]``).

    Among equally good starts (``x[i]*A[i,j]*x[j]`` could start at either ``x``), the
    order whose index pattern sorts first wins, so the text does not depend on the order
    in which the DAG happens to hold the operands.
    """
    by_class: dict[int, list[int]] = {}
    for k, item in enumerate(items):
        for c in dict.fromkeys(item.classes):
            by_class.setdefault(c, []).append(k)

    def start_key(k: int) -> tuple[float, bool, int, tuple[int, str]]:
        item = items[k]
        first = min((free[c] for c in item.classes if c in free), default=math.inf)
        links = sum(c in summed for c in item.classes)
        return (first, item.node is None, links, _tie_key(item))

    starts = sorted(range(len(items)), key=start_key)
    if not starts:
        return []
    ties = [k for k in starts if start_key(k) == start_key(starts[0])]
    if len(ties) == 1 or len(items) > _CANONICAL_ITEMS:
        return _walk(items, by_class, summed, starts)
    orders = [_walk(items, by_class, summed, [k, *starts]) for k in ties[:_CANONICAL_ITEMS]]
    return min(orders, key=lambda order: _pattern(items, order, free))


_CANONICAL_ITEMS = 12
"""Products up to this many factors get an order independent of the DAG's operand order."""


def _walk(items: list[Item], by_class: dict[int, list[int]], summed: set[int], starts: list[int]) -> list[int]:
    """Place ``starts[0]``, then always a factor sharing a summed index with the latest
    placed factor that still has one, else the next of ``starts``."""
    placed: list[int] = []
    done: set[int] = set()
    trail: list[int] = []
    pending = iter(starts)
    while len(placed) < len(items):
        nxt = None
        while trail and nxt is None:
            options = [k for c in items[trail[-1]].classes if c in summed for k in by_class[c] if k not in done]
            if options:
                nxt = min(options, key=lambda k: (_tie_key(items[k]), k))
            else:
                trail.pop()
        if nxt is None:
            nxt = next(k for k in pending if k not in done)
        placed.append(nxt)
        done.add(nxt)
        trail.append(nxt)
    return placed


def _pattern(items: list[Item], order: list[int], free: dict[int, int]) -> list[tuple[tuple[int, str], list[int]]]:
    """The factors in ``order`` with their indices numbered as they will print."""
    number = dict(free)
    summed = itertools.count(max(free.values(), default=-1) + 1)
    for k in order:
        for c in items[k].classes:
            if c not in number:
                number[c] = next(summed)
    return [(_tie_key(items[k]), [number[c] for c in items[k].classes]) for k in order]


def explicit_sums(items: list[Item], summed: list[int]) -> tuple[list[int], dict[int, list[int]]]:
    """The summed classes that need an explicit sum: over the whole product, and per factor.

    Einstein's convention covers an index written exactly twice: in two factors, or twice
    in one indexed tensor (``A[i,i]``). An index in one factor only (``sum_j(A[i,j])``,
    ``sum_i(exp(X[i,i]))``) gets a sum around that factor; one in three places or more, a
    sum around the whole product (``sum_i(x[i]*y[i]*z[i])``).
    """
    where: dict[int, list[int]] = {c: [] for c in summed}
    for k, item in enumerate(items):
        for c in item.classes:
            if c in where:
                where[c].append(k)
    whole: list[int] = []
    per_factor: dict[int, list[int]] = {}
    for c, places in where.items():
        if len(set(places)) > 1:
            if sum(_writes(items[k].node) for k in places) > 2:
                whole.append(c)
            continue
        node = items[places[0]].node  # one factor: Einstein's convention only for A[i,i]
        if len(places) != 2 or not isinstance(node, (Variable, Constant, GeneralUnary)) or _writes(node) != 1:
            per_factor.setdefault(places[0], []).append(c)
    return whole, per_factor


def _writes(node: Node | None) -> int:
    """How often a factor writes an index it carries once: once when its text writes each
    of its own indices once (``A[i,k]``, ``inv(X)[i,k]``, ``exp(x[k])``, ``(A[i,k] +
    B[k,i])``), else 2 (``(x[k]*y[k] - z[k])`` writes ``k`` twice in a term: only an explicit
    ``sum_k`` reads it back as one index)."""
    return 1 if _once(node, 4) else 2


def _once(node: Node | None, depth: int) -> bool:
    """Whether the text of ``node`` writes each of its indices at most once in any product
    (conservatively False past ``depth`` levels)."""
    match node:
        case GeneralUnary(fn="softmax" | "log_softmax" | "logsumexp" | "norm", x=x):  # written over its argument
            return depth > 0 and _once(x, depth - 1)
        case Variable() | Constant() | GeneralUnary() | General():
            return True
        case _ if depth == 0:
            return False
        case Elementwise(x=x):
            return _once(x, depth - 1)
        case Add(a=a, b=b):
            return _once(a, depth - 1) and _once(b, depth - 1)
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3):
            written = s1 + (s2 if b is not None else "")
            return (
                len(set(s3)) == len(s3)
                and all(written.count(label) == 1 for label in s3)
                and all(_once(operand, depth - 1) for operand in (a, b) if operand is not None)
            )
        case _:
            return False
