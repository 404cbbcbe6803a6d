r"""Reverse mode, general unary function (notes §5.1, derived here).

**Theorem.** Let :math:`C = f(A)` where :math:`f` maps tensors indexed :math:`s_1` to
tensors indexed :math:`s_2` (disjoint label sets) and is differentiable at :math:`A`,
with derivative :math:`f'(A)` indexed :math:`s_2 s_1`; let :math:`Y` be an output with
index set :math:`s_4` (disjoint from :math:`s_1 \cup s_2`) and
:math:`\bar C = \partial Y / \partial C` its pullback to :math:`C`, indexed
:math:`s_4 s_2`. Then the contribution of :math:`C` to the pullback of :math:`A` is

.. math::

   \bar A = *(s_4 s_2, s_2 s_1, s_4 s_1)(\bar C, f'(A)).

**Proof.** The pullback :math:`\bar A` is defined by the **adjoint relation**
:math:`\bar C \circ dC = \bar A \circ dA` for every change :math:`dA = h` of :math:`A`
(indexed :math:`s_1`), where :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)` is the inner
product over the axes :math:`s` of :math:`Y`. Write :math:`F = f'(A)`.

1. By the **definition of the derivative** :math:`F`, the first-order change of
   :math:`C` is :math:`dC = F \circ h = *(s_2 s_1, s_1, s_2)(F, h)`.
2. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from
   :math:`s_1 \cup s_2`), for any tensor :math:`F` indexed :math:`s_2 s_1`,
   :math:`*(s_4 s_2, s_2, s_4)(\bar C, *(s_2 s_1, s_1, s_2)(F, h)) =
   *(s_4 s_1, s_1, s_4)(*(s_4 s_2, s_2 s_1, s_4 s_1)(\bar C, F), h)`: the adjoint
   relation holds for every :math:`h` with :math:`\bar A = *(s_4 s_2, s_2 s_1, s_4 s_1)
   (\bar C, F)`.
3. :func:`tensorad.ad.rules.vjp_general_unary` applies :math:`F` through its structure,
   never forming it (**definition**), and by **distributivity** and **associativity**
   that is :math:`*(s_4 s_2, s_2 s_1, s_4 s_1)(\bar C, F)` for the dense :math:`F` of
   :mod:`proofs.proof_forward_general_unary`:

   * ``softmax`` over all axes (:math:`s_2` a copy of :math:`s_1`), :math:`p = C`: the
     rule builds :math:`p \odot \bar C - p \odot \Sigma(p \odot \bar C)` (:math:`F` is
     symmetric);
   * ``inv`` of an :math:`n \times n` matrix (:math:`s_1 = IJ`, :math:`s_2 = KL`,
     :math:`F_{KL,IJ} = -C_{KI}\, C_{JL}`): the rule builds
     :math:`\bar A = -C^\top \bar C\, C^\top`, two matrix products.

   With step 2 for these :math:`F`, the chain ends at the pullback the driver builds.
4. Hence, for :math:`Y = g(C)` with :math:`\bar C` the derivative of :math:`g` at
   :math:`C`: :math:`Y(A + h) = Y + \bar C \circ dC + o(\|h\|) = Y + \bar A \circ h +
   o(\|h\|)`, so :math:`\bar A` is the derivative of :math:`Y` with respect to :math:`A`
   (**definition of the derivative**, checked by the Taylor test of the reverse-mode
   Jacobian of :math:`Y = \sin(*(s_4 t, t, s_4)(Q, f(A(x))))` with respect to a variable
   :math:`x` (index set :math:`s_5`; :math:`t` labels the axes of :math:`f(A)`) for
   smooth :math:`A(x)` and ``softmax`` over all axes, ``logsumexp`` over the first axis,
   ``norm`` over all axes (the last two where :math:`A` is not empty, ``norm`` on
   :math:`2 + A(x)`), and ``inv``, ``logdet``, ``det`` of the well-conditioned matrix
   :math:`A(x) = 2I + 0.4\, S(x)`).

*Checked:* step 2 (abstract :math:`F`) and steps 2–3 for ``softmax`` and ``inv`` exactly
and numerically for random index strings, sizes 0–4 and values; steps 1 and 4 by the
Taylor test (rate ≥ 1.9 with :math:`\bar A`, ≈ 1 without).
"""

from __future__ import annotations

import math

from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from proofs.proof_forward_general_unary import inv_derivative, same_range, softmax_derivative, square, well_conditioned
from tensorad.ad.reverse import pullback
from tensorad.ir import build
from tensorad.ir.nodes import Node, Variable
from tensorad.library.registry import apply, call
from tensorad.proof import Indices, Limit, Proof, Step


