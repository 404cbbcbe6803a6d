"""Spectral decompositions and matrix functions: ``eigh`` (symmetric), ``svd`` and
``expm``, over the last two axes, batched in front.

A decomposition with several factors is one node whose rows pack them (``[V; w]``,
``[U; s; V]``), so one LAPACK call serves every factor and the rules read them back by
cropping. The rules hold where the decomposition is differentiable: distinct
eigenvalues, distinct nonzero singular values (proofs ``eigh``, ``svd``, ``expm``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from tensorad._types import Array, Shape
from tensorad.errors import LinAlgError, ShapeError
from tensorad.ir.build import add, contract
from tensorad.ir.constants import constant
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.ir.seeds import zeros
from tensorad.library.linalg import (
    _lower_symmetric,
    _lower_symmetric_adjoint,
    _solve_columns,
    _square_shape,
    _upcast_half,
)
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
    call,
    pointwise,
    register_general,
    register_general_function,
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


def _eigen_parts(y: Node) -> tuple[Node, Node, Node]:
    """``V``, ``w`` and ``F`` (``F_ij = 1/(w_j − w_i)`` off the diagonal, 0 on it) from the
    packed ``[V; w]``."""
    n = y.shape[-1]
    whole = tuple((0, m) for m in y.shape[:-2])
    v = apply("crop", y, ((*whole, (0, n), (0, n)),))
    w = apply("reshape", apply("crop", y, ((*whole, (n, n + 1), (0, n)),)), ((*y.shape[:-2], n),))
    f = _gaps(w)
    return v, w, f


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


register_general("eigh", _eigh, _eigh_shape, _eigh_jvp, _eigh_vjp)


# ------------------------------------------------------------------ expm and logm: Fréchet derivatives by blocks


def _frechet(fn: str, a: Node, e: Node, lead: int) -> Node:
    """``L(A, E)``, the Fréchet derivative of the matrix function ``fn`` (``expm``,
    ``logm``) at ``A`` in the direction ``E``: the top-right block of ``fn([[A, E], [0,
    A]])`` (Mathias's identity: exact, not a difference), for ``E`` with ``lead`` axes in
    front of ``A``'s."""
    n = a.shape[-1]
    labels = fresh_labels(e.ndim)
    a_wide = contract(a, labels[lead:], None, "", labels, sizes=dict(zip(labels, e.shape, strict=True)))
    zero = zeros(e.shape, e.dtype)
    top = apply_general("concatenate", (a_wide, e), (e.ndim - 1,))
    bottom = apply_general("concatenate", (zero, a_wide), (e.ndim - 1,))
    block = apply(fn, apply_general("concatenate", (top, bottom), (e.ndim - 2,)))
    whole = tuple((0, m) for m in e.shape[:-2])
    return apply("crop", block, ((*whole, (0, n), (n, 2 * n)),))


def _frechet_jvp(x: Node, y: Node, x_dot: Node, fn: str) -> Node:
    """``Ċ = L(A, Ȧ)``, the s4 axes of ``Ȧ`` moved in front as a batch and back (proofs.expm)."""
    extra = x_dot.ndim - x.ndim
    labels = fresh_labels(x_dot.ndim)
    own, e = labels[: x.ndim], labels[x.ndim :]
    front = contract(x_dot, labels, None, "", e + own)
    return contract(_frechet(fn, x, front, extra), e + own, None, "", labels)


def _frechet_vjp(x: Node, y: Node, y_bar: Node, fn: str) -> Node:
    """``Ā = L(Aᵀ, C̄)``: ``⟨C̄, L(A, E)⟩ = ⟨L(Aᵀ, C̄), E⟩`` for a function given by a power
    series with real coefficients (proofs.expm)."""
    labels = fresh_labels(x.ndim)
    return _frechet(
        fn, contract(x, labels, None, "", labels[:-2] + labels[-1] + labels[-2]), y_bar, y_bar.ndim - y.ndim
    )


def _expm(x: Array) -> Array:
    return np.asarray(scipy.linalg.expm(x))


def _logm(x: Array) -> Array:
    """scipy's principal logarithm; for real input its imaginary part must be rounding
    (scipy's Schur route leaves ~eps of it, more in float32), else there is no real log."""
    log = scipy.linalg.logm(x)
    if np.iscomplexobj(log) and not np.iscomplexobj(x):
        scale = max(float(np.abs(log.real).max(initial=0.0)), 1.0)
        eps = float(np.finfo(np.float32).eps if x.dtype == np.float32 else np.finfo(np.float64).eps)
        if float(np.abs(log.imag).max(initial=0.0)) > 1e3 * eps * scale:
            raise LinAlgError("logm: the matrix has no real principal logarithm (an eigenvalue on the negative axis)")
        log = log.real
    return np.asarray(log)


def _frechet_rules(fn: str) -> tuple[Any, Any]:
    """The forward and reverse rules of the matrix function ``fn``, by :func:`_frechet`."""

    def jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
        return _frechet_jvp(x, y, x_dot, fn)

    def vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
        return _frechet_vjp(x, y, y_bar, fn)

    return jvp, vjp


register_general("expm", _upcast_half(_expm), _square_shape("expm"), *_frechet_rules("expm"))
register_general("logm", _upcast_half(_logm), _square_shape("logm"), *_frechet_rules("logm"))


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


def _svd_rows(x: Node, y: Node) -> tuple[Node, Node, Node]:
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
    u, s, v = _svd_rows(x, y)
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
    u, s, v = _svd_rows(x, y)
    f, inverse = _gaps(call("square", s)), call("reciprocal", s)
    lead = y_bar.ndim - y.ndim
    u_bar, s_bar, v_bar = _svd_rows(x, y_bar)
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


register_general("svd", _upcast_half(_svd), _svd_shape, _svd_jvp, _svd_vjp)


# ------------------------------------------------------------------ qr: A = Q R, packed as [Q; R]


def _qr(x: Array) -> Array:
    """The reduced QR of an m × n matrix (m ≥ n) packed by rows: ``Q`` (m × n), ``R`` (n × n)."""
    q, r = np.linalg.qr(x)
    return np.concatenate([q, r], axis=-2)


def _qr_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if len(x) < 2 or x[-2] < x[-1]:
        raise ShapeError(f"qr needs matrices with at least as many rows as columns, got shape {x}")
    return (*x[:-2], x[-2] + x[-1], x[-1])


def _qr_rows(x: Node, y: Node) -> tuple[Node, Node]:
    """``Q`` and ``R`` from the packed rows of ``x``'s QR (or of a cotangent: leading axes)."""
    m, n = x.shape[-2:]
    whole = tuple((0, d) for d in y.shape[:-2])
    return apply("crop", y, ((*whole, (0, m), (0, n)),)), apply("crop", y, ((*whole, (m, m + n), (0, n)),))


def _strict_lower(n: int, dtype: np.dtype[Any]) -> Node:
    return constant(np.tril(np.ones((n, n), dtype), -1))


def _qr_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """With ``C = Qᵀ Ȧ R⁻¹`` and ``Ω = L(C) − L(C)ᵀ`` (``L``: the strict lower triangle):
    ``Q̇ = Q Ω + (Ȧ R⁻¹ − Q C)``, ``Ṙ = Qᵀ Ȧ − Ω R`` (proofs.qr)."""
    q, r = _qr_rows(x, y)
    n = x.shape[-1]
    b = fresh_labels(x.ndim - 2, "ijkp")
    e = fresh_labels(x_dot.ndim - x.ndim, b + "ijkp")
    turned = contract(x_dot, b + "pj" + e, None, "", b + "jp" + e)  # Ȧᵀ
    a_rinv = contract(
        _solve_columns(r, turned, len(e), lead=False, transposed=True), b + "jp" + e, None, "", b + "pj" + e
    )
    c = contract(q, b + "pi", a_rinv, b + "pj" + e, b + "ij" + e)
    low = contract(_strict_lower(n, x.dtype), "ij", c, b + "ij" + e, b + "ij" + e)
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
    q, r = _qr_rows(x, y)
    q_bar, r_bar = _qr_rows(x, y_bar)
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
    c_bar = contract(_strict_lower(n, x.dtype), "ij", skew, eb + "ij", eb + "ij")
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
    right = contract(_solve_columns(r, turned, len(e), lead=True, transposed=False), eb + "jp", None, "", eb + "pj")
    total = add(right, contract(q, b + "pk", r_bar, eb + "kj", eb + "pj"))
    assert total is not None
    return total


register_general("qr", _upcast_half(_qr), _qr_shape, _qr_jvp, _qr_vjp)


# ------------------------------------------------------------------ sqrtm through Sylvester equations


def sylvester(x: Node, c: Node, extra: int = 0, lead: bool = False, transposed: bool = False) -> Node:
    """``S`` with ``X S + S X = C`` (``Xᵀ`` when ``transposed``), for ``C`` with ``extra``
    s4 axes (in front when ``lead``, else moved there) solved as a batch; ``X`` is
    broadcast over them by the kernel, not by a node."""
    if lead or not extra:
        return apply_general("sylvester", (x, c), (transposed,))
    labels = fresh_labels(c.ndim)
    e, own = labels[c.ndim - extra :], labels[: c.ndim - extra]
    solved = apply_general("sylvester", (x, contract(c, labels, None, "", e + own)), (transposed,))
    return contract(solved, e + own, None, "", labels)


def _sylvester(arrays: tuple[Array, ...], params: tuple[Any, ...]) -> Array:
    x, c = arrays
    x = np.broadcast_to(np.swapaxes(x, -1, -2) if params[0] else x, c.shape)
    return np.asarray(scipy.linalg.solve_sylvester(x, x, c))


def _sylvester_shape(shapes: tuple[Shape, ...], params: tuple[Any, ...]) -> Shape:
    x, c = shapes
    if len(x) < 2 or x[-1] != x[-2] or len(c) < len(x) or c[len(c) - len(x) :] != x:
        raise ShapeError(f"sylvester needs a square X and a C of its shape (more axes in front), got {x} and {c}")
    return c


def _sylvester_labels(x: Node, y: Node, extra: int) -> tuple[str, str, str]:
    """Labels: ``X``'s batch, ``S``'s axes in front of it, and the seed's ``extra``."""
    b = fresh_labels(x.ndim - 2, "ijk")
    a = fresh_labels(y.ndim - x.ndim, b + "ijk")
    return b, a, fresh_labels(extra, a + b + "ijk")


def _sylvester_jvp(args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], params: tuple[Any, ...]) -> Node:
    """``Ṡ = sylv(X, Ċ − Ẋ S − S Ẋ)`` (``Ẋᵀ`` when transposed): from ``X S + S X = C``
    (proofs.sqrtm)."""
    x, c = args
    x_dot, c_dot = dots
    extra = x_dot.ndim - x.ndim if x_dot is not None else c_dot.ndim - c.ndim  # type: ignore[union-attr]
    b, a, e = _sylvester_labels(x, y, extra)
    r = c_dot
    if x_dot is not None:
        left, right = (b + "ki" + e, b + "jk" + e) if params[0] else (b + "ik" + e, b + "kj" + e)
        r = add(r, contract(x_dot, left, y, a + b + "kj", a + b + "ij" + e, scale=-1.0))
        r = add(r, contract(y, a + b + "ik", x_dot, right, a + b + "ij" + e, scale=-1.0))
    assert r is not None
    return sylvester(x, r, extra, transposed=params[0])


