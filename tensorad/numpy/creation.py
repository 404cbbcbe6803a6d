"""Arrays made from others: ``asarray``, ``array``, ``copy``, ``zeros_like``, ``ones_like``,
``full_like``. tensorad values are immutable, so a copy is the value itself."""

from __future__ import annotations

from typing import Any

from tensorad._types import DTypeArg
from tensorad.ir.build import broadcast_to
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.nodes import Node
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.phrases import shared


@shared
def asarray(a: object, dtype: DTypeArg = None, order: str | None = None, **unsupported: Any) -> Node:
    """``numpy.asarray``: ``a`` as an array (an expression stays itself).

    Args:
        a: {a}
        dtype: {cast}
        order: numpy's memory layout: accepted and ignored.
        **unsupported: {unsupported}

    Returns:
        ``a`` itself when it is an expression of that dtype: {tensor}.

    Examples:
        >>> import tensorad as ta
        >>> ta.numpy.asarray([1.0, 2.0])
        array([1., 2.])
    """
    refuse("asarray", **unsupported)
    return cast(as_node(a), dtype)


@shared
def array(object: object, dtype: DTypeArg = None, *, copy: bool = True, **unsupported: Any) -> Node:  # noqa: A002
    """``numpy.array``: as :func:`asarray` (a copy of an immutable value is the value).

    Args:
        object: {a}
        dtype: the dtype of the result (default: ``object``'s); a cast, differentiable
            between float and complex dtypes.
        copy: numpy's copy flag: accepted; a copy changes nothing.
        **unsupported: {unsupported}

    Returns:
        The value: {tensor}.

    Examples:
        >>> import tensorad as ta
        >>> ta.numpy.array([[1.0], [2.0]]).shape
        (2, 1)
    """
    refuse("array", **unsupported)
    return cast(as_node(object), dtype)


@shared
def copy(a: object, order: str = "K", subok: bool = False) -> Node:
    """``numpy.copy``: the value itself (tensorad values are never written to).

    Args:
        a: {a}
        order: numpy's memory layout: accepted and ignored.
        subok: numpy's subclass flag: accepted and ignored.

    Returns:
        ``a``'s value: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.copy(np.array([1.0]))
        array([1.])
    """
    return as_node(a)


@shared
def full_like(a: object, fill_value: complex, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.full_like``: ``fill_value`` everywhere, in ``a``'s shape (a constant).

    Args:
        a: {a} Only its shape and dtype are used.
        fill_value: the value of every entry, converted to the dtype.
        dtype: the dtype of the result (default: ``a``'s).
        **unsupported: {unsupported}

    Returns:
        A constant of ``a``'s shape, with no derivative: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.full_like(np.zeros(2), 7.0)
        array([7., 7.])
    """
    refuse("full_like", **unsupported)
    x = cast(as_node(a), dtype)
    return broadcast_to(scalar(fill_value, x.dtype), x.shape)


@shared
def zeros_like(a: object, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.zeros_like``: zeros in ``a``'s shape (a constant, no derivative).

    Args:
        a: {a} Only its shape and dtype are used.
        dtype: the dtype of the result (default: ``a``'s).
        **unsupported: {unsupported}

    Returns:
        Zeros of ``a``'s shape: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.zeros_like(np.ones((1, 2)))
        array([[0., 0.]])
    """
    refuse("zeros_like", **unsupported)
    return full_like(a, 0.0, dtype)


@shared
def ones_like(a: object, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.ones_like``: ones in ``a``'s shape (a constant, no derivative).

    Args:
        a: {a} Only its shape and dtype are used.
        dtype: the dtype of the result (default: ``a``'s).
        **unsupported: {unsupported}

    Returns:
        Ones of ``a``'s shape: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.ones_like(np.zeros(2))
        array([1., 1.])
    """
    refuse("ones_like", **unsupported)
    return full_like(a, 1.0, dtype)
