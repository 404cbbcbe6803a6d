"""Printing expressions: index notation, LaTeX and Graphviz DOT.

Index notation names an expression's free indices ``i, j, k, …`` in axis order. A
contraction prints as the product of its factors, nested contractions flattened into one
product (associativity); an index that is not free and appears in exactly two places is
summed (Einstein's convention), any other summed index gets an explicit ``sum_k(…)``.
Repeated output labels (a diagonal embedding, the identity δ) print as ``delta`` factors,
broadcast labels simply stay free. General unary functions index their value
(``inv(X)[i,j]``) and print their argument as a whole tensor, in a scope of its own.

Each summation index belongs to the smallest product holding all its occurrences: sums
inside a factor (a function's argument, a parenthesized sum) never reuse a name that
another factor of an enclosing product uses, so ``sigmoid(A[i,k]*x[k])*(1 -
sigmoid(A[i,l]*x[l]))`` sums ``k`` and ``l`` each inside its own parentheses. The terms
of a sum may reuse each other's names (``A[i,j]*x[j] + A[j,i]*x[j]``).

>>> import tensorad as ta
>>> A, x = ta.Variable("A", (3, 3)), ta.Variable("x", (3,))
>>> print(A @ x)
A[i,j]*x[j]
>>> print(ta.derivative(ta.einsum("i,ij,j->", x, A, x), x))
A[i,j]*x[j] + A[j,i]*x[j]
>>> print(ta.derivative(A @ x, x).to_latex())
A_{ij}
>>> print(ta.sum(ta.exp(x)))
sum_i(exp(x[i]))

Printing is bounded: past :data:`LIMIT` characters (or :data:`MAX_DEPTH` nested
parentheses) the text stops with ``…``, so a DAG of any size prints quickly.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from tensorad.expr import Add, Constant, Contraction, Elementwise, GeneralUnary, Node, Variable, children, toposort

LIMIT = 5000
"""Characters printed before the text is cut short with ``…``."""

MAX_DEPTH = 60
"""Nesting depth (functions, parentheses) printed before ``…``."""

MAX_STEPS = 100_000
"""Nodes visited by one printout before the rest is elided."""

_LETTERS = "ijklmnopqrstuvwxyzabcdefgh"
_AXIS_PARAMS = ("softmax", "log_softmax", "logsumexp", "norm")


def _index_names() -> Iterator[str]:
    yield from _LETTERS
    for n in itertools.count(1):
        yield from (f"{letter}{n}" for letter in _LETTERS)


def _fresh(count: int, taken: set[str]) -> list[str]:
    return list(itertools.islice((name for name in _index_names() if name not in taken), count))


def _number(c: complex) -> str:
    if isinstance(c, complex) and c.imag:
        return f"({c.real:g}{c.imag:+g}j)"
    real = float(c.real)
    return str(int(real)) if real.is_integer() and abs(real) < 1e15 else f"{real:.6g}"


# --------------------------------------------------------------------------- flattening products


@dataclass(slots=True)
class _Product:
    """A contraction flattened: ``scale ×`` the factors, each axis tagged by a label class."""

    scale: float = 1.0
    factors: list[tuple[Node, list[int]]] = field(default_factory=list)
    out: list[int] = field(default_factory=list)


def _flatten(root: Contraction, names: Sequence[str], cap: int) -> tuple[_Product, int]:
    """``root`` as one product over label classes; output axes named alike share a class.

    Nested contractions are expanded (at most ``cap`` of them, an unexpanded one stays a
    factor), their labels renamed into the consumer's; a repeated output label merges the
    consumer's classes; a scalar constant joins the scale, and so does a summed class that
    no factor carries (its size). Returns the product and the number of expansions.
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
    product = _Product(out=[by_name[name] for name in names])
    stack: list[tuple[Node, list[int]]] = [(root, product.out)]
    expanded = 0
    while stack:
        node, labels = stack.pop()
        if isinstance(node, Contraction) and expanded < cap:
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
class _Item:
    """A factor to print: a node over label classes, or a δ between two free names."""

    node: Node | None
    classes: list[int]
    delta: tuple[str, str] = ("", "")


