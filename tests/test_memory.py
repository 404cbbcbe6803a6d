"""Peak memory of Jacobians and Hessians, measured with tracemalloc (numpy reports to it).

The identity seed δ of a Jacobian must never be materialized when it meets a product,
so a Jacobian or Hessian costs about what its hand-written formula costs: a small
multiple of the result's own size. Inputs are built before measuring starts; results
are compared with their closed forms after it stops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from oracles import peak_bytes

import tensorad as ta
from tensorad.library import registry
from tensorad.library.registry import ELEMENTWISE

Array = np.ndarray

BUDGET = 3  # allowed peak, in multiples of the bytes of the dense result


def assert_within_budget(peak: int, result_bytes: int) -> None:
    assert peak <= BUDGET * result_bytes, (
        f"peak {peak / 2**20:.1f} MiB is {peak / result_bytes:.4f}x the result's "
        f"{result_bytes / 2**20:.1f} MiB (budget {BUDGET}x)"
    )


JACOBIANS = {"jacfwd": ta.jacfwd, "jacrev": ta.jacrev}


# ------------------------------------------------------------------ a linear map


@pytest.mark.parametrize("jacobian", JACOBIANS.values(), ids=JACOBIANS.keys())
def test_jacobian_of_a_matrix_product(jacobian: Callable[..., Any]) -> None:
    rng = np.random.default_rng(0)
    a, x = rng.standard_normal((2000, 2000)), rng.standard_normal(2000)
    jac, peak = peak_bytes(lambda: jacobian(lambda x: a @ x)(x))
    assert_within_budget(peak, a.nbytes)
    np.testing.assert_array_equal(jac, a)


@pytest.mark.parametrize("jacobian", JACOBIANS.values(), ids=JACOBIANS.keys())
def test_jacobian_of_a_matrix_times_an_activation(jacobian: Callable[..., Any]) -> None:
    """``∂(A tanh x)/∂x = A diag(1 − tanh² x)``."""
    rng = np.random.default_rng(0)
    a, x = rng.standard_normal((2000, 2000)), rng.standard_normal(2000)
    jac, peak = peak_bytes(lambda: jacobian(lambda x: a @ ta.tanh(x))(x))
    assert_within_budget(peak, a.nbytes)
    np.testing.assert_allclose(jac, a * (1 - np.tanh(x) ** 2), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ matrix factorization


def residual_square(t: Array, v: Array) -> Callable[[Any], Any]:
    return lambda u: ta.sum(ta.square(t - u @ v.T))


def residual_einsum(t: Array, v: Array) -> Callable[[Any], Any]:
    def loss(u: Any) -> Any:
        residual = t - ta.einsum("ik,jk->ij", u, v)
        return ta.einsum("ij,ij->", residual, residual)

    return loss


FACTORIZATION_LOSSES = {"square": residual_square, "einsum": residual_einsum}


@pytest.mark.parametrize("make_loss", FACTORIZATION_LOSSES.values(), ids=FACTORIZATION_LOSSES.keys())
def test_hessian_of_matrix_factorization(make_loss: Callable[[Array, Array], Callable[[Any], Any]]) -> None:
    """``‖T − UVᵀ‖²_F`` w.r.t. ``U``: ``H[a,c,a',c'] = 2 δ_{aa'} (VᵀV)_{cc'}``, 72 MB dense."""
    m, n, k = 300, 200, 10
    rng = np.random.default_rng(0)
    t, u, v = rng.standard_normal((m, n)), rng.standard_normal((m, k)), rng.standard_normal((n, k))
    loss = make_loss(t, v)
    hess, peak = peak_bytes(lambda: ta.hessian(loss)(u))
    assert_within_budget(peak, m * k * m * k * 8)
    expected = np.einsum("ab,cd->acbd", np.eye(m), 2 * v.T @ v)
    np.testing.assert_allclose(hess, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_hessian_of_a_pairwise_energy_holds_about_two_hessians() -> None:
    """``E(x) = Σᵢⱼ exp(−‖xᵢ − xⱼ‖²)``: the Hessian is a sum of dense ``N×3×N×3`` terms.
    The plan adds each onto the running sum without forming it, and builds the ``N×N``
    temporaries of one term before the running sum exists, and takes the row sums of
    the kernel matrix early enough that it dies before the running sum is made (a
    scheduler that took the shared ``N×N×3`` intermediates for freed had the peak at
    2.27×; without the early sums it is 1.98×, now 1.87×). The formula's own peak is
    2.6×."""
    from tensorad.run import accelerate

    def energy(x: Any) -> Any:
        d = x[:, None, :] - x[None, :, :]
        return ta.sum(ta.exp(-ta.sum(d * d, axis=2)))

    x = np.random.default_rng(0).standard_normal((200, 3))
    f = ta.jit(ta.hessian(energy))
    f(x)
    accelerate.wait()  # (numba's load, on another thread, would count)
    hess, peak = peak_bytes(lambda: f(x))
    assert peak <= 1.95 * hess.nbytes, peak / hess.nbytes
    d = x[:, None, :] - x[None, :, :]
    K = np.exp(-np.einsum("ija,ija->ij", d, d))
    B = 4 * K[:, :, None, None] * (np.eye(3) - 2 * d[:, :, :, None] * d[:, :, None, :])  # k l a b
    expected = B.transpose(0, 2, 1, 3).copy()
    expected[np.arange(200), :, np.arange(200), :] -= B.sum(axis=1)
    np.testing.assert_allclose(hess, expected, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ elementwise functions


PARAMS = {"power": 2.5, "rpow": 1.5}


def traced(name: str) -> Callable[[Any], Any]:
    """``name`` from the registry applied to a traced value."""
    return lambda x: registry.call(name, x, PARAMS.get(name))


def numpy_impl(name: str) -> Callable[[Array], Array]:
    """``name``'s numpy implementation (checked against numpy/scipy in test_functions.py)."""
    return lambda x: ELEMENTWISE[name].impl(x, PARAMS.get(name))


