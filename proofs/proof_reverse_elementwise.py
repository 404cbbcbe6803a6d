r"""Reverse mode, elementwise function (notes §5.2, derived here).

**Theorem.** Let :math:`C = f(A)` where :math:`f` acts entry by entry and :math:`A` has
index set :math:`s_1`; let :math:`Y` be an output with index set :math:`s_4` (disjoint
from :math:`s_1`) and :math:`\bar C = \partial Y / \partial C` its pullback to
:math:`C`, indexed :math:`s_4 s_1`. Then the contribution of :math:`C` to the pullback of
:math:`A` is

.. math::

   \bar A = *(s_4 s_1, s_1, s_4 s_1)(\bar C, f'(A)),

where :math:`f'(A)` is :math:`f'` applied entry by entry (an expression of :math:`A` and
:math:`C`).

**Proof.** The pullback :math:`\bar A` is defined by the **adjoint relation**
:math:`\bar C \circ dC = \bar A \circ dA` for every change :math:`dA = h` of :math:`A`
(indexed :math:`s_1`), where :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)` is the inner
product over the axes :math:`s` of :math:`Y`. Write :math:`F = f'(A)`.

1. By the **chain rule** for the scalar function :math:`f`, entry by entry (notes §4.2),
   the first-order change of :math:`C` is :math:`dC = *(s_1, s_1, s_1)(F, h)`.
2. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from
   :math:`s_1`; the label set :math:`s_1` may meet three factors), for any tensor
   :math:`F` indexed :math:`s_1`,
   :math:`*(s_4 s_1, s_1, s_4)(\bar C, *(s_1, s_1, s_1)(F, h)) =
   *(s_4 s_1, s_1, s_4)(*(s_4 s_1, s_1, s_4 s_1)(\bar C, F), h)`: the adjoint relation
   holds for every :math:`h` with :math:`\bar A = *(s_4 s_1, s_1, s_4 s_1)(\bar C, F)`.
3. :func:`tensorad.ad.rules.vjp_elementwise` builds :math:`\bar A` as
   :math:`*(s_4 s_1, s_1, s_4 s_1)(\bar C, f'(A))` with :math:`f'(A)` the registry's
   expression (**definition**): step 2 with :math:`F = f'(A)` (for :math:`f = \tanh`; the
   rule treats every registered :math:`f` alike) ends at the pullback the driver builds.
4. Hence, for :math:`Y = g(C)` with :math:`\bar C` the derivative of :math:`g` at
   :math:`C`: :math:`Y(A + h) = Y + \bar C \circ dC + o(\|h\|) = Y + \bar A \circ h +
   o(\|h\|)`, so :math:`\bar A` is the derivative of :math:`Y` with respect to :math:`A`
   (**definition of the derivative**, checked by the Taylor test of the reverse-mode
   Jacobian of :math:`Y = \sin(*(s_4 s_1, s_1, s_4)(Q, f(A(x))))` with respect to a
   variable :math:`x` (index set :math:`s_5`), for smooth :math:`A(x)` and
   :math:`f = \tanh, \exp, \sigma, \log`, shifted into each function's domain).

*Checked:* step 2 (abstract :math:`F`) and step 3 (the driver's :math:`\bar A` for
:math:`\tanh`) exactly and numerically for random index strings, sizes 0–4 and values;
steps 1 and 4 by the Taylor test (rate ≥ 1.9 with :math:`\bar A`, ≈ 1 without).
"""

from __future__ import annotations

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from proofs.proof_forward_elementwise import FUNCTIONS
from tensorad.ad.reverse import pullback
from tensorad.library.registry import ELEMENTWISE, call
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (step 2, abstract ``F``)."""
    F, C_bar, h = idx.var("F", "s1"), idx.var("C̄", "s4 s1"), idx.var("h", "s1")
    adjoint = idx.dot(C_bar, "s4", "s1", idx.mul(F, "s1", h, "s1", "s1"))
    pulled = idx.dot(idx.mul(C_bar, "s4 s1", F, "s1", "s4 s1"), "s4", "s1", h)
    steps = [Step(adjoint, pulled, "associativity")]
    x = idx.var("x", "s5")
    A_of_x = smooth(idx, "s1", x, "s5", "A")
    Q = idx.var("Q", "s4 s1")
    limits = []
    for name in REVERSE_FUNCTIONS:
        Y_of_x = call("sin", idx.dot(Q, "s4", "s1", FUNCTIONS[name](A_of_x)))
        limits.append(Limit(Y_of_x, x, jacobian(Y_of_x, x, mode="reverse"), f"definition of the derivative ({name})"))
    return Proof("reverse mode, elementwise function", adjoint, pulled, steps, limits)


def proof_rule(idx: Indices) -> Proof:
    """Step 3: with ``F = f'(A)`` from the registry, step 2 ends at the driver's ``Ā``."""
    A, C_bar, h = idx.var("A", "s1"), idx.var("C̄", "s4 s1"), idx.var("h", "s1")
    C = call("tanh", A)
    F = ELEMENTWISE["tanh"].derivative(A, C, None)
    assert F is not None
    adjoint = idx.dot(C_bar, "s4", "s1", idx.mul(F, "s1", h, "s1", "s1"))
    (A_bar,) = pullback([C], [C_bar], [A])  # the rule, as the driver applies it
    assert A_bar is not None
    pulled = idx.dot(A_bar, "s4", "s1", h)
    steps = [Step(adjoint, pulled, "associativity; definition of Ā (tensorad.ad.rules.vjp_elementwise)")]
    return Proof("reverse mode, elementwise function: the rule", adjoint, pulled, steps)


REVERSE_FUNCTIONS = ("tanh", "exp", "sigmoid", "log")
"""A few of :data:`proofs.proof_forward_elementwise.FUNCTIONS`: the reverse Jacobian costs more."""

CASES = indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"})

test_reverse_elementwise = theorem_test(proof, CASES)
test_reverse_elementwise_rule = theorem_test(proof_rule, CASES)
