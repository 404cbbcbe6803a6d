"""Derivatives print with the patterns' axis names where the axes survive (issue 21).

A named pattern (``ta.einsum("batch in, in out -> batch out", …)`` or tensorad.einops)
names the axes of the variables it is applied to; printing names an index after the
variable axis it runs over. The oracle for each printed formula: read back by
``ta.parse``, it evaluates to the closed-form derivative computed in numpy.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

import tensorad as ta
from tensorad.ir.axis_names import axis_hints, name_axes
from tensorad.symbolic.printing import index_notation

rng = np.random.default_rng(11)
X, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))


def layer_loss(x: Any, w: Any) -> Any:
    return ta.sum(ta.tanh(ta.einsum("batch in, in out -> batch out", x, w)) ** 2)


def closed_form_gradients() -> tuple[np.ndarray, np.ndarray]:
    """∂/∂W and ∂/∂x of Σ tanh(xW)², by hand: G = 2 tanh(H)(1 − tanh(H)²), H = xW."""
    T = np.tanh(X @ W)
    G = 2.0 * T * (1.0 - T * T)
    return X.T @ G, G @ W.T


def indices(text: str, variable: str) -> list[list[str]]:
    return [match.split(",") for match in re.findall(rf"\b{variable}\[([^\]]*)\]", text)]


def read_back(text: str, variables: dict[str, ta.Variable], values: dict[str, np.ndarray]) -> np.ndarray:
    parsed = ta.parse(text, variables=variables)
    return np.asarray(parsed.expr.evaluate(values))


def test_symbolic_derivatives_name_their_indices_after_the_pattern() -> None:
    x, w = ta.Variable("x", X.shape), ta.Variable("W", W.shape)
    loss = layer_loss(x, w)
    assert axis_hints(x) == ("batch", "in") and axis_hints(w) == ("in", "out")
    gradient_w, gradient_x = closed_form_gradients()
    for wrt, expected in ((w, gradient_w), (x, gradient_x)):
        derivative = ta.derivative(loss, wrt)
        text = str(derivative)
        assert all(axes[0] == "batch" for axes in indices(text, "x")), text  # x's first axis: batch, everywhere
        assert any(axes[1] == "out" for axes in indices(text, "W")), text
        statement = index_notation(derivative, name="g")  # its left side: the output's names, g[in,out]
        assert statement.startswith("g[batch,in] = " if wrt is x else "g[in,out] = "), statement
        value = read_back(statement, {"x": x, "W": w}, {"x": X, "W": W})
        np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_a_compiled_gradients_trace_names_the_arguments_axes() -> None:
    text = str(ta.jit(ta.grad(layer_loss, argnums=1)).trace(X, W))
    assert text.startswith("sum_batch(a0[batch,in]") and "a1[i,out]" in text, text
    a0, a1 = ta.Variable("a0", X.shape), ta.Variable("a1", W.shape)
    value = read_back(f"g[in,out] = {text}", {"a0": a0, "a1": a1}, {"a0": X, "a1": W})
    np.testing.assert_allclose(value, closed_form_gradients()[0], rtol=1e-12)


def test_names_belong_to_one_trace_and_unnamed_patterns_print_letters() -> None:
    ta.jit(ta.grad(layer_loss, argnums=1)).trace(X, W)  # names the axes of that trace's variables only

    def unnamed(x: Any, w: Any) -> Any:
        return ta.sum(ta.tanh(ta.einsum("bi,io->bo", x, w)) ** 2)

    text = str(ta.jit(ta.grad(unnamed, argnums=1)).trace(X, W))
    assert not re.search(r"batch|\bin\b|out", text), text


def test_einops_patterns_name_single_axes_not_compositions() -> None:
    einops = pytest.importorskip("tensorad.einops")

    def f(x: Any) -> Any:
        grouped = einops.rearrange(x, "b (h d) -> b h d", h=2)
        return ta.sum(ta.exp(grouped))

    x = ta.Variable("x", (4, 6))
    f(x)
    assert axis_hints(x) == ("b", None)  # (h d) is a composition: unnamed

    y, v = ta.Variable("y", (4, 3)), ta.Variable("v", (4,))
    loss = ta.sum(ta.exp(einops.rearrange(y, "b c -> c b")) * v)  # a transpose is a product: names survive it
    text = index_notation(ta.derivative(loss, y), name="d")
    assert text.startswith("d[b,c] = ") and "y[b,c]" in text, text
    Y, V = rng.standard_normal((4, 3)), rng.standard_normal(4)
    value = read_back(text, {"y": y, "v": v}, {"y": Y, "v": V})
    np.testing.assert_allclose(value, np.exp(Y) * V[:, None], rtol=1e-13)


def test_a_variable_keeps_the_first_name_of_each_axis() -> None:
    x = ta.Variable("x", (2, 3))
    name_axes(x, ("row", None))
    name_axes(x, ("other", "col"))
    name_axes(x, ("too", "many", "names"))  # not x's rank: ignored
    assert axis_hints(x) == ("row", "col")
    assert str(ta.sum(x, axis=1)) == "sum_col(x[row,col])"


def test_general_functions_arguments_keep_their_meaning_with_named_axes() -> None:
    """Inside ``inv(…)``, ``det(…)``, the argument's free indices are the statement's (which
    bind them): a named axis must not rename them there (a review found ``inv(A[row,col]*…)``
    read back as a sum over ``row``)."""
    A, B = ta.Variable("A", (3, 3)), ta.Variable("B", (3, 3))
    ta.einsum("row col, col out -> row out", A, B)  # names A's and B's axes
    x = ta.Variable("x", (2, 3, 3))
    ta.einsum("batch row col -> batch", x)
    values = {
        "A": rng.standard_normal((3, 3)) + 3 * np.eye(3),
        "B": rng.standard_normal((3, 3)) + 3 * np.eye(3),
        "x": rng.standard_normal((2, 3, 3)),
    }
    expressions = [
        ta.inv(A * B + A @ B),
        ta.inv(A * B),
        ta.derivative(ta.logdet(A * B + A @ B), A),
        ta.derivative(ta.det(A @ B + A * B), A),
        ta.det(x + 2.0),
    ]
    for expression in expressions:
        text = index_notation(expression, name="g")
        used = {name: values[name] for name in ("A", "B", "x") if re.search(rf"\b{name}\[", text)}
        value = read_back(text, {"A": A, "B": B, "x": x}, used)
        np.testing.assert_allclose(value, expression.evaluate(used), rtol=1e-10, err_msg=text)


def test_latex_writes_axis_names_upright() -> None:
    x, w = ta.Variable("x", (4, 3)), ta.Variable("W", (3, 2))
    latex = ta.einsum("n_batch in, in out -> n_batch out", x, w).to_latex()
    assert latex == r"x_{\mathrm{n\_batch} \mathrm{in}} W_{\mathrm{in} \mathrm{out}}"
