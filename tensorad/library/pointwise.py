"""Pointwise functions of several operands: comparisons (masks), ``where``, ``power``,
``divide``, ``maximum``, ``minimum``.

Each entry is ``name, numpy implementation, arity`` and the partial derivatives
``∂y/∂argₖ`` as expressions of the operands and ``y`` (proofs ``forward_pointwise`` and
``reverse_pointwise``), or, for ``where``, forward and reverse rules of its own that
select instead of multiply (so an infinite tangent in the branch not taken stays out,
as in JAX). The comparisons are masks: boolean values, derivative zero.
"""

from __future__ import annotations

import numpy as np

from tensorad._types import Array
from tensorad.ir.build import add, astype, broadcast_to, contract, scale
from tensorad.ir.constants import scalar
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node
from tensorad.ir.seeds import zeros
from tensorad.library.registry import Partials, PointwiseFunction, call, pointwise, register_pointwise


def _no_derivative(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
    return (None,) * len(args)


COMPARISONS = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
}
"""The comparisons, by numpy's names: masks with zero derivative."""

for _name, _ufunc in COMPARISONS.items():
    register_pointwise(
        PointwiseFunction(_name, lambda a, b, _, ufunc=_ufunc: ufunc(a, b), 2, _no_derivative, mask=True)
    )


# ------------------------------------------------------------------ where


def _spread(c: Node, like: Node, leading: bool) -> Node:
    """The condition ``c`` broadcast along the s4 axes that ``like`` has beyond it
    (trailing for a tangent, leading for a cotangent)."""
    own = fresh_labels(c.ndim)
    extra = fresh_labels(like.ndim - c.ndim, own)
    labels = extra + own if leading else own + extra
    return contract(c, own, None, "", labels, sizes=dict(zip(labels, like.shape, strict=True)))


def _where_jvp(args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], param: float | None) -> Node | None:
    """``ẏ = where(c, ȧ, ḃ)``: the tangent of the branch taken (the condition has none)."""
    _, a_dot, b_dot = dots
    like = a_dot if a_dot is not None else b_dot
    if like is None:
        return None
    c = _spread(args[0], like, leading=False)
    picked = (d if d is not None else zeros(like.shape, like.dtype) for d in (a_dot, b_dot))
    return pointwise("where", (c, *picked))


def _where_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], param: float | None
) -> tuple[Node | None, ...]:
    """``ā = where(c, ȳ, 0)``, ``b̄ = where(c, 0, ȳ)``."""
    c, none = _spread(args[0], y_bar, leading=True), zeros(y_bar.shape, y_bar.dtype)
    a_bar = pointwise("where", (c, y_bar, none)) if needs[1] else None
    b_bar = pointwise("where", (c, none, y_bar)) if needs[2] else None
    return None, a_bar, b_bar


def _where(c: Array, a: Array, b: Array, param: float | None) -> Array:
    return np.asarray(np.where(c, a, b))


register_pointwise(PointwiseFunction("where", _where, 3, _no_derivative, _where_jvp, _where_vjp, conditions=1))


# ------------------------------------------------------------------ power


def _filled(x: Node, value: float) -> Node:
    return broadcast_to(scalar(value, x.dtype), x.shape)


def _power_partials(args: tuple[Node, ...], y: Node, _: float | None) -> tuple[Node | None, ...]:
    """``∂xʸ/∂x = y xʸ⁻¹``; ``∂xʸ/∂y = xʸ log x``, taken as 0 where ``x = 0`` (JAX's
    convention: ``0ʸ`` is flat in ``y`` for ``y > 0``) and nan where ``x < 0``."""
    x, e = args
    labels = fresh_labels(y.ndim)
    lowered = add(e, _filled(e, -1.0))
    assert lowered is not None
    d_base = contract(e, labels, pointwise("power", (x, lowered)), labels, labels)
    nonzero = pointwise("where", (pointwise("equal", (x, _filled(x, 0.0))), _filled(x, 1.0), x))
    d_exponent = contract(y, labels, call("log", nonzero), labels, labels)
    return d_base, d_exponent


def _power(x: Array, e: Array, _: float | None) -> Array:
    return np.asarray(np.power(x, e))


register_pointwise(PointwiseFunction("power", _power, 2, _power_partials))


