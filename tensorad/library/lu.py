r"""The LU factorization with partial pivoting, ``A = P L U``, and solves with its factors.

``lu_factor(A)`` packs scipy's two results into one node of shape (…, n + 1, n): the
rows of ``lu`` (``L`` strictly below the diagonal, its unit diagonal implied, ``U`` on
and above it), then the pivots as numbers (:func:`lu_rows` reads them back).
``lu_solve(lu, piv, B)`` is ``A⁻¹ B`` (``A⁻ᵀ B`` when transposed) from those factors,
one LAPACK ``getrs`` call. Pivots are piecewise constant in ``A``: their derivative is 0.

No rule needs the permutation ``P`` as a matrix: it only ever appears next to ``A⁻¹``
(``L⁻¹ Pᵀ = U A⁻¹``), so an ``lu_solve`` applies it (proofs.lu).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.linalg

from tensorad._types import Array, Shape
from tensorad.errors import ShapeError
from tensorad.ir.build import add, broadcast_to, contract, scale
from tensorad.ir.constants import constant
from tensorad.ir.graph import children
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import General, GeneralUnary, Node
from tensorad.ir.substitute import rebuild
from tensorad.library.linalg import _masked, _solve_columns, as_columns, read_triangle, solve, square_and_row
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
    call,
    in_front,
    register_general,
    register_general_function,
)


def lu_rows(y: Node) -> tuple[Node, Node]:
    """``lu`` (…, n, n) and the pivots (…, n), as numbers, from a packed ``lu_factor``
    node (or a cotangent of one: leading axes)."""
    return square_and_row(y)


def _factors(lu: Node) -> tuple[Node, Node]:
    """``L`` (unit lower) and ``U`` (upper) read from the packed ``lu``."""
    return read_triangle(lu, "unit lower"), read_triangle(lu, "upper")


def lu_solve(lu: Node, piv: Node, b: Node, transposed: bool = False) -> Node:
    """``A⁻¹ B`` (``A⁻ᵀ B`` when ``transposed``) for ``A = P L U`` given by scipy's ``lu``
    (…, n, n) and ``piv`` (…, n), and ``B`` (…, n, k)."""
    return apply_general("lu_solve", (lu, piv, b), (transposed,))


def _lu_solve_columns(lu: Node, piv: Node, r: Node, extra: int, lead: bool, transposed: bool) -> Node:
    return as_columns(r, extra, lead, lu.ndim, lambda flat: lu_solve(lu, piv, flat, transposed))


# ------------------------------------------------------------------ lu_factor: A = P L U


def _lu_factor(x: Array) -> Array:
    """scipy's ``lu`` with the pivots as one more row (a singular ``x`` warns, as scipy's)."""
    lu, piv = scipy.linalg.lu_factor(x, check_finite=False)
    return np.concatenate([lu, piv[..., None, :].astype(lu.dtype)], axis=-2)


def _lu_factor_kernel(x: Array, params: tuple[Any, ...]) -> Array:
    """:func:`_lu_factor` (float32 for float16); ``params == (True,)``: a singular ``x``
    raises, as numpy's solve and inverse do, instead of warning."""
    x = x.astype(np.float32) if x.dtype == np.float16 else x
    if not params:
        return _lu_factor(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        packed = _lu_factor(x)
    if np.any(np.diagonal(packed, axis1=-2, axis2=-1) == 0):  # U's diagonal (the pivot row is off it)
        raise np.linalg.LinAlgError("Singular matrix")
    return packed


def _lu_factor_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if len(x) < 2 or x[-1] != x[-2]:
        raise ShapeError(f"lu_factor needs square matrices in the last two axes, got shape {x}")
    return (*x[:-2], x[-1] + 1, x[-1])


def _lu_factor_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """With ``M = L⁻¹ Pᵀ Ȧ U⁻¹ = U (A⁻¹ Ȧ) U⁻¹``: ``L̇ = L S(M)`` and ``U̇ = T(M) U``
    (``S``: the strict lower triangle, ``T``: the upper one), packed as ``L̇ + U̇`` above
    a zero row for the pivots (proofs.lu)."""
    lu, piv = lu_rows(y)
    low, up = _factors(lu)
    n = x.shape[-1]
    b = fresh_labels(x.ndim - 2, "ijk")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijk")
    extra = len(e)
    solved = _lu_solve_columns(lu, piv, x_dot, extra, lead=False, transposed=False)  # A⁻¹ Ȧ
    left = contract(up, b + "ik", solved, b + "kj" + e, b + "ji" + e)  # (U A⁻¹ Ȧ)ᵀ
    m = contract(_solve_columns(lu, left, extra, False, True, "upper"), b + "ji" + e, None, "", b + "ij" + e)
    lu_dot = add(
        contract(low, b + "ik", _masked(m, "unit lower", n, "kj", b + "kj" + e), b + "kj" + e, b + "ij" + e),
        contract(_masked(m, "upper", n, "ik", b + "ik" + e), b + "ik" + e, up, b + "kj", b + "ij" + e),
    )
    assert lu_dot is not None
    return apply("pad", lu_dot, (((0, 0),) * len(b) + ((0, 1), (0, 0)) + ((0, 0),) * extra,))


def _lu_factor_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = A⁻ᵀ Uᵀ M̄ U⁻ᵀ`` with ``M̄ = S(Lᵀ L̄U) + T(L̄U Uᵀ)``, ``L̄U`` the cotangent of the
    ``lu`` rows (the pivots' is dropped): the adjoint of each step of the forward rule
    (``S`` and ``T`` mask entries, so each is its own adjoint; proofs.lu)."""
    lu, piv = lu_rows(y)
    lu_bar, _ = lu_rows(y_bar)
    low, up = _factors(lu)
    n = x.shape[-1]
    b = fresh_labels(x.ndim - 2, "ijk")
    e = fresh_labels(y_bar.ndim - y.ndim, b + "ijk")
    eb = e + b
    m_bar = add(
        _masked(contract(low, b + "ki", lu_bar, eb + "kj", eb + "ij"), "unit lower", n, "ij", eb + "ij"),
        _masked(contract(lu_bar, eb + "ik", up, b + "jk", eb + "ij"), "upper", n, "ij", eb + "ij"),
    )
    assert m_bar is not None
    turned = contract(m_bar, eb + "ij", None, "", eb + "ji")
    right = _solve_columns(lu, turned, len(e), lead=True, transposed=False, triangle="upper")  # (M̄ U⁻ᵀ)ᵀ
    z = contract(up, b + "ki", right, eb + "jk", eb + "ij")  # Uᵀ M̄ U⁻ᵀ
    return _lu_solve_columns(lu, piv, z, len(e), lead=True, transposed=True)


register_general(
    "lu_factor",
    _lu_factor_kernel,
    _lu_factor_shape,
    _lu_factor_jvp,
    _lu_factor_vjp,
    batch=in_front,
)


# ------------------------------------------------------------------ lu_solve: X = A⁻¹ B from the factors


def _lu_solve_shape(shapes: tuple[Shape, ...], params: tuple[Any, ...]) -> Shape:
    lu, piv, b = shapes
    n = lu[-1] if lu else -1
    if len(lu) < 2 or lu[-2] != n or piv != (*lu[:-2], n) or len(b) != len(lu) or b[:-2] != lu[:-2] or b[-2] != n:
        raise ShapeError(f"lu_solve needs lu (..., n, n), piv (..., n) and b (..., n, k), got {lu}, {piv} and {b}")
    return b


def _lu_solve(arrays: tuple[Array, ...], params: tuple[Any, ...]) -> Array:
    lu, piv, b = (x.astype(np.float32) if x.dtype == np.float16 else x for x in arrays)
    pivots = piv.astype(np.int32)
    solved = scipy.linalg.lu_solve((lu, pivots), b, trans=int(params[0]), check_finite=False)
    return np.ascontiguousarray(solved)  # LAPACK's result is in Fortran order: C order for what follows


def _lu_solve_jvp(
    args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], params: tuple[Any, ...]
) -> Node | None:
    """``Ẋ = A⁻¹ Ḃ − U⁻¹(L⁻¹ L̇ U X + U̇ X)``; transposed, ``Ẋ = A⁻ᵀ(Ḃ − Uᵀ L̇ᵀ W − U̇ᵀ Lᵀ W)``
    with ``W = Pᵀ X = L⁻ᵀ U⁻ᵀ B``: from ``Ȧ = P(L̇ U + L U̇)`` in ``Ẋ = A⁻¹(Ḃ − Ȧ X)``
    (``L̇``, ``U̇``: the strict lower and the upper part of ``L̇U``; proofs.lu)."""
    lu, piv, rhs = args
    lu_dot, _, b_dot = dots
    (transposed,) = params
    like = lu_dot if lu_dot is not None else b_dot
    if like is None:
        return None  # only the pivots vary: they are piecewise constant
    extra = like.ndim - (lu.ndim if like is lu_dot else y.ndim)
    n = lu.shape[-1]
    b = fresh_labels(lu.ndim - 2, "ijc")
    e = fresh_labels(extra, b + "ijc")
    if lu_dot is None:
        assert b_dot is not None
        return _lu_solve_columns(lu, piv, b_dot, extra, lead=False, transposed=transposed)
    low, up = _factors(lu)
    l_dot = _masked(lu_dot, "unit lower", n, "ij", b + "ij" + e)
    u_dot = _masked(lu_dot, "upper", n, "ij", b + "ij" + e)
    if transposed:
        w = solve_pair(lu, rhs)
        first = contract(
            up, b + "ji", contract(l_dot, b + "ji" + e, w, b + "jc", b + "ic" + e), b + "jc" + e, b + "ic" + e
        )
        lw = contract(low, b + "ji", w, b + "jc", b + "ic")
        change = add(first, contract(u_dot, b + "ji" + e, lw, b + "jc", b + "ic" + e))
        assert change is not None
        r = add(b_dot, scale(change, -1.0))
        assert r is not None
        return _lu_solve_columns(lu, piv, r, extra, lead=False, transposed=True)
    ux = contract(up, b + "ij", y, b + "jc", b + "ic")
    inner = _solve_columns(
        lu, contract(l_dot, b + "ij" + e, ux, b + "jc", b + "ic" + e), extra, False, False, "unit lower"
    )
    inner_total = add(inner, contract(u_dot, b + "ij" + e, y, b + "jc", b + "ic" + e))
    assert inner_total is not None
    change = scale(_solve_columns(lu, inner_total, extra, False, False, "upper"), -1.0)
    if b_dot is None:
        return change
    total = add(_lu_solve_columns(lu, piv, b_dot, extra, lead=False, transposed=False), change)
    assert total is not None
    return total


def solve_pair(lu: Node, rhs: Node) -> Node:
    """``W = L⁻ᵀ U⁻ᵀ B = Pᵀ A⁻ᵀ B``: two triangular solves, no permutation."""
    return solve(lu, solve(lu, rhs, True, "upper"), True, "unit lower")


def _lu_solve_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], params: tuple[Any, ...]
) -> tuple[Node | None, ...]:
    """``B̄ = A⁻ᵀ X̄`` (transposed: ``Q = A⁻¹ X̄``); ``L̄U = −S(H (U X)ᵀ) − T(G Xᵀ)`` with
    ``G = U⁻ᵀ X̄``, ``H = L⁻ᵀ G`` (transposed: ``−S(W (U Q)ᵀ) − T(Lᵀ W Qᵀ)``): the adjoint of
    each term of the forward rule (proofs.lu)."""
    lu, piv, rhs = args
    (transposed,) = params
    n = lu.shape[-1]
    extra = y_bar.ndim - y.ndim
    b = fresh_labels(lu.ndim - 2, "ijc")
    e = fresh_labels(extra, b + "ijc")
    eb = e + b
    b_bar = _lu_solve_columns(lu, piv, y_bar, extra, lead=True, transposed=not transposed)
    if not needs[0]:
        return None, None, b_bar
    low, up = _factors(lu)
    if transposed:
        w = solve_pair(lu, rhs)
        uq = contract(up, b + "ij", b_bar, eb + "jc", eb + "ic")
        lw = contract(low, b + "ji", w, b + "jc", b + "ic")
        l_bar = contract(w, b + "ic", uq, eb + "jc", eb + "ij", scale=-1.0)
        u_bar = contract(lw, b + "ic", b_bar, eb + "jc", eb + "ij", scale=-1.0)
    else:
        g = _solve_columns(lu, y_bar, extra, lead=True, transposed=True, triangle="upper")
        h = _solve_columns(lu, g, extra, lead=True, transposed=True, triangle="unit lower")
        ux = contract(up, b + "ij", y, b + "jc", b + "ic")
        l_bar = contract(h, eb + "ic", ux, b + "jc", eb + "ij", scale=-1.0)
        u_bar = contract(g, eb + "ic", y, b + "jc", eb + "ij", scale=-1.0)
    lu_bar = add(_masked(l_bar, "unit lower", n, "ij", eb + "ij"), _masked(u_bar, "upper", n, "ij", eb + "ij"))
    return lu_bar, None, b_bar if needs[2] else None


register_general_function(
    GeneralFunction("lu_solve", _lu_solve, _lu_solve_shape, _lu_solve_jvp, _lu_solve_vjp, batch=in_front)
)


# ------------------------------------------------------------------ one factorization for many solves

SHARED_FACTOR_SIZE = 64
"""Smallest ``n`` for which the solves, inverses and log-determinants of one matrix share
an LU factorization: below it, LAPACK's one call per function (``gesv``) is faster than
``getrf`` once and ``getrs`` each."""


def share_factorizations(order: Sequence[Node], outputs: Sequence[Node]) -> list[Node] | None:
    """``outputs`` with the LU solves, inverses and log-determinants (``order``: their DAG in
    topological order) of a real matrix ``A`` of size at least :data:`SHARED_FACTOR_SIZE`
    computed from one ``lu_factor(A)`` when there are two or more of them: a solve and the
    solves of its derivatives (a log-determinant and the inverse its gradient is) then
    factor ``A`` once. None when no matrix has two."""
    count: dict[Node, int] = {}
    for node in order:
        matrix = _factored(node)
        if matrix is not None:
            count[matrix] = count.get(matrix, 0) + 1
    if not any(k > 1 for k in count.values()):
        return None
    factors: dict[Node, tuple[Node, Node]] = {}
    new: dict[Node, Node] = {}
    for node in order:
        operands = [new[child] for child in children(node)]
        matrix = _factored(node)
        if matrix is not None and count[matrix] > 1:
            a = operands[0]
            if a not in factors:
                factors[a] = lu_rows(apply("lu_factor", a, (True,)))  # singular: numpy's error
            new[node] = _from_factors(node, *factors[a], operands)
        else:
            new[node] = rebuild(node, operands)
    return [new[node] for node in outputs]


def _factored(node: Node) -> Node | None:
    """The matrix that ``node`` factors by LU, if it is a large real one: the ``A`` of an
    LU solve (not a triangular one), an ``inv`` or a ``logdet``."""
    if isinstance(node, General) and node.fn == "solve" and not node.params[1]:
        matrix = node.args[0]
    elif isinstance(node, GeneralUnary) and node.fn in ("inv", "logdet"):
        matrix = node.x
    else:
        return None
    return matrix if matrix.shape[-1] >= SHARED_FACTOR_SIZE and matrix.dtype.kind == "f" else None


def _from_factors(node: Node, lu: Node, piv: Node, operands: list[Node]) -> Node:
    """``node`` (a solve, ``inv`` or ``logdet`` of ``operands[0]``) from its LU factors:
    ``A⁻¹B``, ``A⁻¹I``, or ``log|det A| = Σᵢ log|Uᵢᵢ|``."""
    a = operands[0]
    if isinstance(node, General):
        return lu_solve(lu, piv, operands[1], node.params[0])
    assert isinstance(node, GeneralUnary)
    if node.fn == "inv":
        return lu_solve(lu, piv, broadcast_to(constant(np.eye(a.shape[-1], dtype=a.dtype)), a.shape))
    b = fresh_labels(a.ndim - 2, "i")
    diagonal = contract(lu, b + "ii", None, "", b + "i")
    return contract(call("log", call("abs", diagonal)), b + "i", None, "", b)
