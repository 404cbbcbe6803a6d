"""A contraction as plain numpy: ``@``, ``.T``, ``.sum(axis=…)``, ``np.diag``, broadcasting; einsum for the rest.

A contraction ``*(s1, s2, s3)(A, B)`` is written in two steps, as :mod:`tensorad.run.kernels`
evaluates it: its core ``s1,s2->core`` (a product and sum with no repeated output label),
as the plainest numpy expression that computes it, then the broadcast or diagonal embedding that
takes the core to ``s3``. Every idiom is exact: the same products, summed, with zeros off a diagonal.
Sizes are not known here: the caller passes each output axis's size as code (``x.shape[0]``).

Examples:
    >>> from tensorad.symbolic.codegen_idioms import core_code, embed_code
    >>> core_code("ij", "j", "i", "W", "x"), core_code("ji", "jk", "ik", "A", "B"), core_code("i", "i", "", "x", "y")
    ('W @ x', 'A.T @ B', 'x @ y')
    >>> core_code("i", "j", "ij", "u", "v"), core_code("i", "ij", "ij", "y", "X"), core_code("ij", None, "j", "A")
    ('np.multiply.outer(u, v)', 'y[:, None] * X', 'A.sum(axis=0)')
    >>> core_code("ii", None, "", "A"), core_code("ijk", "ij", "k", "A", "B")
    ('np.trace(A)', 'np.einsum("ijk,ij->k", A, B)')
    >>> embed_code("v", "i", "ii", ["x.shape[0]"] * 2), embed_code("1.0", "", "i", ["x.shape[0]"])
    ('np.diag(v)', 'np.ones((x.shape[0],))')
    >>> embed_code("v", "i", "ij", ["x.shape[0]", "y.shape[0]"])
    'np.broadcast_to(v[:, None], (x.shape[0], y.shape[0]))'
    >>> embed_code("v", "ik", "iik", ["x.shape[0]", "x.shape[0]", "y.shape[0]"])
    '_embed(v, "iik->ik", (x.shape[0], x.shape[0], y.shape[0]))'
"""

from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tensorad.ir.nodes import FLOAT64, Contraction

LETTERS = "ijklmnopqrstuvwxyzabcdefghABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Labels as the generated code writes them: ``i``, ``j``, ``k`` … in order of first appearance."""

EMBED = '''

def _embed(core, subscripts, shape):
    """Zeros of ``shape``, ``core`` written on the diagonal that ``subscripts`` views."""
    out = np.zeros(shape, dtype=np.result_type(core))
    np.einsum(subscripts, out)[...] = core
    return out
'''
"""The helper for diagonal embeddings that ``np.diag`` cannot write: emitted only when called."""


def contraction_code(node: Contraction, args: Sequence[str], dims: Sequence[str]) -> str:
    """numpy code for ``node`` given its operands' code ``args`` and its axes' sizes as code ``dims``."""
    letters = dict(zip(dict.fromkeys(node.s1 + node.s2 + node.s3), LETTERS, strict=False))
    s1, s2, s3, core = ("".join(letters[c] for c in labels) for labels in (node.s1, node.s2, node.s3, node.core))
    value = scaled(node.scale, core_code(s1, None if node.b is None else s2, core, *args))
    return value if core == s3 else embed_code(value, core, s3, dims, node.dtype)


def core_code(s1: str, s2: str | None, core: str, a: str, b: str | None = None) -> str:
    """``np.einsum(f"{s1},{s2}->{core}", a, b)`` (unary when ``s2`` is None) in numpy's own idioms."""
    if s2 is None or b is None:
        return _unary(s1, core, a)
    if not s1:  # a scalar operand scales the other
        return f"{_factor(a)} * {_factor(_unary(s2, core, b))}"
    if not s2:
        return f"{_factor(_unary(s1, core, a))} * {_factor(b)}"
    return _matmul(s1, s2, core, a, b) or _product(s1, s2, core, a, b) or f'np.einsum("{s1},{s2}->{core}", {a}, {b})'


def _unary(s: str, core: str, a: str) -> str:
    """Transpose (``.T``), sum (``.sum(axis=…)``), diagonal (``np.diag``), trace (``np.trace``)."""
    if s == core:
        return a
    if len(set(s)) == len(s):
        summed = tuple(k for k, c in enumerate(s) if c not in core)
        kept = "".join(c for c in s if c in core)
        value = a
        if summed:
            axis = "" if len(summed) == len(s) else f"axis={summed[0] if len(summed) == 1 else summed}"
            value = f"{_atom(a)}.sum({axis})"
        if kept == core:
            return value
        if len(core) == 2:
            return f"{_atom(value)}.T"
        return f"np.transpose({value}, {tuple(kept.index(c) for c in core)})"
    if len(s) == 2 and core == s[0]:
        return f"np.diag({a})"
    if len(s) == 2 and not core:
        return f"np.trace({a})"
    return f'np.einsum("{s}->{core}", {a})'


