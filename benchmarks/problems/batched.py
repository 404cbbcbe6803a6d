"""Per-example gradients: the loss of one example of a two-layer tanh MLP, its gradients
with respect to both layers for every example of a batch, the layers shared.

(The other batched task, ``hvps``, is a task of the logistic loss: :mod:`.losses`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks.problems.base import Array, Instance, Ops, Problem, Size, dims, normal


def mlp_example(ops: Ops, W1: Any, W2: Any, x: Any, y: Any) -> Any:
    """``ℓ(W₁, W₂; x, y) = ‖W₂ tanh(W₁x) − y‖²``, the loss of one example ``(x, y)``."""
    r = W2 @ ops.tanh(W1 @ x) - y
    return ops.sum(r * r)


def _make_mlp_example(size: Size, rng: np.random.Generator) -> Instance:
    batch, d_in, hidden, d_out = dims(size, (3, 4, 5, 2), (256, 64, 128, 10), (True, False, False, False))
    W1 = normal(rng, hidden, d_in, scale=d_in**-0.5)
    W2 = normal(rng, d_out, hidden, scale=hidden**-0.5)
    return Instance((), (W1, W2), batch=(normal(rng, batch, d_in), normal(rng, batch, d_out)))


def mlp_example_grads(W1: Array, W2: Array, X: Array, Y: Array) -> tuple[Array, Array]:
    """For each example ``n`` (row of ``X`` and ``Y``): ``∂ℓₙ/∂W₁ = δₙxₙᵀ`` and
    ``∂ℓₙ/∂W₂ = gₙhₙᵀ``, with ``hₙ = tanh(W₁xₙ)``, ``gₙ = 2(W₂hₙ − yₙ)`` and
    ``δₙ = (W₂ᵀgₙ) ∘ (1 − hₙ²)``; the batch as rows of three matrix products, the
    per-example outer products as one ``einsum`` each (faster than broadcasting here)."""
    H = np.tanh(X @ W1.T)
    G = 2.0 * (H @ W2.T - Y)
    D = (G @ W2) * (1.0 - H * H)
    return np.einsum("bh,bd->bhd", D, X), np.einsum("bo,bh->boh", G, H)


MLP_EXAMPLE = Problem(
    "mlp_example",
    "‖W₂ tanh(W₁x) − y‖², 64→128→10, per-example gradients over a batch of 256",
    mlp_example,
    _make_mlp_example,
    {"per_example": mlp_example_grads},
)
