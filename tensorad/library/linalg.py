"""Linear algebra: ``inv``, ``det``, ``logdet`` over the last two axes (batched in front).

Each rule applies ``f'(A)`` through its structure, as matrix products: the derivative of
the inverse is ``−C Ȧ C``, never the ``n⁴`` tensor (proofs ``forward_general_unary`` and
``reverse_general_unary``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tensorad._types import Array, Shape
from tensorad.errors import ShapeError
from tensorad.ir.build import contract
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply, real_only, register_general, seed_labels


def _upcast_half(impl: Callable[[Array], Array]) -> Callable[[Array, tuple[Any, ...]], Array]:
    """``impl`` computed in float32 for float16 input (numpy's linalg has no float16; the
    kernel casts the result back)."""
    return lambda x, _: impl(x.astype(np.float32) if x.dtype == np.float16 else x)


def _square_shape(name: str) -> Callable[[Shape, tuple[Any, ...]], Shape]:
    def shape(x: Shape, params: tuple[Any, ...]) -> Shape:
        if len(x) < 2 or x[-1] != x[-2]:
            raise ShapeError(f"{name} needs square matrices in the last two axes, got shape {x}")
        return x if name == "inv" else x[:-2]

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
