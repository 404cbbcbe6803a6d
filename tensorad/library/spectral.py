"""Decompositions: ``eigh`` (symmetric), ``svd`` and ``qr``, over the last two axes,
batched in front (the matrix functions are in :mod:`tensorad.library.matrix_functions`).

A decomposition with several factors is one node whose rows pack them (``[V; w]``,
``[U; s; V]``, ``[Q; R]``), so one LAPACK call serves every factor and the rules read them
back by cropping. The rules hold where the decomposition is differentiable: distinct
eigenvalues, distinct nonzero singular values, full column rank (proofs ``eigh``,
``svd``, ``qr``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorad._types import Array, Shape
from tensorad.errors import ShapeError
from tensorad.ir.build import add, contract
from tensorad.ir.constants import constant
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.library.linalg import (
    _lower_symmetric,
    _lower_symmetric_adjoint,
    _solve_columns,
    _square_shape,
    _upcast_half,
    square_and_row,
    triangle_mask,
)
from tensorad.library.registry import (
    apply,
    apply_general,
    call,
    in_front,
    pointwise,
    register_general,
)

# ------------------------------------------------------------------ eigh: A = V diag(w) Vᵀ, packed as [V; w]


def _eigh(x: Array, params: tuple[Any, ...]) -> Array:
    """Eigenvectors (columns) with the eigenvalues as one more row: (…, n + 1, n), of the
    symmetric matrix read from the triangle ``params[0]`` (numpy's ``UPLO``)."""
    w, v = np.linalg.eigh(x.astype(np.float32) if x.dtype == np.float16 else x, UPLO=params[0])
    return np.concatenate([v, w[..., None, :]], axis=-2)


def _eigh_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    _square_shape("eigh")(x, params)
    return (*x[:-2], x[-1] + 1, x[-1])


def _gaps(values: Node) -> Node:
    """``F``: ``Fᵢⱼ = 1/(valuesⱼ − valuesᵢ)`` off the diagonal, 0 on it (the eigenvalues
    for ``eigh``, the squared singular values for ``svd``)."""
    k = values.shape[-1]
    b = fresh_labels(values.ndim - 1, "ij")
    gap = add(
        contract(values, b + "j", None, "", b + "ij", sizes={"i": k}),
        contract(values, b + "i", None, "", b + "ij", sizes={"j": k}, scale=-1.0),
    )
    assert gap is not None
    diagonal = constant(np.broadcast_to(np.eye(k, dtype=bool), gap.shape).copy())
    safe = pointwise("where", (diagonal, constant(np.ones(gap.shape, gap.dtype)), gap))
    return pointwise("where", (diagonal, constant(np.zeros(gap.shape, gap.dtype)), call("reciprocal", safe)))


def eigen_rows(y: Node) -> tuple[Node, Node]:
    """``V`` and ``w`` from the packed ``[V; w]`` of an ``eigh`` node (the rules and
    :func:`tensorad.numpy.linalg.eigh` both read them so)."""
    return square_and_row(y)


def _eigen_parts(y: Node) -> tuple[Node, Node, Node]:
    """``V``, ``w`` and ``F`` (``F_ij = 1/(w_j − w_i)`` off the diagonal, 0 on it) from the
    packed ``[V; w]``."""
    v, w = eigen_rows(y)
    return v, w, _gaps(w)


def _eigh_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``ẇ_i = (Vᵀ S V)_ii``, ``V̇ = V (F ⊙ (Vᵀ S V))`` with ``S = E(Ȧ)`` (numpy reads the
    lower triangle), packed as ``[V̇; ẇ]``; for distinct eigenvalues (proofs.eigh)."""
    v, _, f = _eigen_parts(y)
    b = fresh_labels(x.ndim - 2, "ijkl")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijkl")
    ij, ji = b + "ij" + e, b + "ji" + e
    s = _lower_symmetric(x_dot if params[0] == "L" else contract(x_dot, ij, None, "", ji), b, e, lead=False)
    rotated = contract(v, b + "ki", contract(s, b + "kl" + e, v, b + "lj", b + "kj" + e), b + "kj" + e, b + "ij" + e)
    w_dot = contract(rotated, b + "ii" + e, None, "", b + "i" + e)
    v_dot = contract(
        v, b + "ik", contract(f, b + "kj", rotated, b + "kj" + e, b + "kj" + e), b + "kj" + e, b + "ij" + e
    )
    return apply_general(
        "concatenate", (v_dot, contract(w_dot, b + "j" + e, None, "", b + "ij" + e, sizes={"i": 1})), (x.ndim - 2,)
    )


def _eigh_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = E*(V (diag(w̄) + F ⊙ (Vᵀ V̄)) Vᵀ)``: the adjoint of the forward rule (proofs.eigh)."""
    v, _, f = _eigen_parts(y)
    n = x.shape[-1]
    lead = y_bar.ndim - y.ndim
    b = fresh_labels(x.ndim - 2, "ijkl")
    e = fresh_labels(lead, b + "ijkl")
    whole = tuple((0, m) for m in y_bar.shape[:-2])
    v_bar = apply("crop", y_bar, ((*whole, (0, n), (0, n)),))
    w_bar = contract(apply("crop", y_bar, ((*whole, (n, n + 1), (0, n)),)), e + b + "zi", None, "", e + b + "i")
    inner = add(
        contract(w_bar, e + b + "i", None, "", e + b + "ii"),
        contract(f, b + "kj", contract(v, b + "ik", v_bar, e + b + "ij", e + b + "kj"), e + b + "kj", e + b + "kj"),
    )
    assert inner is not None
    s_bar = contract(contract(v, b + "ik", inner, e + b + "kl", e + b + "il"), e + b + "il", v, b + "jl", e + b + "ij")
    a_bar = _lower_symmetric_adjoint(s_bar, b, e)
    return a_bar if params[0] == "L" else contract(a_bar, e + b + "ij", None, "", e + b + "ji")


register_general("eigh", _eigh, _eigh_shape, _eigh_jvp, _eigh_vjp, batch=in_front)


# ------------------------------------------------------------------ svd: A = U diag(s) Vᵀ, packed as [U; s; V]


def _svd(x: Array) -> Array:
    """The thin SVD packed by rows: ``U`` (m × k), ``s`` (one row), ``V`` (n × k), k = min(m, n)."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vt, -1, -2)], axis=-2)


def _svd_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if len(x) < 2:
        raise ShapeError(f"svd needs matrices in the last two axes, got shape {x}")
    m, n = x[-2:]
    return (*x[:-2], m + 1 + n, min(m, n))


def svd_rows(x: Node, y: Node) -> tuple[Node, Node, Node]:
    """``U``, ``s``, ``V`` from the packed rows ``y`` of ``x``'s SVD (or the same rows of a
    cotangent, whose extra axes lead)."""
    m, n, k = x.shape[-2], x.shape[-1], y.shape[-1]
    whole = tuple((0, d) for d in y.shape[:-2])

    def rows(a: int, b: int) -> Node:
        return apply("crop", y, ((*whole, (a, b), (0, k)),))

    return rows(0, m), apply("reshape", rows(m, m + 1), ((*y.shape[:-2], k),)), rows(m + 1, m + 1 + n)


def _svd_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """With ``P = Uᵀ Ȧ V``: ``ṡ = diag(P)``, ``U̇ = U (F ⊙ (P S + S Pᵀ)) + (Ȧ V − U P) S⁻¹``,
    ``V̇ = V (F ⊙ (S P + Pᵀ S)) + (Ȧᵀ U − V Pᵀ) S⁻¹``; for distinct nonzero singular
    values (proofs.svd)."""
    u, s, v = svd_rows(x, y)
    f, inverse = _gaps(call("square", s)), call("reciprocal", s)
    b = fresh_labels(x.ndim - 2, "ijpq")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijpq")
    av = contract(x_dot, b + "pq" + e, v, b + "qj", b + "pj" + e)  # Ȧ V
    atu = contract(x_dot, b + "pq" + e, u, b + "pj", b + "qj" + e)  # Ȧᵀ U
    p = contract(u, b + "pi", av, b + "pj" + e, b + "ij" + e)
    ps = contract(p, b + "ij" + e, s, b + "j", b + "ij" + e)
    sp = contract(s, b + "i", p, b + "ij" + e, b + "ij" + e)
    spt = contract(s, b + "i", p, b + "ji" + e, b + "ij" + e)  # S Pᵀ
    pts = contract(p, b + "ji" + e, s, b + "j", b + "ij" + e)  # Pᵀ S

    def turned(basis: Node, first: Node, second: Node, moved: Node, own: Node, transpose: bool) -> Node:
        """``basis (F ⊙ (first + second)) + (moved − basis P(ᵀ)) S⁻¹``."""
        inside = add(first, second)
        assert inside is not None
        weighted = contract(f, b + "kj", inside, b + "kj" + e, b + "kj" + e)
        rotated = contract(basis, b + "pk", weighted, b + "kj" + e, b + "pj" + e)
        projected = contract(basis, b + "pk", p, b + ("jk" if transpose else "kj") + e, b + "pj" + e, scale=-1.0)
        rest = add(moved, projected)
        assert rest is not None
        total = add(rotated, contract(rest, b + "pj" + e, own, b + "j", b + "pj" + e))
        assert total is not None
        return total

    u_dot = turned(u, ps, spt, av, inverse, transpose=False)
    v_dot = turned(v, sp, pts, atu, inverse, transpose=True)
    s_dot = contract(p, b + "jj" + e, None, "", b + "ij" + e, sizes={"i": 1})
    return apply_general("concatenate", (u_dot, s_dot, v_dot), (x.ndim - 2,))


def _svd_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = U P̄ Vᵀ + Ū S⁻¹ Vᵀ + U S⁻¹ V̄ᵀ`` with ``P̄ = J S + Jᵀ S + S K + S Kᵀ − Uᵀ Ū S⁻¹
    − S⁻¹ V̄ᵀ V + diag(s̄)``, ``J = F ⊙ Uᵀ Ū``, ``K = F ⊙ Vᵀ V̄``: the adjoint of the forward
    rule (proofs.svd)."""
    u, s, v = svd_rows(x, y)
    f, inverse = _gaps(call("square", s)), call("reciprocal", s)
    lead = y_bar.ndim - y.ndim
    u_bar, s_bar, v_bar = svd_rows(x, y_bar)
    b = fresh_labels(x.ndim - 2, "ijpq")
    e = fresh_labels(lead, b + "ijpq")
    ub, vb = e + b, e + b
    j = contract(f, b + "ij", contract(u, b + "pi", u_bar, ub + "pj", ub + "ij"), ub + "ij", ub + "ij")
    k = contract(f, b + "ij", contract(v, b + "pi", v_bar, vb + "pj", vb + "ij"), vb + "ij", vb + "ij")
    terms = [
        contract(j, ub + "ij", s, b + "j", ub + "ij"),
        contract(j, ub + "ji", s, b + "j", ub + "ij"),
        contract(s, b + "i", k, ub + "ij", ub + "ij"),
        contract(s, b + "i", k, ub + "ji", ub + "ij"),
        contract(contract(u, b + "pi", u_bar, ub + "pj", ub + "ij"), ub + "ij", inverse, b + "j", ub + "ij", scale=-1),
        contract(inverse, b + "i", contract(v_bar, ub + "pi", v, b + "pj", ub + "ij"), ub + "ij", ub + "ij", scale=-1),
        contract(s_bar, ub + "i", None, "", ub + "ii"),
    ]
    p_bar = None
    for term in terms:
        p_bar = add(p_bar, term)
    assert p_bar is not None
    core = contract(contract(u, b + "pi", p_bar, ub + "ij", ub + "pj"), ub + "pj", v, b + "qj", ub + "pq")
    from_u = contract(contract(u_bar, ub + "pj", inverse, b + "j", ub + "pj"), ub + "pj", v, b + "qj", ub + "pq")
    from_v = contract(contract(u, b + "pj", inverse, b + "j", b + "pj"), b + "pj", v_bar, ub + "qj", ub + "pq")
    total = add(add(core, from_u), from_v)
    assert total is not None
    return total


