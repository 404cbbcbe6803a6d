"""Matrix notation: an expression of order ≤ 2 written with products, transposes, ``⊙``,
``⊘``, ``diag``, 1-vectors, inverses and the library's functions (what ``expr.to_matrix()``
and ``tensorad derive --format matrix`` give).

Every node of the DAG must have at most two axes. A vector is a column; a contraction
``*(s1, s2, s3)(A, B)`` is read by the labels its operands share:

* none kept in ``s3``: a matrix product over the one summed label (``A B``, ``Aᵀ x``,
  ``xᵀ y``), an outer product (``x yᵀ``) or, with two summed labels, ``tr(Aᵀ B)``;
* kept in ``s3``: the entrywise product of operands with the same labels (``A ⊙ B``,
  then ``𝟏`` sums what is summed), or ``diag(v) B`` for a vector ``v`` on a label of ``B``;
* a label of one operand only, summed: a product with ``𝟏`` (``A 𝟏``, ``sum(x)``); a label
  written twice: ``diag(A)`` (kept) or ``tr(A)``; labels ``s3`` adds: ``x 𝟏ᵀ``, ``c I``,
  ``diag(v)``.

Transposes move inward where that makes the text shorter (``(A B)ᵀ`` stays, ``(Aᵀ)ᵀ`` is
``A``, ``(X⁻¹)ᵀ`` is ``X⁻ᵀ``). The sizes of ``𝟏`` and ``I`` are written (``𝟏₃``) only where
no neighbour fixes them. Anything else (an axis past the second, a batched solve, a
gather) has no matrix form: :class:`~tensorad.errors.UnsupportedError`. The text parses
back with ``tensorad.parse(text, variables=…, notation="matrix")``.

>>> import tensorad as ta
>>> A, x, b = ta.Variable("A", (3, 3)), ta.Variable("x", (3,)), ta.Variable("b", (3,))
>>> print(matrix_notation(ta.derivative(ta.sum((A @ x - b) ** 2), x)))
2 Aᵀ (A x - b)
>>> print(matrix_notation(ta.derivative(ta.logdet(A), A)))
A⁻ᵀ
>>> print(matrix_notation(ta.derivative(x @ A @ x, x)))
Aᵀ x + A x
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from tensorad.errors import UnsupportedError
from tensorad.ir.graph import toposort, use_counts
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
from tensorad.library.registry import ELEMENTWISE
from tensorad.symbolic.matrix_tree import (
    ENTRYWISE_CALLS,
    OF_ALL,
    OF_MATRIX,
    Chain,
    Eye,
    Fn,
    Had,
    Inv,
    Leaf,
    Ones,
    Pow,
    Sum,
    T,
    Tree,
    kind,
    product,
    show,
    transposed,
)
from tensorad.symbolic.notation import format_number

SHARED_LENGTH = 8
"""A subexpression used more than once is named (with ``shared``) when its text is longer."""

# --------------------------------------------------------------------------- the DAG as matrices


@dataclass(frozen=True)
class _Oriented:
    """A tree whose rows are axis ``row`` and columns axis ``col`` of a contraction (``None``: absent)."""

    tree: Tree
    row: str | None
    col: str | None

    @property
    def labels(self) -> set[str]:
        return {label for label in (self.row, self.col) if label is not None}

    def t(self) -> _Oriented:
        return _Oriented(transposed(self.tree), self.col, self.row)

    def to(self, row: str | None, col: str | None) -> _Oriented:
        if (self.row, self.col) == (row, col):
            return self
        assert (self.col, self.row) == (row, col), (self, row, col)
        return self.t()

    def column(self) -> _Oriented:
        """A vector as a column (its label first), a matrix as it is."""
        return self.t() if self.row is None and self.col is not None else self


class _Converter:
    def __init__(self, shared: bool, uses: dict[Node, int]) -> None:
        self.trees: dict[Node, Tree] = {}
        self.shared, self.uses = shared, uses
        self.definitions: list[tuple[str, Tree]] = []
        self.constants: dict[int, str] = {}
        self.names = {node.name for node in uses if isinstance(node, Variable)}
        clash = sorted(self.names & reserved_names())
        if clash:
            raise UnsupportedError(f"no matrix form: a variable is named {clash[0]!r}, a name matrix notation reserves")

    def tree(self, node: Node) -> Tree:
        """``node`` in matrix notation (computed once per node: operands come first in toposort)."""
        return self.trees[node]

    def add(self, node: Node) -> None:
        if node.ndim > 2:
            raise UnsupportedError(f"no matrix form: a value has {node.ndim} axes {node.shape}")
        tree = self.convert(node)
        named = self.shared and self.uses.get(node, 0) > 1 and not isinstance(tree, (Leaf, Ones, Eye))
        if named and len(show(tree)) > SHARED_LENGTH:
            name = next(f"t{k}" for k in itertools.count(len(self.definitions) + 1) if f"t{k}" not in self.names)
            self.names.add(name)
            self.definitions.append((name, tree))
            tree = Leaf(name, kind(tree))
        self.trees[node] = tree

    def convert(self, node: Node) -> Tree:
        k = "scm"[node.ndim]
        match node:
            case Variable(name=name):
                return Leaf(name, k)
            case Constant():
                return self.constant(node)
            case Add(a=a, b=b):
                return _plus(self.tree(a), self.tree(b))
            case Contraction():
                return self.contraction(node)
            case Elementwise(fn="power" | "square", x=x, param=p):
                return Pow(self.tree(x), 2.0 if p is None else p)
            case Elementwise(fn=fn, x=x, param=None) if fn != "rpow":
                return Fn(fn, (self.tree(x),), k)
            case Pointwise(fn="divide", args=(a, b)):
                return Had("⊘", self.tree(a), self.tree(b))
            case Pointwise(fn=fn, args=args) if fn in ENTRYWISE_CALLS:
                return Fn(fn, tuple(self.tree(a) for a in args), k)
            case GeneralUnary(fn="inv", x=x):
                return Inv(self.tree(x))
            case GeneralUnary(fn=fn, x=x, params=()) if fn in OF_MATRIX and x.ndim == 2:
                return Fn(fn, (self.tree(x),), OF_MATRIX[fn])
            case GeneralUnary(fn=fn, x=x, params=(axes,)) if fn in OF_ALL and _all_axes(axes, x.ndim):
                if node.ndim == x.ndim and x.ndim == 2:
                    raise UnsupportedError(f"no matrix form: {fn} over all entries of a matrix")
                return Fn(fn, (self.tree(x),), k)
            case General(fn="solve", args=(a, b), params=(transposed_, "")) if a.ndim == 2:
                inverse = Inv(transposed(self.tree(a)) if transposed_ else self.tree(a))
                return product(inverse, self.tree(b))
        raise UnsupportedError(f"no matrix form: {_what(node)}")

    def constant(self, node: Constant) -> Tree:
        value = np.asarray(node.value)
        if node.ndim == 0:
            return Leaf(format_number(complex(value) if value.dtype.kind == "c" else float(value)), "s")
        first = value.flat[0]
        number = Leaf(format_number(complex(first) if value.dtype.kind == "c" else float(first)), "s")
        if value.dtype.kind != "b" and np.all(value == first):  # c 𝟏, c 𝟏 𝟏ᵀ
            ones = Ones(node.shape[0]) if node.ndim == 1 else product(Ones(node.shape[0]), T(Ones(node.shape[1])))
            return product(number, ones)
        n = node.shape[0]
        if node.ndim == 2 and node.shape == (n, n) and np.array_equal(value, first * np.eye(n)):
            return product(number, Eye(n))  # c I
        name = self.constants.setdefault(id(node), f"C{len(self.constants) + 1}")
        return Leaf(name, "scm"[node.ndim])

    def contraction(self, node: Contraction) -> Tree:
        size = dict(zip(node.s3, node.shape, strict=True))
        for operand, labels in ((node.a, node.s1), (node.b, node.s2)):
            if operand is not None:
                size.update(zip(labels, operand.shape, strict=True))
        a = self.operand(node.a, node.s1, set(node.s3) | set(node.s2), size)
        if node.b is None:
            result = a
        else:
            b = self.operand(node.b, node.s2, set(node.s3) | set(node.s1), size)
            result = _times(a, b, set(node.s3), size)
        result = _finish(result, node.s3, size)
        return result.tree if node.scale == 1.0 else _scaled(node.scale, result.tree)

    def operand(self, node: Node, labels: str, keep: set[str], size: dict[str, int]) -> _Oriented:
        """An operand of a contraction: its diagonal or trace where it repeats a label, its
        labels that appear nowhere else summed."""
        tree = self.tree(node)
        if len(labels) == 2 and labels[0] == labels[1]:
            if labels[0] in keep:
                return _Oriented(Fn("diag", (tree,), "c"), labels[0], None)
            return _Oriented(Fn("tr", (tree,), "s"), None, None)
        oriented = _Oriented(tree, *_padded(labels))
        gone = oriented.labels - keep
        if gone == oriented.labels and gone:
            return _Oriented(Fn("sum", (tree,), "s"), None, None)
        for label in gone:  # one of a matrix's labels
            oriented = _summed(oriented, label, size[label])
        return oriented


def reserved_names() -> frozenset[str]:
    """The names matrix notation gives a meaning of its own: ``I``, ``σ`` and the functions."""
    calls = {"diag", "tr", "sum", *OF_MATRIX, *OF_ALL, *ENTRYWISE_CALLS, *ELEMENTWISE}
    return frozenset({"I", "σ", *calls})


def _padded(labels: str) -> tuple[str | None, str | None]:
    """``(row, col)`` of a value with ``labels``: a vector is a column, a scalar neither."""
    row, col = (*labels, None, None)[:2]
    return row, col


def _all_axes(axes: object, ndim: int) -> bool:
    return isinstance(axes, tuple) and sorted(axes) == list(range(ndim))


def _what(node: Node) -> str:
    name = getattr(node, "fn", type(node).__name__)
    return f"{name} (shape {node.shape})"


def _plus(a: Tree, b: Tree) -> Tree:
    terms: list[tuple[bool, Tree]] = []
    for part in (a, b):
        if isinstance(part, Sum):
            terms += part.terms
        else:
            terms.append(_signed(part))
    return Sum(tuple(terms))


def _signed(tree: Tree) -> tuple[bool, Tree]:
    """``tree`` as ``(negative, magnitude)`` when it has a negative number in front."""
    if isinstance(tree, Leaf) and tree.text.startswith("-"):
        return True, Leaf(tree.text[1:], tree.kind)
    if isinstance(tree, Chain) and isinstance(tree.factors[0], Leaf) and tree.factors[0].text.startswith("-"):
        number = -float(tree.factors[0].text)
        return True, product(Leaf(format_number(number), "s"), *tree.factors[1:])
    return False, tree


def _scaled(c: float, tree: Tree) -> Tree:
    if isinstance(tree, Sum) and c == -1.0:
        return Sum(tuple((not negative, t) for negative, t in tree.terms))
    return product(Leaf(format_number(c), "s"), tree)


def _times(a: _Oriented, b: _Oriented, out: set[str], size: dict[str, int]) -> _Oriented:
    """The product of two operands whose labels all appear in ``out`` or in both."""
    if not a.labels or not b.labels:
        scalar, other = (a, b) if not a.labels else (b, a)
        return _Oriented(product(scalar.tree, other.tree), other.row, other.col)
    shared = a.labels & b.labels
    kept, summed = shared & out, shared - out
    if not kept:
        if not summed:  # an outer product of two vectors
            a, b = a.column(), b.column()
            return _Oriented(product(a.tree, transposed(b.tree)), a.row, b.row)
        if len(summed) == 1:
            (c,) = summed
            left = a.to(_rest(a, c), c)
            right = b.to(c, _rest(b, c))
            return _Oriented(product(left.tree, right.tree), left.row, right.col)
        b = b.to(a.row, a.col)
        return _Oriented(Fn("tr", (product(transposed(a.tree), b.tree),), "s"), None, None)
    if a.labels == b.labels:
        h = _Oriented(Had("⊙", a.tree, b.to(a.row, a.col).tree), a.row, a.col)
        if summed == h.labels:
            return _Oriented(Fn("sum", (h.column().tree,), "s"), None, None)
        for label in summed:
            h = _summed(h, label, size[label])
        return h
    vector, matrix = (a, b) if len(a.labels) == 1 else (b, a)
    (k,) = vector.labels
    m = matrix.to(k, _rest(matrix, k))
    return _Oriented(product(Fn("diag", (vector.column().tree,), "m"), m.tree), k, m.col)


def _rest(x: _Oriented, label: str) -> str | None:
    """The label of ``x`` other than ``label`` (``None`` for a vector)."""
    return next(iter(x.labels - {label}), None)


def _summed(x: _Oriented, label: str, n: int) -> _Oriented:
    """A matrix summed over one of its labels: ``X 𝟏`` (or ``Xᵀ 𝟏``), a column."""
    (other,) = x.labels - {label}
    x = x.to(other, label)
    return _Oriented(product(x.tree, Ones(n)), other, None)


def _finish(x: _Oriented, s3: str, size: dict[str, int]) -> _Oriented:
    """``x`` with the labels ``s3`` adds (broadcast along ``𝟏``, a diagonal), in ``s3``'s order."""
    if len(s3) == 2 and s3[0] == s3[1]:
        if not x.labels:
            return _Oriented(product(x.tree, Eye(size[s3[0]])), s3[0], s3[0])
        return _Oriented(Fn("diag", (x.column().tree,), "m"), s3[0], s3[0])
    for label in s3:
        if label in x.labels:
            continue
        if not x.labels:
            x = _Oriented(product(x.tree, Ones(size[label])), label, None)
        else:
            x = x.column()
            x = _Oriented(product(x.tree, T(Ones(size[label]))), x.row, label)
    return x.to(*_padded(s3))


