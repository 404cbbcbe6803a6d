"""Matrix notation (``expr.to_matrix()``, ``--format matrix``) and reading it back.

Oracles: the exact checker (:func:`tensorad.algebra.equivalent`) between a printout read
back and the expression, values at random points where the checker cannot decide (a
constant against the broadcast that stands for it), and the textbook forms of
``tests/classic_derivatives.py`` — written by hand from the Matrix Cookbook, not from our
output — which must parse to an expression equivalent to tensorad's derivative.
"""

from __future__ import annotations

import csv
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from classic_derivatives import CLASSICS, VARIABLES
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, random_dags

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.algebra import equivalent
from tensorad.errors import UnsupportedError
from tensorad.ir.nodes import Node
from tensorad.language import ParseError
from tensorad.run.evaluate import evaluate

TABLE = pathlib.Path(__file__).parent.parent / "docs" / "_data" / "classic_derivatives.csv"

A, B = ta.Variable("A", (3, 3)), ta.Variable("B", (3, 3))
X, w, y = ta.Variable("X", (5, 3)), ta.Variable("w", (3,)), ta.Variable("y", (5,))
x, b = ta.Variable("x", (3,)), ta.Variable("b", (3,))
NAMES = {v.name: v for v in (A, B, X, w, y, x, b)}


def read(text: str, names: dict[str, ta.Variable] = NAMES) -> Node:
    return ta.parse(text, variables=names, notation="matrix").expr


def same(back: Node, e: Node, seed: int = 0) -> None:
    """``back`` equals ``e``: exactly, or (where the checker cannot decide) at a random point."""
    assert back.shape == e.shape
    if equivalent(back, e):
        return
    rng = np.random.default_rng(seed)
    variables = {v for v in NAMES.values()}
    point = {v: rng.uniform(-0.5, 0.5, v.shape) + (3 * np.eye(3) if v.shape == (3, 3) else 0) for v in variables}
    value, value_back = evaluate([e, back], point)
    np.testing.assert_allclose(value_back, value, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- the forms the issue names


@pytest.mark.parametrize(
    ("make", "text"),
    [
        (lambda: ta.derivative(ta.derivative(x @ A @ x, x), x), "A + Aᵀ"),
        (lambda: ta.derivative(ta.logdet(A), A), "A⁻ᵀ"),
        (lambda: ta.derivative(ta.sum((A @ x - b) ** 2), x), "2 Aᵀ (A x - b)"),
        (lambda: ta.derivative(ta.sum(ta.log(1 + ta.exp(-y * (X @ w)))), w), "-Xᵀ (σ(-y ⊙ X w) ⊙ y)"),
        (lambda: ta.derivative(ta.sum(ta.softplus(X @ w)), w), "Xᵀ σ(X w)"),
        (lambda: ta.derivative(x @ tnp.linalg.inv(A) @ b, x), "A⁻¹ b"),
        (lambda: ta.derivative(x, x), "I₃"),
        (lambda: ta.derivative(ta.sum(A), A), "𝟏₃ 𝟏₃ᵀ"),
        (lambda: A.sum(axis=1), "A 𝟏"),
        (lambda: A.sum(axis=0), "Aᵀ 𝟏"),
        (lambda: tnp.trace(A.T @ B), "tr(Aᵀ B)"),
        (lambda: ta.sum(A * B, axis=1), "(A ⊙ B) 𝟏"),
        (lambda: tnp.diag(x) @ A, "diag(x) A"),
        (lambda: tnp.outer(x, b), "x bᵀ"),
        (lambda: x / tnp.linalg.norm(x), "x ⊘ norm(x)"),
        (lambda: 2 * x - 3, "2 x - 3"),
        (lambda: A + 2 * np.eye(3), "A + 2 I"),
    ],
)
def test_the_textbook_forms(make: object, text: str) -> None:
    e = make()  # type: ignore[operator]
    assert e.to_matrix() == text
    same(read(text), e)


def test_latex_uses_top_inverse_and_odot() -> None:
    e = ta.derivative(ta.sum(ta.log(1 + ta.exp(-y * (X @ w)))), w)
    assert e.to_matrix(latex=True) == (r"-X^\top \left(\sigma\left(-y \odot X w\right) \odot y\right)")
    assert ta.derivative(ta.logdet(A), A).to_matrix(latex=True) == r"A^{-\top}"
    assert (tnp.linalg.inv(A) @ x).to_matrix(latex=True) == "A^{-1} x"


def test_shared_subexpressions_are_named_once_and_read_back() -> None:
    z = ta.tanh(A @ x + b)
    e = ta.derivative(ta.derivative(ta.sum(z * z), x), x)
    text = e.to_matrix(shared=True)
    assert "\nwhere t1 = " in text and text.count("tanh") == 1
    assert len(text) < len(e.to_matrix())  # named only because it is shorter
    same(read(text), e)
    gradient = ta.derivative(ta.sum(z * z), x)  # naming tanh(A x + b) would lengthen it
    assert gradient.to_matrix(shared=True) == gradient.to_matrix()


def test_what_has_no_matrix_form_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="3 axes"):
        ta.derivative(ta.tanh(A @ x), A).to_matrix()
    with pytest.raises(UnsupportedError, match="no matrix form"):
        ta.take(x, np.array([0, 0])).to_matrix() if hasattr(ta, "take") else tnp.take(x, np.array([0, 0])).to_matrix()