register_general("svd", _upcast_half(_svd), _svd_shape, _svd_jvp, _svd_vjp, batch=in_front)


# ------------------------------------------------------------------ qr: A = Q R, packed as [Q; R]


def _qr(x: Array) -> Array:
    """The reduced QR of an m × n matrix (m ≥ n) packed by rows: ``Q`` (m × n), ``R`` (n × n)."""
    q, r = np.linalg.qr(x)
    return np.concatenate([q, r], axis=-2)


def _qr_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if len(x) < 2 or x[-2] < x[-1]:
        raise ShapeError(f"qr needs matrices with at least as many rows as columns, got shape {x}")
    return (*x[:-2], x[-2] + x[-1], x[-1])


def qr_rows(x: Node, y: Node) -> tuple[Node, Node]:
    """``Q`` and ``R`` from the packed rows of ``x``'s QR (or of a cotangent: leading axes)."""
    m, n = x.shape[-2:]
    whole = tuple((0, d) for d in y.shape[:-2])
    return apply("crop", y, ((*whole, (0, m), (0, n)),)), apply("crop", y, ((*whole, (m, m + n), (0, n)),))


def _qr_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """With ``C = Qᵀ Ȧ R⁻¹`` and ``Ω = L(C) − L(C)ᵀ`` (``L``: the strict lower triangle):
    ``Q̇ = Q Ω + (Ȧ R⁻¹ − Q C)``, ``Ṙ = Qᵀ Ȧ − Ω R`` (proofs.qr)."""
    q, r = qr_rows(x, y)
    n = x.shape[-1]
    b = fresh_labels(x.ndim - 2, "ijkp")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijkp")
    turned = contract(x_dot, b + "pj" + e, None, "", b + "jp" + e)  # Ȧᵀ
    a_rinv = contract(
        _solve_columns(r, turned, len(e), lead=False, transposed=True, triangle="upper"),
        b + "jp" + e,
        None,
        "",
        b + "pj" + e,
    )
    c = contract(q, b + "pi", a_rinv, b + "pj" + e, b + "ij" + e)
    low = contract(triangle_mask("unit lower", n, x.dtype), "ij", c, b + "ij" + e, b + "ij" + e)
    omega = add(low, contract(low, b + "ji" + e, None, "", b + "ij" + e, scale=-1.0))
    assert omega is not None
    q_dot = add(
        contract(q, b + "pk", omega, b + "kj" + e, b + "pj" + e),
        add(a_rinv, contract(q, b + "pk", c, b + "kj" + e, b + "pj" + e, scale=-1.0)),
    )
    r_dot = add(
        contract(q, b + "pi", x_dot, b + "pj" + e, b + "ij" + e),
        contract(omega, b + "ik" + e, r, b + "kj", b + "ij" + e, scale=-1.0),
    )
    assert q_dot is not None and r_dot is not None
    return apply_general("concatenate", (q_dot, r_dot), (x.ndim - 2,))


