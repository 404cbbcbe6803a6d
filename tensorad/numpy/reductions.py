"""Reductions along axes with numpy's arguments: the statistics, running sums and products,
positions and truth values, built on the five basic reductions of :mod:`tensorad.numpy.totals`
(``sum``, ``mean``, ``max``, ``min``, ``prod``), which this module exports as well.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from tensorad._types import DTypeArg
from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir import constants
from tensorad.ir.build import astype
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, call
from tensorad.numpy.arithmetic import add, compare, counts, divide, multiply
from tensorad.numpy.arithmetic import where as where_
from tensorad.numpy.axes import Axes, normalize_axes, reshape
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.indexing import pad
from tensorad.numpy.phrases import shared
from tensorad.numpy.totals import average
from tensorad.numpy.totals import max as max  # noqa: A004  (numpy's names)
from tensorad.numpy.totals import mean as mean
from tensorad.numpy.totals import min as min  # noqa: A004
from tensorad.numpy.totals import prod as prod
from tensorad.numpy.totals import sum as sum  # noqa: A004

# ------------------------------------------------------------------ moments


@shared
def var(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: object = None,
    mean: object = None,
    correction: float | None = None,
) -> Node:
    """``numpy.var``: the mean of the squared deviations from the mean, divided by
    ``N − ddof`` instead of ``N`` when ``ddof`` (or its alias ``correction``) is given
    (``N − ddof ≤ 0`` gives inf or nan, as numpy; ``where=`` and ``mean=`` are not supported).

    Args:
        a: {a}
        axis: {axes}
        dtype: {dtype}
        out: {out}
        ddof: the "delta degrees of freedom": 1 for the unbiased estimate.
        keepdims: {keepdims}
        where: numpy's mask: only ``None``, else ``UnsupportedError``.
        mean: numpy's precomputed mean: only ``None``, else ``UnsupportedError``.
        correction: the Array API's name for ``ddof``; give one or the other.

    Returns:
        The variances, of ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        OperandTypeError: both ``ddof`` and ``correction`` are given.
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.var(np.array([1.0, 2.0, 4.0])), tnp.var(np.array([1.0, 2.0, 4.0]), ddof=1)
        (array(1.55555556), array(2.33333333))
    """
    refuse("var", out, **{key: value for key, value in (("where", where), ("mean", mean)) if value is not None})
    if correction is not None:
        if ddof != 0:
            raise OperandTypeError("var: ddof and correction are one argument; give one of them")
        ddof = correction
    x = counts(cast(as_node(a), dtype))
    axes = normalize_axes(axis, x.ndim)
    deviation = add(x, multiply(-1.0, average(x, axis=axes, keepdims=True)))
    count = math.prod(x.shape[k] for k in axes) - ddof
    total = sum(multiply(deviation, deviation), axis=axes, keepdims=keepdims)
    return divide(total, float(builtins.max(count, 0)))


@shared
def std(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    ddof: float = 0,
    keepdims: bool = False,
    *,
    where: object = None,
    mean: object = None,
    correction: float | None = None,
) -> Node:
    """``numpy.std``: the square root of :func:`var`. Its derivative is infinite where the
    variance is 0 (constant data), so the gradient there is nan, as in JAX.

    Args:
        a: {a}
        axis: {axes}
        dtype: {dtype}
        out: {out}
        ddof: the "delta degrees of freedom", as for :func:`var`.
        keepdims: {keepdims}
        where: numpy's mask: only ``None``, else ``UnsupportedError``.
        mean: numpy's precomputed mean: only ``None``, else ``UnsupportedError``.
        correction: the Array API's name for ``ddof``; give one or the other.

    Returns:
        The standard deviations, of ``a``'s shape without the reduced axes: {tensor}.

    Raises:
        OperandTypeError: both ``ddof`` and ``correction`` are given.
        ShapeError: {axis_error}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.std(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=1)
        array([1., 0.])
    """
    return call("sqrt", var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


# ------------------------------------------------------------------ running sums and products


@shared
def cumsum(a: object, axis: int | None = None, dtype: DTypeArg = None, out: None = None) -> Node:
    """``numpy.cumsum``: running sums along ``axis`` (of the flattened array when None).
    Linear: its pullback is the running sum from the end (proofs.cumsum).

    Args:
        a: {a}
        axis: one axis (not a tuple, as in numpy), or ``None`` to flatten ``a`` first.
        dtype: {dtype}
        out: {out}

    Returns:
        The running sums, of ``a``'s shape (1-d when ``axis`` is ``None``): {tensor}.

    Raises:
        OperandTypeError: ``axis`` is not an integer.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.cumsum(np.array([1.0, 2.0, 3.0]))
        array([1., 3., 6.])
        >>> ta.grad(lambda x: tnp.cumsum(x).sum())(np.zeros(3))
        array([3., 2., 1.])
    """
    refuse("cumsum", out)
    x = counts(cast(as_node(a), dtype))
    if axis is None:
        x, axis = reshape(x, -1), 0
    k = _one_axis("cumsum", axis, x.ndim)
    return apply("cumsum", x, (k,)) if x.shape[k] > 1 else x


@shared
def cumprod(a: object, axis: int | None = None, dtype: DTypeArg = None, out: None = None) -> Node:
    """``numpy.cumprod``: running products along ``axis`` (of the flattened array when None).

    Built by doubling (``y ← y ⊙ shift(y, 2ᵏ)``, the shifted-in entries 1): entrywise
    products only, so every derivative is the product rule's, exact at zeros. The
    products are associated differently from numpy's left-to-right loop, so values can
    differ from numpy's in the last bits, and where a partial product overflows in one
    order but not the other they differ outright (``[1e200, 1e200, 1e-200]``: numpy's last
    entry is ``inf``, tensorad's ``1e200``, the exact product).

    Args:
        a: {a}
        axis: one axis (not a tuple, as in numpy), or ``None`` to flatten ``a`` first.
        dtype: {dtype}
        out: {out}

    Returns:
        The running products, of ``a``'s shape (1-d when ``axis`` is ``None``): {tensor}.

    Raises:
        OperandTypeError: ``axis`` is not an integer.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.cumprod(np.array([1.0, 2.0, 3.0, 4.0]))
        array([ 1.,  2.,  6., 24.])
        >>> ta.grad(lambda x: tnp.cumprod(x)[-1])(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    refuse("cumprod", out)
    x = counts(cast(as_node(a), dtype))
    if axis is None:
        x, axis = reshape(x, -1), 0
    k = _one_axis("cumprod", axis, x.ndim)
    n, step = x.shape[k], 1
    while step < n:
        head = tuple(slice(0, n - step) if j == k else slice(None) for j in range(x.ndim))
        widths = [(step, 0) if j == k else (0, 0) for j in range(x.ndim)]
        x = multiply(x, pad(x[head], widths, constant_values=1.0))
        step *= 2
    return x


# ------------------------------------------------------------------ positions and truth values


def _position(name: str, a: object, axis: int | None, keepdims: bool) -> Node:
    """The first position of the extremum along ``axis`` (a nan counts as the extremum,
    as in numpy): the smallest index where the entry equals the max (min) or is nan, as
    an int64 value without a derivative."""
    x = counts(as_node(a))
    if axis is None:
        x, axis = reshape(x, -1), 0
    (k,) = normalize_axes(axis, x.ndim)
    n = x.shape[k]
    if n == 0:
        raise ShapeError(f"attempt to get {name} of an empty sequence")
    extreme = (max if name == "argmax" else min)(x, axis=k, keepdims=True)
    hits = where_(compare("equal", x, extreme), True, compare("not_equal", x, x))
    places = np.arange(n, dtype=np.float64).reshape([-1 if j == k else 1 for j in range(x.ndim)])
    first = min(where_(hits, places, float(n)), axis=k, keepdims=keepdims)
    return astype(first, np.dtype(np.int64))


@shared
def argmax(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``numpy.argmax``: the index of the first largest entry along ``axis`` (of the
    flattened array when None), an integer with no derivative.

    Args:
        a: {a}
        axis: one axis, or ``None`` for the index into the flattened ``a``.
        out: {out}
        keepdims: {keepdims}

    Returns:
        The int64 indices, of ``a``'s shape without ``axis``: {tensor}. A nan counts as
        the largest entry, as in numpy.

    Raises:
        ShapeError: the axis is empty (numpy's ``ValueError``).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.argmax(np.array([[1.0, 5.0, 5.0], [7.0, 2.0, np.nan]]), axis=1)
        array([1, 2])
    """
    refuse("argmax", out)
    return _position("argmax", a, axis, keepdims)


@shared
def argmin(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``numpy.argmin``: the index of the first smallest entry, as :func:`argmax`.

    Args:
        a: {a}
        axis: one axis, or ``None`` for the index into the flattened ``a``.
        out: {out}
        keepdims: {keepdims}

    Returns:
        The int64 indices, of ``a``'s shape without ``axis``: {tensor}.

    Raises:
        ShapeError: the axis is empty (numpy's ``ValueError``).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.argmin(np.array([3.0, 1.0, 1.0]))
        array(1)
    """
    refuse("argmin", out)
    return _position("argmin", a, axis, keepdims)


def _one_axis(name: str, axis: object, ndim: int) -> int:
    """``axis`` as one axis: numpy's running sums and products take no tuple."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise OperandTypeError(f"{name}: axis must be an integer, got {axis!r}")
    return normalize_axes(int(axis), ndim)[0]


def _truth(name: str, a: object, axis: Axes, keepdims: bool) -> Node:
    x = as_node(a)
    nonzero = x if x.dtype.kind == "b" else compare("not_equal", x, 0.0)
    if not nonzero.ndim:
        return nonzero
    axes = normalize_axes(axis, x.ndim)
    if builtins.any(x.shape[k] == 0 for k in axes):  # numpy: any of nothing is False, all of nothing True
        kept = (
            tuple(1 if k in axes else n for k, n in enumerate(x.shape))
            if keepdims
            else tuple(n for k, n in enumerate(x.shape) if k not in axes)
        )
        return constants.constant(np.full(kept, name == "all"))
    found = (max if name == "any" else min)(nonzero, axis=axis, keepdims=keepdims)
    return compare("greater", found, 0.0)


@shared
def any(a: object, axis: Axes = None, out: None = None, keepdims: bool = False, *, where: object = None) -> Node:  # noqa: A001
    """``numpy.any``: a mask, true where some entry along ``axis`` is nonzero (nan counts).

    Args:
        a: {a}
        axis: {axes}
        out: {out}
        keepdims: {keepdims}
        where: numpy's mask: only ``None``, else ``UnsupportedError``.

    Returns:
        A boolean mask (False over an empty axis), without a derivative: {tensor}.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.any(np.array([[0.0, 0.0], [0.0, 2.0]]), axis=1)
        array([False,  True])
    """
    refuse("any", out, **({} if where is None else {"where": where}))
    return _truth("any", a, axis, keepdims)


@shared
def all(a: object, axis: Axes = None, out: None = None, keepdims: bool = False, *, where: object = None) -> Node:  # noqa: A001
    """``numpy.all``: a mask, true where every entry along ``axis`` is nonzero.

    Args:
        a: {a}
        axis: {axes}
        out: {out}
        keepdims: {keepdims}
        where: numpy's mask: only ``None``, else ``UnsupportedError``.

    Returns:
        A boolean mask (True over an empty axis), without a derivative: {tensor}.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.all(np.array([[1.0, 0.0], [1.0, 2.0]]), axis=1)
        array([False,  True])
    """
    refuse("all", out, **({} if where is None else {"where": where}))
    return _truth("all", a, axis, keepdims)


@shared
def count_nonzero(a: object, axis: Axes = None, *, keepdims: bool = False) -> Node:
    """``numpy.count_nonzero``: how many entries along ``axis`` are nonzero (int64).

    Args:
        a: {a}
        axis: {axes}
        keepdims: {keepdims}

    Returns:
        The int64 counts, without a derivative: {tensor}.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.count_nonzero(np.array([[1.0, 0.0], [np.nan, 2.0]]), axis=0)
        array([2, 1])
    """
    x = as_node(a)
    nonzero = x if x.dtype.kind == "b" else compare("not_equal", x, 0.0)
    return astype(sum(nonzero, axis=axis, keepdims=keepdims), np.dtype(np.int64))
