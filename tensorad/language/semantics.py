"""The expression language's meaning: a syntax tree elaborated into tensorad nodes.

Products become one ``einsum`` over their factors, sums align their free labels by name,
calls bind labels; the rules are in :mod:`tensorad.language`.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Container, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeGuard, assert_never

import numpy as np

from tensorad._types import Labels
from tensorad.ir.build import contract
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.ir.seeds import identity
from tensorad.language.builtins import matrix_function
from tensorad.language.syntax import (
    MATRIX,
    MATRIX_KEEPING,
    REDUCING,
    Ast,
    Call,
    Names,
    Neg,
    Num,
    ParseError,
    Power,
    Product,
    Relabel,
    Sum,
    Var,
)
from tensorad.library.registry import ELEMENTWISE, call
from tensorad.numpy import arithmetic, products, reductions
from tensorad.numpy.functions import general
from tensorad.symbolic.notation import index_names


@dataclass(frozen=True, slots=True)
class _Value:
    """``scale * node`` with free ``labels`` (first seen at ``columns``); a number when ``node`` is None."""

    node: Node | None
    labels: Names
    columns: tuple[int, ...]
    scale: float = 1.0

    def dense(self) -> Node:
        assert self.node is not None
        return self.node if self.scale == 1.0 else arithmetic.multiply(self.scale, self.node)


DELTA = "delta"
"""The identity ``delta[i,j]`` (unless a variable of that name is given)."""

PRODUCT_LABELS = len(string.ascii_letters)
"""Distinct labels in one product (its ``einsum`` spells each with an ASCII letter)."""


def _shown(labels: Names) -> str:
    """Labels as the language writes them between brackets: ``i,j``."""
    return ",".join(labels)


def _run_together(label: str, labels: Container[str]) -> bool:
    """Whether ``label`` reads as several single-letter ``labels`` written without commas."""
    return len(label) > 1 and all(letter in labels for letter in label)


def _spelled(*groups: Names) -> list[Labels]:
    """``groups`` of labels as index strings, one character per distinct label (ASCII
    letters first, in order of first appearance): what ``einsum`` and ``contract`` take."""
    distinct = list(dict.fromkeys(itertools.chain(*groups)))
    letters = dict(zip(distinct, fresh_labels(len(distinct)), strict=True))
    return ["".join(letters[label] for label in group) for group in groups]


def _comma_hint(head: str, labels: Names, n: int) -> str:
    """For ``n`` axes written with fewer ``labels``, one of them a word (``A[ij]`` for a
    matrix, once the way to write ``A[i,j]``): the hint to separate them with commas."""
    if len(labels) >= n or not any(len(label) > 1 and label.isalpha() for label in labels):
        return ""
    letters = "".join(labels)
    split = letters if len(letters) == n and letters.isalpha() else itertools.islice(index_names(), n)
    return f"; labels are comma-separated: write {head}[{','.join(split)}]"


def _occurrences(ast: Ast) -> Iterator[tuple[Var, str | None]]:
    """Variable uses in text order, each with the function it is the direct argument of."""
    pending: list[tuple[Ast, str | None]] = [(ast, None)]
    while pending:
        node, call = pending.pop()
        match node:
            case Num():
                pass
            case Var():
                yield node, call
            case Call(name=name, arg=arg):
                pending.append((arg, name))
            case Neg(arg=arg) | Relabel(arg=arg):
                pending.append((arg, None))
            case Power(base=base, exponent=exponent):
                pending += [(exponent, None), (base, None)]
            case Product(factors=parts) | Sum(terms=parts):
                pending += [(part, None) for part in reversed(parts)]
            case _:
                assert_never(node)


class Builder:
    """Elaborates the syntax tree into tensorad nodes; ``bound`` labels are kept free by products."""

    def __init__(
        self, text: str, ast: Ast, sizes: dict[str, int], default_size: int, given: Mapping[str, Node]
    ) -> None:
        self.text, self.sizes, self.default_size = text, sizes, default_size
        self.variables: dict[str, Node] = {}  # the variables, and the expressions given by name
        self.labels: dict[str, tuple[Names, tuple[int, ...]] | None] = {}  # None: anonymous matrix axes
        uses = list(_occurrences(ast))
        for use, _ in uses:  # a label on a given variable's axis takes that axis' size
            known = given.get(use.name)
            if known is not None and use.labels is not None and len(use.labels) == known.ndim:
                for label, n in zip(use.labels, known.shape, strict=True):
                    self.sizes.setdefault(label, n)
        deltas = [use.labels for use, _ in uses if use.name == DELTA and use.labels and len(use.labels) == 2]
        for _ in deltas:  # a label of a delta whose size is unknown takes the other's (along chains too)
            for a, b in deltas:
                if (a in self.sizes) != (b in self.sizes):
                    self.sizes[b if a in self.sizes else a] = self.sizes[a if a in self.sizes else b]
        for use, _ in uses:
            if use.labels is not None and self.labels.get(use.name) is None:
                self.labels[use.name] = (use.labels, use.columns)
        for use, caller in uses:
            if use.name == DELTA and use.name not in given:
                self.delta(use)
                continue
            if use.name not in self.labels:  # written without brackets everywhere
                self.labels[use.name] = None if caller in MATRIX else ((), ())
            first = self.labels[use.name]
            if use.name not in self.variables:
                shape = (default_size,) * 2 if first is None else tuple(self.size(label) for label in first[0])
                known = given.get(use.name)
                self.variables[use.name] = Variable(use.name, shape) if known is None else known
            self.check(use, first)

    def delta(self, use: Var) -> None:
        """``delta[i,j]``, the identity: two labels of one size."""
        if use.labels is None or len(use.labels) != 2:
            raise self.fail(use.column, f"{DELTA} is the identity: write it with two labels, {DELTA}[i,j]")
        if self.size(use.labels[0]) != self.size(use.labels[1]):
            raise self.fail(
                use.column,
                f"{DELTA}[{use.labels[0]},{use.labels[1]}] needs two labels of one size, got "
                f"{self.size(use.labels[0])} and {self.size(use.labels[1])}",
            )

    def check(self, use: Var, first: tuple[Names, tuple[int, ...]] | None) -> None:
        """The variable's shape fits this use: its rank, and each label's size."""
        name, shape = use.name, self.variables[use.name].shape
        if use.labels is None:
            fits = len(shape) == 2 and shape[0] == shape[1] if first is None else len(shape) == len(first[0])
            if not fits:
                raise self.fail(use.column, f"{name} has shape {shape}: write it with labels, e.g. {name}[i,j]")
            return
        if len(use.labels) != len(shape):
            written = f"{len(use.labels)} label{'s' * (len(use.labels) != 1)} here ({_shown(use.labels)})"
            raise self.fail(
                use.column,
                f"{name} has {len(shape)} axes (shape {shape}) but {written}"
                f"{_comma_hint(name, use.labels, len(shape))}",
            )
        for label, column in zip(use.labels, use.columns, strict=True):
            if label not in self.sizes and _run_together(label, self.sizes):
                raise self.fail(
                    column,
                    f"label {label} has no size, but {' and '.join(label)} have one; labels "
                    f"are comma-separated: write {name}[{','.join(label)}] (or size {label} in dims)",
                )
        for k, (label, column, n) in enumerate(zip(use.labels, use.columns, shape, strict=True)):
            if self.size(label) != n:
                raise self.fail(
                    column, f"label {label} has size {self.size(label)}, but axis {k} of {name} has size {n}"
                )

    def fail(self, column: int, description: str) -> ParseError:
        return ParseError(description, self.text, column)

    def size(self, label: str) -> int:
        return self.sizes.get(label, self.default_size)

    def aligned(self, node: Node, labels: Names, out: Names) -> Node:
        """``node`` (labelled ``labels``) with its axes in the order of ``out``, broadcast
        along the labels of ``out`` it does not have."""
        s1, s3 = _spelled(labels, out)
        sizes = {letter: self.size(label) for label, letter in zip(out, s3, strict=True)}
        return contract(node, s1, None, "", s3, sizes=sizes)

    def value(self, ast: Ast, bound: frozenset[str]) -> _Value:
        match ast:
            case Num(value=value):
                return _Value(None, (), (), value)
            case Var() | Relabel():
                return self.contract([self.factor(ast, bound)], bound)
            case Call():
                return self.call(ast, bound)
            case Neg(arg=arg):
                inner = self.value(arg, bound)
                return _Value(inner.node, inner.labels, inner.columns, -inner.scale)
            case Power():
                return self.power(ast, bound)
            case Product():
                return self.product(ast, bound)
            case Sum():
                return self.sum(ast, bound)
            case _:
                assert_never(ast)

    def factor(self, ast: Ast, bound: frozenset[str]) -> _Value:
        """A factor of a product: a variable keeps its written labels, repeats included."""
        if isinstance(ast, Relabel):
            return self.relabel(ast, bound)
        if not isinstance(ast, Var):
            return self.value(ast, bound)
        if ast.name == DELTA and ast.name not in self.variables:
            assert ast.labels is not None
            return _Value(identity((self.size(ast.labels[0]),), np.dtype(np.float64)), ast.labels, ast.columns)
        variable, first = self.variables[ast.name], self.labels[ast.name]
        if ast.labels is not None:
            return _Value(variable, ast.labels, ast.columns)
        if first is None:
            raise self.fail(ast.column, f"{ast.name} is a matrix without labels: write {ast.name}[i,j]")
        return _Value(variable, first[0], (ast.column,) * len(first[0]))

    def relabel(self, ast: Relabel, bound: frozenset[str]) -> _Value:
        """``(e)[a,b]``: the free labels of ``e``, in their order, renamed ``a``, ``b``;
        ``inv(A)[a,b]`` of a matrix written without labels: its axes named ``a``, ``b``."""
        if self.bare_inverse(ast.arg):
            node = self.bare_matrix(ast.arg)
            if tuple(self.size(label) for label in ast.labels) != node.shape:
                raise self.fail(ast.column, f"inv(...) of shape {node.shape} needs two labels of those sizes")
            return _Value(node, ast.labels, ast.columns)
        inner = self.value(ast.arg, bound)
        if len(ast.labels) != len(inner.labels):
            raise self.fail(
                ast.column,
                f"the expression has {len(inner.labels)} free labels "
                f"({_shown(inner.labels)}), but {len(ast.labels)} are given"
                f"{_comma_hint('(…)', ast.labels, len(inner.labels))}",
            )
        for old, new, column in zip(inner.labels, ast.labels, ast.columns, strict=True):
            if self.size(old) != self.size(new):
                raise self.fail(
                    column,
                    f"label {new} has size {self.size(new)}, but the axis it names "
                    f"(label {old}) has size {self.size(old)}",
                )
        return _Value(inner.node, ast.labels, ast.columns, inner.scale)

    def contract(self, factors: list[_Value], bound: frozenset[str]) -> _Value:
        """One einsum over ``factors``: labels seen twice are summed unless bound."""
        count: dict[str, int] = {}
        first: dict[str, int] = {}
        for factor in factors:
            for label, column in zip(factor.labels, factor.columns, strict=True):
                count[label] = count.get(label, 0) + 1
                first.setdefault(label, column)
                if count[label] == 3 and label not in bound:
                    raise self.fail(
                        column,
                        f"label {label} appears 3 times in one product: at most twice "
                        f"(once free, twice summed), unless bound by sum_{label}(…) or out[…] =",
                    )
        out = tuple(label for label in count if count[label] == 1 or label in bound)
        scale = math.prod(factor.scale for factor in factors)
        tensors = [factor for factor in factors if factor.node is not None]
        if not tensors:
            return _Value(None, (), (), scale)
        if len(tensors) == 1 and tensors[0].labels == out:
            node = tensors[0].node
        else:
            if len(count) > PRODUCT_LABELS:
                raise self.fail(
                    [*first.values()][PRODUCT_LABELS],
                    f"a product has more than {PRODUCT_LABELS} labels: contract part of it in parentheses",
                )
            spelled = _spelled(*(factor.labels for factor in tensors), out)
            equation = ",".join(spelled[:-1]) + "->" + spelled[-1]
            node = products.einsum(equation, *(factor.node for factor in tensors))
        return _Value(node, out, tuple(first[label] for label in out), scale)

    def product(self, ast: Product, bound: frozenset[str]) -> _Value:
        group: list[_Value] = []
        for factor, divides, column in zip(ast.factors, ast.divides, ast.columns, strict=True):
            if not divides:
                group.append(self.factor(factor, bound))
                continue
            divisor = self.value(factor, bound)
            if divisor.node is None and divisor.scale == 0.0:
                raise self.fail(column, "division by zero")
            if divisor.node is None:
                group.append(_Value(None, (), (), 1.0 / divisor.scale))
                continue
            numerator = self.contract(group, bound)
            new = tuple(label for label in divisor.labels if label not in numerator.labels)
            columns = numerator.columns + tuple(
                c for label, c in zip(divisor.labels, divisor.columns, strict=True) if label in new
            )
            out = numerator.labels + new
            below = self.aligned(divisor.node, divisor.labels, out)
            above = 1.0 if numerator.node is None else self.aligned(numerator.node, numerator.labels, out)
            node = arithmetic.divide(above, below)  # numpy's division, aligned by label
            group = [_Value(node, out, columns, numerator.scale / divisor.scale)]
        return self.contract(group, bound)

    def sum(self, ast: Sum, bound: frozenset[str]) -> _Value:
        total = self.value(ast.terms[0], bound)
        for term, sign, column in zip(ast.terms[1:], ast.signs[1:], ast.columns[1:], strict=True):
            other = self.value(term, bound)
            other = _Value(other.node, other.labels, other.columns, sign * other.scale)
            if not (set(total.labels) <= set(other.labels) or set(other.labels) <= set(total.labels)):
                raise self.fail(
                    column,
                    f"cannot {'add' if sign > 0 else 'subtract'} terms with free labels "
                    f"({_shown(total.labels)}) and ({_shown(other.labels)}): one side must have all the "
                    "other's labels",
                )
            if total.node is None and other.node is None:
                total = _Value(None, (), (), total.scale + other.scale)
                continue
            if total.node is None or other.node is None:
                tensor, number = (other, total) if total.node is None else (total, other)
                total = _Value(arithmetic.add(tensor.dense(), number.scale), tensor.labels, tensor.columns)
                continue
            wide = total if set(other.labels) <= set(total.labels) else other
            a, b = (self.aligned(v.dense(), v.labels, wide.labels) for v in (total, other))
            total = _Value(arithmetic.add(a, b), wide.labels, wide.columns)
        return total

    def power(self, ast: Power, bound: frozenset[str]) -> _Value:
        base, exponent = self.value(ast.base, bound), self.value(ast.exponent, bound)
        if exponent.node is not None:
            raise self.fail(ast.column, "the exponent must be a numeric constant")
        if base.node is not None:
            return _Value(arithmetic.power(base.dense(), exponent.scale), base.labels, base.columns)
        try:
            return _Value(None, (), (), math.pow(base.scale, exponent.scale))
        except (ValueError, OverflowError):
            raise self.fail(ast.column, f"({base.scale:g})^{exponent.scale:g} is not a finite real number") from None

    def call(self, ast: Call, bound: frozenset[str]) -> _Value:
        name = ast.name
        if name in MATRIX:
            return self.matrix(ast, bound)
        arg = self.value(ast.arg, bound | set(ast.labels))
        if name == "relu":
            if arg.node is None:
                return _Value(None, (), (), max(arg.scale, 0.0))
            return _Value(arithmetic.relu(arg.dense()), arg.labels, arg.columns)
        if name in ELEMENTWISE:
            if arg.node is None:
                impl = ELEMENTWISE[name].impl
                return _Value(None, (), (), float(impl(np.asarray(arg.scale), None)))
            return _Value(call(name, arg.dense()), arg.labels, arg.columns)
        for k, (label, column) in enumerate(zip(ast.labels, ast.columns, strict=True)):
            if label in ast.labels[:k]:
                raise self.fail(column, f"label {label} is named twice")
            if label not in arg.labels:
                several = f"sum_{{{','.join(label)}}}(…)" if name == "sum" else f"{name}(…, {', '.join(label)})"
                hint = f"; labels are comma-separated: write {several}" if _run_together(label, arg.labels) else ""
                raise self.fail(
                    column,
                    f"{label} is not a free label of the argument of {name} "
                    f"(free labels: ({_shown(arg.labels)})){hint}",
                )
        over = ast.labels or tuple(label for label in arg.labels if label not in bound)
        if not over and name == "sum":
            return arg
        if not over or arg.node is None:
            raise self.fail(ast.column, f"{name}: the argument has no free label to act over")
        reduce = tuple(k for k, label in enumerate(arg.labels) if label in over)
        kept = [(label, c) for label, c in zip(arg.labels, arg.columns, strict=True) if label not in over]
        if name == "sum":
            node, scale = reductions.sum(arg.node, axis=reduce), arg.scale
        else:
            node, scale = general(name, arg.dense(), reduce), 1.0
        if name not in REDUCING:
            return _Value(node, arg.labels, arg.columns)
        return _Value(node, tuple(label for label, _ in kept), tuple(c for _, c in kept), scale)

    def bare_inverse(self, ast: Ast) -> TypeGuard[Call]:
        """``inv(A)`` of a matrix never written with labels (its axes are named after it)."""
        return (
            isinstance(ast, Call)
            and ast.name in MATRIX_KEEPING
            and isinstance(ast.arg, Var)
            and ast.arg.labels is None
            and self.labels.get(ast.arg.name) is None
        )

    def bare_matrix(self, ast: Call) -> Node:
        """``det(A)``, ``logdet(A)``, ``trace(A)`` of a matrix written without labels."""
        assert isinstance(ast.arg, Var)
        return matrix_function(ast.name, self.variables[ast.arg.name])

    def matrix(self, ast: Call, bound: frozenset[str]) -> _Value:
        """``inv``, ``det``, ``logdet`` over the last two free labels (a bare name: its own axes)."""
        if isinstance(ast.arg, Var) and ast.arg.labels is None:
            name = ast.arg.name
            if self.bare_inverse(ast):
                raise self.fail(ast.column, f"name the axes of {ast.name}({name}): {ast.name}({name})[i,j]")
            if self.labels[name] is None:
                return _Value(self.bare_matrix(ast), (), ())
            if self.labels[name] == ((), ()):
                raise self.fail(ast.arg.column, f"{name} has no labels: write {ast.name}({name}[i,j])")
        arg = self.value(ast.arg, bound)
        if len(arg.labels) < 2 or arg.node is None:
            raise self.fail(
                ast.column, f"{ast.name} needs a matrix: its argument has free labels ({_shown(arg.labels)})"
            )
        i, j = arg.labels[-2], arg.labels[-1]
        if self.size(i) != self.size(j) and ast.name != "transpose":
            raise self.fail(
                ast.column,
                f"{ast.name} needs a square matrix: labels {i} and {j} have sizes {self.size(i)} and {self.size(j)}",
            )
        node = matrix_function(ast.name, arg.dense())
        if ast.name == "transpose":  # the last two labels swapped
            return _Value(node, (*arg.labels[:-2], j, i), (*arg.columns[:-2], arg.columns[-1], arg.columns[-2]))
        if ast.name in MATRIX_KEEPING:
            return _Value(node, arg.labels, arg.columns)
        return _Value(node, arg.labels[:-2], arg.columns[:-2])