# ------------------------------------------------------------------ divide


def _divide_partials(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
    """``∂(a/b)/∂a = 1/b``, ``∂(a/b)/∂b = −(a/b)/b``."""
    _, b = args
    labels = fresh_labels(y.ndim)
    inverse = call("reciprocal", b)
    return inverse, contract(y, labels, inverse, labels, labels, scale=-1.0)


register_pointwise(PointwiseFunction("divide", lambda a, b, _: np.asarray(np.divide(a, b)), 2, _divide_partials))


# ------------------------------------------------------------------ maximum and minimum


def _extreme_partials(wins: str) -> Partials:
    """``∂max(a, b)/∂a = [a > b] + ½[a = b]`` (ties split equally, as JAX's ``maximum``),
    ``∂/∂b`` the rest; with ``wins = "less"``, the same for ``minimum``. The partials are
    masks, so every higher derivative is 0."""
    loses = "less" if wins == "greater" else "greater"

    def partials(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
        a, b = args
        tie = scale(astype(pointwise("equal", (a, b)), y.dtype), 0.5)
        return (
            add(astype(pointwise(wins, (a, b)), y.dtype), tie),
            add(astype(pointwise(loses, (a, b)), y.dtype), tie),
        )

    return partials


register_pointwise(
    PointwiseFunction("maximum", lambda a, b, _: np.asarray(np.maximum(a, b)), 2, _extreme_partials("greater"))
)
register_pointwise(
    PointwiseFunction("minimum", lambda a, b, _: np.asarray(np.minimum(a, b)), 2, _extreme_partials("less"))
)


# ------------------------------------------------------------------ logaddexp


def _logaddexp_partials(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
    """``∂ log(eᵃ + eᵇ)/∂a = σ(a − b)``, ``∂/∂b = σ(b − a)`` (the two sum to 1). Where
    ``a − b`` is nan (``a = b = ±inf``) the difference is taken as 0, so each gets ½, the
    tie rule of ``maximum``; everywhere else the sigmoid is exact and smooth."""
    a, b = args
    difference = add(a, scale(b, -1.0))
    assert difference is not None
    nan = pointwise("not_equal", (difference, difference))
    safe = pointwise("where", (nan, _filled(difference, 0.0), difference))
    return call("sigmoid", safe), call("sigmoid", scale(safe, -1.0))


register_pointwise(
    PointwiseFunction("logaddexp", lambda a, b, _: np.asarray(np.logaddexp(a, b)), 2, _logaddexp_partials)
)


# ------------------------------------------------------------------ hypot and arctan2


def _safe_hypot(a: Node, b: Node) -> Node:
    """``hypot(a, b)``, with 1 where it is 0 (a divisor that is never 0)."""
    h = pointwise("hypot", (a, b))
    return pointwise("where", (pointwise("equal", (h, _filled(h, 0.0))), _filled(h, 1.0), h))


def _hypot_partials(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
    """``∂ hypot(a, b)/∂a = a / hypot(a, b)``, ``∂/∂b = b / hypot(a, b)``; at the origin,
    where the cone has no derivative, both are taken as 0 (as ``abs'(0) = 0``)."""
    a, b = args
    h = _safe_hypot(a, b)
    return pointwise("divide", (a, h)), pointwise("divide", (b, h))


def _arctan2_partials(args: tuple[Node, ...], y: Node, param: float | None) -> tuple[Node | None, ...]:
    """``∂ arctan2(y, x)/∂y = x / (x² + y²)``, ``∂/∂x = −y / (x² + y²)``, each computed as
    ``(x / r) / r`` with ``r = hypot(x, y)`` (no overflow of ``x²``); nan at the origin,
    where the angle has no limit (as JAX)."""
    b, a = args
    r = pointwise("hypot", (a, b))
    return pointwise("divide", (pointwise("divide", (a, r)), r)), scale(
        pointwise("divide", (pointwise("divide", (b, r)), r)), -1.0
    )


register_pointwise(PointwiseFunction("hypot", lambda a, b, _: np.asarray(np.hypot(a, b)), 2, _hypot_partials))
register_pointwise(PointwiseFunction("arctan2", lambda a, b, _: np.asarray(np.arctan2(a, b)), 2, _arctan2_partials))
