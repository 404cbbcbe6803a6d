"""``tensorad.numpy.linalg``: numpy's linear algebra on traced values and arrays.

Each function works over the last two axes, batched over the leading ones, as numpy's
do; the derivative rules are matrix products, never an ``n⁴`` Jacobian
(:mod:`tensorad.library.linalg`).

>>> import numpy as np
>>> import tensorad.numpy as tnp
>>> tnp.linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 0.5]]))
SlogdetResult(sign=array(-1.), logabsdet=array(0.))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tensorad.errors import ShapeError, UnsupportedError
from tensorad.ir.build import broadcast_to
from tensorad.ir.constants import as_node, constant
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library import linalg as rules
from tensorad.library.registry import apply, call
from tensorad.library.spectral import eigen_rows
from tensorad.numpy import reductions
from tensorad.numpy.arithmetic import compare, power
from tensorad.numpy.axes import Axes, expand_dims, moveaxis, normalize_axes, swapaxes
from tensorad.numpy.eager import eager, values
from tensorad.numpy.eager import values as values_of
from tensorad.numpy.factorizations import (
    LstsqResult,
    QRResult,
    SVDResult,
    _svd_nodes,
    lstsq,
    pinv,
    qr,
    svd,
    svdvals,
)
from tensorad.numpy.functions import det, inv
from tensorad.numpy.phrases import shared
from tensorad.numpy.products import matmul

__all__ = [
    "EighResult",
    "LstsqResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "lstsq",
    "matrix_power",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
]


class SlogdetResult(NamedTuple):
    """``(sign, logabsdet)``, as ``numpy.linalg.slogdet`` returns them."""

    sign: Any
    logabsdet: Any


class EighResult(NamedTuple):
    """``(eigenvalues, eigenvectors)``, as ``numpy.linalg.eigh`` returns them."""

    eigenvalues: Any
    eigenvectors: Any


def _eigen(a: object, UPLO: str) -> tuple[Node, Node]:
    """The eigenvalues and eigenvectors of the symmetric matrix numpy reads from ``a``'s
    lower (``UPLO="L"``) or upper triangle, from one ``eigh`` node ``[V; w]``."""
    if UPLO not in ("L", "U"):
        raise UnsupportedError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    x = as_node(a)
    vectors, values = eigen_rows(apply("eigh", x, (UPLO,)))
    return values, vectors


@shared
def eigh(a: object, UPLO: str = "L") -> EighResult:
    """``numpy.linalg.eigh``: eigenvalues (ascending) and eigenvectors (columns) of a
    symmetric matrix (…, n, n), read from one triangle as numpy reads it. Derivatives for
    distinct eigenvalues: ``ẇᵢ = vᵢᵀ Ȧ vᵢ``, ``V̇ = V (F ⊙ (Vᵀ Ȧ V))`` with ``Fᵢⱼ = 1/(wⱼ − wᵢ)``
    (proofs.eigh); at a repeated eigenvalue the eigenvectors have no derivative and the
    result is inf or nan (as in JAX).

    Args:
        a: {square} Symmetric; only the triangle ``UPLO`` names is read.
        UPLO: ``"L"`` (the lower triangle) or ``"U"`` (the upper).

    Returns:
        ``EighResult(eigenvalues, eigenvectors)``, shapes ``(…, n)`` and ``(…, n, n)``: {parts}.

    Raises:
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> A = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> tnp.linalg.eigh(A).eigenvalues
        array([1., 3.])
        >>> ta.grad(lambda a: tnp.linalg.eigh(a).eigenvalues[1])(A)     # v vᵀ, on the lower triangle
        array([[0.5, 0. ],
               [1. , 0.5]])
    """
    values, vectors = _eigen(a, UPLO)
    return EighResult(*((values, vectors) if isinstance(a, NODE_TYPES) else values_of([values, vectors])))


@eager
@shared
def eigvalsh(a: object, UPLO: str = "L") -> Node:
    """``numpy.linalg.eigvalsh``: the eigenvalues of :func:`eigh`, with its derivative.

    Args:
        a: {square} Symmetric; only the triangle ``UPLO`` names is read.
        UPLO: ``"L"`` (the lower triangle) or ``"U"`` (the upper).

    Returns:
        The eigenvalues, ascending, of shape ``(…, n)``: {tensor}.

    Raises:
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
    """
    return _eigen(a, UPLO)[0]


@shared
def slogdet(a: object) -> SlogdetResult:
    """``numpy.linalg.slogdet``: the sign of the determinant (no derivative) and ``log|det|``.

    Args:
        a: {square}

    Returns:
        ``SlogdetResult(sign, logabsdet)``, each of shape ``(…)`` (a singular matrix: sign 0,
        ``-inf``): {parts}.

    Raises:
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> ta.grad(lambda X: tnp.linalg.slogdet(X)[1])(np.array([[2.0, 0.0], [1.0, 4.0]]))
        array([[ 0.5  , -0.125],
               [ 0.   ,  0.25 ]])
    """
    x = as_node(a)
    parts = [call("sign", apply("det", x)), apply("logdet", x)]
    return SlogdetResult(*(parts if isinstance(a, NODE_TYPES) else values(parts)))


@eager
@shared
def norm(x: object, ord: object = None, axis: Axes = None, keepdims: bool = False) -> Node:  # noqa: A002
    """``numpy.linalg.norm`` with numpy's orders: for vectors ``None``/2, ±``inf``, 1, 0
    and any other ``p`` (``(Σ|x|ᵖ)^(1/p)``); for matrices ``None``/``"fro"``, ``"nuc"``
    (the sum of the singular values), ±2 (the largest, smallest), ±1 and ±``inf`` (the
    largest, smallest absolute column and row sums). Kinks take their functions'
    conventions (``abs'(0) = 0``, ties of ``max`` shared); ``ord=0`` counts, with no
    derivative.

    Args:
        x: {a}
        ord: the order, as numpy's (see above); ``None`` is the 2-norm or Frobenius norm.
        axis: one axis (a vector norm), two (a matrix norm), or ``None``: all of a 1-d or
            2-d ``x``, or with ``ord=None`` the 2-norm of all entries.
        keepdims: {keepdims}

    Returns:
        The norms, real and non-negative, of ``x``'s shape without ``axis``: {tensor}.

    Raises:
        ShapeError: an ``ord`` without ``axis`` for an ``x`` that is neither 1-d nor 2-d.
        UnsupportedError: an ``ord`` numpy does not define for that many axes.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.norm(np.array([[3.0, 4.0], [6.0, 8.0]]), axis=1, keepdims=True)
        array([[ 5.],
               [10.]])
        >>> tnp.linalg.norm(np.array([[3.0, 0.0], [0.0, 4.0]]), "nuc")
        array(7.)
    """
    a = as_node(x)
    if axis is None and ord is not None:
        if a.ndim not in (1, 2):
            raise ShapeError(f"linalg.norm: ord={ord!r} needs a vector or a matrix (or axis=), got shape {a.shape}")
        axis = tuple(range(a.ndim))
    axes = normalize_axes(axis, a.ndim)
    if ord is None or (ord == "fro" and len(axes) == 2) or (ord == 2 and len(axes) == 1):
        result = apply("norm", a, (axes,))
    elif len(axes) == 1:
        result = _vector_norm(a, ord, axes[0])
    elif len(axes) == 2:  # in the order given: numpy's row axis first
        order = tuple(int(k) % a.ndim for k in axis) if isinstance(axis, (tuple, list)) else axes
        result = _matrix_norm(a, ord, (order[0], order[1]))
    else:
        raise UnsupportedError(f"linalg.norm: ord={ord!r} over {len(axes)} axes (numpy refuses it too)")
    return expand_dims(result, axes) if keepdims and axes else result


def _vector_norm(a: Node, ord: object, axis: int) -> Node:  # noqa: A002
    magnitude = call("abs", a)
    if ord == np.inf:
        return reductions.max(magnitude, axis=axis)
    if ord == -np.inf:
        return reductions.min(magnitude, axis=axis)
    if ord == 0:
        return reductions.sum(compare("not_equal", a, 0.0), axis=axis)
    if ord == 1:
        return reductions.sum(magnitude, axis=axis)
    if isinstance(ord, (int, float, np.integer, np.floating)) and not isinstance(ord, bool):
        p = float(ord)
        return power(reductions.sum(power(magnitude, p), axis=axis), 1.0 / p)
    raise UnsupportedError(f"linalg.norm: ord={ord!r} is not a vector norm")


def _matrix_norm(a: Node, ord: object, axes: tuple[int, ...]) -> Node:  # noqa: A002
    row, col = axes
    if ord in (1, -1, np.inf, -np.inf):
        summed, over = (row, col) if ord in (1, -1) else (col, row)
        sums = reductions.sum(call("abs", a), axis=summed, keepdims=True)
        extreme = reductions.max if ord in (1, np.inf) else reductions.min
        return reductions.sum(extreme(sums, axis=over, keepdims=True), axis=(row, col))  # drop the kept axes
    if ord in ("nuc", 2, -2):
        values = _svd_nodes(moveaxis(a, (row, col), (-2, -1)))[1]
        if ord == "nuc":
            return reductions.sum(values, axis=-1)
        return (reductions.max if ord == 2 else reductions.min)(values, axis=-1)
    raise UnsupportedError(f"linalg.norm: ord={ord!r} is not a matrix norm")


@eager
@shared
def solve(a: object, b: object) -> Node:
    """``numpy.linalg.solve``: ``x`` with ``a @ x = b``, by LU factorization, never the
    inverse; ``a`` is (…, n, n), ``b`` a vector (n,) or (…, n, k), the leading axes
    broadcast. The derivative is solves too: ``ẋ = a⁻¹(ḃ − ȧ x)``, ``b̄ = a⁻ᵀ x̄``,
    ``ā = −b̄ xᵀ`` (proofs.solve).

    Args:
        a: {square}
        b: an array or expression: a vector ``(n,)``, or ``(…, n, k)``.

    Returns:
        ``x``, of ``b``'s shape with the broadcast leading axes: {tensor}.

    Raises:
        ShapeError: ``a`` is not square, ``b`` does not match it, or the leading axes do
            not broadcast.
        tensorad.errors.LinAlgError: ``a`` is singular, when evaluated.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> A = np.array([[3.0, 1.0], [1.0, 2.0]])
        >>> tnp.linalg.solve(A, np.array([9.0, 8.0]))
        array([2., 3.])
        >>> ta.grad(lambda b: tnp.linalg.solve(A, b).sum())(np.array([9.0, 8.0]))    # A⁻ᵀ 1
        array([0.2, 0.4])
    """
    return solve_system("solve", a, b, rules.solve)


def solve_system(name: str, a: object, b: object, solver: Callable[[Node, Node], Node]) -> Node:
    """``solver(a, b)`` for a solver of (…, n, n) systems with right-hand sides (…, n, k),
    given numpy's shapes: a 1-d ``b`` is one vector, else ``b`` is (…, n, k), and the
    leading axes broadcast."""
    A, B = as_node(a), as_node(b)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{name}: a must be square in its last two axes, got shape {A.shape}")
    vector = B.ndim == 1
    if vector:
        B = apply("reshape", B, ((B.shape[0], 1),))
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"{name}: b of shape {B.shape} does not match a of shape {A.shape}")
    try:
        batch = tuple(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]))
    except ValueError:
        raise ShapeError(f"{name}: the leading axes of {A.shape} and {B.shape} do not broadcast") from None
    x = solver(broadcast_to(A, batch + A.shape[-2:]), broadcast_to(B, batch + B.shape[-2:]))
    return apply("reshape", x, (x.shape[:-1],)) if vector else x


@eager
@shared
def cholesky(a: object, /, *, upper: bool = False) -> Node:
    """``numpy.linalg.cholesky``: the lower-triangular ``L`` with ``a = L Lᵀ`` for a symmetric
    positive definite ``a`` (…, n, n), read from its lower triangle as numpy reads it
    (``upper=True``: the upper factor ``U = Lᵀ`` of the upper triangle). The derivative is
    ``L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ)`` by solves, ``Φ`` the lower triangle with half the diagonal
    (proofs.cholesky); a matrix that is not positive definite raises
    :class:`~tensorad.errors.LinAlgError`.

    Args:
        a: {square} Symmetric positive definite.
        upper: return the upper factor instead.

    Returns:
        ``L`` (or ``U``), of ``a``'s shape, zeros across the diagonal: {tensor}.

    Raises:
        ShapeError: {not_square}
        tensorad.errors.LinAlgError: ``a`` is not positive definite, when evaluated.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> A = np.array([[4.0, 2.0], [2.0, 5.0]])
        >>> tnp.linalg.cholesky(A)
        array([[2., 0.],
               [1., 2.]])
        >>> ta.grad(lambda a: tnp.linalg.cholesky(a).sum())(A)     # zero on the upper triangle
        array([[0.1875, 0.    ],
               [0.25  , 0.25  ]])
    """
    x = as_node(a)
    if upper:
        return swapaxes(apply("cholesky", swapaxes(x, -1, -2)), -1, -2)
    return apply("cholesky", x)


@eager
@shared
def matrix_power(a: object, n: int) -> Node:
    """``numpy.linalg.matrix_power``: ``aⁿ`` by repeated squaring (matrix products; a
    negative ``n`` powers the inverse, ``n = 0`` is the identity), batched.

    Args:
        a: {square}
        n: the exponent, an integer of any sign.

    Returns:
        ``aⁿ``, of ``a``'s shape: {tensor}.

    Raises:
        UnsupportedError: ``n`` is not an integer.
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
        array([[1., 3.],
               [0., 1.]])
    """
    x = as_node(a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise UnsupportedError(f"matrix_power: the exponent must be an integer, got {n!r}")
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"matrix_power needs square matrices in the last two axes, got shape {x.shape}")
    if n < 0:
        x, n = apply("inv", x), -int(n)
    if n == 0:
        return broadcast_to(constant(np.eye(x.shape[-1], dtype=x.dtype)), x.shape)
    result: Node | None = None
    square = x
    while n:
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
        square = matmul(square, square) if n else square
    assert result is not None
    return result


@eager
@shared
def multi_dot(arrays: Sequence[object], *, out: None = None) -> Node:
    """``numpy.linalg.multi_dot``: the product of the matrices in turn (the first may be a
    row vector, the last a column vector, as numpy), multiplied in the cheapest order.

    Args:
        arrays: two or more matrices whose inner sizes match; the first may be 1-d (a row),
            the last 1-d (a column).
        out: {out}

    Returns:
        The product; 1-d ends drop their axis (two vectors give a 0-d value): {tensor}.

    Raises:
        ShapeError: fewer than two arrays, or one of the wrong rank.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.multi_dot([np.ones(2), np.eye(2), np.array([1.0, 2.0])])
        array(3.)
    """
    from tensorad.numpy.products import einsum

    if out is not None:
        raise UnsupportedError("multi_dot: out= is not supported (tensorad values are immutable)")
    nodes = [as_node(a) for a in arrays]
    if len(nodes) < 2:
        raise ShapeError("multi_dot needs at least two arrays")
    if any(m.ndim != 2 for m in nodes[1:-1]) or nodes[0].ndim not in (1, 2) or nodes[-1].ndim not in (1, 2):
        raise ShapeError(f"multi_dot: 2-d arrays (1-d allowed first and last), got shapes {[m.shape for m in nodes]}")
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if len(nodes) + 1 > len(letters):
        raise UnsupportedError(f"multi_dot of {len(nodes)} arrays: at most {len(letters) - 1}")
    terms = [letters[k] + letters[k + 1] for k in range(len(nodes))]
    if nodes[0].ndim == 1:
        terms[0] = terms[0][1]
    if nodes[-1].ndim == 1:
        terms[-1] = terms[-1][0]
    out_labels = (terms[0][0] if nodes[0].ndim == 2 else "") + (terms[-1][-1] if nodes[-1].ndim == 2 else "")
    return einsum(",".join(terms) + "->" + out_labels, *nodes, optimize=True)
