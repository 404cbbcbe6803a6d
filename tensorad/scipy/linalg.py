"""``tensorad.scipy.linalg``: scipy's linear algebra at scipy's places, batched over
leading axes as scipy 1.15+ is: ``inv``, ``det``, ``solve``, ``solve_triangular``,
``cholesky``, ``cho_factor``, ``cho_solve``, ``lu_factor``, ``lu_solve``, ``expm``, ``logm``
and ``sqrtm``.

The triangular solves are LAPACK's (``scipy.linalg.solve_triangular``), of the triangle
scipy reads, and so are the solves of their derivatives; the derivatives see only that
triangle, as scipy's functions do.

>>> import numpy as np
>>> import tensorad.scipy.linalg as tsl
>>> tsl.det(np.array([[2.0, 0.0], [0.0, 3.0]]))
array(6.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorad.errors import ShapeError, UnsupportedError
from tensorad.ir.build import astype, broadcast_to
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import Node
from tensorad.library import linalg as rules
from tensorad.library import lu as lu_rules
from tensorad.library.registry import apply
from tensorad.numpy.axes import swapaxes
from tensorad.numpy.eager import eager
from tensorad.numpy.functions import det, inv
from tensorad.numpy.linalg import cholesky as numpy_cholesky
from tensorad.numpy.linalg import solve, solve_system
from tensorad.numpy.phrases import shared

__all__ = [
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "expm",
    "inv",
    "logm",
    "lu_factor",
    "lu_solve",
    "solve",
    "solve_triangular",
    "sqrtm",
]


@eager
@shared
def solve_triangular(
    a: object,
    b: object,
    trans: int | str = 0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    check_finite: bool = True,
) -> Node:
    """``scipy.linalg.solve_triangular``: ``x`` with ``a x = b`` (``trans``: ``aᵀ x = b``)
    for the triangle of ``a`` that ``lower`` names.

    Args:
        a: {square} Only the triangle ``lower`` names is read.
        b: a vector ``(n,)`` or ``(…, n, k)``; the leading axes broadcast against ``a``'s.
        trans: ``0``/``"N"`` solves ``a x = b``, ``1``/``"T"`` solves ``aᵀ x = b``.
        lower: read the lower triangle (default: the upper, as scipy).
        unit_diagonal: take the diagonal as ones without reading it.
        overwrite_b: {overwrite}
        check_finite: {check_finite}

    Returns:
        ``x``, of ``b``'s shape with the broadcast leading axes: {tensor}.

    Raises:
        UnsupportedError: ``trans`` is 2 or ``"C"`` (the conjugate transpose).
        ShapeError: ``a`` is not square, or ``b`` does not match it.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.scipy.linalg as tsl
        >>> L = np.array([[2.0, 9.0], [1.0, 4.0]])                    # 9.0 is never read
        >>> tsl.solve_triangular(L, np.array([2.0, 9.0]), lower=True)
        array([1., 2.])
        >>> ta.grad(lambda L: tsl.solve_triangular(L, np.array([2.0, 9.0]), lower=True).sum())(L)[0, 1] == 0.0
        np.True_
    """
    if trans not in (0, 1, "N", "T"):
        raise UnsupportedError(f"solve_triangular: trans={trans!r} is not supported (0, 1, 'N', 'T' are)")
    triangle = ("unit " if unit_diagonal else "") + ("lower" if lower else "upper")
    transposed = trans in (1, "T")
    return solve_system("solve_triangular", a, b, lambda m, r: rules.solve(m, r, transposed, triangle))


@shared
def cholesky(a: object, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.cholesky``: the upper factor ``U`` (``a = Uᵀ U``) by default, the lower
    ``L`` with ``lower=True``, each read from that triangle of ``a`` (scipy's default is
    upper; numpy's is lower).

    Args:
        a: {square} Symmetric positive definite.
        lower: return the lower factor (default: the upper, as scipy).
        overwrite_a: {overwrite}
        check_finite: {check_finite}

    Returns:
        The triangular factor, of ``a``'s shape, zeros in the other triangle: {tensor}.

    Raises:
        ShapeError: {not_square}
        tensorad.errors.LinAlgError: ``a`` is not positive definite, when evaluated.

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.linalg as tsl
        >>> tsl.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 1.],
               [0., 2.]])
    """
    return numpy_cholesky(a, upper=not lower)


