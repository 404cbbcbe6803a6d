"""Real models written as a JAX or numpy user writes them (plain ``np.`` calls, fancy
indexing, masks, concatenation), differentiated by tensorad and checked against central
differences of the same function run by numpy itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from oracles import central_difference as central_gradient

import tensorad as ta
from tensorad.testing import check_grads

RNG = np.random.default_rng(11)


def central_hessian(f: Callable[[Any], float], x: Any, eps: float = 1e-4) -> Any:
    """∂²f/∂x² by central differences of the exact gradient's oracle: differences of f."""
    n = x.size
    flat = x.ravel()
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            def shifted(a: float, b: float, i: int = i, j: int = j) -> float:
                y = flat.copy()
                y[i] += a
                y[j] += b
                return f(y.reshape(x.shape))

            h[i, j] = (shifted(eps, eps) - shifted(eps, -eps) - shifted(-eps, eps) + shifted(-eps, -eps)) / (4 * eps**2)
    return h.reshape(x.shape + x.shape)


# ------------------------------------------------------------------ an MLP with ReLU and integer labels


def mlp_loss(params: dict[str, Any], x: Any, y: Any) -> Any:
    h = np.maximum(x @ params["W1"] + params["b1"], 0.0)  # ReLU as numpy users write it
    logits = h @ params["W2"] + params["b2"]
    logp = logits - np.log(np.sum(np.exp(logits - logits.max(axis=1, keepdims=True)), axis=1, keepdims=True))
    logp = logp - logits.max(axis=1, keepdims=True)
    return -np.mean(logp[np.arange(len(y)), y])  # integer-label cross-entropy


def test_mlp_with_relu_and_integer_label_cross_entropy() -> None:
    n, d, hidden, k = 16, 5, 8, 4
    params = {
        "W1": RNG.standard_normal((d, hidden)),
        "b1": RNG.standard_normal(hidden) * 0.1,
        "W2": RNG.standard_normal((hidden, k)),
        "b2": np.zeros(k),
    }
    x, y = RNG.standard_normal((n, d)), RNG.integers(0, k, n)
    grads = ta.grad(mlp_loss)(params, x, y)
    for name, value in params.items():
        def along(v: Any, name: str = name) -> float:
            return float(mlp_loss({**params, name: v}, x, y))

        np.testing.assert_allclose(grads[name], central_gradient(along, value), rtol=1e-6, atol=1e-8)
    compiled = ta.jit(ta.value_and_grad(lambda p: mlp_loss(p, x, y)))
    value, again = compiled(params)
    np.testing.assert_allclose(value, mlp_loss(params, x, y), rtol=1e-13)
    np.testing.assert_allclose(again["W1"], grads["W1"], rtol=1e-12)


# ------------------------------------------------------------------ causal attention with a where mask


def attention(q: Any, k: Any, v: Any) -> Any:
    t = q.shape[0]
    scores = q @ k.T / np.sqrt(q.shape[1])
    causal = np.tril(np.ones((t, t), dtype=bool))
    scores = np.where(causal, scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = weights / weights.sum(axis=1, keepdims=True)
    return np.sum((weights @ v) ** 2)


def test_causal_attention_with_a_where_mask() -> None:
    q, k, v = (RNG.standard_normal((5, 3)) for _ in range(3))
    grads = ta.grad(attention, argnums=(0, 1, 2))(q, k, v)
    for position, value in enumerate((q, k, v)):
        def along(u: Any, position: int = position) -> float:
            args = [q, k, v]
            args[position] = u
            return float(attention(*args))

        np.testing.assert_allclose(grads[position], central_gradient(along, value), rtol=1e-6, atol=1e-8)
    check_grads(attention, (q, k, v), order=2)


# ------------------------------------------------------------------ Lennard-Jones over a pair list


def lennard_jones(r: Any, i: Any, j: Any) -> Any:
    d = r[i] - r[j]  # positions of the pairs, gathered
    r2 = np.sum(d * d, axis=1)
    inv6 = (1.0 / r2) ** 3
    return np.sum(4.0 * (inv6 * inv6 - inv6))


def test_lennard_jones_energy_over_a_pair_list_full_hessian() -> None:
    grid = np.array([[a, b, c] for a in range(2) for b in range(2) for c in range(2)], dtype=float)[:6]
    r = grid * 1.2 + 0.05 * RNG.standard_normal((6, 3))
    i, j = np.triu_indices(6, 1)
    hess = ta.hessian(lennard_jones)(r, i, j)
    expected = central_hessian(lambda x: float(lennard_jones(x, i, j)), r)
    np.testing.assert_allclose(hess, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_allclose(hess.reshape(18, 18), hess.reshape(18, 18).T, rtol=1e-12, atol=1e-12)
    grad = ta.grad(lennard_jones)(r, i, j)
    np.testing.assert_allclose(grad.sum(axis=0), np.zeros(3), atol=1e-10)  # translation invariance


# ------------------------------------------------------------------ max-pooling, clipping, Huber


def pooled_huber(image: Any, target: Any) -> Any:
    h, w = image.shape
    pooled = image.reshape(h // 2, 2, w // 2, 2).max(axis=(1, 3))  # 2×2 max-pooling
    pooled = np.clip(pooled, -1.0, 1.5)
    r = pooled - target
    quadratic = np.minimum(np.abs(r), 1.0)
    return np.sum(0.5 * quadratic**2 + (np.abs(r) - quadratic))  # Huber with δ = 1


def test_max_pooling_clipping_and_huber_loss() -> None:
    image = RNG.standard_normal((6, 8)) * 1.2
    target = RNG.standard_normal((3, 4))
    grad = ta.grad(pooled_huber)(image, target)
    np.testing.assert_allclose(grad, central_gradient(lambda x: float(pooled_huber(x, target)), image), atol=1e-7)
    assert np.count_nonzero(grad) <= 12  # one pooled winner per window at most
    check_grads(pooled_huber, (image, target), order=2)


# ------------------------------------------------------------------ a KKT residual with concatenate


def kkt_residual(z: Any, Q: Any, A: Any, c: Any, b: Any) -> Any:
    n = Q.shape[0]
    x, lam = z[:n], z[n:]
    stationarity = Q @ x + c + A.T @ lam + 0.1 * x**3
    feasibility = A @ x - b
    r = np.concatenate([stationarity, feasibility])
    return 0.5 * r @ r


@pytest.mark.parametrize("mode", ["hessian", "jacfwd(grad)"])
def test_kkt_residual_assembled_with_concatenate(mode: str) -> None:
    n, m = 4, 2
    q = RNG.standard_normal((n, n))
    Q, A, c, b = q @ q.T + np.eye(n), RNG.standard_normal((m, n)), RNG.standard_normal(n), RNG.standard_normal(m)
    z = RNG.standard_normal(n + m)
    f = lambda z: kkt_residual(z, Q, A, c, b)  # noqa: E731
    grad = ta.grad(f)(z)
    np.testing.assert_allclose(grad, central_gradient(lambda v: float(f(v)), z), rtol=1e-6, atol=1e-7)
    hess = ta.hessian(f)(z) if mode == "hessian" else ta.jacfwd(ta.grad(f))(z)
    np.testing.assert_allclose(hess, central_hessian(lambda v: float(f(v)), z), rtol=1e-5, atol=1e-4)
