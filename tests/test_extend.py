"""User-defined functions work everywhere a built-in one does.

``tensorad.define_elementwise`` and ``tensorad.define_general_unary`` (structured rules or
the ``jacobian=`` path) through values, jvp, vjp, jacfwd/jacrev, hessian and printing, and
the errors of the extension API. Oracles never use tensorad: numpy closed forms, central
differences of numpy/scipy functions, and scipy's Sylvester solver for the matrix square
root.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.linalg
from oracles import unique

import tensorad as ta
from tensorad.library import registry
from tensorad.testing import check_grads

EPS = 1e-6


pytestmark = pytest.mark.usefixtures("restore_registries")


def fd_jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of a numpy function, shape ``f(x).shape + x.shape``."""
    columns = []
    for e in np.eye(x.size):
        step = EPS * e.reshape(x.shape)
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * EPS))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def assert_close(actual: Any, expected: Any, tol: float = 1e-7) -> None:
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * max(1.0, float(np.max(np.abs(expected)))))


RNG = np.random.default_rng(0)
V = RNG.uniform(-1.5, 1.5, 4)
T = RNG.standard_normal(4)
U = RNG.standard_normal(4)
W = RNG.standard_normal(4)


# ------------------------------------------------------------------ elementwise


def test_elementwise_round_trip(request: pytest.FixtureRequest) -> None:
    """``gauss(x) = exp(−x²)``, ``gauss' = −2x exp(−x²)``, ``gauss'' = (4x² − 2) exp(−x²)``."""
    name = unique(request, "gauss")
    gauss = ta.define_elementwise(name, lambda x: np.exp(-(x**2)), lambda x: -2.0 * x * ta.exp(-ta.square(x)))
    value, first, second = np.exp(-(V**2)), -2.0 * V * np.exp(-(V**2)), (4.0 * V**2 - 2.0) * np.exp(-(V**2))

    assert_close(gauss(V), value, 1e-15)
    out, out_dot = ta.jvp(gauss, (V,), (T,))
    assert_close(out, value, 1e-15)
    assert_close(out_dot, first * T, 1e-14)
    out, f_vjp = ta.vjp(gauss, V)
    assert_close(f_vjp(U)[0], first * U, 1e-14)
    assert_close(ta.jacfwd(gauss)(V), np.diag(first), 1e-14)
    assert_close(ta.jacrev(gauss)(V), np.diag(first), 1e-14)
    assert_close(ta.hessian(lambda x: ta.sum(gauss(x)))(V), np.diag(second), 1e-14)
    assert_close(ta.hessian(gauss)(V), np.einsum("ij,jk->ijk", np.eye(4), np.diag(second)), 1e-14)
    assert_close(ta.grad(lambda x: ta.sum(W * gauss(x)))(V), fd_jacobian(lambda x: W @ np.exp(-(x**2)), V))

    x = ta.Variable("x", (4,))
    expr = ta.sum(W * gauss(x))
    assert f"{name}(x[i])" in str(expr)
    assert_close(expr.evaluate({"x": V}), W @ value, 1e-14)
    derivative = ta.derivative(expr, x)
    assert "exp" in str(derivative)
    assert_close(derivative.evaluate({"x": V}), W * first, 1e-14)


def test_elementwise_float32_stays_float32(request: pytest.FixtureRequest) -> None:
    cube = ta.define_elementwise(unique(request, "cube"), lambda x: x**3, lambda x: 3.0 * ta.square(x))
    x = V.astype(np.float32)
    out, out_dot = ta.jvp(cube, (x,), (np.ones_like(x),))
    assert out.dtype == out_dot.dtype == np.float32
    assert_close(out_dot, 3.0 * V**2, 1e-6)
    assert ta.hessian(lambda v: ta.sum(cube(v)))(x).dtype == np.float32


