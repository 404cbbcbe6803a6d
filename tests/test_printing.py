"""Printing: index notation, LaTeX, DOT and ``repr``.

The oracles are the textbook formulas written out by hand (no parser of the output):
exact strings for small expressions, term sets where a sum's order is immaterial, and
the structure of the DOT graph compared with the DAG itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, random_dags

import tensorad as ta
from tensorad.ir import build, seeds
from tensorad.ir.graph import children, toposort
from tensorad.ir.nodes import Node
from tensorad.symbolic import notation, printing
from tensorad.symbolic.printing import LIMIT

F64 = np.dtype(np.float64)
x, y, z = ta.Variable("x", (3,)), ta.Variable("y", (3,)), ta.Variable("z", (3,))
A, B, C = ta.Variable("A", (3, 3)), ta.Variable("B", (3, 3)), ta.Variable("C", (3, 3))
X = ta.Variable("X", (3, 3))
U, V, T = ta.Variable("U", (5, 2)), ta.Variable("V", (4, 2)), ta.Variable("T", (5, 4))


def quadratic() -> Node:
    """``xᵀAx``."""
    form: Node = ta.einsum("i,ij,j->", x, A, x)
    return form


def factorization() -> Node:
    """``‖T − UVᵀ‖²_F``."""
    loss: Node = ta.sum(ta.square(T - U @ V.T))
    return loss


def terms(text: str) -> set[str]:
    """The summands of a printed sum of positive terms (their order is immaterial)."""
    return set(text.split(" + "))


# ------------------------------------------------------------------ index notation

EXACT: dict[str, tuple[Callable[[], Node], str]] = {
    "x·Ay": (lambda: ta.einsum("i,ij,j->", x, A, y), "x[i]*A[i,j]*y[j]"),
    "xᵀAx": (quadratic, "x[i]*A[i,j]*x[j]"),
    "A@x": (lambda: A @ x, "A[i,j]*x[j]"),
    "trace": (lambda: ta.trace(A), "A[i,i]"),
    "transpose": (lambda: A.T, "A[j,i]"),
    "delta": (lambda: seeds.identity((3,), F64), "delta[i,j]"),
    "delta of a matrix": (lambda: seeds.identity((2, 3), F64), "delta[i,k]*delta[j,l]"),
    "dx/dx": (lambda: ta.derivative(x, x), "delta[i,j]"),
    "diagonal embedding": (lambda: build.contract(A, "ij", None, "", "iij"), "A[i,k]*delta[i,j]"),
    "broadcast": (lambda: build.broadcast_to(x, (4, 3)), "x[j]"),
    "broadcast sum": (lambda: build.broadcast_to(x, (4, 3)) + ta.Variable("M", (4, 3)), "M[i,j] + x[j]"),
    "outer": (lambda: ta.outer(x, y), "x[i]*y[j]"),
    "hadamard": (lambda: x * y, "x[i]*y[i]"),
    "difference": (lambda: A - B, "A[i,j] - B[i,j]"),
    "minus last": (lambda: -x + y, "y[i] - x[i]"),
    "scaled difference": (lambda: x - 2 * y, "x[i] - 2*y[i]"),
    "negated sum": (lambda: -(A + B), "-(A[i,j] + B[i,j])"),
    "twice": (lambda: 2 * A, "2*A[i,j]"),
    "negation": (lambda: -x, "-x[i]"),
    "half": (lambda: 0.5 * x, "0.5*x[i]"),
    "zero": (lambda: seeds.zeros((2,), F64), "0"),
    "sum of entries": (lambda: ta.sum(x), "sum_i(x[i])"),
    "row sums": (lambda: ta.sum(A, axis=1), "sum_j(A[i,j])"),
    "scaled total": (lambda: 3 * ta.sum(A), "3*sum_{i,j}(A[i,j])"),
    "triple product": (lambda: ta.einsum("i,i,i->", x, y, z), "sum_i(x[i]*y[i]*z[i])"),
    "trace of a sum": (lambda: ta.trace(A + B), "sum_i(A[i,i] + B[i,i])"),
    "sum in a product": (lambda: (A + B) @ x, "(A[i,j] + B[i,j])*x[j]"),
    "chain": (lambda: A @ B @ x, "A[i,j]*B[j,k]*x[k]"),
    "nested products": (lambda: (A @ B) @ (C @ x), "A[i,j]*B[j,k]*C[k,l]*x[l]"),
    "shared operand": (lambda: ta.dot(A @ x, A @ x), "x[i]*A[j,i]*A[j,k]*x[k]"),
    "exp": (lambda: ta.exp(x), "exp(x[i])"),
    "sigmoid of a product": (lambda: ta.sigmoid(A @ x), "sigmoid(A[i,j]*x[j])"),
    "tanh": (lambda: ta.tanh(x), "tanh(x[i])"),
    "cube": (lambda: x**3, "x[i]^3"),
    "square of a product": (lambda: ta.square(A @ x), "(A[i,j]*x[j])^2"),
    "sum of exp": (lambda: ta.sum(ta.exp(x)), "sum_i(exp(x[i]))"),
    "trace of exp": (lambda: ta.trace(ta.exp(A)), "sum_i(exp(A[i,i]))"),
    "inv": (lambda: ta.inv(X), "inv(X)[i,j]"),
    "inv of a sum": (lambda: ta.inv(A + B), "inv(A[i,j] + B[i,j])[i,j]"),
    "logdet": (lambda: ta.logdet(X), "logdet(X)"),
    "logdet of a product": (lambda: ta.logdet(A @ B), "logdet(A[i,k]*B[k,j])"),
    "det": (lambda: ta.det(X), "det(X)"),
    "softmax": (lambda: ta.softmax(z, axis=0), "softmax(z[i], i)"),
    "logsumexp": (lambda: ta.logsumexp(A, axis=1), "logsumexp(A[i,j], j)"),
    "constant": (lambda: x @ np.arange(9.0).reshape(3, 3), "C1[j,i]*x[j]"),
    "index names skip variable names": (lambda: A @ ta.Variable("j", (3,)), "A[i,k]*j[k]"),
    "many axes": (lambda: ta.Variable("W", (1,) * 20), "W[i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b]"),
}


@pytest.mark.parametrize(("make", "expected"), EXACT.values(), ids=EXACT.keys())
def test_index_notation(make: Callable[[], Node], expected: str) -> None:
    assert str(make()) == expected


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_gradient_of_a_quadratic_form(mode: Literal["reverse", "forward"]) -> None:
    """``∇(xᵀAx) = Ax + Aᵀx`` and ``∇²(xᵀAx) = A + Aᵀ``."""
    gradient = ta.derivative(quadratic(), x, mode=mode)
    assert terms(str(gradient)) == {"A[i,j]*x[j]", "A[j,i]*x[j]"}
    assert terms(str(ta.derivative(gradient, x, mode=mode))) == {"A[i,j]", "A[j,i]"}


def test_logdet_derivatives() -> None:
    """``∇ log det X = X⁻ᵀ``; its derivative is ``−(X⁻¹)_{li} (X⁻¹)_{jk}``."""
    gradient = ta.derivative(ta.logdet(X), X)
    assert str(gradient) == "inv(X)[j,i]"
    assert str(ta.derivative(gradient, X)) == "-inv(X)[l,i]*inv(X)[j,k]"


def test_matrix_factorization() -> None:
    """``∇_U = −2 (T − UVᵀ) V``, ``H = 2 δ_{ik} (VᵀV)_{jl}``."""
    gradient = ta.derivative(factorization(), U)
    assert str(factorization()) == "sum_{i,j}((T[i,j] - U[i,k]*V[j,k])^2)"
    assert str(gradient) == "-2*(T[i,k] - U[i,l]*V[k,l])*V[k,j]"
    assert str(ta.derivative(gradient, U)) == "2*delta[i,k]*V[m,j]*V[m,l]"


def test_sigmoid_derivative() -> None:
    assert str(ta.derivative(ta.sigmoid(x), x)) == "sigmoid(x[i])*(1 - sigmoid(x[i]))*delta[i,j]"


def test_inner_summations_never_share_a_name_within_a_product() -> None:
    """``k`` summed inside one factor must not be read as summed across two factors."""
    assert str(ta.derivative(ta.sigmoid(A @ x), x)) == "A[i,j]*sigmoid(A[i,k]*x[k])*(1 - sigmoid(A[i,l]*x[l]))"


# ------------------------------------------------------------------ LaTeX

LATEX: dict[str, tuple[Callable[[], Node], str]] = {
    "A@x": (lambda: A @ x, "A_{ij} x_{j}"),
    "delta": (lambda: ta.derivative(x, x), r"\delta_{ij}"),
    "sigmoid": (lambda: ta.sigmoid(x), r"\sigma\left(x_{i}\right)"),
    "tanh": (lambda: ta.tanh(A @ x), r"\tanh\left(A_{ij} x_{j}\right)"),
    "exp": (lambda: ta.exp(x), r"\exp\left(x_{i}\right)"),
    "inv": (lambda: ta.inv(X), r"\operatorname{inv}(X)_{ij}"),
    "logdet": (lambda: ta.logdet(X), r"\log\det(X)"),
    "softmax": (lambda: ta.softmax(z, axis=0), r"\operatorname{softmax}_{i}\left(z_{i}\right)"),
    "sum": (lambda: ta.sum(x), r"\sum_{i} x_{i}"),
    "scale": (lambda: 2 * A, r"2 \, A_{ij}"),
    "difference": (lambda: A - B, "A_{ij} - B_{ij}"),
    "sum in a product": (lambda: (A + B) @ x, r"\left(A_{ij} + B_{ij}\right) x_{j}"),
    "power": (lambda: x**3, "{x_{i}}^{3}"),
    "mf hessian": (lambda: ta.derivative(ta.derivative(factorization(), U), U), r"2 \, \delta_{ik} V_{mj} V_{ml}"),
}


@pytest.mark.parametrize(("make", "expected"), LATEX.values(), ids=LATEX.keys())
def test_latex(make: Callable[[], Node], expected: str) -> None:
    assert make().to_latex() == expected


def test_latex_of_the_quadratic_form_gradient() -> None:
    assert terms(ta.derivative(quadratic(), x).to_latex()) == {"A_{ij} x_{j}", "A_{ji} x_{j}"}


# ------------------------------------------------------------------ DOT

NODE = re.compile(r'^  n(\d+) \[label="((?:[^"\\]|\\.)*)"(, peripheries=2)?\];$')
EDGE = re.compile(r'^  n(\d+) -> n(\d+)(?: \[label="[^"]*"\])?;$')


def parse_dot(text: str) -> tuple[dict[int, str], list[tuple[int, int]], list[int]]:
    """Nodes (number → label), edges and the marked outputs of our DOT layout; every line
    must be a header, a node, an edge or the closing brace."""
    lines = text.split("\n")
    assert lines[0] == "digraph tensorad {" and lines[-1] == "}"
    assert lines[1].startswith("  node [")
    nodes: dict[int, str] = {}
    edges: list[tuple[int, int]] = []
    roots: list[int] = []
    for line in lines[2:-1]:
        if node := NODE.match(line):
            k = int(node[1])
            assert k not in nodes
            nodes[k] = node[2]
            roots += [k] if node[3] else []
        else:
            edge = EDGE.match(line)
            assert edge, line
            edges.append((int(edge[1]), int(edge[2])))
    return nodes, edges, roots


DAGS: dict[str, Callable[[], Node]] = {
    "shared exp": lambda: ta.exp(x) * ta.exp(x) + ta.sum(ta.exp(x)),
    "quadratic gradient": lambda: ta.derivative(quadratic(), x),
    "mf hessian": lambda: ta.derivative(ta.derivative(factorization(), U), U),
    "logdet hessian": lambda: ta.derivative(ta.derivative(ta.logdet(X), X), X),
}


@pytest.mark.parametrize("make", DAGS.values(), ids=DAGS.keys())
def test_dot_draws_each_node_once(make: Callable[[], Node]) -> None:
    expr = make()
    order = toposort([expr])
    nodes, edges, roots = parse_dot(expr.to_dot())
    assert len(nodes) == len(order)
    assert len(edges) == sum(len(children(node)) for node in order)
    assert roots == [len(order) - 1]
    assert all(a < b for a, b in edges)  # operands come before their users
    number = {id(node): k for k, node in enumerate(order)}
    assert sorted(edges) == sorted((number[id(c)], k) for k, node in enumerate(order) for c in children(node))


def test_dot_labels() -> None:
    nodes, _, _ = parse_dot((ta.exp(A @ x) + x).to_dot())
    labels = "\n".join(nodes.values())
    for part in ("Variable A", "Variable x", "Contraction ij,j->i", "Elementwise exp", "Add", "shape=(3,)"):
        assert part in labels


# ------------------------------------------------------------------ repr and large DAGs


def test_repr() -> None:
    assert repr(A @ x) == "<Contraction ij,j->i shape=(3,) : A[i,j]*x[j]>"
    assert repr(x) == "<Variable x shape=(3,)>"
    assert repr(ta.Variable("w", (2,), np.dtype(np.float32))) == "<Variable w shape=(2,) dtype=float32>"
    assert repr(ta.inv(X)) == "<GeneralUnary inv shape=(3, 3) : inv(X)[i,j]>"


def chains() -> dict[str, Node]:
    """Chains of 10,000 nodes of each kind."""
    out: dict[str, Node] = {}
    node: Node = x
    for _ in range(10_000):
        node = A @ node
    out["matmul"] = node
    node = x
    for _ in range(10_000):
        node = ta.exp(node)
    out["exp"] = node
    node = x
    for _ in range(10_000):
        node = node + ta.sin(node)
    out["add"] = node
    node = x
    for _ in range(10_000):
        node = node * x + A @ node
    out["mixed"] = node
    return out


def test_long_chains_print_bounded() -> None:
    for name, expr in chains().items():
        text = str(expr)
        assert text and len(text) <= LIMIT + 1, name
        assert "…" in text, name
        assert len(expr.to_latex()) <= LIMIT + 1
        summary = repr(expr)
        assert "\n" not in summary and len(summary) <= 120 and summary.endswith("…>"), name
        nodes, _, _ = parse_dot(expr.to_dot())
        assert len(nodes) == len(toposort([expr]))


def test_naming_a_long_product_looks_at_each_index_name_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A product of n factors names n summed indices in one pass over the index names (it
    took one pass per index: 12 s for 3,000 factors), and still names them in order."""
    calls = 0

    def counted(k: int) -> str:
        nonlocal calls
        calls += 1
        return notation.index_name(k)

    monkeypatch.setattr(printing, "index_name", counted)
    node: Node = x
    for _ in range(2000):
        node = A @ node
    text = str(node)
    assert calls <= 4 * 2000, calls
    assert text.startswith("A[i,j]*A[j,k]*A[k,l]*"), text[:40]
    assert text.endswith("…") and "A[k1,l1]*" in text


