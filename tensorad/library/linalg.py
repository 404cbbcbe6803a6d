"""Linear algebra: ``inv``, ``det``, ``logdet``, ``solve`` over the last two axes (batched in front).

Each rule applies ``f'(A)`` through its structure, as matrix products: the derivative of
the inverse is ``−C Ȧ C``, never the ``n⁴`` tensor (proofs ``forward_general_unary`` and
``reverse_general_unary``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg

from tensorad._types import Array, Shape
from tensorad.errors import LinAlgError, ShapeError
from tensorad.ir.build import add, broadcast_to, contract
from tensorad.ir.constants import constant
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Constant, GeneralUnary, Node
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
    in_front,
    real_only,
    register_general,
    register_general_function,
    seed_labels,
)


def _upcast_half(impl: Callable[[Array], Array]) -> Callable[[Array, tuple[Any, ...]], Array]:
    """``impl`` computed in float32 for float16 input (numpy's linalg has no float16; the
    kernel casts the result back)."""
    return lambda x, _: impl(x.astype(np.float32) if x.dtype == np.float16 else x)


def _square_shape(name: str) -> Callable[[Shape, tuple[Any, ...]], Shape]:
    def shape(x: Shape, params: tuple[Any, ...]) -> Shape:
        if len(x) < 2 or x[-1] != x[-2]:
            raise ShapeError(f"{name} needs square matrices in the last two axes, got shape {x}")
        return x if name in ("inv", "cholesky", "expm", "logm", "sqrtm") else x[:-2]

    return shape


def _inv_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = −C Ȧ C``: ``Ċ_{ij s4} = −C_{ik} Ȧ_{kl s4} C_{lj}``."""
    b, e = seed_labels(y, x_dot, "ijkl")
    b = b[:-2]
    t = contract(x_dot, b + "kl" + e, y, b + "lj", b + "kj" + e)
    return contract(y, b + "ik", t, b + "kj" + e, b + "ij" + e, scale=-1.0)


def _inv_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = −Cᵀ C̄ Cᵀ``: ``Ā_{s4 kl} = −C_{ik} C̄_{s4 ij} C_{lj}``."""
    b, e = seed_labels(y, y_bar, "ijkl")
    b = b[:-2]
    t = contract(y_bar, e + b + "ij", y, b + "lj", e + b + "il")
    return contract(y, b + "ik", t, e + b + "il", e + b + "kl", scale=-1.0)


register_general("inv", _upcast_half(np.linalg.inv), _square_shape("inv"), _inv_jvp, _inv_vjp, batch=in_front)


def _logdet(x: Array) -> Array:
    return np.asarray(np.linalg.slogdet(x)[1])


def _logdet_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ_{s4} = A⁻¹_{ji} Ȧ_{ij s4}`` (Jacobi's formula); log|det| of a complex matrix is
    not holomorphic (refused)."""
    real_only("logdet", x)
    return _jacobi(x, x_dot)


def _jacobi(x: Node, x_dot: Node) -> Node:
    """``A⁻¹_{ji} Ȧ_{ij s4}``: the derivative of log det, and of det divided by det."""
    b, e = seed_labels(x, x_dot, "ij")
    b = b[:-2]
    return contract(apply("inv", x), b + "ji", x_dot, b + "ij" + e, b + e)


def _logdet_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā_{s4 ij} = C̄_{s4} A⁻¹_{ji}``: the gradient of log|det A| is A⁻ᵀ."""
    real_only("logdet", x)
    return _jacobi_adjoint(x, y, y_bar)


def _jacobi_adjoint(x: Node, y: Node, y_bar: Node) -> Node:
    """``C̄_{s4} A⁻¹_{ji}``, the adjoint of :func:`_jacobi`."""
    b, e = seed_labels(y, y_bar, "ij")
    return contract(y_bar, e + b, apply("inv", x), b + "ji", e + b + "ij")


register_general(
    "logdet", _upcast_half(_logdet), _square_shape("logdet"), _logdet_jvp, _logdet_vjp, real=True, batch=in_front
)


def _det_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ_{s4} = det(A) A⁻¹_{ji} Ȧ_{ij s4}``."""
    b, e = seed_labels(y, x_dot, "ij")
    e = e[2:]
    return contract(y, b, _jacobi(x, x_dot), b + e, b + e)


