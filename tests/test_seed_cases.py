"""The cases the seed documents work through, checked against numpy and finite differences.

Each einsum is checked three ways: its value against ``numpy.einsum``; the gradient of
``sum(out ⊙ W)`` w.r.t. every operand against central differences of the numpy
expression; and the full Jacobians by forward and reverse mode against each other and
against central differences. Seed 001's four-layer sigmoid network is checked against
finite differences and against hand-written numpy backpropagation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import oracles
import pytest
from oracles import fd_jacobian

import tensorad as ta

Array = np.ndarray
Shape = tuple[int, ...]

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6  # central differences in float64, atol scaled to the magnitudes

SIZES = {"a": 2, "b": 3, "c": 2, "d": 3, "e": 2, "f": 2, "h": 3, "i": 3, "j": 4, "k": 2, "p": 3, "t": 2, "w": 2}

SEED_EQUATIONS = [
    "ijk,ip->jkp",
    "ij,jk->ik",
    "bij,jk->ik",  # b only in the first operand: its gradient is broadcast along b
    "ab,cd->ab",  # c, d summed away: the gradient w.r.t. the second operand is broadcast
    "ij,cij->ij",
    "ab,bd->",
    "abcd,efd->",
    "bchwkt,fckt->bfhw",
    "ii->",  # a repeated label: the gradient is a diagonal embedding
    "ii->i",
]


def shapes_of(equation: str) -> tuple[Shape, ...]:
    inputs = equation.split("->")[0].split(",")
    return tuple(tuple(SIZES[label] for label in term) for term in inputs)


CASES = [pytest.param(eq, shapes_of(eq), id=eq) for eq in SEED_EQUATIONS] + [
    # DESIGN.md: a size-1 axis broadcast across operands; its gradient is reduced back to size 1
    pytest.param("cij,cjk->cik", ((3, 4, 5), (3, 1, 6)), id="cij,cjk->cik-broadcast"),
]


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    oracles.assert_close(actual, expected, rtol, atol)


def fd_wrt(f: Callable[..., Any], operands: Sequence[Array], k: int) -> Array:
    """The central-difference Jacobian of ``f(*operands)`` w.r.t. ``operands[k]``."""

    def partial(x: Array) -> Any:
        return f(*operands[:k], x, *operands[k + 1 :])

    return fd_jacobian(partial, operands[k])


def random_operands(shapes: Sequence[Shape], seed: int = 0) -> list[Array]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


# ------------------------------------------------------------------ einsum cases


@pytest.mark.parametrize(("equation", "shapes"), CASES)
def test_value_matches_numpy(equation: str, shapes: tuple[Shape, ...]) -> None:
    operands = random_operands(shapes)
    assert_close(ta.einsum(equation, *operands), np.einsum(equation, *operands), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("equation", "shapes"), CASES)
def test_gradient_matches_finite_differences(equation: str, shapes: tuple[Shape, ...]) -> None:
    operands = random_operands(shapes)
    weights = np.random.default_rng(1).standard_normal(np.einsum(equation, *operands).shape)

    def loss(*ops: Any) -> Any:
        return ta.sum(ta.einsum(equation, *ops) * weights)

    def loss_numpy(*ops: Array) -> float:
        return float(np.sum(np.einsum(equation, *ops) * weights))

    argnums = tuple(range(len(operands)))
    gradients = ta.grad(loss, argnums=argnums)(*operands)
    assert len(gradients) == len(operands)
    for k, gradient in enumerate(gradients):
        expected = fd_wrt(loss_numpy, operands, k)
        assert gradient.shape == operands[k].shape
        assert_close(gradient, expected)
        assert_close(ta.grad(loss, argnums=k)(*operands), expected)


@pytest.mark.parametrize(("equation", "shapes"), CASES)
def test_jacfwd_equals_jacrev(equation: str, shapes: tuple[Shape, ...]) -> None:
    operands = random_operands(shapes)
    argnums = tuple(range(len(operands)))

    def product(*ops: Any) -> Any:
        return ta.einsum(equation, *ops)

    forward = ta.jacfwd(product, argnums=argnums)(*operands)
    reverse = ta.jacrev(product, argnums=argnums)(*operands)
    for k, (jac_fwd, jac_rev) in enumerate(zip(forward, reverse, strict=True)):
        expected = fd_wrt(lambda *ops: np.einsum(equation, *ops), operands, k)
        assert jac_fwd.shape == jac_rev.shape == expected.shape
        assert_close(jac_fwd, jac_rev, rtol=1e-12, atol=1e-12)
        assert_close(jac_fwd, expected)


# ------------------------------------------------------------------ seed 001's network

LAYERS = [3, 5, 4, 4, 2]
BATCH = 6


def network_inputs() -> tuple[Array, list[Array], Array]:
    """An input batch, four weight matrices and a target."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, LAYERS[0]))
    weights = [rng.standard_normal((m, n)) for m, n in itertools.pairwise(LAYERS)]
    return x, weights, rng.uniform(0, 1, (BATCH, LAYERS[-1]))


