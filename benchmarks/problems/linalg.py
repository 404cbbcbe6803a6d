"""Losses through a Cholesky factor: a Gaussian process's negative log marginal likelihood
in its three hyperparameters, and the log-determinant of a 1000 × 1000 matrix."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import scipy.linalg

from benchmarks.problems.base import NUMPY, Array, Instance, Ops, Problem, Size, dims, normal

# ------------------------------------------------------------------ Gaussian-process likelihood


def gp(ops: Ops, D2: Any, eye: Any, y: Any, theta: Any) -> Any:
    """``½‖L⁻¹y‖² + Σᵢ log Lᵢᵢ`` (the negative log marginal likelihood without its constant)
    with ``L = chol(K)``, ``K = σ² exp(−D²/(2ℓ²)) + s² I`` and ``θ = (log ℓ, log σ², log
    s²)``: an RBF kernel written as GP users write it (``D²``: squared distances)."""
    K = ops.exp(theta[1]) * ops.exp(-0.5 * D2 * ops.exp(-2.0 * theta[0])) + ops.exp(theta[2]) * eye
    L = ops.cholesky(K)
    z = ops.solve_triangular(L, y)
    return 0.5 * ops.sum(z * z) + ops.sum(ops.log(ops.diagonal(L)))


def _make_gp(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (12,), (500,), (True,))
    x = rng.uniform(-3.0, 3.0, (n, 2))
    D2 = np.sum((x[:, None, :] - x[None, :, :]) ** 2, axis=-1)
    y = np.sin(x[:, 0]) + np.cos(x[:, 1]) + normal(rng, n, scale=0.1)
    return Instance((D2, np.eye(n), y), (np.array([0.1, 0.2, -2.0]),))


def _gp_parts(D2: Array, y: Array, theta: Array) -> tuple[Array, Array, Array, Array, Array]:
    """``K⁻¹``, ``α = K⁻¹y``, the kernel part ``F = σ² exp(−D²/(2ℓ²))``, ``S = D²/ℓ²`` and
    ``log det K``, from one Cholesky factorization."""
    F = np.exp(theta[1]) * np.exp(-0.5 * D2 * np.exp(-2.0 * theta[0]))
    factor = scipy.linalg.cho_factor(F + np.exp(theta[2]) * np.eye(len(y)), lower=True)
    inverse = scipy.linalg.cho_solve(factor, np.eye(len(y)))
    logdet = 2.0 * np.sum(np.log(np.diagonal(factor[0])))
    return inverse, scipy.linalg.cho_solve(factor, y), F, D2 * np.exp(-2.0 * theta[0]), logdet


def gp_value(D2: Array, eye: Array, y: Array, theta: Array) -> float:
    """``½ yᵀα + ½ log det K``."""
    _, alpha, _, _, logdet = _gp_parts(D2, y, theta)
    return float(0.5 * y @ alpha + 0.5 * logdet)


def gp_grad(D2: Array, eye: Array, y: Array, theta: Array) -> Array:
    """``∂f/∂θₖ = ½ tr((K⁻¹ − ααᵀ) ∂K/∂θₖ)`` with ``∂K/∂θ = (F ⊙ S, F, s² I)``."""
    inverse, alpha, F, S, _ = _gp_parts(D2, y, theta)
    W = inverse - np.outer(alpha, alpha)
    WF = W * F
    return 0.5 * np.array([np.vdot(WF, S), np.sum(WF), np.exp(theta[2]) * np.trace(W)])


def gp_hessian(D2: Array, eye: Array, y: Array, theta: Array) -> Array:
    """``Hₖₗ = αᵀKₗK⁻¹Kₖα − ½αᵀKₖₗα − ½tr(K⁻¹KₗK⁻¹Kₖ) + ½tr(K⁻¹Kₖₗ)`` (``Kₖ = ∂K/∂θₖ``),
    with ``K₀₀ = F ⊙ (S² − 2S)``, ``K₀₁ = F ⊙ S``, ``K₁₁ = F``, ``K₂₂ = s² I``."""
    inverse, alpha, F, S, _ = _gp_parts(D2, y, theta)
    noise = np.exp(theta[2])
    first = [F * S, F, noise * np.eye(len(y))]
    second = {(0, 0): F * (S * S - 2.0 * S), (0, 1): F * S, (1, 1): F, (2, 2): first[2]}
    solved = [inverse @ K for K in first[:2]] + [noise * inverse]  # K⁻¹ Kₖ
    moved = [K @ alpha for K in first]  # Kₖ α
    H = np.zeros((3, 3))
    for k in range(3):
        for m in range(k, 3):
            Kkm = second.get((k, m))
            H[k, m] = moved[m] @ (solved[k] @ alpha) - 0.5 * np.vdot(solved[m], solved[k].T)
            if Kkm is not None:
                H[k, m] += -0.5 * alpha @ Kkm @ alpha + 0.5 * np.vdot(inverse, Kkm)
            H[m, k] = H[k, m]
    return H


GP = Problem(
    "gp",
    "GP marginal likelihood, RBF kernel, n=500, w.r.t. 3 hyperparameters",
    gp,
    _make_gp,
    {"value": partial(gp, NUMPY), "grad": gp_grad, "hessian": gp_hessian},
)


# ------------------------------------------------------------------ log-determinant through Cholesky


def logdet(ops: Ops, A: Any) -> Any:
    """``log det S = 2 Σᵢ log Lᵢᵢ`` with ``L = chol(S)``, ``S = ½(A + Aᵀ)``."""
    L = ops.cholesky(0.5 * (A + A.T))
    return 2.0 * ops.sum(ops.log(ops.diagonal(L)))


def _make_logdet(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (6,), (1000,), (True,))
    B = normal(rng, n, n)
    return Instance((), (B @ B.T / n + np.eye(n),))


def logdet_grad(A: Array) -> Array:
    """``∇ log det S = S⁻¹``, by ``cho_solve`` of the identity."""
    S = 0.5 * (A + A.T)
    return scipy.linalg.cho_solve(scipy.linalg.cho_factor(S, lower=True), np.eye(len(S)))


LOGDET = Problem(
    "logdet",
    "log det through Cholesky, n=1000",
    logdet,
    _make_logdet,
    {"value": partial(logdet, NUMPY), "grad": logdet_grad},
)
