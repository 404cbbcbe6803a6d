"""Compiled functions on torch tensors and dask arrays (tensorad.run.backends, .foreign).

Oracle: the same compiled function on numpy arrays (tensorad's numpy kernels, themselves
checked against numpy and finite differences elsewhere), to 1e-10 relative in float64,
for every task of every benchmark problem; dask on a LocalCluster the tests start
(2 workers, loopback, memory-limited), including data larger than a worker's memory,
checked against the gradient formula written in plain dask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pytest

import tensorad as ta
from benchmarks.problems import PROBLEMS, Problem
from benchmarks.systems import jax_shaped, tensorad_system
from tensorad.errors import OperandTypeError, UnsupportedError
from tensorad.run import backends

RTOL = 1e-10
TASKS = ("value", "grad", "jvp", "vjp", "hvp", "hessian", "jacfwd", "jacrev")
CASES = [(name, task) for name, problem in PROBLEMS.items() for task in TASKS if task in problem.formulas]


def _task(problem: Problem, task: str) -> Callable[..., Any]:
    """The benchmark's tensorad task as one function of all its arrays."""
    system = tensorad_system(compiled=False)
    n_data = len(problem.make("tiny", np.random.default_rng(0)).data)
    n_primals = len(problem.make("tiny", np.random.default_rng(0)).primals)
    builder = jax_shaped(ta)[task]

    def run(*args: Any) -> Any:
        f = partial(problem.model, system.ops, *args[:n_data])
        return builder(f, n_primals)(*args[n_data:])

    return run


def _leaves(result: Any) -> list[Any]:
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _leaves(item)]
    return [result]


def _agree(got: list[Any], expected: list[np.ndarray], to_numpy: Callable[[Any], np.ndarray]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        value = to_numpy(g)
        assert value.shape == np.shape(e) and value.dtype == np.asarray(e).dtype
        scale = float(np.max(np.abs(e))) if np.size(e) else 1.0
        np.testing.assert_allclose(value, e, rtol=RTOL, atol=RTOL * scale)


# ------------------------------------------------------------------ torch (CPU)


@pytest.mark.parametrize(("name", "task"), CASES)
def test_torch_results_equal_numpys(name: str, task: str) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    problem = PROBLEMS[name]
    instance = problem.make("tiny", np.random.default_rng(1))
    arguments = instance.arguments(task)
    run = _task(problem, task)
    expected = [np.asarray(leaf) for leaf in _leaves(ta.jit(run)(*arguments))]
    tensors = [torch.from_numpy(np.array(a)) for a in arguments]
    got = _leaves(ta.jit(run)(*tensors))
    assert all(isinstance(leaf, torch.Tensor) for leaf in got), [type(leaf) for leaf in got]
    _agree(got, expected, lambda t: t.numpy())


def test_torch_keeps_float32_and_takes_numpy_with_backend() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    x = np.linspace(-2.0, 2.0, 7, dtype=np.float32)
    g = ta.jit(ta.grad(lambda x: ta.sum(ta.sigmoid(x) * ta.tanh(x))))
    out = g(torch.from_numpy(x))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), g(x), rtol=1e-6)
    chosen = ta.jit(ta.grad(lambda x: ta.sum(x**3)), backend="torch")(x.astype(np.float64))  # numpy in, torch out
    assert isinstance(chosen, torch.Tensor)
    np.testing.assert_allclose(chosen.numpy(), 3 * x.astype(np.float64) ** 2, rtol=1e-15)


def test_backend_errors_are_clear() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    with pytest.raises(OperandTypeError, match="unknown backend 'jax'"):
        ta.jit(lambda x: x, backend="jax")
    with pytest.raises(UnsupportedError, match="torch backend has no 'sqrtm'"):
        ta.jit(ta.scipy.linalg.sqrtm)(torch.eye(2, dtype=torch.float64))
    dask_array = pytest.importorskip("dask.array")
    with pytest.raises(OperandTypeError, match="mix arrays of"):
        ta.jit(lambda x, y: x + y)(torch.ones(2, dtype=torch.float64), dask_array.ones(2))


