"""Blocked sums (tensorad.run.blocks): ``C = Σ_k W[k]ᵀ B[k]`` accumulated block by block
equals numpy's einsum of the whole product, for every layout it takes, and holds one
block of ``W`` instead of all of it."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import tensorad as ta
from tensorad.ir.build import contract
from tensorad.ir.graph import toposort, use_counts
from tensorad.ir.nodes import Contraction, Variable
from tensorad.run import blocks
from tensorad.run.plan import Plan


def _blocked(c: Contraction) -> dict[Contraction, Contraction]:
    order = toposort([c])
    return blocks.blocked_sums(order, lambda: use_counts(order, [c]))


ROWS = 1000  # W = 1000 × 96: past DEFERRED_SIZE, many blocks, a short last one


def _case(dtype: type, w_first: bool, w_then_other: bool, x_has_k: bool = True) -> None:
    rng = np.random.default_rng(3)
    x = Variable("x", (ROWS, 8, 12) if x_has_k else (8, 12), dtype)
    v = Variable("v", (ROWS, 12), dtype)
    b = Variable("b", (ROWS, 5), dtype)
    s_x = "kpq" if x_has_k else "pq"
    w = contract(x, s_x, v, "kq", "kpq", scale=0.5)  # W[k,p,q] = ½ x ⊙ v, broadcasting
    out = "pqr" if w_then_other else "rpq"
    c = contract(w, "kpq", b, "kr", out, scale=-3.0) if w_first else contract(b, "kr", w, "kpq", out, scale=-3.0)
    assert isinstance(c, Contraction) and c.dtype == np.dtype(dtype)
    assert _blocked(c) == {c: w}

    def sample(shape: tuple[int, ...]) -> np.ndarray:
        values = rng.standard_normal(shape)
        if np.dtype(dtype).kind == "c":
            values = values + 1j * rng.standard_normal(shape)
        return values.astype(dtype)

    values = [sample(x.shape), sample(v.shape), sample(b.shape)]
    (got,) = Plan([c], [x, v, b])(values)
    w_value = 0.5 * np.einsum(f"{s_x},kq->kpq", values[0], values[1])
    expected = -3.0 * np.einsum(f"kpq,kr->{out}", w_value, values[2])
    rtol = 1e-12 if dtype in (np.float64, np.complex128) else 1e-4
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.max(np.abs(expected)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.complex64])
@pytest.mark.parametrize("w_first", [True, False])
@pytest.mark.parametrize("w_then_other", [True, False])
def test_a_blocked_sum_equals_the_whole_product(dtype: type, w_first: bool, w_then_other: bool) -> None:
    _case(dtype, w_first, w_then_other)


def test_an_operand_of_w_without_the_summed_label_is_broadcast_along_the_blocks() -> None:
    _case(np.float64, True, True, x_has_k=False)


def test_products_that_are_not_a_sum_over_the_first_axis_of_both_are_left_whole() -> None:
    x, v = Variable("x", (ROWS, 96)), Variable("v", (ROWS, 96))
    w = contract(x, "kp", v, "kp", "kp")
    cases = (  # k not B's first axis; k kept in the output (twice); a label of both kept
        (Variable("b", (96, ROWS)), "pk", "p"),
        (Variable("b", (ROWS, 96)), "kp", "kp"),
        (Variable("b", (ROWS, 5)), "kr", "rk"),
        (Variable("b", (ROWS, 96)), "kp", "p"),
    )
    for b, labels, out in cases:
        c = contract(w, "kp", b, labels, out)
        assert _blocked(c) == {}, (labels, out)
    used_twice = contract(w, "kp", Variable("b", (ROWS, 5)), "kr", "pr")
    both = contract(used_twice, "pr", w, "kp", "kr")
    assert _blocked(both) == {}


def test_the_logistic_hessian_holds_one_block_not_the_scaled_data() -> None:
    """``Xᵀ diag(s) X`` over 4000 rows: the value is numpy's, and the peak of the compiled
    Hessian stays under 3.5× the Hessian's bytes — the Hessian, a buffer of its size for a
    block's product, and one block of rows (formed whole, ``s ⊙ X`` alone is 10×)."""
    rng = np.random.default_rng(0)
    m, d = 4000, 400
    X = rng.standard_normal((m, d))
    y = (rng.random(m) > 0.5).astype(float)
    w = rng.standard_normal(d) / 20

    def loss(w: np.ndarray) -> ta.Tensor:
        z = X @ w
        return ta.mean(ta.softplus(z) - y * z)

    hessian = ta.jit(ta.hessian(loss))
    H = hessian(w)
    s = 1.0 / (1.0 + np.exp(-(X @ w)))
    np.testing.assert_allclose(H, X.T @ (X * (s * (1 - s))[:, None]) / m, rtol=1e-10, atol=1e-14)
    tracemalloc.start()
    try:
        H = hessian(w)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3.5 * H.nbytes, f"peak {peak / H.nbytes:.2f}× the Hessian"


def test_an_inexact_scale_of_w_applies_to_its_product_not_to_an_operand() -> None:
    """``W = 1e200·(x ⊙ v)`` with ``x = 1e−200``, ``v = 1e200``: ``W = 1e200``, finite, as
    the product's own kernel computes it; ``x ⊙ (1e200·v)`` would be inf (a review found
    the scale moved onto the smaller operand whatever it was)."""
    x, v, b = Variable("x", (ROWS, 8, 12)), Variable("v", (ROWS, 12)), Variable("b", (ROWS, 5))
    w = contract(x, "kpq", v, "kq", "kpq", scale=1e200)
    c = contract(w, "kpq", b, "kr", "pqr")
    assert isinstance(c, Contraction) and _blocked(c) == {c: w}
    values = [np.full(x.shape, 1e-200), np.full(v.shape, 1e200), np.full(b.shape, 1e-300)]
    (got,) = Plan([c], [x, v, b])(values)
    np.testing.assert_allclose(got, np.full((8, 12, 5), ROWS * 1e-100), rtol=1e-12)
