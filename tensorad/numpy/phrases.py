"""The sentences the numpy-named functions' docstrings share, written once.

Many functions take numpy's ``a``, ``axis``, ``out``, ``dtype`` and ``keepdims`` and return
an array or an expression; their ``Args:`` and ``Returns:`` sections name each shared item
as a field (``{axis}``), and :func:`shared` fills it in when the module is imported (the way
:mod:`tensorad.numpy.ufuncs` generates its sections), so the wording cannot drift.

>>> from tensorad.numpy.phrases import shared
>>> @shared
... def f(a: object) -> object:
...     '''Args:
...         a: {a}
...     '''
>>> f.__doc__.split("a: ")[1].strip()
'an array, a number, a nested list of them, or an expression.'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

PHRASES = {
    "a": "an array, a number, a nested list of them, or an expression.",
    "axes": "an axis, a tuple of axes, or ``None`` for all of them (negative ones count from the end, as in numpy).",
    "out": "numpy's output array: only ``None`` (tensorad values are immutable), else ``UnsupportedError``.",
    "dtype": "compute in this dtype, as numpy's ``dtype=`` (default: ``a``'s; booleans and integers count as float64).",
    "keepdims": "keep each reduced axis with size 1, so that the result broadcasts against ``a``.",
    "initial": "a number the reduction starts from (numpy's ``initial=``); ``None`` for none.",
    "where": "a boolean mask broadcast against ``a``: the entries it leaves out do not count (numpy's ``where=``).",
    "tensor": "an array when no argument is an expression (numpy use), else an expression (while tracing)",
    "axis_error": "an axis is out of range, or repeated.",
    "unsupported": "numpy's other arguments (``subok=``, ``like=`` …), refused by name: ``UnsupportedError``.",
    "square": "an array or expression of shape ``(…, n, n)``: a square matrix, or a stack of them.",
    "matrices": "an array or expression of shape ``(…, m, n)``: a matrix, or a stack of them.",
    "parts": "arrays when the argument is an array, else expressions (while tracing)",
    "not_square": "the last two axes are missing or not square.",
    "overwrite": "scipy's option to reuse the input's memory: accepted and ignored (tensorad never overwrites).",
    "check_finite": "scipy's check for inf and nan: accepted and ignored (they propagate, as with ``False``).",
    "activation_x": "an array, a number or an expression; booleans and integers count as float64.",
    "entrywise": "entry by entry, of ``x``'s shape",
    "cast": "the dtype of the result (default: ``a``'s); a cast, differentiable between float and complex dtypes.",
}
"""Each shared phrase by its field name."""

F = TypeVar("F", bound=Callable[..., Any])


def shared(fn: F) -> F:
    """``fn`` with the fields of its docstring (``{out}`` …) filled in from :data:`PHRASES`.

    Args:
        fn: a function whose docstring names shared phrases as format fields (and doubles
            any other brace).

    Returns:
        ``fn`` itself, its docstring filled in.

    Raises:
        KeyError: the docstring names a phrase that :data:`PHRASES` does not have.
    """
    fn.__doc__ = (fn.__doc__ or "").format_map(PHRASES)
    return fn
