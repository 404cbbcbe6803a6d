"""Reductions along axes: ``sum``, ``mean``, ``max``, ``min``, ``prod``, with numpy's arguments.

``sum`` and ``mean`` are unary contractions (they dissolve into the products around
them); ``max`` and ``min`` are general unary functions whose derivative goes to the
extremum, split equally among ties as in JAX (:mod:`tensorad.library.reductions`).
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from tensorad._types import DTypeArg
from tensorad.errors import OperandTypeError, ShapeError, UnsupportedError
from tensorad.ir import constants
from tensorad.ir.build import astype, broadcast_to, contract
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library.registry import apply, call
from tensorad.numpy.arithmetic import add, compare, counts, divide, multiply
from tensorad.numpy.arithmetic import where as where_
from tensorad.numpy.axes import Axes, expand_dims, normalize_axes, reshape, transpose
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.indexing import pad


def sum(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.sum`` over ``axis`` (all axes by default).

    ``initial`` is added to each sum and ``where`` (a mask) leaves entries out, as in numpy.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> M = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.sum(M), ta.sum(M, axis=0), ta.sum(M, axis=1, keepdims=True).shape
        (array(10.), array([4., 6.]), (2, 1))
        >>> ta.sum(M, where=M > 1.5, initial=10.0)
        array(19.)
        >>> print(ta.sum(ta.Variable("x", (2, 3)), axis=0))
        sum_j(x[j,i])
    """
    x = _entries("sum", a, dtype, out, where, 0.0)
    axes = normalize_axes(axis, x.ndim)
    labels = fresh_labels(x.ndim)
    if not keepdims:
        total = contract(x, labels, None, "", "".join(label for k, label in enumerate(labels) if k not in axes))
    else:
        ones = fresh_labels(x.ndim, labels)
        kept = "".join(ones[k] if k in axes else label for k, label in enumerate(labels))
        total = contract(x, labels, None, "", kept, sizes=dict.fromkeys(ones, 1))
    return total if initial is None else add(total, initial)


def mean(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    *,
    where: object = None,
) -> Node:
    """``numpy.mean`` over ``axis``; with ``where``, the mean of the entries it keeps.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.mean(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([1.5, 3.5])
        >>> ta.grad(ta.mean)(np.zeros(4))
        array([0.25, 0.25, 0.25, 0.25])
    """
    refuse("mean", out)
    x = counts(cast(as_node(a), dtype))
    if where is not None:
        kept = _mask("mean", where)
        ones = broadcast_to(scalar(1.0, x.dtype), x.shape)
        return divide(sum(x, axis, keepdims=keepdims, where=kept), sum(ones, axis, keepdims=keepdims, where=kept))
    count = math.prod(x.shape[k] for k in normalize_axes(axis, x.ndim))
    return divide(sum(x, axis, keepdims=keepdims), float(count))  # numpy divides the sum


average = mean  # for var, whose parameter ``mean`` (numpy's) hides the function


def _extreme(name: str, a: object, axis: Axes, out: None, keepdims: bool, initial: float | None, where: object) -> Node:
    refuse(name, out)
    x = counts(as_node(a))
    if where is not None:
        if initial is None:
            raise UnsupportedError(f"{name} with where= needs initial= (as in numpy)")
        x = where_(_mask(name, where), x, initial)
    axes = normalize_axes(axis, x.ndim)
    if builtins.any(x.shape[k] == 0 for k in axes):
        if initial is None:
            raise UnsupportedError(f"{name} of an empty axis has no value: pass initial= (as in numpy)")
        kept = tuple(n for k, n in enumerate(x.shape) if k not in axes)
        result = broadcast_to(scalar(float(initial), x.dtype), kept)  # numpy: initial, no derivative
    else:
        result = apply(name, x, (axes,)) if axes else x
        if initial is not None:
            # initial where it beats the result; the result where it ties, or is nan (as numpy)
            bound = broadcast_to(scalar(float(initial), result.dtype), result.shape)
            beaten = compare("less" if name == "max" else "greater", result, bound)
            result = where_(beaten, bound, result)
    return expand_dims(result, axes) if keepdims and axes else result


def _entries(name: str, a: object, dtype: DTypeArg, out: None, where: object, neutral: float) -> Node:
    """What a sum or product reduces: ``a`` in ``dtype`` (a mask counts: float64, where
    numpy's sum gives int64), the entries ``where`` leaves out set to ``neutral`` (selected,
    never multiplied: an excluded inf stays out)."""
    refuse(name, out)
    x = counts(cast(as_node(a), dtype))
    return x if where is None else where_(_mask(name, where), x, neutral)


def _mask(name: str, where: object) -> Node:
    """numpy's ``where=`` argument: a boolean mask (numpy refuses anything else)."""
    mask = where if isinstance(where, NODE_TYPES) else constants.constant(np.asarray(where))
    if mask.dtype.kind != "b":
        raise OperandTypeError(f"{name}: where= must be a boolean mask, got dtype {mask.dtype}")
    return mask