def _tie_key(item: _Item) -> tuple[int, str]:
    match item.node:
        case Variable(name=name):
            return (0, name)
        case Elementwise(fn=fn) | GeneralUnary(fn=fn):
            return (2, fn)
        case None:
            return (4, "")
        case _:
            return (1 if isinstance(item.node, Constant) else 3, "")


def _chain(items: list[_Item], free: dict[int, int], summed: set[int]) -> list[int]:
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


def _walk(items: list[_Item], by_class: dict[int, list[int]], summed: set[int], starts: list[int]) -> list[int]:
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


def _pattern(items: list[_Item], order: list[int], free: dict[int, int]) -> list[tuple[tuple[int, str], list[int]]]:
    """The factors in ``order`` with their indices numbered as they will print."""
    number = dict(free)
    summed = itertools.count(max(free.values(), default=-1) + 1)
    for k in order:
        for c in items[k].classes:
            if c not in number:
                number[c] = next(summed)
    return [(_tie_key(items[k]), [number[c] for c in items[k].classes]) for k in order]


def _explicit_sums(items: list[_Item], summed: list[int]) -> tuple[list[int], dict[int, list[int]]]:
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
            if len(places) > 2:
                whole.append(c)
        elif len(places) != 2 or not isinstance(items[places[0]].node, (Variable, Constant, GeneralUnary)):
            per_factor.setdefault(places[0], []).append(c)
    return whole, per_factor


# --------------------------------------------------------------------------- the printers


