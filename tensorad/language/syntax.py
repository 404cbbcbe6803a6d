"""The expression language's syntax: tokens, the syntax tree, a recursive-descent parser.

The grammar is in :mod:`tensorad.language`; the syntax tree is turned into nodes by
:mod:`tensorad.language.semantics`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from tensorad.errors import SpecError, elide
from tensorad.library.registry import ELEMENTWISE as ELEMENTWISE_REGISTRY

ELEMENTWISE = frozenset(name for name in ELEMENTWISE_REGISTRY if name != "power")
MATRIX_KEEPING = frozenset({"inv", "transpose", "cholesky", "expm", "sqrtm", "logm"})  # the value is a matrix
MATRIX = MATRIX_KEEPING | {"det", "logdet", "trace"}
AXIS = frozenset({"sum", "softmax", "log_softmax", "logsumexp", "norm", "max", "min"})
REDUCING = frozenset({"sum", "logsumexp", "norm", "max", "min"})
FUNCTIONS = ELEMENTWISE | MATRIX | AXIS | {"relu"}

Names: TypeAlias = tuple[str, ...]
"""Labels as the language writes them, one name per axis: ``("out", "inp")`` for ``W[out,inp]``."""

LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""A label's name: a letter, then letters, digits or underscores (``i``, ``k2``, ``out``, ``n_batch``)."""


class ParseError(SpecError):
    """A malformed expression: the message shows the text with a caret under ``column``."""

    WINDOW = 70
    """Characters of the text shown around the caret (a long text is cut with ``…``)."""

    def __init__(self, description: str, text: str, column: int) -> None:
        self.description, self.text, self.column = description, text, column
        start = max(0, min(column - self.WINDOW // 2, len(text) - self.WINDOW))
        shown = re.sub(r"\s", " ", text[start : start + self.WINDOW])
        before, after = ("…" if start else ""), ("…" if start + self.WINDOW < len(text) else "")
        caret = " " * (len(before) + column - start)
        super().__init__(f"{elide(description, 300)}\n  {before}{shown}{after}\n  {caret}^")

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str, int]]:
        return type(self), (self.description, self.text, self.column)


class Token(NamedTuple):
    kind: str  # "number", "name", "end", or the operator itself ("+", "(", "**" …)
    text: str
    column: int


_TOKEN = re.compile(
    r"(\s+)"  # space, skipped
    r"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"  # number
    r"|([A-Za-z_][A-Za-z0-9_]*)"  # name
    r"|(\*\*|[-+*/^()\[\]{},=∂²])"  # operator (∂ heads a derivative's name: ∂f/∂w[i] = …, ∂²f/∂w²)
)


def _tokens(text: str) -> list[Token]:
    tokens, column = [], 0
    while column < len(text):
        match = _TOKEN.match(text, column)
        if match is None:
            raise ParseError(f"unexpected character {text[column]!r}", text, column)
        kind = ("", "number", "name", match.group())[(match.lastindex or 1) - 1]
        if kind:
            tokens.append(Token(kind, match.group(), column))
        column = match.end()
    return [*tokens, Token("end", "end of input", len(text))]


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    column: int


