"""``ta.vmap``: a batched function equals the stack of the function of each example.

Oracles: the same random program run by numpy example by example (a Python loop, the
definition of a map), closed forms (per-example least-squares gradients), and tensorad's
own unbatched transforms in a loop where what is tested is the composition.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import NUMPY, TENSORAD, DagProgram, random_dags

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import OperandTypeError, ShapeError

RNG = np.random.default_rng(0)
W1, W2 = RNG.normal(size=(6, 4)) / 2, RNG.normal(size=(3, 6)) / 2


def mlp(x: Any) -> Any:
    return ta.sum(ta.tanh(W2 @ ta.tanh(W1 @ x)) ** 2)


def stack(values: list[Any], axis: int = 0) -> np.ndarray:
    return np.stack([np.asarray(v) for v in values], axis=axis)


# --------------------------------------------------------------------------- random programs


@settings(max_examples=60, deadline=None)
@given(random_dags(output="array"), st.integers(1, 3), st.data())
def test_a_random_program_mapped_over_a_random_axis_is_the_stack_of_its_values(
    program: DagProgram, n: int, data: st.DataObject
) -> None:
    axis = data.draw(st.integers(-len(program.input_shape) - 1, len(program.input_shape)), label="in_axis")
    examples = [np.random.default_rng([program.seed, k]).uniform(-1, 1, program.input_shape) for k in range(n)]
    batch = stack(examples, axis=axis)
    out_axis = data.draw(st.integers(0, 1), label="out_axis")
    mapped = ta.vmap(program.function(TENSORAD), in_axes=axis, out_axes=out_axis)(batch)
    expected = stack([program.function(NUMPY)(x) for x in examples], axis=out_axis)
    np.testing.assert_allclose(mapped, expected, rtol=1e-10, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(random_dags(output="scalar"), st.integers(1, 3))
def test_gradients_and_vmap_compose_in_either_order(program: DagProgram, n: int) -> None:
    f = program.function(TENSORAD)
    examples = [np.random.default_rng([program.seed, k]).uniform(-1, 1, program.input_shape) for k in range(n)]
    batch = stack(examples)
    per_example = stack([ta.grad(f)(x) for x in examples])
    np.testing.assert_allclose(ta.vmap(ta.grad(f))(batch), per_example, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ta.grad(lambda b: ta.sum(ta.vmap(f)(b)))(batch), per_example, rtol=1e-10, atol=1e-12)
    jacobian = ta.jacfwd(ta.vmap(f))(batch)  # block diagonal: example k depends on x_k alone
    blocks = np.stack([jacobian[k, k] for k in range(n)])
    np.testing.assert_allclose(blocks, per_example, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.abs(jacobian).sum(), np.abs(blocks).sum(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- compositions


def test_per_example_gradients_of_least_squares_match_the_closed_form() -> None:
    X, y, w = RNG.normal(size=(7, 3)), RNG.normal(size=7), RNG.normal(size=3)
    grads = ta.vmap(ta.grad(lambda w, x, t: (x @ w - t) ** 2), in_axes=(None, 0, 0))(w, X, y)
    np.testing.assert_allclose(grads, 2 * (X @ w - y)[:, None] * X, rtol=1e-13)


def test_vmap_composes_with_every_transform() -> None:
    X = RNG.normal(size=(5, 4))
    g = stack([ta.grad(mlp)(x) for x in X])
    np.testing.assert_allclose(ta.jit(ta.vmap(ta.grad(mlp)))(X), g, rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(ta.jit(ta.grad(mlp)))(X), g, rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(ta.hessian(mlp))(X), stack([ta.hessian(mlp)(x) for x in X]), rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(ta.jacrev(ta.grad(mlp)))(X), ta.vmap(ta.jacfwd(ta.grad(mlp)))(X), rtol=1e-12)
    layer = ta.vmap(lambda x: ta.tanh(W1 @ x))
    J = ta.jacfwd(layer)(X)  # block diagonal over the batch
    for k in range(5):
        np.testing.assert_allclose(J[k, :, k, :], ta.jacfwd(lambda x: ta.tanh(W1 @ x))(X[k]), rtol=1e-12)
        np.testing.assert_allclose(np.delete(J[k], k, axis=1), 0.0)
    value, f_vjp = ta.vjp(layer, X)
    (ct,) = f_vjp(np.ones_like(value))
    np.testing.assert_allclose(ct, stack([ta.grad(lambda x: ta.sum(ta.tanh(W1 @ x)))(x) for x in X]), rtol=1e-12)
    _, tangent = ta.jvp(layer, (X,), (np.ones_like(X),))
    np.testing.assert_allclose(tangent, stack([ta.jvp(lambda x: ta.tanh(W1 @ x), (x,), (np.ones(4),))[1] for x in X]))
    _, f_lin = ta.linearize(layer, X)
    np.testing.assert_allclose(f_lin(np.ones_like(X)), tangent, rtol=1e-13)


def test_batched_hessian_vector_products_and_nested_maps() -> None:
    x, V = RNG.normal(size=4), RNG.normal(size=(6, 4))
    hvp = ta.vmap(lambda v: ta.jvp(ta.grad(mlp), (x,), (v,))[1])
    np.testing.assert_allclose(hvp(V), V @ ta.hessian(mlp)(x).T, rtol=1e-12)
    A, B = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(5, 4))
    pairwise = ta.vmap(ta.vmap(lambda a, b: a @ b, in_axes=(None, 0)), in_axes=(0, None))
    np.testing.assert_allclose(pairwise(A, B), np.einsum("ijk,lk->ilj", A, B), rtol=1e-13)


def test_hutchinsons_trace_estimator_is_exact_with_every_basis_direction() -> None:
    x = RNG.normal(size=4)
    directions = np.eye(4)
    hvps = ta.vmap(lambda v: ta.jvp(ta.grad(mlp), (x,), (v,))[1])(directions)
    assert np.einsum("ki,ki->", directions, hvps) == pytest.approx(np.trace(ta.hessian(mlp)(x)), rel=1e-12)


def test_pytrees_none_and_keyword_arguments() -> None:
    params = {"W": W1, "b": RNG.normal(size=6)}
    X = RNG.normal(size=(5, 4))

    def layer(p: dict[str, Any], x: Any, scale: Any = 1.0) -> Any:
        return {"h": ta.tanh(p["W"] @ x + p["b"]) * scale, "n": ta.sum(x * x)}

    out = ta.vmap(layer, in_axes=({"W": None, "b": None}, 0))(params, X)
    np.testing.assert_allclose(out["h"], np.tanh(X @ W1.T + params["b"]), rtol=1e-13)
    np.testing.assert_allclose(out["n"], np.sum(X * X, axis=1), rtol=1e-13)
    scales = np.arange(1.0, 6.0)
    scaled = ta.vmap(layer, in_axes=(None, 0))(params, X, scale=scales)  # keywords: axis 0, as in JAX
    np.testing.assert_allclose(scaled["h"], np.tanh(X @ W1.T + params["b"]) * scales[:, None], rtol=1e-13)
    kept = ta.vmap(lambda x: (x.sum(), ta.sum(W1)), out_axes=(0, None))(X)
    np.testing.assert_allclose(kept[1], W1.sum())
    repeated = ta.vmap(lambda x: (x.sum(), ta.sum(W1)))(X)
    np.testing.assert_allclose(repeated[1], np.full(5, W1.sum()))


def test_general_functions_are_mapped_by_their_batching_rules() -> None:
    M = RNG.normal(size=(4, 3, 3)) + 3 * np.eye(3)
    Z = RNG.normal(size=(4, 2, 5))
    np.testing.assert_allclose(ta.vmap(ta.inv)(M), np.linalg.inv(M), rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(ta.logdet)(M), np.linalg.slogdet(M)[1], rtol=1e-12)
    solved = np.linalg.solve(M, M[:, 0][..., None])[..., 0]
    np.testing.assert_allclose(ta.vmap(lambda m: tnp.linalg.solve(m, m[0]))(M), solved, rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(lambda z: ta.softmax(z, axis=1))(Z), np.exp(Z) / np.exp(Z).sum(2, keepdims=True))
    np.testing.assert_allclose(ta.vmap(lambda z: ta.logsumexp(z, axis=0))(Z), np.log(np.exp(Z).sum(1)), rtol=1e-13)
    np.testing.assert_allclose(ta.vmap(lambda z: z.reshape(10)[::-1][2:7])(Z), Z.reshape(4, 10)[:, ::-1][:, 2:7])
    np.testing.assert_allclose(ta.vmap(lambda z: tnp.concatenate([z, W2[:2, :5]], axis=0))(Z).shape, (4, 4, 5))
    np.testing.assert_allclose(ta.vmap(lambda z: tnp.cumsum(z, axis=1))(Z), np.cumsum(Z, axis=2))
    np.testing.assert_allclose(ta.vmap(lambda z: z[:, np.array([4, 0, 4])])(Z), Z[:, :, [4, 0, 4]])
    np.testing.assert_allclose(ta.vmap(lambda z: ta.max(z, axis=1))(Z), Z.max(axis=2))
    np.testing.assert_allclose(ta.vmap(lambda z: tnp.pad(z, ((1, 0), (0, 2))))(Z), np.pad(Z, ((0, 0), (1, 0), (0, 2))))


def test_a_users_function_without_a_batching_rule_is_mapped_slice_by_slice() -> None:
    reverse = ta.define_general_unary("vmap_test_reverse", lambda x: x[::-1], jacobian=lambda x, y: np.eye(3)[::-1])
    X = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(ta.vmap(reverse)(X), X[:, ::-1])
    np.testing.assert_allclose(ta.vmap(ta.grad(lambda x: reverse(x)[0] * x[0]))(X)[:, 0], X[:, 2])


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ta.vmap(lambda a, b: a + b)(np.ones((2, 3)), np.ones((3, 3))), ShapeError, "different sizes"),
        (lambda: ta.vmap(lambda a: a, in_axes=None)(np.ones(2)), ShapeError, "at least one mapped"),
        (lambda: ta.vmap(lambda a: a, in_axes=2)(np.ones((2, 3))), ShapeError, "out of range"),
        (lambda: ta.vmap(lambda a, b: a, in_axes=(0,))(np.ones(2), np.ones(2)), OperandTypeError, "1 entries for 2"),
        (lambda: ta.vmap(lambda a: a, out_axes=None)(np.ones((2, 3))), OperandTypeError, "depends on the mapped"),
        (lambda: ta.vmap(lambda a: a, in_axes=({"x": 0},))((np.ones(2),)), OperandTypeError, "does not match"),
        (lambda: ta.vmap(lambda a: a)(np.arange(3)), OperandTypeError, "integer array"),
    ],
)
def test_misuse_is_refused_clearly(call: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


def test_factorizations_and_triangular_solves_are_mapped_in_front() -> None:
    import scipy.linalg

    from tensorad.scipy import linalg as tsl

    M = RNG.normal(size=(3, 4, 4)) + 4 * np.eye(4)
    b = RNG.normal(size=(3, 4))
    solved = ta.vmap(lambda m, v: tsl.lu_solve(tsl.lu_factor(m), v))(M, b)
    np.testing.assert_allclose(solved, np.linalg.solve(M, b[..., None])[..., 0], rtol=1e-12)
    spd = M @ np.swapaxes(M, 1, 2)
    chol = ta.vmap(lambda m: tsl.cholesky(m, lower=True))(spd)
    np.testing.assert_allclose(chol, np.linalg.cholesky(spd), rtol=1e-12)
    tri = ta.vmap(lambda m, v: tsl.solve_triangular(m, v, lower=True))(chol, b)
    expected = np.stack([scipy.linalg.solve_triangular(c, v, lower=True) for c, v in zip(chol, b, strict=True)])
    np.testing.assert_allclose(tri, expected, rtol=1e-12)
    np.testing.assert_allclose(ta.vmap(tsl.expm)(M / 8), np.stack([scipy.linalg.expm(m / 8) for m in M]), rtol=1e-12)


def test_casts_survive_batching() -> None:
    """A cast (``astype``) is a node of its own dtype: the batch keeps it (a review found it lost)."""
    X = np.array([[1.0, -2.0, 3.0], [-1.0, -1.0, 2.0]])
    counted = ta.vmap(lambda x: (x > 0).astype(float) + (x > 1).astype(float))(X)
    np.testing.assert_array_equal(counted, (X > 0).astype(float) + (X > 1).astype(float))
    assert ta.vmap(lambda x: x.astype(np.float32) * 1e-30 * 1e-30)(X).dtype == np.float32
    grads = ta.vmap(ta.grad(lambda x: tnp.sum(tnp.maximum(x, 0.5))))(X)
    np.testing.assert_array_equal(grads, (X > 0.5).astype(float))


def test_jacobians_through_sylvester_solves_are_mapped_slice_by_slice() -> None:
    """``sqrtm``'s Jacobian solves Sylvester equations whose right sides carry the seed's axes
    in front of the batch; mapped slice by slice, they stay aligned (a review found them not)."""
    from tensorad.scipy import linalg as tsl

    M = RNG.normal(size=(2, 2, 2))
    A = M @ np.swapaxes(M, 1, 2) + 2 * np.eye(2)
    expected = np.stack([ta.jacfwd(tsl.sqrtm)(a) for a in A])
    np.testing.assert_allclose(ta.vmap(ta.jacfwd(tsl.sqrtm))(A), expected, rtol=1e-10, atol=1e-12)
    three = np.concatenate([A, A[:1]])
    np.testing.assert_allclose(ta.vmap(ta.jacrev(tsl.sqrtm))(three)[2], ta.jacrev(tsl.sqrtm)(three[2]), rtol=1e-10)


def test_empty_batches_give_empty_results() -> None:
    assert ta.vmap(tnp.linalg.cholesky)(np.zeros((0, 3, 3))).shape == (0, 3, 3)
    assert ta.vmap(ta.logsumexp)(np.zeros((0, 3, 4))).shape == (0,)
