"""``numpy_code``: shape-generic numpy functions in numpy's own idioms.

Each case builds an expression at one set of sizes and names a numpy closed form of it (the
oracle). The generated function must equal the expression's value there, and — called with
arrays of other sizes — the closed form and the expression built at those sizes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from strategies import TENSORAD, DagProgram, dag_cases

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.ir.graph import variables
from tensorad.ir.nodes import Node
from tensorad.symbolic.codegen import numpy_code

GENERATION = {"m": 5, "n": 7, "k": 6}
"""The sizes the code is generated at: none of these numbers may appear in it."""

OTHER = {"m": 3, "n": 4, "k": 2}
"""The sizes it is called at afterwards."""


@dataclass(frozen=True)
class Case:
    name: str
    shapes: dict[str, str]  # each variable's axes as size letters of GENERATION / OTHER
    build: Callable[..., Node]
    oracle: Callable[..., Any]  # numpy, independent of tensorad
    idioms: tuple[str, ...] = ()  # text the generated function must contain
    einsum: bool = False  # whether the function itself calls np.einsum

    def __str__(self) -> str:
        return self.name


def sigmoid(z: Any) -> Any:
    return scipy.special.expit(z)


def tanh_jacobian(a: Any, x: Any) -> Any:
    """∂ tanh(A x)_i / ∂A_jk = (1 - tanh(A x)_i²) δ_ij x_k."""
    g = 1 - np.tanh(a @ x) ** 2
    return g[:, None, None] * np.eye(len(g))[:, :, None] * x[None, None, :]


CASES = [
    Case("transpose", {"A": "mn"}, lambda a: a.T, lambda a: a.T, ("A.T",)),
    Case(
        "transpose_3d",
        {"T": "mnk"},
        lambda t: ta.transpose(t, (2, 0, 1)),
        lambda t: t.transpose(2, 0, 1),
        ("np.transpose",),
    ),
    Case("matvec", {"A": "mn", "x": "n"}, lambda a, x: a @ x, lambda a, x: a @ x, ("A @ x",)),
    Case("vecmat", {"A": "mn", "y": "m"}, lambda a, y: y @ a, lambda a, y: y @ a, ("A.T @ y",)),
    Case("matmul", {"A": "mn", "B": "nk"}, lambda a, b: a @ b, lambda a, b: a @ b, ("A @ B",)),
    Case("matmul_left_transposed", {"A": "mn", "C": "mk"}, lambda a, c: a.T @ c, lambda a, c: a.T @ c, ("A.T @ C",)),
    Case("matmul_right_transposed", {"A": "mn", "D": "kn"}, lambda a, d: a @ d.T, lambda a, d: a @ d.T, ("A @ D.T",)),
    Case("dot", {"x": "n", "z": "n"}, lambda x, z: x @ z, lambda x, z: x @ z, ("x @ z",)),
    Case("outer", {"x": "n", "y": "m"}, ta.outer, np.outer, ("np.multiply.outer(x, y)",)),
    Case("hadamard", {"x": "n", "z": "n"}, lambda x, z: x * z, lambda x, z: x * z, ("x * z",)),
    Case(
        "broadcast_product",
        {"A": "mn", "y": "m"},
        lambda a, y: ta.einsum("ij,i->ij", a, y),
        lambda a, y: a * y[:, None],
        ("y[:, None]",),
    ),
    Case("broadcast_add", {"A": "mn", "x": "n"}, lambda a, x: a + x, lambda a, x: a + x, ("np.broadcast_to",)),
    Case("diag_embed", {"x": "n"}, lambda x: ta.derivative(ta.exp(x), x), lambda x: np.diag(np.exp(x)), ("np.diag",)),
    Case("diagonal", {"S": "nn"}, ta.diagonal, np.diagonal, ("np.diag(S)",)),
    Case("trace", {"S": "nn"}, ta.trace, np.trace, ("np.trace(S)",)),
    Case("sum", {"A": "mn"}, ta.sum, np.sum, ("A.sum()",)),
    Case("sum_axis_0", {"A": "mn"}, lambda a: ta.sum(a, axis=0), lambda a: a.sum(axis=0), (".sum(axis=0)",)),
    Case("sum_axis_1", {"A": "mn"}, lambda a: ta.sum(a, axis=1), lambda a: a.sum(axis=1), (".sum(axis=1)",)),
    Case(
        "sum_axes_0_2",
        {"T": "mnk"},
        lambda t: ta.sum(t, axis=(0, 2)),
        lambda t: t.sum(axis=(0, 2)),
        (".sum(axis=(0, 2))",),
    ),
    Case("scaling", {"A": "mn"}, lambda a: 2.5 * a - a, lambda a: 2.5 * a - a, ("2.5 * A", "-A")),
    Case(
        "elementwise",
        {"x": "n", "z": "n"},
        lambda x, z: ta.tanh(x) * ta.exp(z) + ta.log(1 + x * x) + ta.sigmoid(z),
        lambda x, z: np.tanh(x) * np.exp(z) + np.log(1 + x * x) + sigmoid(z),
        ("np.tanh(x)", "scipy.special.expit(z)", "import scipy.special"),
    ),
    Case(
        "inverse",
        {"S": "nn", "x": "n"},
        lambda s, x: ta.inv(s) @ x,
        lambda s, x: np.linalg.inv(s) @ x,
        ("np.linalg.inv",),
    ),
    Case("determinant", {"S": "nn"}, ta.det, np.linalg.det, ("np.linalg.det",)),
    Case(
        "logdet_gradient",
        {"S": "nn"},
        lambda s: ta.derivative(ta.logdet(s), s),
        lambda s: np.linalg.inv(s).T,
        ("np.linalg.inv", ".T"),
    ),
    Case("solve", {"S": "nn", "x": "n"}, tnp.linalg.solve, np.linalg.solve, ("np.linalg.solve(S, ", "x.shape[0]")),
    Case(
        "delta_derivative",
        {"A": "mn", "x": "n"},
        lambda a, x: ta.derivative(ta.tanh(a @ x), a),
        tanh_jacobian,
        ("A @ x", "_embed("),
    ),
    Case(
        "second_derivative",
        {"A": "mn", "x": "n"},
        lambda a, x: ta.derivative(ta.derivative(ta.sum(ta.exp(a @ x)), x), x),
        lambda a, x: a.T @ np.diag(np.exp(a @ x)) @ a,
        ("A @ x", "(A * t1[:, None]).T"),
    ),
    Case(
        "logistic_regression_gradient",
        {"X": "mn", "y": "m", "w": "n"},
        lambda x, y, w: ta.derivative(ta.sum(ta.softplus(-y * (x @ w))), w),
        lambda x, y, w: -x.T @ (y * sigmoid(-y * (x @ w))),
        ("@",),
    ),
    Case(
        "quadratic_form_gradient",
        {"x": "n", "S": "nn"},
        lambda x, s: ta.derivative(x @ s @ x, x),
        lambda x, s: (s + s.T) @ x,
        ("S @ x", "S.T @ x"),
    ),
    Case(
        "quadratic_form_hessian",
        {"x": "n", "S": "nn"},
        lambda x, s: ta.derivative(ta.derivative(x @ s @ x, x), x),
        lambda x, s: s + s.T,
        ("S.T",),
    ),
    Case(
        "inverse_derivative",
        {"S": "nn"},
        lambda s: ta.derivative(ta.inv(s), s),
        lambda s: -np.einsum("ik,lj->ijkl", np.linalg.inv(s), np.linalg.inv(s)),
        ("np.linalg.inv(S)",),
        einsum=True,
    ),
    Case(
        "einsum_otherwise",
        {"T": "mnk", "A": "mn"},
        lambda t, a: ta.einsum("ijk,ij->k", t, a),
        lambda t, a: np.einsum("ijk,ij->k", t, a),
        ('np.einsum("ijk,ij->k", T, A)',),
        einsum=True,
    ),
]


def arrays(case: Case, sizes: dict[str, int], seed: int = 0) -> dict[str, Any]:
    """Random values of the case's variables at ``sizes``; square matrices well conditioned."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, letters in case.shapes.items():
        shape = tuple(sizes[c] for c in letters)
        value = rng.uniform(-1.0, 1.0, shape)
        values[name] = value + shape[0] * np.eye(shape[0]) if letters == "nn" else value
    return values


