"""The public API (transforms and the numpy-like front end) against independent oracles.

Every expected value comes from numpy run on the same expression, from central finite
differences of a numpy function, or from a closed form written out here; nothing is
compared against tensorad's own output. The conventions checked are JAX's: ``jvp`` returns
``(out, out_tangent)``, ``vjp`` returns ``(out, vjp_fun)`` with ``vjp_fun(ct)`` a tuple (one
entry per primal), Jacobians have shape ``out.shape + in.shape`` and Hessians
``out.shape + in.shape + in.shape``, and pytrees (tuples, lists, dicts) keep their structure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import tensorad as ta
from tensorad.errors import ShapeError
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Elementwise
from tensorad.tree import flatten

Array = np.ndarray
Shape = tuple[int, ...]

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6  # central differences in float64; atol is scaled to the magnitudes
RTOL32 = 1e-5  # float32 results against float64 closed forms

A23 = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
A33 = np.array([[2.0, 1.0, 0.0], [-1.0, 3.0, 0.5], [0.25, 0.0, 1.0]])
M34 = np.arange(12.0).reshape(3, 4) / 7.0 - 0.5
X3 = np.array([0.3, -1.2, 2.0])


# ------------------------------------------------------------------ helpers


def positive(shape: Shape, seed: int = 0, dtype: Any = np.float64) -> Array:
    """Entries in [0.5, 1.5]: inside the domain of log, sqrt, reciprocal and x ** y."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape).astype(dtype)


def inputs(shapes: Sequence[Shape]) -> list[Array]:
    return [positive(shape, seed) for seed, shape in enumerate(shapes)]


def numeric_jacobian(f: Callable[..., Any], args: Sequence[Any], argnum: int = 0, eps: float = EPS) -> Array:
    """Central differences of the numpy function ``f``: shape ``out.shape + args[argnum].shape``."""
    args = [np.array(a, dtype=np.float64) for a in args]
    x = args[argnum]
    out_shape = np.shape(f(*args))
    jac = np.zeros(out_shape + x.shape)

    def at(index: tuple[int, ...], delta: float) -> Array:
        shifted = x.copy()
        shifted[index] += delta
        return np.asarray(f(*args[:argnum], shifted, *args[argnum + 1 :]), dtype=np.float64)

    for index in np.ndindex(x.shape):
        jac[(Ellipsis, *index)] = (at(index, eps) - at(index, -eps)) / (2 * eps)
    return jac


