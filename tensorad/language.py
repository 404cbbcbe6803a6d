"""An index-notation expression language, parsed without ``eval``.

``parse`` turns a line such as ``"x[i] A[i,j] x[j]"`` into a tensorad expression over
:class:`~tensorad.expr.Variable` leaves (shapes from ``dims``) and reports the output labels:

>>> import numpy as np
>>> from tensorad.evaluate import evaluate
>>> p = parse("x[i] A[i,j] x[j]", dims={"i": 2, "j": 2})
>>> p.output, {name: v.shape for name, v in p.variables.items()}
('', {'x': (2,), 'A': (2, 2)})
>>> evaluate([p.expr], {p.variables["x"]: np.array([1.0, 2.0]), p.variables["A"]: np.eye(2)})[0]
array(5.)
>>> parse("A[i,j] + B[j,i]").output, parse("out[j,i] = A[i,j]").output
('ij', 'ji')

Grammar (a tokenizer and a recursive-descent parser; ``^`` is right-associative and binds
tighter than unary minus, which binds tighter than products)::

    statement := [NAME ['[' [labels] ']'] '='] expr
    expr      := term (('+' | '-') term)*
    term      := unary (('*' | '/') unary | power)*      # juxtaposition is a product
    unary     := ('-' | '+') unary | power
    power     := atom [('^' | '**') unary]               # the exponent must be a constant
    atom      := NUMBER | NAME ['[' [labels] ']'] | group ['[' [labels] ']']
    group     := '(' expr ')' | FUNCTION '(' expr (',' labels)* ')'   # sum_ij(e) is sum(e, i, j)
    labels    := LABEL (',' LABEL)*                      # A[i,j], or run together: A[ij]

Labels are single ASCII letters, sized by ``dims`` or ``default_size``; a variable's shape
follows the labels it is written with, and every use of it must agree. A name without
brackets is the whole variable: it takes the labels of its bracketed use, is a scalar
when it has none, and is a ``default_size`` square matrix as the argument of ``det`` or
``logdet``. A name followed by ``(`` is always a call: write ``a * (…)`` to scale.

Semantics:

* **Products** (juxtaposition or ``*``) are Einstein sums, built as one ``einsum`` over all
  their factors: a label written twice is summed, once is free (``A[i,i]`` alone is the
  trace); three times is an error. Free labels keep their order of first appearance.
* **Scopes.** A parenthesised expression and a function argument are closed: their free
  labels are what the enclosing product sees. ``sum_i(e)``, ``softmax(e, i)`` (any call
  naming a label) and ``out[i] = e`` *bind* ``i`` inside ``e``: products keep a bound label
  free however often it occurs, so ``sum_n(log(1 + exp(-y[n] X[n,j] w[j])))`` is the
  logistic loss, ``out[i] = x[i] y[i]`` the elementwise product and ``d[i] = A[i,i]`` the
  diagonal.
* **Division** ``a / b`` is elementwise, left to right (``a / b c`` is ``(a / b) c``): the
  product so far is contracted, then divided by ``b`` aligned by label; labels of ``b``
  not in it are broadcast (``1 / (1 + exp(-z[n]))`` has free label ``n``).
* **Sums** ``+``/``-`` need the same set of free labels on both sides and align them by
  name (``A[i,j] + B[j,i]`` is ``A + Bᵀ``, output ``ij``); a side without free labels
  (a number, a scalar, a full contraction) is broadcast.
* **Calls.** Elementwise functions (``exp``, ``log``, ``tanh``, ``sigmoid`` … every entry
  of the registry but ``power``) keep the argument's free labels. ``inv``, ``det`` and
  ``logdet`` treat the last two free labels as the (square) matrix and earlier ones as a
  batch; ``inv`` keeps the labels, ``det`` and ``logdet`` drop the two. ``sum``,
  ``softmax``, ``logsumexp`` and ``norm`` act over the labels named after the argument,
  or, with none named, over every free label that no enclosing scope binds.
* **Relabelling.** Labels after a parenthesised expression or a call rename its free
  labels, in their order; the result is a factor like a variable: ``inv(X[i,j])[j,i]`` is
  ``X⁻ᵀ`` and ``inv(X[i,j])[k,k]`` its trace.
* ``out[…] = e`` (any name) fixes the output order; its labels must be a permutation of
  the free labels of ``e``. Numbers fold: ``2^-1`` is ``0.5``.

Errors are :class:`ParseError` (a :class:`~tensorad.errors.SpecError`, hence a
``ValueError``) whose ``column`` is the 0-based index of the offending character:

>>> parse("x[i] + y[j]")
Traceback (most recent call last):
  ...
tensorad.language.ParseError: cannot add terms with free labels (i) and (j): + and - need the same free labels
  x[i] + y[j]
       ^
"""