def _det_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā_{s4 ij} = C̄_{s4} det(A) A⁻¹_{ji}``."""
    b, e = seed_labels(y, y_bar, "ij")
    return _jacobi_adjoint(x, y, contract(y_bar, e + b, y, b, e + b))


register_general("det", _upcast_half(np.linalg.det), _square_shape("det"), _det_jvp, _det_vjp, batch=in_front)


# ------------------------------------------------------------------ solve: X = A⁻¹ B, never the inverse

TRIANGLES = ("", "lower", "upper", "unit lower", "unit upper")
"""What a solve reads of ``A``: all of it (an LU solve), or one triangle (a triangular
solve), with ones in place of the diagonal when ``unit``."""


def square_and_row(y: Node) -> tuple[Node, Node]:
    """The ``n × n`` matrix and the row below it, from a node that packs them as (…, n + 1,
    n) (``eigh``'s ``[V; w]``, ``lu_factor``'s ``[lu; pivots]``), or a cotangent of one
    (leading axes)."""
    n = y.shape[-1]
    whole = tuple((0, m) for m in y.shape[:-2])
    square = apply("crop", y, ((*whole, (0, n), (0, n)),))
    row = apply("reshape", apply("crop", y, ((*whole, (n, n + 1), (0, n)),)), ((*y.shape[:-2], n),))
    return square, row


def triangle_mask(triangle: str, n: int, dtype: np.dtype[Any]) -> Node:
    """The constant ``n × n`` 0/1 mask of the entries of ``A`` a ``triangle`` solve reads
    (a unit triangle's diagonal is not read)."""
    keep = np.tri(n, n, -1 if triangle.startswith("unit") else 0, dtype=dtype)
    return constant(keep if triangle.endswith("lower") else keep.T)


def read_triangle(a: Node, triangle: str) -> Node:
    """``T(A)``, the matrix a ``triangle`` solve of ``A`` stands for: ``M ⊙ A`` for the mask
    ``M`` of :func:`triangle_mask`, plus ``I`` for a unit triangle (``A`` itself for ``""``)."""
    if not triangle:
        return a
    b = fresh_labels(a.ndim - 2, "ij")
    part = contract(triangle_mask(triangle, a.shape[-1], a.dtype), "ij", a, b + "ij", b + "ij")
    if triangle.startswith("unit"):
        total = add(part, broadcast_to(constant(np.eye(a.shape[-1], dtype=a.dtype)), a.shape))
        assert total is not None
        return total
    return part


def _solve_shape(shapes: tuple[Shape, ...], params: tuple[Any, ...]) -> Shape:
    a, b = shapes
    if len(a) < 2 or a[-1] != a[-2] or len(b) != len(a) or b[:-2] != a[:-2] or b[-2] != a[-1]:
        raise ShapeError(f"solve needs square matrices (..., n, n) and right-hand sides (..., n, k), got {a} and {b}")
    return b


def _solve(arrays: tuple[Array, ...], params: tuple[Any, ...]) -> Array:
    a, b = (x.astype(np.float32) if x.dtype == np.float16 else x for x in arrays)
    transposed, triangle = params
    if triangle:
        return _triangular(a, b, transposed, triangle.endswith("lower"), triangle.startswith("unit"))
    return np.asarray(np.linalg.solve(np.swapaxes(a, -1, -2) if transposed else a, b))


TRSV_COLUMNS = 4
"""Most right-hand sides a triangular solve takes one by one (BLAS's ``trsv``)."""


def _triangular(a: Array, b: Array, transposed: bool, lower: bool, unit: bool) -> Array:
    """``T⁻¹ b`` (``T⁻ᵀ b``) for the triangle ``T`` of ``a``, in C order. One matrix: BLAS's
    ``trsm`` on the transposed system ``xᵀ Tᵀ = bᵀ``, whose operands are Fortran-ordered
    views of the C-ordered arrays (no copy in or out), or for at most :data:`TRSV_COLUMNS`
    right-hand sides ``trsv`` on each column (``T`` is ``a.T``'s transpose): OpenBLAS's
    ``trsm`` of a 500 × 500 triangle takes 112 µs for one column, ``trsv`` 19 µs; from
    about eight columns on ``trsm`` is faster. A batch: scipy's solver."""
    if a.ndim != 2 or a.dtype != b.dtype:
        solved = scipy.linalg.solve_triangular(
            a, b, trans=int(transposed), lower=lower, unit_diagonal=unit, check_finite=False
        )
        return np.ascontiguousarray(solved)  # LAPACK's result is in Fortran order: C order for what follows
    if not unit and np.any(np.diagonal(a) == 0):
        raise np.linalg.LinAlgError("singular matrix: a zero on the diagonal")
    if b.shape[1] <= TRSV_COLUMNS:
        (trsv,) = scipy.linalg.get_blas_funcs(("trsv",), (a, b))
        solved = np.empty_like(b, order="C")
        # a.T itself, unless a is not C-contiguous: then one copy here, not one per column
        t_transposed = np.asfortranarray(a.T)
        for j in range(b.shape[1]):  # op(t_transposed) x = b: it holds Tᵀ, so op is a transpose for T x = b
            solved[:, j] = trsv(t_transposed, b[:, j], lower=int(not lower), trans=int(not transposed), diag=int(unit))
        return solved
    (trsm,) = scipy.linalg.get_blas_funcs(("trsm",), (a, b))
    # xᵀ = bᵀ (op(T)ᵀ)⁻¹: a.T is Tᵀ (the other triangle), op(T)ᵀ is a.T itself or its transpose
    solved = trsm(1.0, a.T, b.T, side=1, lower=int(not lower), trans_a=int(transposed), diag=int(unit))
    return np.asarray(solved).T


def solve(a: Node, b: Node, transposed: bool = False, triangle: str = "") -> Node:
    """``T(A)⁻¹ B`` (``T(A)⁻ᵀ B`` when ``transposed``) for ``A`` of shape (…, n, n) and ``B``
    of shape (…, n, k): by LU factorization (``numpy.linalg.solve``), or, for a
    ``triangle`` of :data:`TRIANGLES`, by a triangular solve of the part
    :func:`read_triangle` names (``scipy.linalg.solve_triangular``)."""
    if triangle not in TRIANGLES:
        raise ValueError(f"solve: triangle must be one of {TRIANGLES}, got {triangle!r}")
    return apply_general("solve", (a, b), (transposed, triangle))


def as_columns(r: Node, extra: int, lead: bool, ndim: int, solve_flat: Callable[[Node], Node]) -> Node:
    """``f(R)`` for a map ``f`` of right-hand sides (…, n, k) with ``ndim`` axes, applied
    to ``R`` with ``extra`` s4 axes (in front when ``lead``, else at the end) beside them:
    the s4 axes become more columns of one call of ``solve_flat``."""
    labels = fresh_labels(r.ndim)
    e, core = (labels[:extra], labels[extra:]) if lead else (labels[r.ndim - extra :], labels[: r.ndim - extra])
    columns = contract(r, labels, None, "", core + e)  # (…, n, k, s4)
    shape = columns.shape
    flat = apply("reshape", columns, ((*shape[: ndim - 1], math.prod(shape[ndim - 1 :])),))
    solved = apply("reshape", solve_flat(flat), (shape,))
    return contract(solved, core + e, None, "", labels)


def _solve_columns(a: Node, r: Node, extra: int, lead: bool, transposed: bool, triangle: str = "") -> Node:
    """``T(A)⁻¹ R`` (``T(A)⁻ᵀ R``) for ``R`` with ``extra`` s4 axes (:func:`as_columns`)."""
    return as_columns(r, extra, lead, a.ndim, lambda flat: solve(a, flat, transposed, triangle))


def _masked(x: Node, triangle: str, n: int, pair: str, labels: str) -> Node:
    """``M ⊙ X`` for ``X`` labelled ``labels`` whose ``n × n`` matrix axes are ``pair``: what
    of a tangent or cotangent of ``A`` a ``triangle`` solve sees (all of it for ``""``)."""
    return contract(triangle_mask(triangle, n, x.dtype), pair, x, labels, labels) if triangle else x


def _unread_part_is_zero(a: Node, triangle: str) -> bool:
    """Whether the triangle a solve reads is all ``a`` has: a Cholesky factor, whose other
    triangle is 0 whatever its input. Its tangent is then in the triangle already, and a
    cotangent's other triangle is annihilated by the factor's own reverse rule
    (``Φ(Lᵀ L̄)`` reads only ``L̄``'s lower triangle: proofs.cholesky), so neither is masked:
    the rank-one cotangent of ``L⁻¹ y`` then stays rank one (no n³ product ``Lᵀ L̄``)."""
    return triangle == "lower" and isinstance(a, GeneralUnary) and a.fn == "cholesky"


def _solve_jvp(args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], params: tuple[Any, ...]) -> Node:
    """``Ẋ = T⁻¹(Ḃ − (M ⊙ Ȧ) X)`` for ``T = T(A)`` (``Tᵀ`` when transposed, with ``(M ⊙
    Ȧ)ᵀ``), one solve with the s4 axes as more columns: from ``T X = B``, ``Ṫ X + T Ẋ = Ḃ``
    and ``Ṫ = M ⊙ Ȧ`` (proofs.solve)."""
    a, _ = args
    a_dot, b_dot = dots
    transposed, triangle = params
    like = a_dot if a_dot is not None else b_dot
    assert like is not None
    extra = like.ndim - (a.ndim if like is a_dot else y.ndim)
    batch = fresh_labels(a.ndim - 2, "iljk")
    e = fresh_labels(extra, batch + "iljk")
    r = b_dot
    if a_dot is not None:
        pair = "li" if transposed else "il"
        m = batch + pair + e
        seen = a_dot if _unread_part_is_zero(a, triangle) else _masked(a_dot, triangle, a.shape[-1], pair, m)
        change = contract(seen, m, y, batch + "lj", batch + "ij" + e, scale=-1.0)
        r = add(r, change)
    assert r is not None
    return _solve_columns(a, r, extra, lead=False, transposed=transposed, triangle=triangle)


