"""Differences (tensorad.run.plan): a sum ``x + (−1)·w`` whose term ``w`` nothing else uses
is computed as ``x − w``, ``w`` unscaled. Every value is numpy's ``x - w`` bit for bit (IEEE
subtraction is the addition of the negation; negation is exact), for products, matrix
products, transposes and diagonal embeddings, either position, real dtypes, whether an
operand's array is overwritten or not; terms whose kernel applies its own scale or makes
the sum its own (deferred terms, blocked sums) keep their scale."""

from __future__ import annotations

import numpy as np
import pytest

import tensorad as ta
from tensorad.ir.build import contract
from tensorad.ir.graph import toposort, use_counts
from tensorad.ir.nodes import Node, Variable
from tensorad.run.differences import differences
from tensorad.run.plan import Plan

DTYPES = [np.float32, np.float64]  # complex sums keep their scaled term (tests/test_regressions.py)


def _sample(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> np.ndarray:
    values = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        values = values + 1j * rng.standard_normal(shape)
    return values.astype(dtype)


def _terms(dtype: type) -> list[tuple[str, list[Variable], Node, object]]:
    """Each term ``w`` (before its −1), its variables, and numpy's value of it."""
    A, B = Variable("A", (6, 5), dtype), Variable("B", (5, 4), dtype)
    X, Y = Variable("X", (6, 4), dtype), Variable("Y", (6, 4), dtype)
    v = Variable("v", (6,), dtype)
    return [
        ("entrywise", [X, Y], contract(X, "ij", Y, "ij", "ij", scale=-1.0), lambda x, y: x * y),
        ("matrix", [A, B], contract(A, "ij", B, "jk", "ik", scale=-1.0), lambda a, b: a @ b),
        ("transpose", [X], contract(X, "ij", None, "", "ji", scale=-1.0), lambda x: x.T),
        ("diagonal", [v], contract(v, "i", None, "", "ii", scale=-1.0), np.diag),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("w_first", [True, False])
@pytest.mark.parametrize("dies", [True, False])
@pytest.mark.parametrize("kind", ["entrywise", "matrix", "transpose", "diagonal"])
def test_a_sum_with_a_negated_term_is_numpys_difference(dtype: type, w_first: bool, dies: bool, kind: str) -> None:
    _, variables, w, value = next(t for t in _terms(dtype) if t[0] == kind)
    C = Variable("C", w.shape, dtype)
    x = ta.exp(C) if dies else C  # an intermediate that dies at the sum: its array may take the result
    total = w + x if w_first else x + w
    order = toposort([total])
    assert differences(order, lambda: use_counts(order, [total]), ()) == {total: 0 if w_first else 1}
    rng = np.random.default_rng(0)
    values = [_sample(rng, v.shape, dtype) for v in [*variables, C]]
    copies = [a.copy() for a in values]
    (got,) = Plan([total], [*variables, C])(values)
    x_value = np.exp(values[-1]) if dies else values[-1]
    np.testing.assert_array_equal(got, x_value - value(*values[:-1]), strict=True)
    for given, copy in zip(values, copies, strict=True):
        np.testing.assert_array_equal(given, copy)  # no input overwritten


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_negated_copy_of_a_dying_array_is_not_negated_twice(dtype: type) -> None:
    """``x + (−1)·P`` with ``P = exp(Z)`` dying there: unscaled, the term's kernel hands on
    ``P``'s own array, which must not then be scaled in place by −1 as the scaled term
    would be (a Hypothesis DAG of ``jacrev`` found this in the first version)."""
    Z, C = Variable("Z", (5, 4), dtype), Variable("C", (5, 4), dtype)
    total = ta.exp(C) + contract(ta.exp(Z), "ij", None, "", "ij", scale=-1.0)
    order = toposort([total])
    assert len(differences(order, lambda: use_counts(order, [total]), ())) == 1
    rng = np.random.default_rng(4)
    z, c = _sample(rng, Z.shape, dtype), _sample(rng, C.shape, dtype)
    (got,) = Plan([total], [Z, C])([z, c])
    np.testing.assert_array_equal(got, np.exp(c) - np.exp(z), strict=True)


def test_a_negated_term_used_twice_or_as_an_output_keeps_its_scale() -> None:
    X, Y, C = (Variable(name, (6, 4)) for name in "XYC")
    w = contract(X, "ij", Y, "ij", "ij", scale=-1.0)
    rng = np.random.default_rng(1)
    x, y, c = (rng.standard_normal((6, 4)) for _ in range(3))
    for outputs, other in (([C + w, w], -(x * y)), ([C + w, ta.exp(w)], np.exp(-(x * y)))):
        order = toposort(outputs)
        assert differences(order, lambda outputs=outputs, order=order: use_counts(order, outputs), ()) == {}
        got = Plan(outputs, [X, Y, C])([x, y, c])
        np.testing.assert_array_equal(got[0], c - x * y)
        np.testing.assert_array_equal(got[1], other)


def test_a_negated_accumulator_of_a_deferred_term_keeps_its_scale() -> None:
    """``(−1)·(A B) + a ⊗ b``: the outer product is added into the accumulator without being
    formed, so the accumulator must be ``−A B`` itself."""
    A, B = Variable("A", (300, 20)), Variable("B", (20, 300))
    a, b = Variable("a", (300,)), Variable("b", (300,))
    total = contract(A, "ij", B, "jk", "ik", scale=-1.0) + contract(a, "i", b, "k", "ik")
    rng = np.random.default_rng(2)
    values = [rng.standard_normal(v.shape) for v in (A, B, a, b)]
    (got,) = Plan([total], [A, B, a, b])(values)
    np.testing.assert_array_equal(got, -(values[0] @ values[1]) + np.multiply.outer(values[2], values[3]))


def test_a_negated_blocked_sum_keeps_its_scale() -> None:
    """``x − Σ_k W[k]ᵀ B[k]`` with ``W = s ⊙ X`` accumulated block by block: its kernel applies
    the −1 itself, so the sum stays a sum."""
    X, B = Variable("X", (2000, 40)), Variable("B", (2000, 30))
    s, x = Variable("s", (2000,)), Variable("x", (40, 30))
    w = contract(s, "k", X, "kp", "kp")
    total = x + contract(w, "kp", B, "kq", "pq", scale=-1.0)
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(v.shape) for v in (X, B, s, x)]
    (got,) = Plan([total], [X, B, s, x])(values)
    expected = values[3] - (values[2][:, None] * values[0]).T @ values[1]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-10)
