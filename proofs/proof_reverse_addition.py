r"""Reverse mode, addition (notes §5.3).

**Theorem.** Let :math:`C = A + B` where :math:`A` and :math:`B` have index set
:math:`s_1`; let :math:`Y` be an output with index set :math:`s_4` (disjoint from
:math:`s_1`) and :math:`\bar C = \partial Y / \partial C` its pullback to :math:`C`,
indexed :math:`s_4 s_1`. Then the contributions of :math:`C` to the pullbacks of
:math:`A` and :math:`B` are

.. math::

   \bar A = \bar C, \qquad \bar B = \bar C.

**Proof.** The pullbacks are defined by the **adjoint relation**
:math:`\bar C \circ dC = \bar A \circ dA + \bar B \circ dB` for all changes
:math:`dA = h_A`, :math:`dB = h_B` (indexed :math:`s_1`), where
:math:`X \circ Y = *(s_4 s_1, s_1, s_4)(X, Y)`.

1. By **associativity and commutativity of** :math:`+`, the change of :math:`C` is
   :math:`(A + h_A) + (B + h_B) - (A + B) = h_A + h_B` (addition is linear: nothing of
   higher order is left out).
2. By **distributivity**, :math:`*(s_4 s_1, s_1, s_4)(\bar C, h_A + h_B) =
   *(s_4 s_1, s_1, s_4)(\bar C, h_A) + *(s_4 s_1, s_1, s_4)(\bar C, h_B)
   = \bar A \circ h_A + \bar B \circ h_B`, where :math:`\bar A = \bar B = \bar C` is what
   :func:`tensorad.ad.rules.vjp_add` builds (**definition**).
3. Hence, for :math:`Y = g(C)` with :math:`\bar C` the derivative of :math:`g` at
   :math:`C`, :math:`\bar A` and :math:`\bar B` are the derivatives of :math:`Y` with
   respect to :math:`A` and :math:`B` (**definition of the derivative**, checked by the
   Taylor test of the reverse-mode Jacobian of
   :math:`Y = \sin(*(s_4 s_1, s_1, s_4)(Q, A(x) + B(x)))` with respect to a variable
   :math:`x` (index set :math:`s_5`), for smooth :math:`A(x)`, :math:`B(x)`).

*Checked:* steps 1–2 exactly and numerically for random index strings, sizes 0–4 and
values; step 3 by the Taylor test (rate ≥ 1.9 with the derivative, ≈ 1 without).
"""

from __future__ import annotations

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.reverse import pullback
from tensorad.library.registry import call
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    A, B, C_bar = idx.var("A", "s1"), idx.var("B", "s1"), idx.var("C̄", "s4 s1")
    h_A, h_B = idx.var("h_A", "s1"), idx.var("h_B", "s1")
    C = A + B
    change = idx.dot(C_bar, "s4", "s1", ((A + h_A) + (B + h_B)) - C)
    linear = idx.dot(C_bar, "s4", "s1", h_A + h_B)
    A_bar, B_bar = pullback([C], [C_bar], [A, B])  # the rule, as the driver applies it
    assert A_bar is not None and B_bar is not None
    pulled = idx.dot(A_bar, "s4", "s1", h_A) + idx.dot(B_bar, "s4", "s1", h_B)
    steps = [
        Step(change, linear, "associativity and commutativity of +"),
        Step(linear, pulled, "distributivity; definition of Ā, B̄ (tensorad.ad.rules.vjp_add)"),
    ]
    x = idx.var("x", "s5")
    C_of_x = smooth(idx, "s1", x, "s5", "A") + smooth(idx, "s1", x, "s5", "B")
    Y_of_x = call("sin", idx.dot(idx.var("Q", "s4 s1"), "s4", "s1", C_of_x))
    limit = Limit(Y_of_x, x, jacobian(Y_of_x, x, mode="reverse"), "definition of the derivative")
    return Proof("reverse mode, addition", change, pulled, steps, [limit])


CASES = indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"})

test_reverse_addition = theorem_test(proof, CASES)