def _qr_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = (Q̄ − Q Qᵀ Q̄) R⁻ᵀ + Q R̄ + Q C̄ R⁻ᵀ`` with ``Ω̄ = Qᵀ Q̄ − R̄ Rᵀ`` and
    ``C̄ = L(Ω̄ − Ω̄ᵀ)``: the adjoint of the forward rule (proofs.qr)."""
    q, r = qr_rows(x, y)
    q_bar, r_bar = qr_rows(x, y_bar)
    n = x.shape[-1]
    b = fresh_labels(x.ndim - 2, "ijkp")
    e = fresh_labels(y_bar.ndim - y.ndim, b + "ijkp")
    eb = e + b
    omega_bar = add(
        contract(q, b + "pi", q_bar, eb + "pj", eb + "ij"),
        contract(r_bar, eb + "ik", r, b + "jk", eb + "ij", scale=-1.0),
    )
    assert omega_bar is not None
    skew = add(omega_bar, contract(omega_bar, eb + "ji", None, "", eb + "ij", scale=-1.0))
    assert skew is not None
    c_bar = contract(triangle_mask("unit lower", n, x.dtype), "ij", skew, eb + "ij", eb + "ij")
    inner = add(
        q_bar,
        contract(
            q,
            b + "pk",
            add(contract(q, b + "lk", q_bar, eb + "lj", eb + "kj", scale=-1.0), c_bar),
            eb + "kj",
            eb + "pj",
        ),
    )
    assert inner is not None
    # (inner) R⁻ᵀ = (R⁻¹ innerᵀ)ᵀ, by a solve with the seed's axes as more columns
    turned = contract(inner, eb + "pj", None, "", eb + "jp")
    right = contract(
        _solve_columns(r, turned, len(e), lead=True, transposed=False, triangle="upper"), eb + "jp", None, "", eb + "pj"
    )
    total = add(right, contract(q, b + "pk", r_bar, eb + "kj", eb + "pj"))
    assert total is not None
    return total


register_general("qr", _upcast_half(_qr), _qr_shape, _qr_jvp, _qr_vjp, batch=in_front)
