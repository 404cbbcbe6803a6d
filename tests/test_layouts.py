"""Operands transposed once (tensorad.run.layouts): a small matrix that several products of a
plan read transposed is copied once, C-ordered, and every product reads the copy; the values
are numpy's to BLAS's rounding, no input is modified, and large matrices, single readers and
plans on scipy's BLAS are left as they are."""

from __future__ import annotations

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.ir.build import contract
from tensorad.ir.nodes import Variable
from tensorad.run.layouts import transposed_copy
from tensorad.run.plan import Plan


def _copies(plan: Plan) -> int:
    return sum(fn is transposed_copy for fn, *_ in plan._steps)


def _chain(n: int, steps: int, scale: float = 1.0) -> tuple[list[Variable], object]:
    """``h ← tanh(scale · h Wᵀ)`` ``steps`` times: ``W`` read transposed at every step."""
    W, h0 = Variable("W", (n, n)), Variable("h", (8, n))
    h: object = h0
    for _ in range(steps):
        h = ta.tanh(contract(h, "bi", W, "ji", "bj", scale=scale))
    return [W, h0], h


@pytest.mark.parametrize("scale", [1.0, -1.0, 0.5])
def test_a_matrix_read_transposed_by_several_products_is_copied_once(scale: float) -> None:
    (W, h0), h = _chain(16, 5, scale)
    plan = Plan([h], [W, h0])
    assert _copies(plan) == 1
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((16, 16)) / 4, rng.standard_normal((8, 16))
    given = [w.copy(), x.copy()]
    (got,) = plan(given)
    expected = x
    for _ in range(5):
        expected = np.tanh(scale * (expected @ w.T))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(given[0], w)  # the copy is new memory: W is untouched
    np.testing.assert_array_equal(given[1], x)


def test_large_matrices_single_readers_and_scipy_plans_read_the_operand_as_it_lies() -> None:
    (W, h0), h = _chain(200, 3)  # 40,000 entries: past SMALL, where BLAS's layouts cost the same
    assert _copies(Plan([h], [W, h0])) == 0
    (W, h0), h = _chain(16, 1)
    assert _copies(Plan([h], [W, h0])) == 0
    (W, h0), h = _chain(16, 3)
    L = Variable("L", (16, 16))
    on_scipy = Plan([h, tnp.linalg.cholesky(L)], [W, h0, L])  # a plan with LAPACK runs on scipy's BLAS
    assert _copies(on_scipy) == 0


def test_a_recurrent_gradient_with_the_copy_agrees_with_finite_differences() -> None:
    rng = np.random.default_rng(1)
    xs, W = rng.standard_normal((6, 4, 10)), rng.standard_normal((10, 10)) / 3

    def loss(W: object, xs: np.ndarray) -> object:
        h = ta.tanh(xs[0])
        for t in range(1, xs.shape[0]):
            h = ta.tanh(h @ W.T + xs[t])
        return ta.sum(h * h)

    grad = ta.jit(ta.grad(loss))(W, xs)
    V = rng.standard_normal(W.shape)
    eps = 1e-6
    numeric = (float(loss(W + eps * V, xs)) - float(loss(W - eps * V, xs))) / (2 * eps)
    assert float(np.vdot(grad, V)) == pytest.approx(numeric, rel=1e-7, abs=1e-9)
    np.testing.assert_allclose(grad, ta.grad(loss)(W, xs), rtol=1e-12, atol=1e-14)


def test_a_product_of_a_matrix_with_its_own_transpose_stays_exactly_symmetric() -> None:
    """``A Aᵀ`` and ``Aᵀ A`` beside another product reading ``Aᵀ``: numpy computes a product
    of one buffer with its transpose as a symmetric rank-k update, exactly symmetric; read
    from a copy it would be a general product (a review found ``G ≠ Gᵀ`` at n = 20)."""
    a = np.random.default_rng(1).standard_normal((20, 20))
    G, _ = ta.jit(lambda A, B: (A @ A.T, B @ A.T))(a, np.ones((16, 20)))
    H, _ = ta.jit(lambda A, B: (A.T @ A, A.T @ B))(a, np.ones((20, 16)))
    assert np.array_equal(G, G.T) and np.array_equal(H, H.T)


def test_matrix_vector_products_and_larger_matrices_read_the_operand_as_it_lies() -> None:
    """A review measured the copy costing more than it saves for one row of ``h`` (a
    matrix-vector product) and for 128 × 128 matrices (15 µs for the copy)."""
    W, h0 = Variable("W", (16, 16)), Variable("h", (1, 16))
    h: object = h0
    for _ in range(4):
        h = ta.tanh(contract(h, "bi", W, "ji", "bj"))
    assert _copies(Plan([h], [W, h0])) == 0
    (W, h0), h = _chain(128, 4)
    assert _copies(Plan([h], [W, h0])) == 0
