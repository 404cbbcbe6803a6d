"""Products on scipy's BLAS (tensorad.run.blas): equal to ``np.matmul`` (to rounding: the
two libraries may order a sum differently) for every dtype BLAS has, both memory layouts
of each operand, vectors, stacks and accumulation; ``x xᵀ`` exactly symmetric; everything
else (other dtypes, mixed dtypes, strided operands, small or empty products) on numpy's
path, bit for bit; and the path that ran is the one meant."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
import tensorad.scipy.linalg as tsl
from tensorad.run import blas

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
SHAPES = [((5, 7), (7, 3)), ((7,), (7, 3)), ((5, 7), (7,)), ((4, 5, 7), (4, 7, 3)), ((1, 7), (7, 1)), ((5, 1), (1, 3))]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Counts of the calls that went to numpy's ``matmul``; every product is worth BLAS."""
    counted = {"numpy": 0}
    numpy_path = blas._numpy

    def counting(*args: Any) -> None:
        counted["numpy"] += 1
        numpy_path(*args)

    monkeypatch.setattr(blas, "_numpy", counting)
    monkeypatch.setattr(blas, "MIN_WORK", 1)
    yield counted


def _array(rng: np.random.Generator, shape: tuple[int, ...], dtype: type, order: str) -> np.ndarray:
    """Random values; ``order`` "F" stores each matrix of a stack in Fortran order (a
    transposed view of a C-ordered stack, as the kernels hand one to BLAS)."""
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    if len(shape) == 3 and order == "F":
        return np.array(a.swapaxes(-1, -2), dtype=dtype, order="C").swapaxes(-1, -2)
    return np.array(a, dtype=dtype, order=order)


def _tolerance(dtype: type) -> float:
    return float(50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("x_shape", "y_shape"), SHAPES)
@pytest.mark.parametrize(("x_order", "y_order"), list(itertools.product("CF", "CF")))
@pytest.mark.parametrize("accumulate", [False, True])
def test_products_equal_numpys(
    calls: dict[str, int],
    dtype: type,
    x_shape: tuple[int, ...],
    y_shape: tuple[int, ...],
    x_order: str,
    y_order: str,
    accumulate: bool,
) -> None:
    rng = np.random.default_rng(0)
    x, y = _array(rng, x_shape, dtype, x_order), _array(rng, y_shape, dtype, y_order)
    out = _array(rng, np.matmul(x, y).shape, dtype, "C")
    expected = out + np.matmul(x, y) if accumulate else np.matmul(x, y)
    blas.matmul_into(x, y, out, accumulate=accumulate)
    np.testing.assert_allclose(out, expected, rtol=_tolerance(dtype), atol=_tolerance(dtype))
    assert calls["numpy"] == 0  # every one of these went to BLAS


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("rows", "order"), [(6, "C"), (6, "F"), (600, "C"), (600, "F")])
def test_a_product_with_its_own_transpose_is_exactly_symmetric(
    calls: dict[str, int], dtype: type, rows: int, order: str
) -> None:
    """numpy's ``x @ x.T`` is exactly symmetric (its ``syrk``); so is this one, whose
    triangles are mirrored a block at a time (600 rows: more than one block)."""
    x = _array(np.random.default_rng(1), (rows, 40), dtype, order)
    out = np.empty((rows, rows), dtype)
    blas.matmul_into(x, x.T, out)
    assert np.array_equal(out, out.T)
    np.testing.assert_allclose(out, x @ x.T, rtol=_tolerance(dtype), atol=_tolerance(dtype) * 40)
    assert calls["numpy"] == 0


@pytest.mark.parametrize(
    ("x", "y", "why"),
    [
        (np.ones((5, 7), np.float16), np.ones((7, 3), np.float16), "a dtype BLAS lacks"),
        (np.arange(35).reshape(5, 7), np.arange(21).reshape(7, 3), "integers"),
        (np.ones((5, 7), np.float32), np.ones((7, 3)), "mixed dtypes"),
        (np.ones((5, 14))[:, ::2], np.ones((7, 3)), "a strided operand"),
        (np.ones((5, 0)), np.ones((0, 3)), "an empty sum"),
        (np.ones((2, 5, 7)), np.ones((7, 3)), "a stack times a matrix"),
    ],
)
def test_what_blas_does_not_take_is_numpys_product_bit_for_bit(
    calls: dict[str, int], x: np.ndarray, y: np.ndarray, why: str
) -> None:
    expected = np.matmul(x, y)
    out = np.empty(expected.shape, expected.dtype)
    blas.matmul_into(x, y, out)
    assert np.array_equal(out, expected), why
    assert calls["numpy"] == 1, why