class _Printer:
    """Index notation as plain text; :class:`_Latex` overrides the notation only."""

    latex = False

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self.used = 0
        self.steps = 0
        self.constants: dict[int, str] = {}
        self.reserved: set[str] = set()  # variable names: never used as index names

    def top(self, node: Node) -> str:
        self.reserved = {v.name for v in toposort([node]) if isinstance(v, Variable)}
        names = _fresh(node.ndim, set())
        negative, text = self.expression(node, names, set(names) | self.reserved, 0)
        text = self.negate(text) if negative else text
        return text if len(text) <= self.limit else text[: self.limit] + "…"

    def expression(self, node: Node, names: list[str], taken: set[str], depth: int) -> tuple[bool, str]:
        """``(negative, text)``: ``node`` with its axes named ``names`` (may repeat).

        ``taken`` holds the index names in use around ``node``; the summed indices that
        ``node`` introduces avoid them and are added to it, so that each summation index
        belongs to one product and the factors of a product never share inner names.
        """
        self.steps += 1
        if self.used > self.limit or depth > MAX_DEPTH or self.steps > MAX_STEPS:
            return False, "…"
        match node:
            case Contraction():
                return self.product(node, names, taken, depth)
            case Constant() if node.ndim == 0:
                value = complex(node.value) if node.dtype.kind == "c" else float(node.value)
                negative = not isinstance(value, complex) and value < 0
                return negative, self.emit(_number(-value if negative else value))
            case _:
                return False, self.atom(node, names, taken, depth)

    def emit(self, text: str) -> str:
        self.used += len(text)
        return text

    def atom(self, node: Node, names: list[str], taken: set[str], depth: int) -> str:
        """A factor that is not a product or a sum."""
        match node:
            case Variable(name=name):
                return self.indexed(self.emit(self.variable(name)), names)
            case Constant():
                key = id(node)
                self.constants.setdefault(key, f"C{len(self.constants) + 1}")
                return self.indexed(self.emit(self.constant(self.constants[key])), names)
            case Elementwise(fn=fn, x=x, param=param):
                negative, arg = self.expression(x, names, taken, depth + 1)
                simple = isinstance(x, (Variable, Constant, GeneralUnary)) or (
                    isinstance(x, Elementwise) and x.fn not in ("power", "square")
                )
                return self.elementwise(self.emit(fn), self.negate(arg) if negative else arg, param, simple)
            case GeneralUnary(fn=fn, x=x, params=params):
                if isinstance(x, Variable):
                    arg = self.emit(self.variable(x.name))
                else:
                    own = _fresh(x.ndim, set())
                    negative, arg = self.expression(x, own, set(own) | self.reserved, depth + 1)
                    arg = self.negate(arg) if negative else arg
                return self.indexed(self.general(self.emit(fn), arg, params, isinstance(x, Variable)), names)
            case Add():
                return self.sum_of(node, names, taken, depth)
            case _:
                return "…"  # a contraction past the expansion budget

    def sum_of(self, node: Add, names: list[str], taken: set[str], depth: int) -> str:
        terms: list[Node] = []
        pending: list[Node] = [node]
        while pending and self.steps < MAX_STEPS:
            self.steps += 1
            term = pending.pop()
            if isinstance(term, Add):
                pending += [term.b, term.a]
            else:
                terms.append(term)
        printed: list[tuple[bool, str]] = []
        introduced: set[str] = set()
        for term in terms:  # terms may reuse each other's summation indices
            if self.used > self.limit:
                pending.append(term)
                break
            inner = taken | set(names)
            negative, text = self.expression(term, names, inner, depth + 1)
            if text.startswith("-"):  # a sum itself, printed without parentheses
                negative, text = not negative, text[1:]
            printed.append((negative, text))
            introduced |= inner
        taken |= introduced
        elided = bool(pending) or (False, "…") in printed
        printed = [t for t in printed if t != (False, "…")] + ([(False, "…")] if elided else [])
        printed.sort(key=lambda t: (t[0], re.sub(r"^[\d.e+-]+(\*| \\, )", "", t[1]), t[1]))
        text = self.negate(printed[0][1]) if printed[0][0] else printed[0][1]
        for negative, part in printed[1:]:
            text += self.emit(" - " if negative else " + ") + part
        return text

    def product(self, node: Contraction, names: list[str], taken: set[str], depth: int) -> tuple[bool, str]:
        product, expanded = _flatten(node, names, max(1, min(self.limit, MAX_STEPS - self.steps)))
        self.steps += expanded
        name_of: dict[int, str] = {}
        free: dict[int, int] = {}
        items = [_Item(factor, labels) for factor, labels in product.factors]
        for k, (c, name) in enumerate(zip(product.out, names, strict=True)):
            if c not in name_of:
                name_of[c], free[c] = name, k
            elif name_of[c] != name:
                items.append(_Item(None, [c], (name_of[c], name)))
        summed = {c for item in items for c in item.classes} - set(name_of)
        order = _chain(items, free, summed)
        taken.update(names)
        fresh = iter(_fresh(len(summed), taken))
        for c in (c for k in order for c in items[k].classes):
            if c not in name_of:
                name_of[c] = next(fresh)
        around_all, around = _explicit_sums(items, [c for c in name_of if c in summed])
        alone = len(items) == 1 and not around_all
        taken.update(name_of.values())
        parts = []
        for k in order:
            item = items[k]
            if item.node is None:
                parts.append(self.delta(*item.delta))
                continue
            text = self.atom(item.node, [name_of[c] for c in item.classes], taken, depth + 1)
            is_sum = isinstance(item.node, Add)
            if k in around:
                wrapped = [name_of[c] for c in dict.fromkeys(item.classes) if c in around[k]]
                text = self.summed(wrapped, self.paren(text) if is_sum and self.latex else text, alone)
            elif is_sum and not (alone and product.scale == 1.0):
                text = self.paren(text)
            parts.append(text)
        body = self.join(parts)
        if around_all:
            body = self.summed([name_of[c] for c in around_all], body, True)
        magnitude = abs(product.scale)
        if magnitude != 1.0 or not body:
            number = self.emit(_number(magnitude))
            body = self.scaled(number, body) if body else number
        return product.scale < 0, body

    # ------------------------------------------------------------------ notation

    def variable(self, name: str) -> str:
        return name

    def constant(self, name: str) -> str:
        return name

    def indexed(self, base: str, names: Sequence[str]) -> str:
        return f"{base}[{','.join(names)}]" if names else base

    def delta(self, a: str, b: str) -> str:
        return self.emit(f"delta[{a},{b}]")

    def join(self, parts: list[str]) -> str:
        return self.emit("*").join(parts)

    def scaled(self, number: str, body: str) -> str:
        return f"{number}*{body}"

    def negate(self, text: str) -> str:
        return self.emit("-") + text

    def paren(self, text: str) -> str:
        return f"({text})"

    def summed(self, names: list[str], body: str, alone: bool) -> str:
        joined = "".join(names) if all(len(n) == 1 for n in names) else "{" + ",".join(names) + "}"
        return f"{self.emit(f'sum_{joined}')}({body})"

    def elementwise(self, fn: str, arg: str, param: float | None, simple: bool) -> str:
        if fn in ("power", "square"):
            exponent = _number(2.0 if param is None else param)
            base = arg if simple else f"({arg})"
            return f"{base}^{exponent}" if not exponent.startswith("-") else f"{base}^({exponent})"
        return f"{fn}({arg})"

    def general(self, fn: str, arg: str, params: tuple[object, ...], name: bool) -> str:
        extra = [f"{key}={value}" if key else value for key, value in _params(fn, params)]
        return f"{fn}({', '.join([arg, *extra])})"


