"""Registries of functions: one entry each, implementation beside derivative.

Elementwise functions carry their derivative ``f'`` as an *expression* of the input
``x`` and the output ``y = f(x)``, so derivatives differentiate again. General unary
functions (tensor-to-tensor maps) carry a forward rule and a reverse rule built from
tensorad operations; neither ever forms a dense Jacobian.

For a general unary ``C = f(A)`` with ``f: s1 → s2``, the rules implement (see
:mod:`tensorad.rules` and the proofs of §4.1 and §5.1)::

    Ċ = *(s2 s1, s1 s4, s2 s4)(f'(A), Ȧ)        Ā = *(s4 s2, s2 s1, s4 s1)(C̄, f'(A))

with ``f'(A)`` applied through its structure (``inv``: ``Ċ = −C Ȧ C``) instead of
materialized. ``Ȧ`` carries ``s4`` as trailing axes, ``C̄`` as leading axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special

from tensorad._types import Array, Labels, Shape
from tensorad.build import broadcast_to, contract, elementwise, fresh_labels, general_unary, scalar, scale
from tensorad.errors import ShapeError, TensoradError
from tensorad.expr import Node

Derivative = Callable[[Node, Node, float | None], Node | None]


@dataclass(frozen=True, slots=True)
class ElementwiseFunction:
    """``impl(x, param)`` on arrays; ``derivative(x, y, param)`` as an expression (None = 0)."""

    name: str
    impl: Callable[[Array, float | None], Array]
    derivative: Derivative


ELEMENTWISE: dict[str, ElementwiseFunction] = {}


def _elementwise(name: str, impl: Callable[[Array, float | None], Array], derivative: Derivative) -> None:
    ELEMENTWISE[name] = ElementwiseFunction(name, impl, derivative)


def call(name: str, x: Node, param: float | None = None) -> Node:
    """``name(x)`` as a node (the registry entry must exist)."""
    if name not in ELEMENTWISE:
        raise TensoradError(f"unknown elementwise function {name!r}; known: {sorted(ELEMENTWISE)}")
    return elementwise(name, x, param)


def _sigmoid(x: Array, _: float | None) -> Array:
    return np.asarray(scipy.special.expit(x))


_SQRT_PI_INV = 2.0 / math.sqrt(math.pi)

# name, numpy implementation, derivative f'(x) written with y = f(x)
_elementwise("exp", lambda x, _: np.exp(x), lambda x, y, _: y)
_elementwise("log", lambda x, _: np.log(x), lambda x, y, _: call("reciprocal", x))
_elementwise("log1p", lambda x, _: np.log1p(x), lambda x, y, _: call("reciprocal", 1.0 + x))
_elementwise("expm1", lambda x, _: np.expm1(x), lambda x, y, _: y + 1.0)
_elementwise("sin", lambda x, _: np.sin(x), lambda x, y, _: call("cos", x))
_elementwise("cos", lambda x, _: np.cos(x), lambda x, y, _: -call("sin", x))
_elementwise("tan", lambda x, _: np.tan(x), lambda x, y, _: 1.0 + call("square", y))
_elementwise("tanh", lambda x, _: np.tanh(x), lambda x, y, _: 1.0 - call("square", y))
_elementwise("sinh", lambda x, _: np.sinh(x), lambda x, y, _: call("cosh", x))
_elementwise("cosh", lambda x, _: np.cosh(x), lambda x, y, _: call("sinh", x))
_elementwise("sigmoid", _sigmoid, lambda x, y, _: y * (1.0 - y))
_elementwise("softplus", lambda x, _: np.logaddexp(0.0, x), lambda x, y, _: call("sigmoid", x))
_elementwise("sqrt", lambda x, _: np.sqrt(x), lambda x, y, _: 0.5 * call("reciprocal", y))
_elementwise("square", lambda x, _: np.square(x), lambda x, y, _: scale(x, 2.0))
_elementwise("reciprocal", lambda x, _: np.reciprocal(x), lambda x, y, _: -call("square", y))
_elementwise("abs", lambda x, _: np.abs(x), lambda x, y, _: call("sign", x))
_elementwise("sign", lambda x, _: np.sign(x), lambda x, y, _: None)
_elementwise(
    "erf",
    lambda x, _: scipy.special.erf(x),
    lambda x, y, _: _SQRT_PI_INV * call("exp", -call("square", x)),
)


def _power_impl(x: Array, c: float | None) -> Array:
    assert c is not None
    return np.power(x, np.asarray(c, dtype=x.dtype))


def _power_derivative(x: Node, y: Node, c: float | None) -> Node | None:
    assert c is not None
    if c == 0.0:
        return None
    if c == 1.0:
        return broadcast_to(scalar(1.0, x.dtype), x.shape)
    return c * call("power", x, c - 1.0)


_elementwise("power", _power_impl, _power_derivative)


# --------------------------------------------------------------------------- general unary

Rule = Callable[[Node, Node, Node, tuple[Any, ...]], Node]


@dataclass(frozen=True, slots=True)
class GeneralUnaryFunction:
    """A tensor-to-tensor map ``y = f(x; params)``.

    ``shape(x_shape, params)`` validates and gives ``y``'s shape; ``jvp(x, y, x_dot,
    params)`` returns ``ẏ`` (``x_dot`` has trailing s4 axes); ``vjp(x, y, y_bar,
    params)`` returns ``x̄`` (``y_bar`` has leading s4 axes).
    """

    name: str
    impl: Callable[[Array, tuple[Any, ...]], Array]
    shape: Callable[[Shape, tuple[Any, ...]], Shape]
    jvp: Rule
    vjp: Rule


GENERAL_UNARY: dict[str, GeneralUnaryFunction] = {}


def apply(name: str, x: Node, params: tuple[Any, ...] = ()) -> Node:
    """``name(x; params)`` as a node, its shape checked by the registry entry."""
    if name not in GENERAL_UNARY:
        raise TensoradError(f"unknown general unary function {name!r}; known: {sorted(GENERAL_UNARY)}")
    return general_unary(name, x, params, GENERAL_UNARY[name].shape(x.shape, params))


def _labels(x: Node, extra: Node, reserved: str = "") -> tuple[Labels, Labels]:
    """Labels for ``x``'s axes and for the s4 axes that ``extra`` has beyond ``x``."""
    own = fresh_labels(x.ndim, reserved)
    return own, fresh_labels(extra.ndim - x.ndim, own + reserved)


