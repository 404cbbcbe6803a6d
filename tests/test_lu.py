"""LU factorizations and triangular solves: values against scipy, derivatives against
central differences (check_grads at order 2, both modes, float64 and float32) and closed
forms, and how many factorizations a compiled derivative runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import scipy.linalg

import tensorad as ta
import tensorad.numpy as tnp
import tensorad.scipy.linalg as tsl
from tensorad.errors import ShapeError, UnsupportedError
from tensorad.library.lu import SHARED_FACTOR_SIZE
from tensorad.symbolic.codegen import numpy_code
from tensorad.testing import check_grads

RNG = np.random.default_rng(11)


def general(shape: tuple[int, ...]) -> Any:
    """A random matrix (its pivots move rows, and no two candidates tie)."""
    return RNG.standard_normal(shape)


def pivoting(shape: tuple[int, ...]) -> Any:
    """A well-conditioned matrix whose rows are rolled, so every pivot moves a row."""
    n = shape[-1]
    return np.roll(0.3 * RNG.standard_normal(shape) + 2.0 * np.eye(n), 1, axis=-2)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 5, 5)])
def test_lu_factor_is_scipys(shape: tuple[int, ...]) -> None:
    a = general(shape)
    lu, piv = tsl.lu_factor(a)
    expected_lu, expected_piv = scipy.linalg.lu_factor(a)
    np.testing.assert_array_equal(lu, expected_lu)
    np.testing.assert_array_equal(piv, expected_piv)
    assert piv.dtype == np.int32
    traced_lu, traced_piv = ta.jit(tsl.lu_factor)(a)
    np.testing.assert_array_equal(traced_piv, expected_piv)
    assert traced_piv.dtype == np.int32 and traced_lu.dtype == a.dtype


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("b_shape", [(4,), (4, 3), (2, 4, 3)])
def test_lu_solve_is_scipys(b_shape: tuple[int, ...], trans: int | str) -> None:
    a, b = general((4, 4) if len(b_shape) < 3 else (2, 4, 4)), general(b_shape)
    expected = scipy.linalg.lu_solve(scipy.linalg.lu_factor(a), b, trans=trans)
    np.testing.assert_allclose(tsl.lu_solve(tsl.lu_factor(a), b, trans=trans), expected, rtol=1e-13)
    np.testing.assert_allclose(ta.jit(lambda a, b: tsl.lu_solve(tsl.lu_factor(a), b, trans=trans))(a, b), expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("trans", [0, 1])
def test_lu_check_grads(trans: int, dtype: Any) -> None:
    a, b = pivoting((4, 4)).astype(dtype), general((4, 2)).astype(dtype)
    lu, piv = scipy.linalg.lu_factor(a)
    assert not np.array_equal(piv, np.arange(4))  # P ≠ I
    check_grads(lambda a, b: np.sin(tsl.lu_solve(tsl.lu_factor(a), b, trans=trans)), (a, b), order=2)
    check_grads(lambda lu, b: np.sin(tsl.lu_solve((lu, piv), b, trans=trans)), (lu, b), order=2)
    check_grads(lambda a: np.sin(tsl.lu_factor(a)[0]), (a,), order=2)
    batched = pivoting((2, 3, 3)).astype(dtype)
    check_grads(lambda a: tsl.lu_solve(tsl.lu_factor(a), np.ones(3, dtype), trans=trans), (batched,), order=2)


def test_lu_gradients_in_closed_form() -> None:
    """∂(wᵀA⁻¹b)/∂A = −A⁻ᵀ w xᵀ and ∂/∂b = A⁻ᵀ w, through the factors; the factors'
    own derivative against L̇ = L S(M), U̇ = T(M) U computed from scipy's P, L, U."""
    a, b, w = general((5, 5)), general(5), general(5)
    ga, gb = ta.grad(lambda a, b: w @ tsl.lu_solve(tsl.lu_factor(a), b), argnums=(0, 1))(a, b)
    x, lam = np.linalg.solve(a, b), np.linalg.solve(a.T, w)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-11)
    np.testing.assert_allclose(gb, lam, rtol=1e-11)
    p, low, up = scipy.linalg.lu(a)
    direction = general((5, 5))
    m = np.linalg.solve(low, p.T @ direction) @ np.linalg.inv(up)
    expected = low @ np.tril(m, -1) + np.triu(m) @ up
    _, lu_dot = ta.jvp(lambda a: tsl.lu_factor(a)[0], (a,), (direction,))
    np.testing.assert_allclose(lu_dot, expected, rtol=1e-10, atol=1e-12)