def test_naming_shared_subexpressions_walks_the_dag_once_not_once_per_candidate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``shared=True`` tries each repeated subexpression by printing its line alone: it used
    to walk the candidate's DAG and print every name made so far on each try (15 s for the
    derivative of 2,000 nested ``exp``)."""
    walks = 0
    toposort_ = printing.toposort

    def counted(nodes: list[Node]) -> list[Node]:
        nonlocal walks
        walks += 1
        return toposort_(nodes)

    monkeypatch.setattr(printing, "toposort", counted)
    node: Node = x
    for _ in range(200):
        node = ta.exp(node)
    text = printing.index_notation(ta.derivative(node, x), name="d", shared=True)
    assert walks <= 2, walks
    assert text.startswith("d[i,j] = exp(exp(t") and "\nwhere t1[i] = " in text, text[:60]


def test_wide_sum_repr_is_one_bounded_line() -> None:
    total: Node = ta.Variable("v0", (2,))
    for k in range(1, 1000):
        total = total + ta.Variable(f"v{k}", (2,))
    assert len(repr(total)) <= 120 and "\n" not in repr(total)


# ------------------------------------------------------------------ random DAGs


@settings(deadline=None)  # tracing and differentiating dominate, not printing
@given(random_dags(output="scalar") | random_dags(output="array"), st.booleans())
def test_random_dags_print(program: DagProgram, differentiate: bool) -> None:
    """``str`` never raises and is non-empty, for expressions and their derivatives."""
    variable = ta.Variable("x", program.input_shape)
    expr = program.function(TENSORAD)(variable)
    if differentiate:
        expr = ta.derivative(expr, variable)
    text = str(expr)
    assert text and "\n" not in text
    assert expr.to_latex()
    assert "\n" not in repr(expr) and len(repr(expr)) <= 120
    nodes, _, _ = parse_dot(expr.to_dot())
    assert len(nodes) == len(toposort([expr]))


def test_jupyter_shows_the_formula_and_draws_the_dag_with_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tensorad.numpy.methods as methods

    x = ta.Variable("x", (3,))
    assert ta.sum(ta.exp(x))._repr_latex_() == r"$\sum_{i} \exp\left(x_{i}\right)$"
    monkeypatch.setattr(methods.shutil, "which", lambda name: None)
    assert ta.exp(x)._repr_svg_() is None  # no graphviz: the formula alone
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg><!-- $(wc -l) lines --></svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(methods.shutil, "which", lambda name: str(fake))
    svg = ta.exp(x)._repr_svg_()
    assert svg is not None and svg.startswith("<svg>") and "lines" in svg  # dot read the DOT text