def _square_shape(name: str) -> Callable[[Shape, tuple[Any, ...]], Shape]:
    def shape(x: Shape, params: tuple[Any, ...]) -> Shape:
        if len(x) < 2 or x[-1] != x[-2]:
            raise ShapeError(f"{name} needs square matrices in the last two axes, got shape {x}")
        return x if name == "inv" else x[:-2]

    return shape


def _inv_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = −C Ȧ C``: ``Ċ_{ij s4} = −C_{ik} Ȧ_{kl s4} C_{lj}``."""
    b, e = _labels(y, x_dot, "ijkl")
    b = b[:-2]
    t = contract(x_dot, b + "kl" + e, y, b + "lj", b + "kj" + e)
    return contract(y, b + "ik", t, b + "kj" + e, b + "ij" + e, scale=-1.0)


def _inv_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = −Cᵀ C̄ Cᵀ``: ``Ā_{s4 kl} = −C_{ik} C̄_{s4 ij} C_{lj}``."""
    b, e = _labels(y, y_bar, "ijkl")
    b = b[:-2]
    t = contract(y_bar, e + b + "ij", y, b + "lj", e + b + "il")
    return contract(y, b + "ik", t, e + b + "il", e + b + "kl", scale=-1.0)


def _logdet_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ_{s4} = A⁻¹_{ji} Ȧ_{ij s4}`` (Jacobi's formula)."""
    b, e = _labels(x, x_dot, "ij")
    b = b[:-2]
    return contract(apply("inv", x), b + "ji", x_dot, b + "ij" + e, b + e)


def _logdet_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā_{s4 ij} = C̄_{s4} A⁻¹_{ji}``: the gradient of log|det A| is A⁻ᵀ."""
    b, e = _labels(y, y_bar, "ij")
    return contract(y_bar, e + b, apply("inv", x), b + "ji", e + b + "ij")


def _det_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ_{s4} = det(A) A⁻¹_{ji} Ȧ_{ij s4}``."""
    b, e = _labels(y, x_dot, "ij")
    e = e[2:]
    return contract(y, b, _logdet_jvp(x, y, x_dot, params), b + e, b + e)


def _det_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā_{s4 ij} = C̄_{s4} det(A) A⁻¹_{ji}``."""
    b, e = _labels(y, y_bar, "ij")
    return _logdet_vjp(x, y, contract(y_bar, e + b, y, b, e + b), params)


def _logdet_impl(x: Array, params: tuple[Any, ...]) -> Array:
    return np.asarray(np.linalg.slogdet(x)[1])


def _axes_labels(x: Node, params: tuple[Any, ...]) -> tuple[Labels, Labels]:
    """Labels of ``x`` and of ``x`` without the reduced axes ``params[0]``."""
    own = fresh_labels(x.ndim)
    axes = params[0]
    return own, "".join(label for k, label in enumerate(own) if k not in axes)


def _reduce_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    return tuple(n for k, n in enumerate(x) if k not in params[0])


def _softmax_impl(x: Array, params: tuple[Any, ...]) -> Array:
    shifted = x - np.max(x, axis=params[0], keepdims=True, initial=-np.inf)
    e = np.exp(shifted)
    return np.asarray(e / np.sum(e, axis=params[0], keepdims=True))


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


def _norm_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = Σ_axis A ⊙ Ȧ / C``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(x_dot.ndim - x.ndim, own)
    t = contract(x, own, x_dot, own + e, kept + e)
    return contract(call("reciprocal", y), kept, t, kept + e, kept + e)


def _norm_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = (C̄ / C) ⊗ A``."""
    own, kept = _axes_labels(x, params)
    e = fresh_labels(y_bar.ndim - y.ndim, own)
    t = contract(y_bar, e + kept, call("reciprocal", y), kept, e + kept)
    return contract(t, e + kept, x, own, e + own)


def _reshape_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    shape: Shape = params[0]
    if math.prod(shape) != math.prod(x):
        raise ShapeError(f"cannot reshape an array of shape {x} into shape {shape}")
    return shape


def _reshape_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = reshape(Ȧ)``, the s4 axes kept at the end."""
    return apply("reshape", x_dot, (y.shape + x_dot.shape[x.ndim :],))


def _reshape_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = reshape(C̄)``, the s4 axes kept in front."""
    return apply("reshape", y_bar, (y_bar.shape[: y_bar.ndim - y.ndim] + x.shape,))


def _general(name: str, impl: Callable[[Array, tuple[Any, ...]], Array],
             shape: Callable[[Shape, tuple[Any, ...]], Shape], jvp: Rule, vjp: Rule) -> None:
    GENERAL_UNARY[name] = GeneralUnaryFunction(name, impl, shape, jvp, vjp)


_general("inv", lambda x, _: np.linalg.inv(x), _square_shape("inv"), _inv_jvp, _inv_vjp)
_general("det", lambda x, _: np.linalg.det(x), _square_shape("det"), _det_jvp, _det_vjp)
_general("logdet", _logdet_impl, _square_shape("logdet"), _logdet_jvp, _logdet_vjp)
_general("softmax", _softmax_impl, lambda x, _: x, _softmax_jvp, _softmax_vjp)
_general(
    "log_softmax",
    lambda x, p: np.asarray(scipy.special.log_softmax(x, axis=p[0])),
    lambda x, _: x,
    _log_softmax_jvp,
    _log_softmax_vjp,
)
_general(
    "logsumexp",
    lambda x, p: np.reshape(scipy.special.logsumexp(x, axis=p[0]), _reduce_shape(x.shape, p)),
    _reduce_shape,
    _logsumexp_jvp,
    _logsumexp_vjp,
)
_general(
    "norm", lambda x, p: np.sqrt(np.sum(np.square(x), axis=p[0])), _reduce_shape, _norm_jvp, _norm_vjp
)
_general("reshape", lambda x, p: np.reshape(x, p[0]), _reshape_shape, _reshape_jvp, _reshape_vjp)
