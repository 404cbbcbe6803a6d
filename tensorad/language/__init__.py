"""An index-notation expression language, parsed without ``eval``.

``parse`` turns a line such as ``"x[i] A[i,j] x[j]"`` into a tensorad expression over
:class:`~tensorad.ir.nodes.Variable` leaves (shapes from ``dims``) and reports the output labels,
a tuple of their names:

>>> import numpy as np
>>> from tensorad.run.evaluate import evaluate
>>> p = parse("x[i] A[i,j] x[j]", dims={"i": 2, "j": 2})
>>> p.output, {name: v.shape for name, v in p.variables.items()}
((), {'x': (2,), 'A': (2, 2)})
>>> evaluate([p.expr], {p.variables["x"]: np.array([1.0, 2.0]), p.variables["A"]: np.eye(2)})[0]
array(5.)
>>> parse("A[i,j] + B[j,i]").output, parse("out[j,i] = A[i,j]").output
(('i', 'j'), ('j', 'i'))
>>> p = parse("y[b,out] = W[out,inp] x[b,inp]", dims={"b": 2, "out": 3, "inp": 4})
>>> p.output, p.variables["W"].shape
(('b', 'out'), (3, 4))

Grammar (a tokenizer and a recursive-descent parser; ``^`` is right-associative and binds
tighter than unary minus, which binds tighter than products)::

    statement := [head ['[' [labels] ']'] '='] expr
    head      := NAME | '∂' NAME '/' '∂' NAME                # f, or a derivative's ∂f/∂w
    expr      := term (('+' | '-') term)*
    term      := unary (('*' | '/') unary | power)*      # juxtaposition is a product
    unary     := ('-' | '+') unary | power
    power     := atom [('^' | '**') unary]               # the exponent must be a constant
    atom      := NUMBER | NAME ['[' [labels] ']'] | group ['[' [labels] ']']
    group     := '(' expr ')' | (FUNCTION | sum) '(' expr (',' LABEL)* ')'   # softmax(z[n,k], k)
    sum       := 'sum_' LABEL | 'sum_' '{' labels '}'    # sum_i(e) is sum(e, i); sum_{i,j}(e) sum(e, i, j)
    labels    := LABEL (',' LABEL)*                      # W[out,inp]: labels are comma-separated
    LABEL     := letter (letter | digit | '_')*          # i, k2, out, n_batch

A label is a name: ``W[out,inp]`` is a matrix with labels ``out`` and ``inp``, and
``A[ij]`` a vector with the one label ``ij`` (so ``sum_ij(e)`` sums the one label ``ij``;
``sum_{i,j}(e)`` sums two). Labels are sized by ``dims``, by the axes of the ``variables``
given where they label one, or ``default_size``; a variable's shape follows the labels
it is written with, and every use of it must agree. A name without
brackets is the whole variable: it takes the labels of its bracketed use, is a scalar
when it has none, and is a square matrix (of its given shape, else ``default_size``) as the
argument of ``inv``, ``det`` or ``logdet``. A name followed by ``(`` is always a call: write ``a * (…)`` to scale.

Text that runs single-letter labels together (``A[ij]`` for ``A[i,j]``) is refused where
the two readings could differ, never misread: a variable whose shape is known (given in
``variables``, or written with more labels elsewhere) written with too few labels, one
of them a word; a label ``ij`` without a size whose letters ``i`` and ``j`` have one; a
run-together label named after a call (``sum_ij``, ``softmax(e, ij)``) that the argument
has only as letters. The message says ``labels are comma-separated: write A[i,j]``.
Where nothing is known, ``A[ij] B[jk]`` is two vectors with free labels ``ij`` and ``jk``.

Semantics:

* **Products** (juxtaposition or ``*``) are Einstein sums, built as one ``einsum`` over all
  their factors: a label written twice is summed, once is free (``A[i,i]`` alone is the
  trace); three times is an error. Free labels keep their order of first appearance.
  One product has at most 52 distinct labels (its ``einsum`` spells each with a letter).
* **Scopes.** A parenthesised expression and a function argument are closed: their free
  labels are what the enclosing product sees. ``sum_i(e)``, ``softmax(e, i)`` (any call
  naming a label) and ``out[i] = e`` *bind* ``i`` inside ``e``: products keep a bound label
  free however often it occurs, so ``sum_n(log(1 + exp(-y[n] X[n,j] w[j])))`` is the
  logistic loss, ``out[i] = x[i] y[i]`` the elementwise product and ``d[i] = A[i,i]`` the
  diagonal.
* **Division** ``a / b`` is elementwise, left to right (``a / b c`` is ``(a / b) c``): the
  product so far is contracted, then divided by ``b`` aligned by label; labels of ``b``
  not in it are broadcast (``1 / (1 + exp(-z[n]))`` has free label ``n``).
* **Sums** ``+``/``-`` align their sides' free labels by name (``A[i,j] + B[j,i]`` is
  ``A + Bᵀ``, output ``('i', 'j')``); the labels of one side must include the other's, whose
  missing labels are broadcast, as numpy does (``W[h,d] X[n,d] + b[h]`` adds ``b`` to every
  column; a number or a full contraction is added everywhere).
* **Calls.** Elementwise functions (``exp``, ``log``, ``tanh``, ``sigmoid``, ``relu`` …
  every entry of the registry but ``power``) keep the argument's free labels. The matrix
  functions treat the last two free labels as the (square) matrix and earlier ones as a
  batch: ``inv``, ``cholesky``, ``expm``, ``sqrtm`` and ``logm`` keep the labels,
  ``transpose`` swaps the two (any sizes), ``det``, ``logdet`` and ``trace`` drop them.
  ``sum``, ``softmax``, ``log_softmax``, ``logsumexp``, ``norm``, ``max`` and ``min`` act
  over the labels named after the argument, or, with none named, over every free label
  that no enclosing scope binds.
* **Relabelling.** Labels after a parenthesised expression or a call rename its free
  labels, in their order; the result is a factor like a variable: ``inv(X[i,j])[j,i]`` is
  ``X⁻ᵀ`` and ``inv(X[i,j])[k,k]`` its trace.
* ``out[…] = e`` (any name) fixes the output order; its labels must include every free
  label of ``e``, and one that ``e`` does not use is broadcast (``out[i,j] = x[i]`` repeats
  ``x`` along ``j``). Numbers fold: ``2^-1`` is ``0.5``.

Errors are :class:`ParseError` (a :class:`~tensorad.errors.SpecError`, hence a
``ValueError``) whose ``column`` is the 0-based index of the offending character:

>>> parse("x[i] + y[j]")  # doctest: +ELLIPSIS
Traceback (most recent call last):
  ...
tensorad.language.syntax.ParseError: cannot add terms with free labels (i) and (j): one side must have all ...
  x[i] + y[j]
       ^
"""

