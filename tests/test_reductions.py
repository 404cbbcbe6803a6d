"""Reductions and running sums: var, std, cumsum, cumprod, argmax, argmin, any, all,
count_nonzero — numpy's values (and dtypes), check_grads at order 2 in both modes and
float dtypes, and closed-form derivatives at zeros."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.testing import check_grads

RNG = np.random.default_rng(3)
X = RNG.standard_normal((3, 5))

SMOOTH: dict[str, Callable[[Any], Any]] = {
    "var": lambda x: np.var(x),
    "var axis ddof": lambda x: np.var(x, axis=1, ddof=1),
    "var keepdims": lambda x: np.var(x, axis=0, keepdims=True),
    "std": lambda x: np.std(x, axis=1),
    "std ddof": lambda x: x.std(axis=0, ddof=2),
    "cumsum": lambda x: np.cumsum(x),
    "cumsum axis": lambda x: np.cumsum(x, axis=0),
    "cumsum method": lambda x: x.cumsum(axis=1),
    "cumprod": lambda x: np.cumprod(x, axis=1),
    "cumprod flat": lambda x: np.cumprod(x),
    "cumprod method": lambda x: x.cumprod(axis=0),
}


@pytest.mark.parametrize("name", SMOOTH)
def test_values_match_numpy(name: str) -> None:
    f = SMOOTH[name]
    np.testing.assert_allclose(ta.jit(f)(X), f(X), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SMOOTH)
def test_check_grads(name: str, dtype: Any) -> None:
    check_grads(ta.jit(SMOOTH[name]), (X.astype(dtype),), order=2)


def test_cumprod_derivatives_are_exact_at_zeros() -> None:
    """∂/∂xₖ Πⱼ xⱼ = Π_{j≠k} xⱼ and ∂²/∂xₖ∂xₗ = Π_{j∉{k,l}} xⱼ, with one and two zeros."""
    for x in (np.array([2.0, 0.0, 3.0, 5.0]), np.array([0.0, 4.0, 0.0, 0.5])):
        n = x.size
        grad = ta.grad(lambda v: tnp.cumprod(v)[-1])(x)
        np.testing.assert_array_equal(grad, [np.prod(np.delete(x, k)) for k in range(n)])
        hess = ta.hessian(lambda v: tnp.cumprod(v)[-1])(x)
        expected = [[0.0 if k == m else np.prod(np.delete(x, [k, m])) for m in range(n)] for k in range(n)]
        np.testing.assert_array_equal(hess, expected)


def test_var_and_std_conventions() -> None:
    assert np.isinf(tnp.var(np.array([1.0, 2.0]), ddof=2)) or np.isnan(tnp.var(np.array([1.0, 2.0]), ddof=2))
    np.testing.assert_array_equal(ta.grad(lambda v: tnp.var(v))(np.ones(3)), np.zeros(3))
    assert np.isnan(ta.grad(lambda v: tnp.std(v))(np.ones(3))).all()  # sqrt'(0) · 0, as JAX


POSITIONS: dict[str, Callable[[Any], Any]] = {
    "argmax": lambda x: np.argmax(x, axis=1),
    "argmin": lambda x: np.argmin(x, axis=0),
    "argmax flat": lambda x: np.argmax(x),
    "argmax keepdims": lambda x: x.argmax(axis=1, keepdims=True),
    "argmin method": lambda x: x.argmin(),
    "any": lambda x: np.any(x > 1.0, axis=1),
    "all": lambda x: np.all(x, axis=0),
    "any flat": lambda x: x.any(),
    "count_nonzero": lambda x: np.count_nonzero(x - 1.0, axis=1),
    "count_nonzero flat": lambda x: np.count_nonzero(x),
}
TIES = np.array([[1.0, 5.0, 5.0, 0.0], [7.0, 2.0, np.nan, 7.0], [-np.inf, -np.inf, 0.0, np.nan], [0.0, 0.0, 0.0, 0.0]])


@pytest.mark.parametrize("name", POSITIONS)
def test_positions_and_truth_values_match_numpy_with_ties_and_nan(name: str) -> None:
    f = POSITIONS[name]
    expected = f(TIES)
    got = ta.jit(f)(TIES)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.asarray(expected).dtype


def test_argmax_has_no_derivative() -> None:
    np.testing.assert_array_equal(ta.grad(lambda v: tnp.sum(v * tnp.argmax(v)))(np.array([1.0, 3.0, 2.0])), [1, 1, 1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
def test_softmax_in_one_array_and_in_its_dying_operand_is_the_same_numbers(dtype: Any) -> None:
    """The softmax kernel subtracts the maximum, exponentiates and divides in one array, and
    a compiled plan whose operand dies there does it in the operand's own array: the same
    IEEE operations as ``e = exp(x − max); e / Σe``, so equal bit for bit (with ties,
    −inf and a row of −inf, whose 0/0 is nan in both)."""
    from tensorad.library.reductions import _softmax_impl

    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 96)).astype(dtype) * 5
    x[3, :4] = x[3, 5]  # ties with the maximum
    x[5, 7] = -np.inf
    x[6, :] = -np.inf
    with np.errstate(invalid="ignore"):
        shifted = x - np.max(x, axis=1, keepdims=True)
        e = np.exp(shifted)
        expected = e / np.sum(e, axis=1, keepdims=True)
        np.testing.assert_array_equal(_softmax_impl(x, ((1,),)), expected)
        into = x.copy()
        assert _softmax_impl(into, ((1,),), out=into) is into
        np.testing.assert_array_equal(into, expected)
        f = ta.jit(lambda x: ta.softmax(2.0 * x, axis=0))  # 2x dies at the softmax
        kept = x.copy()
        np.testing.assert_array_equal(f(x), _softmax_impl(2.0 * x, ((0,),)))
        np.testing.assert_array_equal(f(x), _softmax_impl(2.0 * x, ((0,),)))
        np.testing.assert_array_equal(x, kept)
    for scalar in (np.array(3.0, dtype), np.array(-np.inf, dtype)):  # 0-d: subtract returns a numpy scalar
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(
                _softmax_impl(scalar, ((),)), np.exp(scalar - scalar) / np.exp(scalar - scalar)
            )
