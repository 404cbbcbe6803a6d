"""Reductions and normalizations along axes: ``softmax``, ``log_softmax``, ``logsumexp``, ``norm``,
``max``, ``min``.

``params[0]`` is the tuple of axes; each rule applies the Jacobian as sums and products
along them (proofs ``forward_general_unary`` and ``reverse_general_unary``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special

from tensorad._types import Array, Labels, Shape
from tensorad.ir.build import astype, contract
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, axes_after, call, pointwise, real_only, register_general


def _axes_labels(x: Node, params: tuple[Any, ...]) -> tuple[Labels, Labels]:
    """Labels of ``x`` and of ``x`` without the reduced axes ``params[0]``."""
    own = fresh_labels(x.ndim)
    axes = params[0]
    return own, "".join(label for k, label in enumerate(own) if k not in axes)


def _reduce_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    return tuple(n for k, n in enumerate(x) if k not in params[0])


def _softmax_impl(x: Array, params: tuple[Any, ...], out: Array | None = None) -> Array:
    """``exp(x − max x) / Σ exp(x − max x)`` along the axes, in one array (``out``: ``x``'s
    own, when a plan's ``x`` dies here and is of the result's dtype; a 0-d ``x``'s difference
    is a numpy scalar, made an array to compute in)."""
    shifted = np.asarray(np.subtract(x, np.max(x, axis=params[0], keepdims=True, initial=-np.inf), out=out))
    np.exp(shifted, out=shifted)
    return np.asarray(np.divide(shifted, np.sum(shifted, axis=params[0], keepdims=True), out=shifted))


def _softmax_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = p ⊙ Ȧ − p ⊙ Σ_axis(p ⊙ Ȧ)`` with ``p = C``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    s = contract(y, own, x_dot, own + e, kept + e)
    return contract(y, own, x_dot, own + e, own + e) + contract(y, own, s, kept + e, own + e, scale=-1.0)


def _softmax_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = p ⊙ C̄ − p ⊙ Σ_axis(p ⊙ C̄)``: the softmax Jacobian is symmetric."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    s = contract(y_bar, e + own, y, own, e + kept)
    return contract(y_bar, e + own, y, own, e + own) + contract(s, e + kept, y, own, e + own, scale=-1.0)


register_general(
    "softmax",
    _softmax_impl,
    lambda x, _: x,
    _softmax_jvp,
    _softmax_vjp,
    batch=axes_after,
    overwrite=lambda x, params: _softmax_impl(x, params, out=x),
)


def _log_softmax_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = Ȧ − Σ_axis(p ⊙ Ȧ)``, the sum broadcast back along the axes, ``p = softmax(A)``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    sizes = dict(zip(own + e, x_dot.shape, strict=True))
    s = contract(apply("softmax", x, params), own, x_dot, own + e, kept + e)
    return x_dot + contract(s, kept + e, None, "", own + e, sizes=sizes, scale=-1.0)


def _log_softmax_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = C̄ − p ⊙ Σ_axis(C̄)``, ``p = softmax(A)``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    s = contract(y_bar, e + own, None, "", e + kept)
    return y_bar + contract(s, e + kept, apply("softmax", x, params), own, e + own, scale=-1.0)


register_general(
    "log_softmax",
    lambda x, p: np.asarray(scipy.special.log_softmax(x, axis=p[0])),
    lambda x, _: x,
    _log_softmax_jvp,
    _log_softmax_vjp,
    batch=axes_after,
)


def _logsumexp_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = Σ_axis softmax(A) ⊙ Ȧ``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    return contract(apply("softmax", x, params), own, x_dot, own + e, kept + e)


def _logsumexp_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = C̄ ⊗ softmax(A)`` (broadcast along the reduced axes)."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    return contract(y_bar, e + kept, apply("softmax", x, params), own, e + own)


register_general(
    "logsumexp",
    lambda x, p: np.reshape(scipy.special.logsumexp(x, axis=p[0]), _reduce_shape(x.shape, p)),
    _reduce_shape,
    _logsumexp_jvp,
    _logsumexp_vjp,
    batch=axes_after,
)


def _norm_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = Σ_axis A ⊙ Ȧ / C``."""
    real_only("norm", x)
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    t = contract(x, own, x_dot, own + e, kept + e)
    return contract(call("reciprocal", y), kept, t, kept + e, kept + e)


def _norm_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = (C̄ / C) ⊗ A``."""
    real_only("norm", x)
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    t = contract(y_bar, e + kept, call("reciprocal", y), kept, e + kept)
    return contract(t, e + kept, x, own, e + own)


def _norm(x: Array, params: tuple[Any, ...]) -> Array:
    """The 2-norm: ``sqrt(Σ |x|²)``, real for complex ``x`` (the conjugate is in ``|x|²``)."""
    return np.asarray(np.sqrt(np.sum(np.square(np.abs(x)), axis=params[0])))


register_general("norm", _norm, _reduce_shape, _norm_jvp, _norm_vjp, real=True, batch=axes_after)


# ------------------------------------------------------------------ max and min


def _arg_extreme(x: Node, y: Node, params: tuple[Any, ...]) -> Node:
    """``w = m / Σ_axis m`` with the mask ``m = (x == y)`` along the reduced axes: the weight
    of each entry in the derivative of its max (or min), split equally among ties as JAX
    does. ``m`` has no derivative, so neither has ``w``: the second derivative is 0."""
    own, kept = _axes_labels(x, params)
    sizes = dict(zip(own, x.shape, strict=True))
    mask = astype(pointwise("equal", (x, contract(y, kept, None, "", own, sizes=sizes))), x.dtype)
    count = contract(mask, own, None, "", kept)
    return contract(mask, own, call("reciprocal", count), kept, own)


def _extreme_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = Σ_axis w ⊙ Ȧ``, ``w`` the arg-extremum weights (:func:`_arg_extreme`)."""
    real_only("max and min", x)
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    return contract(_arg_extreme(x, y, params), own, x_dot, own + e, kept + e)


def _extreme_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = C̄ ⊗ w``: the cotangent goes to the extremum (ties share it)."""
    real_only("max and min", x)
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    return contract(y_bar, e + kept, _arg_extreme(x, y, params), own, e + own)


register_general("max", lambda x, p: np.max(x, axis=p[0]), _reduce_shape, _extreme_jvp, _extreme_vjp, batch=axes_after)
register_general("min", lambda x, p: np.min(x, axis=p[0]), _reduce_shape, _extreme_jvp, _extreme_vjp, batch=axes_after)
