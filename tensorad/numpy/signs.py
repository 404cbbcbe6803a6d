"""The linear ufuncs: ``negative`` and ``positive``, and the complex parts ``conj``,
``real`` and ``imag`` (:mod:`tensorad.numpy.ufuncs` exports them with the others).

tensorad differentiates holomorphic functions of complex arrays, whose derivative is a
complex-linear map; the conjugate and the parts of a complex array are not holomorphic,
so on a complex array they are refused rather than given a convention.
"""

from __future__ import annotations

from typing import Any

from tensorad._types import DTypeArg
from tensorad.errors import UnsupportedError
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.numpy import arithmetic, creation
from tensorad.numpy.eager import cast, eager, refuse
from tensorad.numpy.phrases import shared


@eager
@shared
def negative(x: object, /, out: None = None, *, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``-x``.

    Args:
        x: {a}
        out: {out}
        dtype: compute in this float or complex dtype, as numpy's ``dtype=`` (default: ``x``'s).
        **unsupported: numpy's other ufunc arguments (``where=``, ``casting=`` …), refused: ``UnsupportedError``.

    Returns:
        ``-x``, of ``x``'s shape: {tensor}.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.negative(np.array([1.0, -2.0]))
        array([-1.,  2.])
    """
    refuse("negative", out, **unsupported)
    return cast(arithmetic.multiply(-1.0, as_node(x)), dtype)


@eager
@shared
def positive(x: object, /, out: None = None, *, dtype: DTypeArg = None, **unsupported: Any) -> Node:
    """``+x``: ``x`` itself.

    Args:
        x: {a}
        out: {out}
        dtype: compute in this float or complex dtype, as numpy's ``dtype=`` (default: ``x``'s).
        **unsupported: numpy's other ufunc arguments (``where=``, ``casting=`` …), refused: ``UnsupportedError``.

    Returns:
        ``x``'s value (cast to ``dtype``): {tensor}.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.positive(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    refuse("positive", out, **unsupported)
    return cast(as_node(x), dtype)


def _real_only(name: str, x: object) -> Node:
    a = as_node(x)
    if a.dtype.kind == "c":
        raise UnsupportedError(
            f"{name} of a complex array: tensorad differentiates holomorphic functions of complex arrays, "
            f"and {name} is not holomorphic"
        )
    return a


@eager
@shared
def conj(x: object, /, out: None = None, **unsupported: Any) -> Node:
    """The complex conjugate: ``x`` itself for real ``x``; refused for complex ``x``.

    tensorad differentiates holomorphic functions of complex arrays (their derivative is
    a complex-linear map); the conjugate is not one, so it is refused rather than given a
    convention.

    Args:
        x: {a} Real.
        out: {out}
        **unsupported: numpy's other ufunc arguments, refused: ``UnsupportedError``.

    Returns:
        ``x``'s value: {tensor}.

    Raises:
        UnsupportedError: ``x`` is complex.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.conj(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    refuse("conj", out, **unsupported)
    return _real_only("conj", x)


conjugate = conj


@eager
@shared
def real(val: object) -> Node:
    """The real part: ``x`` itself for real ``x``; refused for complex ``x`` (see :func:`conj`).

    Args:
        val: {a} Real.

    Returns:
        ``val``'s value: {tensor}.

    Raises:
        UnsupportedError: ``val`` is complex.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.real(np.array([1.0, -2.0]))
        array([ 1., -2.])
    """
    return _real_only("real", val)


@eager
@shared
def imag(val: object) -> Node:
    """The imaginary part: zeros for real ``x``; refused for complex ``x`` (see :func:`conj`).

    Args:
        val: {a} Real.

    Returns:
        Zeros of ``val``'s shape and dtype, a constant: {tensor}.

    Raises:
        UnsupportedError: ``val`` is complex.

    Examples:
        >>> import numpy as np, tensorad.numpy as tnp
        >>> tnp.imag(np.array([1.0, -2.0]))
        array([0., 0.])
    """
    return creation.zeros_like(_real_only("imag", val))