def observe(idx: Indices, C: Node, tag: str) -> Node:
    """``Y = sin(*(s4 t, t, s4)(Q, C))``, ``t`` fresh labels for ``C``'s axes: a smooth output."""
    t = build.fresh_labels(C.ndim, idx["s4"])
    Q = Variable("Q" + tag, idx.shape("s4") + C.shape)
    return call("sin", build.contract(Q, idx["s4"] + t, C, t, idx["s4"]))


def limit(idx: Indices, C_of_x: Node, x: Variable, name: str) -> Limit:
    """The Taylor test of the reverse-mode Jacobian of ``Y = observe(C(x))``."""
    Y_of_x = observe(idx, C_of_x, name)
    return Limit(Y_of_x, x, jacobian(Y_of_x, x, mode="reverse"), f"definition of the derivative ({name})")


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (step 2, abstract ``F``)."""
    F, C_bar, h = idx.var("F", "s2 s1"), idx.var("C̄", "s4 s2"), idx.var("h", "s1")
    adjoint = idx.dot(C_bar, "s4", "s2", idx.dot(F, "s2", "s1", h))
    pulled = idx.dot(idx.mul(C_bar, "s4 s2", F, "s2 s1", "s4 s1"), "s4", "s1", h)
    steps = [Step(adjoint, pulled, "associativity")]
    x = idx.var("x", "s5")
    A_of_x = smooth(idx, "s1", x, "s5", "A")
    every, first = tuple(range(A_of_x.ndim)), tuple(range(min(A_of_x.ndim, 1)))
    limits = [limit(idx, apply("softmax", A_of_x, (every,)), x, "softmax")]
    if math.prod(A_of_x.shape) > 0:  # logsumexp and norm are differentiable there
        limits.append(limit(idx, apply("logsumexp", A_of_x, (first,)), x, "logsumexp"))
        limits.append(limit(idx, apply("norm", 2.0 + A_of_x, (every,)), x, "norm"))
    return Proof("reverse mode, general unary function", adjoint, pulled, steps, limits)


def proof_instance(idx: Indices, name: str, F: Node, A: Variable, C: Node) -> Proof:
    """Steps 2–3 for ``C = f(A)`` with the dense derivative ``F``: they end at the driver's ``Ā``."""
    C_bar, h = idx.var("C̄", "s4 s2"), idx.var("h", "s1")
    adjoint = idx.dot(C_bar, "s4", "s2", idx.dot(F, "s2", "s1", h))
    dense = idx.dot(idx.mul(C_bar, "s4 s2", F, "s2 s1", "s4 s1"), "s4", "s1", h)
    (A_bar,) = pullback([C], [C_bar], [A])  # the rule, as the driver applies it
    assert A_bar is not None
    pulled = idx.dot(A_bar, "s4", "s1", h)
    steps = [
        Step(adjoint, dense, "associativity"),
        Step(
            dense,
            pulled,
            f"definition of Ā (tensorad.ad.rules.vjp_general_unary, {name}); distributivity; associativity",
        ),
    ]
    return Proof(f"reverse mode, general unary function: {name}", adjoint, pulled, steps)


def proof_softmax(idx: Indices) -> Proof:
    """Steps 2–3 for softmax over all axes of ``A`` (``idx`` from ``same_range``)."""
    A = idx.var("A", "s1")
    C = apply("softmax", A, (tuple(range(A.ndim)),))
    return proof_instance(idx, "softmax", softmax_derivative(idx, C), A, C)


def proof_inv(idx: Indices) -> Proof:
    """Steps 2–3 for ``inv`` (``idx`` from ``square``) and the limits of inv, logdet, det."""
    A = idx.var("A", "s1")
    C = apply("inv", A)
    instance = proof_instance(idx, "inv", inv_derivative(idx, C), A, C)
    x = idx.var("x", "s5")
    A_of_x = well_conditioned(idx, x, "s5")
    limits = [limit(idx, apply(name, A_of_x), x, name) for name in ("inv", "logdet", "det")]
    return Proof(instance.name, instance.claim_lhs, instance.claim_rhs, instance.steps, limits)


CASES = indices(["s1", "s2", "s4", "s5"], disjoint={"s2": "s1", "s4": "s1 s2", "s5": "s1"})
SOFTMAX_CASES = indices(["s1", "s4"], disjoint={"s4": "s1"}).map(same_range)
MATRIX_CASES = st.builds(square, indices(["s4", "s5"]), st.integers(0, 4))

test_reverse_general_unary = theorem_test(proof, CASES)
test_reverse_general_unary_softmax = theorem_test(proof_softmax, SOFTMAX_CASES)
test_reverse_general_unary_inv = theorem_test(proof_inv, MATRIX_CASES)
