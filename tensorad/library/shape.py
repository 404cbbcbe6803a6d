"""Shape functions: ``reshape`` (C order), ``crop`` (a contiguous window, ``x[1:]``) and
``pad`` (zeros around). Each is linear, so each rule applies the function itself (or its
adjoint: crop and pad are each other's) to the tangent or cotangent, the s4 axes kept
whole where they are."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tensorad._types import Array, Shape
from tensorad.errors import ShapeError
from tensorad.ir.nodes import Node
from tensorad.ir.seeds import zeros
from tensorad.library.registry import (
    GeneralFunction,
    apply,
    apply_general,
    axes_after,
    axis_after,
    register_general,
    register_general_function,
)


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


register_general(
    "reshape",
    lambda x, p: np.reshape(x, p[0]),
    _reshape_shape,
    _reshape_jvp,
    _reshape_vjp,
    moves=True,
    batch=lambda p, n: ((n, *p[0]),),
)


# ------------------------------------------------------------------ crop and pad: an adjoint pair


def _crop_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    windows: tuple[tuple[int, int], ...] = params[0]
    if len(windows) != len(x) or any(not 0 <= a <= b <= n for (a, b), n in zip(windows, x, strict=False)):
        raise ShapeError(f"crop windows {windows} do not fit an array of shape {x}")
    return tuple(b - a for a, b in windows)


def _pad_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    widths: tuple[tuple[int, int], ...] = params[0]
    if len(widths) != len(x) or any(a < 0 or b < 0 for a, b in widths):
        raise ShapeError(f"pad widths {widths} do not fit an array of shape {x}")
    return tuple(a + n + b for (a, b), n in zip(widths, x, strict=True))


def _crop_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = crop(Ȧ)``: crop is linear; the trailing s4 axes are kept whole."""
    return apply("crop", x_dot, (params[0] + tuple((0, n) for n in x_dot.shape[x.ndim :]),))


def _crop_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = pad₀(C̄)``: the adjoint of keeping a window is putting it back among zeros,
    ``⟨crop(A), C̄⟩ = ⟨A, pad₀(C̄)⟩``; the leading s4 axes are not padded."""
    widths = tuple((a, n - b) for (a, b), n in zip(params[0], x.shape, strict=True))
    return apply("pad", y_bar, (((0, 0),) * (y_bar.ndim - y.ndim) + widths,))


def _pad_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = pad₀(Ȧ)``: padding with zeros is linear."""
    return apply("pad", x_dot, (params[0] + ((0, 0),) * (x_dot.ndim - x.ndim),))


def _pad_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = crop(C̄)`` to the window ``A`` was put in: the adjoint of :func:`_crop_vjp`'s map."""
    windows = tuple((a, a + n) for (a, _), n in zip(params[0], x.shape, strict=True))
    return apply("crop", y_bar, (tuple((0, n) for n in y_bar.shape[: y_bar.ndim - y.ndim]) + windows,))


register_general(
    "crop",
    lambda x, p: x[tuple(slice(a, b) for a, b in p[0])],
    _crop_shape,
    _crop_jvp,
    _crop_vjp,
    moves=True,
    batch=lambda p, n: (((0, n), *p[0]),),
)
register_general(
    "pad",
    lambda x, p: np.pad(x, p[0]) if p[0] else x,
    _pad_shape,
    _pad_jvp,
    _pad_vjp,
    moves=True,
    batch=lambda p, n: (((0, 0), *p[0]),),
)


# ------------------------------------------------------------------ flip: its own adjoint


def _flip_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = flip(Ȧ)`` along the same axes (the trailing s4 axes are not flipped)."""
    return apply("flip", x_dot, params)


def _flip_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = flip(C̄)``: reversing an axis is a symmetric permutation, its own adjoint
    (``⟨flip(A), C̄⟩ = ⟨A, flip(C̄)⟩``); the axes shift past the leading s4 axes."""
    lead = y_bar.ndim - y.ndim
    return apply("flip", y_bar, (tuple(axis + lead for axis in params[0]),))


def _flip_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if any(not 0 <= axis < len(x) for axis in params[0]):
        raise ShapeError(f"flip axes {params[0]} do not fit an array of shape {x}")
    return x


register_general("flip", lambda x, p: np.flip(x, p[0]), _flip_shape, _flip_jvp, _flip_vjp, moves=True, batch=axes_after)


