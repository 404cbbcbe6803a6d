"""Twenty-odd classic derivatives (the Matrix Cookbook's and MatrixCalculus.org's) with their
textbook forms in matrix notation: the table of ``docs/_data/classic_derivatives.csv``,
checked by ``tests/test_matrix_notation.py``."""

from __future__ import annotations

from collections.abc import Callable

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.ir.nodes import Node, Variable

D = ta.derivative
A, b = ta.Variable("A", (4, 3)), ta.Variable("b", (4,))
x, a = ta.Variable("x", (3,)), ta.Variable("a", (3,))
S, X, B = ta.Variable("S", (3, 3)), ta.Variable("X", (3, 3)), ta.Variable("B", (3, 3))
M, y, w = ta.Variable("M", (5, 3)), ta.Variable("y", (5,)), ta.Variable("w", (3,))
W, v = ta.Variable("W", (4, 3)), ta.Variable("v", (4,))
z, t = ta.Variable("z", (4,)), ta.Variable("t", (4,))
VARIABLES: dict[str, Variable] = {n.name: n for n in (A, b, x, a, S, X, B, M, y, w, W, v, z, t)}


def logistic() -> Node:
    return ta.sum(ta.log(1 + ta.exp(-y * (M @ w))))


def cross_entropy() -> Node:
    """Softmax cross-entropy written from ``exp`` and ``sum``, as by hand."""
    return -ta.sum(t * ta.log(ta.exp(z) / ta.sum(ta.exp(z))))


CLASSICS: dict[str, tuple[str, Callable[[], Node], str]] = {
    # name: (what is differentiated, the derivative, its textbook form)
    "linear form": ("∂(aᵀx)/∂x", lambda: D(a @ x, x), "a"),
    "quadratic form": ("∂(xᵀSx)/∂x", lambda: D(x @ S @ x, x), "(S + Sᵀ) x"),
    "quadratic form, Hessian": ("∂²(xᵀSx)/∂x²", lambda: D(D(x @ S @ x, x), x), "S + Sᵀ"),
    "least squares": ("∂‖Ax − b‖²/∂x", lambda: D(ta.sum((A @ x - b) ** 2), x), "2 Aᵀ (A x - b)"),
    "least squares, Hessian": ("∂²‖Ax − b‖²/∂x²", lambda: D(D(ta.sum((A @ x - b) ** 2), x), x), "2 Aᵀ A"),
    "least squares, in A": ("∂‖Ax − b‖²/∂A", lambda: D(ta.sum((A @ x - b) ** 2), A), "2 (A x - b) xᵀ"),
    "trace of a product": ("∂ tr(BX)/∂X", lambda: D(ta.trace(B @ X), X), "Bᵀ"),
    "trace of XBXᵀ": ("∂ tr(XBXᵀ)/∂X", lambda: D(ta.trace(X @ B @ X.T), X), "X (B + Bᵀ)"),
    "trace of BXS": ("∂ tr(BXS)/∂X", lambda: D(ta.trace(B @ X @ S), X), "Bᵀ Sᵀ"),
    "log-determinant": ("∂ log det X/∂X", lambda: D(ta.logdet(X), X), "X⁻ᵀ"),
    "determinant": ("∂ det X/∂X", lambda: D(ta.det(X), X), "det(X) X⁻ᵀ"),
    "bilinear form of an inverse": ("∂(aᵀX⁻¹x)/∂X", lambda: D(a @ tnp.linalg.inv(X) @ x, X), "-X⁻ᵀ a xᵀ X⁻ᵀ"),
    "bilinear form": ("∂(aᵀXx)/∂X", lambda: D(a @ X @ x, X), "a xᵀ"),
    "Frobenius norm squared": ("∂‖X‖²_F/∂X", lambda: D(ta.sum(X * X), X), "2 X"),
    "Euclidean norm": ("∂‖x‖/∂x", lambda: D(tnp.linalg.norm(x), x), "x / norm(x)"),
    "logistic regression": (
        "∂ Σ log(1 + exp(−y ⊙ Mw))/∂w",
        lambda: D(logistic(), w),
        "-Mᵀ (y ⊙ σ(-y ⊙ M w))",
    ),
    "logistic regression, Hessian": (
        "∂² Σ log(1 + exp(−y ⊙ Mw))/∂w²",
        lambda: D(D(logistic(), w), w),
        "Mᵀ diag(y ⊙ y ⊙ σ(-y ⊙ M w) ⊙ (1 - σ(-y ⊙ M w))) M",
    ),
    "softmax cross-entropy": ("∂(−tᵀ log softmax(z))/∂z", lambda: D(cross_entropy(), z), "sum(t) softmax(z) - t"),
    "softmax cross-entropy, Hessian": (
        "∂²(−tᵀ log softmax(z))/∂z²",
        lambda: D(D(cross_entropy(), z), z),
        "sum(t) (diag(softmax(z)) - softmax(z) softmax(z)ᵀ)",
    ),
    "log-sum-exp": ("∂ log Σ exp(z)/∂z", lambda: D(ta.logsumexp(z), z), "softmax(z)"),
    "tanh layer": ("∂ tanh(Wx)/∂x", lambda: D(ta.tanh(W @ x), x), "diag(1 - tanh(W x)^⊙2) W"),
    "tanh layer, in W": ("∂ Σ tanh(Wx)/∂W", lambda: D(ta.sum(ta.tanh(W @ x)), W), "(1 - tanh(W x)^⊙2) xᵀ"),
    "2-layer MLP, Hessian": (
        "∂²(vᵀ tanh(Wx))/∂x²",
        lambda: D(D(v @ ta.tanh(W @ x), x), x),
        "-2 Wᵀ diag(v ⊙ tanh(W x) ⊙ (1 - tanh(W x)^⊙2)) W",
    ),
}
