"""Printing expressions: index notation and LaTeX (the DAG itself: :mod:`tensorad.symbolic.dot`).

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
from collections.abc import Sequence

from tensorad.ir.axis_names import axis_hints
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
from tensorad.symbolic.notation import _INFIX, REDUCING, format_number, index_name, labelled, static_arguments
from tensorad.symbolic.products import Item, explicit_sums, flatten_product, reading_order

LIMIT = 5000
"""Characters printed before the text is cut short with ``…``."""

MAX_DEPTH = 60
"""Nesting depth (functions, parentheses) printed before ``…``."""

MAX_STEPS = 100_000
"""Nodes visited by one printout before the rest is elided."""

SHARED_LENGTH = 12
"""A subexpression written more than once is named (with ``shared``) when longer than this."""

SHARED_TRIAL = 500
"""Characters of a candidate printed to decide whether to name it; one cut off there (whose
indices may not all show) is not named."""

Names = Sequence[str | None]
Start = dict[int, int] | None


class _Printer:
    """Index notation as plain text; :class:`_Latex` overrides the notation only."""

    latex = False

    def __init__(self, limit: int = LIMIT, shared: bool = False) -> None:
        self.limit = limit
        self.shared = shared  # name subexpressions used more than once (``where t1[i] = …``)
        self.named: dict[Node, str] = {}
        self.defining: Node | None = None
        self.used = self.steps = 0
        self.constants: dict[int, str] = {}
        self.reserved: set[str] = set()  # variable names: never used as index names
        self.sizes: dict[str, int] = {}  # each index name stands for one size throughout
        self.hints: dict[int, tuple[str | None, ...]] = {}  # axis names read from named variables, by node
        self.bound: Sequence[str | None] = ()  # the names a statement's left side binds (a function's argument's)

    def fresh(self, sizes: Sequence[int], taken: set[str], wanted: Names = (), start: Start = None) -> list[str]:
        """Names for axes of ``sizes``: ``wanted[k]`` where given (a label, not a variable's
        name), else one not in ``taken``; none used for another size elsewhere in the text
        (so the expression language, whose labels have one size each, reads it back).
        ``start[n]``: where the search for a name of size ``n`` begins, moved past the names
        found unusable; they stay so for callers whose ``taken`` only grows by the names
        chosen, and a run of their calls then makes one pass over the names, not one each."""
        keep = {w for w in wanted if w and w not in self.reserved and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", w)}
        start, chosen = {} if start is None else start, []
        for n, want in zip(sizes, [*wanted, *[None] * len(sizes)], strict=False):
            if want in keep and want not in taken and want not in chosen and self.sizes.setdefault(want, n) == n:
                chosen.append(want)
                continue
            k = start.get(n, 0)
            while (name := index_name(k)) in taken or name in chosen or name in keep or self.sizes.get(name, n) != n:
                k += 1
            start[n], self.sizes[name] = k, n
            chosen.append(name)
        return chosen

    def top(self, node: Node, name: str | None = None, labels: Sequence[str | None] = ()) -> str:
        self.reserved = {v.name for v in toposort([node]) if isinstance(v, Variable)}
        if self.shared:
            self.name_shared(node)
            self.reserved |= set(self.named.values())
        text = self.statement(node, name, labels)
        for shared, label in self.named.items():  # each defined once, in the order they build on each other
            self.defining = shared
            own = self.bound = self.fresh(shared.shape, set())
            negative, body = self.expression(shared, own, set(own) | self.reserved, 0)
            text += self.where(self.indexed(self.variable(label), own), self.negate(body) if negative else body)
        self.defining = None
        return text if len(text) <= self.limit else text[: self.limit] + "…"

    def statement(self, node: Node, name: str | None = None, labels: Sequence[str | None] = ()) -> str:
        """``node``'s line (``name[i,j] = …`` with a ``name``), without the named subexpressions'."""
        wanted = [given or hint for given, hint in itertools.zip_longest(labels, axis_hints(node, self.hints))]
        names = self.bound = self.fresh(node.shape, set(), wanted)  # a label given, else a named variable's axis
        negative, text = self.expression(node, names, set(names) | self.reserved, 0)
        text = self.negate(text) if negative else text
        return text if name is None else f"{self.indexed(name, names)} = {text}"

    def name_shared(self, node: Node) -> None:
        """Name ``t1``, ``t2``, … the subexpressions of ``node`` that a printout would write
        more than once and that are longer than :data:`SHARED_LENGTH` characters."""
        order = toposort([node])
        uses = use_counts(order, [node])
        taken = self.reserved | set(self.named.values())  # no variable's name, nor one given already
        labels = (t for k in itertools.count(1) if (t := f"t{k}") not in taken)
        for candidate in order:
            if candidate is node or uses[candidate] < 2 or isinstance(candidate, (Variable, Constant)):
                continue
            trial = _Printer(SHARED_TRIAL)  # bounded: a DAG of many shared nodes prints each so far
            trial.named, trial.reserved = self.named, self.reserved  # (the line alone: no names made, none defined)
            line = trial.statement(candidate, "t")
            head, _, body = line[:SHARED_TRIAL].partition(" = ")  # (an index past the cut is not written)
            indices = head[2:-1].split(",") if candidate.ndim else []
            # a broadcast axis, which the body does not write, would be a label of unknown size
            written = all(re.search(rf"[\[,]{name}[\],]", body) for name in indices)
            if len(body) > SHARED_LENGTH and written:
                self.named[candidate] = next(labels)

    def stands_named(self, node: Node) -> bool:
        """Whether ``node`` prints as its name ``t1[…]`` here (not on its own where line)."""
        return node in self.named and node is not self.defining

    def where(self, head: str, body: str) -> str:
        return f"\nwhere {head} = {body}"

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
            case Contraction() if not self.stands_named(node):
                return self.product(node, names, taken, depth)
            case Constant() if node.ndim == 0:
                value = complex(node.value) if node.dtype.kind == "c" else float(node.value)
                negative = not isinstance(value, complex) and value < 0
                return negative, self.emit(format_number(-value if negative else value))
            case _:
                return False, self.atom(node, names, taken, depth)

    def emit(self, text: str) -> str:
        self.used += len(text)
        return text

    def atom(self, node: Node, names: list[str], taken: set[str], depth: int) -> str:
        """A factor that is not a product or a sum (or a named one of those)."""
        if self.stands_named(node):
            return self.indexed(self.emit(self.variable(self.named[node])), names)
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
            case GeneralUnary(fn=fn, x=x, params=params) if labelled(fn, params, names):
                return self.labelled_call(node, names, taken, depth)
            case GeneralUnary(fn=fn, x=x, params=params):
                if isinstance(x, Variable):
                    arg = self.emit(self.variable(x.name))
                else:
                    own = self.fresh(x.shape, self.reserved, self.bound)  # the statement's names bind its labels
                    negative, arg = self.expression(x, own, taken | set(own) | self.reserved, depth + 1)
                    arg = self.negate(arg) if negative else arg
                return self.indexed(self.general(self.emit(fn), arg, params, isinstance(x, Variable)), names)
            case General(fn=fn, args=operands, params=params):
                parts = []
                for operand in operands:
                    if isinstance(operand, Variable):
                        parts.append(self.emit(self.variable(operand.name)))
                        continue
                    own = self.fresh(operand.shape, self.reserved, self.bound)
                    negative, text = self.expression(operand, own, taken | set(own) | self.reserved, depth + 1)
                    parts.append(self.negate(text) if negative else text)
                return self.indexed(self.general(self.emit(fn), ", ".join(parts), params, True), names)
            case Pointwise(fn=fn, args=operands):
                texts = []
                for operand in operands:
                    negative, text = self.expression(operand, names, taken, depth + 1)
                    texts.append(self.negate(text) if negative else text)
                return self.pointwise(self.emit(fn), texts)
            case Add():
                return self.sum_of(node, names, taken, depth)
            case _:
                return "…"  # a contraction past the expansion budget

    def labelled_call(self, node: GeneralUnary, names: list[str], taken: set[str], depth: int) -> str:
        """``softmax(e, k)``, ``logsumexp(e, k)``: the function over the labels named after its
        argument, as the expression language writes it; the argument's other indices are
        ``node``'s own (``names``), a reduced axis gets a fresh name."""
        axes = node.params[0]
        assert isinstance(axes, tuple)
        own = iter(names)
        sizes = [node.x.shape[k] for k in axes]
        reduced = iter(self.fresh(sizes, taken | self.reserved)) if node.fn in REDUCING else None
        arg_names = [next(reduced) if reduced is not None and k in axes else next(own) for k in range(node.x.ndim)]
        over = [arg_names[k] for k in axes]
        inner = taken | set(arg_names)
        negative, arg = self.expression(node.x, arg_names, inner, depth + 1)
        taken.update(over)
        return self.over(self.emit(node.fn), self.negate(arg) if negative else arg, over)

    def sum_of(self, node: Add, names: list[str], taken: set[str], depth: int) -> str:
        terms: list[Node] = []
        pending: list[Node] = [node]
        while pending and self.steps < MAX_STEPS:
            self.steps += 1
            term = pending.pop()
            if isinstance(term, Add) and (term is node or not self.stands_named(term)):
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
        cap = max(1, min(self.limit, MAX_STEPS - self.steps))
        product, expanded = flatten_product(node, names, cap, keep=set(self.named) - {node})
        self.steps += expanded
        name_of: dict[int, str] = {}
        free: dict[int, int] = {}
        items = [Item(factor, labels) for factor, labels in product.factors]
        for k, (c, name) in enumerate(zip(product.out, names, strict=True)):
            if c not in name_of:
                name_of[c], free[c] = name, k
            elif name_of[c] != name:
                items.append(Item(None, [c], (name_of[c], name)))
        summed = {c for item in items for c in item.classes} - set(name_of)
        order = reading_order(items, free, summed)
        taken.update(names)
        size = {
            c: n for item in items if item.node is not None for c, n in zip(item.classes, item.node.shape, strict=True)
        }
        named = [zip(it.classes, axis_hints(it.node, self.hints), strict=True) for it in items if it.node is not None]
        hint = {c: name for pairs in named for c, name in pairs if name}  # a named variable's axes: its names
        used, start = taken | set(name_of.values()), dict[int, int]()
        for c in (c for k in order for c in items[k].classes):
            if c not in name_of:
                (name_of[c],) = self.fresh([size[c]], used, [hint.get(c)], start)
                used.add(name_of[c])
        around_all, around = explicit_sums(items, [c for c in name_of if c in summed])
        alone = len(items) == 1 and not around_all
        taken.update(name_of.values())
        parts, below = [], []
        bound = set(free) | set(around_all)  # a division may only align these (its labels stay free)
        for k in order:
            item = items[k]
            if item.node is None:
                parts.append(self.delta(*item.delta))
                continue
            if _reciprocal(item.node) and k not in around and set(item.classes) <= bound:
                assert isinstance(item.node, Elementwise)
                negative, text = self.expression(item.node.x, [name_of[c] for c in item.classes], taken, depth + 1)
                below.append(self.negate(text) if negative else text)
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
        magnitude = abs(product.scale)
        if below:
            if not body or (magnitude != 1.0 and not around_all):  # 2 / x, not 2*1 / x
                number = self.emit(format_number(magnitude))
                body, magnitude = (self.scaled(number, body) if body else number), 1.0
            body = self.divided(body, below)
        if around_all:
            body = self.summed([name_of[c] for c in around_all], body, True)
        if magnitude != 1.0 or not body:
            number = self.emit(format_number(magnitude))
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
        """``sum_k(…)`` for one index, ``sum_{k,l}(…)`` for several (``sum_kl`` sums one, ``kl``)."""
        joined = names[0] if len(names) == 1 else "{" + ",".join(names) + "}"
        return f"{self.emit(f'sum_{joined}')}({body})"

    def elementwise(self, fn: str, arg: str, param: float | None, simple: bool) -> str:
        if fn in ("power", "square"):
            exponent = format_number(2.0 if param is None else param)
            base = arg if simple else f"({arg})"
            return f"{base}^{exponent}" if not exponent.startswith("-") else f"{base}^({exponent})"
        if fn == "rpow":
            base = format_number(math.nan if param is None else param)
            return f"{base if not base.startswith('-') else f'({base})'}^{arg if simple else f'({arg})'}"
        if param is not None:  # a derivative of order param (sinc), or a user function's constant
            return f"{fn}{chr(39) * int(param)}({arg})" if fn == "sinc" else f"{fn}({arg}, {format_number(param)})"
        return f"{fn}({arg})"

    def general(self, fn: str, arg: str, params: tuple[object, ...], name: bool) -> str:
        extra = [f"{key}={value}" if key else value for key, value in static_arguments(fn, params)]
        return f"{fn}({', '.join([arg, *extra])})"

    def over(self, fn: str, arg: str, labels: list[str]) -> str:
        return f"{fn}({', '.join([arg, *labels])})"

    def divided(self, numerator: str, denominators: list[str]) -> str:
        """``a / b / c``: the language divides the product so far, entry by entry."""
        return numerator + "".join(self.emit(" / ") + _operand(d, self) for d in denominators)

    def pointwise(self, fn: str, args: list[str]) -> str:
        if fn == "divide":  # x / (1 + x): a compound operand in parentheses
            return " / ".join(_operand(arg, self) for arg in args)
        if fn in _INFIX:
            return self.paren(f" {_INFIX[fn][self.latex]} ".join(args))
        if fn == "power":
            base, exponent = args
            return f"{self.paren(base)}^{self.paren(exponent)}"
        return f"{fn}({', '.join(args)})"