def test_a_derivative_written_with_the_output_and_the_function_itself(request: pytest.FixtureRequest) -> None:
    """``df(x, y)`` gets ``y = f(x)``; a derivative may also call the function being defined."""
    name = unique(request, "myexp")
    myexp = ta.define_elementwise(name, np.exp, lambda x, y: y)
    x = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(ta.hessian(lambda v: ta.sum(myexp(v)))(x), np.diag(np.exp(x)), rtol=1e-12)
    twice = ta.define_elementwise(unique(request, "e2"), lambda v: np.exp(2 * v), lambda v: 2.0 * registry.call(
        unique(request, "e2"), v))
    np.testing.assert_allclose(ta.grad(lambda v: ta.sum(twice(v)))(x), 2 * np.exp(2 * x), rtol=1e-12)


def test_elementwise_inside_a_larger_expression(request: pytest.FixtureRequest) -> None:
    """A user function composes with built-ins and with itself, to second order."""
    softsign = ta.define_elementwise(
        unique(request, "softsign"),
        lambda x: x / (1.0 + np.abs(x)),
        lambda x: ta.reciprocal(ta.square(1.0 + ta.abs(x))),
    )
    A = RNG.standard_normal((3, 4))

    def numpy_f(x: np.ndarray) -> float:
        h = (A @ x) / (1.0 + np.abs(A @ x))
        return float(np.log(np.sum(np.exp(h / (1.0 + np.abs(h))))))

    f = lambda x: ta.logsumexp(softsign(softsign(A @ x)))  # noqa: E731
    assert_close(f(V), numpy_f(V), 1e-14)
    assert_close(ta.grad(f)(V), fd_jacobian(numpy_f, V))
    gradient = lambda x: fd_jacobian(numpy_f, x)  # noqa: E731
    assert_close(ta.hessian(f)(V), fd_jacobian(gradient, V), 1e-4)
    check_grads(f, (V,), order=2)


# ------------------------------------------------------------------ x ↦ x / ‖x‖, two ways


def normalize_jvp(x: Any, y: Any, x_dot: Any) -> Any:
    """``ẏ = (ẋ − y ⟨y, ẋ⟩) / ‖x‖``, ``ẋ`` with trailing s4 axes."""
    along = ta.einsum("i,i...->...", y, x_dot)
    return (x_dot - ta.einsum("i,...->i...", y, along)) / ta.norm(x)


def normalize_vjp(x: Any, y: Any, y_bar: Any) -> Any:
    """``x̄ = (ȳ − ⟨ȳ, y⟩ y) / ‖x‖``, ``ȳ`` with leading s4 axes (the Jacobian is symmetric)."""
    along = ta.einsum("...i,i->...", y_bar, y)
    return (y_bar - ta.einsum("...,i->...i", along, y)) / ta.norm(x)


def normalize_jacobian(x: Any, y: Any) -> Any:
    """``J = (I − y yᵀ) / ‖x‖``."""
    return (np.eye(x.shape[0]) - ta.outer(y, y)) / ta.norm(x)


