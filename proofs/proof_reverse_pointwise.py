r"""Reverse mode, pointwise function of several operands (derived here).

**Theorem.** Let :math:`C = f(A_1, A_2)` where :math:`f` acts entry by entry on operands of
one index set :math:`s_1`; let :math:`Y` be an output with index set :math:`s_4` (disjoint
from :math:`s_1`) and :math:`\bar C = \partial Y / \partial C` its pullback to :math:`C`,
indexed :math:`s_4 s_1`. Then the contribution of :math:`C` to the pullback of each
operand is

.. math::

   \bar A_k = *(s_4 s_1, s_1, s_4 s_1)(\bar C, \partial_k f(A)),

zero for a comparison (a mask), and for ``where`` the selection
:math:`\bar A = \operatorname{where}(c, \bar C, 0)`, :math:`\bar B =
\operatorname{where}(c, 0, \bar C)` (the same with :math:`F_A = c`, :math:`F_B = 1 - c`).

**Proof.** The pullbacks are defined by the **adjoint relation** :math:`\bar C \circ dC =
\bar A_1 \circ h_1 + \bar A_2 \circ h_2` for all changes :math:`dA_k = h_k`, where
:math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`. Write :math:`F_k = \partial_k f(A)`.

1. By the **chain rule** entry by entry, :math:`dC = *(s_1, s_1, s_1)(F_1, h_1) +
   *(s_1, s_1, s_1)(F_2, h_2)`.
2. By **distributivity**, :math:`\bar C \circ dC` is the sum of :math:`\bar C \circ
   *(s_1, s_1, s_1)(F_k, h_k)` over :math:`k`.
3. By **associativity** in each term, :math:`\bar C \circ *(s_1, s_1, s_1)(F_k, h_k) =
   *(s_4 s_1, s_1, s_4 s_1)(\bar C, F_k) \circ h_k`: the adjoint relation holds with
   :math:`\bar A_k = *(s_4 s_1, s_1, s_4 s_1)(\bar C, F_k)`.
4. :func:`tensorad.ad.rules.vjp_pointwise` builds :math:`\bar A_k` from the registry's
   partials (**definition**, for :math:`f = x^y`).
5. Hence :math:`\bar A_k` is the derivative of :math:`Y` with respect to :math:`A_k`
   (**definition of the derivative**, checked by the Taylor test of the reverse-mode
   Jacobian of :math:`Y = \sin(*(s_4 s_1, s_1, s_4)(Q, C(x)))` for the functions of
   :mod:`proofs.proof_forward_pointwise`).

*Checked:* steps 2–3 (abstract :math:`F_k`) and step 4 (the driver's :math:`\bar A_k` for
:math:`x^y`) exactly and numerically for random index strings, sizes 0–4 and values;
steps 1 and 5 by the Taylor test (rate ≥ 1.9 with :math:`\bar A_k`, ≈ 1 without).
"""

from __future__ import annotations

from strategies import indices

import tensorad as ta
from proofs._common import jacobian, smooth, theorem_test
from proofs.proof_forward_pointwise import FUNCTIONS
from tensorad.ad.reverse import pullback
from tensorad.library.registry import POINTWISE, pointwise
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (steps 2–3, abstract ``F``)."""
    F1, F2, C_bar = idx.var("F1", "s1"), idx.var("F2", "s1"), idx.var("C̄", "s4 s1")
    h1, h2 = idx.var("h1", "s1"), idx.var("h2", "s1")
    dC = idx.mul(F1, "s1", h1, "s1", "s1") + idx.mul(F2, "s1", h2, "s1", "s1")
    adjoint = idx.dot(C_bar, "s4", "s1", dC)
    split = idx.dot(C_bar, "s4", "s1", idx.mul(F1, "s1", h1, "s1", "s1")) + idx.dot(
        C_bar, "s4", "s1", idx.mul(F2, "s1", h2, "s1", "s1")
    )
    pulled = idx.dot(idx.mul(C_bar, "s4 s1", F1, "s1", "s4 s1"), "s4", "s1", h1) + idx.dot(
        idx.mul(C_bar, "s4 s1", F2, "s1", "s4 s1"), "s4", "s1", h2
    )
    steps = [Step(adjoint, split, "distributivity"), Step(split, pulled, "associativity, in each term")]
    x, Q, m = idx.var("x", "s5"), idx.var("Q", "s4 s1"), idx.var("M", "s1")
    A, B = smooth(idx, "s1", x, "s5", "A"), smooth(idx, "s1", x, "s5", "B")
    limits = []
    for name, f in FUNCTIONS.items():
        Y = ta.sin(idx.dot(Q, "s4", "s1", f(A, B, m)))
        limits.append(Limit(Y, x, jacobian(Y, x, mode="reverse"), f"definition of the derivative ({name})"))
    return Proof("reverse mode, pointwise function", adjoint, pulled, steps, limits)


def proof_rule(idx: Indices) -> Proof:
    """Step 4: with ``F_k`` the registry's partials of ``x ** y``, the driver's ``Ā_k``."""
    A1, A2, C_bar = idx.var("A1", "s1"), idx.var("A2", "s1"), idx.var("C̄", "s4 s1")
    h1, h2 = idx.var("h1", "s1"), idx.var("h2", "s1")
    base = 2.0 + A1  # in [1, 3]: the values are real
    C = pointwise("power", (base, A2))
    F1, F2 = POINTWISE["power"].partials((base, A2), C, None)
    assert F1 is not None and F2 is not None
    dC = idx.mul(F1, "s1", h1, "s1", "s1") + idx.mul(F2, "s1", h2, "s1", "s1")
    adjoint = idx.dot(C_bar, "s4", "s1", dC)
    A1_bar, A2_bar = pullback([C], [C_bar], [A1, A2])  # the rule, as the driver applies it
    assert A1_bar is not None and A2_bar is not None
    pulled = idx.dot(A1_bar, "s4", "s1", h1) + idx.dot(A2_bar, "s4", "s1", h2)
    steps = [Step(adjoint, pulled, "distributivity; associativity; definition of Āₖ (vjp_pointwise)")]
    return Proof("reverse mode, pointwise function: the rule", adjoint, pulled, steps)


CASES = indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"})

test_reverse_pointwise = theorem_test(proof, CASES)
test_reverse_pointwise_rule = theorem_test(proof_rule, CASES)
