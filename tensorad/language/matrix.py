"""Reading matrix notation back: the text :func:`tensorad.symbolic.matrix.matrix_notation`
prints, over variables given by name.

A vector is a column. Juxtaposition is the matrix product (a scalar factor scales);
``⊙`` and ``⊘`` (``/``) act entry by entry, a scalar operand broadcast; ``+`` and ``-``
add values of one kind (a number is broadcast); ``ᵀ``, ``⁻¹``, ``⁻ᵀ`` and ``^p`` (``^⊙p``
entry by entry) are postfix. ``𝟏`` is a column of ones and ``I`` the identity: their size
is written (``𝟏₃``, ``I₃``) or fixed by the factor they multiply (``A 𝟏``), or, for ``I``,
by the term beside it in a sum. Functions: the entrywise ones of the registry (``σ`` is
``sigmoid``), ``diag`` (both ways), ``tr``, ``sum``, ``det``, ``logdet``, ``norm``, ``softmax``,
``log_softmax``, ``logsumexp``, ``max``, ``min`` (of all entries), ``cholesky``, ``expm``,
``sqrtm``, ``logm``, and ``maximum``, ``minimum``, ``logaddexp``, ``hypot``, ``arctan2``.

Grammar::

    expr    := ['-'] entries (('+' | '-') entries)*
    entries := chain (('⊙' | '⊘' | '/') chain)*
    chain   := ['-'] postfix+                     # juxtaposition
    postfix := atom ('ᵀ' | '⁻¹' | '⁻ᵀ' | '^' ['⊙'] NUMBER)*
    atom    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')' | '𝟏' [SIZE] | 'I' [SIZE]

>>> import tensorad as ta
>>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
>>> e = read_matrix("2 Aᵀ (A x) + 𝟏", {"A": A, "x": x})
>>> e.shape
(3,)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

import tensorad.numpy as tnp
from tensorad.ir.build import contract
from tensorad.ir.constants import scalar
from tensorad.ir.nodes import Node, Variable
from tensorad.ir.seeds import identity
from tensorad.language.builtins import Parsed
from tensorad.language.syntax import ParseError
from tensorad.library.registry import ELEMENTWISE, apply, call
from tensorad.numpy.functions import general
from tensorad.symbolic.matrix import reserved_names
from tensorad.symbolic.matrix_tree import ENTRYWISE_CALLS, OF_ALL, OF_MATRIX

_TOKEN = re.compile(
    r"(\s+)"
    r"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"  # number
    r"|([A-Za-z_][A-Za-z0-9_]*|σ)"  # name
    r"|(𝟏|⁻¹|⁻ᵀ|\^⊙|[ᵀ^⊙⊘/+\-−(),=])"  # operator
    r"|([₀-₉]+)"  # a size
)
_PAIRWISE: dict[str, Callable[[Node, Node], Node]] = {name: getattr(tnp, name) for name in ENTRYWISE_CALLS}
_FUNCTIONS = reserved_names() - {"I", "σ", "power"}  # the calls the printer writes (it reserves their names)


@dataclass(frozen=True)
class _V:
    """A value: ``node`` of kind ``"s"``, ``"c"``, ``"r"`` (a row) or ``"m"``, or an ``I`` or ``𝟏``
    (``𝟏ᵀ``: ``"r"``) whose size is not known yet, times ``coef``."""

    node: Node | None
    kind: str
    make: Callable[[int], Node | None] | None = None

    def sized(self, n: int) -> _V:
        assert self.make is not None
        node = self.make(n)
        assert node is not None
        return _V(node, self.kind)


class _Reader:
    def __init__(self, text: str, names: Mapping[str, Node]) -> None:
        self.text, self.names = text, names
        self.tokens: list[tuple[str, int]] = []
        column = 0
        while column < len(text):
            match = _TOKEN.match(text, column)
            if match is None:
                raise ParseError(f"unexpected character {text[column]!r}", text, column)
            if not match.group(1):
                self.tokens.append((match.group().replace("−", "-"), column))
            column = match.end()
        self.tokens.append(("", len(text)))
        self.pos = 0
        self.used: dict[str, Variable] = {}

    def read(self) -> Node:
        """The whole text as one expression."""
        value = self.expr()
        if self.peek() != "":
            raise self.fail("expected an operator or the end of the text")
        if value.node is None:
            raise self.fail("the size of I or 𝟏 is not fixed: write I₃ or 𝟏₃")
        return value.node

    def peek(self) -> str:
        return self.tokens[self.pos][0]

    def fail(self, message: str) -> ParseError:
        return ParseError(message, self.text, self.tokens[self.pos][1])

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if expected is not None and token != expected:
            raise self.fail(f"expected {expected!r}")
        self.pos += 1
        return token

    def expr(self) -> _V:
        negative = self.peek() == "-" and bool(self.take())
        first = self.entries()
        terms = [_negated(first) if negative else first]
        while self.peek() in ("+", "-"):
            sign = self.take()
            right = self.entries()
            terms.append(_negated(right) if sign == "-" else right)
        return self.fold(terms, [tnp.add] * (len(terms) - 1))

    def entries(self) -> _V:
        operands, ops = [self.chain()], []
        while self.peek() in ("⊙", "⊘", "/"):
            ops.append(tnp.multiply if self.take() == "⊙" else tnp.divide)
            operands.append(self.chain())
        return self.fold(operands, ops)

    def fold(self, operands: list[_V], ops: list[Callable[[Node, Node], Node]]) -> _V:
        """``operands`` combined entry by entry, left to right: of one kind, or a scalar
        broadcast; an ``I`` takes the size of a vector or matrix among them."""
        shaped = next((v.node for v in operands if v.node is not None and v.kind != "s"), None)
        if shaped is not None:  # a scalar fixes no size
            operands = [v.sized(shaped.shape[0]) if v.make is not None else v for v in operands]
        unsized = [v for v in operands if v.make is not None]
        if len(operands) > 1 and unsized:  # scalars and an I (or 𝟏): sized by what surrounds them
            kinds = {v.kind for v in unsized}
            if len(kinds) > 1:
                raise self.fail("the size of I or 𝟏 is not fixed here: write I₃ or 𝟏₃")
            return _V(None, kinds.pop(), lambda n: self.fold([v.sized(n) if v.make else v for v in operands], ops).node)
        value = operands[0]
        for op, b in zip(ops, operands[1:], strict=True):
            a = value
            assert a.node is not None and b.node is not None
            if "s" not in (a.kind, b.kind) and a.kind != b.kind:
                raise self.fail(f"cannot combine a {_KINDS[a.kind]} with a {_KINDS[b.kind]} entry by entry")
            value = _V(op(a.node, b.node), b.kind if a.kind == "s" else a.kind)
        return value

    def chain(self) -> _V:
        negative = self.peek() == "-" and bool(self.take())
        factors = [self.postfix()]
        while self.peek() not in ("", "+", "-", "⊙", "⊘", "/", ")", ",", "="):
            factors.append(self.postfix())
        for k, f in enumerate(factors):  # a 𝟏, 𝟏ᵀ or I takes its size from the factor it multiplies
            if f.make is None:
                continue
            left = factors[k - 1] if k > 0 else None
            right = factors[k + 1] if k + 1 < len(factors) else None
            if left is not None and left.node is not None and left.kind in "rm" and f.kind in "cm":
                factors[k] = f.sized(left.node.shape[-1])
            elif right is not None and right.node is not None and right.kind in "cm" and f.kind in "rm":
                factors[k] = f.sized(right.node.shape[0])
        value = factors[0]
        for factor in factors[1:]:
            value = self.times(value, factor)
        return _negated(value) if negative else value

    def times(self, a: _V, b: _V) -> _V:
        if a.kind == "s" or b.kind == "s":
            scalar, other = (a, b) if a.kind == "s" else (b, a)
            assert scalar.node is not None
            if other.make is not None:
                make, coef = other.make, scalar.node
                return _V(None, other.kind, lambda n: tnp.multiply(coef, make(n)))
            assert other.node is not None
            return _V(tnp.multiply(scalar.node, other.node), other.kind)
        if a.node is None or b.node is None:
            raise self.fail("the size of I or 𝟏 is not fixed here: write I₃ or 𝟏₃")
        kind = {("r", "c"): "s", ("c", "r"): "m", ("m", "c"): "c", ("r", "m"): "r", ("m", "m"): "m"}.get(
            (a.kind, b.kind)
        )
        if kind is None:
            raise self.fail(f"cannot multiply a {_KINDS[a.kind]} by a {_KINDS[b.kind]}")
        if (a.kind, b.kind) == ("c", "r"):
            return _V(tnp.outer(a.node, b.node), "m")
        if a.node.shape[-1] != b.node.shape[0]:
            raise self.fail(f"sizes {a.node.shape} and {b.node.shape} do not match in a product")
        return _V(tnp.matmul(a.node, b.node), kind)

    def postfix(self) -> _V:
        value = self.atom()
        while self.peek() in ("ᵀ", "⁻¹", "⁻ᵀ", "^", "^⊙"):
            op = self.take()
            if op == "ᵀ":
                value = _transposed(value)
                continue
            if op in ("^", "^⊙"):
                negative = self.peek() == "(" and bool(self.take()) and self.take("-") == "-"
                number = float(self.take())
                if negative:
                    self.take(")")
                assert value.node is not None
                value = _V(tnp.power(value.node, -number if negative else number), value.kind)
                continue
            if value.kind != "m" or value.node is None:
                raise self.fail("only a matrix has an inverse")
            inverse = tnp.linalg.inv(value.node)
            value = _V(inverse if op == "⁻¹" else inverse.T, "m")
        return value

    def atom(self) -> _V:
        token = self.take()
        if token == "(":
            value = self.expr()
            self.take(")")
            return value
        if token in ("𝟏", "I") and token not in self.names:
            make: Callable[[int], Node] = _ones if token == "𝟏" else _eye
            kind = "c" if token == "𝟏" else "m"
            if self.peek()[:1] in "₀₁₂₃₄₅₆₇₈₉" and self.peek():
                return _V(make(int(self.take().translate(_DIGITS))), kind)
            return _V(None, kind, make)
        if re.fullmatch(r"[0-9.].*", token):
            return _V(scalar(float(token), np.dtype(np.float64)), "s")
        if token == "" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|σ", token):
            self.pos -= 1
            raise self.fail("expected a name, a number or '('")
        name = "sigmoid" if token == "σ" else token
        if self.peek() == "(" and token not in self.names and name in _FUNCTIONS:
            return self.function(name)
        if token not in self.names:
            self.pos -= 1
            raise self.fail(f"unknown name {token!r}: give its variable")
        node = self.names[token]
        if isinstance(node, Variable):
            self.used[token] = node
        if node.ndim > 2:
            raise self.fail(f"{token} has {node.ndim} axes: matrix notation has at most 2")
        return _V(node, "scm"[node.ndim])

    def function(self, name: str) -> _V:
        self.take("(")
        args = [self.expr()]
        while self.peek() == ",":
            self.take()
            args.append(self.expr())
        self.take(")")
        if any(a.node is None for a in args):
            raise self.fail("the size of I or 𝟏 is not fixed here: write I₃ or 𝟏₃")
        nodes = [a.node for a in args if a.node is not None]
        x, k = nodes[0], args[0].kind
        if len(nodes) == 2 and name in _PAIRWISE:
            return _V(_PAIRWISE[name](*nodes), k)
        if len(nodes) != 1:
            raise self.fail(f"{name} takes one argument")
        if name in ELEMENTWISE and name != "power":
            return _V(call(name, x), k)
        if name == "diag":
            return _V(tnp.diag(x), "m") if k in "cr" else _V(tnp.diagonal(x), "c")
        if name == "tr":
            return _V(tnp.trace(x), "s")
        if name == "sum":
            return _V(tnp.sum(x), "s")
        if name in OF_MATRIX:
            return _V(apply(name, x), OF_MATRIX[name])
        if name in OF_ALL:
            value = general(name, x, tuple(range(x.ndim)))
            return _V(value, k if value.ndim else "s")
        raise self.fail(f"unknown function {name!r}")


_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
_KINDS = {"s": "scalar", "c": "column", "r": "row", "m": "matrix"}


def _ones(n: int) -> Node:
    """``𝟏``: the number 1 broadcast along one axis (as the printer's broadcasts are)."""
    return contract(scalar(1.0, np.dtype(np.float64)), "", None, "", "i", sizes={"i": n})


def _eye(n: int) -> Node:
    return identity((n,), np.dtype(np.float64))


def _negated(v: _V) -> _V:
    if v.make is not None:
        make = v.make
        return _V(None, v.kind, lambda n: tnp.negative(make(n)))
    assert v.node is not None
    return _V(tnp.negative(v.node), v.kind)


def _transposed(v: _V) -> _V:
    kind = {"c": "r", "r": "c"}.get(v.kind, v.kind)
    if v.make is not None or v.node is None or v.kind != "m":
        return _V(v.node, kind, v.make)
    return _V(v.node.T, kind)


def read_matrix(text: str, names: Mapping[str, Node]) -> Node:
    """The expression ``text`` in matrix notation over ``names`` (variables, or expressions
    standing for where-names).

    Raises:
        ParseError: malformed text, an unknown name, kinds that do not multiply.
    """
    return _Reader(text, names).read()


def parse_matrix(text: str, variables: Mapping[str, Variable] | None) -> Parsed:
    """``text`` in matrix notation (an optional head ``f = …`` or ``∂f/∂w = …``, then lines ``where t1 = …``
    defining names the lines before use) over ``variables``: what
    :func:`tensorad.parse` gives with ``notation="matrix"``. The output labels are
    ``i``, ``j`` (a vector's: ``i``)."""
    names: dict[str, Node] = dict(variables or {})
    main, *definitions = text.split("\nwhere ")
    used: dict[str, Variable] = {}
    for definition in definitions:
        head = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=", definition)
        if head is None:
            raise ParseError("a where line defines a name: where t1 = …", definition, 0)
        reader = _Reader(definition[head.end() :], names)
        names[head.group(1)] = reader.read()
        used |= reader.used
    head = re.match(r"\s*(?:[A-Za-z_][A-Za-z0-9_]*|∂²?[A-Za-z_]\w*/∂[A-Za-z_]\w*²?)\s*=(?!=)", main)
    reader = _Reader(main[head.end() :] if head else main, names)
    expr = reader.read()
    used |= reader.used
    return Parsed(expr, used, tuple("ij"[: expr.ndim]))
