"""Printed expressions read back: ``parse(index_notation(e, name="out"))`` is ``e``.

The oracles are the exact checker (:func:`tensorad.algebra.equivalent`) and, where it
cannot decide (an uninterpreted function of a transposed argument, say), values at random
points. A printout the expression language cannot read (``reshape``, a window ``[0:2]``,
more than 52 indices in one product) is refused with a ``ParseError``: never read back as
something else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, random_dags

import tensorad as ta
from tensorad.algebra import equivalent
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Constant, Node, Variable
from tensorad.ir.substitute import substitute
from tensorad.language import ParseError
from tensorad.run.evaluate import evaluate
from tensorad.symbolic.notation import index_names
from tensorad.symbolic.printing import _Printer, index_notation


def read_back(e: Node, variables: dict[str, Variable], shared: bool = False) -> Node:
    """``e`` printed as ``out[…] = …`` (with ``shared``: its repeated subexpressions named
    on ``where`` lines) and parsed, its constants (printed ``C1``, ``C2``, …) passed as
    variables and put back."""
    printer = _Printer(shared=shared)
    text = printer.top(e, "out")
    nodes = toposort([e])
    constants = {printer.constants[id(n)]: n for n in nodes if isinstance(n, Constant) and id(n) in printer.constants}
    stand_ins = {name: Variable(name, c.shape) for name, c in constants.items()}
    dims = dict(zip(index_names(), e.shape, strict=False))  # the output's indices: i, j, … in order
    parsed = ta.parse(text, dims=dims, variables={**variables, **stand_ins})
    return substitute([parsed.expr], {stand_ins[name]: c for name, c in constants.items()})[0]


@given(random_dags(output="array"), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_a_printed_random_dag_reads_back_as_itself_or_is_refused(
    program: DagProgram, derive: bool, shared: bool, seed: int
) -> None:
    x = ta.Variable("x", program.input_shape)
    e = program.function(TENSORAD)(x)
    if derive:
        e = ta.derivative(ta.sum(e), x)
    try:
        back = read_back(e, {"x": x}, shared)
    except ParseError:
        return  # outside the language: refused, not misread
    assert back.shape == e.shape
    if equivalent(back, e):
        return
    point = np.random.default_rng(seed).uniform(-0.5, 0.5, x.shape)
    value, value_back = evaluate([e, back], {x: point})
    np.testing.assert_allclose(value_back, value, rtol=1e-9, atol=1e-12)


X, Y, W = ta.Variable("X", (6, 3)), ta.Variable("y", (6,)), ta.Variable("w", (3,))
A, B, V = ta.Variable("A", (3, 3)), ta.Variable("B", (3, 3)), ta.Variable("v", (3,))
W1, W2 = ta.Variable("W1", (4, 3)), ta.Variable("W2", (2, 4))
T = ta.Variable("t", (2,))


def logistic() -> Node:
    return ta.sum(ta.log(1 + ta.exp(-Y * (X @ W))))


def softmax_cross_entropy() -> Node:
    z = W2 @ ta.tanh(W1 @ W)
    return -ta.sum(T * ta.log_softmax(z, 0))


CLASSICS: dict[str, Callable[[], Node]] = {
    "logistic gradient": lambda: ta.derivative(logistic(), W),
    "logistic Hessian": lambda: ta.derivative(ta.derivative(logistic(), W), W),
    "quadratic form gradient": lambda: ta.derivative(V @ A @ V, V),
    "quadratic form Hessian": lambda: ta.derivative(ta.derivative(V @ A @ V, V), V),
    "least squares gradient": lambda: ta.derivative(ta.sum((X @ W - Y) ** 2), W),
    "log-det gradient": lambda: ta.derivative(ta.logdet(A), A),
    "trace of an inverse times B": lambda: ta.derivative(ta.trace(ta.inv(A) @ B), A),
    "xᵀA⁻¹x in A": lambda: ta.derivative(V @ ta.inv(A) @ V, A),
    "tanh layer Jacobian": lambda: ta.derivative(ta.tanh(A @ V), V),
    "softmax cross-entropy gradient": lambda: ta.derivative(softmax_cross_entropy(), W1),
    "entrywise product": lambda: V * V,
    "outer product": lambda: ta.einsum("i,j->ij", V, V),
}


@pytest.mark.parametrize("shared", [False, True])
@pytest.mark.parametrize("make", CLASSICS.values(), ids=CLASSICS.keys())
def test_classic_derivatives_read_back_exactly(make: Callable[[], Node], shared: bool) -> None:
    e = make()
    variables = {v.name: v for v in toposort([e]) if isinstance(v, Variable)}
    assert equivalent(read_back(e, variables, shared), e), index_notation(e, name="out", shared=shared)


def test_shared_subexpressions_are_written_once() -> None:
    """The logistic Hessian's sigmoid of the margin is written once, on a where line."""
    text = index_notation(ta.derivative(ta.derivative(logistic(), W), W), name="H", shared=True)
    assert text == (
        "H[i,j] = sum_k(X[k,i]*X[k,j]*y[k]*y[k]*(t1[k] - t1[k]*t1[k]))\nwhere t1[k] = sigmoid(-y[k]*X[k,i]*w[i])"
    )


def test_a_shared_name_never_takes_a_variables_name() -> None:
    """With a variable called ``t1``, the shared subexpression is ``t2``: it was ``t1`` too,
    and the printout read back as another expression."""
    t1, A = ta.Variable("t1", (3,)), ta.Variable("A", (3, 3))
    z = ta.tanh(A @ t1)
    text = index_notation(z * z + z, name="out", shared=True)
    assert text == "out[i] = t2[i] + t2[i]*t2[i]\nwhere t2[i] = tanh(A[i,j]*t1[j])"
    assert equivalent(ta.parse(text, variables={"t1": t1, "A": A}).expr, z * z + z)


def test_an_index_summed_in_several_places_is_summed_explicitly() -> None:
    """Einstein's convention covers an index written twice; the logistic Hessian writes
    ``k`` eleven times, so its sum is written out (it was missing)."""
    text = str(ta.derivative(ta.derivative(logistic(), W), W))
    assert text.startswith("sum_k(") and text.count("[k,") + text.count("[k]") > 2


def test_a_derivative_named_by_its_header_reads_back() -> None:
    g = ta.derivative(logistic(), W)
    text = index_notation(g, name="∂f/∂w")
    assert text == "∂f/∂w[i] = -sum_j(X[j,i]*y[j]*sigmoid(-y[j]*X[j,k]*w[k]))"
    back = ta.parse(text, variables={"X": X, "y": Y, "w": W})
    assert back.output == ("i",) and equivalent(back.expr, g)
    with pytest.raises(ParseError, match="∂f/∂w"):
        ta.parse("∂f/w[i] = w[i]")


def test_several_summed_indices_and_indices_past_z_read_back() -> None:
    """A sum over several indices prints as ``sum_{i,j}(…)`` (``sum_ij`` would sum one
    index, ``ij``), and indices past the 26th are named ``i1, j1, …``: both read back."""
    x = ta.Variable("x", (1,) * 27)
    total, many = 3 * ta.sum(A), ta.sum(x * x, axis=tuple(range(1, 27)))
    assert str(total) == "3*sum_{i,j}(A[i,j])" and "h,i1,j1]" in str(many)
    assert equivalent(read_back(total, {"A": A}), total) and equivalent(read_back(many, {"x": x}), many)
