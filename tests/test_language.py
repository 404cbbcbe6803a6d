"""The index-notation language (:mod:`tensorad.language`) against hand-written numpy.

Three oracles: a table of expressions beside the numpy formula a reader would write for
them; a table of malformed inputs beside the column a reader would point at; and random
expressions drawn from a small grammar, each built together with its numpy value (and
read again with every label renamed to a word: the names of labels change nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

import tensorad as ta
from tensorad.errors import SpecError, TensoradError
from tensorad.language import Parsed, ParseError, parse, parse_dims
from tensorad.run.evaluate import evaluate

Array = np.ndarray
Env = Mapping[str, Array]


Special = Mapping[str, Callable[[tuple[int, ...]], Array]]


def _values(parsed: Parsed, seed: int = 0, special: Special | None = None) -> dict[str, Array]:
    rng = np.random.default_rng(seed)
    special = special or {}
    return {
        name: special[name](v.shape) if name in special else rng.uniform(-1.0, 1.0, v.shape)
        for name, v in parsed.variables.items()
    }


def _evaluate(parsed: Parsed, arrays: Env) -> Array:
    return np.asarray(evaluate([parsed.expr], {v: arrays[name] for name, v in parsed.variables.items()})[0])


def _spd(shape: tuple[int, ...]) -> Array:
    """Well-conditioned symmetric positive definite matrices (batched over leading axes)."""
    rng = np.random.default_rng(1)
    m = rng.uniform(-1.0, 1.0, shape)
    return np.eye(shape[-1]) * shape[-1] + m @ np.swapaxes(m, -1, -2) / shape[-1]


def _softmax(z: Array, axis: int) -> Array:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.asarray(e / e.sum(axis=axis, keepdims=True))


# ------------------------------------------------------------------ expressions against numpy


@dataclass(frozen=True)
class Case:
    text: str
    oracle: Callable[..., Any]  # keyword arguments: the variables by name; returns an array or a number
    output: str | tuple[str, ...]  # the output labels: letters ("ij"), or names (("out", "inp"))
    dims: dict[str, int] = field(default_factory=dict)
    special: Special = field(default_factory=dict)


SPD = {"X": _spd, "M": _spd}
CASES = [
    Case("x[i] A[i,j] x[j]", lambda x, A: x @ A @ x, ""),
    Case("x[i] * A[i,j] * x[j]", lambda x, A: x @ A @ x, ""),
    Case("A[i,k] B[k,j]", lambda A, B: A @ B, "ij", {"i": 2, "j": 3, "k": 4}),
    Case("A[i,j] A[j,k] A[k,i]", lambda A: np.trace(A @ A @ A), ""),
    Case("A[i,i]", lambda A: np.trace(A), ""),
    Case("d[i] = A[i,i]", lambda A: np.diag(A), "i"),
    Case("out[i] = x[i] y[i]", lambda x, y: x * y, "i"),
    Case("x[i] y[j]", lambda x, y: np.outer(x, y), "ij", {"i": 2, "j": 4}),
    Case("f[j,i] = x[i] y[j]", lambda x, y: np.outer(y, x), "ji", {"i": 2, "j": 4}),
    Case("out[j,i] = A[i,j]", lambda A: A.T, "ji", {"i": 2, "j": 3}),
    Case("A[i,j] + B[j,i]", lambda A, B: A + B.T, "ij", {"i": 2, "j": 3}),
    Case("A[i,j] x[j] - 2 b[i] + s", lambda A, x, b, s: A @ x - 2 * b + s, "i", {"i": 2, "j": 5}),
    Case("sum_i(exp(x[i]))", lambda x: np.exp(x).sum(), ""),
    Case("sum(x[i] y[j])", lambda x, y: np.outer(x, y).sum(), "", {"i": 2, "j": 4}),
    Case("sum(A[i,j], j)", lambda A: A.sum(axis=1), "i", {"i": 2, "j": 4}),
    Case("r[i] = sum(A[i,j])", lambda A: A.sum(axis=1), "i", {"i": 2, "j": 4}),
    Case("logdet(X)", lambda X: np.linalg.slogdet(X)[1], "", special=SPD),
    Case("logdet(X[i,j])", lambda X: np.linalg.slogdet(X)[1], "", {"i": 4, "j": 4}, SPD),
    Case("det(X[i,j])", lambda X: np.linalg.det(X), "", special=SPD),
    Case("inv(X[i,j]) y[j]", lambda X, y: np.linalg.solve(X, y), "i", special=SPD),
    Case("X[i,j] - inv(X)", lambda X: X - np.linalg.inv(X), "ij", special=SPD),
    Case("logdet(M[b,i,j])", lambda M: np.linalg.slogdet(M)[1], "b", {"b": 2}, SPD),
    Case("o[b,i] = inv(M[b,i,j]) y[b,j]", lambda M, y: np.linalg.solve(M, y[..., None])[..., 0], "bi", {"b": 2}, SPD),
    Case("softmax(z[i], i)", lambda z: _softmax(z, 0), "i", {"i": 5}),
    Case("softmax(Z[n,k], k)", lambda Z: _softmax(Z, 1), "nk", {"n": 2, "k": 5}),
    Case("logsumexp(Z[n,k], k)", lambda Z: scipy.special.logsumexp(Z, axis=1), "n", {"n": 2, "k": 5}),
    Case("logsumexp(Z[n,k])", lambda Z: scipy.special.logsumexp(Z), "", {"n": 2, "k": 5}),
    Case("norm(A[i,j], i)", lambda A: np.linalg.norm(A, axis=0), "j", {"i": 2, "j": 4}),
    Case("norm(x[i])", lambda x: np.linalg.norm(x), ""),
    Case("x[i]^2", lambda x: x**2, "i"),
    Case("x[i]**3", lambda x: x**3, "i"),
    Case("-x[i]^2", lambda x: -(x**2), "i"),
    Case("(x[i]^2)^0.5", lambda x: np.abs(x), "i"),
    Case("x[i]^2^-1 + 0 x[i]", lambda x: np.sqrt(x), "i", special={"x": lambda s: np.linspace(1, 2, s[0])}),
    Case("x[i]^-1", lambda x: 1 / x, "i"),
    Case("2^3^2 x[i]", lambda x: 512 * x, "i"),
    Case("1/(1 + exp(-w[j] X[n,j]))", lambda w, X: 1 / (1 + np.exp(-X @ w)), "n", {"n": 5, "j": 3}),
    Case("sigmoid(X[n,j] w[j])", lambda X, w: scipy.special.expit(X @ w), "n", {"n": 5, "j": 3}),
    Case("sum_i(-(x[i] - y[i])^2)", lambda x, y: -np.sum((x - y) ** 2), ""),
    Case("-sum_i((x[i] - y[i])^2)", lambda x, y: -np.sum((x - y) ** 2), ""),
    Case(
        "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))",
        lambda y, X, w: np.sum(np.log1p(np.exp(-y * (X @ w)))),
        "",
        {"n": 6, "j": 3},
    ),
    Case("x[i] / y[i]", lambda x, y: x / y, "i"),
    Case("x[i] y[i] / z[i]", lambda x, y, z: (x @ y) / z, "i"),
    Case("x[i] / y[i] z[i]", lambda x, y, z: np.sum(x / y * z), ""),  # left to right
    Case("A[i,j] x[j] / z[i]", lambda A, x, z: (A @ x) / z, "i", {"i": 2, "j": 4}),
    Case("x[i] / y[j]", lambda x, y: x[:, None] / y[None, :], "ij", {"i": 2, "j": 4}),
    Case("2 x[i] - x[i] / 4 + 1", lambda x: 1.75 * x + 1, "i"),
    Case("a * (x[i] + 1)", lambda a, x: a * (x + 1), "i"),
    Case("(x[i] + y[i]) (x[i] - y[i])", lambda x, y: (x + y) @ (x - y), ""),
    Case("exp(x[i]) y[i]", lambda x, y: np.exp(x) @ y, ""),
    Case("T[i,j,k] u[j] v[k]", lambda T, u, v: np.einsum("ijk,j,k->i", T, u, v), "i", {"i": 2, "j": 3, "k": 4}),
    Case("tanh(A[i,j]) + sin(B[j,i])", lambda A, B: np.tanh(A) + np.sin(B.T), "ij", {"i": 2, "j": 3}),
    Case("3", lambda: np.float64(3), ""),
    Case("out[i,j] = inv(X[i,j])[j,i]", lambda X: np.linalg.inv(X).T, "ij", special=SPD),
    Case("inv(X[i,j])[k,k]", lambda X: np.trace(np.linalg.inv(X)), "", special=SPD),
    Case("(A[i,k] B[k,j])[a,b] c[b]", lambda A, B, c: A @ B @ c, "a", {"i": 2, "a": 2, "k": 4}),
    Case("x[i] softmax(z[j], j)[i]", lambda x, z: x @ _softmax(z, 0), ""),
    # labels that are words, and the sums of several labels
    Case("W[out,inp] x[inp]", lambda W, x: W @ x, ("out",), {"out": 3, "inp": 4}),
    Case("sum_{out,inp}(W[out,inp])", lambda W: W.sum(), "", {"out": 3, "inp": 4}),
    Case("sum_inp(W[out,inp])", lambda W: W.sum(axis=1), ("out",), {"out": 3, "inp": 4}),
    Case("sum_{i}(x[i]) + sum_{i,j}(A[i,j])", lambda x, A: x.sum() + A.sum(), "", {"i": 2, "j": 4}),
    Case("sum_i(x[i] y[k], k)", lambda x, y: np.outer(x, y).sum(), "", {"i": 2, "k": 4}),
    Case("A[i1,j2] x[j2]", lambda A, x: A @ x, ("i1",), {"i1": 2, "j2": 5}),
    Case("sum_i1(x[i1] y[i1])", lambda x, y: x @ y, ""),
    Case(
        "y[b,out] = W[out,inp] X[b,inp] + bias[out]",
        lambda W, X, bias: X @ W.T + bias,
        ("b", "out"),
        {"b": 2, "out": 3, "inp": 4},
    ),
    Case("∂f/∂w[inp] = W[out,inp] v[out]", lambda W, v: W.T @ v, ("inp",), {"out": 3, "inp": 4}),
    Case("inv(X[row,col])[col,row]", lambda X: np.linalg.inv(X).T, ("col", "row"), special=SPD),
    Case("logsumexp(Z[n,cls], cls)", lambda Z: scipy.special.logsumexp(Z, axis=1), ("n",), {"n": 2, "cls": 5}),
    Case("delta[n_a,n_b] x[n_b]", lambda x: x, ("n_a",)),
    Case("A[ij] B[jk]", lambda A, B: np.outer(A, B), ("ij", "jk"), {"ij": 2, "jk": 4}),  # two vectors
    Case("sum_ij(x[ij])", lambda x: x.sum(), ""),  # one label, ij
]


@pytest.mark.parametrize("case", CASES, ids=[case.text for case in CASES])
def test_expression_equals_its_numpy_formula(case: Case) -> None:
    parsed = parse(case.text, case.dims)
    arrays = _values(parsed, special=case.special)
    assert parsed.output == tuple(case.output)
    actual = _evaluate(parsed, arrays)
    expected = case.oracle(**arrays)
    assert actual.shape == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def test_variables_are_in_order_of_first_appearance_and_shaped_by_their_labels() -> None:
    parsed = parse("A[i,k] B[k,j] + C[i,j] s", dims={"i": 2, "k": 4}, default_size=5)
    assert list(parsed.variables) == ["A", "B", "C", "s"]
    assert {name: v.shape for name, v in parsed.variables.items()} == {
        "A": (2, 4),
        "B": (4, 5),
        "C": (2, 5),
        "s": (),
    }
    assert parsed.expr.shape == (2, 5)
    assert all(isinstance(v, ta.Variable) for v in parsed.variables.values())


def test_a_variable_used_twice_is_one_variable() -> None:
    parsed = parse("A[i,j] + A[j,i]")
    (A,) = parsed.variables.values()
    a = np.arange(9.0).reshape(3, 3)
    np.testing.assert_allclose(evaluate([parsed.expr], {A: a})[0], a + a.T)


def test_variables_can_be_reused_across_parses() -> None:
    first = parse("x[i] A[i,j] x[j]", {"i": 2, "j": 2})
    second = parse("A[i,j] x[j] + A[j,i] x[j]", {"i": 2, "j": 2}, variables=first.variables)
    assert second.variables["A"] is first.variables["A"] and second.variables["x"] is first.variables["x"]
    with pytest.raises(ParseError, match="axis 0 of x has size 2") as info:
        parse("x[k]", {"k": 4}, variables=first.variables)
    assert info.value.column == 2
    with pytest.raises(ParseError, match="write it with labels"):
        parse("2 x", variables=first.variables)


def test_parsed_expressions_differentiate() -> None:
    """The gradient of the logistic loss is Xᵀ(−y ⊙ σ(−y ⊙ Xw)), derived by hand."""
    parsed = parse("sum_n(log(1 + exp(-y[n] X[n,j] w[j])))", {"n": 6, "j": 3})
    arrays = _values(parsed, seed=3)
    y, X, w = arrays["y"], arrays["X"], arrays["w"]
    gradient = ta.derivative(parsed.expr, parsed.variables["w"])
    actual = evaluate([gradient], {v: arrays[name] for name, v in parsed.variables.items()})[0]
    np.testing.assert_allclose(actual, X.T @ (-y * scipy.special.expit(-y * (X @ w))), rtol=1e-10)


def test_text_is_never_evaluated() -> None:
    with pytest.raises(ParseError) as info:
        parse("__import__('os').system('true')")
    assert info.value.column == 11  # the quote: the text is tokenized, and Python strings are no token
    with pytest.raises(ParseError, match="unknown function '__import__'"):
        parse("__import__(os)")


# ------------------------------------------------------------------ malformed input points at the column

ERRORS = [
    ("x[i] + y[j]", {}, 5, "must have all"),
    ("x[i] - y[j]", {}, 5, "cannot subtract"),
    ("x[i] A[i,j] y[i]", {}, 14, "3 times"),
    ("A[i,i] x[i]", {}, 9, "3 times"),
    ("(x[i] + y[i]", {}, 0, "unclosed '('"),
    ("exp(x[i]", {}, 3, "unclosed '('"),
    ("x[i] + y[i])", {}, 11, "unbalanced ')'"),
    ("x[i", {}, 1, "unclosed '['"),
    ("x[i,", {}, 1, "unclosed '['"),
    ("x[i]]", {}, 4, "unbalanced ']'"),
    ("(x[i]]", {}, 5, "expected ')'"),
    ("x[i)", {}, 3, "expected ',' or ']'"),
    ("foo(x[i])", {}, 0, "unknown function 'foo'"),
    ("x[i] + a (y[i])", {}, 7, "unknown function 'a'"),
    ("x[i] # y[i]", {}, 5, "unexpected character '#'"),
    ("x[i] * * y[i]", {}, 7, "got '*'"),
    ("x[i] +", {}, 6, "end of input"),
    ("", {}, 0, "end of input"),
    ("x[i]^y", {}, 5, "numeric constant"),
    ("x[i]^(2 y)", {}, 5, "numeric constant"),
    ("2^x[i]", {}, 2, "numeric constant"),
    ("(-8)^0.5", {}, 5, "not a finite real number"),
    ("x[i] / (1 - 1)", {}, 5, "division by zero"),
    ("out[i] = A[i,j]", {}, 13, "free label j is missing"),
    ("out[i,i] = x[i]", {}, 6, "appears twice"),
    ("x[i] + 1 = y[i]", {}, 5, "expected '='"),
    ("2 = x[i]", {}, 0, "output's name"),
    ("x[i] = y[i] = z[i]", {}, 12, "unexpected '='"),
    ("A[i,j] x[j] + A[i]", {}, 14, "2 axes"),
    ("inv(X[i,j])[i]", {}, 11, "2 free labels"),
    ("(x[i] + y[i])[j]", {"j": 4}, 14, "size"),
    ("x[i] (A[i,j] y[j])[i,j]", {}, 18, "1 free labels"),
    ("A[i,j] + A[j,i]", {"i": 2, "j": 3}, 11, "size"),
    ("x[1]", {}, 2, "expected a label"),
    ("x[_i]", {}, 2, "starts with a letter"),
    ("x[i j]", {}, 4, "expected ',' or ']'"),
    ("exp + 1", {}, 0, "is a function"),
    ("exp(x[i], i)", {}, 10, "takes one argument"),
    ("softmax(z[i], j)", {}, 14, "not a free label"),
    ("softmax(z[i], i, i)", {}, 17, "named twice"),
    ("sum_k(x[i])", {}, 4, "not a free label"),
    ("x[i] + sum_(x[i])", {}, 11, "expected a label"),
    ("sum__i(x[i])", {}, 4, "starts with a letter"),
    ("sum_{}(x[i])", {}, 5, "expected a label"),
    ("sum_{i,j(A[i,j])", {}, 8, "expected ',' or '}'"),
    ("sum_{i,j", {}, 4, "unclosed '{'"),
    ("sum_{i,j} A[i,j]", {}, 10, "expected '(' after sum_{i,j}"),
    ("sum_{i,j} + 1", {}, 10, "expected '(' after sum_{i,j}"),
    ("sum_{i,i}(A[i,i])", {}, 7, "named twice"),
    ("sum_ij(A[i,j])", {}, 4, "labels are comma-separated: write sum_{i,j}(…)"),
    ("softmax(Z[i,j], ij)", {}, 16, "labels are comma-separated: write softmax(…, i, j)"),
    ("A[ij] B[jk]", {"i": 2, "j": 3, "k": 4}, 2, "labels are comma-separated: write A[i,j] (or size ij in dims)"),
    ("A[i,j] + A[ij]", {}, 9, "labels are comma-separated: write A[i,j]"),
    ("T[i,j,k] + T[ij,k]", {}, 11, "labels are comma-separated: write T[i,j,k]"),
    ("inv(X[i,j])[ji]", {}, 11, "labels are comma-separated: write (…)[j,i]"),
    ("{x[i]}", {}, 0, "got '{'"),
    ("logsumexp(2)", {}, 0, "no free label"),
    ("inv(x[i])", {}, 0, "needs a matrix"),
    ("det(A[i,j])", {"i": 2, "j": 3}, 0, "square"),
    ("x[i] + inv(X) y[i]", {}, 7, "name the axes"),
    ("logdet(X) + X", {}, 12, "matrix without labels"),
]


@pytest.mark.parametrize(("text", "dims", "column", "words"), ERRORS, ids=[e[0] or "empty" for e in ERRORS])
def test_malformed_input_raises_with_a_caret_at_the_column(
    text: str, dims: dict[str, int], column: int, words: str
) -> None:
    with pytest.raises(ParseError) as info:
        parse(text, dims)
    err = info.value
    assert isinstance(err, SpecError) and isinstance(err, ValueError) and isinstance(err, TensoradError)
    assert err.column == column
    description, shown, caret = str(err).split("\n")
    assert words in description
    assert shown == "  " + text
    assert caret == "  " + " " * column + "^"


def test_deep_nesting_reads_thousands_of_levels_and_refuses_more() -> None:
    deep = parse("(" * 4000 + "x" + ")" * 4000)
    assert deep.expr is deep.variables["x"]
    p = parse("exp(" * 3000 + "x[i]" + ")" * 3000)
    assert p.expr.shape == (3,) and p.output == ("i",)
    with pytest.raises(ParseError, match="nested more than 5000 levels"):
        parse("(" * 6000 + "x" + ")" * 6000)
    with pytest.raises(ParseError, match="nested more than 5000 levels"):
        parse("-" * 6000 + "x")


def test_bad_dims_mapping() -> None:
    for label in ("_i", "1", "i j", ""):
        with pytest.raises(SpecError, match="is not a label"):
            parse("x[i]", {label: 3})
    with pytest.raises(ValueError, match="positive"):
        parse("x[i]", {"i": 0})


# ------------------------------------------------------------------ --dims


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i=3,j=4", {"i": 3, "j": 4}),
        (" i = 3 , J=10 ", {"i": 3, "J": 10}),
        ("", {}),
        ("  ", {}),
        ("n=1", {"n": 1}),
        ("out=3, inp=4", {"out": 3, "inp": 4}),
        ("i1=2,n_batch=5", {"i1": 2, "n_batch": 5}),
    ],
)
def test_parse_dims(text: str, expected: dict[str, int]) -> None:
    assert parse_dims(text) == expected


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("i", 1, "expected '='"),
        ("i=", 2, "expected the size"),
        ("i=x", 2, "expected the size"),
        ("i=3,j", 5, "expected '='"),
        ("i=3,", 4, "expected label=size"),
        ("i=3,,j=2", 4, "expected label=size"),
        ("=3", 0, "expected label=size"),
        ("_=3", 0, "starts with a letter"),
        ("_i=3", 0, "starts with a letter"),
        ("out inp=3", 4, "expected '='"),
        ("i=3,i=4", 4, "given twice"),
        ("i=0", 2, "positive"),
        ("i=3 4", 4, "expected ','"),
        ("i=3;j=2", 3, "expected ','"),
        ("i=-3", 2, "expected the size"),
    ],
)
def test_parse_dims_errors_point_at_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_dims(text)
    assert isinstance(info.value, ValueError)
    assert info.value.column == column
    description, shown, caret = str(info.value).split("\n")
    assert words in description
    assert (shown, caret) == ("  " + text, "  " + " " * column + "^")


# ------------------------------------------------------------------ random expressions with a numpy twin

SIZES = {"i": 2, "j": 3, "k": 4}
LEAVES = {  # variable name -> its labels; every label set over i, j, k has one
    "s": "",
    "x": "i",
    "y": "i",
    "u": "j",
    "v": "k",
    "A": "ij",
    "B": "ji",
    "C": "jk",
    "D": "ki",
    "T": "ijk",
}
FUNCTIONS: dict[str, Callable[[Array], Array]] = {
    "tanh": np.tanh,
    "sin": np.sin,
    "sigmoid": scipy.special.expit,
    "softplus": lambda a: np.logaddexp(0.0, a),
    "square": np.square,
    "abs": np.abs,
}
SUM, PRODUCT, POWER, ATOM = range(4)  # precedence of a rendered expression


@dataclass(frozen=True)
class Gen:
    """Text, and its value: a function of the variables with axes in sorted label order."""

    text: str
    value: Callable[[Env], Any]
    precedence: int


def _wrap(g: Gen, precedence: int) -> str:
    return g.text if g.precedence >= precedence else f"({g.text})"


def _axis(labels: frozenset[str], label: str) -> int:
    return sorted(labels).index(label)


def _broadcast(a: Array, labels: frozenset[str], target: frozenset[str]) -> Array:
    return np.reshape(a, [SIZES[label] if label in labels else 1 for label in sorted(target)])


@st.composite
def expressions(draw: st.DrawFn, target: frozenset[str], bound: frozenset[str], depth: int) -> Gen:
    """An expression whose free labels are ``target`` inside a scope binding ``bound``."""
    free = frozenset(SIZES) - bound - target
    kinds = ["leaf"] + (["number"] if not target else [])
    if depth > 0:
        kinds += ["product", "product", "sum", "function", "power", "negate", "divide", "paren"]
        kinds += ["logsumexp"] * (target != frozenset(SIZES)) + ["sum_over"] * bool(free)
        kinds += ["softmax"] * bool(target) + ["sum_all"] * (target <= bound) + ["broadcast"] * bool(target)
    kind = draw(st.sampled_from(kinds))
    sub = depth - 1
    if kind == "number":
        c = draw(st.sampled_from([0.5, 1.0, 2.0, 3.0, 1.5]))
        return Gen(f"{c:g}", lambda env: np.float64(c), ATOM)
    if kind == "leaf":
        name = draw(st.sampled_from([n for n, labels in LEAVES.items() if set(labels) == target]))
        labels = LEAVES[name]
        text = name if not labels else f"{name}[{','.join(labels)}]"
        order = "".join(sorted(labels))
        return Gen(text, lambda env: np.einsum(f"{labels}->{order}", env[name]), ATOM)
    if kind == "product":
        n = draw(st.integers(2, 3))
        parts: list[set[str]] = [set() for _ in range(n)]
        for label in sorted(SIZES):
            if label in target and label not in bound:
                parts[draw(st.integers(0, n - 1))].add(label)
            elif label in target:
                for k in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True)):
                    parts[k].add(label)
            elif label in free and draw(st.booleans()):
                for k in draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True)):
                    parts[k].add(label)
        factors = [draw(expressions(frozenset(p), bound, sub)) for p in parts]
        text = _wrap(factors[0], POWER)
        for g in factors[1:]:
            piece = _wrap(g, POWER)
            text += " * " + piece if piece.startswith("(") else draw(st.sampled_from([" ", " * "])) + piece
        spec = ",".join("".join(sorted(p)) for p in parts) + "->" + "".join(sorted(target))
        return Gen(text, lambda env: np.einsum(spec, *(g.value(env) for g in factors)), PRODUCT)
    if kind in ("sum", "broadcast"):
        a = draw(expressions(target, bound, sub))
        b = draw(expressions(target if kind == "sum" else frozenset(), bound, sub))
        if draw(st.booleans()):
            a, b = b, a
        sign = draw(st.sampled_from([1.0, -1.0]))
        text = f"{a.text} {'+' if sign > 0 else '-'} {_wrap(b, PRODUCT)}"
        return Gen(text, lambda env: a.value(env) + sign * b.value(env), SUM)
    if kind == "function":
        name = draw(st.sampled_from(sorted(FUNCTIONS)))
        a = draw(expressions(target, bound, sub))
        return Gen(f"{name}({a.text})", lambda env: FUNCTIONS[name](a.value(env)), ATOM)
    if kind == "power":
        a, p = draw(expressions(target, bound, sub)), draw(st.sampled_from([2, 3]))
        return Gen(f"{_wrap(a, ATOM)}^{p}", lambda env: a.value(env) ** p, POWER)
    if kind == "negate":
        a = draw(expressions(target, bound, sub))
        return Gen(f"-{_wrap(a, PRODUCT)}", lambda env: -a.value(env), PRODUCT)
    if kind == "paren":
        a = draw(expressions(target, bound, sub))
        return Gen(f"({a.text})", a.value, ATOM)
    if kind == "divide":  # numerator and denominator labels cover the target; the denominator is ≥ 2
        split = {label: draw(st.sampled_from(["num", "den", "both"])) for label in sorted(target)}
        top = frozenset(label for label, side in split.items() if side != "den")
        bottom = frozenset(label for label, side in split.items() if side != "num")
        a, b = draw(expressions(top, bound, sub)), draw(expressions(bottom, bound, sub))
        text = f"{_wrap(a, PRODUCT)} / (2 + {_wrap(b, ATOM)}^2)"
        return Gen(
            text,
            lambda env: _broadcast(a.value(env), top, target) / _broadcast(2 + b.value(env) ** 2, bottom, target),
            PRODUCT,
        )
    if kind == "sum_over":
        over = draw(st.permutations(sorted(draw(st.sets(st.sampled_from(sorted(free)), min_size=1, max_size=2)))))
        inner = target | set(over)
        a = draw(expressions(inner, bound | set(over), sub))
        texts = [f"sum_{{{','.join(over)}}}({a.text})", f"sum({', '.join([a.text, *over])})"]
        text = draw(st.sampled_from(texts + [f"sum_{over[0]}({a.text})"] * (len(over) == 1)))
        axes = tuple(_axis(inner, label) for label in over)
        return Gen(text, lambda env: np.sum(a.value(env), axis=axes), ATOM)
    if kind == "sum_all":
        reduced = frozenset(draw(st.sets(st.sampled_from(sorted(free))))) if free else frozenset()
        inner = target | reduced
        a = draw(expressions(inner, bound, sub))
        axes = tuple(_axis(inner, label) for label in reduced)
        return Gen(f"sum({a.text})", lambda env: np.sum(a.value(env), axis=axes), ATOM)
    if kind == "softmax":
        label = draw(st.sampled_from(sorted(target)))
        a = draw(expressions(target, bound | {label}, sub))
        return Gen(f"softmax({a.text}, {label})", lambda env: _softmax(a.value(env), _axis(target, label)), ATOM)
    assert kind == "logsumexp"
    label = draw(st.sampled_from(sorted(frozenset(SIZES) - target)))
    inner = target | {label}
    a = draw(expressions(inner, bound | {label}, sub))
    name, reduce = draw(
        st.sampled_from(
            [
                ("logsumexp", lambda z, axis: scipy.special.logsumexp(z, axis=axis)),
                ("norm", lambda z, axis: np.linalg.norm(z, axis=axis)),
            ]
        )
    )
    return Gen(f"{name}({a.text}, {label})", lambda env: reduce(a.value(env), _axis(inner, label)), ATOM)


@st.composite
def programs(draw: st.DrawFn) -> tuple[str, Gen, str | None]:
    """A statement, its twin, and the output order it states (None: first appearance)."""
    target = frozenset(draw(st.sets(st.sampled_from(sorted(SIZES)))))
    if draw(st.booleans()):
        order = "".join(draw(st.permutations(sorted(target))))
        g = draw(expressions(target, target, 3))
        return f"out[{','.join(order)}] = {g.text}", g, order
    g = draw(expressions(target, frozenset(), 3))
    return g.text, g, None


ARRAYS = {
    name: np.random.default_rng(7).uniform(-1.0, 1.0, [SIZES[label] for label in labels])
    for name, labels in LEAVES.items()
}


WORDS = {"i": "row", "j": "j2", "k": "k_in"}
"""The labels renamed to words: a program read with them is the same program."""


def _renamed(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each label (``i`` alone, or the one of ``sum_i``) renamed by ``names``."""
    return re.sub(r"(?<![\w])(sum_)?([ijk])(?![\w])", lambda m: (m.group(1) or "") + names[m.group(2)], text)