# ------------------------------------------------------------------ dask on a LocalCluster


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes on the loopback interface, 300 MB each (a client connected)."""
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("array_api_compat")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, memory_limit="300MB", host="127.0.0.1", dashboard_address=None
        ) as local,
        distributed.Client(local) as client,
    ):
        yield client


DASK_CASES = [case for case in CASES if case[0] not in ("logdet",)]  # dask has no slogdet: tested below


@pytest.mark.parametrize(("name", "task"), DASK_CASES)
def test_dask_results_equal_numpys(cluster: Any, name: str, task: str) -> None:
    import dask.array as da

    problem = PROBLEMS[name]
    instance = problem.make("tiny", np.random.default_rng(2))
    arguments = instance.arguments(task)
    run = _task(problem, task)
    expected = [np.asarray(leaf) for leaf in _leaves(ta.jit(run)(*arguments))]
    chunked = [da.from_array(np.array(a), chunks=tuple(max(1, n // 2) for n in np.shape(a))) for a in arguments]
    got = _leaves(ta.jit(run)(*chunked))
    assert all(isinstance(leaf, da.Array) for leaf in got), [type(leaf) for leaf in got]
    _agree(got, expected, lambda a: np.asarray(a.compute()))


def test_dask_refuses_what_it_lacks_by_name(cluster: Any) -> None:
    import dask.array as da

    A = da.from_array(np.eye(3) * 2.0, chunks=3)
    with pytest.raises(UnsupportedError, match="dask backend has no 'det'"):
        ta.jit(ta.grad(lambda A: ta.numpy.linalg.det(A)))(A)


def test_dask_gradient_of_data_larger_than_a_worker(cluster: Any) -> None:
    """The logistic loss's gradient and Hessian over X of 480 MB in 60 MB row chunks, on
    workers of 300 MB each: each chunk's contribution is computed where it is made, and the
    sum over chunks is all that travels. Checked against the formulas in plain dask."""
    import dask.array as da

    rows, d = 1_200_000, 50
    X = da.random.RandomState(0).standard_normal((rows, d), chunks=(150_000, d))
    y = (da.random.RandomState(1).random_sample(rows, chunks=150_000) > 0.5).astype(np.float64)
    w = np.linspace(-0.1, 0.1, d)
    assert X.nbytes > 300e6

    def loss(w: Any, X: Any, y: Any) -> Any:
        z = X @ w
        return ta.mean(ta.softplus(z) - y * z)

    gradient, hessian = ta.jit(lambda w, X, y: (ta.grad(loss)(w, X, y), ta.hessian(loss)(w, X, y)))(w, X, y)
    assert isinstance(gradient, da.Array) and isinstance(hessian, da.Array)
    s = 1.0 / (1.0 + da.exp(-(X @ w)))
    expected_gradient = X.T @ (s - y) / rows
    expected_hessian = (X * (s * (1.0 - s))[:, None]).T @ X / rows
    got_gradient, got_hessian, want_gradient, want_hessian = da.compute(
        gradient, hessian, expected_gradient, expected_hessian
    )
    np.testing.assert_allclose(got_gradient, want_gradient, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got_hessian, want_hessian, rtol=1e-9, atol=1e-12)


def test_backends_by_name() -> None:
    assert backends.backend_named("numpy") is None
    with pytest.raises(OperandTypeError, match="unknown backend"):
        backends.backend_named("tpu")


# ------------------------------------------------------------------ eager transforms follow the arrays


def test_eager_transforms_on_torch_return_torch() -> None:
    """grad, value_and_grad, jacfwd, jacrev, hessian, jvp, vjp, linearize and vmap given
    torch tensors compile on torch: tensors out, the numpy path's values."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    rng = np.random.default_rng(3)
    A, x, v = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)

    def f(x: Any, A: Any) -> Any:
        return ta.sum(ta.tanh(A @ x) ** 2)

    def g(x: Any) -> Any:
        return ta.sin(x) * x

    T = torch.from_numpy
    pairs = [
        (ta.grad(f)(T(x), T(A)), ta.grad(f)(x, A)),
        (ta.value_and_grad(f, argnums=1)(T(x), T(A)), ta.value_and_grad(f, argnums=1)(x, A)),
        (ta.jacfwd(g)(T(x)), ta.jacfwd(g)(x)),
        (ta.jacrev(g)(T(x)), ta.jacrev(g)(x)),
        (ta.hessian(f)(T(x), T(A)), ta.hessian(f)(x, A)),
        (ta.jvp(g, (T(x),), (T(v),)), ta.jvp(g, (x,), (v,))),
        (ta.vjp(g, T(x))[1](T(v)), ta.vjp(g, x)[1](v)),
        (ta.linearize(g, T(x))[1](T(v)), ta.linearize(g, x)[1](v)),
        (
            ta.vmap(ta.grad(f), (0, None))(T(np.stack([x, v])), T(A)),
            ta.vmap(ta.grad(f), (0, None))(np.stack([x, v]), A),
        ),
    ]
    for got, expected in pairs:
        got_leaves, expected_leaves = _leaves(got), [np.asarray(e) for e in _leaves(expected)]
        assert all(isinstance(leaf, torch.Tensor) for leaf in got_leaves), [type(leaf) for leaf in got_leaves]
        _agree(got_leaves, expected_leaves, lambda t: t.numpy())