from __future__ import annotations

import math
import numbers
import re
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias, assert_never

import numpy as np

from tensorad import functions, ops
from tensorad._types import Labels
from tensorad.errors import ShapeError, SpecError
from tensorad.expr import Node, Variable

ELEMENTWISE = frozenset(name for name in functions.ELEMENTWISE if name != "power")
MATRIX = frozenset({"inv", "det", "logdet"})
AXIS = frozenset({"sum", "softmax", "logsumexp", "norm"})
REDUCING = frozenset({"sum", "logsumexp", "norm"})
FUNCTIONS = ELEMENTWISE | MATRIX | AXIS


class ParseError(SpecError):
    """A malformed expression: the message shows the text with a caret under ``column``."""

    def __init__(self, description: str, text: str, column: int) -> None:
        self.description, self.text, self.column = description, text, column
        shown = re.sub(r"\s", " ", text)
        super().__init__(f"{description}\n  {shown}\n  {' ' * column}^")


@dataclass(frozen=True)
class Parsed:
    """A parsed expression, its variables by name (first appearance first), its output labels."""

    expr: Node
    variables: dict[str, Variable]
    output: Labels


# ------------------------------------------------------------------ tokens and syntax tree


class _Token(NamedTuple):
    kind: str  # "number", "name", "end", or the operator itself ("+", "(", "**" …)
    text: str
    column: int


_TOKEN = re.compile(
    r"(\s+)"  # space, skipped
    r"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"  # number
    r"|([A-Za-z_][A-Za-z0-9_]*)"  # name
    r"|(\*\*|[-+*/^()\[\],=])"  # operator
)


def _tokens(text: str) -> list[_Token]:
    tokens, column = [], 0
    while column < len(text):
        match = _TOKEN.match(text, column)
        if match is None:
            raise ParseError(f"unexpected character {text[column]!r}", text, column)
        kind = ("", "number", "name", match.group())[(match.lastindex or 1) - 1]
        if kind:
            tokens.append(_Token(kind, match.group(), column))
        column = match.end()
    return [*tokens, _Token("end", "end of input", len(text))]


@dataclass(frozen=True, slots=True)
class _Num:
    value: float
    column: int


@dataclass(frozen=True, slots=True)
class _Var:
    name: str
    labels: Labels | None  # None: written without brackets
    columns: tuple[int, ...]
    column: int


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    arg: _Ast
    labels: Labels
    columns: tuple[int, ...]
    column: int


@dataclass(frozen=True, slots=True)
class _Neg:
    arg: _Ast


@dataclass(frozen=True, slots=True)
class _Power:
    base: _Ast
    exponent: _Ast
    column: int  # of the exponent


@dataclass(frozen=True, slots=True)
class _Product:
    factors: tuple[_Ast, ...]
    divides: tuple[bool, ...]  # per factor: True after '/'
    columns: tuple[int, ...]  # per factor: its operator's column


@dataclass(frozen=True, slots=True)
class _Sum:
    terms: tuple[_Ast, ...]
    signs: tuple[float, ...]
    columns: tuple[int, ...]  # per term: its operator's column


@dataclass(frozen=True, slots=True)
class _Relabel:
    arg: _Ast
    labels: Labels  # new names for the argument's free labels, in their order
    columns: tuple[int, ...]
    column: int  # of the '['


_Ast: TypeAlias = _Num | _Var | _Call | _Neg | _Power | _Product | _Sum | _Relabel


