r"""Textbook forms, built as the stable functions they equal (derived here).

**Theorem.** For real :math:`z` (entry by entry, or along the summed axes), where the
left side is finite,

.. math::

   \log(1 + e^{z}) = \operatorname{log1p}(e^{z}) &= \operatorname{softplus}(z), &
   \frac{1}{1 + e^{w}} &= \sigma(-w), &
   \frac{e^{z}}{1 + e^{z}} &= \sigma(z), &
   \log \sigma(z) &= -\operatorname{softplus}(-z), \\
   \frac{e^{z}}{\sum_{a} e^{z}} &= \operatorname{softmax}_a(z), &
   \log \sum_a e^{z} &= \operatorname{logsumexp}_a(z), &
   \log \operatorname{softmax}_a(z) &= \operatorname{log\_softmax}_a(z), &
   \operatorname{norm}_a(v)^2 &= \textstyle\sum_a v^2,

and :math:`\det(X)^{-1} \det(X) = 1` where :math:`\det X \neq 0`. The builder
(:func:`tensorad.ir.functions.elementwise`, ``pointwise``, :func:`tensorad.ir.build.contract`)
writes each left side as its right side, which is finite (with a finite derivative)
where the left side overflows, underflows to 0 or divides 0 by 0.

**Proof.** With :math:`\sigma(t) := 1/(1 + e^{-t})`, :math:`\operatorname{softplus}(t) :=
\log(1 + e^{t})`, :math:`\operatorname{softmax}_a(z) := e^{z} / \sum_a e^{z}`,
:math:`\operatorname{logsumexp}_a(z) := \log \sum_a e^{z}`, :math:`\operatorname{log\_softmax}
:= \log \operatorname{softmax}` and :math:`\operatorname{norm}_a(v) := (\sum_a v^2)^{1/2}`
(the **definitions**; the registry evaluates each by a stable formula for the same real
function):

1. :math:`\log(1 + e^{z})` and :math:`\operatorname{log1p}(e^{z})` are softplus by its
   **definition** (and log1p's: :math:`\operatorname{log1p}(u) = \log(1 + u)`).
2. :math:`1/(1 + e^{w}) = 1/(1 + e^{-(-w)}) = \sigma(-w)`: **definition** of σ at :math:`-w`.
3. :math:`e^{z}/(1 + e^{z}) = 1/(e^{-z} + 1) = \sigma(z)`: numerator and denominator
   **multiplied by** :math:`e^{-z} \neq 0`.
4. :math:`\log \sigma(z) = \log 1 - \log(1 + e^{-z}) = -\operatorname{softplus}(-z)`: the
   **logarithm of a quotient** of positive numbers.
5. softmax, logsumexp and log_softmax are their **definitions**, the sum taken over the
   same axes (the builder checks that the denominator is the numerator summed over
   ``a`` and broadcast back along exactly ``a``).
6. :math:`\operatorname{norm}_a(v)^2 = ((\sum_a v^2)^{1/2})^2 = \sum_a v^2` because
   :math:`\sum_a v^2 \ge 0` for **real** :math:`v` (for complex :math:`v` it is
   :math:`\sum_a |v|^2`, and the builder leaves it alone).
7. :math:`\det(X)^{-1}\det(X) = 1` for :math:`\det X \ne 0`; where :math:`\det X = 0`
   the expressions that hold the product (``∂ det``, ``∂ log det``) also hold
   :math:`X^{-1}`, which raises, so no value changes (:func:`tensorad.ir.build.contract`).

*Checked:* for random shapes, axes and dtypes, each textbook form built with the
operators a user writes is the stable node (by the exact checker, which tells the
functions apart: ``log(1 + exp(z))`` is not ``softplus(z)`` to it); near misses
(another constant than 1, a different exponent or sign, another array, other axes, a
complex vector, another factor than a determinant) are **not** rewritten; each rewritten
value equals numpy's evaluation of the textbook form where that is accurate, and the
Taylor test passes for its derivative.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tensorad as ta
from proofs._common import jacobian
from tensorad.algebra import equivalent
from tensorad.ir.nodes import Elementwise, GeneralUnary, Node
from tensorad.proof import Limit
from tensorad.symbolic.proof import check_limit

Build = Callable[[Node], Node]

REWRITES: dict[str, tuple[Build, Build, Callable[[np.ndarray], np.ndarray]]] = {
    # name: (textbook form as a user writes it, the stable form, numpy's textbook form)
    "log(1 + exp(z))": (
        lambda z: ta.log(1 + ta.exp(z)),
        lambda z: ta.softplus(z),
        lambda z: np.log(1 + np.exp(z)),
    ),
    "log1p(exp(z))": (lambda z: ta.log1p(ta.exp(z)), lambda z: ta.softplus(z), lambda z: np.log1p(np.exp(z))),
    "1 / (1 + exp(z))": (
        lambda z: 1 / (1 + ta.exp(z)),
        lambda z: ta.sigmoid(-z),
        lambda z: 1 / (1 + np.exp(z)),
    ),
    "exp(z) / (1 + exp(z))": (
        lambda z: ta.exp(z) / (1 + ta.exp(z)),
        lambda z: ta.sigmoid(z),
        lambda z: np.exp(z) / (1 + np.exp(z)),
    ),
    "log(sigmoid(z))": (
        lambda z: ta.log(ta.sigmoid(z)),
        lambda z: -ta.softplus(-z),
        lambda z: np.log(1 / (1 + np.exp(-z))),
    ),
    "exp(z) / sum(exp(z), -1)": (
        lambda z: ta.exp(z) / ta.sum(ta.exp(z), axis=-1, keepdims=True),
        lambda z: ta.softmax(z, axis=-1),
        lambda z: np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True),
    ),
    "log(sum(exp(z), 0))": (
        lambda z: ta.log(ta.sum(ta.exp(z), axis=0)),
        lambda z: ta.logsumexp(z, axis=0),
        lambda z: np.log(np.sum(np.exp(z), axis=0)),
    ),
    "log(softmax(z))": (
        lambda z: ta.log(ta.softmax(z, axis=-1)),
        lambda z: ta.log_softmax(z, axis=-1),
        lambda z: z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True)),
    ),
    "norm(z)²": (lambda z: ta.norm(z) ** 2, lambda z: ta.sum(z * z), lambda z: np.sum(z * z)),
}

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@given(st.sampled_from(sorted(REWRITES)), shapes, st.sampled_from([np.float64, np.float32]))
def test_a_textbook_form_is_built_as_its_stable_function(name: str, shape: tuple[int, ...], dtype: type) -> None:
    textbook, stable, _ = REWRITES[name]
    z = ta.Variable("z", shape, dtype)
    built = textbook(z)
    assert equivalent(built, stable(z)), f"{name}: {built}"  # the checker keeps functions apart
    assert built.dtype == np.dtype(dtype)


@given(st.sampled_from(sorted(REWRITES)), shapes, st.integers(0, 2**32 - 1))
def test_the_stable_function_equals_numpys_textbook_form(name: str, shape: tuple[int, ...], seed: int) -> None:
    """The identity, against numpy evaluating the left side where it is accurate (``|z| ≤ 5``)."""
    _, stable, reference = REWRITES[name]
    z = ta.Variable("z", shape)
    point = np.random.default_rng(seed).uniform(-5.0, 5.0, shape)
    np.testing.assert_allclose(stable(z).evaluate({z: point}), reference(point), rtol=1e-12, atol=1e-15)


@given(st.sampled_from(sorted(REWRITES)), shapes, st.integers(0, 2**32 - 1))
def test_the_derivative_of_the_stable_function_passes_the_taylor_test(
    name: str, shape: tuple[int, ...], seed: int
) -> None:
    textbook, _, _ = REWRITES[name]
    z = ta.Variable("z", shape)
    value = textbook(z)
    for mode in ("forward", "reverse"):
        check_limit(Limit(value, z, jacobian(value, z, mode=mode), f"{name} ({mode})"), np.random.default_rng(seed))


@given(shapes, st.floats(-3, 3).filter(lambda c: c != 1.0), st.integers(0, 2**32 - 1))
def test_near_misses_are_not_rewritten_and_keep_their_values(shape: tuple[int, ...], c: float, seed: int) -> None:
    z, u = ta.Variable("z", shape), ta.Variable("u", shape)
    rng = np.random.default_rng(seed)
    point = {z: rng.uniform(-2, 2, shape), u: rng.uniform(-2, 2, shape)}
    ones_but_one = np.ones(shape)
    ones_but_one.flat[0] = 2.0
    misses = {
        "another constant": (ta.log(c + ta.exp(z)), lambda p: np.log(c + np.exp(p[z]))),
        "an array not all ones": (ta.log(ones_but_one + ta.exp(z)), lambda p: np.log(ones_but_one + np.exp(p[z]))),
        "another exponent": (ta.exp(z) / (1 + ta.exp(u)), lambda p: np.exp(p[z]) / (1 + np.exp(p[u]))),
        "exp of another array": (
            ta.exp(z) / ta.sum(ta.exp(u), axis=-1, keepdims=True),
            lambda p: np.exp(p[z]) / np.sum(np.exp(p[u]), axis=-1, keepdims=True),
        ),
        "a square root": (ta.log(1 + ta.sqrt(ta.exp(z))), lambda p: np.log(1 + np.sqrt(np.exp(p[z])))),
        "another power of a norm": (ta.norm(z) ** 3, lambda p: np.linalg.norm(p[z]) ** 3),
    }
    for what, (node, reference) in misses.items():
        assert not _stable(node), f"{what}: rewritten to {node}"
        np.testing.assert_allclose(node.evaluate(point), reference(point), rtol=1e-12, err_msg=what)


def test_other_axes_and_complex_vectors_are_not_rewritten() -> None:
    z = ta.Variable("z", (2, 3))
    across = ta.exp(z) / ta.sum(ta.exp(z), axis=0, keepdims=True)
    assert across is ta.softmax(z, axis=0)
    flipped = ta.exp(z) / ta.sum(ta.exp(z), axis=1, keepdims=True)[::-1]  # another row's sum
    assert not _stable(flipped)
    point = np.arange(6.0).reshape(2, 3) / 4
    expected = np.exp(point) / np.sum(np.exp(point), axis=1, keepdims=True)[::-1]
    np.testing.assert_allclose(flipped.evaluate({z: point}), expected, rtol=1e-14)
    v = ta.Variable("v", (3,), np.complex128)
    squared = ta.norm(v) ** 2
    assert isinstance(squared, Elementwise) and squared.fn in ("power", "square")
    point = np.array([1 + 2j, -1j, 0.5])
    np.testing.assert_allclose(squared.evaluate({v: point}), np.sum(np.abs(point) ** 2), rtol=1e-14)


def test_only_a_determinant_cancels_with_its_inverse() -> None:
    X = ta.Variable("X", (3, 3))
    d = ta.det(X)
    assert str(d * (1 / d)) == "1"
    n = ta.norm(X)
    assert "reciprocal" in str(n * (1 / n)) or "/" in str(n * (1 / n))  # IEEE: 0 · ∞ stays nan
    zero = np.zeros((3, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        assert np.isnan((n * (1 / n)).evaluate({X: zero}))


def _stable(node: Node) -> bool:
    """Whether ``node`` is one of the stable functions the rewrites build."""
    if isinstance(node, Elementwise):
        return node.fn in ("softplus", "sigmoid")
    return isinstance(node, GeneralUnary) and node.fn in ("softmax", "log_softmax", "logsumexp")