@given(programs(), st.booleans())
def test_random_expressions_equal_their_numpy_twin(program: tuple[str, Gen, str | None], words: bool) -> None:
    text, twin, order = program
    names = WORDS if words else {label: label for label in SIZES}
    parsed = parse(_renamed(text, names), {names[label]: n for label, n in SIZES.items()})
    for name, variable in parsed.variables.items():
        assert variable.shape == ARRAYS[name].shape
    expected = np.asarray(twin.value(ARRAYS))
    output = "".join(next(label for label in SIZES if names[label] == name) for name in parsed.output)
    labels = "".join(sorted(output))
    assert len(labels) == expected.ndim
    if order is not None:
        assert output == order
    expected = np.einsum(f"{labels}->{output}", expected)
    actual = _evaluate(parsed, ARRAYS)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9 * scale)


def test_an_output_label_the_expression_does_not_use_broadcasts() -> None:
    p = parse("out[k,i] = x[i]", dims={"i": 2, "k": 3})
    assert p.output == ("k", "i") and p.expr.shape == (3, 2)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(evaluate([p.expr], {p.variables["x"]: x})[0], np.broadcast_to(x, (3, 2)))


def test_matrix_functions_max_min_and_relu_against_numpy() -> None:
    import scipy.linalg

    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 4))
    spd = a @ a.T + 3 * np.eye(3)
    x = rng.normal(size=3)

    def value(text: str, **arrays: np.ndarray) -> np.ndarray:
        parsed = parse(text, dims={"i": 3, "j": 3, "k": 4})
        return parsed.expr.evaluate({parsed.variables[name]: arrays[name] for name in parsed.variables})

    np.testing.assert_allclose(value("trace(A[i,j])", A=spd), np.trace(spd))
    np.testing.assert_allclose(value("trace(A)", A=spd), np.trace(spd))
    np.testing.assert_allclose(value("out[i,k] = transpose(A[i,j] B[j,k])[k,i]", A=a, B=b), a @ b, rtol=1e-13)
    np.testing.assert_allclose(value("out[k,j] = transpose(B[j,k])", B=b), b.T)
    np.testing.assert_allclose(value("relu(x[i]) x[i]", x=x), np.maximum(x, 0) @ x)
    np.testing.assert_allclose(value("max(B[j,k], k)", B=b), b.max(axis=1))
    np.testing.assert_allclose(value("min(B[j,k])", B=b), b.min())
    np.testing.assert_allclose(value("cholesky(A)[i,j] x[j]", A=spd, x=x), np.linalg.cholesky(spd) @ x, rtol=1e-13)
    np.testing.assert_allclose(value("expm(A[i,j])[i,i]", A=a / 4), np.trace(scipy.linalg.expm(a / 4)), rtol=1e-12)
    np.testing.assert_allclose(value("sqrtm(A)[i,j]", A=spd), scipy.linalg.sqrtm(spd), rtol=1e-10)
    np.testing.assert_allclose(value("logm(A)[i,j]", A=spd), scipy.linalg.logm(spd).real, rtol=1e-10)
    with pytest.raises(ParseError, match=r"name the axes of cholesky\(A\)"):
        parse("cholesky(A)")
    with pytest.raises(ParseError, match="needs a square matrix"):
        parse("trace(B[j,k])", dims={"j": 3, "k": 4})
