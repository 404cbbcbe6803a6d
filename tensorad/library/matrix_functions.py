"""Matrix functions: ``expm`` and ``logm`` (their Fréchet derivatives by block-triangular
matrices) and ``sqrtm`` (through Sylvester equations, a function of two operands with
rules of its own), over the last two axes, batched in front (proofs ``expm``, ``sqrtm``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from tensorad._types import Array, Shape
from tensorad.errors import LinAlgError, ShapeError
from tensorad.ir.build import add, contract
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.ir.seeds import zeros
from tensorad.library.linalg import _square_shape, _upcast_half
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
    in_front,
    register_general,
    register_general_function,
)

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


register_general("expm", _upcast_half(_expm), _square_shape("expm"), *_frechet_rules("expm"), batch=in_front)
register_general("logm", _upcast_half(_logm), _square_shape("logm"), *_frechet_rules("logm"), batch=in_front)


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


register_general_function(
    GeneralFunction("sylvester", _sylvester, _sylvester_shape, _sylvester_jvp, _sylvester_vjp)
)


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


register_general("sqrtm", _upcast_half(_sqrtm), _square_shape("sqrtm"), _sqrtm_jvp, _sqrtm_vjp, batch=in_front)