TRANSFORMS: dict[str, Callable[[Callable[[Any], Any]], Callable[[Any], Any]]] = {
    "jacfwd": ta.jacfwd,
    "jacrev": ta.jacrev,
    "hessian of sum": lambda f: ta.hessian(lambda x: ta.sum(f(x))),
}


def central_difference_diagonal(f: Callable[[Array], Array], x: Array) -> Array:
    """``(f(x + ε) − f(x − ε)) / 2ε`` entry by entry: the derivative of an elementwise map."""
    eps = 1e-6
    return (f(x + eps) - f(x - eps)) / (2 * eps)


NARROW_DOMAINS = {"arcsin": (0.2, 0.8), "arccos": (0.2, 0.8), "arctanh": (0.2, 0.8), "arccosh": (1.2, 2.0)}
"""Domains for the functions defined (or smooth) on less than [0.5, 1.5]."""


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("transform", TRANSFORMS, ids=TRANSFORMS.keys())
def test_identity_seed_is_never_dense_for_elementwise_functions(name: str, transform: str) -> None:
    """The Jacobian of an elementwise map on n = 3000 is diagonal: one dense n×n result, no more."""
    n = 3000
    low, high = NARROW_DOMAINS.get(name, (0.5, 1.5))  # inside the function's domain, away from its poles
    x = np.random.default_rng(0).uniform(low, high, n)
    f = traced(name)
    jac, peak = peak_bytes(lambda: TRANSFORMS[transform](f)(x))
    assert_within_budget(peak, n * n * 8)
    assert jac.shape == (n, n)
    diagonal = np.diag(jac).copy()
    np.fill_diagonal(jac, 0.0)
    assert not np.any(jac), "off-diagonal entries must be zero"
    differentiated = ta.grad(lambda x: ta.sum(f(x))) if transform == "hessian of sum" else numpy_impl(name)
    expected = central_difference_diagonal(differentiated, x)
    np.testing.assert_allclose(diagonal, expected, rtol=1e-5, atol=1e-6 * max(1.0, np.abs(expected).max()))


# ------------------------------------------------------------------ slices


def test_slices_of_a_long_vector_never_form_a_selection_matrix() -> None:
    """Rosenbrock's ``x[1:]`` and ``x[:-1]`` at n = 10⁵: a selection matrix would take
    80 GB; a window and its adjoint (zero padding) take a few vectors."""
    n = 100_000
    x = np.random.default_rng(0).standard_normal(n)

    def rosenbrock(v: Any) -> Any:
        return np.sum(100.0 * (v[1:] - v[:-1] ** 2) ** 2 + (1 - v[:-1]) ** 2)

    with ta.memory_budget("64M"):
        gradient, peak = peak_bytes(lambda: ta.grad(rosenbrock)(x))
    r = x[1:] - x[:-1] ** 2
    expected = np.zeros(n)
    expected[1:] += 200.0 * r
    expected[:-1] += -400.0 * x[:-1] * r - 2.0 * (1 - x[:-1])
    np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-9)
    assert peak <= 10 * x.nbytes, f"peak {peak / 2**20:.1f} MiB for a gradient of {x.nbytes / 2**20:.1f} MiB"