def numeric_grad(f: Callable[[Array], Any], x: Array) -> Array:
    """Central-difference gradient of a scalar numpy function of one array."""
    return numeric_jacobian(f, [x])


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    """``actual`` is a numpy array (not a traced value) of ``expected``'s shape and close to it."""
    assert isinstance(actual, np.ndarray), f"expected a numpy array, got {type(actual).__name__}"
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != expected {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def assert_tree_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Same pytree structure (container types, keys, lengths) and close leaves."""
    if isinstance(expected, (tuple, list, dict)):
        assert type(actual) is type(expected), f"{type(actual).__name__} != {type(expected).__name__}"
        if isinstance(expected, dict):
            assert sorted(actual) == sorted(expected)
            for key in expected:
                assert_tree_close(actual[key], expected[key], rtol, atol)
        else:
            assert len(actual) == len(expected)
            for a, e in zip(actual, expected, strict=True):
                assert_tree_close(a, e, rtol, atol)
    else:
        assert_close(actual, expected, rtol, atol)


def leaves(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in leaves(tree[key])]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]


def contract_tangent(jac: Array, tangent: Array) -> Array:
    """J·t for ``jac`` of shape out + in and ``tangent`` of shape in."""
    return np.tensordot(jac, tangent, axes=np.ndim(tangent))


def contract_cotangent(cotangent: Array, jac: Array) -> Array:
    """ctᵀ·J for ``jac`` of shape out + in and ``cotangent`` of shape out."""
    return np.tensordot(cotangent, jac, axes=np.ndim(cotangent))


def identity(x: Any) -> Any:
    return x


# ------------------------------------------------------------------ one function, two backends
#
# Each case is (tensorad function, numpy function, input shapes). When the two are the same
# Python function (operators, methods, indexing), numpy runs it on plain arrays as the oracle.


def case(name: str, fn: Callable[..., Any], *shapes: Shape, np_fn: Callable[..., Any] | None = None) -> Any:
    return pytest.param(fn, fn if np_fn is None else np_fn, shapes, id=name)


OPERATOR_CASES = [
    case("add-broadcast", lambda x, y: x + y, (3, 1), (1, 4)),
    case("mul-broadcast", lambda x, y: x * y, (4,), (2, 3, 4)),
    case("sub-broadcast", lambda x, y: x - y, (2, 3), (3,)),
    case("div-broadcast", lambda x, y: x / y, (2, 3, 4), (3, 1)),
    case("pow-broadcast", lambda x, y: x**y, (3, 1), (1, 4)),
    case("pow-traced", lambda x, y: x**y, (3,), (3,)),
    case("neg", lambda x: -x, (3,)),
    case("scalar-radd", lambda x: 2.0 + x, (3,)),
    case("scalar-add", lambda x: x + 2.5, (2, 2)),
    case("scalar-rsub", lambda x: 2.0 - x, (3,)),
    case("scalar-sub-int", lambda x: x - 1, (2, 2)),
    case("scalar-rmul-int", lambda x: 3 * x, (3,)),
    case("scalar-mul", lambda x: x * -0.5, (3,)),
    case("scalar-div", lambda x: x / 4.0, (3,)),
    case("scalar-rdiv", lambda x: 3.0 / x, (3,)),
    case("scalar-rdiv-int", lambda x: 1 / x, (2, 2)),
    case("array-radd", lambda x: np.ones(3) + x, (3,)),
    case("array-rsub", lambda x: A23 - x, (2, 3)),
    case("array-rmul", lambda x: A23 * x, (3,)),
    case("array-rdiv", lambda x: A23 / x, (3,)),
    case("array-rmatmul", lambda x: A23 @ x, (3,)),
    case("array-matmul", lambda x: x @ M34, (2, 3)),
    case("pow-2", lambda x: x**2, (3,)),
    case("pow-half", lambda x: x**0.5, (3,)),
    case("pow-3", lambda x: x**3, (3,)),
    case("pow-neg", lambda x: x**-1.5, (3,)),
    case("pow-1", lambda x: x**1, (3,)),
    case("rpow", lambda x: 2.0**x, (3,)),
    case("matmul-1d-1d", lambda x, y: x @ y, (3,), (3,)),
    case("matmul-2d-1d", lambda x, y: x @ y, (2, 3), (3,)),
    case("matmul-1d-2d", lambda x, y: x @ y, (3,), (3, 4)),
    case("matmul-2d-2d", lambda x, y: x @ y, (2, 3), (3, 4)),
    case("matmul-3d-1d", lambda x, y: x @ y, (5, 2, 3), (3,)),
    case("matmul-1d-3d", lambda x, y: x @ y, (3,), (5, 3, 4)),
    case("matmul-batched", lambda x, y: x @ y, (2, 3, 4), (2, 4, 2)),
    case("matmul-batch-broadcast", lambda x, y: x @ y, (2, 1, 3, 4), (5, 4, 2)),
    case("quadratic-form", lambda x: x @ A33 @ x, (3,)),
    case("mixed-expression", lambda x, y: (x * y - y / x) ** 2 + 1.5 * x, (2, 3), (3,)),
]

_REDUCTIONS = [
    case(
        f"{name}-axis{axis}-keepdims{keepdims}",
        functools.partial(ta_fn, axis=axis, keepdims=keepdims),
        (2, 3, 4),
        np_fn=functools.partial(np_fn, axis=axis, keepdims=keepdims),
    )
    for name, ta_fn, np_fn in (("sum", ta.sum, np.sum), ("mean", ta.mean, np.mean))
    for axis in (None, 0, -1, (0, 2))
    for keepdims in (False, True)
]

FUNCTION_CASES = [
    case("dot-1d-1d", ta.dot, (3,), (3,), np_fn=np.dot),
    case("dot-2d-1d", ta.dot, (2, 3), (3,), np_fn=np.dot),
    case("dot-1d-2d", ta.dot, (3,), (3, 4), np_fn=np.dot),
    case("dot-2d-2d", ta.dot, (2, 3), (3, 4), np_fn=np.dot),
    case("dot-2d-3d", ta.dot, (2, 3), (4, 3, 5), np_fn=np.dot),
    case("dot-0d", ta.dot, (), (3,), np_fn=np.dot),
    case("outer", ta.outer, (3,), (4,), np_fn=np.outer),
    case("outer-flattens", ta.outer, (2, 2), (3,), np_fn=np.outer),
    case("matmul", ta.matmul, (2, 3), (3, 4), np_fn=np.matmul),
    case("trace", ta.trace, (3, 3), np_fn=np.trace),
    case("trace-axes", lambda x: ta.trace(x, axis1=1, axis2=2), (2, 3, 3),
         np_fn=lambda x: np.trace(x, axis1=1, axis2=2)),
    case("trace-offset", lambda x: ta.trace(x, offset=1), (3, 4), np_fn=lambda x: np.trace(x, offset=1)),
    case("trace-rectangular", ta.trace, (3, 4), np_fn=np.trace),
    case("diagonal", ta.diagonal, (3, 3), np_fn=np.diagonal),
    case("diagonal-axes", lambda x: ta.diagonal(x, axis1=0, axis2=2), (3, 2, 3),
         np_fn=lambda x: np.diagonal(x, axis1=0, axis2=2)),
    case("diagonal-offset", lambda x: ta.diagonal(x, offset=-1), (3, 3), np_fn=lambda x: np.diagonal(x, offset=-1)),
    case("diagonal-rectangular", ta.diagonal, (2, 3), np_fn=np.diagonal),
    case("transpose", ta.transpose, (2, 3, 4), np_fn=np.transpose),
    case("transpose-axes", lambda x: ta.transpose(x, (1, 2, 0)), (2, 3, 4), np_fn=lambda x: np.transpose(x, (1, 2, 0))),
    case("transpose-neg-axes", lambda x: ta.transpose(x, (-1, 0, 1)), (2, 3, 4), np_fn=lambda x: x.transpose(-1, 0, 1)),
    case("einsum-matmul", lambda x, y: ta.einsum("ij,jk->ik", x, y), (2, 3), (3, 4),
         np_fn=lambda x, y: np.einsum("ij,jk->ik", x, y)),
    case("einsum-implicit", lambda x, y: ta.einsum("ij,jk", x, y), (2, 3), (3, 4),
         np_fn=lambda x, y: np.einsum("ij,jk", x, y)),
    case("einsum-diagonal", lambda x: ta.einsum("ii->i", x), (3, 3), np_fn=lambda x: np.einsum("ii->i", x)),
    case("einsum-three", lambda x, y: ta.einsum("i,ij,j->", x, A33, y), (3,), (3,),
         np_fn=lambda x, y: np.einsum("i,ij,j->", x, A33, y)),
    case("einsum-ellipsis", lambda x, y: ta.einsum("...ij,...j->...i", x, y), (4, 2, 3), (3,),
         np_fn=lambda x, y: np.einsum("...ij,...j->...i", x, y)),
    case("einsum-size1-broadcast", lambda x, y: ta.einsum("cij,cjk->cik", x, y), (3, 4, 5), (3, 1, 6),
         np_fn=lambda x, y: np.einsum("cij,cjk->cik", x, y)),
    *_REDUCTIONS,
]

SHAPE_CASES = [
    case("T", lambda x: x.T, (2, 3)),
    case("transpose-method", lambda x: x.transpose(1, 0, 2), (2, 3, 4)),
    case("sum-method", lambda x: x.sum(0), (2, 3)),
    case("reshape-flat", lambda x: x.reshape(-1), (2, 3)),
    case("reshape-infer", lambda x: x.reshape(3, -1), (2, 3)),
    case("reshape-tuple", lambda x: x.reshape((3, 1, 2)), (2, 3)),
    case("reshape-function", lambda x: ta.reshape(x, (6,)), (2, 3), np_fn=lambda x: np.reshape(x, (6,))),
    case("squeeze-all", lambda x: x.squeeze(), (1, 3, 1)),
    case("squeeze-axis", lambda x: x.squeeze(0), (1, 3, 1)),
    case("squeeze-axes", lambda x: x.squeeze((0, 2)), (1, 3, 1)),
    case("squeeze-function", lambda x: ta.squeeze(x), (1, 3), np_fn=np.squeeze),
    case("expand-dims-0", lambda x: ta.expand_dims(x, 0), (2, 3), np_fn=lambda x: np.expand_dims(x, 0)),
    case("expand-dims-neg", lambda x: ta.expand_dims(x, -1), (2, 3), np_fn=lambda x: np.expand_dims(x, -1)),
    case("expand-dims-tuple", lambda x: ta.expand_dims(x, (0, 2)), (2, 3),
         np_fn=lambda x: np.expand_dims(x, (0, 2))),
    case("index-newaxis-middle", lambda x: x[:, None, :], (2, 3)),
    case("index-newaxis-front", lambda x: x[None], (2, 3)),
    case("index-ellipsis-newaxis", lambda x: x[..., None], (2, 3)),
    case("index-int", lambda x: x[1], (3, 4)),
    case("index-negative-int", lambda x: x[-1], (3, 4)),
    case("index-two-ints", lambda x: x[1, -2], (3, 4)),
    case("index-column", lambda x: x[:, 1], (3, 4)),
    case("index-ellipsis-int", lambda x: x[..., 0], (2, 3, 4)),
    case("index-slice", lambda x: x[1:3], (4, 3)),
    case("index-step", lambda x: x[::2], (5,)),
    case("index-reverse", lambda x: x[::-1], (4,)),
    case("index-negative-slices", lambda x: x[-2:, 1:], (3, 4)),
    case("index-int-and-step", lambda x: x[1, ::2], (3, 5)),
    case("index-nonlinear", lambda x: x[0] * x[1] - x[-1] ** 2, (3, 2)),
]

ALL_CASES = OPERATOR_CASES + FUNCTION_CASES + SHAPE_CASES


def numeric_jacobians(np_fn: Callable[..., Any], args: Sequence[Array]) -> list[Array]:
    return [numeric_jacobian(np_fn, args, k) for k in range(len(args))]


@pytest.mark.parametrize(("fn", "np_fn", "shapes"), ALL_CASES)
def test_jvp_matches_numpy_and_finite_differences(fn: Any, np_fn: Any, shapes: tuple[Shape, ...]) -> None:
    args = inputs(shapes)
    tangents = inputs([*shapes, *shapes])[len(shapes) :]
    result = ta.jvp(fn, tuple(args), tuple(tangents))
    assert isinstance(result, tuple) and len(result) == 2
    out, out_dot = result
    expected = np.asarray(np_fn(*args))
    assert_close(out, expected)
    assert out.dtype == np.float64
    jacs = numeric_jacobians(np_fn, args)
    assert_close(out_dot, sum(contract_tangent(j, t) for j, t in zip(jacs, tangents, strict=True)))


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize(("fn", "np_fn", "shapes"), ALL_CASES)
def test_jacobian_matches_finite_differences(
    jacobian: Any, fn: Any, np_fn: Any, shapes: tuple[Shape, ...]
) -> None:
    args = inputs(shapes)
    jacs = jacobian(fn, argnums=tuple(range(len(args))))(*args)
    assert_tree_close(jacs, tuple(numeric_jacobians(np_fn, args)))


@pytest.mark.parametrize(("fn", "np_fn", "shapes"), ALL_CASES)
def test_vjp_matches_finite_differences(fn: Any, np_fn: Any, shapes: tuple[Shape, ...]) -> None:
    args = inputs(shapes)
    expected_out = np.asarray(np_fn(*args))
    result = ta.vjp(fn, *args)
    assert isinstance(result, tuple) and len(result) == 2
    out, vjp_fun = result
    assert_close(out, expected_out)
    cotangent = np.random.default_rng(7).standard_normal(expected_out.shape)
    expected = tuple(contract_cotangent(cotangent, j) for j in numeric_jacobians(np_fn, args))
    assert_tree_close(vjp_fun(cotangent), expected)


# ------------------------------------------------------------------ numpy-like functions on plain arrays

P3 = positive((3,))
P23 = positive((2, 3), seed=1)
P4 = positive((4,), seed=2)

EAGER_CASES = [
    pytest.param(lambda: ta.einsum("ij,jk", A23, M34), lambda: np.einsum("ij,jk", A23, M34), id="einsum-implicit"),
    pytest.param(lambda: ta.einsum("ij,jk->ki", A23, M34), lambda: np.einsum("ij,jk->ki", A23, M34), id="einsum"),
    pytest.param(lambda: ta.einsum("ii", A33), lambda: np.einsum("ii", A33), id="einsum-trace"),
    pytest.param(lambda: ta.einsum("...j,j", M34, P4), lambda: np.einsum("...j,j", M34, P4), id="einsum-ellipsis"),
    pytest.param(lambda: ta.exp(np.zeros(2)), lambda: np.ones(2), id="exp-zeros"),
    pytest.param(lambda: ta.exp([0.0, 1.0]), lambda: np.exp([0.0, 1.0]), id="exp-list"),
    pytest.param(lambda: ta.log(P23), lambda: np.log(P23), id="log"),
    pytest.param(lambda: ta.sin(X3), lambda: np.sin(X3), id="sin"),
    pytest.param(lambda: ta.tanh(X3), lambda: np.tanh(X3), id="tanh"),
    pytest.param(lambda: ta.sqrt(P3), lambda: np.sqrt(P3), id="sqrt"),
    pytest.param(lambda: ta.sigmoid(X3), lambda: 1.0 / (1.0 + np.exp(-X3)), id="sigmoid"),
    pytest.param(lambda: ta.softmax(A23), lambda: np.exp(A23) / np.exp(A23).sum(-1, keepdims=True), id="softmax"),
    pytest.param(lambda: ta.logsumexp(A23), lambda: np.log(np.exp(A23).sum()), id="logsumexp"),
    pytest.param(lambda: ta.inv(A33), lambda: np.linalg.inv(A33), id="inv"),
    pytest.param(lambda: ta.det(A33), lambda: np.linalg.det(A33), id="det"),
    pytest.param(lambda: ta.norm(A23), lambda: np.linalg.norm(A23), id="norm"),
    pytest.param(lambda: ta.matmul(A23, M34), lambda: A23 @ M34, id="matmul"),
    pytest.param(lambda: ta.dot(A33, X3), lambda: np.dot(A33, X3), id="dot"),
    pytest.param(lambda: ta.outer(X3, P3), lambda: np.outer(X3, P3), id="outer"),
    pytest.param(lambda: ta.sum(M34, axis=0), lambda: M34.sum(axis=0), id="sum"),
    pytest.param(lambda: ta.mean(M34, axis=1, keepdims=True), lambda: M34.mean(axis=1, keepdims=True), id="mean"),
    pytest.param(lambda: ta.trace(A33), lambda: np.trace(A33), id="trace"),
    pytest.param(lambda: ta.diagonal(A33), lambda: np.diagonal(A33), id="diagonal"),
    pytest.param(lambda: ta.transpose(M34), lambda: M34.T, id="transpose"),
    pytest.param(lambda: ta.reshape(M34, (2, -1)), lambda: M34.reshape(2, -1), id="reshape"),
    pytest.param(lambda: ta.expand_dims(X3, 1), lambda: X3[:, None], id="expand-dims"),
    pytest.param(lambda: ta.squeeze(X3[None]), lambda: X3, id="squeeze"),
    pytest.param(lambda: ta.add(A23, X3), lambda: A23 + X3, id="add"),
    pytest.param(lambda: ta.subtract(2.0, A23), lambda: 2.0 - A23, id="subtract"),
    pytest.param(lambda: ta.multiply(A23, X3), lambda: A23 * X3, id="multiply"),
    pytest.param(lambda: ta.divide(A23, P3), lambda: A23 / P3, id="divide"),
    pytest.param(lambda: ta.power(P23, 1.5), lambda: P23**1.5, id="power"),
]


@pytest.mark.parametrize(("ta_call", "np_call"), EAGER_CASES)
def test_functions_on_plain_arrays_return_numpy_values(ta_call: Any, np_call: Any) -> None:
    expected = np.asarray(np_call())
    out = ta_call()
    assert_close(out, expected, rtol=1e-10, atol=1e-12)
    assert out.dtype == np.float64


# ------------------------------------------------------------------ the transforms, one by one


def quadratic_plus_sin(x: Any, xp: Any = ta) -> Any:
    """f(x) = xᵀAx + Σ sin x, written once for tensorad (xp=ta) and numpy (xp=np)."""
    return x @ A33 @ x + xp.sum(xp.sin(x))


def quadratic_plus_sin_grad(x: Array) -> Array:
    return (A33 + A33.T) @ x + np.cos(x)


def quadratic_plus_sin_hessian(x: Array) -> Array:
    return A33 + A33.T - np.diag(np.sin(x))


def test_grad_value_and_grad_closed_form() -> None:
    g = ta.grad(quadratic_plus_sin)(X3)
    assert_close(g, quadratic_plus_sin_grad(X3))
    value, g2 = ta.value_and_grad(quadratic_plus_sin)(X3)
    assert_close(value, quadratic_plus_sin(X3, np))
    assert value.shape == ()
    assert_close(g2, quadratic_plus_sin_grad(X3))


def test_grad_matches_finite_differences() -> None:
    assert_close(ta.grad(quadratic_plus_sin)(X3), numeric_grad(lambda x: quadratic_plus_sin(x, np), X3))


def test_hessian_closed_form_and_shape() -> None:
    assert_close(ta.hessian(quadratic_plus_sin)(X3), quadratic_plus_sin_hessian(X3))


def test_hessian_matches_finite_differences_of_gradient() -> None:
    assert_close(ta.hessian(quadratic_plus_sin)(X3), numeric_jacobian(quadratic_plus_sin_grad, [X3]))


def _cubic_hessian(x: Array) -> Array:
    """∂²/∂x∂x of Σ x³ for a matrix x: 6 x_ij δ_ik δ_jl."""
    return 6.0 * np.einsum("ij,ik,jl->ijkl", x, np.eye(x.shape[0]), np.eye(x.shape[1]))


@pytest.mark.parametrize(
    ("fn", "x", "shape", "expected"),
    [
        pytest.param(lambda x: x**2, X3, (3, 3, 3), lambda x: 2.0 * np.einsum("ij,ik->ijk", np.eye(3), np.eye(3)),
                     id="vector-out"),
        pytest.param(lambda x: ta.sum(x**3), P23, (2, 3, 2, 3), _cubic_hessian, id="matrix-in"),
        pytest.param(lambda x: ta.sin(x) * x, np.array(0.7), (), lambda x: 2.0 * np.cos(x) - x * np.sin(x), id="0d"),
    ],
)
def test_hessian_shape_is_out_in_in(fn: Any, x: Array, shape: Shape, expected: Any) -> None:
    h = ta.hessian(fn)(x)
    assert h.shape == shape
    assert_close(h, expected(x))


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize(
    ("fn", "np_fn", "x", "out_shape"),
    [
        pytest.param(lambda x: x * x, np.square, P23, (2, 3), id="matrix-to-matrix"),
        pytest.param(lambda x: ta.sum(x * x), lambda x: np.sum(x * x), P23, (), id="matrix-to-scalar"),
        pytest.param(lambda x: x * X3, lambda x: x * X3, np.array(1.5), (3,), id="scalar-to-vector"),
        pytest.param(lambda x: ta.outer(x, x), lambda x: np.outer(x, x), P3, (3, 3), id="vector-to-matrix"),
    ],
)
def test_jacobian_shape_is_out_in(jacobian: Any, fn: Any, np_fn: Any, x: Array, out_shape: Shape) -> None:
    jac = jacobian(fn)(x)
    assert jac.shape == out_shape + x.shape
    assert_close(jac, numeric_jacobian(np_fn, [x]))


def test_linearize_is_the_jacobian_applied() -> None:
    x, y = positive((2, 3)), positive((3,), seed=1)

    def f(x: Any, y: Any) -> Any:
        return x * y + x**2

    result = ta.linearize(f, x, y)
    assert isinstance(result, tuple) and len(result) == 2
    out, f_jvp = result
    assert_close(out, f(x, y))
    jx, jy = numeric_jacobian(f, [x, y], 0), numeric_jacobian(f, [x, y], 1)
    for seed in (3, 4):
        tx, ty = positive((2, 3), seed), positive((3,), seed + 10)
        assert_close(f_jvp(tx, ty), contract_tangent(jx, tx) + contract_tangent(jy, ty))


def test_linearize_fixes_the_primals_and_computes_their_factors_once() -> None:
    """J·t for sin at x is cos(x)·t: cos(x) is folded when jvp_fun first runs, and the
    primal is the one given to linearize, whatever happens to that array later."""
    x = np.array([0.0, 1.0, 2.0])
    _, f_jvp = ta.linearize(lambda x: ta.sin(x), x)
    expected = np.cos(x.copy())
    x[:] = 5.0
    t = np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(f_jvp(t), expected * t, rtol=1e-15)
    np.testing.assert_allclose(f_jvp(2 * t), expected * 2 * t, rtol=1e-15)
    (linear,) = flatten(f_jvp.trace(t))[0]
    assert not any(isinstance(node, Elementwise) for node in toposort([linear]))  # no sin/cos left to run
    with pytest.raises(ShapeError, match="tangent 0 has shape"):
        f_jvp(np.ones(4))


def test_vjp_fun_returns_one_entry_per_primal() -> None:
    x, y = positive((2, 3)), positive((3,), seed=1)
    out, vjp_fun = ta.vjp(lambda x, y: x @ y, x, y)
    assert_close(out, x @ y)
    ct = np.array([1.0, -2.0])
    grads = vjp_fun(ct)
    assert type(grads) is tuple and len(grads) == 2
    assert_close(grads[0], np.outer(ct, y))
    assert_close(grads[1], x.T @ ct)


# ------------------------------------------------------------------ argnums


def three_args(x: Any, y: Any, z: Any) -> Any:
    return ta.sum(x * y**2) + z @ x


def three_args_grads(x: Array, y: Array, z: Array) -> tuple[Array, Array, Array]:
    return y**2 + z, 2.0 * x * y, x


THREE = (positive((3,)), positive((3,), 1), positive((3,), 2))


@pytest.mark.parametrize(
    ("argnums", "picks"),
    [(0, 0), (1, 1), (2, 2), ((0, 2), (0, 2)), ((1,), (1,)), ((2, 0, 1), (2, 0, 1))],
)
def test_grad_argnums(argnums: Any, picks: Any) -> None:
    grads = three_args_grads(*THREE)
    expected = grads[picks] if isinstance(picks, int) else tuple(grads[k] for k in picks)
    assert_tree_close(ta.grad(three_args, argnums=argnums)(*THREE), expected)
    value, g = ta.value_and_grad(three_args, argnums=argnums)(*THREE)
    assert_close(value, np.sum(THREE[0] * THREE[1] ** 2) + THREE[2] @ THREE[0])
    assert_tree_close(g, expected)


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
@pytest.mark.parametrize("argnums", [1, (0,), (0, 1)])
def test_jacobian_argnums(jacobian: Any, argnums: Any) -> None:
    x, y = positive((2, 3)), positive((3,), 1)

    def f(x: Any, y: Any) -> Any:
        return x * y

    jacs = [numeric_jacobian(f, [x, y], k) for k in range(2)]
    expected = jacs[argnums] if isinstance(argnums, int) else tuple(jacs[k] for k in argnums)
    assert_tree_close(jacobian(f, argnums=argnums)(x, y), expected)


def test_hessian_argnums() -> None:
    x, y = positive((3,)), positive((3,), 1)
    h = ta.hessian(lambda x, y: ta.sum(x**2 * y**3), argnums=1)(x, y)
    assert_close(h, np.diag(6.0 * x**2 * y))


def test_argnums_out_of_range_is_an_error() -> None:
    with pytest.raises(ta.TensoradError):
        ta.grad(lambda x, y: ta.sum(x * y), argnums=2)(X3, X3)


def test_integer_non_differentiated_argument_is_allowed() -> None:
    n = np.array([1, 2, 3])
    assert_close(ta.grad(lambda x, n: ta.sum(x * n), argnums=0)(X3, n), n.astype(float))


# ------------------------------------------------------------------ has_aux


def with_aux(x: Any) -> Any:
    return ta.sum(x**3), {"square": x**2, "label": "aux", "count": 3}


def assert_aux(aux: Any, x: Array) -> None:
    assert type(aux) is dict and sorted(aux) == ["count", "label", "square"]
    assert_close(aux["square"], x**2)
    assert aux["label"] == "aux" and aux["count"] == 3


def test_grad_has_aux() -> None:
    g, aux = ta.grad(with_aux, has_aux=True)(X3)
    assert_close(g, 3.0 * X3**2)
    assert_aux(aux, X3)


def test_value_and_grad_has_aux() -> None:
    (value, aux), g = ta.value_and_grad(with_aux, has_aux=True)(X3)
    assert_close(value, np.sum(X3**3))
    assert_close(g, 3.0 * X3**2)
    assert_aux(aux, X3)


def test_vjp_has_aux() -> None:
    result = ta.vjp(with_aux, X3, has_aux=True)
    assert len(result) == 3
    out, vjp_fun, aux = result
    assert_close(out, np.sum(X3**3))
    (g,) = vjp_fun(np.array(2.0))
    assert_close(g, 6.0 * X3**2)
    assert_aux(aux, X3)


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_has_aux(jacobian: Any) -> None:
    jac, aux = jacobian(lambda x: (x**3, {"square": x**2, "label": "aux", "count": 3}), has_aux=True)(X3)
    assert_close(jac, np.diag(3.0 * X3**2))
    assert_aux(aux, X3)


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_has_aux_none_still_returns_a_pair(jacobian: Any) -> None:
    result = jacobian(lambda x: (x * 2.0, None), has_aux=True)(X3)
    assert isinstance(result, tuple) and len(result) == 2
    jac, aux = result
    assert_close(jac, 2.0 * np.eye(3))
    assert aux is None


# ------------------------------------------------------------------ pytrees

W = positive((2, 3))
B = positive((3,), 1)
C = positive((2,), 2)
PARAMS = {"w": W, "b": (B, [C])}


def tree_loss(p: Any) -> Any:
    """Σ w² b + cᵀ(w b) over params {"w": w, "b": (b, [c])}."""
    w, (b, (c,)) = p["w"], p["b"]
    return ta.sum(w**2 * b) + c @ (w @ b)


def tree_loss_grad(p: Any) -> Any:
    w, (b, (c,)) = p["w"], p["b"]
    return {"w": 2.0 * w * b + np.outer(c, b), "b": ((w**2).sum(0) + w.T @ c, [w @ b])}


def test_grad_of_nested_dict_tuple_list() -> None:
    assert_tree_close(ta.grad(tree_loss)(PARAMS), tree_loss_grad(PARAMS))


def test_grad_of_list_argument() -> None:
    x, y = positive((3,)), positive((3,), 1)
    assert_tree_close(ta.grad(lambda xs: ta.sum(xs[0] * xs[1] ** 2))([x, y]), [y**2, 2.0 * x * y])


def test_jvp_of_pytree_with_dict_output() -> None:
    tangent = {"w": positive((2, 3), 5), "b": (positive((3,), 6), [positive((2,), 7)])}

    def f(p: Any) -> Any:
        return {"loss": tree_loss(p), "pair": (p["w"] @ p["b"][0], p["b"][1][0] * 2.0)}

    out, out_dot = ta.jvp(f, (PARAMS,), (tangent,))
    w, (b, (c,)) = W, (B, [C])
    tw, (tb, (tc,)) = tangent["w"], tangent["b"]
    expected_out = {"loss": np.sum(w**2 * b) + c @ (w @ b), "pair": (w @ b, c * 2.0)}
    loss_dot = sum(np.sum(g * t) for g, t in zip(leaves(tree_loss_grad(PARAMS)), leaves(tangent), strict=True))
    expected_dot = {"loss": np.asarray(loss_dot), "pair": (tw @ b + w @ tb, tc * 2.0)}
    assert_tree_close(out, expected_out)
    assert_tree_close(out_dot, expected_dot)


def test_vjp_of_pytrees_with_dict_output() -> None:
    x = [positive((3,), 3), positive((3,), 4)]

    def f(p: Any, xs: Any) -> Any:
        return {"y": p["w"] @ (xs[0] * xs[1]), "s": ta.sum(p["b"][0] * xs[0])}

    out, vjp_fun = ta.vjp(f, PARAMS, x)
    assert_tree_close(out, {"y": W @ (x[0] * x[1]), "s": np.sum(B * x[0])})
    ct = {"y": np.array([1.0, -1.0]), "s": np.array(2.0)}
    expected = (
        {"w": np.outer(ct["y"], x[0] * x[1]), "b": (2.0 * x[0], [np.zeros(2)])},
        [(W.T @ ct["y"]) * x[1] + 2.0 * B, (W.T @ ct["y"]) * x[0]],
    )
    assert_tree_close(vjp_fun(ct), expected)


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_of_dict_input_with_dict_and_tuple_output(jacobian: Any) -> None:
    a, b = positive((3,)), positive((3,), 1)

    def f(p: Any) -> Any:
        return {"s": ta.sum(p["a"] * p["b"]), "v": (p["a"] * 2.0,)}

    expected = {
        "s": {"a": b, "b": a},
        "v": ({"a": 2.0 * np.eye(3), "b": np.zeros((3, 3))},),
    }
    assert_tree_close(jacobian(f)({"a": a, "b": b}), expected)


@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_tuple_output_with_argnums_tuple(jacobian: Any) -> None:
    x, y = positive((3,)), positive((3,), 1)
    jac = jacobian(lambda x, y: (x * y, ta.sum(x)), argnums=(0, 1))(x, y)
    expected = ((np.diag(y), np.diag(x)), (np.ones(3), np.zeros(3)))
    assert_tree_close(jac, expected)


# ------------------------------------------------------------------ dtypes


def f32_model(x: Any, xp: Any = ta) -> Any:
    """Scalars, powers, indexing, reductions and elementwise functions on one input."""
    return xp.sum(xp.exp(-x) * x[::-1] + 2.0**x - x**0.5 + xp.mean(x) / 3.0) + x @ x


def vjp_applied(fn: Any, x: Any, cotangent: Any) -> tuple[Any, Any]:
    out, vjp_fun = ta.vjp(fn, x)
    return out, vjp_fun(cotangent)


X32 = positive((3,), dtype=np.float32)
F32_GRAD = numeric_grad(lambda x: f32_model(x, np), X32.astype(np.float64))
F32_HESSIAN = numeric_jacobian(lambda x: numeric_grad(lambda y: f32_model(y, np), x), [X32.astype(np.float64)],
                               eps=1e-4)

FLOAT32_TRANSFORMS = [
    pytest.param(lambda x: ta.grad(f32_model)(x), F32_GRAD, id="grad"),
    pytest.param(lambda x: ta.value_and_grad(f32_model)(x), (f32_model(X32.astype(np.float64), np), F32_GRAD),
                 id="value_and_grad"),
    pytest.param(lambda x: ta.jvp(f32_model, (x,), (np.ones(3, np.float32),)),
                 (f32_model(X32.astype(np.float64), np), F32_GRAD.sum()), id="jvp"),
    pytest.param(lambda x: vjp_applied(f32_model, x, np.asarray(2.0, np.float32)),
                 (f32_model(X32.astype(np.float64), np), (2.0 * F32_GRAD,)), id="vjp"),
    pytest.param(lambda x: ta.linearize(f32_model, x)[1](np.ones(3, np.float32)), F32_GRAD.sum(), id="linearize"),
    pytest.param(lambda x: ta.jacfwd(f32_model)(x), F32_GRAD, id="jacfwd"),
    pytest.param(lambda x: ta.jacrev(f32_model)(x), F32_GRAD, id="jacrev"),
    pytest.param(lambda x: ta.hessian(f32_model)(x), F32_HESSIAN, id="hessian"),
]


@pytest.mark.parametrize(("transform", "expected"), FLOAT32_TRANSFORMS)
def test_float32_is_preserved(transform: Any, expected: Any) -> None:
    result = transform(X32)
    for leaf in leaves(result):
        assert isinstance(leaf, np.ndarray) and leaf.dtype == np.float32, f"got {getattr(leaf, 'dtype', leaf)}"
    assert_tree_close(leaves(result), [np.asarray(e) for e in leaves(expected)], rtol=1e-4, atol=1e-4)


def test_float64_is_the_default_for_python_floats() -> None:
    g = ta.grad(lambda x: x**3)(2.0)
    assert isinstance(g, np.ndarray) and g.shape == () and g.dtype == np.float64
    assert_close(g, 12.0)
    out, out_dot = ta.jvp(lambda x: ta.sin(x) * x, (0.5,), (2.0,))
    assert_close(out, np.sin(0.5) * 0.5)
    assert_close(out_dot, 2.0 * (np.cos(0.5) * 0.5 + np.sin(0.5)))
    assert out.dtype == out_dot.dtype == np.float64
    assert_close(ta.grad(lambda s, v: ta.sum(s * v))(2.0, X3), np.sum(X3))
    assert_close(ta.jacfwd(lambda s: s * X3)(1.5), X3)


NON_FLOAT_INPUTS = [
    pytest.param(np.array([1, 2, 3]), id="int-array"),
    pytest.param(np.array([True, False, True]), id="bool-array"),
    pytest.param(3, id="python-int"),
    pytest.param(np.int32(3), id="numpy-int"),
]

TRANSFORMS_OF_ONE_ARG = [
    pytest.param(lambda x: ta.grad(lambda x: ta.sum(x * 2.0))(x), id="grad"),
    pytest.param(lambda x: ta.value_and_grad(lambda x: ta.sum(x * 2.0))(x), id="value_and_grad"),
    pytest.param(lambda x: ta.jacfwd(lambda x: x * 2.0)(x), id="jacfwd"),
    pytest.param(lambda x: ta.jacrev(lambda x: x * 2.0)(x), id="jacrev"),
    pytest.param(lambda x: ta.hessian(lambda x: ta.sum(x * x))(x), id="hessian"),
    pytest.param(lambda x: ta.vjp(lambda x: x * 2.0, x), id="vjp"),
    pytest.param(lambda x: ta.jvp(lambda x: x * 2.0, (x,), (np.ones(np.shape(x)),)), id="jvp"),
    pytest.param(lambda x: ta.linearize(lambda x: x * 2.0, x), id="linearize"),
]


@pytest.mark.parametrize("transform", TRANSFORMS_OF_ONE_ARG)
@pytest.mark.parametrize("x", NON_FLOAT_INPUTS)
def test_non_float_differentiated_input_is_a_type_error(transform: Any, x: Any) -> None:
    with pytest.raises(TypeError) as info:
        transform(x)
    assert isinstance(info.value, ta.TensoradError)
    assert str(np.asarray(x).dtype) in str(info.value)


INTS = np.array([1, 2, 3], dtype=np.int64)
FLOAT_ADVICE = "; differentiation needs float (or complex) inputs: pass e.g. np.asarray(x, dtype=float)"


@pytest.mark.parametrize(
    ("call", "culprit"),
    [
        pytest.param(lambda: ta.grad(lambda x: ta.sum(x))(INTS), "argument 0", id="argument"),
        pytest.param(lambda: ta.grad(lambda x, y: ta.sum(x * y), argnums=1)(X3, INTS), "argument 1", id="argnums"),
        pytest.param(lambda: ta.grad(lambda x, y: ta.sum(x * y), argnums=-1)(X3, INTS), "argument 1",
                     id="negative-argnums"),
        pytest.param(lambda: ta.grad(lambda p: ta.sum(p["a"] * p["b"]))({"a": X3, "b": INTS}), "argument 0, leaf 1",
                     id="pytree-leaf"),
        pytest.param(lambda: ta.jvp(lambda x: x * 2.0, (X3,), (INTS,)), "tangent 0", id="tangent"),
        pytest.param(lambda: ta.vjp(lambda x: x * 2.0, X3)[1](INTS), "cotangent 0", id="cotangent"),
    ],
)
def test_non_float_input_message_names_the_users_value(call: Any, culprit: str) -> None:
    with pytest.raises(ta.OperandTypeError) as info:
        call()
    assert str(info.value) == f"{culprit} has dtype int64{FLOAT_ADVICE}"


# ------------------------------------------------------------------ errors


def _cotangent_of_wrong_shape() -> Any:
    _, vjp_fun = ta.vjp(lambda x: x * 2.0, X3)
    return vjp_fun(np.ones(2))


ERROR_CASES = [
    pytest.param(lambda: ta.grad(lambda x: x * 2.0)(X3), TypeError, id="grad-of-vector"),
    pytest.param(lambda: ta.grad(lambda x: (ta.sum(x), ta.sum(x)))(X3), TypeError, id="grad-of-tuple"),
    pytest.param(lambda: ta.value_and_grad(lambda x: x @ M34[:3])(X3), TypeError, id="value_and_grad-of-vector"),
    pytest.param(lambda: ta.jvp(identity, (X3,), (np.ones(2),)), ValueError, id="tangent-shape"),
    pytest.param(_cotangent_of_wrong_shape, ValueError, id="cotangent-shape"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x + np.ones(4)))(X3), ValueError, id="broadcast-constant"),
    pytest.param(lambda: ta.jacfwd(lambda x, y: x * y)(X3, np.ones(4)), ValueError, id="broadcast-traced"),
    pytest.param(lambda: ta.jacfwd(lambda x: x - np.ones((2, 2)))(X3), ValueError, id="broadcast-sub"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(A23 @ x))(np.ones(2)), ValueError, id="matmul-align"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x @ 2.0))(X3), ValueError, id="matmul-0d"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.einsum("ij->k", x)))(A23), ValueError, id="einsum-label"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.einsum("ij,jk->ik", x)))(A23), ValueError,
                 id="einsum-operand-count"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.einsum("ij,jk->ik", x, x)))(A23), ValueError,
                 id="einsum-sizes"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.einsum("ijk->", x)))(A23), ValueError, id="einsum-rank"),
    pytest.param(lambda: ta.einsum("ij,jk->ik", A23, A23), ValueError, id="einsum-eager-sizes"),
    pytest.param(lambda: ta.einsum("i!->", X3), ValueError, id="einsum-bad-character"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x.reshape(4)))(X3), ValueError, id="reshape-size"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x.squeeze(0)))(A23), ValueError, id="squeeze-non-1"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.sum(x, axis=2)))(A23), ValueError, id="sum-axis"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(ta.transpose(x, (0, 0))))(A23), ValueError, id="transpose-axes"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x * "a"))(X3), TypeError, id="string-operand"),
    pytest.param(lambda: ta.grad(lambda x: x[5])(X3), ta.TensoradError, id="index-out-of-bounds"),
    pytest.param(lambda: ta.grad(lambda x: x[0, 0])(X3), ta.TensoradError, id="too-many-indices"),
    pytest.param(lambda: ta.jvp(identity, (X3, X3), (X3,)), ta.TensoradError, id="jvp-count"),
    pytest.param(lambda: ta.grad(lambda x: ta.sum(x), has_aux=True)(X3), ta.TensoradError, id="has-aux-not-pair"),
]


@pytest.mark.parametrize(("call", "error"), ERROR_CASES)
def test_errors_are_tensorad_errors_of_the_builtin_kind(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, ta.TensoradError), f"{type(info.value).__name__}: {info.value}"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: ta.jvp(identity, (X3,), (np.ones(2),)), id="tangent"),
        pytest.param(_cotangent_of_wrong_shape, id="cotangent"),
        pytest.param(lambda: ta.grad(lambda x: ta.sum(x + np.ones(2)))(X3), id="broadcast"),
    ],
)
def test_shape_error_messages_name_both_shapes(call: Any) -> None:
    with pytest.raises(ValueError, match=r"\(3,\)") as info:
        call()
    assert "(2,)" in str(info.value)


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(np.array([True, False, True]), id="boolean-mask"),
        pytest.param(np.array([0, 2]), id="integer-array"),
        pytest.param([0, 2], id="integer-list"),
    ],
)
def test_fancy_indexing_gathers_and_scatters_back(index: Any) -> None:
    expected = np.zeros_like(X3)
    np.add.at(expected, index, 1.0)
    np.testing.assert_array_equal(ta.grad(lambda x: ta.sum(x[index]))(X3), expected)


def test_indexing_with_a_traced_value_is_refused() -> None:
    with pytest.raises(ta.UnsupportedError, match="traced array") as info:
        ta.grad(lambda x: ta.sum(x[x > 0]))(X3)
    assert isinstance(info.value, ta.TensoradError)


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(lambda x: ta.sum(x) if x else ta.sum(-x), id="if"),
        pytest.param(lambda x: ta.sum(x) * float(bool(x[0])), id="bool"),
    ],
)
def test_truth_value_of_traced_value_is_a_type_error(fn: Any) -> None:
    with pytest.raises(TypeError):
        ta.grad(fn)(X3)


# ------------------------------------------------------------------ traced values look like arrays


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_traced_value_attributes(dtype: Any) -> None:
    seen: dict[str, Any] = {}

    def f(x: Any) -> Any:
        seen.update(
            shape=x.shape, ndim=x.ndim, dtype=x.dtype, size=x.size, len=len(x), T=x.T.shape,
            reshape=x.reshape(-1).shape, row=x[0].shape, len_row=len(x[0]),
        )
        return ta.sum(x)

    ta.grad(f)(np.ones((2, 3), dtype))
    assert seen == {
        "shape": (2, 3), "ndim": 2, "dtype": np.dtype(dtype), "size": 6, "len": 2, "T": (3, 2),
        "reshape": (6,), "row": (3,), "len_row": 3,
    }


def test_len_of_0d_traced_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        ta.grad(lambda x: x * len(x))(np.array(2.0))


# ------------------------------------------------------------------ composition


def test_jvp_of_grad_is_hessian_vector_product() -> None:
    v = np.array([1.0, -0.5, 2.0])
    g, hv = ta.jvp(ta.grad(quadratic_plus_sin), (X3,), (v,))
    assert_close(g, quadratic_plus_sin_grad(X3))
    assert_close(hv, quadratic_plus_sin_hessian(X3) @ v)


@pytest.mark.parametrize("outer", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_third_derivative_of_cubic(outer: Any) -> None:
    """∂³/∂x_i∂x_j∂x_k Σ x³ = 6 δ_ijk (the Hessian is 6 diag(x), linear in x)."""
    t = outer(ta.hessian(lambda x: ta.sum(x**3)))(X3)
    assert_close(t, 6.0 * np.einsum("ij,ik->ijk", np.eye(3), np.eye(3)))


def test_grad_of_function_calling_grad() -> None:
    inner = ta.grad(lambda x: ta.sum(x**3))  # 3 x²

    def h(x: Any) -> Any:
        return ta.sum(inner(x) ** 2)  # Σ 9 x⁴

    assert_close(ta.grad(h)(X3), 36.0 * X3**3)


def test_grad_of_inner_grad_closing_over_the_outer_input() -> None:
    y0 = np.array([1.0, 2.0, 3.0])

    def outer(x: Any) -> Any:
        inner = ta.grad(lambda y: ta.sum(x * y**2))  # 2 x y, closes over the traced x
        return ta.sum(inner(y0) * x)  # Σ 2 x² y0

    assert_close(ta.grad(outer)(X3), 4.0 * X3 * y0)


def test_value_and_grad_of_grad_norm() -> None:
    def f(x: Any) -> Any:
        g = ta.grad(quadratic_plus_sin)(x)
        return g @ g

    value, g = ta.value_and_grad(f)(X3)
    expected_grad = quadratic_plus_sin_grad(X3)
    assert_close(value, expected_grad @ expected_grad)
    assert_close(g, 2.0 * quadratic_plus_sin_hessian(X3) @ expected_grad)


CONSTANT_FUNCTIONS = [
    pytest.param(lambda x: 3.0, (), id="python-float"),
    pytest.param(lambda x: np.ones((2,)), (2,), id="numpy-array"),
    pytest.param(lambda x: ta.sum(A23), (), id="ta-of-constant"),
]


@pytest.mark.parametrize(("fn", "out_shape"), CONSTANT_FUNCTIONS)
def test_function_independent_of_input_has_zero_derivatives(fn: Any, out_shape: Shape) -> None:
    x = positive((2, 3))
    for jacobian in (ta.jacfwd, ta.jacrev):
        assert_close(jacobian(fn)(x), np.zeros(out_shape + x.shape))
    _, out_dot = ta.jvp(fn, (x,), (x,))
    assert_close(out_dot, np.zeros(out_shape))
    _, vjp_fun = ta.vjp(fn, x)
    assert_tree_close(vjp_fun(np.ones(out_shape)), (np.zeros((2, 3)),))
    if out_shape == ():
        assert_close(ta.grad(fn)(x), np.zeros((2, 3)))


def test_grad_with_respect_to_unused_argument_is_zero() -> None:
    assert_tree_close(ta.grad(lambda x, y: ta.sum(y**2), argnums=(0, 1))(X3, P23), (np.zeros(3), 2.0 * P23))


# ------------------------------------------------------------------ deep graphs


def affine_chain(x: Any, steps: int, c: float = 1.0000001, d: float = 1e-3) -> Any:
    """``steps`` times ``x ↦ x * c + d`` (two operations each), for arrays and traced values alike."""
    for _ in range(steps):
        x = x * c + d
    return x


def test_chain_of_100k_operations() -> None:
    steps = 50_000
    x = np.array([1.0, -2.0])
    value, g = ta.value_and_grad(lambda x: ta.sum(affine_chain(x, steps)))(x)
    assert_close(value, np.sum(affine_chain(x, steps)))
    assert_close(g, np.full(2, 1.0000001**steps))


# ------------------------------------------------------------------ outputs are fresh arrays


def _mutate_and_check(result: Array, originals: Sequence[Array]) -> None:
    copies = [np.array(o) for o in originals]
    result[...] = 42.0
    for original, copy in zip(originals, copies, strict=True):
        np.testing.assert_array_equal(original, copy)


FRESH_CASES = [
    pytest.param(lambda x, t: ta.jvp(identity, (x,), (t,))[0], id="jvp-out"),
    pytest.param(lambda x, t: ta.jvp(identity, (x,), (t,))[1], id="jvp-tangent"),
    pytest.param(lambda x, t: ta.vjp(identity, x)[0], id="vjp-out"),
    pytest.param(lambda x, t: ta.vjp(identity, x)[1](t)[0], id="vjp-cotangent"),
    pytest.param(lambda x, t: ta.linearize(identity, x)[0], id="linearize-out"),
    pytest.param(lambda x, t: ta.linearize(identity, x)[1](t), id="linearize-tangent"),
    pytest.param(lambda x, t: ta.grad(lambda x: x @ t)(x), id="grad-is-constant"),
    pytest.param(lambda x, t: ta.value_and_grad(lambda x: x @ t)(x)[1], id="value_and_grad-is-constant"),
    pytest.param(lambda x, t: ta.grad(lambda x: (x @ t, x), has_aux=True)(x)[1], id="aux-is-input"),
    pytest.param(lambda x, t: ta.jacfwd(lambda x: A33 @ x)(x), id="jacfwd-is-constant"),
    pytest.param(lambda x, t: ta.jacrev(lambda x: A33 @ x)(x), id="jacrev-is-constant"),
    pytest.param(lambda x, t: ta.jacfwd(lambda x: x + t)(x), id="jacfwd-identity"),
    pytest.param(lambda x, t: ta.hessian(lambda x: x @ A33 @ x)(x), id="hessian-is-constant"),
    pytest.param(lambda x, t: ta.grad(lambda x: 2.0)(x), id="zero-grad"),
]


@pytest.mark.parametrize("compute", FRESH_CASES)
def test_outputs_are_fresh_writable_arrays(compute: Any) -> None:
    x, t = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
    first = compute(x, t)
    _mutate_and_check(first, [x, t, A33])
    second = compute(x, t)
    assert not np.all(second == 42.0), "a mutated result leaked into the next call"


def test_identity_jacobian_is_not_shared_between_calls() -> None:
    x = np.array([1.0, 2.0, 3.0])
    for jacobian in (ta.jacfwd, ta.jacrev):
        first = jacobian(identity)(x)
        first[...] = 7.0
        assert_close(jacobian(identity)(x), np.eye(3))


def test_the_primal_output_of_vjp_is_the_callers_own() -> None:
    out, pullback = ta.vjp(ta.exp, np.array([0.0, 1.0]))
    out[...] = 100.0
    (x_bar,) = pullback(np.ones(2))
    np.testing.assert_allclose(x_bar, np.exp([0.0, 1.0]), rtol=1e-15)
