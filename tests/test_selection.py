"""Gather and scatter: fancy and boolean indexing, take, take_along_axis, one_hot, x.at[…].

Values are checked against numpy's own indexing; gradients against ``np.add.at`` (an
independent scatter) and by ``check_grads`` at order 2 in both modes and both float
dtypes; memory against the size of the gathered-from array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from oracles import peak_bytes

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import OperandTypeError, OutOfBoundsError, ShapeError, UnsupportedError
from tensorad.testing import check_grads

X = np.arange(24.0).reshape(2, 3, 4) / 7 - 1.5

INDEXES: dict[str, Any] = {
    "rows": np.array([1, 0, 1]),
    "column list": (slice(None), [2, 0, 2]),
    "two arrays": (np.array([0, 1, 1]), np.array([2, 0, 2])),
    "arrays apart": (np.array([0, 1]), slice(1, 3), np.array([3, 0])),
    "ellipsis": (Ellipsis, np.array([3, -1, 3])),
    "newaxis and int": (None, np.array([1]), slice(None), 0),
    "mask": X > 0,
    "mask on two axes": (slice(None), X[0] > -1),
    "int and list": (1, [0, 2]),
    "2-d index": (slice(None), np.array([[0, 1], [2, 2]]), None),
    "empty": ([],),
    "0-d array": (np.array(1),),
    "negative 2-d": np.array([[-1, -2], [0, -1]]),
}


@pytest.mark.parametrize("index", INDEXES.values(), ids=INDEXES.keys())
def test_fancy_indexing_matches_numpy_and_its_gradient_is_a_scatter(index: Any) -> None:
    np.testing.assert_array_equal(ta.jit(lambda v: v[index])(X), X[index])
    weights = np.cos(np.arange(X[index].size)).reshape(X[index].shape)
    grad = ta.grad(lambda v: tnp.sum(v[index] ** 2 * weights))(X)
    expected = np.zeros_like(X)
    np.add.at(expected, index, 2 * X[index] * weights)  # numpy's unbuffered scatter
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index", INDEXES.values(), ids=INDEXES.keys())
def test_fancy_indexing_check_grads(index: Any, dtype: Any) -> None:
    check_grads(ta.jit(lambda v: ta.sin(v[index] * v[index])), (X.astype(dtype),), order=2)


def _at_cases() -> dict[str, tuple[Any, Callable[..., Any]]]:
    """``x.at[index].op(v)`` and numpy's in-place equivalent (on a copy)."""

    def numpy_set(x: Any, index: Any, v: Any) -> Any:
        x[index] = v

    return {"add": (np.add.at, lambda x, i, v: x.at[i].add(v)),
            "multiply": (np.multiply.at, lambda x, i, v: x.at[i].multiply(v)),
            "set": (numpy_set, lambda x, i, v: x.at[i].set(v))}  # fmt: skip


AT_INDEXES = {
    "repeated rows": np.array([1, 1, 0, 1]),
    "repeated pairs": (np.array([0, 1, 0]), slice(None), np.array([2, 0, 2])),
    "mask": X > 0.2,
    "slice": (slice(None), slice(1, 3)),
    "int": (1, 2, 3),
}