@dataclass(frozen=True, slots=True)
class Var:
    name: str
    labels: Names | None  # None: written without brackets
    columns: tuple[int, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    arg: Ast
    labels: Names
    columns: tuple[int, ...]
    column: int


@dataclass(frozen=True, slots=True)
class Neg:
    arg: Ast


@dataclass(frozen=True, slots=True)
class Power:
    base: Ast
    exponent: Ast
    column: int  # of the exponent


@dataclass(frozen=True, slots=True)
class Product:
    factors: tuple[Ast, ...]
    divides: tuple[bool, ...]  # per factor: True after '/'
    columns: tuple[int, ...]  # per factor: its operator's column


@dataclass(frozen=True, slots=True)
class Sum:
    terms: tuple[Ast, ...]
    signs: tuple[float, ...]
    columns: tuple[int, ...]  # per term: its operator's column


@dataclass(frozen=True, slots=True)
class Relabel:
    arg: Ast
    labels: Names  # new names for the argument's free labels, in their order
    columns: tuple[int, ...]
    column: int  # of the '['


Ast: TypeAlias = Num | Var | Call | Neg | Power | Product | Sum | Relabel


class Parser:
    """Recursive descent over the token list; one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text, self.tokens, self.pos = text, _tokens(text), 0

    def fail(self, column: int, description: str) -> ParseError:
        return ParseError(description, self.text, column)

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += min(1, len(self.tokens) - 1 - self.pos)
        return token

    def close(self, kind: str, opener: Token) -> None:
        token = self.next()
        if token.kind == "end":
            raise self.fail(opener.column, f"unclosed {opener.text!r}")
        if token.kind != kind:
            raise self.fail(
                token.column,
                f"expected {kind!r} to close the {opener.text!r} at column {opener.column}, got {token.text!r}",
            )

    def statement(self) -> tuple[tuple[Names, tuple[int, ...]] | None, Ast]:
        out = None
        if any(token.kind == "=" for token in self.tokens):
            name = self.derivative_name() if self.peek().kind == "∂" else self.next()
            if name.kind != "name":
                raise self.fail(name.column, f"expected the output's name before '=', got {name.text!r}")
            out = self.bracket() if self.peek().kind == "[" else ((), ())
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

    def derivative_name(self) -> Token:
        """``∂f/∂w`` or ``∂²f/∂w²``, the name of a derivative (as one name token)."""
        start = self.peek().column
        second = self.tokens[self.pos + 1].kind == "²"
        parts = [self.next() for _ in range(7 if second else 5)]
        expected = ["∂", "²", "name", "/", "∂", "name", "²"] if second else ["∂", "name", "/", "∂", "name"]
        if [t.kind for t in parts] != expected:
            raise self.fail(start, "a derivative's name is written ∂f/∂w (or ∂²f/∂w²)")
        names = [t.text for t in parts if t.kind == "name"]
        return Token("name", f"∂²{names[0]}/∂{names[1]}²" if second else f"∂{names[0]}/∂{names[1]}", start)

    def expr(self) -> Ast:
        column = self.peek().column
        terms, signs, columns = [self.term()], [1.0], [column]
        while self.peek().kind in ("+", "-"):
            token = self.next()
            signs.append(1.0 if token.kind == "+" else -1.0)
            columns.append(token.column)
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else Sum(tuple(terms), tuple(signs), tuple(columns))

    def term(self) -> Ast:
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
        return factors[0] if len(factors) == 1 else Product(tuple(factors), tuple(divides), tuple(columns))

    def unary(self) -> Ast:
        if self.peek().kind == "-":
            self.next()
            return Neg(self.unary())
        if self.peek().kind == "+":
            self.next()
            return self.unary()
        return self.power()

    def power(self) -> Ast:
        base = self.atom()
        if self.peek().kind not in ("^", "**"):
            return base
        self.next()
        column = self.peek().column
        return Power(base, self.unary(), column)

    def atom(self) -> Ast:
        token = self.next()
        if token.kind == "number":
            return Num(float(token.text), token.column)
        if token.kind == "(":
            ast = self.expr()
            self.close(")", token)
            return self.relabel(ast)
        if token.kind != "name":
            got = "end of input" if token.kind == "end" else repr(token.text)
            raise self.fail(token.column, f"expected a number, a variable, a call or '(', got {got}")
        if self.peek().kind == "(" or (token.text == "sum_" and self.peek().kind == "{"):
            return self.relabel(self.call(token))
        if token.text in FUNCTIONS or token.text.startswith("sum_"):
            raise self.fail(token.column, f"{token.text!r} is a function: call it as {token.text}(…)")
        if self.peek().kind != "[":
            return Var(token.text, None, (), token.column)
        labels, columns = self.bracket()
        return Var(token.text, labels, columns, token.column)

    def relabel(self, ast: Ast) -> Ast:
        if self.peek().kind != "[":
            return ast
        column = self.peek().column
        labels, columns = self.bracket()
        return Relabel(ast, labels, columns, column)

    def call(self, name: Token) -> Ast:
        function = name.text
        labels: Names = ()
        columns: tuple[int, ...] = ()
        if function == "sum_" and self.peek().kind == "{":  # sum_{i,j}(e): several labels
            function = "sum"
            labels, columns = self.enclosed("}", empty=False)
            if self.peek().kind != "(":
                raise self.fail(
                    self.peek().column, f"expected '(' after sum_{{{','.join(labels)}}}, got {self.peek().text!r}"
                )
        elif function.startswith("sum_"):  # sum_i(e): the rest of the word is one label
            function, column = "sum", name.column + 4
            if name.text == "sum_":
                raise self.fail(column, "expected a label after sum_: sum_i(…), or sum_{i,j}(…) for several")
            labels, columns = (self.label(Token("name", name.text[4:], column)),), (column,)
        elif function not in FUNCTIONS:
            raise self.fail(
                name.column,
                f"unknown function {function!r} (known: {', '.join(sorted(FUNCTIONS))}; "
                f"to multiply by a parenthesised expression write {function} * (…))",
            )
        opener = self.next()
        arg = self.expr()
        while self.peek().kind == ",":
            self.next()
            token = self.next()
            labels, columns = (*labels, self.label(token)), (*columns, token.column)
        if labels and function not in AXIS:
            raise self.fail(columns[0], f"{function} takes one argument: only {', '.join(sorted(AXIS))} take labels")
        self.close(")", opener)
        return Call(function, arg, labels, columns, name.column)

    def bracket(self) -> tuple[Names, tuple[int, ...]]:
        """``[a,b,…]``: comma-separated labels (``[]``: none) and their columns."""
        return self.enclosed("]", empty=True)

    def enclosed(self, closer: str, empty: bool) -> tuple[Names, tuple[int, ...]]:
        """Comma-separated labels between the next token (``[`` or ``{``) and ``closer``."""
        opener = self.next()
        if empty and self.peek().kind == closer:
            self.next()
            return (), ()
        labels: list[str] = []
        columns: list[int] = []
        while True:
            token = self.next()
            if token.kind == "end":
                raise self.fail(opener.column, f"unclosed {opener.text!r}")
            labels.append(self.label(token))
            columns.append(token.column)
            token = self.next()
            if token.kind == closer:
                return tuple(labels), tuple(columns)
            if token.kind == "end":
                raise self.fail(opener.column, f"unclosed {opener.text!r}")
            if token.kind != ",":
                raise self.fail(token.column, f"expected ',' or {closer!r} after a label, got {token.text!r}")

    def label(self, token: Token) -> str:
        """The label ``token`` names: a letter, then letters, digits or underscores."""
        if token.kind != "name":
            got = "end of input" if token.kind == "end" else repr(token.text)
            raise self.fail(token.column, f"expected a label (a name such as i, k2 or out), got {got}")
        if LABEL.fullmatch(token.text) is None:
            raise self.fail(token.column, f"{token.text!r} is not a label: a label starts with a letter")
        return token.text
