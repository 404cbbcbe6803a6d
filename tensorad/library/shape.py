"""Shape functions: ``reshape`` (C order); the rules reshape the tangent and cotangent,
keeping the s4 axes where they are."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tensorad._types import Shape
from tensorad.errors import ShapeError
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, register_general


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


register_general("reshape", lambda x, p: np.reshape(x, p[0]), _reshape_shape, _reshape_jvp, _reshape_vjp)