@pytest.mark.parametrize("op", ["add", "multiply", "set"])
@pytest.mark.parametrize("index", AT_INDEXES.values(), ids=AT_INDEXES.keys())
def test_at_updates_match_numpy_in_place(op: str, index: Any) -> None:
    numpy_op, ours = _at_cases()[op]
    v = np.sin(np.arange(X[index].size) + 1.0).reshape(X[index].shape)
    expected = X.copy()
    numpy_op(expected, index, v)
    np.testing.assert_allclose(ta.jit(lambda x, v: ours(x, index, v))(X, v), expected, rtol=1e-15)
    expected = X.copy()
    numpy_op(expected, index, 2.5)
    np.testing.assert_allclose(ta.jit(lambda x: ours(x, index, 2.5))(X), expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", ["add", "multiply", "set"])
@pytest.mark.parametrize("index", AT_INDEXES.values(), ids=AT_INDEXES.keys())
def test_at_updates_check_grads(op: str, index: Any, dtype: Any) -> None:
    _, ours = _at_cases()[op]
    v = np.sin(np.arange(X[index].size) + 1.0).reshape(X[index].shape)
    check_grads(ta.jit(lambda x, v: ta.sin(ours(x, index, v)) * x), (X.astype(dtype), v.astype(dtype)), order=2)


def test_at_set_passes_no_derivative_to_overwritten_entries() -> None:
    """``x.at[0].set(v)``: ∂/∂x₀ = 0 and ∂/∂v = 1 (the last of repeated indices wins)."""
    gx, gv = ta.grad(lambda x, v: x.at[np.array([0, 0])].set(v).sum(), argnums=(0, 1))(np.ones(3), np.ones(2))
    np.testing.assert_array_equal(gx, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(gv, [0.0, 1.0])


def test_take_and_take_along_axis_match_numpy() -> None:
    idx = np.array([[2, 0], [1, 2]])
    for axis in (None, 1, 2, -1):
        for mode in ("raise", "wrap", "clip"):
            chosen = idx if mode == "raise" else idx * 3 - 2
            np.testing.assert_array_equal(tnp.take(X, chosen, axis=axis, mode=mode),
                                          np.take(X, chosen, axis=axis, mode=mode))  # fmt: skip
    along = np.argsort(X, axis=1)[:, :2]
    np.testing.assert_array_equal(tnp.take_along_axis(X, along, axis=1), np.take_along_axis(X, along, axis=1))
    flat = np.array([5, 0, 23])
    np.testing.assert_array_equal(tnp.take_along_axis(X, flat, axis=None), np.take_along_axis(X, flat, axis=None))
    np.testing.assert_array_equal(ta.jit(lambda v: np.take(v, idx, axis=2))(X), np.take(X, idx, axis=2))
    check_grads(ta.jit(lambda v: ta.exp(np.take_along_axis(v, along, axis=1))), (X,), order=2)
    check_grads(ta.jit(lambda v: ta.exp(tnp.take(v, idx, axis=1))), (X.astype(np.float32),), order=2)


def test_one_hot_matches_jax_semantics() -> None:
    labels = np.array([2, 0, -1, 3])
    expected = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0], [0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(ta.nn.one_hot(labels, 3), expected)
    np.testing.assert_array_equal(ta.nn.one_hot(labels, 3, axis=0), expected.T)
    assert ta.nn.one_hot(labels, 3, dtype=np.float32).dtype == np.float32
    traced = ta.jit(lambda y: ta.nn.one_hot(y, 3))(labels.astype(float))
    np.testing.assert_array_equal(traced, expected)


def test_bad_indices_are_refused_clearly() -> None:
    x = ta.Variable("x", (3, 2))
    with pytest.raises(OutOfBoundsError, match="index 3 is out of bounds for axis 0 with size 3"):
        x[np.array([0, 3])]
    with pytest.raises(OutOfBoundsError):
        x[np.array([0, 1]), np.array([0, 2])]
    with pytest.raises(OperandTypeError, match="integers or booleans"):
        x[np.array([0.0, 1.0])]
    with pytest.raises(UnsupportedError, match="traced array"):
        x[ta.Variable("i", (2,))]
    with pytest.raises(ShapeError, match="do not broadcast"):
        x.at[np.array([0, 1])].set(np.ones(3))
    with pytest.raises(OutOfBoundsError):
        tnp.take(np.ones(3), [5])
    with pytest.raises(ShapeError, match="axes"):
        tnp.take_along_axis(np.ones((2, 2)), np.array([0]), axis=0)


def test_embedding_pullback_is_a_scatter_not_a_one_hot() -> None:
    """The VJP of ``E[idx]`` (E: 50,000 × 64, 4,096 indices) peaks near E's size; a
    one-hot or selection matrix would be 50,000 × 4,096 (1.6 GB)."""
    rng = np.random.default_rng(0)
    E = rng.standard_normal((50_000, 64))
    idx = rng.integers(0, 50_000, 4096)
    weights = rng.standard_normal((4096, 64))
    grad, peak = peak_bytes(lambda: ta.grad(lambda E: tnp.sum(E[idx] * weights))(E))
    assert peak <= 3 * E.nbytes, f"peak {peak / 2**20:.1f} MiB for E of {E.nbytes / 2**20:.1f} MiB"
    expected = np.zeros_like(E)
    np.add.at(expected, idx, weights)
    np.testing.assert_array_equal(grad, expected)