def max(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.max`` over ``axis`` (all axes by default).

    The derivative goes to the maximal entry, split equally among ties (as in JAX).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.max(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=1)
        array([5., 7.])
        >>> ta.grad(lambda x: ta.max(x))(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
    """
    return _extreme("max", a, axis, out, keepdims, initial, where)


def min(  # noqa: A001  (numpy's name)
    a: object,
    axis: Axes = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.min`` over ``axis`` (all axes by default); the derivative as for :func:`max`.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.min(np.array([[1.0, 5.0], [7.0, 2.0]]), axis=0, keepdims=True)
        array([[1., 2.]])
    """
    return _extreme("min", a, axis, out, keepdims, initial, where)


def prod(
    a: object,
    axis: Axes = None,
    dtype: DTypeArg = None,
    out: None = None,
    keepdims: bool = False,
    initial: float | None = None,
    where: object = None,
) -> Node:
    """``numpy.prod`` over ``axis`` (all axes by default).

    Built as a balanced tree of entrywise products of halves (an odd length padded with
    a 1), so every derivative, to any order, is the product rule's: exact at zeros, where
    dividing the product by an entry would give ``0/0``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.prod(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), axis=1)
        array([  6., 120.])
        >>> ta.grad(tnp.prod)(np.array([2.0, 0.0, 3.0]))     # the product of the others
        array([0., 6., 0.])
    """
    x = _entries("prod", a, dtype, out, where, 1.0)
    axes = normalize_axes(axis, x.ndim)
    kept = [k for k in range(x.ndim) if k not in axes]
    rest = tuple(x.shape[k] for k in kept)
    n = math.prod(x.shape[k] for k in axes)
    rows = apply("reshape", transpose(x, kept + list(axes)), ((*rest, n),))
    while n > 1:
        if n % 2:
            rows = pad(rows, [(0, 0)] * len(rest) + [(0, 1)], constant_values=1.0)
            n += 1
        pairs = apply("reshape", rows, ((*rest, n // 2, 2),))
        rows = multiply(pairs[..., 0], pairs[..., 1])
        n //= 2
    result = rows[..., 0] if n == 1 else broadcast_to(scalar(1.0, x.dtype), rest)  # an empty product is 1
    if initial is not None:
        result = multiply(result, initial)
    return expand_dims(result, axes) if keepdims and axes else result


# ------------------------------------------------------------------ moments


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

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.std(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=1)
        array([1., 0.])
    """
    return call("sqrt", var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


# ------------------------------------------------------------------ running sums and products


def cumsum(a: object, axis: int | None = None, dtype: DTypeArg = None, out: None = None) -> Node:
    """``numpy.cumsum``: running sums along ``axis`` (of the flattened array when None).
    Linear: its pullback is the running sum from the end (proofs.cumsum).

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


def cumprod(a: object, axis: int | None = None, dtype: DTypeArg = None, out: None = None) -> Node:
    """``numpy.cumprod``: running products along ``axis`` (of the flattened array when None).

    Built by doubling (``y ← y ⊙ shift(y, 2ᵏ)``, the shifted-in entries 1): entrywise
    products only, so every derivative is the product rule's, exact at zeros. The
    products are associated differently from numpy's left-to-right loop, so values can
    differ from numpy's in the last bits, and where a partial product overflows in one
    order but not the other they differ outright (``[1e200, 1e200, 1e-200]``: numpy's last
    entry is ``inf``, tensorad's ``1e200``, the exact product).

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


def argmax(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``numpy.argmax``: the index of the first largest entry along ``axis`` (of the
    flattened array when None), an integer with no derivative.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.argmax(np.array([[1.0, 5.0, 5.0], [7.0, 2.0, np.nan]]), axis=1)
        array([1, 2])
    """
    refuse("argmax", out)
    return _position("argmax", a, axis, keepdims)


def argmin(a: object, axis: int | None = None, out: None = None, *, keepdims: bool = False) -> Node:
    """``numpy.argmin``: the index of the first smallest entry, as :func:`argmax`.

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
        kept = tuple(1 if k in axes else n for k, n in enumerate(x.shape)) if keepdims else tuple(
            n for k, n in enumerate(x.shape) if k not in axes
        )
        return constants.constant(np.full(kept, name == "all"))
    found = (max if name == "any" else min)(nonzero, axis=axis, keepdims=keepdims)
    return compare("greater", found, 0.0)


def any(a: object, axis: Axes = None, out: None = None, keepdims: bool = False, *, where: object = None) -> Node:  # noqa: A001
    """``numpy.any``: a mask, true where some entry along ``axis`` is nonzero (nan counts).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.any(np.array([[0.0, 0.0], [0.0, 2.0]]), axis=1)
        array([False,  True])
    """
    refuse("any", out, **({} if where is None else {"where": where}))
    return _truth("any", a, axis, keepdims)


def all(a: object, axis: Axes = None, out: None = None, keepdims: bool = False, *, where: object = None) -> Node:  # noqa: A001
    """``numpy.all``: a mask, true where every entry along ``axis`` is nonzero.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.all(np.array([[1.0, 0.0], [1.0, 2.0]]), axis=1)
        array([False,  True])
    """
    refuse("all", out, **({} if where is None else {"where": where}))
    return _truth("all", a, axis, keepdims)


def count_nonzero(a: object, axis: Axes = None, *, keepdims: bool = False) -> Node:
    """``numpy.count_nonzero``: how many entries along ``axis`` are nonzero (int64).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.count_nonzero(np.array([[1.0, 0.0], [np.nan, 2.0]]), axis=0)
        array([2, 1])
    """
    x = as_node(a)
    nonzero = x if x.dtype.kind == "b" else compare("not_equal", x, 0.0)
    return astype(sum(nonzero, axis=axis, keepdims=keepdims), np.dtype(np.int64))