class _Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.pos = text, _tokens(text), 0

    def fail(self, column: int, description: str) -> ParseError:
        return ParseError(description, self.text, column)

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += min(1, len(self.tokens) - 1 - self.pos)
        return token

    def close(self, kind: str, opener: _Token) -> None:
        token = self.next()
        if token.kind == "end":
            raise self.fail(opener.column, f"unclosed {opener.text!r}")
        if token.kind != kind:
            raise self.fail(token.column, f"expected {kind!r} to close the {opener.text!r} at column "
                            f"{opener.column}, got {token.text!r}")

    def statement(self) -> tuple[tuple[Labels, tuple[int, ...]] | None, _Ast]:
        out = None
        if any(token.kind == "=" for token in self.tokens):
            name = self.next()
            if name.kind != "name":
                raise self.fail(name.column, f"expected the output's name before '=', got {name.text!r}")
            out = self.bracket() if self.peek().kind == "[" else ("", ())
            token = self.next()
            if token.kind != "=":
                raise self.fail(token.column, f"expected '=' after the output {name.text}[…], got {token.text!r}")
        ast = self.expr()
        token = self.peek()
        if token.kind in (")", "]"):
            raise self.fail(token.column, f"unbalanced {token.text!r}: nothing to close")
        if token.kind != "end":
            raise self.fail(token.column, f"unexpected {token.text!r}")
        return out, ast

    def expr(self) -> _Ast:
        column = self.peek().column
        terms, signs, columns = [self.term()], [1.0], [column]
        while self.peek().kind in ("+", "-"):
            token = self.next()
            signs.append(1.0 if token.kind == "+" else -1.0)
            columns.append(token.column)
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else _Sum(tuple(terms), tuple(signs), tuple(columns))

    def term(self) -> _Ast:
        column = self.peek().column
        factors, divides, columns = [self.unary()], [False], [column]
        while True:
            token = self.peek()
            if token.kind in ("*", "/"):
                self.next()
                factors.append(self.unary())
            elif token.kind in ("number", "name", "("):
                factors.append(self.power())
            else:
                break
            divides.append(token.kind == "/")
            columns.append(token.column)
        return factors[0] if len(factors) == 1 else _Product(tuple(factors), tuple(divides), tuple(columns))

    def unary(self) -> _Ast:
        if self.peek().kind == "-":
            self.next()
            return _Neg(self.unary())
        if self.peek().kind == "+":
            self.next()
            return self.unary()
        return self.power()

    def power(self) -> _Ast:
        base = self.atom()
        if self.peek().kind not in ("^", "**"):
            return base
        self.next()
        column = self.peek().column
        return _Power(base, self.unary(), column)

    def atom(self) -> _Ast:
        token = self.next()
        if token.kind == "number":
            return _Num(float(token.text), token.column)
        if token.kind == "(":
            ast = self.expr()
            self.close(")", token)
            return self.relabel(ast)
        if token.kind != "name":
            got = "end of input" if token.kind == "end" else repr(token.text)
            raise self.fail(token.column, f"expected a number, a variable, a call or '(', got {got}")
        if self.peek().kind == "(":
            return self.relabel(self.call(token))
        if token.text in FUNCTIONS or token.text.startswith("sum_"):
            raise self.fail(token.column, f"{token.text!r} is a function: call it as {token.text}(…)")
        if self.peek().kind != "[":
            return _Var(token.text, None, (), token.column)
        labels, columns = self.bracket()
        return _Var(token.text, labels, columns, token.column)

    def relabel(self, ast: _Ast) -> _Ast:
        if self.peek().kind != "[":
            return ast
        column = self.peek().column
        labels, columns = self.bracket()
        return _Relabel(ast, labels, columns, column)

    def call(self, name: _Token) -> _Ast:
        function, labels = name.text, ""
        columns: tuple[int, ...] = ()
        if function.startswith("sum_"):
            function = "sum"
            labels, columns = self.letters(_Token("name", name.text[4:], name.column + 4))
        elif function not in FUNCTIONS:
            raise self.fail(name.column, f"unknown function {function!r} (known: {', '.join(sorted(FUNCTIONS))}; "
                            f"to multiply by a parenthesised expression write {function} * (…))")
        opener = self.next()
        arg = self.expr()
        while self.peek().kind == ",":
            self.next()
            more, where = self.letters(self.next())
            labels, columns = labels + more, columns + where
        if labels and function not in AXIS:
            raise self.fail(columns[0], f"{function} takes one argument: only {', '.join(sorted(AXIS))} take labels")
        self.close(")", opener)
        return _Call(function, arg, labels, columns, name.column)

    def bracket(self) -> tuple[Labels, tuple[int, ...]]:
        opener = self.next()
        labels = ""
        columns: tuple[int, ...] = ()
        if self.peek().kind == "]":
            self.next()
            return labels, columns
        while True:
            token = self.next()
            if token.kind == "end":
                raise self.fail(opener.column, "unclosed '['")
            more, where = self.letters(token)
            labels, columns = labels + more, columns + where
            token = self.next()
            if token.kind == "]":
                return labels, columns
            if token.kind == "end":
                raise self.fail(opener.column, "unclosed '['")
            if token.kind != ",":
                raise self.fail(token.column, f"expected ',' or ']' after a label, got {token.text!r}")

    def letters(self, token: _Token) -> tuple[Labels, tuple[int, ...]]:
        if token.kind != "name" or not token.text:
            got = "end of input" if token.kind == "end" else repr(token.text)
            raise self.fail(token.column, f"expected a label (a letter), got {got}")
        for k, letter in enumerate(token.text):
            if letter not in string.ascii_letters:
                raise self.fail(token.column + k, f"labels are single letters; {token.text!r} is not a list of them")
        return token.text, tuple(token.column + k for k in range(len(token.text)))