def _sylvester_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], params: tuple[Any, ...]
) -> tuple[Node | None, ...]:
    """``C̄ = sylv(Xᵀ, S̄)``, ``X̄ = −(C̄ Sᵀ + Sᵀ C̄)`` summed over ``S``'s extra leading
    axes (transposed: its transpose): the adjoints of the forward rule's terms (proofs.sqrtm)."""
    x, _ = args
    extra = y_bar.ndim - y.ndim
    c_bar = sylvester(x, y_bar, extra, lead=True, transposed=not params[0])
    if not needs[0]:
        return None, c_bar
    b, a, e = _sylvester_labels(x, y, extra)
    out = e + b + ("ji" if params[0] else "ij")
    first = contract(c_bar, e + a + b + "ik", y, a + b + "jk", out, scale=-1.0)
    x_bar = add(first, contract(y, a + b + "ki", c_bar, e + a + b + "kj", out, scale=-1.0))
    return x_bar, c_bar if needs[1] else None


register_general_function(GeneralFunction("sylvester", _sylvester, _sylvester_shape, _sylvester_jvp, _sylvester_vjp))


def _sqrtm_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ẋ = sylv(X, Ȧ)``: from ``X X = A``, ``Ẋ X + X Ẋ = Ȧ`` (proofs.sqrtm)."""
    return sylvester(y, x_dot, x_dot.ndim - x.ndim)


def _sqrtm_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = sylv(Xᵀ, X̄)``, the adjoint (proofs.sqrtm)."""
    return sylvester(y, y_bar, y_bar.ndim - y.ndim, lead=True, transposed=True)


def _sqrtm(x: Array) -> Array:
    root = scipy.linalg.sqrtm(x)
    if np.iscomplexobj(root) and not np.iscomplexobj(x):
        raise LinAlgError("sqrtm: the matrix has no real square root (a negative eigenvalue)")
    return np.asarray(root)


register_general("sqrtm", _upcast_half(_sqrtm), _square_shape("sqrtm"), _sqrtm_jvp, _sqrtm_vjp)