def _solve_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], params: tuple[Any, ...]
) -> tuple[Node | None, ...]:
    """``B̄ = T⁻ᵀ X̄``, ``Ā = −M ⊙ (B̄ Xᵀ)`` (transposed: ``Ā = −M ⊙ (X B̄ᵀ)``): the adjoints
    of the forward rule's two terms  (proofs.solve)."""
    a, _ = args
    transposed, triangle = params
    extra = y_bar.ndim - y.ndim
    b_bar = _solve_columns(a, y_bar, extra, lead=True, transposed=not transposed, triangle=triangle)
    if not needs[0]:
        return None, b_bar
    batch = fresh_labels(a.ndim - 2, "iljk")
    e = fresh_labels(extra, batch + "iljk")
    pair = "li" if transposed else "il"
    a_bar = contract(b_bar, e + batch + "ij", y, batch + "lj", e + batch + pair, scale=-1.0)
    if not _unread_part_is_zero(a, triangle):
        a_bar = _masked(a_bar, triangle, a.shape[-1], pair, e + batch + pair)
    return a_bar, b_bar if needs[1] else None


register_general_function(GeneralFunction("solve", _solve, _solve_shape, _solve_jvp, _solve_vjp, batch=in_front))


# ------------------------------------------------------------------ cholesky: L with A = L Lᵀ


