"""Kept buffers (:mod:`tensorad.run.buffers`): a compiled plan computes its large
intermediates into arrays it kept from its last call, which must change no value.

The oracle is the same plan without kept buffers: the two run the same kernels on the
same operands, only the memory their results are written into differs. They agree to
rounding, not always bit for bit: numpy's ``matmul`` chooses between OpenBLAS (which fuses
multiply-adds) and its own loop by properties of the arrays at hand, so a product can
differ in its last bit between two calls of one plan, kept buffers or not (found here: a
2 × 2 matrix times a vector). Every intermediate is kept (``POOLED_BYTES`` patched to 0),
and results of earlier calls are held while later calls run, so a kept buffer that was
still read anywhere would show as a changed value, far beyond rounding.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from strategies import TENSORAD, DagProgram, dag_cases

import tensorad as ta
from tensorad.ir.build import contract
from tensorad.ir.nodes import Variable
from tensorad.run import buffers
from tensorad.run.kernels import _function_kernel
from tensorad.run.plan import Plan

Case = tuple[DagProgram, np.ndarray]
F64 = np.dtype(np.float64)
rng = np.random.default_rng(0)


@contextmanager
def keeping(every: bool) -> Iterator[None]:
    """Plans built inside keep every intermediate (``every``) or none. (Elementwise kernels
    are made, and cached, for kept buffers or not by their size: made afresh here.)"""
    _function_kernel.cache_clear()
    try:
        with mock.patch.object(buffers, "POOLED_BYTES", 0 if every else 1 << 62):
            yield
    finally:
        _function_kernel.cache_clear()


ROUNDING = 1e-10  # relative to the largest finite magnitude, as tests/test_compiled.py


def identical(got: Any, expected: Any) -> None:
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def agree(got: Any, expected: Any) -> None:
    """Same dtype and shape, nan and ±inf in the same places, the rest equal to rounding."""
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    finite = np.isfinite(expected)
    np.testing.assert_array_equal(got[~finite], expected[~finite])
    scale = max(1.0, float(np.max(np.abs(expected[finite]), initial=0.0)))
    np.testing.assert_allclose(got[finite], expected[finite], rtol=ROUNDING, atol=ROUNDING * scale)


def calls(fun: Any, xs: list[np.ndarray], every: bool) -> list[Any]:
    """``jit(fun)`` on each of ``xs`` in turn, every result held until the end."""
    with keeping(every):
        compiled = ta.jit(fun)
        return [compiled(x) for x in xs]


def inputs(x: np.ndarray) -> list[np.ndarray]:
    return [x, 0.5 * x, x + 0.25, x]  # the last repeats the first: the same values again


# ------------------------------------------------------------------ no value changes


@given(dag_cases("scalar"))
def test_kept_buffers_change_no_value_or_gradient(case: Case) -> None:
    dag, x = case
    f = ta.value_and_grad(dag.function(TENSORAD))
    for (value, grad), (v, g) in zip(calls(f, inputs(x), True), calls(f, inputs(x), False), strict=True):
        agree(value, v)
        agree(grad, g)


@given(dag_cases("array", max_ndim=2))
def test_kept_buffers_change_no_jacobian(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    for fun in (f, ta.jacrev(f), ta.jacfwd(f)):
        for got, expected in zip(calls(fun, inputs(x), True), calls(fun, inputs(x), False), strict=True):
            agree(got, expected)


def mlp(W1: Any, W2: Any, X: np.ndarray, Y: np.ndarray) -> Any:
    h = ta.tanh(X @ W1)
    return ta.sum((h @ W2 - Y) ** 2)


def test_an_mlp_gradient_at_full_size_is_unchanged_call_after_call() -> None:
    """Real sizes (64 KiB and up, so the default threshold applies), each kind of kernel
    that takes a buffer: products, sums, differences, tanh."""
    X, Y = rng.standard_normal((512, 64)), rng.standard_normal((512, 10))
    points = [(0.1 * rng.standard_normal((64, 128)), 0.1 * rng.standard_normal((128, 10))) for _ in range(3)]
    grad = ta.jit(ta.grad(mlp, argnums=(0, 1)))
    results = [grad(W1, W2, X, Y) for W1, W2 in points]
    results += [grad(W1, W2, X, Y) for W1, W2 in points]
    for k, (W1, W2) in enumerate(points):
        h = np.tanh(X @ W1)
        r = 2.0 * (h @ W2 - Y)
        expected = (X.T @ ((r @ W2.T) * (1.0 - h * h)), h.T @ r)  # the hand formula
        for got in (results[k], results[k + 3]):
            for g, e in zip(got, expected, strict=True):
                np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def test_a_compiled_plan_computes_into_the_buffers_it_kept() -> None:
    """The second call's intermediates are written into the first call's arrays: the pool
    holds the same arrays (by address) after both, and no result is among them."""
    W = rng.standard_normal((300, 200))
    f = ta.jit(lambda x: ta.sum(ta.tanh(x @ W) ** 2))
    x = rng.standard_normal((200, 300))
    first = f(x)
    kept = _kept_addresses()
    assert kept, "a 200 × 200 float64 intermediate (320 KB) is kept"
    second = f(2.0 * x)
    assert _kept_addresses() == kept
    np.testing.assert_allclose(first, np.sum(np.tanh(x @ W) ** 2), rtol=1e-12)
    np.testing.assert_allclose(second, np.sum(np.tanh(2.0 * x @ W) ** 2), rtol=1e-12)


def _kept() -> list[np.ndarray]:
    return [a for pool in buffers._POOLS for a in pool._free if a is not None]


def _kept_addresses() -> set[int]:
    return {a.ctypes.data for a in _kept()}


def test_outputs_are_never_kept_and_later_calls_leave_them_alone() -> None:
    W = rng.standard_normal((200, 200))
    with keeping(True):
        f = ta.jit(lambda x: (ta.tanh(x @ W), x @ W + 1.0))
    x = rng.standard_normal((200, 200))
    a, b = f(x)
    saved = a.copy(), b.copy()
    held = {id(arr) for arr in _kept()}
    assert id(a) not in held and id(b) not in held
    f(3.0 * x)
    identical(a, saved[0])
    identical(b, saved[1])


def test_the_loop_and_the_straight_line_code_keep_buffers_alike() -> None:
    """Plans too long for straight-line code run the same steps in a loop."""
    A, x = Variable("A", (3, 3)), Variable("x", (3, 3))
    product = contract(A, "ij", x, "jk", "ik")
    outputs = [contract(product + A, "ij", product, "ij", "")]
    values = [rng.standard_normal((3, 3)) for _ in range(2)]
    expected = np.sum((values[0] @ values[1] + values[0]) * (values[0] @ values[1]))
    with keeping(True):
        for straight in (False, True):
            plan = Plan(outputs, [A, x], straight=straight, keep_buffers=True)
            assert plan._pool is not None
            for _ in range(3):
                np.testing.assert_allclose(plan(values)[0], expected, rtol=1e-14)


def test_threads_calling_one_compiled_function_get_their_own_values() -> None:
    W = rng.standard_normal((256, 256))
    f = ta.jit(ta.grad(lambda x: ta.sum(ta.tanh(x @ W) ** 2)))
    xs = [rng.standard_normal((256, 256)) for _ in range(8)]
    expected = [f(x) for x in xs]
    got: dict[int, list[np.ndarray]] = {}

    def work(k: int) -> None:
        got[k] = [f(xs[k]) for _ in range(20)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(8):
        for value in got[k]:
            agree(value, expected[k])


# ------------------------------------------------------------------ the pool itself


def test_a_pool_hands_out_an_array_only_when_nothing_else_refers_to_it() -> None:
    pool = buffers.Pool([((128, 128), F64)])
    a = pool.take(0)
    address = a.ctypes.data
    pool.give(a, None, 0)
    other = a  # a second name
    del a
    assert pool.take(0).ctypes.data != address  # dropped: `other` still reads it
    pool.give(other, None, 0)
    view = other[1:]
    del other
    assert pool.take(0).ctypes.data != address  # dropped: a view still reads it
    del view
    fresh = pool.take(0)
    address = fresh.ctypes.data
    pool.give(fresh, None, 0)
    del fresh
    assert pool.take(0).ctypes.data == address


@pytest.mark.parametrize(
    "value",
    [
        np.ones((128, 128))[:, ::-1],  # a view
        np.asfortranarray(np.ones((128, 128))),  # not C-ordered
        np.ones((128, 128), dtype=np.float32),  # another dtype
        np.ones((64, 256)),  # another shape
        np.ma.ones((128, 128)),  # a subclass
    ],
)
def test_a_pool_keeps_only_arrays_of_its_routes_key_that_own_their_memory(value: np.ndarray) -> None:
    pool = buffers.Pool([((128, 128), F64)])
    pool.give(value, None, 0)
    assert pool._free[0] is None


def test_a_pool_keeps_no_read_only_array_nor_the_step_result_nor_a_second_array() -> None:
    pool = buffers.Pool([((4,), F64)])
    frozen = np.ones(4)
    frozen.flags.writeable = False
    pool.give(frozen, None, 0)
    result = np.ones(4)
    pool.give(result, result, 0)
    assert pool._free[0] is None
    first, second = np.ones(4), np.ones(4)
    pool.give(first, None, 0)
    pool.give(second, None, 0)
    assert pool._free[0] is first  # one array per route


def test_all_pools_together_keep_at_most_kept_bytes() -> None:
    """Many signatures of one compiled function (batch sizes, say) keep no more than the
    limit between them (a review measured 394 MiB kept by 128 signatures before it)."""
    W1, W2 = 0.05 * rng.standard_normal((256, 512)), 0.05 * rng.standard_normal((512, 10))
    g = ta.jit(ta.grad(lambda W1, W2, X: ta.sum(ta.tanh(X @ W1) @ W2), argnums=(0, 1)))
    buffers.release_all()
    with mock.patch.object(buffers, "KEPT_BYTES", 3 << 20):
        for batch in range(200, 216):
            g(W1, W2, rng.standard_normal((batch, 256)))
            assert sum(a.nbytes for a in _kept()) <= 3 << 20
            assert buffers._kept <= 3 << 20
    buffers.release_all()
    assert buffers._kept == 0 and not _kept()


def test_release_all_drops_every_kept_array() -> None:
    W = rng.standard_normal((200, 200))
    f = ta.jit(lambda x: ta.sum(ta.tanh(x @ W)))
    f(rng.standard_normal((200, 200)))
    assert _kept_addresses()
    buffers.release_all()
    assert not _kept_addresses()


def test_an_elementwise_kernel_casts_as_before_when_its_operand_has_another_dtype() -> None:
    """A float32 operand of a float64 node (a weak cast) is computed as before, not into
    the float64 buffer."""
    from tensorad.library.registry import ELEMENTWISE

    with keeping(True):
        call = _function_kernel("exp", ELEMENTWISE["exp"].impl, (None, None), (3,), F64)
    a = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    out = np.full(3, np.nan)
    got = call(a, out=out)
    identical(got, np.exp(a).astype(np.float64))
    assert np.isnan(out).all()
    identical(call(a.astype(np.float64), out=out), np.exp(a.astype(np.float64)))
    assert np.shares_memory(call(a.astype(np.float64), out=out), out)


# ------------------------------------------------------------------ memory (found by a review)


def _steady_peaks(make: Any, args: tuple[np.ndarray, ...], every: bool | None) -> int:
    """The largest traced peak of three calls of ``jit(make())`` after its first, with the
    kept arrays counted (allocated while tracing); ``every=None`` keeps the default sizes."""
    with (
        mock.patch.object(buffers, "POOLED_BYTES", 1 << 62)
        if every is False
        else keeping(True)
        if every
        else _nothing()
    ):
        compiled = ta.jit(make())
        compiled(*args)
    buffers.release_all()
    gc.collect()
    tracemalloc.start()
    try:
        peaks = []
        for _ in range(4):
            tracemalloc.reset_peak()
            compiled(*args)
            peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    return max(peaks)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _layers() -> Any:
    """Four tanh layers sharing one weight: arrays die and are born in an order where a kept
    array, taken last-in first-out, would wait through the peak."""

    def deep(W: Any, X: Any) -> Any:
        h = X
        for _ in range(4):
            h = ta.tanh(h @ W)
        return ta.sum(h**2)

    return ta.grad(deep)


def _phases() -> Any:
    """A first phase of 2 MiB arrays (the peak) and a second of 4 MiB ones: kept from the
    end of one call into the next, the second phase's arrays would meet the first's."""
    A, B = rng.standard_normal((256, 256)), rng.standard_normal((512, 512))

    def f(x: Any, y: Any) -> Any:
        a = ta.tanh(x @ A)
        s = ta.sum(a * ta.exp(a))
        u = ta.tanh(y @ B)
        return s + ta.sum(ta.exp(u))

    return lambda: f


def _through_views() -> Any:
    """A VJP whose deferred terms are views of arrays that die where the views are made:
    those live until the views die (a review found kept arrays held across them)."""
    V, W = 0.1 * rng.standard_normal((256, 256)), 0.1 * rng.standard_normal((256, 256))

    def net(X: Any) -> Any:
        return ta.tanh(ta.tanh(X @ V) @ W)

    return lambda X, T: ta.vjp(net, X)[1](T)


@pytest.mark.parametrize(
    ("make", "args"),
    [
        (_layers, (0.03 * rng.standard_normal((724, 724)), rng.standard_normal((256, 724)))),
        (_phases(), (rng.standard_normal((1024, 256)), rng.standard_normal((1000, 512)))),
        (_through_views, (rng.standard_normal((256, 256)), rng.standard_normal((256, 256)))),
        (lambda: lambda x: ta.tanh(x @ x).T, (rng.standard_normal((256, 256)),)),
    ],
    ids=["layers", "phases", "vjp-through-views", "transposed-result"],
)
def test_kept_buffers_do_not_raise_a_calls_peak(make: Any, args: tuple[np.ndarray, ...]) -> None:
    """Counting the kept arrays, a call's peak stays the plan's peak without them (the
    designs before measured +12%, +51%, +32% and +50%: a result copied for the caller
    after the last step met an array kept for the next call)."""
    plain = _steady_peaks(make, args, every=False)
    kept = _steady_peaks(make, args, every=None)
    assert kept <= plain + (64 << 10)


def test_a_deferred_diagonal_term_takes_no_buffer() -> None:
    """A product ``x_i y_i`` embedded on a diagonal and added to ``M`` is never formed: its
    step computes the diagonal only (a review found it handed a buffer of the sum's shape)."""
    from tensorad.ir.build import add
    from tensorad.ir.nodes import Contraction

    n = 50
    X, Y, M = Variable("x", (n,)), Variable("y", (n,)), Variable("M", (n, n))
    x, y, m = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((n, n))
    for scale in (1.0, 3.0):
        total = add(Contraction(X, Y, "i", "i", "ii", scale, (n, n), F64), M)
        with keeping(True):
            plan = Plan([total], [X, Y, M], straight=True, keep_buffers=True)
        for _ in range(2):
            np.testing.assert_allclose(plan([x, y, m])[0], np.diag(scale * x * y) + m, rtol=1e-14)