def _params(fn: str, params: tuple[object, ...]) -> list[tuple[str, str]]:
    """A general unary function's static arguments as ``(keyword, value)`` pairs."""
    if fn in _AXIS_PARAMS and params and isinstance(params[0], tuple):
        axes = params[0]
        return [("axis", str(axes[0] if len(axes) == 1 else axes))]
    if fn == "reshape" and params:
        return [("shape", str(params[0]))]
    return [("", repr(p)) for p in params]


_LATEX_FUNCTIONS = {
    **{fn: f"\\{fn}" for fn in ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "det")},
    "sigmoid": r"\sigma",
    "logdet": r"\log\det",
}


class _Latex(_Printer):
    """The same structure in LaTeX: ``A_{ij} x_{j}``, ``\\delta_{ij}``, ``\\sum_{k}``."""

    latex = True

    def variable(self, name: str) -> str:
        return name if re.fullmatch(r"[A-Za-z]", name) else r"\mathrm{" + name.replace("_", r"\_") + "}"

    def constant(self, name: str) -> str:
        return r"\mathrm{" + name + "}"

    def indexed(self, base: str, names: Sequence[str]) -> str:
        if not names:
            return base
        if all(len(n) == 1 for n in names):
            return f"{base}_{{{''.join(names)}}}"
        return base + "_{" + " ".join(re.sub(r"(\d+)", r"_{\1}", n) for n in names) + "}"

    def delta(self, a: str, b: str) -> str:
        return self.emit(self.indexed(r"\delta", [a, b]))

    def join(self, parts: list[str]) -> str:
        return self.emit(" ").join(parts)

    def scaled(self, number: str, body: str) -> str:
        return f"{number} \\, {body}"

    def paren(self, text: str) -> str:
        return rf"\left({text}\right)"

    def summed(self, names: list[str], body: str, alone: bool) -> str:
        text = self.emit(self.indexed(r"\sum", names)) + " " + body
        return text if alone else self.paren(text)

    def elementwise(self, fn: str, arg: str, param: float | None, simple: bool) -> str:
        if fn in ("power", "square"):
            base = arg if simple else self.paren(arg)
            return f"{{{base}}}^{{{_number(2.0 if param is None else param)}}}"
        if fn == "sqrt":
            return rf"\sqrt{{{arg}}}"
        if fn == "abs":
            return rf"\left|{arg}\right|"
        if fn == "reciprocal":
            return rf"\frac{{1}}{{{arg}}}"
        return _LATEX_FUNCTIONS.get(fn, rf"\operatorname{{{fn}}}") + self.paren(arg)

    def general(self, fn: str, arg: str, params: tuple[object, ...], name: bool) -> str:
        head = _LATEX_FUNCTIONS.get(fn, rf"\operatorname{{{fn}}}")
        extra = [rf"\mathrm{{{key}}}{{=}}{value}" if key else value for key, value in _params(fn, params)]
        args = ", ".join([arg, *extra])
        return f"{head}({args})" if name else head + self.paren(args)


def index_notation(expr: Node, limit: int = LIMIT) -> str:
    """``expr`` in index notation with Einstein summation (what ``str(expr)`` gives).

    >>> import tensorad as ta
    >>> from tensorad.printing import index_notation
    >>> X = ta.Variable("X", (3, 3))
    >>> index_notation(ta.trace(X) - 2 * ta.logdet(X))
    'X[i,i] - 2*logdet(X)'
    """
    return _Printer(limit).top(expr)