def _masks(n: int, dtype: np.dtype[Any]) -> tuple[Node, Node, Node]:
    """Constant ``n × n`` masks: the lower triangle ``M``, the strict one ``N``, and
    ``W = N + ½ I`` (``Φ(X) = W ⊙ X``: the lower triangle, the diagonal halved)."""
    lower, strict = triangle_mask("lower", n, dtype), triangle_mask("unit lower", n, dtype)
    assert isinstance(strict, Constant)
    return lower, strict, constant(strict.value + 0.5 * np.eye(n, dtype=dtype))


def _lower_symmetric(x: Node, b: str, e: str, lead: bool) -> Node:
    """``E(X) = M ⊙ X + (N ⊙ X)ᵀ``: the symmetric matrix numpy's cholesky reads from ``X``
    (its lower triangle); ``lead``: the s4 axes ``e`` are in front, else at the end."""
    lower, strict, _ = _masks(x.shape[len(e) + len(b) if lead else len(b)], x.dtype)
    ij, ji = (e + b + "ij", e + b + "ji") if lead else (b + "ij" + e, b + "ji" + e)
    total = add(contract(lower, "ij", x, ij, ij), contract(strict, "ji", x, ji, ij))
    assert total is not None
    return total


def _lower_symmetric_adjoint(x: Node, b: str, e: str) -> Node:
    """``E*(G) = M ⊙ G + N ⊙ Gᵀ``, the adjoint of :func:`_lower_symmetric` (``e`` in front)."""
    lower, strict, _ = _masks(x.shape[-1], x.dtype)
    ij, ji = e + b + "ij", e + b + "ji"
    total = add(contract(lower, "ij", x, ij, ij), contract(strict, "ij", x, ji, ij))
    assert total is not None
    return total