def test_lu_front_end_refuses_clearly() -> None:
    lu, piv = tsl.lu_factor(general((3, 3)))
    with pytest.raises(ShapeError, match="piv of shape"):
        tsl.lu_solve((lu, piv[:2]), np.ones(3))
    with pytest.raises(UnsupportedError, match="trans='T'"):
        tsl.lu_solve((lu, piv), np.ones(3), trans="T")
    with pytest.raises(ShapeError, match="lu_factor"):
        tsl.lu_factor(np.ones((2, 3)))


def test_singular_lu_warns_as_scipy_does() -> None:
    with pytest.warns(scipy.linalg.LinAlgWarning):
        lu, _ = tsl.lu_factor(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert lu[1, 1] == 0.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("triangle", ["lower", "upper", "unit lower", "unit upper"])
def test_triangular_solve_is_lapacks_and_differentiates(triangle: str, dtype: Any) -> None:
    lower, unit = triangle.endswith("lower"), triangle.startswith("unit")
    a = (general((2, 4, 4)) + 4 * np.eye(4)).astype(dtype)
    b = general((2, 4, 3)).astype(dtype)
    for trans in (0, 1):

        def ours(a: Any, b: Any, trans: int = trans) -> Any:
            return tsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)

        expected = scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
        np.testing.assert_array_equal(ta.jit(ours)(a, b), expected)
        check_grads(lambda a, b, f=ours: np.sin(f(a, b)), (a, b), order=2)


@pytest.fixture
def lapack_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How often the kernels call each factorization or solve of numpy and scipy."""
    calls: Counter[str] = Counter()
    for module, name in [
        (np.linalg, "solve"),
        (np.linalg, "cholesky"),
        (scipy.linalg, "cholesky"),
        (np.linalg, "inv"),
        (scipy.linalg, "lu_factor"),
        (scipy.linalg, "lu_solve"),
        (scipy.linalg, "solve_triangular"),
    ]:
        monkeypatch.setattr(module, name, _counted(calls, name, getattr(module, name)))
    lapack = scipy.linalg.get_lapack_funcs  # (the Cholesky kernel calls potrf itself)

    def counted_lapack(names: tuple[str, ...], arrays: Any = (), *args: Any, **kwargs: Any) -> Any:
        funcs = lapack(names, arrays, *args, **kwargs)
        return tuple(_counted(calls, "cholesky", f) if n == "potrf" else f for n, f in zip(names, funcs, strict=True))

    monkeypatch.setattr(scipy.linalg, "get_lapack_funcs", counted_lapack)
    yield calls


def _counted(calls: Counter[str], name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return fn(*args, **kwargs)

    return call


def test_one_cholesky_serves_the_logdet_the_solve_and_their_gradient(lapack_calls: Counter[str]) -> None:
    """A Gaussian log-likelihood written with cho_factor/cho_solve: its value and gradient
    run one Cholesky and only triangular solves (no LU, no inverse)."""
    n = 50
    g = general((n, n))
    y = general(n)

    def nll(a: Any) -> Any:
        c = tsl.cho_factor(a @ a.T + n * np.eye(n), lower=True)
        return 0.5 * y @ tsl.cho_solve(c, y) + np.sum(np.log(np.diagonal(c[0])))

    f = ta.jit(ta.value_and_grad(nll))
    value, grad = f(g)
    lapack_calls.clear()
    f(g)
    assert lapack_calls["cholesky"] == 1
    assert lapack_calls["solve"] == lapack_calls["lu_factor"] == lapack_calls["inv"] == 0
    k = g @ g.T + n * np.eye(n)
    k_inv = np.linalg.inv(k)
    np.testing.assert_allclose(value, 0.5 * y @ k_inv @ y + 0.5 * np.linalg.slogdet(k)[1], rtol=1e-12)
    alpha = k_inv @ y
    np.testing.assert_allclose(grad, (k_inv - np.outer(alpha, alpha)) @ g, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [SHARED_FACTOR_SIZE - 1, SHARED_FACTOR_SIZE + 16])
def test_solves_sharing_a_matrix_share_one_lu(lapack_calls: Counter[str], n: int) -> None:
    """The value and gradient of wᵀA⁻¹b solve with A and Aᵀ: from n = SHARED_FACTOR_SIZE
    on, one LU factorization serves both (below it, LAPACK's gesv for each is faster)."""
    a, b, w = general((n, n)) + n**0.5 * np.eye(n), general(n), general(n)
    f = ta.jit(ta.value_and_grad(lambda a, b: w @ tnp.linalg.solve(a, b), argnums=(0, 1)))
    value, (ga, gb) = f(a, b)
    lapack_calls.clear()
    f(a, b)
    shared = n >= SHARED_FACTOR_SIZE
    assert (lapack_calls["lu_factor"], lapack_calls["solve"]) == ((1, 0) if shared else (0, 2))
    x, lam = np.linalg.solve(a, b), np.linalg.solve(a.T, w)
    np.testing.assert_allclose(value, w @ x, rtol=1e-11)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gb, lam, rtol=1e-10)


