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


def cholesky(a: object, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.cholesky``: the upper factor ``U`` (``a = Uᵀ U``) by default, the lower
    ``L`` with ``lower=True``, each read from that triangle of ``a`` (scipy's default is
    upper; numpy's is lower).

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.linalg as tsl
        >>> tsl.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 1.],
               [0., 2.]])
    """
    return numpy_cholesky(a, upper=not lower)


def cho_factor(
    a: object, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True
) -> tuple[Any, bool]:
    """``scipy.linalg.cho_factor``: ``(c, lower)`` for :func:`cho_solve`. ``c`` is the
    factor with zeros in the other triangle (scipy leaves what was there; only the
    factor's triangle is ever read).

    Examples:
        >>> import numpy as np
        >>> import tensorad.scipy.linalg as tsl
        >>> c = tsl.cho_factor(np.array([[4.0, 2.0], [2.0, 5.0]]))
        >>> tsl.cho_solve(c, np.array([8.0, 9.0]))
        array([1.375, 1.25 ])
    """
    return cholesky(a, lower=lower), lower


@eager
def cho_solve(c_and_lower: tuple[Any, bool], b: object, overwrite_b: bool = False, check_finite: bool = True) -> Node:
    """``scipy.linalg.cho_solve``: ``x`` with ``a x = b`` from :func:`cho_factor`'s ``(c,
    lower)``, as two triangular solves (``L Lᵀ x = b``)."""
    c, lower = c_and_lower
    factor = as_node(c)
    low = factor if lower else swapaxes(factor, -1, -2)
    inner = solve_triangular(low, b, lower=True)
    return as_node(solve_triangular(low, inner, trans=1, lower=True))


@eager
def _lu_packed(a: object) -> Node:
    return apply("lu_factor", as_node(a))


def lu_factor(a: object, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """``scipy.linalg.lu_factor``: ``(lu, piv)`` with ``a = P L U`` (partial pivoting; …, n,
    n): ``L`` below the diagonal of ``lu`` (unit diagonal implied), ``U`` on and above it,
    ``piv`` LAPACK's row interchanges (int32). ``lu`` differentiates (``L̇ = L S(M)``, ``U̇ =
    T(M) U`` with ``M = L⁻¹ Pᵀ Ȧ U⁻¹``); the pivots are piecewise constant. A singular
    ``a`` warns and gives a zero on ``U``'s diagonal, as scipy's does (proofs.lu).

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
def lu_solve(
    lu_and_piv: tuple[Any, Any], b: object, trans: int = 0, overwrite_b: bool = False, check_finite: bool = True
) -> Node:
    """``scipy.linalg.lu_solve``: ``x`` with ``a x = b`` (``trans``: ``aᵀ x = b``) from
    :func:`lu_factor`'s ``(lu, piv)``, one LAPACK solve; batched as scipy's. Its derivative
    in ``lu`` needs no permutation: ``ẋ = −U⁻¹(L⁻¹ L̇ U x + U̇ x)`` by triangular solves
    (proofs.lu)."""
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
def expm(A: object) -> Node:
    """``scipy.linalg.expm``: the matrix exponential (…, n, n). Its derivative is the exact
    Fréchet derivative, the top-right block of ``expm([[A, E], [0, A]])`` (for a JVP; the
    VJP is the same at ``Aᵀ``), so it differentiates again (proofs.expm).

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
def sqrtm(A: object) -> Node:
    """``scipy.linalg.sqrtm``: the principal square root ``X`` (``X X = A``) of a matrix with
    no eigenvalue on the closed negative real axis (…, n, n). Its derivative solves a
    Sylvester equation, ``Ẋ X + X Ẋ = Ȧ`` (``scipy.linalg.solve_sylvester``), and the
    Sylvester solve has rules of its own, so it differentiates again (proofs.sqrtm). A
    matrix with no real square root raises :class:`~tensorad.errors.LinAlgError`.

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
def logm(A: object, disp: bool = True) -> Node:
    """``scipy.linalg.logm``: the principal matrix logarithm (…, n, n) of a matrix with no
    eigenvalue on the closed negative real axis. Its derivative is the exact Fréchet
    derivative, the top-right block of ``logm([[A, E], [0, A]])`` (the VJP the same at
    ``Aᵀ``), as for :func:`expm` (proofs.expm). A matrix with no real logarithm raises
    :class:`~tensorad.errors.LinAlgError`.

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
