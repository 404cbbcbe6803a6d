"""The scalar losses: quadratic form, logistic regression, matrix factorization, pairwise
energy and a two-layer MLP, each with its gradient, JVP, HVP and (where it fits) Hessian."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import scipy.special

from benchmarks.problems.base import NUMPY, Array, Instance, Ops, Problem, Size, dims, normal

# ------------------------------------------------------------------ quadratic form xᵀAx


def quadratic(ops: Ops, A: Any, x: Any) -> Any:
    """``f(x) = xᵀAx`` (``A`` not symmetric)."""
    return x @ A @ x


def _make_quadratic(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (8,), (1000,), (True,))
    return Instance((normal(rng, n, n),), (normal(rng, n),), (normal(rng, n),))


def quadratic_grad(A: Array, x: Array) -> Array:
    """``∇f = (A + Aᵀ) x``."""
    return A @ x + x @ A


def quadratic_jvp(A: Array, x: Array, v: Array) -> tuple[float, float]:
    """``(xᵀAx, vᵀ(A + Aᵀ)x)``."""
    Ax = A @ x
    return float(x @ Ax), float(v @ (Ax + x @ A))


def quadratic_hvp(A: Array, x: Array, v: Array) -> Array:
    """``∇²f·v = (A + Aᵀ) v``."""
    return A @ v + v @ A


def quadratic_hessian(A: Array, x: Array) -> Array:
    """``∇²f = A + Aᵀ``."""
    return A + A.T


QUADRATIC = Problem(
    "quadratic",
    "xᵀAx, n=1000",
    quadratic,
    _make_quadratic,
    {
        "value": partial(quadratic, NUMPY),
        "grad": quadratic_grad,
        "jvp": quadratic_jvp,
        "hvp": quadratic_hvp,
        "hessian": quadratic_hessian,
    },
)


def _make_small_quadratic(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (4,), (10,), (True,))
    return Instance((normal(rng, n, n),), (normal(rng, n),), (normal(rng, n),))


SMALL_QUADRATIC = Problem(
    "overhead",
    "xᵀAx, n=10: the cost of one call, where numpy's own work is a microsecond",
    quadratic,
    _make_small_quadratic,
    {"value": partial(quadratic, NUMPY), "grad": quadratic_grad},
)


# ------------------------------------------------------------------ logistic regression


def logistic(ops: Ops, X: Any, y: Any, w: Any) -> Any:
    """Mean log-loss ``f(w) = (1/m) Σₙ softplus(zₙ) − yₙ zₙ`` with ``z = Xw``, ``y ∈ {0, 1}``."""
    z = X @ w
    return ops.mean(ops.softplus(z) - y * z)


def _make_logistic(size: Size, rng: np.random.Generator) -> Instance:
    m, d, k = dims(size, (20, 5, 3), (4000, 400, 32), (True, True, False))
    X = normal(rng, m, d)
    y = (rng.random(m) < scipy.special.expit(X @ normal(rng, d, scale=d**-0.5))).astype(np.float64)
    w, v = normal(rng, d, scale=d**-0.5), normal(rng, d)
    return Instance((X, y), (w,), (v,), batch=(normal(rng, k, d),))


def logistic_grad(X: Array, y: Array, w: Array) -> Array:
    """``∇f = Xᵀ(σ(z) − y) / m``."""
    return X.T @ (scipy.special.expit(X @ w) - y) / len(y)


def logistic_jvp(X: Array, y: Array, w: Array, v: Array) -> tuple[float, float]:
    """``(f(w), (σ(z) − y)ᵀ(Xv) / m)``."""
    z = X @ w
    value = np.mean(np.logaddexp(0.0, z) - y * z)
    return float(value), float((scipy.special.expit(z) - y) @ (X @ v)) / len(y)


def logistic_hvp(X: Array, y: Array, w: Array, v: Array) -> Array:
    """``∇²f·v = Xᵀ(s ∘ Xv) / m`` with ``s = σ(z)(1 − σ(z))``."""
    s = scipy.special.expit(X @ w)
    return X.T @ (s * (1.0 - s) * (X @ v)) / len(y)


def logistic_hvps(X: Array, y: Array, w: Array, V: Array) -> Array:
    """``∇²f·vₖ`` for each row ``vₖ`` of ``V``, all at once: ``((VXᵀ) ∘ sᵀ) X / m``, two
    products with ``K`` rows where ``K`` HVPs would make ``2K`` matrix-vector products."""
    s: Array = scipy.special.expit(X @ w)
    return ((V @ X.T) * (s * (1.0 - s) / len(y))) @ X


def logistic_hessian(X: Array, y: Array, w: Array) -> Array:
    """``∇²f = Xᵀ diag(s) X / m`` with ``s = σ(z)(1 − σ(z))``."""
    s = scipy.special.expit(X @ w)
    return (X.T * (s * (1.0 - s) / len(y))) @ X


LOGISTIC = Problem(
    "logistic",
    "mean log-loss, X 4000×400, w.r.t. w (hvps: 32 directions)",
    logistic,
    _make_logistic,
    {
        "value": partial(logistic, NUMPY),
        "grad": logistic_grad,
        "jvp": logistic_jvp,
        "hvp": logistic_hvp,
        "hvps": logistic_hvps,
        "hessian": logistic_hessian,
    },
)


# ------------------------------------------------------------------ matrix factorization


def factorization(ops: Ops, T: Any, V: Any, U: Any) -> Any:
    """``f(U) = ‖T − UVᵀ‖²_F``."""
    R = T - U @ V.T
    return ops.sum(R * R)


def _make_factorization(size: Size, rng: np.random.Generator) -> Instance:
    m, n, k = dims(size, (7, 6, 3), (300, 200, 10), (True, True, False))
    return Instance((normal(rng, m, n), normal(rng, n, k)), (normal(rng, m, k),), (normal(rng, m, k),))


def factorization_grad(T: Array, V: Array, U: Array) -> Array:
    """``∇f = −2 R V`` with ``R = T − UVᵀ``."""
    return -2.0 * (T - U @ V.T) @ V


def factorization_jvp(T: Array, V: Array, U: Array, U_dot: Array) -> tuple[float, float]:
    """``(‖R‖², −2 ⟨RV, U̇⟩)``."""
    R = T - U @ V.T
    return float(np.vdot(R, R)), -2.0 * float(np.vdot(R @ V, U_dot))


def factorization_hvp(T: Array, V: Array, U: Array, U_dot: Array) -> Array:
    """``∇²f·U̇ = 2 U̇ (VᵀV)``."""
    return 2.0 * U_dot @ (V.T @ V)


def factorization_hessian(T: Array, V: Array, U: Array) -> Array:
    """``H[i,a,j,b] = 2 δᵢⱼ (VᵀV)ₐᵦ``: ``m`` copies of ``2VᵀV`` on the block diagonal."""
    m, k = U.shape
    H = np.zeros((m, k, m, k))
    rows = np.arange(m)
    H[rows, :, rows, :] = 2.0 * V.T @ V
    return H


FACTORIZATION = Problem(
    "factorization",
    "‖T−UVᵀ‖², T 300×200, k=10, w.r.t. U",
    factorization,
    _make_factorization,
    {
        "value": partial(factorization, NUMPY),
        "grad": factorization_grad,
        "jvp": factorization_jvp,
        "hvp": factorization_hvp,
        "hessian": factorization_hessian,
    },
)


# ------------------------------------------------------------------ pairwise energy


def pairwise(ops: Ops, x: Any) -> Any:
    """``E(x) = Σᵢⱼ Kᵢⱼ`` with ``Kᵢⱼ = exp(−‖xᵢ − xⱼ‖²)`` (``i = j`` included)."""
    d = x[:, None, :] - x[None, :, :]
    return ops.sum(ops.exp(-ops.sum(d * d, axis=2)))


def _make_pairwise(size: Size, rng: np.random.Generator) -> Instance:
    (n,) = dims(size, (10,), (200,), (True,))
    return Instance((), (normal(rng, n, 3),), (normal(rng, n, 3),))


def _kernel(x: Array) -> tuple[Array, Array]:
    """``dᵢⱼ = xᵢ − xⱼ`` (n×n×3) and ``Kᵢⱼ = exp(−‖dᵢⱼ‖²)``."""
    d = x[:, None, :] - x[None, :, :]
    return d, np.exp(-np.einsum("ija,ija->ij", d, d))


def pairwise_grad(x: Array) -> Array:
    """``∇ₖE = −4 Σⱼ Kₖⱼ (xₖ − xⱼ) = −4 (diag(K𝟙) x − Kx)``."""
    _, K = _kernel(x)
    return -4.0 * (K.sum(axis=1)[:, None] * x - K @ x)


def pairwise_jvp(x: Array, v: Array) -> tuple[float, float]:
    """``(Σᵢⱼ Kᵢⱼ, ⟨∇E, v⟩)``."""
    _, K = _kernel(x)
    return float(K.sum()), -4.0 * float(np.vdot(K.sum(axis=1)[:, None] * x - K @ x, v))


def pairwise_hvp(x: Array, v: Array) -> Array:
    """``(∇²E·v)ₖ = −4 Σⱼ Kₖⱼ (δvₖⱼ − 2 dₖⱼ ⟨dₖⱼ, δvₖⱼ⟩)`` with ``δvₖⱼ = vₖ − vⱼ``."""
    d, K = _kernel(x)
    dv = v[:, None, :] - v[None, :, :]
    along = np.einsum("ija,ija->ij", d, dv)
    return -4.0 * np.einsum("ij,ija->ia", K, dv - 2.0 * d * along[:, :, None])


def pairwise_hessian(x: Array) -> Array:
    """``H[k,a,l,b] = 4 Bₖₗ[a,b] − 4 δₖₗ Σⱼ Bₖⱼ[a,b]`` with ``Bₖₗ = Kₖₗ (I − 2 dₖₗ dₖₗᵀ)``."""
    d, K = _kernel(x)
    n = len(x)
    d_kal = d.transpose(0, 2, 1)
    H = 4.0 * K[:, None, :, None] * (np.eye(3)[None, :, None, :] - 2.0 * d_kal[:, :, :, None] * d[:, None, :, :])
    rows = np.arange(n)
    H[rows, :, rows, :] -= H.sum(axis=2)
    return H


PAIRWISE = Problem(
    "pairwise",
    "Σᵢⱼ exp(−‖xᵢ−xⱼ‖²), x 200×3",
    pairwise,
    _make_pairwise,
    {
        "value": partial(pairwise, NUMPY),
        "grad": pairwise_grad,
        "jvp": pairwise_jvp,
        "hvp": pairwise_hvp,
        "hessian": pairwise_hessian,
    },
)


# ------------------------------------------------------------------ two-layer MLP


def mlp(ops: Ops, X: Any, y: Any, w2: Any, W1: Any) -> Any:
    """``f(W₁) = (1/B) Σₙ rₙ²`` with ``r = σ(XW₁) w₂ − y`` (batch ``B``)."""
    r = ops.sigmoid(X @ W1) @ w2 - y
    return ops.mean(r * r)


def _make_mlp(size: Size, rng: np.random.Generator) -> Instance:
    batch, d_in, hidden = dims(size, (12, 6, 5), (256, 512, 512), (True, False, True))
    data = (normal(rng, batch, d_in), normal(rng, batch), normal(rng, hidden, scale=hidden**-0.5))
    W1 = normal(rng, d_in, hidden, scale=d_in**-0.5)
    return Instance(data, (W1,), (normal(rng, d_in, hidden),))


def _hidden(X: Array, y: Array, w2: Array, W1: Array) -> tuple[Array, Array, Array]:
    """``H = σ(XW₁)``, ``S = H ∘ (1 − H)`` and ``r = Hw₂ − y``."""
    H = scipy.special.expit(X @ W1)
    return H, H * (1.0 - H), H @ w2 - y


def mlp_grad(X: Array, y: Array, w2: Array, W1: Array) -> Array:
    """``∇f = Xᵀ G`` with ``G = (2/B) (r w₂ᵀ) ∘ S``."""
    _, S, r = _hidden(X, y, w2, W1)
    return X.T @ ((2.0 / len(y)) * r[:, None] * w2 * S)


def mlp_hvp(X: Array, y: Array, w2: Array, W1: Array, W1_dot: Array) -> Array:
    """``∇²f·Ẇ₁ = (2/B) Xᵀ ((ṙ w₂ᵀ) ∘ S + (r w₂ᵀ) ∘ Ṡ)`` with ``Ż = XẆ₁``,
    ``ṙ = (S ∘ Ż) w₂`` and ``Ṡ = S ∘ (1 − 2H) ∘ Ż``."""
    H, S, r = _hidden(X, y, w2, W1)
    Z_dot = X @ W1_dot
    r_dot = (S * Z_dot) @ w2
    S_dot = S * (1.0 - 2.0 * H) * Z_dot
    return (2.0 / len(y)) * X.T @ ((r_dot[:, None] * S + r[:, None] * S_dot) * w2)


MLP = Problem(
    "mlp",
    "σ-MLP 512→512→1, batch 256, squared loss, w.r.t. W₁",
    mlp,
    _make_mlp,
    {"value": partial(mlp, NUMPY), "grad": mlp_grad, "hvp": mlp_hvp},
)