def test_torch_results_never_alias_the_arguments() -> None:
    """As on numpy, the caller owns what a compiled function returns: an output that is an
    argument, a view of one (transpose, reshape, slice) or a Jacobian equal to a closed-over
    tensor is a copy; writing to it leaves the argument as it was."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    x = torch.arange(12, dtype=torch.float64).reshape(3, 4)
    before = x.clone()
    functions = [
        lambda x: x,
        lambda x: x.T,
        lambda x: ta.numpy.reshape(x, (12,)),
        lambda x: x[1:],
        lambda x: ta.jacfwd(lambda v: x @ v)(torch.ones(4, dtype=torch.float64)),  # closes over the outer x
    ]
    for f in functions:
        y = ta.jit(f)(x)
        y.fill_(-1.0)
        assert torch.equal(x, before)
    np.testing.assert_array_equal(ta.jit(functions[-1])(x).numpy(), before.numpy())


# ------------------------------------------------------------------ regressions (adversarial review)


def test_dask_backend_chosen_for_numpy_arguments_stays_dask_on_every_call(cluster: Any) -> None:
    import dask.array as da

    x = np.arange(4.0)
    f = ta.jit(lambda x: x[1:], backend="dask")
    g = ta.jit(lambda x: ta.numpy.reshape(x, (2, 2)), backend="dask")
    for _ in range(2):  # the second call once took the numpy fast path with the dask plan
        out = f(x)
        assert isinstance(out, da.Array) and isinstance(g(x), da.Array)
        np.testing.assert_array_equal(out.compute(), x[1:])


def test_outputs_alias_neither_arguments_nor_each_other(cluster: Any) -> None:
    torch = pytest.importorskip("torch")
    import dask.array as da

    def pair(x: Any) -> Any:
        y = x * 2.0
        return y, y

    a, b = ta.jit(pair)(torch.arange(4.0, dtype=torch.float64))
    a[0] = 99.0
    assert float(b[0]) == 0.0
    xd = da.from_array(np.arange(4.0), chunks=2)
    y = ta.jit(lambda x: x)(xd)
    assert y is not xd
    y[0] = 100.0
    np.testing.assert_array_equal(xd.compute(), np.arange(4.0))


def test_dask_cholesky_reads_the_lower_triangle_only(cluster: Any) -> None:
    import dask.array as da

    B = np.random.default_rng(5).standard_normal((4, 4))
    S = B @ B.T + 4.0 * np.eye(4)
    N = S.copy()
    N[0, 3] += 0.5
    N[1, 2] -= 0.3  # only the upper triangle differs from S
    f = ta.jit(lambda A: ta.numpy.linalg.cholesky(A))
    for chunks in (2, 4, 3):
        np.testing.assert_allclose(f(da.from_array(N, chunks=chunks)).compute(), f(N), rtol=1e-12, atol=1e-14)


def test_dask_linear_algebra_on_uneven_chunks_and_refusals(cluster: Any) -> None:
    import dask.array as da

    rng = np.random.default_rng(6)
    B = rng.standard_normal((5, 5))
    S, b = B @ B.T + 5.0 * np.eye(5), rng.standard_normal(5)
    Sd, bd = da.from_array(S, chunks=2), da.from_array(b, chunks=2)
    for f in (
        lambda A, v: ta.numpy.linalg.solve(A, v),
        lambda A, v: ta.numpy.linalg.inv(A) @ v,
        lambda A, v: ta.numpy.linalg.cholesky(A) @ v,
        lambda A, v: ta.numpy.reshape(A, (25,))[:5] + v,
    ):
        np.testing.assert_allclose(ta.jit(f)(Sd, bd).compute(), ta.jit(f)(S, b), rtol=1e-12, atol=1e-13)
    batch = da.from_array(np.stack([S, S]), chunks=(1, 5, 5))
    with pytest.raises(UnsupportedError, match="a batch of matrices in 'inv'"):
        ta.jit(ta.numpy.linalg.inv)(batch)
    with pytest.raises(UnsupportedError, match="an index of several axes"):
        ta.jit(lambda v: v[np.array([[0, 1], [2, 3]])])(bd)


def test_torch_special_values_errors_and_precision_as_numpy() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    v = np.array([-0.0, 0.0, -np.inf, 4.0])
    power = ta.jit(lambda x: x**-0.5)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(power(torch.from_numpy(v)).numpy(), power(v))
    L = np.tril(np.ones((3, 3)))
    L[1, 1] = 0.0
    solve = ta.jit(lambda L, b: ta.scipy.linalg.solve_triangular(L, b, lower=True))
    with pytest.raises(ta.errors.LinAlgError):
        solve(torch.from_numpy(L), torch.ones(3, dtype=torch.float64))
    x = np.random.default_rng(7).standard_normal(1000).astype(np.float32)
    scaled = ta.jit(lambda x, c: x * c)
    np.testing.assert_array_equal(scaled(torch.from_numpy(x), 0.1).numpy(), scaled(x, 0.1))  # rounded once
    empty = ta.jit(lambda Z: (ta.logsumexp(Z, axis=1), ta.softmax(Z, axis=1)))
    for got, want in zip(empty(torch.zeros((3, 0), dtype=torch.float64)), empty(np.zeros((3, 0))), strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    with pytest.raises(OperandTypeError, match="bfloat16"):
        ta.jit(lambda x: x * 2.0)(torch.ones(2, dtype=torch.bfloat16))


def test_eager_transforms_on_torch_pass_other_arguments_as_they_are() -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("array_api_compat")
    x = np.array([1.0, 2.0])

    def f(x: Any, mode: str) -> Any:
        return ta.sum(x**2) if mode == "square" else ta.sum(x)

    np.testing.assert_array_equal(ta.grad(f)(torch.from_numpy(x), "square").numpy(), 2 * x)
    cube = ta.grad(lambda x, n: ta.sum(x ** float(n[0])))(torch.from_numpy(x), np.array([3.0]))
    np.testing.assert_allclose(cube.numpy(), 3 * x**2, rtol=1e-15)


def test_tracing_a_dask_argument_computes_nothing() -> None:
    pytest.importorskip("array_api_compat")
    dask = pytest.importorskip("dask")
    import dask.array as da

    def explode() -> np.ndarray:
        raise AssertionError("a chunk was computed")

    bomb = da.from_delayed(dask.delayed(explode)(), shape=(3,), dtype=np.float64)
    compiled = ta.jit(lambda x: ta.sum(ta.exp(x)))
    assert "exp(a0[i])" in str(compiled.trace(bomb))
    assert isinstance(compiled(bomb), da.Array)
    table = ta.axes(lambda x: ta.einsum("batch, batch k -> k", x, np.ones((3, 2))), bomb)
    assert table["batch"].size == 3
