"""Simplification preserves value and makes the classic derivatives small."""

from __future__ import annotations

import numpy as np
import pytest

import tensorad as ta
from tensorad import build
from tensorad.algebra import equivalent
from tensorad.expr import Constant, Contraction, Node, Variable, toposort


def _same_value(a: Node, b: Node, rng: np.random.Generator) -> bool:
    values = {x: rng.uniform(-1, 1, x.shape) for x in toposort([a, b]) if isinstance(x, Variable)}
    return np.allclose(a.evaluate(values), b.evaluate(values))


x, y = Variable("x", (3,)), Variable("y", (3,))
A = Variable("A", (3, 3))
C = np.arange(9.0).reshape(3, 3)

CASES = {
    "x + x": x + x,
    "x - x": x - x,
    "x + 2x - x": x + 2.0 * x - x,
    "double transpose": (A.T).T @ x,
    "times one": 1.0 * (A @ x),
    "constant subexpression": ta.einsum("ij,jk->ik", C, C) @ x,
    "sum with cancelling terms": A @ x + y - A @ x,
    "delta relabel": ta.einsum("ij,j->i", build.identity((3,), x.dtype), x),
}


@pytest.mark.parametrize("name", CASES)
def test_simplify_preserves_value(name: str) -> None:
    expr = CASES[name]
    simple = ta.simplify(expr)
    assert simple.shape == expr.shape
    assert equivalent(simple, expr)
    assert _same_value(simple, expr, np.random.default_rng(0))
    assert len(toposort([simple])) <= len(toposort([expr]))


def test_like_terms_are_collected() -> None:
    assert ta.simplify(x + 2.0 * x - x) is 2.0 * x
    zero = ta.simplify(x - x)
    assert all(not isinstance(n, Variable) for n in toposort([zero]))  # no trace of x left
    np.testing.assert_array_equal(zero.evaluate(), np.zeros(3))
    assert ta.simplify(A @ x + y - A @ x) is y


def test_double_transpose_and_unit_factors_vanish_at_construction() -> None:
    assert (A.T).T is A
    assert 1.0 * A is A


def test_constants_fold_but_structure_stays_symbolic() -> None:
    folded = ta.simplify(ta.einsum("ij,jk->ik", C, C) @ x)
    constants = [n for n in toposort([folded]) if isinstance(n, Constant)]
    assert len(constants) == 1 and np.allclose(constants[0].value, C @ C)
    delta = build.identity((3,), x.dtype)
    assert ta.simplify(delta) is delta  # δ stays a structure, never a dense array


def test_hessian_of_quadratic_form_is_a_plus_a_transpose_in_three_nodes() -> None:
    f = ta.einsum("i,ij,j->", x, A, x)
    hessian = ta.derivative(ta.derivative(f, x), x)
    assert len(toposort([hessian])) <= 3
    assert equivalent(hessian, A + A.T)
    gradient = ta.derivative(f, x)
    assert equivalent(gradient, (A + A.T) @ x)


def test_simplified_derivative_of_a_dead_branch_is_zero() -> None:
    g = ta.derivative(ta.sum(A @ A), x)
    assert isinstance(g, Contraction) and g.shape == (3,)
    np.testing.assert_array_equal(g.evaluate({}), np.zeros(3))


def test_evaluate_accepts_variables_or_names() -> None:
    values = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((2.0 * x).evaluate({x: values}), 2 * values)
    np.testing.assert_array_equal((2.0 * x).evaluate({"x": values}), 2 * values)
    np.testing.assert_array_equal((x + y).evaluate({"x": [1, 2, 3], y: values}), [2.0, 4.0, 6.0])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "no value given for variable 'x'"),
        ({"x": np.ones(4)}, r"variable 'x' has shape \(3,\) but its value has shape \(4,\)"),
        ({"z": np.ones(3)}, "no variable named 'z'"),
    ],
)
def test_evaluate_errors_name_the_variable(values: dict[str, object], message: str) -> None:
    with pytest.raises(ta.TensoradError, match=message):
        (2.0 * x).evaluate(values)


def test_evaluate_refuses_an_ambiguous_name() -> None:
    other_x = Variable("x", (3,))
    with pytest.raises(ta.TensoradError, match="several variables are named 'x'"):
        (x + other_x).evaluate({"x": np.ones(3)})