def _reciprocal(node: Node) -> bool:
    return isinstance(node, Elementwise) and node.fn == "reciprocal" and node.param is None


def _operand(text: str, printer: _Printer) -> str:
    """An operand of ``/``: in parentheses unless it is one indexed tensor or number."""
    return text if re.fullmatch(r"[\w\[\],.]+", text) else printer.paren(text)


def index_notation(
    expr: Node, limit: int = LIMIT, name: str | None = None, shared: bool = False, labels: Sequence[str | None] = ()
) -> str:
    """``expr`` in index notation with Einstein summation: what ``str(expr)`` gives.

    Args:
        expr: the expression.
        limit: characters printed before the text is cut short with ``…`` (:data:`LIMIT`).
        name: print the statement ``name[i,j] = …``, whose left side fixes the output indices
            (a free index written twice is then not summed): the form :func:`tensorad.parse` reads back.
        shared: write a subexpression the text would repeat once, on a line of its own
            (``where t1[i] = …``), which :func:`tensorad.parse` reads back too.
        labels: the names of the output's indices, where given (``None``: the next free letter).

    Returns:
        The text: one line, and one more per shared subexpression.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.printing import index_notation
        >>> X = ta.Variable("X", (3, 3))
        >>> index_notation(ta.trace(X) - 2 * ta.logdet(X))
        'X[i,i] - 2*logdet(X)'
        >>> x, A = ta.Variable("x", (3,)), ta.Variable("A", (3, 3))
        >>> index_notation(x * x, name="y"), index_notation(A @ x, name="y", labels=["row"])
        ('y[i] = x[i]*x[i]', 'y[row] = A[row,i]*x[i]')
        >>> z = ta.tanh(A @ x)
        >>> print(index_notation(z * z + z, name="f", shared=True))
        f[i] = t1[i] + t1[i]*t1[i]
        where t1[i] = tanh(A[i,j]*x[j])
    """
    return _Printer(limit, shared).top(expr, name, labels)