def test_the_command_line_falls_back_to_index_notation_and_says_so() -> None:
    run = [sys.executable, "-m", "tensorad", "derive", "f[i] = tanh(W[i,j] x[j])", "--wrt", "W", "--format", "matrix"]
    done = subprocess.run(run, capture_output=True, text=True, check=True)
    assert "delta[i,k]" in done.stdout and "no matrix form" in done.stderr
    run[-4:-2] = ["--wrt", "x"]
    done = subprocess.run(run, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "∂f/∂x = diag(1 - tanh(W x)^⊙2) W" and not done.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x x", "cannot multiply a column by a column"),
        ("A + x", "cannot combine a matrix with a column"),
        ("A q", "unknown name 'q'"),
        ("x⁻¹", "only a matrix has an inverse"),
        ("𝟏 𝟏ᵀ", "size of I or 𝟏 is not fixed"),
        ("A X", "do not match"),
        ("foo(x)", "unknown name 'foo'"),
    ],
)
def test_malformed_matrix_notation_is_refused_with_a_caret(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        read(text)


# --------------------------------------------------------------------------- the table of classics


def table() -> list[list[str]]:
    with TABLE.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_the_docs_table_lists_every_classic_as_tensorad_prints_it() -> None:
    rows = table()
    assert len(rows) == len(CLASSICS) >= 20
    for (what, make, textbook), row in zip(CLASSICS.values(), rows, strict=True):
        assert row == [what, textbook, make().to_matrix()]


@pytest.mark.parametrize("name", list(CLASSICS))
def test_a_classic_derivative_equals_its_textbook_form_and_prints_as_short(name: str) -> None:
    _, make, textbook = CLASSICS[name]
    e = make()
    assert equivalent(ta.parse(textbook, variables=VARIABLES, notation="matrix").expr, e)
    printed = e.to_matrix()
    assert equivalent(ta.parse(printed, variables=VARIABLES, notation="matrix").expr, e)
    assert len(printed) <= 1.5 * len(textbook)


# --------------------------------------------------------------------------- random DAGs


@settings(max_examples=150)
@given(random_dags(output="array", max_ndim=2), st.booleans(), st.booleans(), st.integers(0, 2**16))
def test_a_random_dag_in_matrix_notation_reads_back_as_itself_or_is_refused(
    program: DagProgram, derive: bool, shared: bool, seed: int
) -> None:
    x = ta.Variable("x", program.input_shape)
    e = program.function(TENSORAD)(x)
    if derive:
        e = ta.derivative(ta.sum(e), x)
    try:
        text = ta.symbolic.matrix.matrix_notation(e, shared=shared)
    except UnsupportedError:
        return
    try:
        back = ta.parse(text, variables={"x": x}, notation="matrix").expr
    except ParseError as error:
        assert "unknown name 'C" in str(error), text  # only a constant array has no name to read back
        return
    assert back.shape == e.shape, text
    if equivalent(back, e):
        return
    point = np.random.default_rng(seed).uniform(-0.5, 0.5, x.shape)
    value, value_back = evaluate([e, back], {x: point})
    np.testing.assert_allclose(value_back, value, rtol=1e-9, atol=1e-12, err_msg=text)


def test_most_random_dags_of_order_two_have_a_matrix_form_that_reads_back() -> None:
    """The property above is not vacuous: most draws print and read back."""
    read_back = 0
    for seed in range(60):
        rng = np.random.default_rng(seed)
        shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
        v = ta.Variable("x", shape)
        steps = [v, v.T @ v, ta.tanh(v) * v, v @ v.T + 1, ta.sum(ta.exp(v), axis=0)]
        e = steps[seed % len(steps)]
        e = ta.derivative(ta.sum(e * e), v) if seed % 2 else e
        try:
            back = ta.parse(e.to_matrix(), variables={"x": v}, notation="matrix").expr
        except (UnsupportedError, ParseError):
            continue
        point = np.random.default_rng(seed).uniform(-0.5, 0.5, shape)
        value, value_back = evaluate([e, back], {v: point})
        np.testing.assert_allclose(value_back, value, rtol=1e-12)
        read_back += 1
    assert read_back >= 50


def test_an_identity_beside_a_scalar_reads_back_with_the_matrix_size() -> None:
    """``s + 3 I - u``: the scalar does not fix ``I``'s size, the matrix does (a review found
    ``I`` read as 1×1)."""
    u, s = ta.Variable("u", (3, 3)), ta.Variable("s", ())
    names = {"u": u, "s": s, "x": x}
    cases = [s + 3 * np.eye(3) - u, s + s * np.eye(3) - u, ta.derivative(x * ta.reciprocal(1 + x @ x), x)]
    for e in cases:
        same_at_a_point(read(e.to_matrix(), names), e, names)
    for text in ("s + I", "I / s"):
        with pytest.raises(ParseError, match="size of I"):
            read(text, names)


def test_variables_named_like_the_notation_are_refused_and_names_avoid_variables() -> None:
    for name in ("I", "diag", "tr", "sum", "exp", "σ"):
        v = ta.Variable(name, (3, 3))
        with pytest.raises(UnsupportedError, match="reserves"):
            (v + 2 * np.eye(3)).to_matrix()
    t1, B = ta.Variable("t1", (3,)), ta.Variable("B", (3, 3))
    z = ta.tanh(B @ t1)
    e = ta.derivative(ta.derivative(ta.sum(z * z), t1), t1)
    text = e.to_matrix(shared=True)
    assert "where t1 =" not in text and "where t2 =" in text
    same_at_a_point(read(text, {"t1": t1, "B": B}), e, {"t1": t1, "B": B})


def same_at_a_point(back: Node, e: Node, names: dict[str, ta.Variable]) -> None:
    rng = np.random.default_rng(5)
    point = {v: rng.uniform(-0.5, 0.5, v.shape) for v in names.values()}
    assert back.shape == e.shape
    np.testing.assert_allclose(back.evaluate(point), e.evaluate(point), rtol=1e-12)