# ------------------------------------------------------------------ from syntax tree to expression


@dataclass(frozen=True, slots=True)
class _Value:
    """``scale * node`` with free ``labels`` (first seen at ``columns``); a number when ``node`` is None."""

    node: Node | None
    labels: Labels
    columns: tuple[int, ...]
    scale: float = 1.0

    def dense(self) -> Node:
        assert self.node is not None
        return self.node if self.scale == 1.0 else ops.multiply(self.scale, self.node)


def _occurrences(ast: _Ast, call: str | None = None) -> Iterator[tuple[_Var, str | None]]:
    """Variable uses in text order, each with the function it is the direct argument of."""
    match ast:
        case _Num():
            pass
        case _Var():
            yield ast, call
        case _Call(name=name, arg=arg):
            yield from _occurrences(arg, name)
        case _Neg(arg=arg) | _Relabel(arg=arg):
            yield from _occurrences(arg)
        case _Power(base=base, exponent=exponent):
            yield from _occurrences(base)
            yield from _occurrences(exponent)
        case _Product(factors=parts) | _Sum(terms=parts):
            for part in parts:
                yield from _occurrences(part)
        case _:
            assert_never(ast)


class _Builder:
    """Elaborates the syntax tree into tensorad nodes; ``bound`` labels are kept free by products."""

    def __init__(
        self, text: str, ast: _Ast, sizes: dict[str, int], default_size: int, given: Mapping[str, Variable]
    ) -> None:
        self.text, self.sizes, self.default_size = text, sizes, default_size
        self.variables: dict[str, Variable] = {}
        self.labels: dict[str, tuple[Labels, tuple[int, ...]] | None] = {}  # None: anonymous matrix axes
        uses = list(_occurrences(ast))
        for use, _ in uses:
            if use.labels is not None and self.labels.get(use.name) is None:
                self.labels[use.name] = (use.labels, use.columns)
        for use, call in uses:
            if use.name not in self.labels:  # written without brackets everywhere
                self.labels[use.name] = None if call in ("det", "logdet") else ("", ())
            first = self.labels[use.name]
            if use.name not in self.variables:
                shape = (default_size,) * 2 if first is None else tuple(self.size(label) for label in first[0])
                known = given.get(use.name)
                self.variables[use.name] = Variable(use.name, shape) if known is None else known
            self.check(use, first)

    def check(self, use: _Var, first: tuple[Labels, tuple[int, ...]] | None) -> None:
        """The variable's shape fits this use: its rank, and each label's size."""
        name, shape = use.name, self.variables[use.name].shape
        if use.labels is None:
            fits = len(shape) == 2 and shape[0] == shape[1] if first is None else len(shape) == len(first[0])
            if not fits:
                raise self.fail(use.column, f"{name} has shape {shape}: write it with labels, e.g. {name}[i,j]")
            return
        if len(use.labels) != len(shape):
            raise self.fail(use.column, f"{name} has {len(shape)} axes (shape {shape}) but {len(use.labels)} "
                            "labels here")
        for k, (label, column, n) in enumerate(zip(use.labels, use.columns, shape, strict=True)):
            if self.size(label) != n:
                raise self.fail(column, f"label {label} has size {self.size(label)}, but axis {k} of {name} "
                                f"has size {n}")

    def fail(self, column: int, description: str) -> ParseError:
        return ParseError(description, self.text, column)

    def size(self, label: str) -> int:
        return self.sizes.get(label, self.default_size)

    def value(self, ast: _Ast, bound: frozenset[str]) -> _Value:
        match ast:
            case _Num(value=value):
                return _Value(None, "", (), value)
            case _Var() | _Relabel():
                return self.contract([self.factor(ast, bound)], bound)
            case _Call():
                return self.call(ast, bound)
            case _Neg(arg=arg):
                inner = self.value(arg, bound)
                return _Value(inner.node, inner.labels, inner.columns, -inner.scale)
            case _Power():
                return self.power(ast, bound)
            case _Product():
                return self.product(ast, bound)
            case _Sum():
                return self.sum(ast, bound)
            case _:
                assert_never(ast)

    def factor(self, ast: _Ast, bound: frozenset[str]) -> _Value:
        """A factor of a product: a variable keeps its written labels, repeats included."""
        if isinstance(ast, _Relabel):
            return self.relabel(ast, bound)
        if not isinstance(ast, _Var):
            return self.value(ast, bound)
        variable, first = self.variables[ast.name], self.labels[ast.name]
        if ast.labels is not None:
            return _Value(variable, ast.labels, ast.columns)
        if first is None:
            raise self.fail(ast.column, f"{ast.name} is a matrix without labels: write {ast.name}[i,j]")
        return _Value(variable, first[0], (ast.column,) * len(first[0]))

    def relabel(self, ast: _Relabel, bound: frozenset[str]) -> _Value:
        """``(e)[a,b]``: the free labels of ``e``, in their order, renamed ``a``, ``b``."""
        inner = self.value(ast.arg, bound)
        if len(ast.labels) != len(inner.labels):
            raise self.fail(ast.column, f"the expression has {len(inner.labels)} free labels ({inner.labels}), "
                            f"but {len(ast.labels)} are given")
        for old, new, column in zip(inner.labels, ast.labels, ast.columns, strict=True):
            if self.size(old) != self.size(new):
                raise self.fail(column, f"label {new} has size {self.size(new)}, but the axis it names "
                                f"(label {old}) has size {self.size(old)}")
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
                    raise self.fail(column, f"label {label} appears 3 times in one product: at most twice "
                                    f"(once free, twice summed), unless bound by sum_{label}(…) or out[…] =")
        out = "".join(label for label in count if count[label] == 1 or label in bound)
        scale = math.prod(factor.scale for factor in factors)
        tensors = [factor for factor in factors if factor.node is not None]
        if not tensors:
            return _Value(None, "", (), scale)
        if len(tensors) == 1 and tensors[0].labels == out:
            node = tensors[0].node
        else:
            equation = ",".join(factor.labels for factor in tensors) + "->" + out
            node = ops.einsum(equation, *(factor.node for factor in tensors))
        return _Value(node, out, tuple(first[label] for label in out), scale)

    def product(self, ast: _Product, bound: frozenset[str]) -> _Value:
        group: list[_Value] = []
        for factor, divides, column in zip(ast.factors, ast.divides, ast.columns, strict=True):
            if not divides:
                group.append(self.factor(factor, bound))
                continue
            divisor = self.value(factor, bound)
            if divisor.node is None and divisor.scale == 0.0:
                raise self.fail(column, "division by zero")
            if divisor.node is None:
                group.append(_Value(None, "", (), 1.0 / divisor.scale))
                continue
            numerator = self.contract(group, bound)
            inverse = ops.elementwise("reciprocal", divisor.node)
            new = "".join(label for label in divisor.labels if label not in numerator.labels)
            columns = numerator.columns + tuple(c for label, c in zip(divisor.labels, divisor.columns,
                                                                      strict=True) if label in new)
            node = inverse if numerator.node is None else ops.einsum(
                f"{numerator.labels},{divisor.labels}->{numerator.labels}{new}", numerator.node, inverse)
            group = [_Value(node, numerator.labels + new, columns, numerator.scale / divisor.scale)]
        return self.contract(group, bound)

    def sum(self, ast: _Sum, bound: frozenset[str]) -> _Value:
        total = self.value(ast.terms[0], bound)
        for term, sign, column in zip(ast.terms[1:], ast.signs[1:], ast.columns[1:], strict=True):
            other = self.value(term, bound)
            other = _Value(other.node, other.labels, other.columns, sign * other.scale)
            if total.labels and other.labels and set(total.labels) != set(other.labels):
                raise self.fail(column, f"cannot {'add' if sign > 0 else 'subtract'} terms with free labels "
                                f"({total.labels}) and ({other.labels}): + and - need the same free labels")
            if total.node is None and other.node is None:
                total = _Value(None, "", (), total.scale + other.scale)
                continue
            if total.node is None or other.node is None:
                tensor, number = (other, total) if total.node is None else (total, other)
                total = _Value(ops.add(tensor.dense(), number.scale), tensor.labels, tensor.columns)
                continue
            b = other.dense()
            if total.labels and other.labels and other.labels != total.labels:
                b = ops.einsum(f"{other.labels}->{total.labels}", b)
            wide = total if total.labels or not other.labels else other
            total = _Value(ops.add(total.dense(), b), wide.labels, wide.columns)
        return total

    def power(self, ast: _Power, bound: frozenset[str]) -> _Value:
        base, exponent = self.value(ast.base, bound), self.value(ast.exponent, bound)
        if exponent.node is not None:
            raise self.fail(ast.column, "the exponent must be a numeric constant")
        if base.node is not None:
            return _Value(ops.power(base.dense(), exponent.scale), base.labels, base.columns)
        try:
            return _Value(None, "", (), math.pow(base.scale, exponent.scale))
        except (ValueError, OverflowError):
            raise self.fail(ast.column, f"({base.scale:g})^{exponent.scale:g} is not a finite real number") from None

    def call(self, ast: _Call, bound: frozenset[str]) -> _Value:
        name = ast.name
        if name in MATRIX:
            return self.matrix(ast, bound)
        arg = self.value(ast.arg, bound | set(ast.labels))
        if name in ELEMENTWISE:
            if arg.node is None:
                impl = functions.ELEMENTWISE[name].impl
                return _Value(None, "", (), float(impl(np.asarray(arg.scale), None)))
            return _Value(ops.elementwise(name, arg.dense()), arg.labels, arg.columns)
        for k, (label, column) in enumerate(zip(ast.labels, ast.columns, strict=True)):
            if label in ast.labels[:k]:
                raise self.fail(column, f"label {label} is named twice")
            if label not in arg.labels:
                raise self.fail(column, f"{label} is not a free label of the argument of {name} "
                                f"(free labels: ({arg.labels}))")
        axes = ast.labels or "".join(label for label in arg.labels if label not in bound)
        if not axes and name == "sum":
            return arg
        if not axes or arg.node is None:
            raise self.fail(ast.column, f"{name}: the argument has no free label to act over")
        reduce = tuple(k for k, label in enumerate(arg.labels) if label in axes)
        kept = [(label, c) for label, c in zip(arg.labels, arg.columns, strict=True) if label not in axes]
        if name == "sum":
            node, scale = ops.sum(arg.node, axis=reduce), arg.scale
        else:
            node, scale = ops.general(name, arg.dense(), reduce), 1.0
        if name not in REDUCING:
            return _Value(node, arg.labels, arg.columns)
        return _Value(node, "".join(label for label, _ in kept), tuple(c for _, c in kept), scale)

    def matrix(self, ast: _Call, bound: frozenset[str]) -> _Value:
        """``inv``, ``det``, ``logdet`` over the last two free labels (a bare name: its own axes)."""
        if isinstance(ast.arg, _Var) and ast.arg.labels is None:
            name = ast.arg.name
            if self.labels[name] is None:
                return _Value(functions.apply(ast.name, self.variables[name]), "", ())
            if self.labels[name] == ("", ()):
                raise self.fail(ast.arg.column, f"{name} has no labels: write {ast.name}({name}[i,j])")
        arg = self.value(ast.arg, bound)
        if len(arg.labels) < 2 or arg.node is None:
            raise self.fail(ast.column, f"{ast.name} needs a matrix: its argument has free labels ({arg.labels})")
        i, j = arg.labels[-2], arg.labels[-1]
        if self.size(i) != self.size(j):
            raise self.fail(ast.column, f"{ast.name} needs a square matrix: labels {i} and {j} have sizes "
                            f"{self.size(i)} and {self.size(j)}")
        node = functions.apply(ast.name, arg.dense())
        if ast.name == "inv":
            return _Value(node, arg.labels, arg.columns)
        return _Value(node, arg.labels[:-2], arg.columns[:-2])


