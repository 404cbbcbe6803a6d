"""The notation the printers share: index names, numbers, a function's static arguments
and the infix comparisons (:mod:`tensorad.symbolic.printing`, :mod:`~tensorad.symbolic.latex`,
:mod:`~tensorad.symbolic.dot`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

_LETTERS = "ijklmnopqrstuvwxyzabcdefgh"
REDUCING = ("logsumexp", "norm", "max", "min")
"""The general unary functions that reduce the axes they are given (their value drops them)."""

_AXIS_PARAMS = ("softmax", "log_softmax", *REDUCING)
"""The general unary functions over the axes they are given."""


def index_names() -> Iterator[str]:
    """``i j … h i1 j1 … h1 i2 …``: :func:`index_name` of ``0, 1, 2, …``."""
    return map(index_name, itertools.count())


def index_name(k: int) -> str:
    """The ``k``-th index name: a letter, then a number from the second round on."""
    letter = _LETTERS[k % len(_LETTERS)]
    return letter if k < len(_LETTERS) else f"{letter}{k // len(_LETTERS)}"


def format_number(c: complex) -> str:
    if isinstance(c, complex) and c.imag:
        return f"({c.real:g}{c.imag:+g}j)"
    real = float(c.real)
    return str(int(real)) if real.is_integer() and abs(real) < 1e15 else f"{real:.12g}"


# --------------------------------------------------------------------------- the printers


def static_arguments(fn: str, params: tuple[object, ...]) -> list[tuple[str, str]]:
    """A general unary function's static arguments as ``(keyword, value)`` pairs."""
    if fn in _AXIS_PARAMS and params and isinstance(params[0], tuple):
        axes = params[0]
        return [("axis", str(axes[0] if len(axes) == 1 else axes))]
    if fn == "reshape" and params:
        return [("shape", str(params[0]))]
    if fn == "crop" and params and isinstance(params[0], tuple):
        return [("", "[" + ", ".join(f"{a}:{b}" for a, b in params[0]) + "]")]
    if fn == "pad" and params:
        return [("widths", str(params[0]))]
    if fn == "take" and len(params) == 2:
        return [("axis", str(params[0])), ("", repr(params[1]))]
    if fn == "scatter_add" and len(params) == 3:
        return [("axis", str(params[0])), ("", repr(params[1])), ("size", str(params[2]))]
    if fn == "concatenate" and params:
        return [("axis", str(params[0]))]
    return [("", repr(p)) for p in params]


_INFIX = {
    "equal": ("==", "="),
    "not_equal": ("!=", r"\neq"),
    "less": ("<", "<"),
    "less_equal": ("<=", r"\leq"),
    "greater": (">", ">"),
    "greater_equal": (">=", r"\geq"),
}
"""The comparisons, printed between their operands (plain text, LaTeX)."""


def labelled(fn: str, params: tuple[object, ...], names: list[str]) -> bool:
    """Whether a general unary prints as the expression language's ``fn(e, k)``: a function
    over axes (``softmax``, ``logsumexp``, ``norm``) whose value's indices are distinct (a
    diagonal of it is indexed instead)."""
    return (
        fn in _AXIS_PARAMS
        and len(params) == 1
        and isinstance(params[0], tuple)
        and len(params[0]) > 0
        and len(set(names)) == len(names)
    )