from __future__ import annotations

import contextlib
import numbers
import re
import sys
from collections.abc import Iterator, Mapping

import numpy as np

from tensorad.errors import ShapeError, SpecError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node, Variable
from tensorad.language.builtins import Parsed
from tensorad.language.matrix import parse_matrix
from tensorad.language.semantics import Builder
from tensorad.language.syntax import LABEL, ParseError, Parser

__all__ = ["ParseError", "Parsed", "parse", "parse_dims"]


def parse(
    text: str,
    dims: Mapping[str, int] | None = None,
    default_size: int = 3,
    variables: Mapping[str, Variable] | None = None,
    notation: str = "index",
) -> Parsed:
    """The expression ``text`` of the index-notation language (the grammar and rules:
    :mod:`tensorad.language`) over variables shaped by ``dims`` (``default_size``
    otherwise): its expression, its variables by name and its output labels.

    ``variables`` are reused by name instead of new ones (say, to parse a second
    expression over the first one's variables, or to read a printed derivative back);
    each must fit the labels it is used with, and sizes the labels written on its axes.

    Examples:
        >>> import tensorad as ta
        >>> p = ta.parse("sum_i(exp(x[i]))", dims={"i": 4})
        >>> p.variables["x"].shape, p.expr.shape, p.output
        ((4,), (), ())
        >>> ta.parse("d[i] = A[i,i]").output
        ('i',)

    Lines ``where t1[i] = …`` after the expression define names it uses (each may use
    those defined before it): what :func:`~tensorad.symbolic.printing.index_notation`
    writes with ``shared=True``.

        >>> ta.parse("f[i] = t1[i] * t1[i]\\nwhere t1[i] = tanh(x[i])").expr.shape
        (3,)

    With ``notation="matrix"``, ``text`` is matrix notation over ``variables`` (what
    ``expr.to_matrix()`` prints; the grammar: :mod:`tensorad.language.matrix`), and the
    output labels are ``i, j``:

        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> ta.parse("2 Aᵀ (A x)", variables={"A": A, "x": x}, notation="matrix").expr.shape
        (3,)

    Args:
        text: one statement, ``f[i] = …`` (the left side fixes the output labels, in its
            order) or an expression alone (the output: its free labels, sorted), then any
            ``where`` lines.
        dims: the size of each label; a label not listed gets ``default_size``.
        default_size: the size of a label neither ``dims`` nor a given variable fixes.
        variables: variables (or, in ``where`` lines, expressions) to use by name instead
            of new ones.
        notation: ``"index"`` (the index-notation language) or ``"matrix"``.

    Returns:
        A :class:`~tensorad.language.Parsed`: ``expr``, the expression; ``variables``, each
        variable it uses by name; ``output``, the output labels in the order of ``expr``'s
        axes; ``labels``, the labels each variable was first written with.

    Raises:
        ParseError: malformed text, a label used with two sizes, a function the language
            does not have; the message shows the text with a caret under the column.
        SpecError: ``notation`` is neither ``"index"`` nor ``"matrix"``, or a ``dims`` key
            is not a label.
        ShapeError: a size in ``dims``, or ``default_size``, is not a positive integer.
    """
    if notation == "matrix":
        return parse_matrix(text, variables)
    if notation != "index":
        raise SpecError(f"notation must be 'index' or 'matrix', got {notation!r}")
    main, *definitions = text.split("\nwhere ")
    if definitions:
        known: dict[str, Node] = dict(variables or {})
        used: dict[str, Variable] = {}
        for definition in definitions:
            name = _NAME.match(definition.strip())
            if name is None or "=" not in definition:
                raise ParseError("a where line defines a name: where t1[i] = …", definition, 0)
            part = _parse_one(definition, dims, default_size, known)
            known[name.group()] = part.expr
            used |= part.variables
            known |= part.variables  # one variable for a name, however many lines use it
        parsed = _parse_one(main, dims, default_size, known)
        return Parsed(parsed.expr, used | parsed.variables, parsed.output, parsed.labels)
    return _parse_one(text, dims, default_size, variables)