# ------------------------------------------------------------------ entry points


def parse(
    text: str,
    dims: Mapping[str, int] | None = None,
    default_size: int = 3,
    variables: Mapping[str, Variable] | None = None,
) -> Parsed:
    """The expression ``text`` over variables shaped by ``dims`` (``default_size`` otherwise).

    ``variables`` are reused by name instead of new ones (say, to parse a second
    expression over the first one's variables); each must fit the labels it is used with.

    >>> p = parse("sum_i(exp(x[i]))", dims={"i": 4})
    >>> p.variables["x"].shape, p.expr.shape, p.output
    ((4,), (), '')
    >>> parse("d[i] = A[i,i]").output
    'i'
    """
    for label in dims or {}:
        if len(label) != 1 or label not in string.ascii_letters:
            raise SpecError(f"dims label {label!r} must be a single ASCII letter")
    given = [*((f"label {label}", n) for label, n in (dims or {}).items()), ("default_size", default_size)]
    for what, n in given:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ShapeError(f"the size of {what} must be a positive integer, got {n!r}")
    sizes = {label: int(n) for label, n in (dims or {}).items()}
    default_size = int(default_size)
    try:
        out, ast = _Parser(text).statement()
        builder = _Builder(text, ast, sizes, default_size, variables or {})
        value = builder.value(ast, frozenset(out[0] if out else ""))
    except RecursionError:
        raise ParseError("expression nested too deeply", text, 0) from None
    labels = value.labels
    if out is not None:
        for k, (label, column) in enumerate(zip(out[0], out[1], strict=True)):
            if label in out[0][:k]:
                raise ParseError(f"label {label} appears twice in the output", text, column)
            if label not in value.labels:
                raise ParseError(f"output label {label} is not a free label of the expression "
                                 f"(free labels: ({value.labels}))", text, column)
        for label, column in zip(value.labels, value.columns, strict=True):
            if label not in out[0]:
                raise ParseError(f"free label {label} is missing from the output labels ({out[0]})", text, column)
        labels = out[0]
    if value.node is None:
        node = ops.as_node(np.float64(value.scale))
    else:
        node = value.dense()
        if labels != value.labels:
            node = ops.einsum(f"{value.labels}->{labels}", node)
    return Parsed(node, builder.variables, labels)


