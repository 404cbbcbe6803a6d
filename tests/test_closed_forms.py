"""Derivatives with a known closed form, each computed independently with plain numpy.

Quadratic forms, logistic regression, matrix factorization, a pairwise energy (against
finite differences), the matrix calculus of ``inv``, ``det`` and ``logdet``, and the
agreement of every way of building a Hessian or a Hessian-vector product.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import oracles
import pytest
from oracles import fd_jacobian

import tensorad as ta

Array = np.ndarray

EPS = 1e-6
RTOL, ATOL = 1e-10, 1e-12  # closed forms: only rounding separates the two computations
FD_RTOL, FD_ATOL = 1e-5, 1e-6  # central differences, atol scaled to the magnitudes


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    oracles.assert_close(actual, expected, rtol, atol)


def sigmoid(z: Array) -> Array:
    return 1 / (1 + np.exp(-z))


def rng() -> np.random.Generator:
    return np.random.default_rng(0)


# ------------------------------------------------------------------ xᵀAx


def test_quadratic_form_with_a_nonsymmetric_matrix() -> None:
    r = rng()
    a, x = r.standard_normal((4, 4)), r.standard_normal(4)
    assert not np.allclose(a, a.T)

    def f(x: Any) -> Any:
        return ta.einsum("i,ij,j->", x, a, x)

    assert_close(ta.grad(f)(x), (a + a.T) @ x)
    assert_close(ta.hessian(f)(x), a + a.T)


# ------------------------------------------------------------------ logistic regression


def logistic_problem() -> tuple[Array, Array, Array]:
    r = rng()
    data = r.standard_normal((20, 4))
    labels = r.choice([-1.0, 1.0], 20)
    return data, labels, 0.5 * r.standard_normal(4)


LOSSES: dict[str, Callable[[Any], Any]] = {
    "softplus": lambda margin: ta.softplus(-margin),
    "log1p(exp)": lambda margin: ta.log1p(ta.exp(-margin)),
}


@pytest.mark.parametrize("loss", LOSSES.values(), ids=LOSSES.keys())
def test_logistic_regression(loss: Callable[[Any], Any]) -> None:
    """``L = Σ log(1 + exp(−y ⊙ Xw))``: ``∇L = −Xᵀ(y ⊙ σ(−y ⊙ Xw))``, ``∇²L = Xᵀ diag(σ(1−σ)) X``."""
    data, labels, w = logistic_problem()

    def objective(w: Any) -> Any:
        return ta.sum(loss(labels * (data @ w)))

    z = data @ w
    s = sigmoid(z)
    value, gradient = ta.value_and_grad(objective)(w)
    assert_close(value, np.sum(np.log1p(np.exp(-labels * z))))
    assert_close(gradient, -data.T @ (labels * sigmoid(-labels * z)))
    assert_close(ta.hessian(objective)(w), data.T @ np.diag(s * (1 - s)) @ data)


# ------------------------------------------------------------------ matrix factorization


def factorization_problem(m: int = 5, n: int = 4, k: int = 2) -> tuple[Array, Array, Array]:
    r = rng()
    return r.standard_normal((m, n)), r.standard_normal((m, k)), r.standard_normal((n, k))


def factorization_loss(t: Array, v: Array) -> Callable[[Any], Any]:
    """``U ↦ ‖T − UVᵀ‖²_F``."""
    return lambda u: ta.sum(ta.square(t - u @ v.T))


def factorization_hessian(m: int, v: Array) -> Array:
    """``H[a, c, a', c'] = 2 δ_{aa'} (VᵀV)_{cc'}``."""
    return np.einsum("ab,cd->acbd", np.eye(m), 2 * v.T @ v)


def test_matrix_factorization() -> None:
    t, u, v = factorization_problem()
    loss = factorization_loss(t, v)
    assert_close(ta.grad(loss)(u), -2 * (t - u @ v.T) @ v)
    assert_close(ta.hessian(loss)(u), factorization_hessian(len(u), v))


def test_matrix_factorization_hvp() -> None:
    """``H[D] = 2 D VᵀV`` for a direction ``D`` shaped like ``U``, by forward-over-reverse."""
    t, u, v = factorization_problem()
    direction = rng().standard_normal(u.shape)
    _, hvp = ta.jvp(ta.grad(factorization_loss(t, v)), (u,), (direction,))
    assert_close(hvp, 2 * direction @ v.T @ v)


# ------------------------------------------------------------------ pairwise energy


def energy_numpy(x: Array) -> float:
    """``E(x) = Σ_ij exp(−‖x_i − x_j‖²)``."""
    diff = x[:, None, :] - x[None, :, :]
    return float(np.sum(np.exp(-np.sum(diff**2, axis=-1))))


def energy_gradient_numpy(x: Array) -> Array:
    """``∂E/∂x_i = −4 Σ_j exp(−‖x_i − x_j‖²) (x_i − x_j)``."""
    diff = x[:, None, :] - x[None, :, :]
    weights = np.exp(-np.sum(diff**2, axis=-1))
    return -4 * np.einsum("ij,ijk->ik", weights, diff)


def energy_broadcasting(x: Any) -> Any:
    diff = x[:, None, :] - x[None, :, :]
    return ta.sum(ta.exp(-ta.sum(diff * diff, axis=-1)))


def energy_gram(x: Any) -> Any:
    """``‖x_i − x_j‖² = G_ii + G_jj − 2 G_ij`` with the Gram matrix ``G = x xᵀ``."""
    norms = ta.einsum("ik,ik->i", x, x)
    gram = ta.einsum("ik,jk->ij", x, x)
    squared = ta.einsum("i,j->ij", norms, np.ones(len(x))) + ta.einsum("i,j->ij", np.ones(len(x)), norms)
    return ta.sum(ta.exp(2 * gram - squared))


ENERGIES = {"broadcasting": energy_broadcasting, "gram": energy_gram}


def test_energy_numpy_gradient_matches_finite_differences() -> None:
    """The numpy gradient below is itself an oracle: check it first."""
    x = 0.5 * rng().standard_normal((5, 3))
    assert_close(energy_gradient_numpy(x), fd_jacobian(energy_numpy, x), FD_RTOL, FD_ATOL)


@pytest.mark.parametrize("energy", ENERGIES.values(), ids=ENERGIES.keys())
def test_pairwise_energy(energy: Callable[[Any], Any]) -> None:
    x = 0.5 * rng().standard_normal((5, 3))
    value, gradient = ta.value_and_grad(energy)(x)
    assert_close(value, energy_numpy(x))
    assert_close(gradient, fd_jacobian(energy_numpy, x), FD_RTOL, FD_ATOL)
    hess = ta.hessian(energy)(x)
    assert hess.shape == (5, 3, 5, 3)
    assert_close(hess, fd_jacobian(energy_gradient_numpy, x), FD_RTOL, FD_ATOL)


# ------------------------------------------------------------------ inv, det, logdet


def matrices(shape: tuple[int, ...]) -> Array:
    """Well-conditioned matrices ``I + 0.3 N``; the first has a negative determinant."""
    x = np.eye(shape[-1]) + 0.3 * rng().standard_normal(shape)
    x[(0,) * (x.ndim - 1)] *= -1  # the first row of the first matrix
    return x


SHAPES = [pytest.param((3, 3), id="matrix"), pytest.param((2, 3, 3), id="batch")]


def inverse_transpose(x: Array) -> Array:
    return np.swapaxes(np.linalg.inv(x), -1, -2)


@pytest.mark.parametrize("shape", SHAPES)
def test_inv_pushforward(shape: tuple[int, ...]) -> None:
    """``d inv(X)[V] = −X⁻¹ V X⁻¹``."""
    x = matrices(shape)
    direction = rng().standard_normal(shape)
    value, tangent = ta.jvp(ta.inv, (x,), (direction,))
    inverse = np.linalg.inv(x)
    assert_close(value, inverse)
    assert_close(tangent, -inverse @ direction @ inverse)


@pytest.mark.parametrize("shape", SHAPES)
def test_logdet_gradient(shape: tuple[int, ...]) -> None:
    """``∂ log|det X| = X⁻ᵀ``, whatever the sign of the determinant."""
    x = matrices(shape)
    assert np.linalg.det(x).flat[0] < 0
    value, gradient = ta.value_and_grad(lambda x: ta.sum(ta.logdet(x)))(x)
    assert_close(value, np.sum(np.log(np.abs(np.linalg.det(x)))))
    assert_close(gradient, inverse_transpose(x))


@pytest.mark.parametrize("shape", SHAPES)
def test_det_gradient(shape: tuple[int, ...]) -> None:
    """``∂ det X = det(X) X⁻ᵀ``."""
    x = matrices(shape)
    gradient = ta.grad(lambda x: ta.sum(ta.det(x)))(x)
    assert_close(gradient, np.linalg.det(x)[..., None, None] * inverse_transpose(x))


def test_logdet_hessian() -> None:
    """``∂² logdet X [i,j,k,l] = −X⁻¹[j,k] X⁻¹[l,i]`` (from ``d X⁻ᵀ = −X⁻ᵀ dXᵀ X⁻ᵀ``)."""
    x = matrices((3, 3))
    inverse = np.linalg.inv(x)
    assert_close(ta.hessian(ta.logdet)(x), -np.einsum("jk,li->ijkl", inverse, inverse))


# ------------------------------------------------------------------ every route to a Hessian


def mixed(x: Any) -> Any:
    a = np.arange(12.0).reshape(3, 4) / 10
    return ta.sum(ta.tanh(a @ x) * ta.sin(x[:3])) + ta.logsumexp(x) + ta.norm(x) ** 3


def logistic(w: Any) -> Any:
    data, labels, _ = logistic_problem()
    return ta.sum(ta.softplus(-labels * (data @ w)))


HESSIAN_CASES = {
    "logistic": (logistic, rng().standard_normal(4)),
    "mixed": (mixed, rng().standard_normal(4)),
    "energy": (energy_broadcasting, 0.5 * rng().standard_normal((3, 2))),
    "logdet": (ta.logdet, matrices((3, 3))),
}
ROUTES = {
    "hessian": ta.hessian,
    "jacfwd(jacrev)": lambda f: ta.jacfwd(ta.jacrev(f)),
    "jacrev(jacrev)": lambda f: ta.jacrev(ta.jacrev(f)),
    "jacfwd(jacfwd)": lambda f: ta.jacfwd(ta.jacfwd(f)),
    "jacrev(jacfwd)": lambda f: ta.jacrev(ta.jacfwd(f)),
}


def as_matrix(hess: Array, x: Array) -> Array:
    return hess.reshape(x.size, x.size)


@pytest.mark.parametrize(("f", "x"), HESSIAN_CASES.values(), ids=HESSIAN_CASES.keys())
@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_hessian_routes_agree_and_are_symmetric(f: Callable[[Any], Any], x: Array, route: Any) -> None:
    reference = fd_jacobian(ta.grad(f), x)
    hess = route(f)(x)
    assert hess.shape == x.shape + x.shape
    assert_close(hess, reference, FD_RTOL, FD_ATOL)
    assert_close(hess, ta.hessian(f)(x))
    assert_close(as_matrix(hess, x), as_matrix(hess, x).T)


@pytest.mark.parametrize(("f", "x"), HESSIAN_CASES.values(), ids=HESSIAN_CASES.keys())
def test_hessian_vector_product(f: Callable[[Any], Any], x: Array) -> None:
    """Forward-over-reverse ``jvp(grad f)`` and reverse-over-reverse ``grad(⟨grad f, v⟩)`` equal ``H v``."""
    v = np.random.default_rng(1).standard_normal(x.shape)
    hv = (as_matrix(ta.hessian(f)(x), x) @ v.ravel()).reshape(x.shape)
    _, forward_over_reverse = ta.jvp(ta.grad(f), (x,), (v,))
    reverse_over_reverse = ta.grad(lambda x: ta.sum(ta.grad(f)(x) * v))(x)
    assert_close(forward_over_reverse, hv)
    assert_close(reverse_over_reverse, hv)


def test_logistic_hvp_closed_form() -> None:
    data, _, w = logistic_problem()
    v = np.random.default_rng(1).standard_normal(4)
    s = sigmoid(data @ w)
    _, hv = ta.jvp(ta.grad(logistic), (w,), (v,))
    assert_close(hv, data.T @ (s * (1 - s) * (data @ v)))
