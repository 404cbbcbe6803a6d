"""Elementwise functions: one line each, the derivative written with ``y = f(x)``.

Each entry is ``name, numpy implementation, f'(x, y)``; ``f'`` is built from tensorad
operations (``None`` is zero), so it differentiates again. The rules that use it are
:func:`tensorad.ad.rules.jvp_elementwise` and :func:`tensorad.ad.rules.vjp_elementwise`
(proofs ``forward_elementwise`` and ``reverse_elementwise``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special

from tensorad._types import Array
from tensorad.ir.build import broadcast_to, scale
from tensorad.ir.constants import scalar
from tensorad.ir.nodes import Node
from tensorad.library.registry import Ufunc, call, real_only, register_elementwise


def _sigmoid(x: Array, _: float | None) -> Array:
    """``σ(x) = 1 / (1 + e⁻ˣ)`` in three passes over one buffer for real floats (about 2.7×
    faster than scipy's ``expit``; within 3 ulps of the exact value, expit within 2);
    scipy's ``expit`` for other dtypes, and for arrays holding a nan or an ``x`` where σ
    nears the subnormals (``x < −707`` in float64, ``−86`` in float32)."""
    x = np.asarray(x)
    low = _FAST_SIGMOID.get(x.dtype)
    if low is None or x.size == 0 or not x.min() >= low:  # a nan makes min() nan: not ≥
        return np.asarray(scipy.special.expit(x))
    y = np.negative(x, out=np.empty_like(x))
    np.exp(y, out=y)
    y += 1.0
    return np.reciprocal(y, out=y)


_PASS_BY_PASS: tuple[np.dtype[Any], ...] = (np.dtype(np.float32), np.dtype(np.float64))
"""The dtypes whose sigmoid and softplus run pass by pass on numpy's vectorized loops."""

_FAST_SIGMOID = {dtype: float(np.log(np.finfo(dtype).tiny)) + 1.0 for dtype in _PASS_BY_PASS}
"""The real dtypes of the fast sigmoid, with the smallest ``x`` it takes: below it σ(x) ≈ eˣ
nears the subnormals, where the three passes would lose digits that expit keeps."""


def _softplus(x: Array, _: float | None) -> Array:
    """``log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|})``, numpy's ``logaddexp(0, x)`` formula
    pass by pass, so that numpy's vectorized ``exp`` and ``log1p`` run (about 6× faster
    than ``logaddexp``, which calls them entry by entry; within 2 ulps of the exact value)."""
    x = np.asarray(x)
    if x.dtype not in _PASS_BY_PASS:
        return np.logaddexp(0.0, x)
    y = np.abs(x, out=np.empty_like(x))
    np.negative(y, out=y)
    np.exp(y, out=y)
    np.log1p(y, out=y)
    y += np.maximum(x, 0.0)
    return y


_SQRT_PI_INV = 2.0 / math.sqrt(math.pi)

# name, numpy implementation, derivative f'(x) written with y = f(x)
register_elementwise("exp", Ufunc(np.exp), lambda x, y, _: y)
register_elementwise("log", Ufunc(np.log), lambda x, y, _: call("reciprocal", x))
register_elementwise("log1p", Ufunc(np.log1p), lambda x, y, _: call("reciprocal", 1.0 + x))
register_elementwise("expm1", Ufunc(np.expm1), lambda x, y, _: y + 1.0)
register_elementwise("sin", Ufunc(np.sin), lambda x, y, _: call("cos", x))
register_elementwise("cos", Ufunc(np.cos), lambda x, y, _: -call("sin", x))
register_elementwise("tan", Ufunc(np.tan), lambda x, y, _: 1.0 + call("square", y))
register_elementwise("tanh", Ufunc(np.tanh), lambda x, y, _: 1.0 - call("square", y))
register_elementwise("sinh", Ufunc(np.sinh), lambda x, y, _: call("cosh", x))
register_elementwise("cosh", Ufunc(np.cosh), lambda x, y, _: call("sinh", x))
register_elementwise("sigmoid", _sigmoid, lambda x, y, _: y * (1.0 - y))
register_elementwise("softplus", _softplus, lambda x, y, _: call("sigmoid", x))
register_elementwise("sqrt", Ufunc(np.sqrt), lambda x, y, _: 0.5 * call("reciprocal", y))
register_elementwise("square", Ufunc(np.square), lambda x, y, _: scale(x, 2.0))
register_elementwise("reciprocal", Ufunc(np.reciprocal), lambda x, y, _: -call("square", y))
register_elementwise("arcsin", Ufunc(np.arcsin), lambda x, y, _: _inverse_root(1.0 - call("square", x)))
register_elementwise("arccos", Ufunc(np.arccos), lambda x, y, _: -_inverse_root(1.0 - call("square", x)))
register_elementwise("arctan", Ufunc(np.arctan), lambda x, y, _: call("reciprocal", 1.0 + call("square", x)))
register_elementwise("arcsinh", Ufunc(np.arcsinh), lambda x, y, _: _inverse_root(call("square", x) + 1.0))
register_elementwise("arccosh", Ufunc(np.arccosh), lambda x, y, _: _inverse_root(call("square", x) - 1.0))
register_elementwise("arctanh", Ufunc(np.arctanh), lambda x, y, _: call("reciprocal", 1.0 - call("square", x)))
register_elementwise("log2", Ufunc(np.log2), lambda x, y, _: scale(call("reciprocal", x), 1 / math.log(2)))
register_elementwise("log10", Ufunc(np.log10), lambda x, y, _: scale(call("reciprocal", x), 1 / math.log(10)))
register_elementwise("exp2", Ufunc(np.exp2), lambda x, y, _: scale(y, math.log(2.0)))
register_elementwise("abs", Ufunc(np.abs), lambda x, y, _: _abs_derivative(x), real=True)
register_elementwise("sign", Ufunc(np.sign), lambda x, y, _: _sign_derivative(x))
register_elementwise(
    "erf",
    lambda x, _: scipy.special.erf(x),
    lambda x, y, _: _SQRT_PI_INV * call("exp", -call("square", x)),
)

register_elementwise(
    "sinc",
    lambda x, k: sinc_derivative(x, int(k or 0)),
    lambda x, y, k: call("sinc", x, float(int(k or 0) + 1)),
)


def sinc_derivative(x: Array, k: int) -> Array:
    """The ``k``-th derivative of ``sinc(x) = sin(πx)/(πx)`` (``sinc(0) = 1``), exact at 0.

    From ``sinc(x) = ∫₀¹ cos(πxt) dt``: ``sinc⁽ᵏ⁾(x) = πᵏ Re(iᵏ Iₖ(πx))`` with
    ``Iₖ(a) = ∫₀¹ tᵏ e^{iat} dt``, summed as its power series ``Σₘ (ia)ᵐ / (m! (k+m+1))``
    where ``|a| < k + 2`` (no cancellation there), else by the stable upward recursion
    ``I₀ = (e^{ia} − 1)/(ia)``, ``Iₖ = (e^{ia} − k Iₖ₋₁)/(ia)``. ``k = 0`` is numpy's sinc.
    """
    if k == 0:
        return np.asarray(np.sinc(x))
    a = np.pi * np.asarray(x, dtype=np.float64)
    near = np.abs(a) < k + 2
    series = np.zeros(a.shape, dtype=np.complex128)
    term = np.ones(a.shape, dtype=np.complex128)  # (ia)^m / m!
    for m in range(80):
        series += term / (k + m + 1)
        term = term * (1j * np.where(near, a, 0.0)) / (m + 1)
    far = np.where(near, 1.0, a)  # a stand-in where the series serves
    phase = np.exp(1j * far)
    integral = (phase - 1.0) / (1j * far)
    for j in range(1, k + 1):
        integral = (phase - j * integral) / (1j * far)
    return np.asarray(np.pi**k * np.real(1j**k * np.where(near, series, integral)))


def _inverse_root(u: Node) -> Node:
    """``1/√u``: the derivative of the inverse trigonometric and hyperbolic functions."""
    return call("reciprocal", call("sqrt", u))


def _abs_derivative(x: Node) -> Node:
    """``sign(x)`` for real ``x``; ``|z|`` of a complex ``z`` is not complex-differentiable
    (its derivative is not a complex-linear map), so it is refused."""
    real_only("abs", x)
    return call("sign", x)


def _sign_derivative(x: Node) -> None:
    """0 for real ``x``; ``z/|z|`` is not holomorphic, so refused for complex ``z``."""
    real_only("sign", x)


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


register_elementwise("power", _power_impl, _power_derivative)


def _rpow_impl(x: Array, c: float | None) -> Array:
    assert c is not None
    return np.power(np.asarray(c, dtype=x.dtype), x)


def _rpow_derivative(x: Node, y: Node, c: float | None) -> Node | None:
    """``d cˣ = cˣ log c``; ``0`` for ``c = 0``, where ``0ˣ`` is differentiable (``x ≠ 0``),
    as in JAX; ``nan`` for ``c < 0``, where ``cˣ`` is real only at integers."""
    assert c is not None
    if c == 0.0:
        return None
    return scale(y, math.log(c) if c > 0 else math.nan)


register_elementwise("rpow", _rpow_impl, _rpow_derivative)  # c ** x for a constant base c