# ------------------------------------------------------------------ running sums: an adjoint pair


def _running(x: Array, params: tuple[Any, ...], backwards: bool) -> Array:
    axis: int = params[0]
    if not backwards:
        return np.cumsum(x, axis=axis)
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumsum_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = cumsum(Ȧ)`` along the same axis: a running sum is linear."""
    return apply("cumsum", x_dot, params)


def _cumsum_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = revcumsum(C̄)``, the sums from each entry to the end: ``C = T A`` with the
    lower triangle of ones ``T``, so ``Ā = Tᵀ C̄`` (proofs.cumsum)."""
    return apply("revcumsum", y_bar, (params[0] + y_bar.ndim - y.ndim,))


def _revcumsum_jvp(x: Node, y: Node, x_dot: Node, params: tuple[Any, ...]) -> Node:
    """``Ċ = revcumsum(Ȧ)``."""
    return apply("revcumsum", x_dot, params)


def _revcumsum_vjp(x: Node, y: Node, y_bar: Node, params: tuple[Any, ...]) -> Node:
    """``Ā = cumsum(C̄)``: the adjoint of the adjoint."""
    return apply("cumsum", y_bar, (params[0] + y_bar.ndim - y.ndim,))


def _axis_shape(x: Shape, params: tuple[Any, ...]) -> Shape:
    if not 0 <= params[0] < len(x):
        raise ShapeError(f"axis {params[0]} is out of bounds for an array of shape {x}")
    return x


register_general("cumsum", lambda x, p: _running(x, p, False), _axis_shape, _cumsum_jvp, _cumsum_vjp, batch=axis_after)
register_general(
    "revcumsum", lambda x, p: _running(x, p, True), _axis_shape, _revcumsum_jvp, _revcumsum_vjp, batch=axis_after
)


# ------------------------------------------------------------------ concatenation: pads summed, crops back


def _concatenate_shape(shapes: tuple[Shape, ...], params: tuple[Any, ...]) -> Shape:
    (axis,) = params
    first = shapes[0]
    if not 0 <= axis < len(first):
        raise ShapeError(f"concatenate: axis {axis} is out of bounds for arrays of {len(first)} axes")
    for k, shape in enumerate(shapes):
        if len(shape) != len(first) or shape[:axis] + shape[axis + 1 :] != first[:axis] + first[axis + 1 :]:
            raise ShapeError(
                f"concatenate: operand {k} has shape {shape}, operand 0 {first}; all axes but axis {axis} must match"
            )
    return (*first[:axis], sum(shape[axis] for shape in shapes), *first[axis + 1 :])


def _concatenate_jvp(
    args: tuple[Node, ...], y: Node, dots: tuple[Node | None, ...], params: tuple[Any, ...]
) -> Node | None:
    """``Ċ = concatenate(Ȧ₁, …, Ȧₙ)`` along the same axis, a zero for an operand without a
    tangent (the trailing s4 axes come along)  (proofs.concatenate)."""
    like = next(dot for dot in dots if dot is not None)
    s4 = like.shape[y.ndim :]
    pieces = tuple(
        dot if dot is not None else zeros(arg.shape + s4, like.dtype) for arg, dot in zip(args, dots, strict=True)
    )
    return apply_general("concatenate", pieces, params)


def _concatenate_vjp(
    args: tuple[Node, ...], y: Node, y_bar: Node, needs: tuple[bool, ...], params: tuple[Any, ...]
) -> tuple[Node | None, ...]:
    """``Āₖ = crop(C̄)`` to the slice ``Aₖ`` fills along the axis: a concatenation is a sum
    of zero paddings, whose adjoints are crops  (proofs.concatenate)."""
    axis = params[0] + y_bar.ndim - y.ndim
    whole = tuple((0, n) for n in y_bar.shape)
    bars: list[Node | None] = []
    start = 0
    for arg, need in zip(args, needs, strict=True):
        stop = start + arg.shape[params[0]]
        window = (*whole[:axis], (start, stop), *whole[axis + 1 :])
        bars.append(apply("crop", y_bar, (window,)) if need else None)
        start = stop
    return tuple(bars)


register_general_function(
    GeneralFunction(
        "concatenate",
        lambda arrays, p: np.concatenate(arrays, axis=p[0]),
        _concatenate_shape,
        _concatenate_jvp,
        _concatenate_vjp,
        moves=True,
        batch=axis_after,
    )
)