def numpy_normalize(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(x @ x)


def numpy_normalize_jacobian(x: np.ndarray) -> np.ndarray:
    y = numpy_normalize(x)
    return (np.eye(x.size) - np.outer(y, y)) / np.sqrt(x @ x)


@pytest.fixture
def normalizers(request: pytest.FixtureRequest) -> dict[str, Callable[..., Any]]:
    """x ↦ x / ‖x‖ with structured rules and with the ``jacobian=`` path."""
    return {
        "rules": ta.define_general_unary(
            unique(request, "normalize"), numpy_normalize, jvp=normalize_jvp, vjp=normalize_vjp
        ),
        "jacobian": ta.define_general_unary(
            unique(request, "normalize_j"), numpy_normalize, jacobian=normalize_jacobian
        ),
    }


@pytest.mark.parametrize("path", ["rules", "jacobian"])
def test_normalize_values_jvp_vjp(normalizers: dict[str, Callable[..., Any]], path: str) -> None:
    normalize = normalizers[path]
    J = numpy_normalize_jacobian(V)
    assert_close(fd_jacobian(numpy_normalize, V), J)  # the closed form is right
    assert_close(normalize(V), V / np.linalg.norm(V), 1e-15)
    _, out_dot = ta.jvp(normalize, (V,), (T,))
    assert_close(out_dot, J @ T, 1e-14)
    assert_close(ta.vjp(normalize, V)[1](U)[0], U @ J, 1e-14)
    assert_close(ta.jacfwd(normalize)(V), J, 1e-14)
    assert_close(ta.jacrev(normalize)(V), J, 1e-14)
    batch = RNG.standard_normal((4, 5))  # five tangents at once: s4 = one batch label
    assert_close(ta.jvp(lambda x: ta.einsum("i,ij->j", normalize(x), batch), (V,), (T,))[1], (J @ T) @ batch, 1e-14)


@pytest.mark.parametrize("path", ["rules", "jacobian"])
def test_normalize_hessian(normalizers: dict[str, Callable[..., Any]], path: str) -> None:
    normalize = normalizers[path]
    gradient = lambda x: W @ numpy_normalize_jacobian(x)  # noqa: E731  (the Jacobian is symmetric)
    assert_close(ta.hessian(lambda x: W @ normalize(x))(V), fd_jacobian(gradient, V))
    assert_close(ta.hessian(normalize)(V), fd_jacobian(numpy_normalize_jacobian, V))
    check_grads(normalize, (V,), order=2)


def test_normalize_two_ways_agree(normalizers: dict[str, Callable[..., Any]]) -> None:
    rules, dense = normalizers["rules"], normalizers["jacobian"]
    for transform in (ta.jacfwd, ta.jacrev, ta.hessian):
        np.testing.assert_allclose(transform(rules)(V), transform(dense)(V), rtol=1e-12, atol=1e-12)


def test_normalize_prints(normalizers: dict[str, Callable[..., Any]]) -> None:
    x = ta.Variable("x", (4,))
    for normalize in normalizers.values():
        expr = normalize(x)
        assert f"{normalize.__name__}(x)" in str(expr)
        assert normalize.__name__ in str(ta.derivative(ta.sum(W * expr), x))


def test_shape_changing_general_unary(request: pytest.FixtureRequest) -> None:
    """``gram: (n,) → (n, n)``, ``x ↦ x xᵀ`` via ``shape=`` and ``jacobian=``: constant Hessian."""

    def jacobian(x: Any, y: Any) -> Any:
        eye = np.eye(x.shape[0])
        return ta.einsum("ik,j->ijk", eye, x) + ta.einsum("i,jk->ijk", x, eye)

    gram = ta.define_general_unary(
        unique(request, "gram"), lambda x: np.outer(x, x), shape=lambda s: s + s, jacobian=jacobian
    )
    eye = np.eye(4)
    assert_close(gram(V), np.outer(V, V), 1e-15)
    assert_close(ta.jacrev(gram)(V), fd_jacobian(lambda x: np.outer(x, x), V))
    assert_close(ta.hessian(gram)(V), np.einsum("ik,jl->ijkl", eye, eye) + np.einsum("il,jk->ijkl", eye, eye))
    assert gram(ta.Variable("x", (4,))).shape == (4, 4)
    check_grads(gram, (V,), order=2)


# ------------------------------------------------------------------ matrix square root


def kronecker_sum(s: Any) -> Any:
    """The Sylvester operator ``Ẏ ↦ S Ẏ + Ẏ S`` as an ``(n², n²)`` matrix: ``M_{ij,kl} = S_ik δ_lj + δ_ik S_lj``."""
    n = s.shape[0]
    eye = np.eye(n)
    return ta.reshape(ta.einsum("ik,lj->ijkl", s, eye) + ta.einsum("ik,lj->ijkl", eye, s), (n * n, n * n))


def sqrtm_jvp(x: Any, y: Any, x_dot: Any) -> Any:
    """``S Ẏ + Ẏ S = Ẋ``, solved as ``vec Ẏ = M⁻¹ vec Ẋ`` for every s4 index at once."""
    n, s4 = x.shape[0], x_dot.shape[2:]
    columns = ta.reshape(x_dot, (n * n, math.prod(s4)))
    return ta.reshape(ta.inv(kronecker_sum(y)) @ columns, (n, n, *s4))


def sqrtm_vjp(x: Any, y: Any, y_bar: Any) -> Any:
    """``Sᵀ X̄ + X̄ Sᵀ = Ȳ``, i.e. ``vec X̄ = M⁻ᵀ vec Ȳ`` (rows of ``Ȳ`` times ``M⁻¹``)."""
    n, s4 = x.shape[0], y_bar.shape[:-2]
    rows = ta.reshape(y_bar, (math.prod(s4), n * n))
    return ta.reshape(rows @ ta.inv(kronecker_sum(y)), (*s4, n, n))


def sqrtm_jacobian(x: Any, y: Any) -> Any:
    """``J = M⁻¹`` reshaped to ``(n, n, n, n)``."""
    return ta.reshape(ta.inv(kronecker_sum(y)), x.shape * 2)


def square_shape(s: tuple[int, ...]) -> tuple[int, ...]:
    if len(s) != 2 or s[0] != s[1]:
        raise ta.ShapeError(f"sqrtm needs one square matrix, got shape {s}")
    return s


def numpy_sqrtm(x: np.ndarray) -> np.ndarray:
    s = scipy.linalg.sqrtm(x)
    assert np.isrealobj(s) or np.allclose(s.imag, 0.0)
    return np.real(s).astype(x.dtype)


X = np.eye(3) + 0.3 * np.random.default_rng(4).standard_normal((3, 3))  # not symmetric, eigenvalues near 1
X_DOT = np.random.default_rng(5).standard_normal((3, 3))
Y_BAR = np.random.default_rng(6).standard_normal((3, 3))


@pytest.fixture
def sqrtms(request: pytest.FixtureRequest) -> dict[str, Callable[..., Any]]:
    return {
        "rules": ta.define_general_unary(
            unique(request, "sqrtm"), numpy_sqrtm, shape=square_shape, jvp=sqrtm_jvp, vjp=sqrtm_vjp
        ),
        "jacobian": ta.define_general_unary(
            unique(request, "sqrtm_j"), numpy_sqrtm, shape=square_shape, jacobian=sqrtm_jacobian
        ),
    }


@pytest.mark.parametrize("path", ["rules", "jacobian"])
def test_sqrtm_derivatives_solve_the_sylvester_equation(sqrtms: dict[str, Callable[..., Any]], path: str) -> None:
    sqrtm = sqrtms[path]
    S = sqrtm(X)
    assert_close(S @ S, X, 1e-12)
    Y_dot = ta.jvp(sqrtm, (X,), (X_DOT,))[1]
    assert_close(S @ Y_dot + Y_dot @ S, X_DOT, 1e-12)
    assert_close(Y_dot, scipy.linalg.solve_sylvester(S, S, X_DOT), 1e-10)
    X_bar = ta.vjp(sqrtm, X)[1](Y_BAR)[0]
    assert_close(X_bar, scipy.linalg.solve_sylvester(S.T, S.T, Y_BAR), 1e-10)
    assert_close(ta.jacfwd(sqrtm)(X), fd_jacobian(numpy_sqrtm, X), 1e-6)
    assert_close(ta.jacrev(sqrtm)(X), ta.jacfwd(sqrtm)(X), 1e-12)


@pytest.mark.parametrize("path", ["rules", "jacobian"])
def test_sqrtm_hessian(sqrtms: dict[str, Callable[..., Any]], path: str) -> None:
    """``f(X) = Σ W ⊙ sqrtm(X)``: ``∇f = X̄`` solving ``Sᵀ X̄ + X̄ Sᵀ = W``; its central differences are ∇²f."""
    sqrtm = sqrtms[path]
    weights = Y_BAR

    def gradient(x: np.ndarray) -> np.ndarray:
        s = numpy_sqrtm(x)
        return np.asarray(scipy.linalg.solve_sylvester(s.T, s.T, weights))

    f = lambda x: ta.sum(weights * sqrtm(x))  # noqa: E731
    assert_close(ta.grad(f)(X), gradient(X), 1e-10)
    assert_close(ta.hessian(f)(X), fd_jacobian(gradient, X), 1e-6)
    check_grads(sqrtm, (X,), order=2)


def test_sqrtm_two_ways_agree_and_print(sqrtms: dict[str, Callable[..., Any]]) -> None:
    rules, dense = sqrtms["rules"], sqrtms["jacobian"]
    hessians = [ta.hessian(lambda x, g=g: ta.trace(g(x) @ g(x).T))(X) for g in (rules, dense)]
    np.testing.assert_allclose(hessians[0], hessians[1], rtol=1e-10, atol=1e-10)
    x = ta.Variable("X", (3, 3))
    assert f"{rules.__name__}(X)" in str(rules(x))
    with pytest.raises(ta.ShapeError, match=r"sqrtm needs one square matrix, got shape \(2, 3\)"):
        rules(ta.Variable("R", (2, 3)))


# ------------------------------------------------------------------ errors


def test_a_taken_name_is_refused(request: pytest.FixtureRequest) -> None:
    name = unique(request, "twice")
    ta.define_elementwise(name, np.sin, ta.cos)
    for taken in (name, "exp", "inv"):
        with pytest.raises(ta.DefinitionError, match=f"'{taken}' is already defined") as caught:
            ta.define_elementwise(taken, np.sin, ta.cos)
        assert isinstance(caught.value, ValueError) and isinstance(caught.value, ta.TensoradError)
        with pytest.raises(ta.DefinitionError, match=f"'{taken}' is already defined"):
            ta.define_general_unary(taken, np.sin, jacobian=lambda x, y: ta.einsum("i,ij->ij", ta.cos(x), np.eye(3)))
    with pytest.raises(ta.DefinitionError, match="not a valid function name"):
        ta.define_elementwise("not a name", np.sin, ta.cos)


def test_an_elementwise_derivative_of_the_wrong_shape_is_refused_at_definition(request: pytest.FixtureRequest) -> None:
    name = unique(request, "summed")
    with pytest.raises(ta.DefinitionError, match=rf"derivative of '{name}' has shape \(\) for an input of shape"):
        ta.define_elementwise(name, np.sin, lambda x: ta.sum(ta.cos(x)))
    assert name not in registry.ELEMENTWISE
    ta.define_elementwise(name, np.sin, ta.cos)  # the name is still free


def test_rules_and_a_jacobian_are_exclusive(request: pytest.FixtureRequest) -> None:
    name = unique(request, "f")
    rules = {"jvp": normalize_jvp, "vjp": normalize_vjp}
    for options in ({**rules, "jacobian": normalize_jacobian}, {"jvp": normalize_jvp}, {"vjp": normalize_vjp}, {}):
        with pytest.raises(ta.DefinitionError, match="jvp= and vjp=, or with jacobian= alone"):
            ta.define_general_unary(name, numpy_normalize, **options)
    assert name not in registry.GENERAL_UNARY


def test_a_rule_of_the_wrong_shape_is_reported_at_trace_time(request: pytest.FixtureRequest) -> None:
    name = unique(request, "bad")
    bad = ta.define_general_unary(
        name, numpy_normalize, jvp=lambda x, y, x_dot: ta.sum(x_dot), vjp=lambda x, y, y_bar: ta.sum(y_bar)
    )
    x = ta.Variable("x", (4,))
    with pytest.raises(ta.ShapeError, match=rf"the jvp rule of '{name}' returned shape \(\), expected \(4, 4\)"):
        ta.derivative(bad(x), x, mode="forward")
    with pytest.raises(ta.ShapeError, match=rf"the jvp rule of '{name}' returned shape \(\), expected \(4,\)"):
        ta.jvp(bad, (V,), (T,))
    with pytest.raises(ta.ShapeError, match=rf"the vjp rule of '{name}' returned shape \(\), expected \(4,\)"):
        ta.grad(lambda v: ta.sum(bad(v)))(V)


@pytest.mark.parametrize("kind", ["elementwise", "general"])
def test_an_implementation_of_the_wrong_shape_is_reported(request: pytest.FixtureRequest, kind: str) -> None:
    """An implementation whose result contradicts the declared shape must not pass silently."""
    name = unique(request, "summing")
    if kind == "elementwise":
        f = ta.define_elementwise(name, np.sum, lambda x: 0.0 * x + 1.0)
    else:
        f = ta.define_general_unary(name, np.sum, jacobian=lambda x, y: ta.einsum("i,j->ij", x, x))
    with pytest.raises(ta.ShapeError, match=name):
        f(V)