def evaluate(expr: Node, values: dict[str, Any]) -> Any:
    """The expression's value, given the values of those variables it still has."""
    return expr.evaluate({v.name: values[v.name] for v in variables([expr])})


def build(case: Case, sizes: dict[str, int]) -> Node:
    variables = [ta.Variable(name, tuple(sizes[c] for c in letters)) for name, letters in case.shapes.items()]
    return case.build(*variables)


def generated(source: str, name: str = "f") -> Callable[[dict[str, Any]], Any]:
    """The function ``source`` defines, called with its arguments looked up by name."""
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # the emitted source is the thing under test
    function = namespace[name]
    parameters = function.__code__.co_varnames[: function.__code__.co_argcount]
    return lambda values: function(*(values[p] for p in parameters))


def function_body(source: str) -> str:
    return source[source.index("\ndef f(") :]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_generated_code_equals_the_expression_and_its_closed_form(case: Case) -> None:
    expr = build(case, GENERATION)
    values = arrays(case, GENERATION)
    result = generated(numpy_code(expr))(values)
    np.testing.assert_allclose(result, evaluate(expr, values), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(result, case.oracle(*values.values()), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_generated_code_runs_at_other_sizes(case: Case) -> None:
    function = generated(numpy_code(build(case, GENERATION)))
    values = arrays(case, OTHER, seed=1)
    result = function(values)
    np.testing.assert_allclose(result, case.oracle(*values.values()), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(result, evaluate(build(case, OTHER), values), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_no_size_is_written_into_the_code(case: Case) -> None:
    source = numpy_code(build(case, GENERATION))
    integers = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and type(node.value) is int  # axes (0, 1, 2) and sizes
    }
    assert not integers & set(GENERATION.values()), source
    assert "Fixed sizes" not in source


@pytest.mark.parametrize("case", CASES, ids=str)
def test_plain_numpy_idioms(case: Case) -> None:
    source = numpy_code(build(case, GENERATION))
    body = function_body(source)
    assert all(idiom in source for idiom in case.idioms), source
    assert ("np.einsum" in body) == case.einsum, source
    assert ("def _embed(" in source) == ("_embed(" in body), "the helper comes exactly when it is called"
    assert ("scipy" in source) == ("scipy." in body), "only the imports it uses"


def test_quadratic_form_gradient_is_two_matrix_products() -> None:
    x, a = ta.Variable("x", (5,)), ta.Variable("A", (5, 5))
    source = numpy_code(ta.derivative(x @ a @ x, x), name="grad")
    assert "@" in source and ".T" in source and "einsum" not in source and "_embed" not in source
    assert source.startswith("import numpy as np\n\n\ndef grad(x, A):\n") and '"""grad[i] = ' in source


def test_an_axis_no_argument_reaches_keeps_its_size_and_the_docstring_says_so() -> None:
    x = ta.Variable("x", (7,))
    source = numpy_code(ta.derivative(ta.sum(x), x))  # ones: x itself is gone
    assert "def f():" in source and "np.ones((7,))" in source
    assert "axes that meet no argument keep the size 7" in source
    np.testing.assert_array_equal(generated(source)({}), np.ones(7))


def test_a_size_only_a_constant_gives_is_read_from_the_constant() -> None:
    s, c = ta.Variable("s", ()), np.array([1.0, 2.0, 3.0])
    source = numpy_code(ta.exp(s) + c)  # exp(s) broadcast along the constant's axis
    assert "C0 = np.array([1.0, 2.0, 3.0], dtype=np.float64)" in source
    assert "C0.shape[0]" in source and "C0 is a constant of shape (3,)" in source
    np.testing.assert_allclose(generated(source)({"s": 0.5}), np.exp(0.5) + c, rtol=1e-15)


def test_names_of_temporaries_and_constants_avoid_the_arguments() -> None:
    t0, c0 = ta.Variable("t0", (3,)), ta.Variable("C0", (3,))
    source = numpy_code(ta.exp(t0) * c0 + np.arange(3.0))
    t, c = np.array([0.1, 0.2, 0.3]), np.array([1.0, -1.0, 2.0])
    np.testing.assert_allclose(generated(source)({"t0": t, "C0": c}), np.exp(t) * c + np.arange(3.0), rtol=1e-15)


def test_float32_stays_float32_at_other_sizes() -> None:
    a, x = ta.Variable("A", (5, 7), np.float32), ta.Variable("x", (7,), np.float32)
    function = generated(numpy_code(ta.derivative(ta.tanh(a @ x), a)))
    rng = np.random.default_rng(2)
    values = {"A": rng.uniform(-1, 1, (3, 4)).astype(np.float32), "x": rng.uniform(-1, 1, 4).astype(np.float32)}
    result = function(values)
    expected = tanh_jacobian(values["A"].astype(np.float64), values["x"].astype(np.float64))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


@given(dag_cases("array"))
def test_generated_code_of_random_dags_and_their_derivatives(case: tuple[DagProgram, np.ndarray]) -> None:
    """Every node kind, broadcasts and diagonals as the derivatives make them, through the emitted code."""
    dag, x = case
    variable = ta.Variable("x", x.shape)
    expr = dag.function(TENSORAD)(variable)
    for node in (expr, ta.derivative(expr, variable), ta.derivative(expr, variable, mode="forward")):
        expected = evaluate(node, {"x": x})
        np.testing.assert_allclose(generated(numpy_code(node))({"x": x}), expected, rtol=1e-10, atol=1e-12)
