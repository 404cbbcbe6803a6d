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
    "logaddexp": (lambda a, b: tnp.logaddexp(a, b), np.logaddexp),
    "hypot": (lambda a, b: tnp.hypot(a, b), np.hypot),
    "arctan2": (lambda a, b: tnp.arctan2(a, b), np.arctan2),
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


# ------------------------------------------------------------------ functions built from the pointwise ones

DERIVED: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "fmax": (tnp.fmax, np.fmax),
    "fmin": (tnp.fmin, np.fmin),
    "heaviside": (tnp.heaviside, np.heaviside),
    "isnan": (lambda a, b: tnp.isnan(a / b), lambda a, b: np.isnan(a / b)),
    "isinf": (lambda a, b: tnp.isinf(a / b), lambda a, b: np.isinf(a / b)),
    "isfinite": (lambda a, b: tnp.isfinite(a / b), lambda a, b: np.isfinite(a / b)),
}
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 2.0])


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_derived_functions_match_numpy_on_special_values(name: str) -> None:
    ours, oracle = DERIVED[name]
    a, b = np.repeat(SPECIAL, SPECIAL.size), np.tile(SPECIAL, SPECIAL.size)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(ta.jit(ours)(a, b), oracle(a, b))
        np.testing.assert_array_equal(ours(a, b), oracle(a, b))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["fmax", "fmin", "heaviside"])
def test_derived_functions_check_grads(name: str, dtype: type) -> None:
    ours = DERIVED[name][0]
    check_grads(lambda a, b: ours(a, b) * a * b, (A.astype(dtype), B.astype(dtype)), order=2)


def test_conventions_at_kinks_and_infinities() -> None:
    grad2 = ta.grad(lambda a, b: ta.sum(tnp.logaddexp(a, b)), argnums=(0, 1))
    ga, gb = grad2(np.array([1.0, -np.inf, np.inf, 3.0]), np.array([1.0, -np.inf, 0.0, -np.inf]))
    np.testing.assert_array_equal(ga, [0.5, 0.5, 1.0, 1.0])  # σ(a − b); equal infinities share
    np.testing.assert_array_equal(ga + gb, np.ones(4))
    np.testing.assert_array_equal(ta.grad(lambda a: ta.sum(tnp.hypot(a, 0.0 * a)))(np.array([0.0, -2.0])), [0.0, -1.0])
    assert np.isnan(ta.grad(lambda a: ta.sum(tnp.arctan2(a, 0.0 * a)))(np.array([0.0]))).all()
    ga, gb = ta.grad(lambda a, b: ta.sum(tnp.fmax(a, b)), argnums=(0, 1))(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(ga, [0.0, 0.0])  # jax.numpy.fmax: a tie goes to x2
    np.testing.assert_array_equal(gb, [1.0, 1.0])
    ga, gb = ta.grad(lambda a, b: ta.sum(tnp.heaviside(a, b)), argnums=(0, 1))(
        np.array([0.0, 1.0]), np.array([0.5, 0.5])
    )
    np.testing.assert_array_equal(ga, [0.0, 0.0])
    np.testing.assert_array_equal(gb, [1.0, 0.0])


NN: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "relu6": (ta.nn.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    "leaky_relu": (ta.nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    "elu": (ta.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
    "silu": (ta.nn.silu, lambda x: x / (1 + np.exp(-x))),
    "log_sigmoid": (ta.nn.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
    "softsign": (ta.nn.softsign, lambda x: x / (1 + np.abs(x))),
    "gelu": (ta.nn.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    "gelu exact": (lambda x: ta.nn.gelu(x, approximate=False), lambda x: x / 2 * (1 + scipy_erf(x / np.sqrt(2)))),
}


def scipy_erf(x: Any) -> Any:
    import scipy.special

    return scipy.special.erf(x)


@pytest.mark.parametrize("name", sorted(NN))
def test_activation_functions_match_their_formulas(name: str) -> None:
    ours, formula = NN[name]
    x = np.linspace(-8.0, 8.0, 33)
    np.testing.assert_allclose(ours(x), formula(x), rtol=1e-13, atol=1e-15)  # values reach 8: a few ulps
    np.testing.assert_allclose(ta.jit(ours)(x), formula(x), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(NN))
def test_activation_functions_check_grads_at_and_near_kinks(name: str, dtype: type) -> None:
    ours = NN[name][0]
    x = np.array([-2.3, -0.7, -0.1, 0.1, 0.4, 5.8, 6.2], dtype)  # around the kinks at 0 and 6, beyond the FD step
    check_grads(ours, (x,), order=2)


def test_activation_derivatives_at_their_kinks_are_jax_conventions() -> None:
    x = np.array([0.0, 6.0])
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(ta.nn.relu6(v)))(x), [0.0, 0.0])
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(ta.nn.leaky_relu(v)))(x), [1.0, 1.0])
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(ta.nn.elu(v, alpha=2.0)))(x), [2.0, 1.0])
    assert np.isfinite(ta.grad(lambda v: ta.sum(ta.nn.elu(v)))(np.array([1000.0]))).all()
