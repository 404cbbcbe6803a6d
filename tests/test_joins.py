"""Joining, splitting and repeating: numpy's values, check_grads at order 2, memory.

numpy itself is the oracle for every value; derivatives are checked against central
differences (check_grads, both modes, float64 and float32) and, for the linear maps,
against the adjoint identity ⟨u, J v⟩ = ⟨Jᵀu, v⟩ with J applied by numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from oracles import peak_bytes

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import ShapeError
from tensorad.testing import check_grads

RNG = np.random.default_rng(7)
A = RNG.standard_normal((2, 3))
B = RNG.standard_normal((4, 3))

CASES: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "concatenate": (lambda a, b: np.concatenate([a, b, a]), (A, B)),
    "concatenate axis=1": (lambda a, b: np.concatenate([a, b[:2]], axis=1), (A, B)),
    "concatenate axis=None": (lambda a, b: np.concatenate([a, b], axis=None), (A, B)),
    "stack": (lambda a, b: np.stack([a, b[1:3]], axis=1), (A, B)),
    "hstack": (lambda a, b: np.hstack([a, b[:2]]), (A, B)),
    "vstack": (lambda a, b: np.vstack([a[0], b]), (A, B)),
    "split": (lambda a, b: np.split(b, [1, 3])[1], (A, B)),
    "split sections": (lambda a, b: np.split(b, 2, axis=0)[1], (A, B)),
    "tile": (lambda a, b: np.tile(a, (2, 1, 2)), (A, B)),
    "repeat": (lambda a, b: np.repeat(a, 2, axis=1), (A, B)),
    "repeat counts": (lambda a, b: np.repeat(a, [2, 0, 1], axis=1), (A, B)),
    "repeat flat": (lambda a, b: np.repeat(a, 3), (A, B)),
    "roll": (lambda a, b: np.roll(b, 1, axis=0), (A, B)),
    "roll two axes": (lambda a, b: np.roll(b, (-1, 2), axis=(0, 1)), (A, B)),
    "roll flat": (lambda a, b: np.roll(a, 4), (A, B)),
    "diag of vector": (lambda a, b: np.diag(a[0], 1), (A, B)),
    "diag of vector below": (lambda a, b: np.diag(a[1], -2), (A, B)),
    "diag of matrix": (lambda a, b: np.diag(b, -1), (A, B)),
    "tril": (lambda a, b: np.tril(b), (A, B)),
    "triu": (lambda a, b: np.triu(b, 1), (A, B)),
    "broadcast_to": (lambda a, b: np.broadcast_to(a[0], (2, 2, 3)), (A, B)),
    "atleast_3d": (lambda a, b: np.atleast_3d(a), (A, B)),
    "atleast_2d": (lambda a, b: np.atleast_2d(a[0]), (A, B)),
    "atleast_1d": (lambda a, b: np.atleast_1d(a[0, 0]), (A, B)),
    "swapaxes": (lambda a, b: np.swapaxes(np.stack([a, a]), 0, 2), (A, B)),
    "flip": (lambda a, b: np.flip(b, 0)[::2], (A, B)),
}


@pytest.mark.parametrize("name", CASES)
def test_values_match_numpy(name: str) -> None:
    fn, args = CASES[name]
    np.testing.assert_array_equal(ta.jit(fn)(*args), fn(*args))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", CASES)
def test_check_grads(name: str, dtype: Any) -> None:
    fn, args = CASES[name]
    check_grads(ta.jit(lambda a, b: ta.sin(fn(a, b) * fn(a, b))), tuple(x.astype(dtype) for x in args), order=2)


@pytest.mark.parametrize("name", CASES)
def test_adjoint_identity_against_numpy(name: str) -> None:
    """Each case is linear in its inputs: ⟨u, f(v)⟩ (f applied by numpy) = ⟨vjp(u), v⟩."""
    fn, args = CASES[name]
    v = tuple(RNG.standard_normal(x.shape) for x in args)
    out = fn(*v)
    u = RNG.standard_normal(np.shape(out))
    _, pull = ta.vjp(ta.jit(fn), *args)
    bars = pull(u)
    np.testing.assert_allclose(np.sum(u * out), sum(np.sum(b * x) for b, x in zip(bars, v, strict=True)), rtol=1e-12)


def test_concatenate_refuses_mismatched_shapes() -> None:
    with pytest.raises(ShapeError, match="operand 1 has shape"):
        tnp.concatenate([ta.Variable("a", (2, 3)), ta.Variable("b", (2, 4))])
    with pytest.raises(ShapeError, match="zero-dimensional"):
        tnp.concatenate([ta.Variable("a", ()), ta.Variable("b", ())])
    with pytest.raises(ShapeError, match="same shape"):
        tnp.stack([ta.Variable("a", (2,)), ta.Variable("b", (3,))])
    with pytest.raises(ShapeError, match="equal division"):
        tnp.split(ta.Variable("a", (5,)), 2)


def test_concatenation_is_formed_once() -> None:
    """Ten arrays of 10⁶ entries: the value and its VJP stay within 3× their bytes (a
    concatenation built by repeated copying, or as a sum of pads, would not)."""
    pieces = [RNG.standard_normal(1_000_000) for _ in range(10)]
    weights = RNG.standard_normal(10_000_000)
    total_bytes = sum(p.nbytes for p in pieces)

    def loss(*xs: Any) -> Any:
        return tnp.sum(tnp.concatenate(xs) * weights)

    grads, peak = peak_bytes(lambda: ta.grad(loss, argnums=tuple(range(10)))(*pieces))
    assert peak <= 3 * total_bytes, f"peak {peak / 2**20:.1f} MiB for {total_bytes / 2**20:.1f} MiB of inputs"
    np.testing.assert_array_equal(np.concatenate(grads), weights)
    value, peak = peak_bytes(lambda: ta.jit(lambda *xs: tnp.concatenate(xs))(*pieces))
    assert peak <= 3 * total_bytes
    np.testing.assert_array_equal(value, np.concatenate(pieces))