_NAME, _SIZE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), re.compile(r"[0-9]+")


def _skip_space(text: str, pos: int) -> int:
    return len(text) - len(text[pos:].lstrip())


def parse_dims(text: str) -> dict[str, int]:
    """``"i=3,j=4"`` as ``{"i": 3, "j": 4}`` (the ``--dims`` option); the empty text is ``{}``.

    >>> parse_dims("i=3, j=4")
    {'i': 3, 'j': 4}
    """
    sizes: dict[str, int] = {}
    if not text.strip():
        return sizes
    end = -1
    for item in text.split(","):
        start = _skip_space(text, end + 1)
        end += len(item) + 1
        label = _NAME.match(text, start, end)
        if label is None:
            raise ParseError("expected label=size", text, start)
        name = label.group()
        if len(name) != 1 or name not in string.ascii_letters:
            raise ParseError(f"{name!r} is not a label: labels are single letters", text, start)
        equals = _skip_space(text, label.end())
        if not text.startswith("=", equals, end):
            raise ParseError(f"expected '=' after the label {name}", text, equals)
        size = _SIZE.match(text, _skip_space(text, equals + 1), end)
        if size is None:
            raise ParseError(f"expected the size of {name} (a positive integer)", text, _skip_space(text, equals + 1))
        if _skip_space(text[:end], size.end()) != end:
            raise ParseError("expected ',' or the end of the text", text, _skip_space(text, size.end()))
        if int(size.group()) < 1:
            raise ParseError(f"the size of {name} must be positive", text, size.start())
        if name in sizes:
            raise ParseError(f"label {name} is given twice", text, start)
        sizes[name] = int(size.group())
    return sizes