def test_shared_lu_through_nested_solves_of_a_hessian() -> None:
    """The Hessian of bᵀA⁻¹b is A⁻¹ + A⁻ᵀ: its solves nest, and all share one factor."""
    n = SHARED_FACTOR_SIZE
    a = general((n, n)) + n**0.5 * np.eye(n)
    hess = ta.jit(ta.hessian(lambda b: b @ tnp.linalg.solve(a, b)))(general(n))
    inverse = np.linalg.inv(a)
    np.testing.assert_allclose(hess, inverse + inverse.T, rtol=1e-9, atol=1e-12)


def test_generated_code_of_lu_and_triangular_solves_runs() -> None:
    a, b = ta.Variable("a", (3, 3)), ta.Variable("b", (3, 2))
    lu, piv = tsl.lu_factor(a)
    exprs = [
        tsl.lu_solve((lu, piv), b),
        tsl.lu_solve((lu, piv), b, trans=1),
        tsl.solve_triangular(a, b, lower=True, unit_diagonal=True),
        tsl.solve_triangular(a, b, trans=1),
    ]
    a_value, b_value = general((3, 3)), general((3, 2))
    for expr, expected in zip(
        exprs,
        [
            np.linalg.solve(a_value, b_value),
            np.linalg.solve(a_value.T, b_value),
            scipy.linalg.solve_triangular(a_value, b_value, lower=True, unit_diagonal=True),
            scipy.linalg.solve_triangular(a_value, b_value, trans=1),
        ],
        strict=True,
    ):
        namespace: dict[str, Any] = {}
        exec(numpy_code(expr), namespace)  # the emitted source is the thing under test
        np.testing.assert_allclose(namespace["f"](a_value, b_value), expected, rtol=1e-12)


def test_inverse_and_log_determinant_share_the_lu_of_the_solves(lapack_calls: Counter[str]) -> None:
    """A Gaussian log-likelihood written with inv and slogdet: its value and gradient
    (whose log-determinant part is the inverse) factor K once."""
    n = SHARED_FACTOR_SIZE + 8
    k = pivoting((n, n)) * 3.0
    k[0] *= -1.0  # a negative determinant: log|det|
    y = general(n)

    def nll(k: Any) -> Any:
        return 0.5 * y @ np.linalg.inv(k) @ y + 0.5 * np.linalg.slogdet(k)[1]

    f = ta.jit(ta.value_and_grad(nll))
    value, grad = f(k)
    lapack_calls.clear()
    f(k)
    assert lapack_calls["lu_factor"] == 1 and lapack_calls["inv"] == lapack_calls["solve"] == 0
    inverse = np.linalg.inv(k)
    np.testing.assert_allclose(value, nll(k), rtol=1e-12)
    alpha = inverse @ y
    np.testing.assert_allclose(grad, 0.5 * (inverse.T - np.outer(inverse.T @ y, alpha)), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("n", [SHARED_FACTOR_SIZE - 1, SHARED_FACTOR_SIZE])
def test_a_singular_matrix_raises_whether_or_not_solves_share_its_lu(n: int) -> None:
    singular = np.ones((n, n))
    f = ta.jit(ta.grad(lambda a, b: np.sum(np.linalg.solve(a, b)), argnums=(0, 1)))
    with pytest.raises(ta.errors.LinAlgError, match="ingular"):
        f(singular, np.ones(n))
