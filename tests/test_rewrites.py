"""Textbook forms built as their stable functions: ``log(1 + exp(z))`` is ``softplus(z)``,
``log(Σ exp(z))`` is ``logsumexp(z)``, ``norm(v)²`` is ``Σ v²``. Oracles: numpy's own
evaluation of the textbook form where it is finite, closed-form derivatives where the
textbook form overflows or divides 0 by 0, and central differences (check_grads)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tensorad as ta
from tensorad.testing import check_grads

MODERATE = arrays(np.float64, (2, 3), elements=st.floats(-30, 30))


@given(MODERATE)
def test_rewritten_forms_equal_the_textbook_forms(z: np.ndarray) -> None:
    """Against numpy's and scipy's stable forms (``log(1 + exp(z))`` evaluated as written
    loses digits for negative ``z``: the rewritten form does not)."""
    softplus = np.logaddexp(0.0, z)
    np.testing.assert_allclose(ta.jit(lambda z: ta.log(1 + ta.exp(z)))(z), softplus, rtol=1e-13)
    np.testing.assert_allclose(ta.jit(lambda z: ta.log1p(ta.exp(z)))(z), softplus, rtol=1e-13)
    sigmoid = scipy.special.expit(z)
    np.testing.assert_allclose(ta.jit(lambda z: 1 / (1 + ta.exp(-z)))(z), sigmoid, rtol=1e-13)
    np.testing.assert_allclose(ta.jit(lambda z: ta.exp(z) / (1 + ta.exp(z)))(z), sigmoid, rtol=1e-13)
    for axis in (0, 1):
        softmax = ta.jit(lambda z, a=axis: ta.exp(z) / ta.sum(ta.exp(z), axis=a, keepdims=True))(z)
        np.testing.assert_allclose(softmax, scipy.special.softmax(z, axis=axis), rtol=1e-13)
    for axis in (0, 1, None):
        expected = scipy.special.logsumexp(z, axis=axis)
        np.testing.assert_allclose(ta.jit(lambda z, a=axis: ta.log(ta.sum(ta.exp(z), a)))(z), expected, rtol=1e-13)
    np.testing.assert_allclose(ta.jit(lambda z: ta.norm(z) ** 2)(z), np.sum(z * z), rtol=1e-12)


def test_what_was_built() -> None:
    z = ta.Variable("z", (2, 3))
    assert str(ta.log(1 + ta.exp(z))) == "softplus(z[i,j])"
    assert str(ta.log(ta.sum(ta.exp(z), 1))) == "logsumexp(z[i,j], j)"
    assert str(ta.log(ta.sum(ta.exp(z), 0))) == "logsumexp(z[j,i], j)"
    assert str(ta.norm(z) ** 2) == "z[i,j]*z[i,j]"
    assert str(1 / (1 + ta.exp(-z))) == "sigmoid(z[i,j])"
    assert str(ta.exp(z) / (1 + ta.exp(z))) == "sigmoid(z[i,j])"
    assert str(ta.exp(z) / ta.sum(ta.exp(z), axis=1, keepdims=True)) == "softmax(z[i,j], j)"


def test_logistic_gradient_is_finite_at_a_large_margin() -> None:
    """At margin 1000, exp overflows: the textbook gradient is nan, the loss's is −Σ yₙxₙ
    over the misclassified points and 0 for the others."""
    X = np.array([[1.0, 0.5], [-1.0, 2.0], [0.3, -0.2]])
    y = np.array([1.0, -1.0, 1.0])
    w = np.array([1000.0, 0.0])
    grad = ta.grad(lambda w: ta.sum(ta.log(1 + ta.exp(-y * (X @ w)))))(w)
    margins = y * (X @ w)
    expected = -(X.T @ (y * scipy.special.expit(-margins)))
    np.testing.assert_allclose(grad, expected, rtol=1e-12)
    assert np.all(np.isfinite(grad))


def test_a_sigmoid_written_out_has_a_finite_gradient_where_exp_overflows() -> None:
    z = np.array([-1000.0, 0.0, 1000.0])
    for f in (lambda z: 1 / (1 + ta.exp(-z)), lambda z: ta.exp(z) / (1 + ta.exp(z))):
        np.testing.assert_allclose(ta.grad(lambda z, f=f: ta.sum(f(z)))(z), [0.0, 0.25, 0.0], atol=1e-300)


def test_least_squares_gradient_through_a_norm_is_finite_at_a_zero_residual() -> None:
    A, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([5.0, 11.0])
    x = np.linalg.solve(A, b)  # residual 0: the textbook 2 norm · ∇norm is 0 · (0/0)
    np.testing.assert_allclose(ta.grad(lambda x: ta.norm(A @ x - b) ** 2)(x), 2 * A.T @ (A @ x - b), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rewritten_forms_check_grads(dtype: type) -> None:
    z = np.random.default_rng(3).uniform(-2, 2, (2, 3)).astype(dtype)
    check_grads(lambda z: ta.log(1 + ta.exp(z)), (z,), order=2)
    check_grads(lambda z: ta.log(ta.sum(ta.exp(z), 1)), (z,), order=2)
    check_grads(lambda z: ta.norm(z) ** 2, (z,), order=2)
    check_grads(lambda z: 1 / (1 + ta.exp(-z)), (z,), order=2)
    check_grads(lambda z: ta.exp(z) / (1 + ta.exp(z)), (z,), order=2)
    check_grads(lambda z: ta.exp(z) / ta.sum(ta.exp(z), axis=0, keepdims=True), (z,), order=2)


def test_log_det_gradient_cancels_the_determinant() -> None:
    """∂ log det X = X⁻ᵀ, printed as such (not X⁻ᵀ det X / det X)."""
    X = ta.Variable("X", (3, 3))
    g = ta.derivative(ta.log(ta.det(X)), X)
    assert str(g) == "inv(X)[j,i]"
    a = np.array([[2.0, 1.0, 0.0], [0.5, 3.0, 0.2], [0.0, 0.3, 1.5]])
    np.testing.assert_allclose(ta.grad(lambda X: ta.log(ta.det(X)))(a), np.linalg.inv(a).T, rtol=1e-13)


def test_other_factors_and_their_inverses_are_not_cancelled() -> None:
    """x · (1/x) at x = 0 is 0 · ∞ = nan, numpy's value, in both paths (as x − x at inf)."""
    x = np.array([0.0, 2.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for f in (lambda x: x * ta.reciprocal(x), ta.jit(lambda x: x * ta.reciprocal(x))):
            value = f(x)
            assert np.isnan(value[0]) and value[1] == 1.0


def test_softmax_cross_entropy_hessian_written_from_exp_and_sum() -> None:
    """−Σ tᵢ log(exp(zᵢ)/Σⱼ exp(zⱼ)) has the Hessian (Σt)(diag(p) − ppᵀ), p = softmax(z),
    and finite derivatives at a logit of 1000, where exp overflows."""
    t = np.array([0.2, 0.3, 0.5])

    def loss(z: object) -> object:
        return -ta.sum(t * ta.log(ta.exp(z) / ta.sum(ta.exp(z))))

    for z in (np.array([0.3, -1.0, 2.0]), np.array([1000.0, 0.0, -3.0])):
        p = scipy.special.softmax(z)
        np.testing.assert_allclose(ta.grad(loss)(z), t.sum() * p - t, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ta.hessian(loss)(z), t.sum() * (np.diag(p) - np.outer(p, p)), atol=1e-15)
    x, tv = ta.Variable("x", (3,)), ta.Variable("t", (3,))
    hessian = ta.derivative(ta.derivative(-ta.sum(tv * ta.log(ta.exp(x) / ta.sum(ta.exp(x)))), x), x)
    assert str(hessian) == "softmax(x[i], i)*delta[i,j]*sum_k(t[k]) - softmax(x[i], i)*softmax(x[j], j)*sum_k(t[k])"


def test_a_rewrite_keeps_numpys_dtype() -> None:
    """Ones in float64 around a float32 exp make a float64 sum: the result stays float64."""
    z = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    wide = np.ones(3)
    for f in (lambda z: ta.log(wide + ta.exp(z)), lambda z: 1 / (wide + ta.exp(-z))):
        assert ta.jit(f)(z).dtype == np.float64
    assert ta.jit(lambda z: ta.log(1 + ta.exp(z)))(z).dtype == np.float32
