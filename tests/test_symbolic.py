"""Simplification preserves value and makes the classic derivatives small."""

from __future__ import annotations

import numpy as np
import pytest

import tensorad as ta
from tensorad.algebra import equivalent
from tensorad.ir import seeds
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Constant, Contraction, Node, Variable


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
    "delta relabel": ta.einsum("ij,j->i", seeds.identity((3,), x.dtype), x),
    "scaled product": 2.0 * ta.einsum("ij,jk->ik", A, A),
    "sum of a product": ta.sum(A @ A),
    "reduction of a sum of products": ta.sum(ta.outer(x, y) + ta.outer(y, x), axis=1),
    "product chain": ta.einsum("ij,jk,kl->il", A, A.T, A),
}

U, V = Variable("U", (30, 2)), Variable("V", (20, 2))
K, P, Q = Variable("K", (6, 6)), Variable("P", (6, 3)), Variable("Q", (6, 3))


def _largest(expr: Node) -> int:
    return max(node.size for node in toposort([expr]))


@pytest.mark.parametrize("name", CASES)
def test_simplify_preserves_value(name: str) -> None:
    expr = CASES[name]
    simple = ta.simplify(expr)
    assert simple.shape == expr.shape
    assert equivalent(simple, expr)
    assert _same_value(simple, expr, np.random.default_rng(0))
    assert len(toposort([simple])) <= len(toposort([expr]))


def test_like_terms_of_one_sign_are_collected() -> None:
    assert ta.simplify(x + 2.0 * x) is 3.0 * x
    assert ta.simplify(-x - 2.0 * x + y) is y - 3.0 * x
    assert str(ta.simplify(x + 2.0 * x - x)) == "3*x[i] - x[i]"  # opposite signs stay apart (IEEE)


def test_cancelled_terms_keep_ieee_semantics() -> None:
    """``x − x`` stays as it is: zero where ``x`` is finite, nan where it is infinite or
    nan, ``+0`` at ``x = −0``, in the simplified expression, under jit and eagerly alike."""
    assert ta.simplify(x - x) is x - x
    values = np.array([np.inf, np.nan, -0.0])
    expected = values - values  # numpy: [nan, nan, 0]
    np.testing.assert_array_equal((x - x).evaluate({x: values}), expected)
    np.testing.assert_array_equal(1 / ta.jit(lambda v: v - v)(values), 1 / expected)
    np.testing.assert_array_equal(ta.jit(lambda v: v - v)(values), expected)
    np.testing.assert_array_equal(ta.subtract(values, values), expected)


def test_double_transpose_and_unit_factors_vanish_at_construction() -> None:
    assert (A.T).T is A
    assert 1.0 * A is A


def test_constants_fold_but_structure_stays_symbolic() -> None:
    folded = ta.simplify(ta.einsum("ij,jk->ik", C, C) @ x)
    constants = [n for n in toposort([folded]) if isinstance(n, Constant)]
    assert len(constants) == 1 and np.allclose(constants[0].value, C @ C)
    delta = seeds.identity((3,), x.dtype)
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


def test_a_scaling_or_sum_of_a_product_fuses_into_it() -> None:
    for expr in (CASES["scaled product"], CASES["sum of a product"]):
        simple = ta.simplify(expr)
        assert isinstance(simple, Contraction) and simple.b is not None  # one product, nothing around it


def test_a_reduction_distributes_over_a_sum_of_outer_products() -> None:
    """``Σⱼ (xᵢyⱼ + yᵢxⱼ)``: each term's sum fuses into it; no 3×3 outer product is formed."""
    expr = CASES["reduction of a sum of products"]
    assert _largest(expr) == 9
    assert _largest(ta.simplify(expr)) == 3


def test_a_product_chain_is_reassociated_when_that_halves_the_work() -> None:
    """``(UVᵀ)V`` (a 30×20 intermediate) becomes ``U(VᵀV)`` (2×2)."""
    chain = ta.einsum("ik,jk,jl->il", U, V, V)  # the greedy lowering forms UVᵀ first
    simple = ta.simplify((U @ V.T) @ V)
    assert _largest(simple) == U.size
    assert equivalent(simple, chain)
    assert _same_value(simple, chain, np.random.default_rng(1))


def test_a_product_with_a_sum_of_products_distributes_when_that_avoids_the_big_sum() -> None:
    """``Σᵢⱼ Kᵢⱼ Σₖ (PᵢₖQⱼₖ + QᵢₖPⱼₖ)`` needs no 6×6×3 array once each term is reordered."""
    inner = ta.einsum("ik,jk->ijk", P, Q) + ta.einsum("ik,jk->ijk", Q, P)
    expr = ta.einsum("ij,ijk->", K, inner)
    simple = ta.simplify(expr)
    assert _largest(expr) == 6 * 6 * 3
    assert _largest(simple) < 6 * 6 * 3
    assert equivalent(simple, expr)
    assert _same_value(simple, expr, np.random.default_rng(2))
