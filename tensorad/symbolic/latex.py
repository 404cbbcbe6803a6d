"""LaTeX index notation: the printer of :mod:`tensorad.symbolic.printing` with LaTeX's
notation (subscripts, ``\\sum``, ``\\frac``, ``\\operatorname``); what ``expr.to_latex()`` gives."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from tensorad.ir.nodes import Node
from tensorad.symbolic.notation import _INFIX, format_number, static_arguments
from tensorad.symbolic.printing import LIMIT, _Printer

_LATEX_FUNCTIONS = {
    **{fn: f"\\{fn}" for fn in ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "det")},
    "sigmoid": r"\sigma",
    "logdet": r"\log\det",
}


def _tex_name(fn: str) -> str:
    r"""A function's name inside ``\operatorname``: ``log_softmax`` → ``log\_softmax``."""
    return fn.replace("_", r"\_")


def _index(name: str) -> str:
    """An index in LaTeX: ``k2`` (a generated name) as ``k_{2}``; a word, an axis' name such
    as ``n_batch``, upright with its underscores escaped."""
    if len(name) == 1 or re.fullmatch(r"[a-z]\d+", name):
        return re.sub(r"(\d+)", r"_{\1}", name)
    return r"\mathrm{" + name.replace("_", r"\_") + "}"


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
        return base + "_{" + " ".join(_index(n) for n in names) + "}"

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
            return f"{{{base}}}^{{{format_number(2.0 if param is None else param)}}}"
        if fn == "rpow":
            base = format_number(math.nan if param is None else param)
            return f"{{{base if not base.startswith('-') else self.paren(base)}}}^{{{arg}}}"
        if fn == "sqrt":
            return rf"\sqrt{{{arg}}}"
        if fn == "abs":
            return rf"\left|{arg}\right|"
        if fn == "reciprocal":
            return rf"\frac{{1}}{{{arg}}}"
        name = _LATEX_FUNCTIONS.get(fn, rf"\operatorname{{{_tex_name(fn)}}}")
        if param is not None:  # sinc⁽ᵏ⁾, or a user function's constant
            if fn == "sinc":
                return f"{name}^{{({int(param)})}}" + self.paren(arg)
            return name + self.paren(f"{arg}, {format_number(param)}")
        return name + self.paren(arg)

    def pointwise(self, fn: str, args: list[str]) -> str:
        if fn == "divide":
            return rf"\frac{{{args[0]}}}{{{args[1]}}}"
        if fn == "power":
            base, exponent = args
            return f"{{{self.paren(base)}}}^{{{exponent}}}"
        if fn in _INFIX:
            return super().pointwise(fn, args)
        return rf"\operatorname{{{_tex_name(fn)}}}" + self.paren(", ".join(args))

    def where(self, head: str, body: str) -> str:
        return rf" \quad \text{{where}} \quad {head} = {body}"

    def divided(self, numerator: str, denominators: list[str]) -> str:
        return (
            rf"\frac{{{numerator}}}{{{' '.join(self.paren(d) if len(denominators) > 1 else d for d in denominators)}}}"
        )

    def over(self, fn: str, arg: str, labels: list[str]) -> str:
        head = _LATEX_FUNCTIONS.get(fn, rf"\operatorname{{{_tex_name(fn)}}}")
        return self.indexed(head, labels) + self.paren(arg)

    def general(self, fn: str, arg: str, params: tuple[object, ...], name: bool) -> str:
        head = _LATEX_FUNCTIONS.get(fn, rf"\operatorname{{{_tex_name(fn)}}}")
        extra = [rf"\mathrm{{{key}}}{{=}}{value}" if key else value for key, value in static_arguments(fn, params)]
        args = ", ".join([arg, *extra])
        return f"{head}({args})" if name else head + self.paren(args)


def latex(expr: Node, limit: int = LIMIT, shared: bool = False) -> str:
    r"""``expr`` in LaTeX index notation (what ``expr.to_latex()`` gives).

    Args:
        expr: the expression.
        limit: characters printed before the text is cut short with ``…``
            (:data:`tensorad.symbolic.printing.LIMIT`).
        shared: write a subexpression the text would repeat once, as ``\mathrm{t1}``,
            defined after ``\text{where}`` (as :func:`~tensorad.symbolic.printing.index_notation` does).

    Returns:
        LaTeX math without the ``$`` delimiters: sums as ``\sum``, indices as subscripts.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.latex import latex
        >>> x = ta.Variable("x", (3,))
        >>> print(latex(ta.derivative(ta.sigmoid(x), x)))
        \sigma\left(x_{i}\right) \left(1 - \sigma\left(x_{i}\right)\right) \delta_{ij}
    """
    return _Latex(limit, shared).top(expr)
