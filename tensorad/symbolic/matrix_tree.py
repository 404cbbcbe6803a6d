"""The syntax tree of matrix notation and its printer (text and LaTeX), for
:mod:`tensorad.symbolic.matrix`: products with numbers in front and ``diag`` merged,
transposes moved inward where that shortens the text, sizes of ``𝟏`` and ``I`` written
only where no neighbour fixes them.

>>> A, x = Leaf("A", "m"), Leaf("x", "c")
>>> show(transposed(product(Leaf("2", "s"), A, x)))
'2 xᵀ Aᵀ'
>>> print(show(product(Fn("diag", (x,), "m"), A, x), tex=True))
x \\odot A x
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from tensorad.symbolic.notation import format_number

OF_MATRIX = {"det": "s", "logdet": "s", "cholesky": "m", "expm": "m", "sqrtm": "m", "logm": "m"}
OF_ALL = ("softmax", "log_softmax", "logsumexp", "norm", "max", "min")
ENTRYWISE_CALLS = frozenset({"maximum", "minimum", "logaddexp", "hypot", "arctan2"})
"""The functions of two operands, entry by entry, that matrix notation writes as calls."""
WHOLE = frozenset({"diag", "tr", "sum", *OF_MATRIX, *OF_ALL})
"""The functions of a whole vector or matrix (the others act entry by entry)."""


# --------------------------------------------------------------------------- the matrix syntax tree


@dataclass(frozen=True)
class Leaf:
    """A variable, a where-name or a number: ``kind`` is ``"s"`` (scalar), ``"c"`` (column) or ``"m"``."""

    text: str
    kind: str


@dataclass(frozen=True)
class Ones:
    """``𝟏``, the column of ``n`` ones."""

    n: int


@dataclass(frozen=True)
class Eye:
    """``I``, the ``n × n`` identity."""

    n: int


@dataclass(frozen=True)
class T:
    """``xᵀ``."""

    x: Tree


@dataclass(frozen=True)
class Inv:
    """``X⁻¹``."""

    x: Tree


@dataclass(frozen=True)
class Chain:
    """The matrix product of ``factors``; scalar factors (numbers first) scale it."""

    factors: tuple[Tree, ...]


@dataclass(frozen=True)
class Had:
    """``a ⊙ b`` or ``a ⊘ b`` (``op``); a scalar operand is broadcast."""

    op: str
    a: Tree
    b: Tree


@dataclass(frozen=True)
class Sum:
    """``± t₁ ± t₂ …``: the terms with their signs (``True``: subtracted)."""

    terms: tuple[tuple[bool, Tree], ...]


@dataclass(frozen=True)
class Fn:
    """``name(args…)``: an entrywise function (the kind of its argument) or ``diag``, ``tr``,
    ``det`` … of the given ``kind``."""

    name: str
    args: tuple[Tree, ...]
    kind: str


@dataclass(frozen=True)
class Pow:
    """``x^p`` entry by entry (``x^⊙p`` for a vector or matrix)."""

    x: Tree
    p: float


Tree: TypeAlias = Leaf | Ones | Eye | T | Inv | Chain | Had | Sum | Fn | Pow


def kind(tree: Tree) -> str:
    """``"s"``, ``"c"``, ``"r"`` (a row: a transposed column) or ``"m"``."""
    match tree:
        case Leaf(kind=k) | Fn(kind=k):
            return k
        case Ones():
            return "c"
        case Eye():
            return "m"
        case T(x=x):
            return {"c": "r", "r": "c"}.get(kind(x), kind(x))
        case Inv(x=x) | Pow(x=x):
            return kind(x)
        case Chain(factors=factors):
            shaped = [kind(f) for f in factors if kind(f) != "s"]
            if not shaped:
                return "s"
            rows, cols = shaped[0] in "cm", shaped[-1] in "rm"
            return {(False, False): "s", (True, False): "c", (False, True): "r", (True, True): "m"}[(rows, cols)]
        case Had(a=a, b=b):
            return kind(a) if kind(a) != "s" else kind(b)
        case Sum(terms=terms):
            return kind(terms[0][1])
    raise AssertionError(tree)


def product(*factors: Tree) -> Tree:
    """The product of ``factors``, nested non-scalar chains flattened (associativity) and
    numbers multiplied together in front."""
    flat: list[Tree] = []
    number = 1.0
    for factor in factors:
        parts = factor.factors if isinstance(factor, Chain) and kind(factor) != "s" else (factor,)
        for part in parts:
            if isinstance(part, Leaf) and part.kind == "s" and _is_number(part.text):
                number *= float(part.text)
            else:
                flat.append(part)
    scalars = [f for f in flat if kind(f) == "s"]
    shaped = _diagonals_entrywise([f for f in flat if kind(f) != "s"])
    front: list[Tree] = [] if number == 1.0 and (scalars or shaped) else [Leaf(format_number(number), "s")]
    merged = [*front, *scalars, *shaped]
    return merged[0] if len(merged) == 1 else Chain(tuple(merged))


def _diagonals_entrywise(factors: list[Tree]) -> list[Tree]:
    """``diag(a) diag(b)`` as ``diag(a ⊙ b)``, ``diag(v) 𝟏`` as ``v``, and ``diag(v) M x`` (a
    column) as ``v ⊙ (M x)``."""
    merged: list[Tree] = []
    for factor in factors:
        if merged and _is_diag(merged[-1]) and _is_diag(factor):
            merged[-1] = Fn("diag", (Had("⊙", _argument(merged[-1]), _argument(factor)),), "m")
        elif merged and _is_diag(merged[-1]) and isinstance(factor, Ones):
            merged[-1] = _argument(merged[-1])  # diag(v) 𝟏 = v
        else:
            merged.append(factor)
    for k, factor in enumerate(merged[:-1]):
        rest = merged[k + 1 :]
        if _is_diag(factor) and kind(Chain(tuple(rest))) == "c":
            return [*merged[:k], Had("⊙", _argument(factor), rest[0] if len(rest) == 1 else Chain(tuple(rest)))]
    return merged


def _is_diag(tree: Tree) -> bool:
    return isinstance(tree, Fn) and tree.name == "diag" and tree.kind == "m"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def transposed(tree: Tree) -> Tree:
    """``treeᵀ``, moved inward where that shortens the text."""
    match tree:
        case _ if kind(tree) == "s":
            return tree
        case T(x=x):
            return x
        case Eye() | Fn(name="diag", kind="m"):
            return tree
        case Leaf() | Ones():
            return T(tree)
    inward: Tree | None = None
    match tree:
        case Inv(x=x):
            inward = Inv(transposed(x))
        case Pow(x=x, p=p):
            inward = Pow(transposed(x), p)
        case Chain(factors=factors):
            inward = product(*(transposed(f) for f in reversed(factors)))
        case Had(op=op, a=a, b=b):
            inward = Had(op, transposed(a), transposed(b))
        case Sum(terms=terms):
            inward = Sum(tuple((negative, transposed(t)) for negative, t in terms))
        case Fn(name=name, args=args, kind=k) if name not in WHOLE:
            inward = Fn(name, tuple(transposed(a) for a in args), {"c": "r", "r": "c"}.get(k, k))
    outward = T(tree)
    if inward is None:
        return outward
    return inward if len(show(inward)) < len(show(outward)) else outward


# --------------------------------------------------------------------------- printing

_SUM, _HAD, _CHAIN, _POSTFIX = range(4)
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_NAMES = {"sigmoid": "σ"}
_TEX_NAMES = {
    "sigmoid": r"\sigma",
    "exp": r"\exp",
    "log": r"\log",
    "tanh": r"\tanh",
    "det": r"\det",
    "logdet": r"\log\det",
    "sin": r"\sin",
    "cos": r"\cos",
}


def show(tree: Tree, tex: bool = False) -> str:
    """The text (or LaTeX) of ``tree``."""
    return _show(tree, _SUM, tex, True)


def _show(tree: Tree, level: int, tex: bool, sized: bool) -> str:
    """``tree`` printed where operators binding looser than ``level`` need parentheses;
    ``sized``: a neighbour does not fix the size of a ``𝟏`` or ``I`` here."""
    text, own = _bare(tree, tex, sized)
    if own < level:
        return rf"\left({text}\right)" if tex else f"({text})"
    return text


def _bare(tree: Tree, tex: bool, sized: bool) -> tuple[str, int]:
    match tree:
        case Leaf(text=text):
            if tex and len(text) > 1 and not _is_number(text):
                text = text[0] + "_{" + text[1:] + "}" if text[1:].isdigit() else rf"\mathrm{{{text}}}"
            return text, (_SUM if text.startswith("-") else _POSTFIX + 1)
        case Ones(n=n):
            base = r"\mathbf{1}" if tex else "𝟏"
            return base + (_subscript(n, tex) if sized else ""), _POSTFIX + 1
        case Eye(n=n):
            return "I" + (_subscript(n, tex) if sized else ""), _POSTFIX + 1
        case T(x=Inv(x=x)) | Inv(x=T(x=x)):
            return _show(x, _POSTFIX + 1, tex, sized) + (r"^{-\top}" if tex else "⁻ᵀ"), _POSTFIX
        case T(x=x):
            return _show(x, _POSTFIX + 1, tex, sized) + (r"^\top" if tex else "ᵀ"), _POSTFIX
        case Inv(x=x):
            return _show(x, _POSTFIX + 1, tex, sized) + ("^{-1}" if tex else "⁻¹"), _POSTFIX
        case Pow(x=x, p=p):
            power = format_number(p)
            hadamard = kind(x) != "s"
            if tex:
                return _show(x, _POSTFIX + 1, tex, sized) + "^{" + (
                    r"\odot " if hadamard else ""
                ) + power + "}", _POSTFIX
            exponent = power if not power.startswith("-") else f"({power})"
            return _show(x, _POSTFIX + 1, tex, sized) + ("^⊙" if hadamard else "^") + exponent, _POSTFIX
        case Chain(factors=factors):
            return _chain(factors, tex, sized)
        case Had(op=op, a=a, b=b):
            if isinstance(b, Fn) and b.name == "reciprocal":
                op, b = {"⊙": "⊘", "⊘": "⊙"}[op], _argument(b)
            if op == "⊘" and kind(a) == kind(b) == "s":
                if tex:
                    return rf"\frac{{{_show(a, _SUM, tex, sized)}}}{{{_show(b, _SUM, tex, sized)}}}", _POSTFIX + 1
                return f"{_show(a, _HAD, tex, sized)} / {_show(b, _CHAIN, tex, sized)}", _HAD
            if isinstance(a, Fn) and a.name == "reciprocal" and op == "⊙":
                a, b, op = b, _argument(a), "⊘"  # 1/a ⊙ b is b ⊘ a
            symbol = {"⊙": r"\odot", "⊘": r"\oslash"}[op] if tex else op
            left = _operand(a, [b], _HAD, tex, sized)
            associative = op == "⊙" and isinstance(b, Had) and b.op == "⊙"
            right = _operand(b, [a], _HAD if associative else _CHAIN, tex, sized)
            return f"{left} {symbol} {right}", _HAD
        case Sum(terms=terms):
            terms = tuple(sorted(terms, key=lambda term: term[0]))  # added terms first: b - a, not -a + b
            parts = []
            for k, (negative, term) in enumerate(terms):
                text = _operand(term, [t for j, (_, t) in enumerate(terms) if j != k], _HAD, tex, sized)
                parts.append(("-" if negative else "") + text if k == 0 else (" - " if negative else " + ") + text)
            return "".join(parts), _SUM
        case Fn(name="reciprocal", args=(x,)):
            if tex:
                return rf"\frac{{1}}{{{_show(x, _SUM, tex, sized)}}}", _POSTFIX + 1
            return ("1 / " if kind(x) == "s" else "1 ⊘ ") + _show(x, _CHAIN, tex, sized), _HAD
        case Fn(name=name, args=args):
            inner = ", ".join(_show(a, _SUM, tex, True) for a in args)
            if tex:
                head = _TEX_NAMES.get(name, rf"\operatorname{{{name.replace('_', chr(92) + '_')}}}")
                return rf"{head}\left({inner}\right)", _POSTFIX + 1
            return f"{_NAMES.get(name, name)}({inner})", _POSTFIX + 1
    raise AssertionError(tree)


def _argument(tree: Tree) -> Tree:
    assert isinstance(tree, Fn)
    return tree.args[0]


def lazy(tree: Tree) -> bool:
    """Whether ``tree`` is ``𝟏``, ``𝟏ᵀ``, ``𝟏 𝟏ᵀ`` or ``I`` (times scalars): its size is not
    written where an operand beside it in a sum or an entrywise product fixes it."""
    if isinstance(tree, Chain):
        shaped = [f for f in tree.factors if kind(f) != "s"]
        return bool(shaped) and all(lazy(f) for f in shaped) and len(shaped) <= 2
    return isinstance(tree, (Ones, Eye)) or (isinstance(tree, T) and isinstance(tree.x, Ones))


def _operand(tree: Tree, others: list[Tree], level: int, tex: bool, sized: bool) -> str:
    """A term of a sum or an operand of ``⊙``: all ones beside an operand that fixes the
    shape is the number ``1`` (broadcast), ``I`` shows no size there."""
    if not lazy(tree):
        return _show(tree, level, tex, True)
    fixed = any(not lazy(other) and kind(other) != "s" for other in others)  # a scalar fixes no size
    if fixed and not _has_eye(tree):
        scalars = [f for f in tree.factors if kind(f) == "s"] if isinstance(tree, Chain) else []
        return _show(product(*scalars) if scalars else Leaf("1", "s"), level, tex, True)
    return _show(tree, level, tex, sized and not fixed)


def _has_eye(tree: Tree) -> bool:
    return isinstance(tree, Eye) or (isinstance(tree, Chain) and any(isinstance(f, Eye) for f in tree.factors))


def _subscript(n: int, tex: bool) -> str:
    return f"_{{{n}}}" if tex else str(n).translate(_SUBSCRIPTS)


def _chain(factors: tuple[Tree, ...], tex: bool, sized: bool) -> tuple[str, int]:
    """A product; a ``𝟏`` (``𝟏ᵀ``, ``I``) next to the factor it contracts with shows no size."""
    parts: list[str] = []
    divisors: list[Tree] = []
    negative = False
    for k, factor in enumerate(factors):
        if isinstance(factor, Fn) and factor.name == "reciprocal" and factor.kind == "s" and len(factors) > 1:
            divisors.append(factor.args[0])
            continue
        if isinstance(factor, Leaf) and factor.text.startswith("-") and k == 0:
            negative, factor = True, Leaf(factor.text[1:], "s")
            if factor.text == "1":
                continue
        parts.append(_show(factor, _POSTFIX, tex, sized and not _contracts(factor, k, factors)))
    text = " ".join(parts) if parts else "1"
    if negative and len(parts) == 1 and isinstance(factors[-1], Had) and not divisors:
        return "-" + _show(factors[-1], _HAD, tex, sized), _HAD  # -(a ⊙ b) is (-a) ⊙ b
    for divisor in divisors:
        text = (
            rf"\frac{{{text}}}{{{_show(divisor, _SUM, tex, True)}}}"
            if tex
            else f"{text} / {_show(divisor, _CHAIN, tex, True)}"
        )
    if negative:
        return "-" + text, _SUM
    return text, (_HAD if divisors and not tex else _CHAIN)


def _contracts(factor: Tree, k: int, factors: tuple[Tree, ...]) -> bool:
    """Whether a neighbour in the product fixes the size of ``factor`` (a ``𝟏``, ``𝟏ᵀ`` or
    ``I``): the factor before a ``𝟏`` or ``I`` with columns, the factor after a ``𝟏ᵀ`` or
    ``I`` with rows."""
    left = factors[k - 1] if k > 0 else None
    right = factors[k + 1] if k + 1 < len(factors) else None
    by_left = left is not None and not lazy(left) and kind(left) in "rm"
    by_right = right is not None and not lazy(right) and kind(right) in "cm"
    if isinstance(factor, Ones):
        return by_left
    if isinstance(factor, T) and isinstance(factor.x, Ones):
        return by_right
    return isinstance(factor, Eye) and (by_left or by_right)
