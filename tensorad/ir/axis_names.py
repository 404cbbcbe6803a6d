"""Names for a variable's axes, as the patterns that use it write them; printing uses them.

A named pattern applied to a variable — ``ta.einsum("batch in, in out -> batch out", x, W)``
or a function of :mod:`tensorad.einops` — names the variable's axes (:func:`name_axes`).
The names belong to that variable object only (variables are not interned: every trace
makes its own), and they follow the expression wherever an axis of the variable survives:
:func:`axis_hints` reads through elementwise functions, sums and products, so printing a
derivative names its indices ``batch``, ``in``, ``out`` where they index those axes.

>>> import tensorad as ta
>>> x, W = ta.Variable("x", (5, 3)), ta.Variable("W", (3, 2))
>>> name_axes(x, ("batch", "in"))
>>> axis_hints(ta.tanh(ta.einsum("ij,jk->ik", x, W)))
('batch', None)
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from tensorad.ir.nodes import Add, Contraction, Elementwise, Node, Pointwise, Variable

Names = tuple[str | None, ...]

_NAMES: dict[int, tuple[weakref.ref[Variable], Names]] = {}
"""By the variable's identity (a node's ``==`` is elementwise), while it lives."""

MAX_DEPTH = 40
"""Nodes read through, at most, looking for an axis' name (printing is bounded too)."""


def name_axes(x: Variable, names: Sequence[str | None]) -> None:
    """Name ``x``'s axes (``None``: unnamed); an axis named before keeps its first name."""
    if len(names) != x.ndim:
        return
    old = _names(x) or (None,) * x.ndim
    key = id(x)
    _NAMES[key] = (
        weakref.ref(x, lambda _: _NAMES.pop(key, None)),
        tuple(o or n for o, n in zip(old, names, strict=True)),
    )


def _names(x: Variable) -> Names | None:
    entry = _NAMES.get(id(x))
    return entry[1] if entry is not None and entry[0]() is x else None


def pass_names(source: Variable, target: Node) -> None:
    """``target`` (a variable a transform's stand-in ``source`` is replaced by) takes the
    names the patterns gave ``source``'s axes."""
    names = _names(source)
    if names is not None and isinstance(target, Variable):
        name_axes(target, names)


def axis_hints(node: Node, memo: dict[int, Names] | None = None, depth: int = 0) -> Names:
    """The name of each of ``node``'s axes where it is an axis of a named variable (read
    through elementwise functions, sums, and the labels a product keeps), else ``None``.
    ``memo`` (by node identity) keeps a DAG's shared nodes from being read again."""
    unnamed: Names = (None,) * node.ndim
    if depth > MAX_DEPTH or not _NAMES:
        return unnamed
    memo = {} if memo is None else memo
    if (known := memo.get(id(node))) is not None:
        return known
    match node:
        case Variable():
            found = _names(node) or unnamed
        case Elementwise(x=x):
            found = axis_hints(x, memo, depth + 1)
        case Add(a=a, b=b):
            found = _first(axis_hints(a, memo, depth + 1), axis_hints(b, memo, depth + 1))
        case Pointwise(args=args) if all(arg.shape == node.shape for arg in args):
            found = _first(*(axis_hints(arg, memo, depth + 1) for arg in args))
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3):
            by_label: dict[str, str] = {}
            for operand, labels in ((a, s1), (b, s2)):
                if operand is not None:
                    for label, name in zip(labels, axis_hints(operand, memo, depth + 1), strict=True):
                        if name is not None:
                            by_label.setdefault(label, name)
            found = tuple(by_label.get(label) for label in s3)
        case _:
            found = unnamed
    memo[id(node)] = found
    return found


def _first(*candidates: Names) -> Names:
    return tuple(next((n for n in names if n is not None), None) for names in zip(*candidates, strict=True))