def latex(expr: Node, limit: int = LIMIT) -> str:
    r"""``expr`` in LaTeX index notation (what ``expr.to_latex()`` gives).

    >>> import tensorad as ta
    >>> from tensorad.printing import latex
    >>> x = ta.Variable("x", (3,))
    >>> print(latex(ta.derivative(ta.sigmoid(x), x)))
    \sigma\left(x_{i}\right) \left(1 - \sigma\left(x_{i}\right)\right) \delta_{ij}
    """
    return _Latex(limit).top(expr)


def _einsum_text(node: Contraction) -> tuple[str, str, str]:
    """``node``'s strings with its labels renamed ``i, j, k, …``: output labels first."""
    names = dict(zip(dict.fromkeys(node.s3 + node.s1 + node.s2), _index_names(), strict=False))

    def rename(labels: str) -> str:
        return "".join(names[label] for label in labels)

    return rename(node.s1), rename(node.s2), rename(node.s3)


def _head(node: Node) -> str:
    """Kind and static data of one node, without its operands."""
    match node:
        case Variable(name=name):
            head = f"Variable {name}"
        case Constant():
            head = "Constant" + (f" {_number(node.value.item())}" if node.ndim == 0 else "")
        case Contraction(b=b, scale=c):
            s1, s2, s3 = _einsum_text(node)
            head = f"Contraction {s1}->{s3}" if b is None else f"Contraction {s1},{s2}->{s3}"
            head += "" if c == 1.0 else f" scale={_number(c)}"
        case Add():
            head = "Add"
        case Elementwise(fn=fn, param=param):
            head = f"Elementwise {fn}" + ("" if param is None else f" {_number(param)}")
        case GeneralUnary(fn=fn, params=params):
            head = " ".join([f"GeneralUnary {fn}", *(f"{k}={v}" if k else v for k, v in _params(fn, params))])
    dtype = "" if node.dtype.name == "float64" else f" dtype={node.dtype}"
    return f"{head} shape={node.shape}{dtype}"


def summary(expr: Node, width: int = 120) -> str:
    """A one-line ``repr``: the node's kind and data, then its index notation, cut to ``width``.

    >>> import tensorad as ta
    >>> from tensorad.printing import summary
    >>> A, x = ta.Variable("A", (3, 3)), ta.Variable("x", (3,))
    >>> summary(A @ x)
    '<Contraction ij,j->i shape=(3,) : A[i,j]*x[j]>'
    >>> summary(A @ x, width=20)
    '<Contraction ij,j-…>'
    """
    text = f"<{_head(expr)}"
    if not isinstance(expr, (Variable, Constant)):
        text += " : " + index_notation(expr, limit=width)
    return text + ">" if len(text) < width else text[: width - 2] + "…>"


def dot(expr: Node) -> str:
    """A Graphviz DOT digraph of the DAG: one node per node (shared ones once), edges
    from each operand to its user, labelled with the operand's index string.

    >>> import tensorad as ta
    >>> from tensorad.printing import dot
    >>> x = ta.Variable("x", (3,))
    >>> print(dot(x @ x))
    digraph tensorad {
      node [shape=box, fontname="Helvetica"];
      n0 [label="Variable x\\nshape=(3,)"];
      n1 [label="Contraction i,i->\\nshape=()", peripheries=2];
      n0 -> n1 [label="i"];
      n0 -> n1 [label="i"];
    }
    """
    number: dict[int, int] = {}
    lines = ["digraph tensorad {", '  node [shape=box, fontname="Helvetica"];']
    for k, node in enumerate(toposort([expr])):
        number[id(node)] = k
        label = _quote(_head(node).replace(" shape=", "\nshape=", 1))
        lines.append(f"  n{k} [label={label}{', peripheries=2' if node is expr else ''}];")
        labels = _einsum_text(node)[:2] if isinstance(node, Contraction) else ("", "")
        for child, text in zip(children(node), labels, strict=False):
            lines.append(f"  n{number[id(child)]} -> n{k}" + (f" [label={_quote(text)}];" if text else ";"))
    return "\n".join([*lines, "}"])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