@pytest.mark.parametrize(("size", "on_numpy"), [(8, True), (300, False)])
def test_small_products_stay_on_numpy(monkeypatch: pytest.MonkeyPatch, size: int, on_numpy: bool) -> None:
    seen = []
    monkeypatch.setattr(blas, "_numpy", lambda *args: seen.append(args) or np.matmul(args[0], args[1], out=args[2]))
    x, y = np.ones((size, size)), np.ones((size, size))
    out = np.empty((size, size))
    blas.matmul_into(x, y, out)
    assert (len(seen) == 1) == on_numpy and np.array_equal(out, x @ y)


@pytest.mark.parametrize("dtype", DTYPES)
def test_dot_products_are_unconjugated_and_typed(dtype: type) -> None:
    rng = np.random.default_rng(2)
    x, y = _array(rng, (blas.MIN_DOT,), dtype, "C"), _array(rng, (blas.MIN_DOT,), dtype, "C")
    value = blas.dot(x, y, np.dtype(dtype))
    assert value.shape == () and value.dtype == dtype
    np.testing.assert_allclose(value, np.matmul(x, y), rtol=_tolerance(dtype) * 10)
    small = blas.dot(x[:10], y[:10], np.dtype(dtype))
    assert small.dtype == dtype and small == np.matmul(x[:10], y[:10])


def _gp(theta: Any, D2: Any, y: Any) -> Any:
    K = tnp.exp(theta[0]) * tnp.exp(-0.5 * D2) + tnp.exp(theta[1]) * np.eye(len(y))
    L = tnp.linalg.cholesky(K)
    z = tsl.solve_triangular(L, y, lower=True)
    return 0.5 * tnp.sum(z * z) + tnp.sum(tnp.log(tnp.diagonal(L)))


def test_plans_with_scipys_lapack_take_its_blas_and_others_numpys(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compiled gradient through a Cholesky factorization runs its products on scipy's
    BLAS (and equals the formula ``½ tr((K⁻¹ − ααᵀ) ∂K/∂θ)``); the gradient of a least
    squares loss, products alone, on numpy's."""
    ran = {"scipy": 0}
    blas_path = blas._blas

    def on_blas(*args: Any) -> bool:
        ran["scipy"] += 1
        return blas_path(*args)

    monkeypatch.setattr(blas, "_blas", on_blas)
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (300, 1))
    D2, y, theta = (x - x.T) ** 2, rng.standard_normal(300), np.array([0.3, -1.0])
    grad = ta.jit(ta.grad(_gp))(theta, D2, y)
    F = np.exp(theta[0]) * np.exp(-0.5 * D2)
    K = F + np.exp(theta[1]) * np.eye(300)
    alpha = np.linalg.solve(K, y)
    W = np.linalg.inv(K) - np.outer(alpha, alpha)
    np.testing.assert_allclose(grad, 0.5 * np.array([np.vdot(W, F), np.exp(theta[1]) * np.trace(W)]), rtol=1e-9)
    assert ran["scipy"] > 0
    scipy_calls = ran["scipy"]
    A, b, w = rng.standard_normal((300, 200)), rng.standard_normal(300), rng.standard_normal(200)
    least_squares = ta.jit(ta.grad(lambda w, A, b: tnp.sum((A @ w - b) ** 2)))(w, A, b)
    np.testing.assert_allclose(least_squares, 2 * A.T @ (A @ w - b), rtol=1e-12, atol=1e-10)
    assert ran["scipy"] == scipy_calls  # its products went straight to np.matmul


def test_dimensions_past_32_bit_integers_go_to_numpy(calls: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """scipy's BLAS takes 32-bit dimensions; a longer one would be read wrapped around
    (the review's reproducer: K = 2³² + 3 read as 3). The guard, at a small limit."""
    monkeypatch.setattr(blas, "LARGEST", 6)
    x, y = np.ones((5, 7)), np.ones((7, 3))
    out = np.empty((5, 3))
    blas.matmul_into(x, y, out)
    assert calls["numpy"] == 1 and np.array_equal(out, x @ y)
    monkeypatch.setattr(blas, "MIN_DOT", 1)
    assert blas.dot(np.ones(7), np.ones(7), np.dtype(np.float64)) == 7.0


@pytest.mark.parametrize("case", ["out is an operand", "out is unaligned", "out is read-only"])
def test_outputs_blas_cannot_write_in_place_go_to_numpy(calls: dict[str, int], case: str) -> None:
    """Each of these had BLAS read what it overwrote, or write into a copy (an ``x xᵀ``
    into an unaligned ``out`` came back with one triangle only)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 40))
    y = x.T if case == "out is unaligned" else rng.standard_normal((40, 40))
    expected = x @ y
    if case == "out is an operand":
        out = x
    elif case == "out is unaligned":
        out = np.frombuffer(bytearray(40 * 40 * 8 + 1), np.uint8)[1:].view(np.float64).reshape(40, 40)
    else:
        out = np.zeros((40, 40))
        out.flags.writeable = False
    if case == "out is read-only":
        with pytest.raises(ValueError):
            blas.matmul_into(x, y, out)
        return
    blas.matmul_into(x, y, out)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-12)
    assert calls["numpy"] == 1