def matrix_notation(expr: Node, *, latex: bool = False, shared: bool = False, name: str | None = None) -> str:
    """``expr`` (order ≤ 2) in matrix notation: plain text, or LaTeX (``^\\top``, ``^{-1}``,
    ``\\odot``); with ``shared``, subexpressions used more than once are named on lines
    of their own (``where t1 = …``) when that makes the text shorter; with ``name``, as
    the statement ``name = …``.

    Raises:
        UnsupportedError: some node has more than two axes or no matrix form.

    >>> import tensorad as ta
    >>> X, w = ta.Variable("X", (5, 3)), ta.Variable("w", (3,))
    >>> print(matrix_notation(ta.derivative(ta.derivative(ta.sum(ta.softplus(X @ w)), w), w)))
    Xᵀ diag(σ(X w) - σ(X w) ⊙ σ(X w)) X
    """
    texts = [_written(expr, latex, named) for named in ((False, True) if shared else (False,))]
    text = min(texts, key=len)  # names only where they shorten the text
    return text if name is None else f"{name} = {text}"


def _written(expr: Node, latex: bool, shared: bool) -> str:
    order = toposort([expr])
    converter = _Converter(shared, use_counts(order, [expr]))
    for node in order:
        converter.add(node)
    text = show(converter.tree(expr), latex)
    for label, definition in converter.definitions:
        line = show(definition, latex)
        text += (
            rf" \quad \text{{where}} \quad {show(Leaf(label, 's'), True)} = {line}"
            if latex
            else f"\nwhere {label} = {line}"
        )
    return text
