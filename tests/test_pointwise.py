"""Every pointwise function of several operands against numpy, and its derivatives by
check_grads at order 2 in both modes, float64 and float32."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.library.pointwise import COMPARISONS
from tensorad.library.registry import POINTWISE
from tensorad.symbolic.codegen import numpy_code
from tensorad.testing import check_grads

RNG = np.random.default_rng(0)
A = RNG.uniform(0.5, 2.0, (3, 4))
B = RNG.uniform(-1.5, 1.5, (3, 4))
MASK = RNG.uniform(-1.0, 1.0, (3, 4)) > 0.0

# name -> (tensorad function of (a, b), numpy oracle of (a, b)); a in [0.5, 2], b in [-1.5, 1.5]
CASES: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "power": (lambda a, b: tnp.power(a, b), np.power),
    "divide": (lambda a, b: tnp.divide(a, b), np.divide),
    "maximum": (lambda a, b: tnp.maximum(a, b), np.maximum),
    "minimum": (lambda a, b: tnp.minimum(a, b), np.minimum),
    "where": (lambda a, b: tnp.where(MASK, a, b), lambda a, b: np.where(MASK, a, b)),
    **{
        name: (lambda a, b, name=name: getattr(tnp, name)(a, b), lambda a, b, ufunc=ufunc: ufunc(a, b))
        for name, ufunc in COMPARISONS.items()
    },
}


def test_every_pointwise_function_has_a_case() -> None:
    assert set(POINTWISE) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_values_match_numpy(name: str) -> None:
    function, oracle = CASES[name]
    for a, b in ((A, B), (A[0], B), (2.0, B), (A, np.float64(0.5))):
        result, expected = function(a, b), oracle(a, b)
        assert result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, rtol=1e-13)
    x, y = ta.Variable("x", A.shape), ta.Variable("y", B.shape)
    np.testing.assert_allclose(function(x, y).evaluate({x: A, y: B}), oracle(A, B), rtol=1e-13)
    namespace: dict[str, Any] = {}
    exec(numpy_code(function(x, y)), namespace)  # the generated numpy code (--format numpy)
    np.testing.assert_allclose(namespace["f"](A, B), oracle(A, B), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(CASES))
def test_check_grads_at_order_2(name: str, dtype: type) -> None:
    function = CASES[name][0]
    if name in COMPARISONS:  # a mask has no derivative: check it through a product that uses it
        check_grads(lambda a, b: a * b * function(a, b), (A.astype(dtype), B.astype(dtype)), order=2)
    else:
        check_grads(function, (A.astype(dtype), B.astype(dtype)), order=2)


def test_comparisons_are_masks_with_zero_derivative() -> None:
    x = np.array([1.0, 0.0, -2.0])
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(v * (v != 0)))(x), [1.0, 0.0, 1.0])  # JAX: [1, 0, 1]
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(v * (v == 0)))(x), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(ta.where(v > 0, v, 2 * v)))(x), [1.0, 2.0, 2.0])
    assert (ta.Variable("x", (3,)) < 1.0).dtype == np.bool_


def test_where_keeps_an_infinite_derivative_of_the_branch_not_taken_out_of_forward_mode() -> None:
    x = np.array([0.0, 4.0])
    _, tangent = ta.jvp(lambda v: ta.where(v > 0.0, ta.sqrt(v), 0.0), (x,), (np.ones(2),))
    np.testing.assert_array_equal(tangent, [0.0, 0.25])  # sqrt'(0) = inf is not selected


@pytest.mark.parametrize(("fn", "ours"), [(np.maximum, ta.maximum), (np.minimum, ta.minimum)])
def test_maximum_and_minimum_split_ties_and_propagate_nan(fn: Any, ours: Any) -> None:
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    da, db = ta.grad(lambda x, y: ta.sum(ours(x, y)), argnums=(0, 1))(a, b)
    wins = (a > b) if fn is np.maximum else (a < b)
    np.testing.assert_array_equal(da, wins + 0.5 * (a == b))  # JAX: ties share the derivative
    np.testing.assert_array_equal(da + db, np.ones(3))
    np.testing.assert_array_equal(ours(np.array([np.nan, 1.0]), 0.0), fn(np.array([np.nan, 1.0]), 0.0))


def test_relu_and_clip() -> None:
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(ta.relu(x), np.maximum(x, 0.0))
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(ta.relu(v)))(x), [0.0, 0.0, 1.0, 1.0])  # relu'(0) = 0
    np.testing.assert_array_equal(ta.clip(x, 0.0, 1.0), np.clip(x, 0.0, 1.0))
    np.testing.assert_array_equal(ta.jit(lambda v: v.clip(None, 1.0))(x), np.clip(x, None, 1.0))
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(np.clip(v, 0.0, 1.0)))(x), [0.0, 0.5, 1.0, 0.0])
    for dtype in (np.float64, np.float32):
        check_grads(lambda v: ta.relu(v) * ta.clip(v, -0.7, 1.5), (np.array([-1.0, 0.3, 0.8, 2.0], dtype),), order=2)