def _parse_one(
    text: str, dims: Mapping[str, int] | None, default_size: int, variables: Mapping[str, Node] | None
) -> Parsed:
    """One statement (:func:`parse` without ``where`` lines); ``variables`` may hold
    expressions, which the statement uses as it would use variables."""
    for label in dims or {}:
        if not isinstance(label, str) or LABEL.fullmatch(label) is None:
            raise SpecError(f"dims label {label!r} is not a label: a letter, then letters, digits or underscores")
    given = [*((f"label {label}", n) for label, n in (dims or {}).items()), ("default_size", default_size)]
    for what, n in given:
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
            raise ShapeError(f"the size of {what} must be a positive integer, got {n!r}")
    sizes = {label: int(n) for label, n in (dims or {}).items()}
    default_size = int(default_size)
    try:
        with _nesting_allowed(text):
            out, ast = Parser(text).statement()
            _size_from_head(text, out, variables or {}, sizes)
            builder = Builder(text, ast, sizes, default_size, variables or {})
            value = builder.value(ast, frozenset(out[0] if out else ""))
    except RecursionError:
        raise ParseError("expression nested too deeply", text, 0) from None
    labels = value.labels
    if out is not None:
        for k, (label, column) in enumerate(zip(out[0], out[1], strict=True)):
            if label in out[0][:k]:
                raise ParseError(f"label {label} appears twice in the output", text, column)
        for label, column in zip(value.labels, value.columns, strict=True):
            if label not in out[0]:
                listed = ",".join(out[0])
                raise ParseError(f"free label {label} is missing from the output labels ({listed})", text, column)
        labels = out[0]
    node = as_node(np.float64(value.scale)) if value.node is None else value.dense()
    if labels != value.labels:  # reordered; an output label the expression does not use is broadcast
        node = builder.aligned(node, value.labels, labels)
    variables_used = {name: v for name, v in builder.variables.items() if isinstance(v, Variable)}
    written = {name: use[0] for name, use in builder.labels.items() if use is not None and name in variables_used}
    return Parsed(node, variables_used, labels, written)


