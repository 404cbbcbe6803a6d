"""The vector-valued maps: attention (JVP and VJP) and a linear map (its Jacobian both ways)."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import scipy.special

from benchmarks.problems.base import NUMPY, Array, Instance, Ops, Problem, Size, dims, normal

# ------------------------------------------------------------------ attention


def attention(ops: Ops, Q: Any, K: Any, V: Any) -> Any:
    """``O = softmax(QKᵀ/√d) V``, softmax along rows; a matrix-valued function of ``Q, K, V``."""
    P = ops.softmax(Q @ K.T / math.sqrt(ops.dim(Q, 1)), 1)
    return P @ V


def _make_attention(size: Size, rng: np.random.Generator) -> Instance:
    n, d = dims(size, (10, 4), (128, 64), (True, False))
    primals = tuple(normal(rng, n, d) for _ in range(3))
    tangents = tuple(normal(rng, n, d) for _ in range(3))
    return Instance((), primals, tangents, normal(rng, n, d))


def _softmax_rows(Q: Array, K: Array) -> Array:
    return np.asarray(scipy.special.softmax(Q @ K.T / math.sqrt(Q.shape[1]), axis=1))


def attention_jvp(Q: Array, K: Array, V: Array, Q_dot: Array, K_dot: Array, V_dot: Array) -> tuple[Array, Array]:
    """``Ȯ = ṖV + PV̇`` with ``Ṗ = P ∘ (Ṡ − rowsum(P ∘ Ṡ))`` and ``Ṡ = (Q̇Kᵀ + QK̇ᵀ)/√d``."""
    P = _softmax_rows(Q, K)
    S_dot = (Q_dot @ K.T + Q @ K_dot.T) / math.sqrt(Q.shape[1])
    P_dot = P * (S_dot - np.sum(P * S_dot, axis=1, keepdims=True))
    return P @ V, P_dot @ V + P @ V_dot


def attention_vjp(Q: Array, K: Array, V: Array, O_bar: Array) -> tuple[Array, tuple[Array, Array, Array]]:
    """``V̄ = PᵀŌ``, ``S̄ = P ∘ (P̄ − rowsum(P ∘ P̄))`` with ``P̄ = ŌVᵀ``,
    ``Q̄ = S̄K/√d``, ``K̄ = S̄ᵀQ/√d``."""
    P = _softmax_rows(Q, K)
    P_bar = O_bar @ V.T
    S_bar = P * (P_bar - np.sum(P * P_bar, axis=1, keepdims=True)) / math.sqrt(Q.shape[1])
    return P @ V, (S_bar @ K, S_bar.T @ Q, P.T @ O_bar)


ATTENTION = Problem(
    "attention",
    "softmax(QKᵀ/√d)V, Q,K,V 128×64",
    attention,
    _make_attention,
    {"value": partial(attention, NUMPY), "jvp": attention_jvp, "vjp": attention_vjp},
)


# ------------------------------------------------------------------ a linear map


def linear(ops: Ops, A: Any, x: Any) -> Any:
    """``f(x) = Ax``; its Jacobian is ``A``."""
    return A @ x


def _make_linear(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (12,), (2000,), (True,))
    return Instance((normal(rng, n, n),), (normal(rng, n),))


def linear_jacobian(A: Array, x: Array) -> Array:
    """``∂(Ax)/∂x = A``, returned as a fresh array (as every system returns one): ``A.copy()``."""
    return A.copy()


LINEAR = Problem(
    "linear",
    "x ↦ Ax, n=2000",
    linear,
    _make_linear,
    {"value": partial(linear, NUMPY), "jacfwd": linear_jacobian, "jacrev": linear_jacobian, "copy": linear_jacobian},
    references=frozenset({"copy"}),
)
