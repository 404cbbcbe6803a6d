"""A tanh recurrent network unrolled over time: a deep graph of small steps (issue 19's
RNN rows), where each step is a few matrix products and an elementwise function."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from benchmarks.problems.base import NUMPY, Array, Instance, Ops, Problem, Size, dims, normal


def rnn(ops: Ops, xs: Any, U: Any, W: Any) -> Any:
    """``‖h_T‖²`` for ``h₁ = tanh(U x₁)``, ``hₜ = tanh(W hₜ₋₁ + U xₜ)`` over a batch (rows),
    the loop unrolled as its user writes it."""
    h = ops.tanh(xs[0] @ U.T)
    for t in range(1, ops.dim(xs, 0)):
        h = ops.tanh(h @ W.T + xs[t] @ U.T)
    return ops.sum(h * h)


def rnn_grad(xs: Array, U: Array, W: Array) -> Array:
    """Backpropagation through time: ``Dₜ = Gₜ ∘ (1 − hₜ²)``, ``∂/∂W = Σₜ Dₜᵀ hₜ₋₁`` and
    ``Gₜ₋₁ = Dₜ W``, from ``G_T = 2h_T``."""
    hs = [np.tanh(xs[0] @ U.T)]
    for t in range(1, xs.shape[0]):
        hs.append(np.tanh(hs[-1] @ W.T + xs[t] @ U.T))
    G = 2.0 * hs[-1]
    W_bar = np.zeros_like(W)
    for t in range(xs.shape[0] - 1, 0, -1):
        D = G * (1.0 - hs[t] * hs[t])
        W_bar += D.T @ hs[t - 1]
        G = D @ W
    return W_bar


def _make(steps: int, size: Size, rng: np.random.Generator) -> Instance:
    t, batch, d_in, hidden = dims(size, (3, 2, 3, 4), (steps, 32, 32, 64), (True, False, False, False))
    xs = normal(rng, t, batch, d_in)
    U = normal(rng, hidden, d_in, scale=d_in**-0.5)
    W = normal(rng, hidden, hidden, scale=0.9 * hidden**-0.5)
    return Instance((xs, U), (W,))


RNN50, RNN200 = (
    Problem(
        f"rnn{steps}",
        f"tanh RNN, {steps} steps unrolled, hidden 64, batch 32, ‖h_T‖² w.r.t. W",
        rnn,
        partial(_make, steps),
        {"value": partial(rnn, NUMPY), "grad": rnn_grad},
    )
    for steps in (50, 200)
)