def _size_from_head(
    text: str, out: tuple[tuple[str, ...], tuple[int, ...]] | None, given: Mapping[str, Node], sizes: dict[str, int]
) -> None:
    """In ``∂f/∂w[…, j] = …`` (``∂²f/∂w²[…, j, k]``), the trailing labels of the head are
    ``w``'s axes (twice over): a given ``w`` sizes them."""
    head = re.match(r"\s*∂(²?)[A-Za-z_][A-Za-z0-9_]*\s*/\s*∂([A-Za-z_][A-Za-z0-9_]*)", text)
    if out is None or head is None or head.group(2) not in given:
        return
    w = given[head.group(2)]
    axes = w.shape * (2 if head.group(1) else 1)
    if len(out[0]) >= len(axes):
        for label, n in zip(out[0][len(out[0]) - len(axes) :], axes, strict=True):
            sizes.setdefault(label, n)


MAX_NESTING = 5000
"""Deepest nesting of parentheses, calls and signs that :func:`parse` reads."""

FRAMES_PER_LEVEL = 12
"""Python frames the parser and the elaboration use per level of nesting (with room to spare)."""


@contextlib.contextmanager
def _nesting_allowed(text: str) -> Iterator[None]:
    """Refuse text nested past :data:`MAX_NESTING`; allow the recursion its nesting needs.

    The nesting counted is that of parentheses, plus the longest run of signs and the
    number of powers (each nests the parser one level deeper).
    """
    depth, deepest = 0, 0
    for column, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth > MAX_NESTING:
            raise ParseError(f"expression nested more than {MAX_NESTING} levels deep", text, column)
        deepest = max(deepest, depth)
    deepest += max((len(run) for run in re.findall(r"[-+\s]+", text)), default=0) + text.count("^")
    if deepest > MAX_NESTING:
        raise ParseError(f"expression nested more than {MAX_NESTING} levels deep", text, 0)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, FRAMES_PER_LEVEL * deepest + 1000))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


_NAME, _SIZE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*"), re.compile(r"[0-9]+")


def _skip_space(text: str, pos: int) -> int:
    return len(text) - len(text[pos:].lstrip())


def parse_dims(text: str) -> dict[str, int]:
    """``"i=3,j=4"`` as ``{"i": 3, "j": 4}`` (the ``--dims`` option); the empty text is ``{}``.
    Labels are named as in expressions: a letter, then letters, digits or underscores.

    >>> parse_dims("i=3, j=4")
    {'i': 3, 'j': 4}
    >>> parse_dims("out=3, inp=4")
    {'out': 3, 'inp': 4}
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
        if LABEL.fullmatch(name) is None:
            raise ParseError(f"{name!r} is not a label: a label starts with a letter", text, start)
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