def _cholesky_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``L̇ = L Φ(L⁻¹ E(Ȧ) L⁻ᵀ)``, ``Φ`` the lower triangle with the diagonal halved, both
    products with ``L⁻¹`` done by solves (proofs.cholesky)."""
    b = fresh_labels(x.ndim - 2, "ijkl")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijkl")
    s = _lower_symmetric(x_dot, b, e, lead=False)
    ij, ji = b + "ij" + e, b + "ji" + e
    half = contract(_solve_columns(y, s, len(e), lead=False, transposed=False, triangle="lower"), ij, None, "", ji)
    inner = contract(_solve_columns(y, half, len(e), lead=False, transposed=False, triangle="lower"), ji, None, "", ij)
    phi = contract(_masks(x.shape[-1], x.dtype)[2], "ij", inner, b + "ij" + e, b + "ij" + e)
    return contract(y, b + "ik", phi, b + "kj" + e, b + "ij" + e)


def _cholesky_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = E*(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``: the adjoint of each step of the forward rule, in reverse
    order (``Φ`` is its own adjoint; proofs.cholesky)."""
    b = fresh_labels(x.ndim - 2, "ijkl")
    e = fresh_labels(y_bar.ndim - y.ndim, b + "ijkl")
    product = contract(y, b + "ik", y_bar, e + b + "ij", e + b + "kj")
    phi = contract(_masks(x.shape[-1], x.dtype)[2], "kj", product, e + b + "kj", e + b + "kj")
    left = _solve_columns(y, phi, len(e), lead=True, transposed=True, triangle="lower")
    turned = contract(left, e + b + "kj", None, "", e + b + "jk")
    solved = _solve_columns(y, turned, len(e), lead=True, transposed=True, triangle="lower")
    s_bar = contract(solved, e + b + "jk", None, "", e + b + "kj")
    return _lower_symmetric_adjoint(s_bar, b, e)


def _cholesky(x: Array, overwrite: bool = False) -> Array:
    """LAPACK's ``potrf`` through scipy, the BLAS the triangular solves of the rules use: a
    chain that switched between numpy's and scipy's OpenBLAS (each with threads of its own)
    ran at half speed on two cores.

    A matrix in C order is handed to LAPACK as the Fortran-order matrix it already is,
    ``xᵀ``, with no transposing copy (scipy's ``cholesky`` makes one): the upper triangle of
    ``xᵀ`` holds the lower one of ``x``, the entries read as before; ``potrf`` factors it as
    ``xᵀ = UᵀU``, and ``U`` read in C order is ``L = Uᵀ`` with ``x = LLᵀ``. (That is LAPACK's
    upper-triangle algorithm, whose roundings differ from the lower one's in the last bits:
    a C-order and a Fortran-order ``x`` give factors equal to about 1e-15 relative, not bit
    for bit.) With ``overwrite`` (a plan's ``x`` that dies here) ``L`` takes ``x``'s own
    array, else a copy of it, so that ``L`` owns its memory: 1000 × 1000 float64, 7.6 ms by
    scipy's ``cholesky``, 6.6 ms in place. The other triangle is zeroed (``clean``). A batch
    in C order is factored matrix by matrix the same way; other dtypes, byte orders and
    layouts take scipy's ``cholesky`` as before."""
    c_order = x.flags.c_contiguous and x.ndim >= 2
    if x.size and x.dtype in POTRF_DTYPES and x.flags.aligned and (c_order or (x.ndim == 2 and x.flags.f_contiguous)):
        target = x if overwrite and x.flags.writeable else np.array(x, order="K")  # (K: C or F as x is)
        (potrf,) = scipy.linalg.get_lapack_funcs(("potrf",), (x,))
        for matrix in target.reshape(-1, *x.shape[-2:]) if c_order else (target,):  # (a batch: each matrix)
            factor, info = potrf(matrix.T if c_order else matrix, lower=int(not c_order), clean=1, overwrite_a=1)
            if info != 0:
                raise LinAlgError(
                    "cholesky: the matrix is not positive definite" if info > 0 else f"cholesky: potrf error {info}"
                )
            if not np.shares_memory(factor, matrix):  # (f2py copied: its array holds L)
                matrix[...] = factor.T if c_order else factor
        return target
    try:
        return np.asarray(scipy.linalg.cholesky(x, lower=True, check_finite=False))
    except np.linalg.LinAlgError:
        raise LinAlgError("cholesky: the matrix is not positive definite") from None


POTRF_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes the Cholesky kernel factors with ``potrf`` itself (native byte order)."""


register_general(
    "cholesky",
    _upcast_half(_cholesky),
    _square_shape("cholesky"),
    _cholesky_jvp,
    _cholesky_vjp,
    batch=in_front,
    overwrite=lambda x, _: _cholesky(x, overwrite=True),
)
