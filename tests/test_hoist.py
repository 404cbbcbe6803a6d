"""Hoisting windows out of products (tensorad.symbolic.hoist): products of many windows of
one tensor with one operand become windows of one product — equal values, fewer products —
and nothing else is rewritten."""

from __future__ import annotations

import numpy as np

import tensorad as ta
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Contraction, Node
from tensorad.run.evaluate import evaluate
from tensorad.symbolic.hoist import hoist_crops

RNG = np.random.default_rng(5)
XS, U = RNG.standard_normal((6, 3, 4)), RNG.standard_normal((5, 4))


def _products(outputs: list[Node]) -> list[tuple[int, ...]]:
    return sorted(n.shape for n in toposort(outputs) if isinstance(n, Contraction) and n.b is not None)


def _same_values(before: list[Node], after: list[Node], env: dict) -> None:
    for a, b in zip(evaluate(before, env), evaluate(after, env), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)


def test_a_product_per_row_becomes_one_product_and_views() -> None:
    xs, u = ta.Variable("xs", XS.shape), ta.Variable("U", U.shape)
    rows = [xs[t] @ u.T for t in range(6)]  # the window xs[t] is summed away (an index)
    hoisted = hoist_crops(rows)
    assert _products(rows) == [(3, 5)] * 6 and _products(hoisted) == [(6, 3, 5)]
    _same_values(rows, hoisted, {xs: XS, u: U})
    columns = [u @ xs[t].T for t in range(6)]  # the window as the second operand
    assert _products(hoist_crops(columns)) == [(6, 5, 3)]
    _same_values(columns, hoist_crops(columns), {xs: XS, u: U})


def test_kept_windows_of_several_rows_are_hoisted_too() -> None:
    x, b = ta.Variable("x", (8, 4)), ta.Variable("b", (4, 2))
    blocks = [x[0:4] @ b, x[4:8] @ b, 3.0 * (x[2:6] @ b)]  # the label survives; one is scaled
    hoisted = hoist_crops(blocks)
    assert _products(hoisted) == [(8, 2)]
    _same_values(blocks, hoisted, {x: RNG.standard_normal((8, 4)), b: RNG.standard_normal((4, 2))})


def test_what_is_not_hoisted() -> None:
    xs, u = ta.Variable("xs", XS.shape), ta.Variable("U", U.shape)
    v = ta.Variable("V", U.shape)
    cases = [
        [xs[0] @ u.T],  # one window
        [xs[0] @ u.T, xs[1] @ u.T],  # two of six rows: less than half of xs
        [xs[0] @ u.T, xs[1] @ u.T, xs[2] @ v.T],  # another operand: no group of two covering half
        [ta.sum(xs[0:2], axis=0) @ u.T, ta.sum(xs[2:4], axis=0) @ u.T, ta.sum(xs[4:6], axis=0) @ u.T],
    ]
    for outputs in cases:
        assert all(a is b for a, b in zip(hoist_crops(outputs), outputs, strict=True)), outputs
    x, w = ta.Variable("x", (4, 6)), ta.Variable("w", (6,))
    contracted = [x[:, 0:3] @ w[0:3], x[:, 3:6] @ w[3:6]]  # the window's label is summed with w's
    assert all(a is b for a, b in zip(hoist_crops(contracted), contracted, strict=True))


def test_a_jitted_recurrent_network_equals_numpy_value_and_gradient() -> None:
    W = RNG.standard_normal((5, 5)) / 3

    def loss(W: np.ndarray, xs: np.ndarray, U: np.ndarray) -> ta.Tensor:
        h = ta.tanh(xs[0] @ U.T)
        for t in range(1, xs.shape[0]):
            h = ta.tanh(h @ W.T + xs[t] @ U.T)
        return ta.sum(h * h)

    def numpy_loss(W: np.ndarray) -> float:
        h = np.tanh(XS[0] @ U.T)
        for t in range(1, XS.shape[0]):
            h = np.tanh(h @ W.T + XS[t] @ U.T)
        return float(np.sum(h * h))

    value, gradient = ta.jit(ta.value_and_grad(loss))(W, XS, U)
    assert abs(value - numpy_loss(W)) < 1e-12 * abs(value)
    eps, fd = 1e-6, np.zeros_like(W)
    for i in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[i] = eps
        fd[i] = (numpy_loss(W + step) - numpy_loss(W - step)) / (2 * eps)
    np.testing.assert_allclose(gradient, fd, rtol=1e-6, atol=1e-8)


def test_a_product_larger_than_the_hoisting_limit_is_left_per_window(monkeypatch) -> None:
    import tensorad.symbolic.hoist as hoist

    xs, u = ta.Variable("xs", XS.shape), ta.Variable("U", U.shape)
    rows = [xs[t] @ u.T for t in range(6)]
    monkeypatch.setattr(hoist, "HOIST_BYTES", 6 * 3 * 5 * 8 - 1)  # one byte short of the whole product
    assert all(a is b for a, b in zip(hoist_crops(rows), rows, strict=True))
    monkeypatch.setattr(hoist, "HOIST_BYTES", 6 * 3 * 5 * 8)
    assert _products(hoist_crops(rows)) == [(6, 3, 5)]
