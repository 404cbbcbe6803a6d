"""Structural invariants of derivative DAGs: symbolic zeros, δ never dense, sharing.

These check the *shape of the graph* the transforms build, which the value tests cannot
see: a derivative can be numerically right and still carry a dense identity or a
branch that does not depend on the variable.
"""

from __future__ import annotations

import numpy as np
import pytest

import tensorad as ta
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, constants, seeds
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Add, Constant, Contraction, Node, Variable
from tensorad.run.evaluate import evaluate


def _nodes(root: Node) -> list[Node]:
    return toposort([root])


def test_branches_independent_of_the_variable_build_no_derivative_nodes() -> None:
    x = Variable("x", (3,))
    A = Variable("A", (3, 3))
    unrelated = ta.exp(A) @ ta.sin(A)  # does not depend on x
    y = ta.sum(x * x) + ta.sum(unrelated)
    (forward,) = pushforward([y], {x: Variable("v", (3,))})
    (reverse,) = pullback([y], [constants.scalar(1.0, y.dtype)], [x])
    for derivative in (forward, reverse):
        assert derivative is not None
        assert all(node is not unrelated for node in _nodes(derivative))
        assert all(node is not A for node in _nodes(derivative))


def test_a_variable_that_is_not_used_has_a_symbolic_zero_derivative() -> None:
    x, z = Variable("x", (2,)), Variable("z", (2,))
    y = ta.sum(x * x)
    assert pushforward([y], {z: Variable("v", (2,))}) == [None]
    assert pullback([y], [constants.scalar(1.0, y.dtype)], [z]) == [None]


def test_jacobian_of_a_linear_map_is_a_relabelling_of_the_matrix() -> None:
    A, x = Variable("A", (4, 5)), Variable("x", (5,))
    (jac_fwd,) = pushforward([A @ x], {x: seeds.identity(x.shape, x.dtype)})
    (jac_rev,) = pullback([A @ x], [seeds.identity((4,), x.dtype)], [x])
    for jac in (jac_fwd, jac_rev):
        assert jac is A  # δ dissolved into a relabelling: no contraction left at all


def test_identity_seed_meets_an_elementwise_function_as_a_diagonal_embedding() -> None:
    x = Variable("x", (6,))
    (jac,) = pushforward([ta.sin(x)], {x: seeds.identity(x.shape, x.dtype)})
    assert isinstance(jac, Contraction) and jac.b is None
    assert jac.s3[0] == jac.s3[1] and jac.a.shape == (6,)  # diag(cos x), never a dense δ
    value = np.linspace(0.0, 1.0, 6)
    (dense,) = evaluate([jac], {x: value})
    np.testing.assert_allclose(dense, np.diag(np.cos(value)))


def test_no_dense_identity_constant_appears_in_a_hessian_graph() -> None:
    U = Variable("U", (5, 2))
    T, V = np.ones((5, 4)), np.arange(8.0).reshape(4, 2)
    loss = ta.sum(ta.square(T - U @ V.T))
    (grad,) = pullback([loss], [constants.scalar(1.0, loss.dtype)], [U])
    assert grad is not None
    (hess,) = pushforward([grad], {U: seeds.identity(U.shape, U.dtype)})
    assert hess is not None
    for node in _nodes(hess):
        if isinstance(node, Constant) and node.shape:  # only the user's arrays, no δ
            assert np.shares_memory(node.value, T) or np.shares_memory(node.value, V)


def test_common_subexpressions_are_shared_and_x_plus_x_is_two_x() -> None:
    x = Variable("x", (3,))
    assert ta.exp(x) is ta.exp(x)
    assert ta.einsum("i,i->", x, x) is ta.einsum("j,j->", x, x)  # labels are local
    doubled = x + x
    assert isinstance(doubled, Contraction) and doubled.scale == 2.0 and doubled.a is x


def test_sums_of_structured_terms_with_one_pattern_are_factored() -> None:
    x, y = Variable("x", (4,)), Variable("y", (4,))
    d1 = build.contract(x, "i", None, "", "ii")  # diag(x)
    d2 = build.contract(y, "i", None, "", "ii")  # diag(y)
    factored = build.add(d1, d2)
    assert isinstance(factored, Contraction) and factored.b is None
    assert isinstance(factored.a, Add) and factored.shape == (4, 4)
    values = {x: np.arange(4.0), y: np.ones(4)}
    (dense,) = evaluate([factored], values)
    np.testing.assert_array_equal(dense, np.diag(np.arange(4.0) + 1.0))


def test_building_pauses_the_cycle_collector_and_resumes_it_even_after_an_error() -> None:
    import gc

    from tensorad.ir.graph import without_cycle_collection

    seen: list[bool] = []

    @without_cycle_collection
    def build(fail: bool) -> None:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("stop")

    assert gc.isenabled()
    build(False)
    with pytest.raises(ValueError, match="stop"):
        build(True)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()  # paused by the caller: left paused
    try:
        build(False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_interned_node_leaves_the_table_when_it_dies_and_is_built_anew() -> None:
    from tensorad.ir.interning import INTERNED

    x = ta.Variable("x", (3,))
    y = ta.cos(x)
    before = len(INTERNED)
    assert ta.cos(x) is y  # one node while it lives
    del y
    assert len(INTERNED) == before - 1  # its weak entry removed itself
    z = ta.cos(x)
    assert isinstance(z, ta.Tensor) and z.fn == "cos"  # type: ignore[attr-defined]
    np.testing.assert_allclose(z.evaluate({x: np.arange(3.0)}), np.cos(np.arange(3.0)))


def test_a_long_chain_gradient_equals_the_product_of_its_derivatives() -> None:
    """Deep DAGs are planned in the DAG's order (every array tiny) and built without the
    cycle collector: the value still matches the closed form Π cos(sinᵏ(x))."""
    x0 = np.linspace(0.1, 0.9, 3)
    n = 3000
    grad = ta.grad(lambda x: ta.sum(_sin_chain(x, n)))(x0)
    expected, value = np.ones(3), x0.copy()
    for _ in range(n):
        expected *= np.cos(value)
        value = np.sin(value)
    np.testing.assert_allclose(grad, expected, rtol=1e-10)


def _sin_chain(x: ta.Tensor, n: int) -> ta.Tensor:
    for _ in range(n):
        x = ta.sin(x)
    return x