def _matmul(s1: str, s2: str, core: str, a: str, b: str) -> str | None:
    """``a @ b`` (``.T`` on an operand as needed) for a vector or matrix product, else None."""
    shared = set(s1) & set(s2)
    if len(s1) > 2 or len(s2) > 2 or len(set(s1)) < len(s1) or len(set(s2)) < len(s2) or len(shared) != 1:
        return None
    (summed,) = shared
    if summed in core or set(s1 + s2) - {summed} != set(core):
        return None
    products = [  # a vector on the right, as in A x and Aᵀ x; then the fewest transposes
        (
            len(sx) < len(sy),
            (sx[-1] != summed) + (sy[0] != summed),
            f"{_oriented(x, sx[-1] != summed)} @ {_oriented(y, sy[0] != summed)}",
        )
        for (x, sx), (y, sy) in (((a, s1), (b, s2)), ((b, s2), (a, s1)))
        if sx.replace(summed, "") + sy.replace(summed, "") == core
    ]
    return min(products)[2] if products else None


def _oriented(x: str, transposed: bool) -> str:
    return f"{x}.T" if transposed else x


def _product(s1: str, s2: str, core: str, a: str, b: str) -> str | None:
    """An entrywise product with broadcasting (an outer product included), when nothing is summed."""
    if set(s1 + s2) != set(core):
        return None
    if s1 + s2 == core:
        return f"np.multiply.outer({a}, {b})"
    if s2 + s1 == core:
        return f"np.multiply.outer({b}, {a})"
    if _in_order(s1, core) and _in_order(s2, core):
        return f"{_expand(a, s1, core)} * {_expand(b, s2, core)}"
    flipped = core[::-1]  # a matrix: the product in the other order, transposed
    if len(core) == 2 and _in_order(s1, flipped) and _in_order(s2, flipped):
        return f"({_expand(a, s1, flipped)} * {_expand(b, s2, flipped)}).T"
    return None


def _in_order(s: str, core: str) -> bool:
    """``s`` is ``core`` with some labels left out (no label repeated, none moved)."""
    positions = [core.find(c) for c in s]
    return len(set(s)) == len(s) and positions == sorted(positions)


def _expand(x: str, s: str, labels: str) -> str:
    """``x`` (axes ``s``, in the order of ``labels``) indexed with ``None`` for the labels it lacks."""
    index = [":" if c in s else "None" for c in labels]
    while index and index[0] == "None":  # numpy adds leading axes itself
        index.pop(0)
    while index and index[-1] == ":":
        index.pop()
    return f"{_atom(x)}[{', '.join(index)}]" if index else x


def embed_code(value: str, core: str, s3: str, dims: Sequence[str], dtype: np.dtype[Any] = FLOAT64) -> str:
    """``value`` (labels ``core``) broadcast and placed on the diagonals that ``s3`` repeats."""
    unique = "".join(dict.fromkeys(s3))
    shape = tuple_code(dims)
    typed = "" if dtype == FLOAT64 else f", dtype=np.{dtype}"
    number = _float(value)
    if unique == s3 and number is not None and not core:
        if number in (0.0, 1.0):
            return f"np.{'ones' if number else 'zeros'}({shape}{typed})"
        return f"np.full({shape}, {value}{typed})"
    if unique == s3:
        return f"np.broadcast_to({_expand(value, core, s3)}, {shape})"
    if len(s3) == 2 and core == s3[0]:
        return f"np.diag({value})"
    if len(s3) == 2 and not core and number is not None and math.isfinite(number):
        eye = f"np.eye({dims[0]}{typed})"
        return eye if number == 1.0 else f"{value} * {eye}"
    return f'_embed({_expand(value, core, unique)}, "{s3}->{unique}", {shape})'


def tuple_code(items: Sequence[str]) -> str:
    """A tuple literal: ``(n,)`` for one item."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def scaled(scale: complex, value: str) -> str:
    """``scale * value``, folded into a number, a minus sign, or nothing."""
    number = _float(value)
    if number is not None:
        return number_code(scale * number)
    if scale == 1.0:
        return value
    if scale == -1.0:
        return f"-{_atom(value)}"
    return f"{number_code(scale)} * {_atom(value)}"


def _float(code: str) -> float | None:
    """The value of ``code`` if it is a float literal (``1.0``, ``-2.5``), else None."""
    body = ast.parse(code, mode="eval").body
    negative = isinstance(body, ast.UnaryOp) and isinstance(body.op, ast.USub)
    literal = body.operand if isinstance(body, ast.UnaryOp) and negative else body
    if isinstance(literal, ast.Constant) and isinstance(literal.value, float):
        return -literal.value if negative else literal.value
    return None


def _atom(code: str) -> str:
    """``code`` in parentheses unless it is a name, call, attribute or subscript."""
    body = ast.parse(code, mode="eval").body
    return code if isinstance(body, (ast.Name, ast.Call, ast.Attribute, ast.Subscript)) else f"({code})"


def _factor(code: str) -> str:
    """``code`` as an operand of ``*``: a number or product stays bare (``*`` associates)."""
    if _float(code) is not None:
        return code
    body = ast.parse(code, mode="eval").body
    is_product = isinstance(body, ast.BinOp) and isinstance(body.op, ast.Mult)
    return code if is_product else _atom(code)


def number_code(value: object) -> str:
    """A Python literal for a number, ``np.inf`` and ``np.nan`` included, complex as ``complex(re, im)``.

    >>> number_code(float("-inf")), number_code(complex(1.0, float("nan"))), number_code(0.5)
    ('-np.inf', 'complex(1.0, np.nan)', '0.5')
    """
    if isinstance(value, complex):
        return f"complex({number_code(value.real)}, {number_code(value.imag)})"
    if not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    number = float(value)
    if math.isnan(number):
        return "np.nan"
    if math.isinf(number):
        return "np.inf" if number > 0 else "-np.inf"
    return repr(number)