@shared
def cho_factor(
    a: object, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> tuple[Any, bool]:
    """``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`. ``c`` is the
    factor with zeros in the other triangle (scipy leaves what was there; only the
    factor's triangle is ever read).

    Args:
        a: {square} Symmetric positive definite.
        lower: factor as ``L Lᵀ`` instead of ``Uᵀ U``.
        overwrite_a: {overwrite}
        check_finite: {check_finite}

    Returns:
        ``(c, lower)``: the factor (an array, or an expression while tracing) and the flag.

    Raises:
        ShapeError: {not_square}
        tensorad.errors.LinAlgError: ``a`` is not positive definite, when evaluated.

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.linalg as tsl
        >>> c = tsl.cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
        >>> tsl.cho_solve(c, np.array([8.0, 9.0]))
        array([1.375, 1.25 ])
    """
    return cholesky(a, lower=lower), lower


@eager
@shared
def cho_solve(c_and_lower: tuple[Any, bool], b: object, overwrite_b: bool = False, check_finite: bool = True) -> Node:
    """``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from :func:`cho_factor`'s ``(c,
    lower)``, as two triangular solves (``L Lᵀ x = b``).

    Args:
        c_and_lower: :func:`cho_factor`'s result.
        b: a vector ``(n,)`` or ``(…, n, k)``.
        overwrite_b: {overwrite}
        check_finite: {check_finite}

    Returns:
        ``x``, of ``b``'s shape: {tensor}.

    Raises:
        ShapeError: ``b`` does not match the factor.
    """
    c, lower = c_and_lower
    factor = as_node(c)
    low = factor if lower else swapaxes(factor, -1, -2)
    inner = solve_triangular(low, b, lower=True)
    return as_node(solve_triangular(low, inner, trans=1, lower=True))


@eager
def _lu_packed(a: object) -> Node:
    return apply("lu_factor", as_node(a))


@shared
def lu_factor(a: object, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """``scipy.linalg.lu_factor``: ``(lu, piv)`` with ``a = P L U`` (partial pivoting; …, n,
    n): ``L`` below the diagonal of ``lu`` (unit diagonal implied), ``U`` on and above it,
    ``piv`` LAPACK's row interchanges (int32). ``lu`` differentiates (``L̇ = L S(M)``, ``U̇ =
    T(M) U`` with ``M = L⁻¹ Pᵀ Ȧ U⁻¹``); the pivots are piecewise constant. A singular
    ``a`` warns and gives a zero on ``U``'s diagonal, as scipy's does (proofs.lu).

    Args:
        a: {square}
        overwrite_a: {overwrite}
        check_finite: {check_finite}

    Returns:
        ``(lu, piv)`` of shapes ``(…, n, n)`` and ``(…, n)``: {parts}.

    Raises:
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.scipy.linalg as tsl
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> lu, piv = tsl.lu_factor(A)
        >>> piv
        array([1, 1], dtype=int32)
        >>> tsl.lu_solve((lu, piv), np.array([5.0, 11.0]))
        array([1., 2.])
        >>> ta.grad(lambda a: tsl.lu_solve(tsl.lu_factor(a), np.array([5.0, 11.0])).sum())(A)  # −A⁻ᵀ 1 xᵀ
        array([[ 0.5,  1. ],
               [-0.5, -1. ]])
    """
    packed = _lu_packed(a)
    n = packed.shape[-1]
    pivots = packed[..., n, :]
    pivots = astype(pivots, np.dtype(np.int32)) if isinstance(pivots, Node) else pivots.astype(np.int32)
    return packed[..., :n, :], pivots


@eager
@shared
def lu_solve(
    lu_and_piv: tuple[Any, Any], b: object, trans: int = 0, overwrite_b: bool = False, check_finite: bool = True
) -> Node:
    """``scipy.linalg.lu_solve``: ``x`` with ``a x = b`` (``trans``: ``aᵀ x = b``) from
    :func:`lu_factor`'s ``(lu, piv)``, one LAPACK solve; batched as scipy's. Its derivative
    in ``lu`` needs no permutation: ``ẋ = −U⁻¹(L⁻¹ L̇ U x + U̇ x)`` by triangular solves
    (proofs.lu).

    Args:
        lu_and_piv: :func:`lu_factor`'s result.
        b: a vector ``(n,)`` or ``(…, n, k)``.
        trans: 0 solves ``a x = b``; 1 (and, for real ``lu``, 2) ``aᵀ x = b``.
        overwrite_b: {overwrite}
        check_finite: {check_finite}

    Returns:
        ``x``, of ``b``'s shape with the broadcast leading axes: {tensor}.

    Raises:
        UnsupportedError: another ``trans``.
        ShapeError: ``piv`` does not match ``lu``, or ``b`` does not match it.
    """
    lu, piv = lu_and_piv
    factors, pivots = as_node(lu), as_node(piv)
    pivots = astype(pivots, factors.dtype)  # exact: LAPACK's pivots are row numbers
    if trans not in (0, 1, 2) or (trans == 2 and factors.dtype.kind == "c"):
        raise UnsupportedError(f"lu_solve: trans={trans!r} is not supported (0, 1 and, for real lu, 2 are)")
    if pivots.shape != factors.shape[:-1]:
        raise ShapeError(f"lu_solve: piv of shape {pivots.shape} does not match lu of shape {factors.shape}")
    transposed = trans in (1, 2)  # 2, the conjugate transpose, is the transpose of a real matrix
    return solve_system(
        "lu_solve", factors, b, lambda m, r: lu_rules.lu_solve(m, broadcast_to(pivots, m.shape[:-1]), r, transposed)
    )


@eager
@shared
def expm(A: object) -> Node:
    """``scipy.linalg.expm``: the matrix exponential (…, n, n). Its derivative is the exact
    Fréchet derivative, the top-right block of ``expm([[A, E], [0, A]])`` (for a JVP; the
    VJP is the same at ``Aᵀ``), so it differentiates again (proofs.expm).

    Args:
        A: {square}

    Returns:
        ``exp(A)``, of ``A``'s shape: {tensor}.

    Raises:
        ShapeError: {not_square}

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.scipy.linalg as tsl
        >>> tsl.expm(np.zeros((2, 2)))
        array([[1., 0.],
               [0., 1.]])
        >>> ta.grad(lambda a: np.trace(tsl.expm(a)))(np.diag([0.0, 1.0]))   # expm(A)ᵀ
        array([[1.        , 0.        ],
               [0.        , 2.71828183]])
    """
    return apply("expm", as_node(A))


@eager
@shared
def sqrtm(A: object) -> Node:
    """``scipy.linalg.sqrtm``: the principal square root ``X`` (``X X = A``) of a matrix with
    no eigenvalue on the closed negative real axis (…, n, n). Its derivative solves a
    Sylvester equation, ``Ẋ X + X Ẋ = Ȧ`` (``scipy.linalg.solve_sylvester``), and the
    Sylvester solve has rules of its own, so it differentiates again (proofs.sqrtm). A
    matrix with no real square root raises :class:`~tensorad.errors.LinAlgError`.

    Args:
        A: {square}

    Returns:
        The principal square root, of ``A``'s shape: {tensor}.

    Raises:
        ShapeError: {not_square}
        tensorad.errors.LinAlgError: ``A`` has no real principal square root, when evaluated.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.scipy.linalg as tsl
        >>> tsl.sqrtm(np.array([[4.0, 0.0], [0.0, 9.0]]))
        array([[2., 0.],
               [0., 3.]])
        >>> ta.grad(lambda a: np.trace(tsl.sqrtm(a)))(np.array([[4.0, 0.0], [0.0, 9.0]]))
        array([[0.25      , 0.        ],
               [0.        , 0.16666667]])
    """
    return apply("sqrtm", as_node(A))


@eager
@shared
def logm(A: object, disp: bool = True) -> Node:
    """``scipy.linalg.logm``: the principal matrix logarithm (…, n, n) of a matrix with no
    eigenvalue on the closed negative real axis. Its derivative is the exact Fréchet
    derivative, the top-right block of ``logm([[A, E], [0, A]])`` (the VJP the same at
    ``Aᵀ``), as for :func:`expm` (proofs.expm). A matrix with no real logarithm raises
    :class:`~tensorad.errors.LinAlgError`.

    Args:
        A: {square}
        disp: scipy's flag to print an error estimate instead of returning it: accepted
            and ignored (the error estimate is never returned).

    Returns:
        The principal logarithm, of ``A``'s shape: {tensor}.

    Raises:
        ShapeError: {not_square}
        tensorad.errors.LinAlgError: ``A`` has no real principal logarithm, when evaluated.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.scipy.linalg as tsl
        >>> tsl.logm(np.diag([1.0, np.e]))
        array([[0., 0.],
               [0., 1.]])
        >>> ta.grad(lambda a: np.trace(tsl.logm(a)))(np.diag([1.0, 2.0]))    # A⁻ᵀ
        array([[1. , 0. ],
               [0. , 0.5]])
    """
    return apply("logm", as_node(A))
