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

import threading
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
from tensorad.run.plan import Plan

Case = tuple[DagProgram, np.ndarray]
F64 = np.dtype(np.float64)
rng = np.random.default_rng(0)


@contextmanager
def keeping(every: bool) -> Iterator[None]:
    """Plans built inside keep every intermediate (``every``) or none."""
    with mock.patch.object(buffers, "POOLED_BYTES", 0 if every else 1 << 62):
        yield


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
    x = rng.standard_normal((100, 300))
    first = f(x)
    kept = _kept_addresses()
    assert kept, "a 100 × 200 float64 intermediate (160 KB) is kept"
    second = f(2.0 * x)
    assert _kept_addresses() == kept
    np.testing.assert_allclose(first, np.sum(np.tanh(x @ W) ** 2), rtol=1e-12)
    np.testing.assert_allclose(second, np.sum(np.tanh(2.0 * x @ W) ** 2), rtol=1e-12)


def _kept_addresses() -> set[int]:
    return {a.ctypes.data for pool in buffers._POOLS for free in pool._free.values() for a in free}


def test_outputs_are_never_kept_and_later_calls_leave_them_alone() -> None:
    W = rng.standard_normal((200, 200))
    with keeping(True):
        f = ta.jit(lambda x: (ta.tanh(x @ W), x @ W + 1.0))
    x = rng.standard_normal((200, 200))
    a, b = f(x)
    saved = a.copy(), b.copy()
    held = {id(arr) for pool in buffers._POOLS for free in pool._free.values() for arr in free}
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
    W = rng.standard_normal((128, 128))
    f = ta.jit(ta.grad(lambda x: ta.sum(ta.tanh(x @ W) ** 2)))
    xs = [rng.standard_normal((128, 128)) for _ in range(8)]
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
    key = ((128, 128), F64)
    pool = buffers.Pool({key: 2})
    a = pool.take(key)
    address = a.ctypes.data
    pool.give(a)
    other = a  # a second name
    del a
    assert pool.take(key).ctypes.data != address  # dropped: `other` still reads it
    pool.give(other)
    view = other[1:]
    del other
    assert pool.take(key).ctypes.data != address  # dropped: a view still reads it
    del view
    fresh = pool.take(key)
    address = fresh.ctypes.data
    pool.give(fresh)
    del fresh
    assert pool.take(key).ctypes.data == address


@pytest.mark.parametrize(
    "value",
    [
        np.ones((128, 128))[:, ::-1],  # a view
        np.asfortranarray(np.ones((128, 128))),  # not C-ordered
        np.ones((128, 128), dtype=np.float32),  # another key
        np.ones((64, 256)),  # another shape
        np.ma.ones((128, 128)),  # a subclass
    ],
)
def test_a_pool_keeps_only_arrays_of_its_keys_that_own_their_memory(value: np.ndarray) -> None:
    pool = buffers.Pool({((128, 128), F64): 1})
    pool.give(value)
    assert not pool._free[((128, 128), F64)]


def test_a_pool_keeps_no_read_only_array_nor_the_step_result() -> None:
    pool = buffers.Pool({((4,), F64): 2})
    frozen = np.ones(4)
    frozen.flags.writeable = False
    pool.give(frozen)
    result = np.ones(4)
    pool.give(result, result)
    assert not pool._free[((4,), F64)]


def test_a_pool_keeps_at_most_its_capacity_and_its_byte_limit() -> None:
    key = ((4,), F64)
    pool = buffers.Pool({key: 2})
    for _ in range(5):
        pool.give(np.ones(4))
    assert len(pool._free[key]) == 2
    with mock.patch.object(buffers, "POOL_BYTES", 40):
        small = buffers.Pool({key: 5})
        for _ in range(5):
            small.give(np.ones(4))
        assert len(small._free[key]) == 1  # 32 bytes kept, a second would pass 40
    huge = ((buffers.LARGEST_POOLED // 8 + 1,), F64)
    assert huge not in buffers.Pool({huge: 1})._capacity
    pool.release()
    assert not pool._free[key]


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
    from tensorad.run.kernels import _function_kernel

    call = _function_kernel("exp", ELEMENTWISE["exp"].impl, (None, None), (3,), F64)
    a = np.array([0.5, 1.0, 2.0], dtype=np.float32)
    out = np.full(3, np.nan)
    got = call(a, out=out)
    identical(got, np.exp(a).astype(np.float64))
    assert np.isnan(out).all()
    identical(call(a.astype(np.float64), out=out), np.exp(a.astype(np.float64)))
    assert np.shares_memory(call(a.astype(np.float64), out=out), out)