def network(x: Any, w1: Any, w2: Any, w3: Any, w4: Any) -> Any:
    """``h1 = σ(x W1)`` (as seed 001's einsum), ``h2 = σ(h1 W2)``, ``h3 = σ(h2 W3)``, ``σ(h3 W4)``."""
    h1 = ta.sigmoid(ta.einsum("bi,ij->bj", x, w1))
    h2 = ta.sigmoid(h1 @ w2)
    h3 = ta.sigmoid(h2 @ w3)
    return ta.sigmoid(h3 @ w4)


def sigmoid(z: Array) -> Array:
    return 1 / (1 + np.exp(-z))


def activations_numpy(x: Array, weights: Sequence[Array]) -> list[Array]:
    """``[x, h1, h2, h3, out]``."""
    layers = [x]
    for w in weights:
        layers.append(sigmoid(layers[-1] @ w))
    return layers


def backprop_numpy(x: Array, weights: Sequence[Array], out_bar: Callable[[Array], Array]) -> list[Array]:
    """Hand-written backpropagation; ``out_bar(out)`` is ∂loss/∂out."""
    layers = activations_numpy(x, weights)
    delta = out_bar(layers[-1])
    grads = []
    for w, below, above in reversed(list(zip(weights, layers, layers[1:], strict=False))):
        z_bar = delta * above * (1 - above)
        grads.append(below.T @ z_bar)
        delta = z_bar @ w.T
    return grads[::-1]


# name -> (loss in tensorad, loss in numpy, ∂loss/∂out in numpy), each given (out, target)
LOSSES: dict[str, tuple[Callable[..., Any], Callable[..., float], Callable[..., Array]]] = {
    "sum": (lambda out, _: ta.sum(out), lambda out, _: float(np.sum(out)), lambda out, _: np.ones_like(out)),
    "squared error": (
        lambda out, y: 0.5 * ta.sum(ta.square(out - y)),
        lambda out, y: 0.5 * float(np.sum((out - y) ** 2)),
        lambda out, y: out - y,
    ),
}


@pytest.mark.parametrize(("loss", "loss_numpy", "out_bar"), LOSSES.values(), ids=LOSSES.keys())
def test_network_gradient(loss: Callable[..., Any], loss_numpy: Callable[..., float], out_bar: Any) -> None:
    x, weights, target = network_inputs()

    def objective(x: Any, *weights: Any) -> Any:
        return loss(network(x, *weights), target)

    def objective_numpy(x: Array, *weights: Array) -> float:
        return loss_numpy(activations_numpy(x, weights)[-1], target)

    operands = [x, *weights]
    value, gradients = ta.value_and_grad(objective, argnums=(1, 2, 3, 4))(*operands)
    assert_close(value, objective_numpy(*operands), rtol=1e-12, atol=1e-12)
    backprop = backprop_numpy(x, weights, lambda out: out_bar(out, target))
    for k, (gradient, by_hand) in enumerate(zip(gradients, backprop, strict=True), start=1):
        assert gradient.shape == operands[k].shape
        assert_close(gradient, by_hand, rtol=1e-10, atol=1e-12)
        assert_close(gradient, fd_wrt(objective_numpy, operands, k))
