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

from tensorad._types import Array, Shape
from tensorad.errors import LinAlgError, ShapeError
from tensorad.ir.build import add, contract
from tensorad.ir.constants import constant
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
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


register_general("inv", _upcast_half(np.linalg.inv), _square_shape("inv"), _inv_jvp, _inv_vjp)


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


register_general("logdet", _upcast_half(_logdet), _square_shape("logdet"), _logdet_jvp, _logdet_vjp, real=True)


def _det_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ_{s4} = det(A) A⁻¹_{ji} Ȧ_{ij s4}``."""
    b, e = seed_labels(y, x_dot, "ij")
    e = e[2:]
    return contract(y, b, _jacobi(x, x_dot), b + e, b + e)


def _det_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā_{s4 ij} = C̄_{s4} det(A) A⁻¹_{ji}``."""
    b, e = seed_labels(y, y_bar, "ij")
    return _jacobi_adjoint(x, y, contract(y_bar, e + b, y, b, e + b))


register_general("det", _upcast_half(np.linalg.det), _square_shape("det"), _det_jvp, _det_vjp)


# ------------------------------------------------------------------ solve: X = A⁻¹ B, never the inverse


def _solve_shape(shapes: tuple[Shape, ...], params: tuple[Any, ...]) -> Shape:
    a, b = shapes
    if len(a) < 2 or a[-1] != a[-2] or len(b) != len(a) or b[:-2] != a[:-2] or b[-2] != a[-1]:
        raise ShapeError(f"solve needs square matrices (..., n, n) and right-hand sides (..., n, k), got {a} and {b}")
    return b


def _solve(arrays: tuple[Array, ...], params: tuple[Any, ...]) -> Array:
    a, b = (x.astype(np.float32) if x.dtype == np.float16 else x for x in arrays)
    return np.asarray(np.linalg.solve(np.swapaxes(a, -1, -2) if params[0] else a, b))


def solve(a: Node, b: Node, transposed: bool = False) -> Node:
    """``A⁻¹ B`` (``A⁻ᵀ B`` when ``transposed``) for ``A`` of shape (…, n, n) and ``B``
    of shape (…, n, k), by LU factorization (``numpy.linalg.solve``)."""
    return apply_general("solve", (a, b), (transposed,))


def _solve_columns(a: Node, r: Node, extra: int, lead: bool, transposed: bool) -> Node:
    """``A⁻¹ R`` for ``R`` with ``extra`` s4 axes (in front when ``lead``, else at the end)
    beside its (…, n, k): the s4 axes become more columns of one solve."""
    labels = fresh_labels(r.ndim)
    e, core = (labels[:extra], labels[extra:]) if lead else (labels[r.ndim - extra :], labels[: r.ndim - extra])
    columns = contract(r, labels, None, "", core + e)  # (…, n, k, s4)
    shape = columns.shape
    flat = apply("reshape", columns, ((*shape[: a.ndim - 1], math.prod(shape[a.ndim - 1 :])),))
    solved = apply("reshape", solve(a, flat, transposed), (shape,))
    return contract(solved, core + e, None, "", labels)


def _solve_jvp(args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], params: tuple[Any, ...]) -> Node:
    """``Ẋ = A⁻¹(Ḃ − Ȧ X)`` (``M = Aᵀ`` when transposed: ``Ṁ = Ȧᵀ``), one solve with the
    s4 axes as more columns: from ``A X = B``, ``Ȧ X + A Ẋ = Ḃ``  (proofs.solve)."""
    a, _ = args
    a_dot, b_dot = dots
    like = a_dot if a_dot is not None else b_dot
    assert like is not None
    extra = like.ndim - (a.ndim if like is a_dot else y.ndim)
    batch = fresh_labels(a.ndim - 2, "iljk")
    e = fresh_labels(extra, batch + "iljk")
    r = b_dot
    if a_dot is not None:
        m = batch + ("li" if params[0] else "il") + e
        change = contract(a_dot, m, y, batch + "lj", batch + "ij" + e, scale=-1.0)
        r = add(r, change)
    assert r is not None
    return _solve_columns(a, r, extra, lead=False, transposed=params[0])


def _solve_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], params: tuple[Any, ...]
) -> tuple[Node | None, ...]:
    """``B̄ = A⁻ᵀ X̄``, ``Ā = −B̄ Xᵀ`` (transposed: ``Ā = −X B̄ᵀ``): the adjoints of the
    forward rule's two terms  (proofs.solve)."""
    a, _ = args
    extra = y_bar.ndim - y.ndim
    b_bar = _solve_columns(a, y_bar, extra, lead=True, transposed=not params[0])
    if not needs[0]:
        return None, b_bar
    batch = fresh_labels(a.ndim - 2, "iljk")
    e = fresh_labels(extra, batch + "iljk")
    a_bar = contract(b_bar, e + batch + "ij", y, batch + "lj", e + batch + ("li" if params[0] else "il"), scale=-1.0)
    return a_bar, b_bar if needs[1] else None


register_general_function(GeneralFunction("solve", _solve, _solve_shape, _solve_jvp, _solve_vjp))


# ------------------------------------------------------------------ cholesky: L with A = L Lᵀ


def _masks(n: int, dtype: np.dtype[Any]) -> tuple[Node, Node, Node]:
    """Constant ``n × n`` masks: the lower triangle ``M``, the strict one ``N``, and
    ``W = N + ½ I`` (``Φ(X) = W ⊙ X``: the lower triangle, the diagonal halved)."""
    lower, strict = np.tril(np.ones((n, n), dtype)), np.tril(np.ones((n, n), dtype), -1)
    return constant(lower), constant(strict), constant(strict + 0.5 * np.eye(n, dtype=dtype))


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
    half = contract(_solve_columns(y, s, len(e), lead=False, transposed=False), ij, None, "", ji)
    inner = contract(_solve_columns(y, half, len(e), lead=False, transposed=False), ji, None, "", ij)
    phi = contract(_masks(x.shape[-1], x.dtype)[2], "ij", inner, b + "ij" + e, b + "ij" + e)
    return contract(y, b + "ik", phi, b + "kj" + e, b + "ij" + e)


def _cholesky_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = E*(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``: the adjoint of each step of the forward rule, in reverse
    order (``Φ`` is its own adjoint; proofs.cholesky)."""
    b = fresh_labels(x.ndim - 2, "ijkl")
    e = fresh_labels(y_bar.ndim - y.ndim, b + "ijkl")
    product = contract(y, b + "ik", y_bar, e + b + "ij", e + b + "kj")
    phi = contract(_masks(x.shape[-1], x.dtype)[2], "kj", product, e + b + "kj", e + b + "kj")
    left = _solve_columns(y, phi, len(e), lead=True, transposed=True)
    turned = contract(left, e + b + "kj", None, "", e + b + "jk")
    solved = _solve_columns(y, turned, len(e), lead=True, transposed=True)
    s_bar = contract(solved, e + b + "jk", None, "", e + b + "kj")
    return _lower_symmetric_adjoint(s_bar, b, e)


def _cholesky(x: Array) -> Array:
    try:
        return np.asarray(np.linalg.cholesky(x))
    except np.linalg.LinAlgError:
        raise LinAlgError("cholesky: the matrix is not positive definite") from None


register_general("cholesky", _upcast_half(_cholesky), _square_shape("cholesky"), _cholesky_jvp, _cholesky_vjp)
