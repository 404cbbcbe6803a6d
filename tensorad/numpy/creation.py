"""Arrays made from others: ``asarray``, ``array``, ``copy``, ``zeros_like``, ``ones_like``,
``full_like``. tensorad values are immutable, so a copy is the value itself."""

from __future__ import annotations

from typing import Any

from tensorad._types import DTypeArg
from tensorad.ir.build import broadcast_to
from tensorad.ir.constants import as_node, scalar
from tensorad.ir.nodes import Node
from tensorad.numpy.eager import cast, refuse


def asarray(a: object, dtype: DTypeArg = None, order: str | None = None, **unsupported: Any) -> Node:
    """``numpy.asarray``: ``a`` as an array (an expression stays itself).

    Examples:
        >>> import tensorad as ta
        >>> ta.numpy.asarray([1.0, 2.0])
        array([1., 2.])
    """
    refuse("asarray", **unsupported)
    return cast(as_node(a), dtype)


def array(object: object, dtype: DTypeArg = None, *, copy: bool = True, **unsupported: Any) -> Node:  # noqa: A002
    """``numpy.array``: as :func:`asarray` (a copy of an immutable value is the value).

    Examples:
        >>> import tensorad as ta
        >>> ta.numpy.array([[1.0], [2.0]]).shape
        (2, 1)
    """
    refuse("array", **unsupported)
    return cast(as_node(object), dtype)


def copy(a: object, order: str = "K", subok: bool = False) -> Node:
    """``numpy.copy``: the value itself (tensorad values are never written to).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.copy(np.array([1.0]))
        array([1.])
    """
    return as_node(a)


def full_like(a: object, fill_value: complex, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.full_like``: ``fill_value`` everywhere, in ``a``'s shape (a constant).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.full_like(np.zeros(2), 7.0)
        array([7., 7.])
    """
    refuse("full_like", **unsupported)
    x = cast(as_node(a), dtype)
    return broadcast_to(scalar(fill_value, x.dtype), x.shape)


def zeros_like(a: object, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.zeros_like``: zeros in ``a``'s shape (a constant, no derivative).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.zeros_like(np.ones((1, 2)))
        array([[0., 0.]])
    """
    refuse("zeros_like", **unsupported)
    return full_like(a, 0.0, dtype)


def ones_like(a: object, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``numpy.ones_like``: ones in ``a``'s shape (a constant, no derivative).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.numpy.ones_like(np.zeros(2))
        array([1., 1.])
    """
    refuse("ones_like", **unsupported)
    return full_like(a, 1.0, dtype)
